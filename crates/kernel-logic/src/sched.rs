//! Scheduling policy: a round-robin run queue and a list of sleeping tasks ordered by wake-up
//! tick. The kernel's `task` module owns the task table and performs the context switches; this
//! module only decides who runs next.

use alloc::collections::{BinaryHeap, VecDeque};
use core::cmp::Reverse;

/// Round-robin queue of runnable task ids (the running task is not in it).
#[derive(Default)]
pub struct RunQueue {
    queue: VecDeque<u64>,
}

impl RunQueue {
    /// An empty queue.
    pub const fn new() -> Self {
        Self {
            queue: VecDeque::new(),
        }
    }
    /// Appends a runnable task unless it is already queued.
    pub fn push(&mut self, id: u64) {
        if !self.queue.contains(&id) {
            self.queue.push_back(id);
        }
    }
    /// Takes the next task to run.
    pub fn pop(&mut self) -> Option<u64> {
        self.queue.pop_front()
    }
    /// Removes a task (it blocked or died).
    pub fn remove(&mut self, id: u64) {
        self.queue.retain(|&t| t != id);
    }
    /// Number of queued tasks.
    pub fn len(&self) -> usize {
        self.queue.len()
    }
    /// True if no task is queued.
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }
}

/// Tasks sleeping until a tick, earliest first.
#[derive(Default)]
pub struct Sleepers {
    heap: BinaryHeap<Reverse<(u64, u64)>>,
}

impl Sleepers {
    /// An empty list.
    pub const fn new() -> Self {
        Self {
            heap: BinaryHeap::new(),
        }
    }
    /// Registers task `id` to wake at `tick`.
    pub fn add(&mut self, tick: u64, id: u64) {
        self.heap.push(Reverse((tick, id)));
    }
    /// Removes and returns the next task whose wake-up tick is `<= now`.
    pub fn pop_due(&mut self, now: u64) -> Option<u64> {
        match self.heap.peek() {
            Some(Reverse((t, _))) if *t <= now => self.heap.pop().map(|Reverse((_, id))| id),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_robin_order_and_removal() {
        let mut q = RunQueue::new();
        q.push(1);
        q.push(2);
        q.push(3);
        q.push(2);
        assert_eq!(q.len(), 3);
        assert_eq!(q.pop(), Some(1));
        q.push(1);
        q.remove(3);
        assert_eq!(q.pop(), Some(2));
        assert_eq!(q.pop(), Some(1));
        assert!(q.is_empty());
        assert_eq!(q.pop(), None);
    }

    #[test]
    fn sleepers_wake_in_tick_order() {
        let mut s = Sleepers::new();
        s.add(30, 1);
        s.add(10, 2);
        s.add(20, 3);
        assert_eq!(s.pop_due(5), None);
        assert_eq!(s.pop_due(20), Some(2));
        assert_eq!(s.pop_due(20), Some(3));
        assert_eq!(s.pop_due(20), None);
        assert_eq!(s.pop_due(100), Some(1));
    }
}
