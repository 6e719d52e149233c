#![no_main]
//! Harness body: `sockframe::fuzzing::transport_script` (replayed by `cargo test`).
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| sockframe::fuzzing::transport_script(data));
