#![no_main]
//! Harness body: `sockframe::fuzzing::length_vs_tokio` (replayed by `cargo test`).
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| sockframe::fuzzing::length_vs_tokio(data));
