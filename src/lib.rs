//! # Entropic Transport Descent (ETD)
//!
//! A `no_std`, allocation-free particle sampler for an unnormalised density `pi` on R^d
//! (arXiv:2606.25265). One iteration runs the stages of ALGORITHM.md, one module each:
//!
//! | stage | module | what it does |
//! |---|---|---|
//! | 0 precondition | [`precondition`] | optional: whiten by the running ensemble covariance |
//! | 1 propose | [`propose`] | `M` Gaussian proposals around each (score-shifted) particle |
//! | 2 weigh | [`weights`] | importance weights `b ∝ pi / q` against the pooled proposal density |
//! | 3-4 cost, normalise | [`cost`] | `C = |x - y|^2 / 2`, divided by its median |
//! | 5 couple | [`mod@sinkhorn`] | log-domain entropic OT: balanced, unbalanced or gibbs |
//! | 6 update | [`update`] | categorical or barycentric move along each plan row, damped |
//! | 7 mutate | [`mutate`] | optional MALA / random-walk MH steps |
//!
//! [`Workspace`] chains them over caller memory; [`Etd`] is the same with inline,
//! const-generic buffers.
//!
//! ## Memory
//!
//! Everything lives in one workspace of `N*P + P*(d + 4) + N*(6d + 5) + 2d(d + 2)` scalars
//! ([`workspace_len`]), with `P = N*M`; the `N x P` cost matrix dominates.
//!
//! | N | M | d | P | f32 bytes | f64 bytes |
//! |---|---|---|---|---|---|
//! | 32 | 4 | 2 | 128 | 21 696 | 43 392 |
//! | 100 | 25 | 2 | 2 500 | 1 066 864 | 2 133 728 |
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

#[cfg(feature = "std")]
extern crate std;

mod config;
pub mod cost;
mod error;
pub mod exp;
#[cfg(feature = "std")]
pub mod host;
pub mod lse;
pub mod mutate;
pub mod precondition;
pub mod propose;
mod real;
pub mod rng;
mod sampler;
pub mod sinkhorn;
mod target;
pub mod update;
pub mod weights;

pub use config::{Config, Coupling, Mutation, Precondition, Shape, Update};
pub use error::Error;
pub use real::Real;
pub use rng::DefaultRng;
pub use sampler::{workspace_len, Etd, StepStats, Workspace};
pub use sinkhorn::{sinkhorn, sinkhorn_scratch_len, SinkhornParams, SinkhornStats};
pub use target::{LogDensityFn, Target};

/// The README's Rust snippets, compiled and run as doc-tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
