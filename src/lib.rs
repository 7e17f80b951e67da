//! rot13d's pure logic: no system calls here, so all of it unit-tests with
//! std (`cargo test --lib`), on every architecture. The server is the
//! binary (`src/main.rs` and the modules beside it); its only door to the
//! kernel besides rustix is its platform layer (`src/sys/`, `src/arch/`).
#![cfg_attr(not(test), no_std)]
#![deny(unsafe_code)]

/// The most sockets one server listens on: `-l` given that many times, or
/// passed by a service manager (rot13d(8), SOCKET ACTIVATION).
pub const MAX_LISTENERS: usize = 16;

pub mod activation;
pub mod addr;
pub mod children;
pub mod frame;
pub mod msg;
pub mod opts;
pub mod passwd;
pub mod rot13;
pub mod rules;
pub mod sandbox;
pub mod status;

#[cfg(test)]
mod proptests;
#[cfg(test)]
pub(crate) mod testutil;
