//! `etd_sampler_*`, the filter entries and `etd_weight_ess_*` on arbitrary configurations,
//! memory, call sequences and callbacks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| etd_fuzz::sampler::run(data));
