//! # Entropic Transport Descent (ETD)
//!
//! A `no_std`, allocation-free particle sampler for an unnormalised density `pi` on R^d
//! (arXiv:2606.25265). One iteration runs the stages of `docs/algorithm.md`, one module each:
//!
//! | stage | module | what it does |
//! |---|---|---|
//! | 0 precondition | `precondition` | optional: whiten by the running ensemble covariance |
//! | 1 propose | `propose` | `M` Gaussian proposals around each (score-shifted) particle |
//! | 2 weigh | `weights` | importance weights `b ∝ pi / q` against the pooled proposal density |
//! | 3-4 cost, normalise | `cost` | `C = |x - y|^2 / 2`, divided by its median |
//! | 5 couple | `sinkhorn` | entropic OT (stabilised scaling or log-domain Sinkhorn): balanced, unbalanced or gibbs |
//! | 6 update | `update` | categorical or barycentric move along each plan row, damped |
//! | 7 mutate | `mutate` | optional MALA / random-walk MH steps |
//!
//! [`Workspace`] chains them over caller memory; [`Etd`] is the same with inline,
//! const-generic buffers. [`sinkhorn`] solves one coupling on its own. The stage modules are
//! public only with the `unstable` feature, without any stability promise (as `libm` does with
//! its internals); the API above is the supported one.
//!
//! ## Memory
//!
//! Everything lives in one workspace of [`workspace_len`] scalars, dominated by the `N x P`
//! kernel matrix (`P = N*M`):
//!
//! | N | M | d | P | f32 bytes | f64 bytes |
//! |---|---|---|---|---|---|
//! | 32 | 4 | 2 | 128 | 20 924 | 41 848 |
//! | 100 | 25 | 2 | 2 500 | 1 064 460 | 2 128 920 |
//!
//! ## Example
//!
//! ```
//! use entropic_transport::{Config, DefaultRng, Etd, LogDensityFn};
//! use rand_core::SeedableRng;
//!
//! // A standard normal in 2-D, score-free.
//! let mut target = LogDensityFn(|x: &[f64]| -0.5 * (x[0] * x[0] + x[1] * x[1]));
//! let config = Config { use_score: false, ..Config::default() };
//! let mut sampler: Etd<f64, 32, 256, 2> = Etd::new(); // N = 32, M = 8
//! let mut particles = [[0.0f64; 2]; 32];
//! for (i, p) in particles.iter_mut().enumerate() {
//!     *p = [i as f64 / 8.0 - 2.0, 1.0];
//! }
//! let mut rng = DefaultRng::seed_from_u64(7);
//! for _ in 0..50 {
//!     let stats = sampler.step(&config, &mut particles, &mut target, &mut rng)?;
//!     assert!(stats.sinkhorn.marginal_error.is_finite());
//! }
//! let mean_x = particles.iter().map(|p| p[0]).sum::<f64>() / 32.0;
//! assert!(mean_x.abs() < 0.5);
//! # Ok::<(), entropic_transport::Error>(())
//! ```
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

/// Declares modules that are public with the `unstable` feature and crate-private without it.
macro_rules! unstable_modules {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {$(
        $(#[$doc])*
        #[cfg(feature = "unstable")]
        pub mod $name;
        $(#[$doc])*
        #[cfg(not(feature = "unstable"))]
        mod $name;
    )*};
}

mod blocks;
mod config;
mod error;
mod filter;
mod layout;
mod real;
pub mod rng;
mod sampler;
mod sinkhorn;
mod target;
mod turns;

unstable_modules! {
    /// Stage 3-4 (unstable API).
    cost,
    /// The branch-free `exp` (unstable API).
    exp,
    /// The branch-free `ln`, bit-identical to `libm`'s, for the host's vectorised loops
    /// (unstable API; `std` only: a microcontroller uses `libm`'s).
    #[cfg(feature = "std")]
    ln,
    /// Vector primitives: reductions, multiply-add, log-sum-exp (unstable API).
    vector,
    /// Stage 7 (unstable API).
    mutate,
    /// Stage 0 (unstable API).
    precondition,
    /// Stage 1 (unstable API).
    propose,
    /// Stage 6 (unstable API).
    update,
    /// Stage 6, the rounded rule's dependent rounding (unstable API).
    rounding,
    /// Stage 2 (unstable API).
    weights,
}

pub use config::{Config, Coupling, Mutation, Precondition, Shape, Steps, Update};
pub use error::Error;
pub use filter::{systematic_resample, weight_ess};
#[cfg(feature = "fast-math")]
pub use real::FastF32;
pub use real::Real;
pub use rng::DefaultRng;
pub use sampler::{workspace_len, Etd, StepStats, Workspace};
pub use sinkhorn::{sinkhorn, sinkhorn_scratch_len, SinkhornParams, SinkhornStats, Solver};
pub use target::{LogDensityFn, Target};

/// The README's and the docs' Rust snippets, compiled and run as doc-tests.
#[cfg(doctest)]
pub mod doctests {
    #[doc = include_str!("../README.md")]
    pub struct Readme;
    #[doc = include_str!("../docs/algorithm.md")]
    pub struct Algorithm;
    #[doc = include_str!("../docs/embedded.md")]
    pub struct Embedded;
    #[doc = include_str!("../docs/filter.md")]
    pub struct Filter;
}
