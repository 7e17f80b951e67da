//! The per-host table for `-C`: which child serves which peer address, in a
//! fixed array (no allocation), kept dense so a count scans only live children.
//!
//! The parent inserts after fork() and its SIGCHLD handler removes on reap;
//! the parent blocks SIGCHLD while it touches the table, so the two never
//! interleave. The slots are atomics only so that a `static` table needs no
//! `unsafe`: with relaxed ordering they compile to plain loads and stores.

use core::sync::atomic::{AtomicI32, AtomicU64, AtomicUsize, Ordering::Relaxed};

/// One live child: its pid and its peer's address key (`Ip::key`).
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

/// A table of up to `N` live children.
pub struct Hosts<const N: usize> {
    len: AtomicUsize,
    slots: [Slot; N],
}

impl<const N: usize> Hosts<N> {
    /// An empty table (`const`, so it can live in `.bss`).
    #[allow(clippy::new_without_default)]
    pub const fn new() -> Self {
        Hosts { len: AtomicUsize::new(0), slots: [Slot::EMPTY; N] }
    }

    fn live(&self) -> &[Slot] {
        // (`len` never exceeds `N`; `get` spares a panic path for it.)
        self.slots.get(..self.len.load(Relaxed)).unwrap_or(&[])
    }

    /// How many live children serve `key`.
    pub fn count(&self, key: u128) -> usize {
        self.live().iter().filter(|s| s.key() == key).count()
    }

    /// Records child `pid` serving `key`; false if the table is full.
    pub fn insert(&self, pid: i32, key: u128) -> bool {
        let len = self.len.load(Relaxed);
        let Some(slot) = self.slots.get(len) else { return false };
        slot.set(pid, key);
        self.len.store(len + 1, Relaxed);
        true
    }

    /// Forgets child `pid` (the last slot moves into its place); false if it
    /// was not there.
    pub fn remove(&self, pid: i32) -> bool {
        let live = self.live();
        let Some(i) = live.iter().position(|s| s.pid.load(Relaxed) == pid) else { return false };
        let last = &live[live.len() - 1];
        live[i].set(last.pid.load(Relaxed), last.key());
        self.len.store(live.len() - 1, Relaxed);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::tests::Rng;
    use std::collections::HashMap;

    #[test]
    fn counts_follow_inserts_and_removes() {
        static T: Hosts<4> = Hosts::new();
        assert!(T.insert(10, 1) && T.insert(11, 1) && T.insert(12, 2));
        assert_eq!((T.count(1), T.count(2), T.count(3)), (2, 1, 0));
        assert!(T.remove(10));
        assert!(!T.remove(10));
        assert_eq!((T.count(1), T.count(2)), (1, 1));
        assert!(T.insert(13, 3) && T.insert(14, 3));
        assert!(!T.insert(15, 3), "full");
    }

    #[test]
    fn random_against_a_model() {
        let t: Box<Hosts<64>> = Box::new(Hosts::new());
        let mut model: HashMap<i32, u128> = HashMap::new();
        let mut rng = Rng(7);
        let mut next_pid = 1;
        for _ in 0..100_000 {
            if rng.below(2) == 0 && model.len() < 64 {
                let key = rng.below(5) as u128;
                assert!(t.insert(next_pid, key));
                model.insert(next_pid, key);
                next_pid += 1;
            } else {
                let pid = 1 + rng.below(next_pid as usize) as i32;
                assert_eq!(t.remove(pid), model.remove(&pid).is_some());
            }
            let key = rng.below(5) as u128;
            assert_eq!(t.count(key), model.values().filter(|&&k| k == key).count());
        }
    }
}
