#![no_main]
//! Harness body: `sockframe::fuzzing::any_codec` (replayed by `cargo test`).
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| sockframe::fuzzing::any_codec(data));
