#![no_main]
//! Harness body: `sockframe::fuzzing::checksum_resync` (replayed by `cargo test`).
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| sockframe::fuzzing::checksum_resync(data));
