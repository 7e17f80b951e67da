//! rot13d's pure logic: no system calls here, so all of it unit-tests with std
//! (`cargo test --lib`). The server itself is `src/main.rs`; its only door to
//! the kernel is `src/sys.rs`.
#![cfg_attr(not(test), no_std)]
#![deny(unsafe_code)]

pub mod addr;
pub mod frame;
pub mod hosts;
pub mod msg;
pub mod opts;
pub mod rot13;
pub mod rules;
pub mod sandbox;

#[cfg(test)]
mod proptests;
