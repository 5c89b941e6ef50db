//! Problem shape and algorithm parameters, with the defaults of `docs/algorithm.md`.

use crate::{Error, Real, SinkhornParams, Solver};

/// How many particles, proposals and dimensions a workspace is sized for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Shape {
    /// `N`: particles in the ensemble.
    pub n_particles: usize,
    /// `M`: proposals drawn around each particle.
    pub proposals_per_particle: usize,
    /// `d`: dimension of the target.
    pub dim: usize,
}

impl Shape {
    /// The shape `(N, M, d)`.
    pub const fn new(n_particles: usize, proposals_per_particle: usize, dim: usize) -> Self {
        Shape {
            n_particles,
            proposals_per_particle,
            dim,
        }
    }

    /// Pool size `P = N * M` (saturating, so an absurd shape fails validation, not arithmetic).
    pub const fn pool(&self) -> usize {
        self.n_particles.saturating_mul(self.proposals_per_particle)
    }

    /// `Err(ZeroSize)` when any size is zero.
    pub fn validate(&self) -> Result<(), Error> {
        if self.n_particles == 0 || self.proposals_per_particle == 0 || self.dim == 0 {
            return Err(Error::ZeroSize);
        }
        Ok(())
    }
}

/// The entropic coupling between particles (marginal `a = 1/N`) and proposals (marginal `b`).
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Coupling<T> {
    /// Both marginals exact (the default).
    Balanced,
    /// Source exact, target softened by `rho * eps * KL(P^T 1 | b)`; `rho > 0`.
    Unbalanced {
        /// Strength of the soft target marginal (default 1).
        rho: T,
    },
    /// Semi-relaxed closed form: rows normalised, no iterations.
    Gibbs,
}

/// How the plan moves a particle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Update {
    /// Move to one proposal drawn from the particle's plan row (the default).
    Categorical,
    /// Move to the plan-weighted mean of the proposals (smooth, averages across modes).
    Barycentric,
    /// Move to one proposal drawn from the particle's plan row, the draws of all particles made
    /// jointly by dependent rounding of the plan: each particle's draw has the law of
    /// `Categorical`'s, and proposal `j` receives `floor` or `ceil` of `N` times its column
    /// mass in particles, as with systematic resampling, where independent draws vary that
    /// count (`docs/algorithm.md`, "Update"). Costs more than `Categorical`.
    Rounded,
}

/// How many Metropolis-Hastings steps the mutation runs per particle and iteration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Steps {
    /// Chosen from the dimension `d` (the default): none for `d <= 2`, where the transport
    /// alone spreads the ensemble more evenly than independent draws and MH steps only add
    /// noise; 10 from `d = 3` on, where the transport step contracts the ensemble and the
    /// steps restore its spread (see `docs/algorithm.md`, "Defaults").
    Auto,
    /// Exactly this many; 0 turns mutation off.
    Fixed(u32),
}

impl Steps {
    /// The steps of [`Steps::Auto`] from `d = 3` on.
    pub const AUTO: u32 = 10;

    /// The number of steps in dimension `dim`.
    pub const fn count(self, dim: usize) -> u32 {
        match self {
            Steps::Auto if dim <= 2 => 0,
            Steps::Auto => Self::AUTO,
            Steps::Fixed(k) => k,
        }
    }
}

/// The Metropolis-Hastings mutation after the update (ETD-SMC).
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Mutation<T> {
    /// MH steps per particle and iteration (`K`; default [`Steps::Auto`]).
    pub steps: Steps,
    /// Step size `h` (default 0.3): MALA proposes `x + h s(x) + sqrt(2h) xi`, random-walk MH
    /// `x + sqrt(2h) xi`, in whitened coordinates when preconditioning (where the target has
    /// roughly unit scale and MALA's best step, about `1.4 d^(-1/3)`, is above 0.3 up to
    /// `d = 90`).
    pub step_size: T,
}

/// Preconditioning by the ensemble's own covariance (a project extension; see
/// `docs/algorithm.md`, stage 0).
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Precondition<T> {
    /// Isotropic proposals and the Euclidean cost.
    Off,
    /// Every stage runs in coordinates whitened by `Sigma`, the ensemble covariance averaged
    /// over steps with weight `rate` in (0, 1] per step (1: this step's covariance only; 0.1
    /// averages over about ten steps; the default). `alpha`, `sigma` and the mutation's
    /// `step_size` are then in whitened units, where the target has roughly unit scale.
    Ensemble {
        /// Weight of the current ensemble in the running covariance.
        rate: T,
    },
}

/// Algorithm parameters of one ETD iteration. `Config::default()` gives the defaults of
/// `docs/algorithm.md`: the transport step, preconditioned by the ensemble covariance, with
/// MALA mutation from `d = 3` on; [`Config::plain`] is the transport step alone.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Config<T> {
    /// Entropic regulariser, relative to the median pairwise cost (default 0.1).
    pub epsilon: T,
    /// Sinkhorn stops when its last column half-step moved at most this much mass (L1; default
    /// 0.05: see `docs/performance.md` for how it was chosen).
    pub tolerance: T,
    /// Sinkhorn iteration cap (default 8).
    pub max_iterations: u32,
    /// The Sinkhorn iteration (default the stabilised scaling domain).
    pub solver: Solver,
    /// Score step `alpha` of the proposal mean `x + alpha * clip(s, c)` (default 0.05).
    pub alpha: T,
    /// Proposal standard deviation; `None` means `sqrt(2 alpha)` (fluctuation-dissipation).
    pub sigma: Option<T>,
    /// Score clip `c`: scores longer than `c` are scaled down to length `c` (default 5).
    pub score_clip: T,
    /// Guide proposals with the score (default `true`); `false` needs only `log pi`.
    pub use_score: bool,
    /// The coupling (default balanced).
    pub coupling: Coupling<T>,
    /// The update rule (default categorical).
    pub update: Update,
    /// Damping `eta` in (0, 1]: `x <- (1 - eta) x + eta x_new` (default 1).
    pub damping: T,
    /// MH mutation (default: 10 steps of `h = 0.3` from `d = 3` on, none below).
    pub mutation: Mutation<T>,
    /// Start Sinkhorn from the previous iteration's potentials (default `true`).
    pub warm_start: bool,
    /// Cap each importance weight at `sqrt(P)` times the mean weight (truncated importance
    /// sampling; default `true`, a project choice: see the README's measurements).
    pub truncate_weights: bool,
    /// Whitening by the ensemble covariance (default on, `rate` 0.1).
    pub precondition: Precondition<T>,
}

impl<T: Real> Default for Config<T> {
    fn default() -> Self {
        Config {
            epsilon: T::from_f64(0.1),
            tolerance: T::from_f64(5e-2),
            max_iterations: 8,
            solver: Solver::Scaling,
            alpha: T::from_f64(0.05),
            sigma: None,
            score_clip: T::from_f64(5.0),
            use_score: true,
            coupling: Coupling::Balanced,
            update: Update::Categorical,
            damping: T::ONE,
            mutation: Mutation {
                steps: Steps::Auto,
                step_size: T::from_f64(0.3),
            },
            warm_start: true,
            truncate_weights: true,
            precondition: Precondition::Ensemble {
                rate: T::from_f64(0.1),
            },
        }
    }
}

impl<T: Real> Config<T> {
    /// The transport step alone, as the method was published: the defaults without
    /// preconditioning and without mutation (mutation step size 0.01 for anyone who turns it
    /// back on in unwhitened coordinates). Best in one and two dimensions, where it equals the
    /// default; it loses spread as the dimension grows (`docs/results.md`).
    pub fn plain() -> Self {
        Config {
            mutation: Mutation {
                steps: Steps::Fixed(0),
                step_size: T::from_f64(0.01),
            },
            precondition: Precondition::Off,
            ..Config::default()
        }
    }

    /// The configuration for [`Workspace::transport`](crate::Workspace::transport) in a particle
    /// filter: the defaults with `epsilon` 0.2, `tolerance` 0.01 and `max_iterations` 50. A
    /// filter needs each plan converged in one call (its column marginal is the posterior),
    /// where the sampler corrects a rough plan over later iterations; see `docs/filter.md` for
    /// the measurements behind these values, and for [`Update::Rounded`], better calibrated
    /// at several times the cost.
    pub fn filter() -> Self {
        // Preconditioning and mutation do not apply to transport.
        Config {
            epsilon: T::from_f64(0.2),
            tolerance: T::from_f64(1e-2),
            max_iterations: 50,
            ..Config::default()
        }
    }
}

/// `true` when `x` is finite and > 0.
pub(crate) fn is_positive<T: Real>(x: T) -> bool {
    x.is_finite() && x > T::ZERO
}

impl<T: Real> Config<T> {
    /// The proposal standard deviation in use: `sigma`, or `sqrt(2 alpha)` when `None`.
    pub fn proposal_sigma(&self) -> T {
        self.sigma
            .unwrap_or_else(|| (T::from_f64(2.0) * self.alpha).sqrt())
    }

    /// The Sinkhorn parameters of the coupling stage (epsilon relative to the median cost).
    pub fn sinkhorn_params(&self) -> SinkhornParams<T> {
        SinkhornParams {
            epsilon: self.epsilon,
            coupling: self.coupling,
            max_iterations: self.max_iterations,
            tolerance: self.tolerance,
            solver: self.solver,
        }
    }

    /// Checks every parameter; the error names the first one out of range.
    pub fn validate(&self) -> Result<(), Error> {
        self.sinkhorn_params().validate()?;
        if !(self.alpha.is_finite() && self.alpha >= T::ZERO) {
            return Err(Error::InvalidAlpha);
        }
        if !is_positive(self.proposal_sigma()) {
            return Err(Error::InvalidSigma);
        }
        if !is_positive(self.score_clip) {
            return Err(Error::InvalidScoreClip);
        }
        if !(self.damping > T::ZERO && self.damping <= T::ONE) {
            return Err(Error::InvalidDamping);
        }
        if self.mutation.steps != Steps::Fixed(0) && !is_positive(self.mutation.step_size) {
            return Err(Error::InvalidMutationStepSize);
        }
        if let Precondition::Ensemble { rate } = self.precondition {
            if !(rate > T::ZERO && rate <= T::ONE) {
                return Err(Error::InvalidPreconditionRate);
            }
        }
        Ok(())
    }
}
