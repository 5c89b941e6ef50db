//! `etd_sinkhorn_*` and `etd_sinkhorn_scratch_*` on arbitrary sizes, values and pointers.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| etd_fuzz::sinkhorn::run(data));
