#![no_main]
//! Harness body: `sockframe::fuzzing::length_split` (replayed by `cargo test`).
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| sockframe::fuzzing::length_split(data));
