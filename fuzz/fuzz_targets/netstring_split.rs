#![no_main]
//! Harness body: `sockframe::fuzzing::netstring_split` (replayed by `cargo test`).
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| sockframe::fuzzing::netstring_split(data));
