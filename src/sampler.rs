//! The sampler: one ETD iteration chaining the stages over a workspace, behind two front doors.
//!
//! - [`Workspace`]: a view over caller memory (one `&mut [T]` of [`workspace_len`] values), the
//!   door the C ABI uses.
//! - [`Etd`]: a const-generic owner whose buffers live inline, usable as a `static` on a
//!   microcontroller; it lends its arrays to the same [`Workspace`] each step.

use crate::cost::normalised_cost;
use crate::error::check_len;
use crate::mutate::{mutate, MutationBuffers};
use crate::precondition::{preconditioner_len, Preconditioner};
use crate::propose::propose;
use crate::real::is_nan_or_pos_inf;
use crate::sinkhorn::{solve, SinkhornStats};
use crate::target::{eval_log_density, eval_score, Erased};
use crate::update::update;
use crate::weights::log_weights;
use crate::{Config, Error, Precondition, Real, Shape, Target};
use rand_core::Rng;

/// Per-particle rows in the workspace: means, scores, next positions, the mutation's proposals
/// and proposal scores, and the whitened particles.
const PARTICLE_ROWS: usize = 6;
/// Per-particle scalars: `log a`, `u`, Sinkhorn row scratch, and the mutation's two `log pi`.
const PARTICLE_SCALARS: usize = 5;
/// Per-proposal scalars: `v`, `log pi`, `log b`, Sinkhorn column scratch.
const POOL_SCALARS: usize = 4;
/// Vectors of length d in the preconditioner: mean, one point, one score, and a row whose first
/// value is the running covariance's weight.
const PRECONDITIONER_VECTORS: usize = 4;

/// What one ETD iteration did (see ALGORITHM.md, "Per-iteration diagnostics").
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct StepStats<T> {
    /// Iterations, convergence and final marginal error of the coupling.
    pub sinkhorn: SinkhornStats<T>,
    /// Median pairwise cost the cost was divided by (squared distance units / 2, whitened
    /// when preconditioning).
    pub cost_scale: T,
    /// Weight ESS `1 / sum_j b_j^2`, in [1, P].
    pub weight_ess: T,
    /// Mean coupling ESS per row `1 / sum_j p_i(j)^2`, in [1, P].
    pub coupling_ess: T,
    /// Fraction of accepted mutation proposals; 0 when mutation is off.
    pub acceptance_rate: T,
}

/// Values of caller memory a [`Workspace`] of this shape needs:
/// `N*P + P*(d + 4) + N*(6d + 5) + 2d(d + 2)` with `P = N*M`; `None` if a size is zero or
/// it overflows.
pub fn workspace_len(shape: &Shape) -> Option<usize> {
    shape.validate().ok()?;
    let (n, d) = (shape.n_particles, shape.dim);
    let p = n.checked_mul(shape.proposals_per_particle)?;
    let cost = n.checked_mul(p)?;
    let pool = p.checked_mul(d.checked_add(POOL_SCALARS)?)?;
    let particles = n.checked_mul(
        PARTICLE_ROWS
            .checked_mul(d)?
            .checked_add(PARTICLE_SCALARS)?,
    )?;
    cost.checked_add(pool)?
        .checked_add(particles)?
        .checked_add(preconditioner_len(d)?)
}

/// The buffers of one ETD iteration over caller memory, plus the state that persists from one
/// step to the next (warm-start potentials, the preconditioner's running covariance). Keep it
/// alive across steps.
pub struct Workspace<'a, T> {
    shape: Shape,
    /// The stages' buffers.
    stages: Stages<'a, T>,
    /// The particles in whitened coordinates (N, d), when preconditioning.
    whitened: &'a mut [T],
    /// The running covariance, its factor and mean.
    preconditioner: Preconditioner<'a, T>,
}

/// The buffers of stages 1-7, all in the coordinates the step runs in.
struct Stages<'a, T> {
    /// `log a_i = -ln N` (N).
    log_a: &'a mut [T],
    /// Scaled row potential `u = f / eps` (N), the warm start.
    u: &'a mut [T],
    /// Scaled column potential `v = g / eps` (P), the warm start.
    v: &'a mut [T],
    /// Sinkhorn row scratch (N).
    row_scratch: &'a mut [T],
    /// Sinkhorn column scratch (P).
    col_scratch: &'a mut [T],
    /// Proposal means (N, d).
    means: &'a mut [T],
    /// Scores at the particles (N, d); the mutation reuses it for the proposals' scores.
    scores: &'a mut [T],
    /// Positions after update and mutation, copied out on success (N, d).
    next: &'a mut [T],
    /// Proposal pool (P, d).
    proposals: &'a mut [T],
    /// `log pi` of the proposals (P).
    log_pi: &'a mut [T],
    /// Normalised log-weights (P).
    log_b: &'a mut [T],
    /// Normalised cost, then plan rows (N, P).
    cost: &'a mut [T],
    /// Mutation proposals (N, d).
    mutation_proposal: &'a mut [T],
    /// Scores at the current points during mutation (N, d).
    mutation_score: &'a mut [T],
    /// `log pi` at the current points during mutation (N).
    mutation_log_pi: &'a mut [T],
    /// `log pi` at the mutation proposals (N).
    mutation_log_pi_proposal: &'a mut [T],
}

impl<'a, T: Real> Workspace<'a, T> {
    /// A workspace over `memory`, which must hold exactly [`workspace_len`] values.
    /// The memory is zeroed, so the first step starts Sinkhorn cold.
    pub fn new(shape: Shape, memory: &'a mut [T]) -> Result<Self, Error> {
        let len = workspace_len(&shape).ok_or(Error::ZeroSize)?;
        check_len(memory.len(), len)?;
        memory.fill(T::ZERO);
        Self::from_memory(shape, memory)
    }

    /// Re-attaches to `memory` of [`workspace_len`] values without zeroing it, keeping the
    /// warm-start potentials and the running covariance of an earlier workspace over the same
    /// memory and shape (the C ABI does this at every step). Any other contents are safe: NaN or
    /// `+inf` potentials are reset to 0, an invalid running covariance is forgotten, and every
    /// other buffer is written before it is read.
    pub fn from_memory(shape: Shape, memory: &'a mut [T]) -> Result<Self, Error> {
        let len = workspace_len(&shape).ok_or(Error::ZeroSize)?;
        check_len(memory.len(), len)?;
        let (n, p, d) = (shape.n_particles, shape.pool(), shape.dim);
        let (cost, rest) = memory.split_at_mut(n * p);
        let (proposals, rest) = rest.split_at_mut(p * d);
        let (pool_scalars, rest) = rest.split_at_mut(p * POOL_SCALARS);
        let (particle_rows, rest) = rest.split_at_mut(n * d * PARTICLE_ROWS);
        let (particle_scalars, rest) = rest.split_at_mut(n * PARTICLE_SCALARS);
        let (matrices, vectors) = rest.split_at_mut(2 * d * d);
        let workspace = Self::from_parts(
            shape,
            [
                cost,
                proposals,
                pool_scalars,
                particle_rows,
                particle_scalars,
            ],
            [matrices, vectors],
        );
        for x in workspace
            .stages
            .u
            .iter_mut()
            .chain(workspace.stages.v.iter_mut())
        {
            if is_nan_or_pos_inf(*x) {
                *x = T::ZERO;
            }
        }
        Ok(workspace)
    }

    /// Splits the groups of buffers: the stages' `[cost, proposals, pool scalars, particle
    /// rows, particle scalars]` and the preconditioner's `[matrices, vectors]`; lengths are
    /// correct by construction at both callers.
    fn from_parts(
        shape: Shape,
        [cost, proposals, pool_scalars, particle_rows, particle_scalars]: [&'a mut [T]; 5],
        [matrices, vectors]: [&'a mut [T]; 2],
    ) -> Self {
        let (n, p, d) = (shape.n_particles, shape.pool(), shape.dim);
        let mut pool = pool_scalars.chunks_exact_mut(p);
        let mut rows = particle_rows.chunks_exact_mut(n * d);
        let mut scalars = particle_scalars.chunks_exact_mut(n);
        let log_a = take(&mut scalars);
        log_a.fill(-T::from_usize(n).ln());
        let stages = Stages {
            log_a,
            u: take(&mut scalars),
            row_scratch: take(&mut scalars),
            mutation_log_pi: take(&mut scalars),
            mutation_log_pi_proposal: take(&mut scalars),
            v: take(&mut pool),
            log_pi: take(&mut pool),
            log_b: take(&mut pool),
            col_scratch: take(&mut pool),
            means: take(&mut rows),
            scores: take(&mut rows),
            next: take(&mut rows),
            mutation_proposal: take(&mut rows),
            mutation_score: take(&mut rows),
            proposals,
            cost,
        };
        Workspace {
            shape,
            stages,
            whitened: take(&mut rows),
            preconditioner: Preconditioner::new(d, matrices, vectors),
        }
    }

    /// The shape this workspace was sized for.
    pub fn shape(&self) -> Shape {
        self.shape
    }

    /// Forgets the warm-start potentials, so the next Sinkhorn solve starts cold.
    pub fn reset_potentials(&mut self) {
        self.stages.reset_potentials();
    }

    /// Forgets the preconditioner's running covariance, so the next preconditioned step starts
    /// from that ensemble's own covariance.
    pub fn reset_preconditioner(&mut self) {
        self.preconditioner.reset();
    }

    /// One ETD iteration: (precondition,) propose, weigh, cost, normalise, couple, update,
    /// mutate.
    ///
    /// `particles` (N, d) row-major are moved in place on success; on any error they are left
    /// exactly as they were (the generator, the warm-start potentials and the running
    /// covariance may have advanced).
    pub fn step<G: Target<T> + ?Sized, R: Rng + ?Sized>(
        &mut self,
        config: &Config<T>,
        particles: &mut [T],
        target: &mut G,
        rng: &mut R,
    ) -> Result<StepStats<T>, Error> {
        config.validate()?;
        let d = self.shape.dim;
        let expected = self.shape.n_particles * d;
        if particles.len() != expected {
            return Err(Error::ParticlesLength {
                expected,
                found: particles.len(),
            });
        }
        if !particles.iter().all(|x| x.is_finite()) {
            return Err(Error::NonFiniteParticles);
        }
        let mut target = Erased(target);
        let Precondition::Ensemble { rate } = config.precondition else {
            let stats = self
                .stages
                .transport(config, particles, d, &mut target, rng)?;
            particles.copy_from_slice(self.stages.next);
            return Ok(stats);
        };
        // 0. Precondition: the same stages on the whitened ensemble and target.
        self.preconditioner.update(particles, d, rate)?;
        self.preconditioner.whiten(particles, d, self.whitened);
        let mut whitened_target = self.preconditioner.target(&mut target);
        let stats = self
            .stages
            .transport(config, self.whitened, d, &mut whitened_target, rng)?;
        self.preconditioner.unwhiten(self.stages.next, particles);
        Ok(stats)
    }
}

impl<T: Real> Stages<'_, T> {
    /// Forgets the warm-start potentials.
    fn reset_potentials(&mut self) {
        self.u.fill(T::ZERO);
        self.v.fill(T::ZERO);
    }

    /// Stages 1-7 from `particles` (N, d), which are only read: the new positions are left in
    /// `next`.
    fn transport<R: Rng + ?Sized>(
        &mut self,
        config: &Config<T>,
        particles: &[T],
        d: usize,
        target: &mut dyn Target<T>,
        rng: &mut R,
    ) -> Result<StepStats<T>, Error> {
        let sigma = config.proposal_sigma();

        // 1. Propose.
        let scores = if config.use_score {
            eval_score(target, particles, d, self.scores)?;
            Some(&*self.scores)
        } else {
            None
        };
        propose(
            particles,
            scores,
            d,
            config.alpha,
            config.score_clip,
            sigma,
            self.means,
            self.proposals,
            rng,
        );
        // 2. Weigh.
        eval_log_density(target, self.proposals, d, self.log_pi)?;
        let weight_ess = log_weights(
            self.means,
            self.proposals,
            self.log_pi,
            d,
            sigma,
            config.truncate_weights,
            self.log_b,
            self.row_scratch,
        )?;
        // 3-4. Cost, normalised by its median.
        let cost_scale = normalised_cost(particles, self.proposals, d, self.cost)?;
        // 5. Couple.
        if !config.warm_start {
            self.reset_potentials();
        }
        let params = config.sinkhorn_params();
        let inv_eps = T::ONE / config.epsilon;
        let sinkhorn = solve(
            self.cost,
            inv_eps,
            self.log_a,
            self.log_b,
            &params,
            self.u,
            self.v,
            self.row_scratch,
            self.col_scratch,
        );
        // 6. Update.
        let coupling_ess = update(
            self.cost,
            inv_eps,
            self.v,
            self.proposals,
            particles,
            d,
            config.update,
            config.damping,
            self.next,
            rng,
        );
        // 7. Mutate.
        let acceptance_rate = if config.mutation.steps > 0 {
            let buffers = MutationBuffers {
                proposal: self.mutation_proposal,
                score: self.mutation_score,
                score_proposal: self.scores,
                log_pi: self.mutation_log_pi,
                log_pi_proposal: self.mutation_log_pi_proposal,
            };
            mutate(self.next, d, &config.mutation, target, buffers, rng)?
        } else {
            T::ZERO
        };
        Ok(StepStats {
            sinkhorn,
            cost_scale,
            weight_ess,
            coupling_ess,
            acceptance_rate,
        })
    }
}

/// The next buffer of a split; the splits are sized exactly, so the empty fallback is unreachable.
fn take<'a, T>(chunks: &mut core::slice::ChunksExactMut<'a, T>) -> &'a mut [T] {
    chunks.next().unwrap_or_default()
}

/// A sampler whose whole workspace lives inline: `N` particles, a pool of `P = N*M` proposals,
/// dimension `D`. `P % N != 0` (or any zero size) is rejected at compile time.
///
/// `Etd::new()` is a `const fn`, so the sampler can be a `static` on a microcontroller; its size
/// is `size_of::<T>() * (N*P + P*(D + 4) + N*(6D + 5) + 2D(D + 2))` bytes, [`workspace_len`]
/// scalars.
pub struct Etd<T, const N: usize, const P: usize, const D: usize> {
    cost: [[T; P]; N],
    proposals: [[T; D]; P],
    pool_scalars: [[T; P]; POOL_SCALARS],
    particle_rows: [[[T; D]; N]; PARTICLE_ROWS],
    particle_scalars: [[T; N]; PARTICLE_SCALARS],
    preconditioner_matrices: [[[T; D]; D]; 2],
    preconditioner_vectors: [[T; D]; PRECONDITIONER_VECTORS],
}

impl<T: Real, const N: usize, const P: usize, const D: usize> Etd<T, N, P, D> {
    /// A zeroed sampler (Sinkhorn starts cold).
    pub const fn new() -> Self {
        const {
            assert!(N > 0 && D > 0 && P >= N, "N, D must be >= 1 and P >= N");
            assert!(P % N == 0, "the pool size P must be a multiple of N");
        }
        Etd {
            cost: [[T::ZERO; P]; N],
            proposals: [[T::ZERO; D]; P],
            pool_scalars: [[T::ZERO; P]; POOL_SCALARS],
            particle_rows: [[[T::ZERO; D]; N]; PARTICLE_ROWS],
            particle_scalars: [[T::ZERO; N]; PARTICLE_SCALARS],
            preconditioner_matrices: [[[T::ZERO; D]; D]; 2],
            preconditioner_vectors: [[T::ZERO; D]; PRECONDITIONER_VECTORS],
        }
    }

    /// The shape `(N, P / N, D)`.
    pub const fn shape() -> Shape {
        Shape::new(N, P / N, D)
    }

    /// The shared slice workspace over this sampler's arrays (potentials persist inside).
    pub fn workspace(&mut self) -> Workspace<'_, T> {
        Workspace::from_parts(
            Self::shape(),
            [
                self.cost.as_flattened_mut(),
                self.proposals.as_flattened_mut(),
                self.pool_scalars.as_flattened_mut(),
                self.particle_rows.as_flattened_mut().as_flattened_mut(),
                self.particle_scalars.as_flattened_mut(),
            ],
            [
                self.preconditioner_matrices
                    .as_flattened_mut()
                    .as_flattened_mut(),
                self.preconditioner_vectors.as_flattened_mut(),
            ],
        )
    }

    /// One ETD iteration on `particles`; see [`Workspace::step`].
    pub fn step<G: Target<T> + ?Sized, R: Rng + ?Sized>(
        &mut self,
        config: &Config<T>,
        particles: &mut [[T; D]; N],
        target: &mut G,
        rng: &mut R,
    ) -> Result<StepStats<T>, Error> {
        self.workspace()
            .step(config, particles.as_flattened_mut(), target, rng)
    }
}

impl<T: Real, const N: usize, const P: usize, const D: usize> Default for Etd<T, N, P, D> {
    fn default() -> Self {
        Self::new()
    }
}
