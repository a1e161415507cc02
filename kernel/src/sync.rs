//! Synchronisation for a single CPU with preemption:
//! - [`SpinLock`]: a spin lock that also disables interrupts while held, so neither an
//!   interrupt handler nor a preemption can run while it is taken (handlers may use it too);
//! - [`WaitQueue`]: tasks blocked until woken, with the check-then-sleep done atomically;
//! - [`Mutex`]: a blocking mutex for tasks (sleeps instead of spinning).
//!
//! Neighbours: `task` (block/wake, the scheduler's own state uses a `SpinLock`).

use alloc::collections::VecDeque;
use core::ops::{Deref, DerefMut};

/// Restores the interrupt flag to its saved state when dropped.
pub struct IrqGuard {
    was_enabled: bool,
}

impl IrqGuard {
    /// Disables interrupts, remembering whether they were on.
    pub fn new() -> Self {
        let was_enabled = hal::cpu::interrupts_enabled();
        hal::cpu::disable_interrupts();
        Self { was_enabled }
    }
}

impl Default for IrqGuard {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for IrqGuard {
    fn drop(&mut self) {
        if self.was_enabled {
            hal::cpu::enable_interrupts();
        }
    }
}

/// A spin lock that disables interrupts while held.
pub struct SpinLock<T> {
    inner: spin::Mutex<T>,
}

/// Guard of a [`SpinLock`]; fields drop in order: the lock first, then interrupts return.
pub struct SpinLockGuard<'a, T> {
    guard: spin::MutexGuard<'a, T>,
    _irq: IrqGuard,
}

impl<T> SpinLock<T> {
    /// A new unlocked lock.
    pub const fn new(value: T) -> Self {
        Self {
            inner: spin::Mutex::new(value),
        }
    }
    /// Disables interrupts and takes the lock.
    pub fn lock(&self) -> SpinLockGuard<'_, T> {
        let irq = IrqGuard::new();
        SpinLockGuard {
            guard: self.inner.lock(),
            _irq: irq,
        }
    }
    /// Takes the lock if free.
    pub fn try_lock(&self) -> Option<SpinLockGuard<'_, T>> {
        let irq = IrqGuard::new();
        self.inner
            .try_lock()
            .map(|guard| SpinLockGuard { guard, _irq: irq })
    }
}

impl<T> Deref for SpinLockGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.guard
    }
}
impl<T> DerefMut for SpinLockGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.guard
    }
}

/// Tasks waiting for a condition.
pub struct WaitQueue {
    waiters: SpinLock<VecDeque<crate::task::TaskId>>,
}

impl WaitQueue {
    /// An empty queue.
    pub const fn new() -> Self {
        Self {
            waiters: SpinLock::new(VecDeque::new()),
        }
    }

    /// Blocks the calling task until `cond` holds. `cond` is evaluated with interrupts
    /// disabled, so a wake-up between the check and the sleep cannot be lost.
    pub fn wait_until(&self, mut cond: impl FnMut() -> bool) {
        loop {
            let _irq = IrqGuard::new();
            if cond() {
                return;
            }
            let Some(me) = crate::task::current_blockable() else {
                // Not in a task (boot, or the idle task): wait for an interrupt.
                drop(_irq);
                hal::cpu::enable_and_halt();
                continue;
            };
            self.waiters.lock().push_back(me);
            crate::task::block_current_and_yield();
        }
    }

    /// Wakes the longest-waiting task.
    pub fn wake_one(&self) {
        let id = self.waiters.lock().pop_front();
        if let Some(id) = id {
            crate::task::wake(id);
        }
    }

    /// Wakes every waiting task.
    pub fn wake_all(&self) {
        let ids: VecDeque<_> = core::mem::take(&mut *self.waiters.lock());
        for id in ids {
            crate::task::wake(id);
        }
    }
}

impl Default for WaitQueue {
    fn default() -> Self {
        Self::new()
    }
}

/// A blocking mutual-exclusion lock for tasks.
pub struct Mutex<T> {
    inner: spin::Mutex<T>,
    queue: WaitQueue,
}

/// Guard of a [`Mutex`]; wakes one waiter on release.
pub struct MutexGuard<'a, T> {
    guard: Option<spin::MutexGuard<'a, T>>,
    queue: &'a WaitQueue,
}

impl<T> Mutex<T> {
    /// A new unlocked mutex.
    pub const fn new(value: T) -> Self {
        Self {
            inner: spin::Mutex::new(value),
            queue: WaitQueue::new(),
        }
    }
    /// Consumes the mutex, returning the value.
    pub fn into_inner(self) -> T {
        self.inner.into_inner()
    }
    /// Takes the lock, sleeping while another task holds it.
    pub fn lock(&self) -> MutexGuard<'_, T> {
        let mut taken = None;
        self.queue.wait_until(|| {
            taken = self.inner.try_lock();
            taken.is_some()
        });
        MutexGuard {
            guard: taken,
            queue: &self.queue,
        }
    }
}

impl<T> Deref for MutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.guard.as_ref().expect("guard is held until drop")
    }
}
impl<T> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        self.guard.as_mut().expect("guard is held until drop")
    }
}
impl<T> Drop for MutexGuard<'_, T> {
    fn drop(&mut self) {
        self.guard = None;
        self.queue.wake_one();
    }
}
