//! The fuzz harnesses of the C ABI: each turns arbitrary bytes into calls through the
//! `extern "C"` functions and checks the contract of `include/etd.h` on every outcome. A
//! violation panics, which libFuzzer reports as a crash.
//!
//! The modules use nothing but `etd` and `core`/`std`, so `ffi/tests/fuzz_regressions.rs`
//! includes them too and replays the inputs kept in `ffi/fuzz/regressions/` (also under Miri).

pub mod abi;
pub mod input;
pub mod sampler;
pub mod sinkhorn;
