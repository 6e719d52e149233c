#![no_main]
//! Harness body: `sockframe::fuzzing::cobs_roundtrip` (replayed by `cargo test`).
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| sockframe::fuzzing::cobs_roundtrip(data));
