//! Host-only tools (feature `std`): reference targets with exact samplers, metrics, baseline
//! samplers, Bayesian models on shipped data, Boltzmann targets, and the experiment runner
//! behind `examples/paper.rs`. The no_std kernel never depends on them.

pub mod baselines;
pub mod bayes;
pub mod boltzmann;
pub mod experiment;
pub mod metrics;
pub mod problem;
pub mod targets;
