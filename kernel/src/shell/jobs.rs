//! Background jobs: pipelines started with `&`, numbered from 1 (a new job takes one more
//! than the highest number in use, as in sh). The shell polls them with
//! `process::try_wait` before each prompt and reports each finished job once
//! (`[N]+ Done  cmd`), after which it is forgotten; `jobs` lists them, `kill %N` kills
//! every process of one.

use crate::println;
use crate::process::{self, Pid};
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

/// One background pipeline.
pub struct Job {
    /// Its number, for `%N`.
    pub id: u32,
    /// Its processes, first to last.
    pub pids: Vec<Pid>,
    /// The command as `jobs` shows it.
    pub text: String,
    /// Statuses of the processes that have ended.
    ended: BTreeMap<Pid, i32>,
}

impl Job {
    /// Whether every process has ended.
    pub fn finished(&self) -> bool {
        self.ended.len() == self.pids.len()
    }

    /// The processes still running.
    pub fn running_pids(&self) -> Vec<Pid> {
        self.pids
            .iter()
            .copied()
            .filter(|pid| !self.ended.contains_key(pid))
            .collect()
    }

    /// `Running`, `Done`, `Exit N` or `Killed`, from the last process's status.
    fn state(&self) -> String {
        if !self.finished() {
            return String::from("Running");
        }
        match self.pids.last().and_then(|pid| self.ended.get(pid)) {
            Some(0) | None => String::from("Done"),
            Some(&process::KILLED_EXIT) => String::from("Killed"),
            Some(&process::INTERRUPTED_EXIT) => String::from("Interrupt"),
            Some(&process::TRAP_EXIT) => String::from("Trapped"),
            Some(code) => alloc::format!("Exit {code}"),
        }
    }
}

/// The job table.
#[derive(Default)]
pub struct Jobs {
    jobs: Vec<Job>,
}

impl Jobs {
    /// Registers a started pipeline; returns its job number.
    pub fn add(&mut self, pids: Vec<Pid>, text: String) -> u32 {
        let id = self.jobs.iter().map(|j| j.id).max().unwrap_or(0) + 1;
        self.jobs.push(Job {
            id,
            pids,
            text,
            ended: BTreeMap::new(),
        });
        id
    }

    /// Collects the statuses of ended processes without blocking.
    pub fn poll(&mut self) {
        for job in &mut self.jobs {
            for pid in job.running_pids() {
                if let Some(exit) = process::try_wait(pid) {
                    job.ended.insert(pid, super::exec::status_of(&exit));
                }
            }
        }
    }

    /// Job `id`.
    pub fn get(&self, id: u32) -> Option<&Job> {
        self.jobs.iter().find(|j| j.id == id)
    }

    /// The job a process belongs to.
    pub fn job_of(&self, pid: Pid) -> Option<u32> {
        self.jobs
            .iter()
            .find(|j| j.pids.contains(&pid))
            .map(|j| j.id)
    }

    /// The marker after `[N]`: `+` for the most recent job.
    fn marker(&self, id: u32) -> char {
        if self.jobs.last().map(|j| j.id) == Some(id) {
            '+'
        } else {
            ' '
        }
    }

    fn line(&self, job: &Job) -> String {
        alloc::format!(
            "[{}]{} {}  {}",
            job.id,
            self.marker(job.id),
            job.state(),
            job.text
        )
    }

    /// `jobs`: every job with its state; finished ones are then forgotten.
    pub fn list(&mut self) -> String {
        self.poll();
        let mut out = String::new();
        for job in &self.jobs {
            out.push_str(&self.line(job));
            out.push('\n');
        }
        self.jobs.retain(|j| !j.finished());
        out
    }

    /// Prints and forgets the jobs that have finished since the last report.
    pub fn report_finished(&mut self) {
        self.poll();
        for job in self.jobs.iter().filter(|j| j.finished()) {
            println!("{}", self.line(job));
        }
        self.jobs.retain(|j| !j.finished());
    }

    /// Waits up to `timeout_ms` for job `id` to finish (after `kill`), polling.
    pub fn settle(&mut self, id: u32, timeout_ms: u64) {
        let start = crate::time::uptime_ms();
        loop {
            self.poll();
            let done = self.get(id).is_none_or(Job::finished);
            if done || crate::time::uptime_ms().saturating_sub(start) >= timeout_ms {
                return;
            }
            crate::task::sleep_ms(10);
        }
    }
}
