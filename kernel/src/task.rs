//! Tasks and the preemptive scheduler.
//!
//! A task is a kernel thread in the single address space: its saved [`InterruptFrame`]
//! (registers + FXSAVE area), a stack in the reservation area with an unmapped guard page
//! below it, an alternate stack for fault handling, TLS slots, and a registry of exception
//! handlers ([`crate::fault`]). Every switch goes through the interrupt entry path: the timer
//! (IRQ 0) preempts, and voluntary switches (`yield_now`, blocking, sleeping, exiting) raise
//! the software vector 0x81. [`switch`] copies the interrupted state into the outgoing task
//! and the incoming task's state over the interrupt frame, so nothing task-specific stays on
//! the IST stack. Policy (round robin, sleepers) comes from `kernel_logic::sched`.
//!
//! Task 0 is the idle task: the boot context, which halts when nothing else is runnable.

use crate::memory::Stack;
use crate::sync::{SpinLock, WaitQueue};
use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use hal::interrupts::InterruptFrame;
use hal::trap::AltStack;
use kernel_logic::sched::{RunQueue, Sleepers};

/// Identifies a task.
pub type TaskId = u64;
/// The idle task's id.
pub const IDLE: TaskId = 0;
/// Number of per-task TLS slots (wasmtime uses one).
pub const TLS_SLOTS: usize = 4;
/// Default stack size of a spawned task.
pub const DEFAULT_STACK: u64 = 256 * 1024;

/// Scheduling state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// On the CPU.
    Running,
    /// In the run queue.
    Ready,
    /// In a wait queue.
    Blocked,
    /// Waiting for a tick.
    Sleeping,
    /// Finished; waiting to be joined.
    Dead,
}

impl State {
    /// Lower-case name for `ps`.
    pub fn name(self) -> &'static str {
        match self {
            State::Running => "running",
            State::Ready => "ready",
            State::Blocked => "blocked",
            State::Sleeping => "sleeping",
            State::Dead => "dead",
        }
    }
}

/// How a task ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Exit {
    /// Its closure returned.
    Returned,
    /// It panicked; the message.
    Panicked(String),
    /// A CPU exception killed it; the one-line diagnosis.
    Faulted(String),
    /// Another task killed it with [`kill`]; the reason.
    Killed(String),
}

type Entry = Box<dyn FnOnce() + Send>;
type Handler = Box<dyn FnMut(&mut crate::fault::FaultInfo<'_>) -> crate::fault::Handled + Send>;

pub(crate) struct Task {
    pub(crate) name: String,
    pub(crate) state: State,
    frame: Box<InterruptFrame>,
    pub(crate) stack: Option<Stack>,
    pub(crate) alt: Option<Box<AltStack>>,
    entry: Option<Entry>,
    cpu_cycles: u64,
    tls: [usize; TLS_SLOTS],
    pub(crate) handlers: [Option<Handler>; 4],
    pub(crate) in_fault: bool,
    /// Unwinds in flight on this task (started by a panic or a fault, not yet caught): a CPU
    /// exception while this is non-zero kills the task without unwinding again.
    pub(crate) unwinding: u32,
    exit: Option<Exit>,
}

pub(crate) struct Scheduler {
    pub(crate) tasks: BTreeMap<TaskId, Task>,
    run: RunQueue,
    sleepers: Sleepers,
    pub(crate) current: TaskId,
    next_id: TaskId,
    last_switch: u64,
}

pub(crate) static SCHED: SpinLock<Option<Scheduler>> = SpinLock::new(None);
/// Woken whenever a task dies (joiners wait here).
static EXITED: WaitQueue = WaitQueue::new();

/// Turns the boot context into the idle task. Call once, before enabling interrupts.
pub fn init() {
    hal::unwind::set_resume_failed_hook(crate::fault::resume_failed);
    let idle = Task {
        name: "idle".into(),
        state: State::Running,
        frame: Box::new(InterruptFrame::new_task(idle_entry, 0, 16)),
        stack: None,
        alt: None,
        entry: None,
        cpu_cycles: 0,
        tls: [0; TLS_SLOTS],
        handlers: Default::default(),
        in_fault: false,
        unwinding: 0,
        exit: None,
    };
    let mut tasks = BTreeMap::new();
    tasks.insert(IDLE, idle);
    *SCHED.lock() = Some(Scheduler {
        tasks,
        run: RunQueue::new(),
        sleepers: Sleepers::new(),
        current: IDLE,
        next_id: 1,
        last_switch: hal::cpu::rdtsc(),
    });
}

extern "C" fn idle_entry(_: u64) -> ! {
    idle_loop()
}

/// The idle task's body: yield when a task is ready, else halt until an interrupt.
///
/// An interrupt handler that wakes a task while the idle task runs (a joiner woken when a
/// dead task is reaped, a reader woken by the console) returns into this loop, which
/// hands the CPU over at once instead of halting until the next timer tick (up to 10 ms:
/// every `wait` for a process used to end on a tick).
pub fn idle_loop() -> ! {
    loop {
        let guard = crate::sync::IrqGuard::new();
        let ready = SCHED
            .lock()
            .as_ref()
            .is_some_and(|s| s.current == IDLE && !s.run.is_empty());
        if ready {
            drop(guard);
            hal::cpu::yield_interrupt();
        } else {
            // `sti; hlt`: a wake-up after the check above ends the halt.
            core::mem::forget(guard);
            hal::cpu::enable_and_halt();
        }
    }
}

fn with<R>(f: impl FnOnce(&mut Scheduler) -> R) -> Option<R> {
    SCHED.lock().as_mut().map(f)
}

/// Errors of [`spawn`].
#[derive(Debug)]
pub enum SpawnError {
    /// No memory for the stack.
    OutOfMemory,
}

/// Starts a task running `f` with the default stack size.
pub fn spawn(name: &str, f: impl FnOnce() + Send + 'static) -> Result<TaskId, SpawnError> {
    spawn_with_stack(name, DEFAULT_STACK, f)
}

/// Starts a task running `f` on a stack of `stack_bytes` (rounded up to pages).
pub fn spawn_with_stack(
    name: &str,
    stack_bytes: u64,
    f: impl FnOnce() + Send + 'static,
) -> Result<TaskId, SpawnError> {
    let stack = Stack::new(stack_bytes).ok_or(SpawnError::OutOfMemory)?;
    let alt = AltStack::new_boxed();
    let top = stack.top();
    let mut guard = SCHED.lock();
    let s = guard.as_mut().ok_or(SpawnError::OutOfMemory)?;
    let id = s.next_id;
    s.next_id += 1;
    let frame = Box::new(InterruptFrame::new_task(task_entry, id, top));
    s.tasks.insert(
        id,
        Task {
            name: name.into(),
            state: State::Ready,
            frame,
            stack: Some(stack),
            alt: Some(alt),
            entry: Some(Box::new(f)),
            cpu_cycles: 0,
            tls: [0; TLS_SLOTS],
            handlers: Default::default(),
            in_fault: false,
            unwinding: 0,
            exit: None,
        },
    );
    s.run.push(id);
    Ok(id)
}

extern "C" fn task_entry(id: TaskId) -> ! {
    let entry = with(|s| s.tasks.get_mut(&id).and_then(|t| t.entry.take())).flatten();
    let exit = match entry {
        Some(f) => match crate::fault::catch_unwind(f) {
            Ok(()) => Exit::Returned,
            Err(payload) => crate::fault::exit_from_payload(payload),
        },
        None => Exit::Returned,
    };
    exit_current(exit)
}

/// Ends the calling task with `exit`.
pub fn exit_current(exit: Exit) -> ! {
    let _irq = crate::sync::IrqGuard::new();
    with(|s| {
        let cur = s.current;
        if let Some(t) = s.tasks.get_mut(&cur) {
            t.state = State::Dead;
            t.exit = Some(exit);
        }
    });
    loop {
        hal::cpu::yield_interrupt();
    }
}

/// Ends the calling task normally.
pub fn exit() -> ! {
    exit_current(Exit::Returned)
}

/// Waits for task `id` to end and returns how it ended (None if no such task).
pub fn join(id: TaskId) -> Option<Exit> {
    let mut result = None;
    let mut missing = false;
    EXITED.wait_until(|| {
        let s = SCHED.lock();
        match s.as_ref().and_then(|s| s.tasks.get(&id)) {
            None => {
                missing = true;
                true
            }
            // Dead and switched away from (its stack released by `switch`).
            Some(t) => {
                result = t
                    .exit
                    .clone()
                    .filter(|_| t.stack.is_none() && t.alt.is_none());
                result.is_some()
            }
        }
    });
    if missing {
        return None;
    }
    with(|s| s.tasks.remove(&id));
    result
}

/// Whether task `id` has ended (or does not exist).
pub fn is_dead(id: TaskId) -> bool {
    with(|s| s.tasks.get(&id).is_none_or(|t| t.state == State::Dead)).unwrap_or(true)
}

/// Lets other runnable tasks run.
pub fn yield_now() {
    hal::cpu::yield_interrupt();
}

/// Sleeps for at least `ms` milliseconds.
pub fn sleep_ms(ms: u64) {
    // +1: the current tick is already partly over.
    let ticks = ms.div_ceil(crate::time::MS_PER_TICK) + 1;
    let _irq = crate::sync::IrqGuard::new();
    let slept = with(|s| {
        if s.current == IDLE {
            return false;
        }
        let cur = s.current;
        s.sleepers.add(crate::time::ticks() + ticks, cur);
        if let Some(t) = s.tasks.get_mut(&cur) {
            t.state = State::Sleeping;
        }
        true
    });
    if slept == Some(true) {
        hal::cpu::yield_interrupt();
    }
}

/// The calling task's id.
pub fn current() -> TaskId {
    with(|s| s.current).unwrap_or(IDLE)
}

/// The current task if it may block (not idle, scheduler running).
pub(crate) fn current_blockable() -> Option<TaskId> {
    with(|s| s.current).filter(|&c| c != IDLE)
}

/// Marks the current task blocked and switches away; call with interrupts disabled after
/// enqueueing it somewhere that will [`wake`] it.
pub(crate) fn block_current_and_yield() {
    with(|s| {
        let cur = s.current;
        if let Some(t) = s.tasks.get_mut(&cur) {
            t.state = State::Blocked;
        }
    });
    hal::cpu::yield_interrupt();
}

/// Makes a blocked or sleeping task runnable.
pub fn wake(id: TaskId) {
    with(|s| {
        if let Some(t) = s.tasks.get_mut(&id) {
            if matches!(t.state, State::Blocked | State::Sleeping) {
                t.state = State::Ready;
                s.run.push(id);
            }
        }
    });
}

/// Reads TLS slot `slot` of the current task.
pub fn tls_get(slot: usize) -> usize {
    with(|s| s.tasks.get(&s.current).map(|t| t.tls[slot % TLS_SLOTS]))
        .flatten()
        .unwrap_or(0)
}

/// Writes TLS slot `slot` of the current task.
pub fn tls_set(slot: usize, value: usize) {
    with(|s| {
        let cur = s.current;
        if let Some(t) = s.tasks.get_mut(&cur) {
            t.tls[slot % TLS_SLOTS] = value;
        }
    });
}

/// One row of `ps`.
pub struct TaskInfo {
    /// Id.
    pub id: TaskId,
    /// Name.
    pub name: String,
    /// State.
    pub state: State,
    /// CPU time consumed, in microseconds.
    pub cpu_us: u64,
}

/// A snapshot of all live tasks.
pub fn list() -> Vec<TaskInfo> {
    let now = hal::cpu::rdtsc();
    with(|s| {
        s.tasks
            .iter()
            .filter(|(_, t)| t.state != State::Dead)
            .map(|(&id, t)| {
                let mut cycles = t.cpu_cycles;
                if id == s.current {
                    cycles += now.saturating_sub(s.last_switch);
                }
                TaskInfo {
                    id,
                    name: t.name.clone(),
                    state: t.state,
                    cpu_us: crate::time::cycles_to_us(cycles),
                }
            })
            .collect()
    })
    .unwrap_or_default()
}

/// CPU time consumed by the calling task so far, in TSC cycles (including the current
/// slice).
pub fn current_cpu_cycles() -> u64 {
    let now = hal::cpu::rdtsc();
    with(|s| {
        s.tasks
            .get(&s.current)
            .map(|t| t.cpu_cycles + now.saturating_sub(s.last_switch))
    })
    .flatten()
    .unwrap_or(0)
}

/// Called on every timer tick (from the IRQ 0 handler): wakes due sleepers and preempts.
pub(crate) fn on_tick(frame: &mut InterruptFrame, now_tick: u64) {
    let mut guard = SCHED.lock();
    let Some(s) = guard.as_mut() else { return };
    while let Some(id) = s.sleepers.pop_due(now_tick) {
        if let Some(t) = s.tasks.get_mut(&id) {
            if t.state == State::Sleeping {
                t.state = State::Ready;
                s.run.push(id);
            }
        }
    }
    if !s.run.is_empty() && switch(s, frame) {
        drop(guard);
        EXITED.wake_all();
    }
}

/// Called for the yield vector.
pub(crate) fn on_yield(frame: &mut InterruptFrame) {
    let mut guard = SCHED.lock();
    let reaped = guard.as_mut().is_some_and(|s| switch(s, frame));
    drop(guard);
    if reaped {
        EXITED.wake_all();
    }
}

/// Picks the next task and exchanges the interrupt frame's contents with it. Returns true if
/// the outgoing task was dead and has been reaped (its stacks freed), so joiners can proceed.
pub(crate) fn switch(s: &mut Scheduler, frame: &mut InterruptFrame) -> bool {
    let cur = s.current;
    if let Some(t) = s.tasks.get_mut(&cur) {
        if t.state == State::Running {
            t.state = State::Ready;
            if cur != IDLE {
                s.run.push(cur);
            }
        }
    }
    let next = loop {
        match s.run.pop() {
            Some(id) if s.tasks.get(&id).is_some_and(|t| t.state == State::Ready) => break id,
            Some(_) => continue,
            None => break IDLE,
        }
    };
    let now = hal::cpu::rdtsc();
    let mut dead_stack = None;
    if let Some(t) = s.tasks.get_mut(&cur) {
        t.cpu_cycles += now.saturating_sub(s.last_switch);
        if next != cur {
            (*t.frame).clone_from(frame);
        }
        if t.state == State::Dead {
            dead_stack = Some((t.stack.take(), t.alt.take(), t.entry.take()));
            t.handlers = Default::default();
        }
    }
    s.last_switch = now;
    if let Some(t) = s.tasks.get_mut(&next) {
        t.state = State::Running;
        if next != cur {
            frame.clone_from(&t.frame);
        }
        hal::unwind::set_resume_stack(t.alt.as_ref().map(|a| a.range()));
    }
    s.current = next;
    // The dead task's stack is no longer in use: free it (its pages are unmapped).
    let reaped = dead_stack.is_some();
    drop(dead_stack);
    reaped
}

/// Kills the current task without unwinding (used when it cannot run its own unwind, e.g. a
/// fault while already handling a fault) and switches to another task.
pub(crate) fn kill_current_in_handler(frame: &mut InterruptFrame, exit: Exit) {
    let mut guard = SCHED.lock();
    if let Some(s) = guard.as_mut() {
        let cur = s.current;
        if let Some(t) = s.tasks.get_mut(&cur) {
            t.state = State::Dead;
            t.exit = Some(exit);
        }
        switch(s, frame);
    }
    drop(guard);
    EXITED.wake_all();
}

/// Notes that an unwind starts on the current task (see [`Task::unwinding`]).
pub(crate) fn begin_unwinding() {
    with(|s| {
        let cur = s.current;
        if let Some(t) = s.tasks.get_mut(&cur) {
            t.unwinding += 1;
        }
    });
}

/// Notes that an unwind of the current task was caught.
pub(crate) fn end_unwinding() {
    with(|s| {
        let cur = s.current;
        if let Some(t) = s.tasks.get_mut(&cur) {
            t.unwinding = t.unwinding.saturating_sub(1);
        }
    });
}

/// The current task's stack (its usable range), if it has one of its own.
pub(crate) fn current_stack_range() -> Option<(u64, u64)> {
    with(|s| {
        s.tasks
            .get(&s.current)
            .and_then(|t| t.stack.as_ref().map(|st| st.range()))
    })
    .flatten()
}

/// Kills task `id` (not the calling task, not idle) without unwinding it: it never runs
/// again, its stacks are freed now and `join` reports [`Exit::Killed`]. Whatever its frames
/// owned leaks, and a lock it holds stays held: this is the last resort of a watchdog.
/// Returns false if there is no such live task.
pub fn kill(id: TaskId, why: &str) -> bool {
    let freed = {
        let _irq = crate::sync::IrqGuard::new();
        with(|s| {
            if id == IDLE || id == s.current {
                return None;
            }
            let t = s.tasks.get_mut(&id)?;
            if t.state == State::Dead {
                return None;
            }
            t.state = State::Dead;
            t.exit = Some(Exit::Killed(why.into()));
            let handlers = core::mem::take(&mut t.handlers);
            Some((t.stack.take(), t.alt.take(), t.entry.take(), handlers))
        })
        .flatten()
    };
    let killed = freed.is_some();
    // Not running (single CPU, not current): its stack is no longer in use.
    drop(freed);
    if killed {
        EXITED.wake_all();
    }
    killed
}

/// Name of the current task.
pub fn current_name() -> String {
    with(|s| s.tasks.get(&s.current).map(|t| t.name.clone()))
        .flatten()
        .unwrap_or_default()
}
