//! `etd_config`: the sampler configuration shared by the f64 and f32 APIs, and its conversion
//! to the kernel's [`Shape`] and [`Config`].

use crate::status::{etd_detail, Failure};
use entropic_transport::{Config, Coupling, Mutation, Real, Shape, Steps, Update};

/// Balanced coupling: both marginals exact (the default).
pub const ETD_COUPLING_BALANCED: u32 = 0u32;
/// Unbalanced coupling: particle marginal exact, proposal marginal softened by `rho`.
pub const ETD_COUPLING_UNBALANCED: u32 = 1u32;
/// Gibbs (semi-relaxed) coupling: closed form, rows normalised, no iterations.
pub const ETD_COUPLING_GIBBS: u32 = 2u32;
/// Categorical update: each particle moves to one proposal drawn from its plan row (default).
pub const ETD_UPDATE_CATEGORICAL: u32 = 0u32;
/// Barycentric update: each particle moves to the plan-weighted mean of the proposals.
pub const ETD_UPDATE_BARYCENTRIC: u32 = 1u32;
/// Rounded update: the categorical draws of all particles made jointly (dependent rounding of
/// the plan along a spatial order of the proposals), so that each proposal, and each run of
/// proposals in that order, receives `floor` or `ceil` of its share of the particles.
pub const ETD_UPDATE_ROUNDED: u32 = 2u32;

/// Shape and algorithm parameters of a sampler. Fill it with `etd_config_default`, then change
/// fields. The same struct (with `double` fields) serves the f64 and f32 APIs; the f32 API
/// rounds each value to `float` before validating it.
///
/// Valid means: `n_particles`, `proposals_per_particle`, `dim`, `max_iterations` >= 1;
/// `epsilon` in `[sqrt(MIN_POSITIVE), 1 / sqrt(MIN_POSITIVE)]` of the scalar type (1.1e-19 to
/// 9.2e18 for `float`, 1.5e-154 to 6.7e153 for `double`); `tolerance` and `score_clip` finite
/// and positive; `alpha`, `sigma` finite and >= 0 (but not both 0: the proposals need a spread); `damping` in (0, 1]; `rho` finite and > 0 when
/// `coupling` is `ETD_COUPLING_UNBALANCED`; `mutation_step_size` finite and > 0 when
/// `mutation_steps` > 0; `use_score` 0 or 1; `coupling` and `update` one of the
/// `ETD_COUPLING_*` / `ETD_UPDATE_*` constants. Anything else is rejected with
/// `ETD_ERR_INVALID_ARGUMENT` (or a size of 0 from `etd_sampler_size_*`).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct etd_config {
    /// `N`: particles in the ensemble.
    pub n_particles: u32,
    /// `M`: proposals drawn around each particle; the pool holds `P = N * M` proposals.
    pub proposals_per_particle: u32,
    /// `d`: dimension of the target.
    pub dim: u32,
    /// Sinkhorn iteration cap per step (default 8).
    pub max_iterations: u32,
    /// Entropic regulariser, relative to the median pairwise cost (default 0.1).
    pub epsilon: f64,
    /// Sinkhorn stops when its last column half-step moved at most this much mass (L1;
    /// default 0.05).
    pub tolerance: f64,
    /// Score step: proposal means are `x + alpha * clip(score, score_clip)` (default 0.05).
    pub alpha: f64,
    /// Proposal standard deviation; 0 means `sqrt(2 * alpha)` (default 0).
    pub sigma: f64,
    /// Scores longer than this are scaled down to this length (default 5).
    pub score_clip: f64,
    /// Strength of the soft marginal of the unbalanced coupling (default 1; used only then).
    pub rho: f64,
    /// Damping `eta` in (0, 1]: `x <- (1 - eta) x + eta x_new` (default 1).
    pub damping: f64,
    /// One of `ETD_COUPLING_*` (default `ETD_COUPLING_BALANCED`).
    pub coupling: u32,
    /// One of `ETD_UPDATE_*` (default `ETD_UPDATE_CATEGORICAL`).
    pub update: u32,
    /// 1: guide proposals with the score callback (default); 0: need only the log-density.
    pub use_score: u32,
    /// Metropolis-Hastings steps per particle after each update; 0 = off (default 0 for
    /// `dim <= 2`, 10 from `dim = 3` on). MALA when a score callback is passed to the step (even
    /// with `use_score == 0`), random-walk MH otherwise.
    pub mutation_steps: u32,
    /// Step size `h` of the mutation, in whitened units while the sampler is preconditioned
    /// (default 0.3; used only when `mutation_steps > 0`).
    pub mutation_step_size: f64,
}

impl etd_config {
    /// The kernel configuration `d` (as `Config::default()`) for the given shape.
    pub fn with_shape(
        n_particles: u32,
        proposals_per_particle: u32,
        dim: u32,
        d: &Config<f64>,
    ) -> Self {
        etd_config {
            n_particles,
            proposals_per_particle,
            dim,
            max_iterations: d.max_iterations,
            epsilon: d.epsilon,
            tolerance: d.tolerance,
            alpha: d.alpha,
            sigma: 0.0,
            score_clip: d.score_clip,
            rho: 1.0,
            damping: d.damping,
            coupling: ETD_COUPLING_BALANCED,
            update: match d.update {
                Update::Categorical => ETD_UPDATE_CATEGORICAL,
                Update::Barycentric => ETD_UPDATE_BARYCENTRIC,
                Update::Rounded => ETD_UPDATE_ROUNDED,
            },
            use_score: u32::from(d.use_score),
            mutation_steps: d.mutation.steps.count(dim as usize),
            mutation_step_size: d.mutation.step_size,
        }
    }

    /// The kernel's shape and configuration, validated; `ETD_ERR_INVALID_ARGUMENT` if any
    /// value is out of range (checked after rounding to `T`).
    pub(crate) fn to_kernel<T: Real>(self) -> Result<(Shape, Config<T>), Failure> {
        let size = |x: u32| {
            usize::try_from(x).map_err(|_| Failure::invalid(etd_detail::ETD_DETAIL_SIZE_OVERFLOW))
        };
        let shape = Shape::new(
            size(self.n_particles)?,
            size(self.proposals_per_particle)?,
            size(self.dim)?,
        );
        shape.validate()?;
        let t = T::from_f64;
        let coupling = match self.coupling {
            ETD_COUPLING_BALANCED => Coupling::Balanced,
            ETD_COUPLING_UNBALANCED => Coupling::Unbalanced { rho: t(self.rho) },
            ETD_COUPLING_GIBBS => Coupling::Gibbs,
            _ => return Err(Failure::invalid(etd_detail::ETD_DETAIL_UNKNOWN_COUPLING)),
        };
        let update = match self.update {
            ETD_UPDATE_CATEGORICAL => Update::Categorical,
            ETD_UPDATE_BARYCENTRIC => Update::Barycentric,
            ETD_UPDATE_ROUNDED => Update::Rounded,
            _ => return Err(Failure::invalid(etd_detail::ETD_DETAIL_UNKNOWN_UPDATE)),
        };
        let use_score = match self.use_score {
            0 => false,
            1 => true,
            _ => return Err(Failure::invalid(etd_detail::ETD_DETAIL_INVALID_USE_SCORE)),
        };
        let config = Config {
            epsilon: t(self.epsilon),
            tolerance: t(self.tolerance),
            max_iterations: self.max_iterations,
            alpha: t(self.alpha),
            // 0 (or -0) selects sqrt(2 alpha); a negative or non-finite sigma stays and fails.
            sigma: (self.sigma != 0.0).then(|| t(self.sigma)),
            score_clip: t(self.score_clip),
            use_score,
            coupling,
            update,
            damping: t(self.damping),
            mutation: Mutation {
                steps: Steps::Fixed(self.mutation_steps),
                step_size: t(self.mutation_step_size),
            },
            ..Config::default()
        };
        config.validate()?;
        Ok((shape, config))
    }
}

/// Fills `*cfg` with the defaults for `n_particles` particles, `proposals_per_particle`
/// proposals each, in dimension `dim`: `max_iterations` 8, `epsilon` 0.1, `tolerance` 0.05,
/// `alpha` 0.05, `sigma` 0 (= `sqrt(2 alpha)`), `score_clip` 5, `rho` 1, `damping` 1, balanced
/// coupling, categorical update, `use_score` 1, `mutation_step_size` 0.3 and `mutation_steps`
/// 0 for `dim <= 2`, 10 from `dim = 3` on. A sampler initialised from it is preconditioned by
/// its ensemble covariance (`etd_sampler_set_precondition_f64`, rate 0.1): together with the
/// mutation, this keeps the ensemble's spread in high dimension. The transport step alone, as
/// published, is `mutation_steps = 0` and `etd_sampler_set_precondition_f64(s, 0)`.
///
/// @param[out] cfg  Written in full; nothing happens if it is NULL.
#[no_mangle]
pub unsafe extern "C" fn etd_config_default(
    cfg: *mut etd_config,
    n_particles: u32,
    proposals_per_particle: u32,
    dim: u32,
) {
    let config =
        etd_config::with_shape(n_particles, proposals_per_particle, dim, &Config::default());
    // SAFETY: `cfg` is NULL or writable, by the caller's contract.
    unsafe { crate::guard::write_out(cfg, config) };
}

/// Fills `*cfg` for `etd_sampler_transport_*` in a particle filter: the defaults of
/// `etd_config_default` with `epsilon` 0.2, `tolerance` 0.01 and `max_iterations` 50, so that
/// every plan is converged in one call (its column marginal is the filter's posterior). The
/// fields `alpha`, `sigma`, `score_clip`, `use_score` and `mutation_*` are not used by
/// transport. `proposals_per_particle` sizes the proposal pool: a transport call accepts up to
/// `n_particles * proposals_per_particle` proposals.
///
/// @param[out] cfg  Written in full; nothing happens if it is NULL.
#[no_mangle]
pub unsafe extern "C" fn etd_config_filter(
    cfg: *mut etd_config,
    n_particles: u32,
    proposals_per_particle: u32,
    dim: u32,
) {
    let config =
        etd_config::with_shape(n_particles, proposals_per_particle, dim, &Config::filter());
    // SAFETY: `cfg` is NULL or writable, by the caller's contract.
    unsafe { crate::guard::write_out(cfg, config) };
}
