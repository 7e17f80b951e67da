//! The server's sessions: which children it forked, and from which client
//! each serves (for `-C`). A fixed table (no allocation), kept dense so
//! that a count scans only live children.
//!
//! It is what tells a session from a child the process inherited across
//! exec (a shell's `sleep &` before `exec rot13d`): both are reaped, only
//! sessions are counted against `-c` and `-C` and logged.
//!
//! The parent's accept loop adds (`reserve`, then `born` or `stillborn`)
//! and its SIGCHLD handler removes; the handler runs only while the loop
//! waits in ppoll (SIGCHLD is blocked everywhere else), so the two never
//! interleave. The slots are atomics only so that a `static` table needs no
//! `unsafe`: relaxed, they compile to plain loads and stores.

use core::sync::atomic::{AtomicI32, AtomicU64, AtomicUsize, Ordering::Relaxed};

/// One session: its pid (0 while it is being forked) and its client's key
/// (`Ip::client_key`).
pub struct Slot {
    pid: AtomicI32,
    hi: AtomicU64,
    lo: AtomicU64,
}

impl Slot {
    // A template for the array initialiser below, never used as a value.
    #[allow(clippy::declare_interior_mutable_const)]
    const EMPTY: Slot = Slot { pid: AtomicI32::new(0), hi: AtomicU64::new(0), lo: AtomicU64::new(0) };

    fn key(&self) -> u128 {
        (self.hi.load(Relaxed) as u128) << 64 | self.lo.load(Relaxed) as u128
    }

    fn set(&self, pid: i32, key: u128) {
        self.pid.store(pid, Relaxed);
        self.hi.store((key >> 64) as u64, Relaxed);
        self.lo.store(key as u64, Relaxed);
    }
}

/// Up to `N` sessions.
pub struct Children<const N: usize> {
    len: AtomicUsize,
    slots: [Slot; N],
}

impl<const N: usize> Children<N> {
    /// An empty table (`const`, so that it can live in `.bss`).
    #[allow(clippy::new_without_default)]
    pub const fn new() -> Self {
        Children { len: AtomicUsize::new(0), slots: [Slot::EMPTY; N] }
    }

    fn live(&self) -> &[Slot] {
        // (`len` never passes `N`; `get` spares a panic path for it.)
        self.slots.get(..self.len.load(Relaxed)).unwrap_or(&[])
    }

    /// How many sessions there are, the one being forked included.
    pub fn len(&self) -> usize {
        self.len.load(Relaxed)
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many sessions serve the client `key`.
    pub fn count(&self, key: u128) -> usize {
        self.live().iter().filter(|s| s.key() == key).count()
    }

    /// Counts a session for `key` before it is forked (djb's order: the
    /// count is never below the truth); false if the table is full. Then
    /// [`born`](Self::born) or [`stillborn`](Self::stillborn).
    pub fn reserve(&self, key: u128) -> bool {
        let len = self.len.load(Relaxed);
        let Some(slot) = self.slots.get(len) else {
            return false;
        };
        slot.set(0, key);
        self.len.store(len + 1, Relaxed);
        true
    }

    /// The reserved session was forked as `pid`.
    pub fn born(&self, pid: i32) {
        if let Some(last) = self.live().last() {
            last.pid.store(pid, Relaxed);
        }
    }

    /// The fork failed: the reserved session is not counted.
    pub fn stillborn(&self) {
        let len = self.len.load(Relaxed);
        self.len.store(len.saturating_sub(1), Relaxed);
    }

    /// Forgets session `pid` (the last slot moves into its place); false if
    /// `pid` is no session of ours.
    pub fn remove(&self, pid: i32) -> bool {
        let live = self.live();
        let Some(i) = live.iter().position(|s| pid != 0 && s.pid.load(Relaxed) == pid) else {
            return false;
        };
        let last = &live[live.len() - 1];
        live[i].set(last.pid.load(Relaxed), last.key());
        self.len.store(live.len() - 1, Relaxed);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::Rng;
    use std::collections::HashMap;

    #[test]
    fn counts_follow_forks_and_reaps() {
        static T: Children<4> = Children::new();
        for (pid, key) in [(10, 1), (11, 1), (12, 2)] {
            assert!(T.reserve(key));
            T.born(pid);
        }
        assert_eq!((T.len(), T.count(1), T.count(2), T.count(3)), (3, 2, 1, 0));
        assert!(T.remove(10));
        assert!(!T.remove(10), "reaped once");
        assert!(!T.remove(99), "a child we did not fork");
        assert_eq!((T.len(), T.count(1), T.count(2)), (2, 1, 1));
        // A failed fork leaves the count as it was.
        assert!(T.reserve(3));
        assert!(!T.remove(0), "a session being forked has no pid yet");
        T.stillborn();
        assert_eq!((T.len(), T.count(3)), (2, 0));
        assert!(T.reserve(3) && T.reserve(3));
        assert!(!T.reserve(3), "full");
    }

    #[test]
    fn random_against_a_model() {
        let t: Box<Children<64>> = Box::new(Children::new());
        let mut model: HashMap<i32, u128> = HashMap::new();
        let mut rng = Rng(7);
        let mut next_pid = 1;
        for _ in 0..100_000 {
            match rng.below(3) {
                0 if model.len() < 64 => {
                    let key = rng.below(5) as u128;
                    assert!(t.reserve(key));
                    if rng.below(8) == 0 {
                        t.stillborn();
                    } else {
                        t.born(next_pid);
                        model.insert(next_pid, key);
                    }
                    next_pid += 1;
                }
                _ => {
                    // Ours or not: pids beyond the last forked were never ours.
                    let pid = 1 + rng.below(next_pid as usize + 10) as i32;
                    assert_eq!(t.remove(pid), model.remove(&pid).is_some());
                }
            }
            let key = rng.below(5) as u128;
            assert_eq!(t.count(key), model.values().filter(|&&k| k == key).count());
            assert_eq!(t.len(), model.len());
        }
    }
}
