//! Host-only tools (feature `std`): reference targets with exact samplers, and metrics.
//! Used by the tests, examples and benchmarks; the no_std kernel never depends on them.

pub mod metrics;
pub mod targets;
