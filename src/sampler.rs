//! The sampler: one ETD iteration chaining the stages over a workspace, behind two front doors.
//!
//! - [`Workspace`]: a view over caller memory (one `&mut [T]` of [`workspace_len`] values), the
//!   door the C ABI uses.
//! - [`Etd`]: a const-generic owner whose buffers live inline, usable as a `static` on a
//!   microcontroller; it lends its arrays to the same [`Workspace`] each step.

use crate::blocks::BLOCKS;
use crate::cost::cost_scale;
use crate::error::check_len;
use crate::filter::check_proposals;
use crate::layout::{self, count_of, Extent, Preconditioner, Stages};
use crate::mutate::{mutate, MutationBuffers};
use crate::propose::propose;
use crate::real::is_nan_or_pos_inf;
use crate::sinkhorn::{couple, Kernel, Points, SinkhornStats};
use crate::target::{eval_log_density, eval_score, Erased};
use crate::update::{update, Scratch};
use crate::vector::{all_finite, copy, split_mut};
use crate::weights::{log_weights, normalise_log_weights};
use crate::{Config, Error, Precondition, Real, Shape, Target};
use rand_core::Rng;

/// What one ETD iteration did (see `docs/algorithm.md`, "Diagnostics").
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

/// Values of caller memory a [`Workspace`] of this shape needs, `None` if a size is zero or it
/// overflows. It is the sum, over the buffers of the workspace's layout table, of their
/// lengths: with `P = N M`, `N P + P (d + 3 + B) + N (4 d + 3) + 2 d^2 + 3 d + 1`, so the
/// `N x P` kernel dominates; `B` = 1, or 8 with the `parallel` feature (one partial column sum
/// per block of rows). The figures below are without `parallel`.
///
/// ```
/// use entropic_transport::{workspace_len, Shape};
/// // The microcontroller example: N = 32, M = 4, d = 2 in f32 is 20 924 bytes.
/// assert_eq!(workspace_len(&Shape::new(32, 4, 2)), Some(5231));
/// // The authors' default size: N = 100, M = 25, d = 2.
/// assert_eq!(workspace_len(&Shape::new(100, 25, 2)), Some(266_115));
/// assert_eq!(workspace_len(&Shape::new(0, 4, 2)), None);
/// ```
pub fn workspace_len(shape: &Shape) -> Option<usize> {
    layout::total_len(shape)
}

/// The buffers of one ETD iteration over caller memory, plus the state that persists from one
/// step to the next (warm-start potentials, the preconditioner's running covariance). Keep it
/// alive across steps.
pub struct Workspace<'a, T> {
    shape: Shape,
    /// The buffers of stages 1-7.
    stages: Stages<'a, T>,
    /// Stage 0: the running covariance, its factor and mean, and the whitened particles.
    preconditioner: Preconditioner<'a, T>,
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
        let mut workspace = Self::from_groups(shape, layout::groups(&shape, memory));
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
        workspace.preconditioner.sanitise();
        Ok(workspace)
    }

    /// The workspace over memory already cut into the layout's extent groups.
    fn from_groups(shape: Shape, groups: layout::Groups<'a, T>) -> Self {
        let (stages, preconditioner) = layout::carve(&shape, groups);
        stages.log_a.fill(-T::from_usize(shape.n_particles).ln());
        Workspace {
            shape,
            stages,
            preconditioner,
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
        self.check_particles(particles)?;
        let d = self.shape.dim;
        let mut target = Erased(target);
        let Precondition::Ensemble { rate } = config.precondition else {
            let stats = self
                .stages
                .iterate(config, particles, d, &mut target, rng)?;
            copy(particles, self.stages.next);
            return Ok(stats);
        };
        // 0. Precondition: the same stages on the whitened ensemble and target.
        self.preconditioner.update(particles, d, rate)?;
        let (whitened, mut whitened_target) = self.preconditioner.whiten(particles, d, &mut target);
        let stats = self
            .stages
            .iterate(config, whitened, d, &mut whitened_target, rng)?;
        self.preconditioner.unwhiten(self.stages.next, particles);
        Ok(stats)
    }

    /// Stages 3-6 with caller-made proposals: moves `particles` (N, d) along the entropic
    /// transport plan to the `count = log_weights.len()` points `proposals` (count, d) weighted
    /// by `exp(log_weights)` (unnormalised; `-inf` is a weight of 0). This is the resampling
    /// step of a particle filter: proposals from the motion model (or the predicted particles
    /// themselves) and log-weights from the measurement likelihood.
    ///
    /// `count` may be anything from 1 to the workspace's pool `N * M`; the first `N * count`
    /// values of the kernel buffer are used. The configuration's `epsilon`, `coupling`,
    /// `solver`, `max_iterations` (the bound on work: at most that many Sinkhorn sweeps),
    /// `tolerance`, `warm_start`, `update` and `damping` apply; the weights are used as given
    /// (no truncation: any correction is the caller's), and preconditioning and mutation do not
    /// apply (the cost is Euclidean, and there is no target). [`Config::filter`] is tuned for
    /// this call.
    /// The statistics' `weight_ess` is that of the normalised weights, `acceptance_rate` is 0.
    ///
    /// On any error `particles` are left exactly as they were. Errors: those of the
    /// configuration, `ParticlesLength`, `NonFiniteParticles`, `ProposalCount` (`count` is 0
    /// or above `N * M`), `BufferLength` (`proposals` does not hold `count * d` values),
    /// `NonFiniteInput` (a proposal coordinate is not finite, or a log-weight NaN or `+inf`),
    /// `AllWeightsZero`, `NonFiniteCost`.
    pub fn transport<R: Rng + ?Sized>(
        &mut self,
        config: &Config<T>,
        particles: &mut [T],
        proposals: &[T],
        log_weights: &[T],
        rng: &mut R,
    ) -> Result<StepStats<T>, Error> {
        config.validate()?;
        self.check_particles(particles)?;
        let (d, count, pool) = (self.shape.dim, log_weights.len(), self.shape.pool());
        if count == 0 || count > pool {
            return Err(Error::ProposalCount {
                max: pool,
                found: count,
            });
        }
        check_proposals(proposals, log_weights, d)?;
        let log_b = split_mut(self.stages.log_b, count).0;
        copy(log_b, log_weights);
        let weight_ess = normalise_log_weights(log_b, false)?;
        copy(self.stages.proposals, proposals);
        if !config.warm_start {
            self.stages.reset_potentials();
        }
        let stats = self.stages.transport(config, particles, d, count, rng)?;
        copy(particles, self.stages.next);
        Ok(StepStats {
            weight_ess,
            ..stats
        })
    }

    /// `Err` unless `particles` holds `N * d` finite values.
    fn check_particles(&self, particles: &[T]) -> Result<(), Error> {
        let expected = self.shape.n_particles * self.shape.dim;
        if particles.len() != expected {
            return Err(Error::ParticlesLength {
                expected,
                found: particles.len(),
            });
        }
        if !all_finite(particles) {
            return Err(Error::NonFiniteParticles);
        }
        Ok(())
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
    fn iterate<R: Rng + ?Sized>(
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
            self.kernel,
            self.col_sums,
        )?;
        if !config.warm_start {
            self.reset_potentials();
        }
        let stats = self.transport(config, particles, d, self.log_pi.len(), rng)?;
        // 7. Mutate.
        let steps = config.mutation.steps.count(d);
        let acceptance_rate = if steps > 0 {
            // The pool and the weights are spent once the particles have moved.
            let n = particles.len() / d.max(1);
            let buffers = MutationBuffers {
                proposal: self.means,
                score: split_mut(self.proposals, n * d).0,
                score_proposal: self.scores,
                log_pi: self.alpha,
                log_pi_proposal: split_mut(self.log_b, n).0,
            };
            let h = config.mutation.step_size;
            mutate(self.next, d, steps, h, target, buffers, rng)?
        } else {
            T::ZERO
        };
        Ok(StepStats {
            weight_ess,
            acceptance_rate,
            ..stats
        })
    }

    /// Stages 3-6 from `particles` (N, d) to the first `count` proposals of `proposals`,
    /// weighted by the normalised log-weights in the first `count` values of `log_b`: the new
    /// positions are left in `next`. Returns the statistics with `weight_ess` and
    /// `acceptance_rate` 0 (the caller's to fill).
    fn transport<R: Rng + ?Sized>(
        &mut self,
        config: &Config<T>,
        particles: &[T],
        d: usize,
        count: usize,
        rng: &mut R,
    ) -> Result<StepStats<T>, Error> {
        let n = particles.len() / d.max(1);
        let proposals = self.proposals.get(..count * d).unwrap_or_default();
        let log_b = split_mut(self.log_b, count).0;
        let matrix = split_mut(self.kernel, n * count).0;
        let beta = split_mut(self.log_pi, count).0;
        // 3-4. Cost scale: the median cost (the costs themselves are formed where needed).
        let cost_scale = cost_scale(particles, proposals, d, matrix)?;
        // 5. Couple.
        let points = Points {
            particles,
            proposals,
            dim: d,
            inv_scale: T::ONE / cost_scale,
        };
        let kernel = Kernel {
            matrix,
            alpha: self.alpha,
            beta,
            col: split_mut(self.col_sums, BLOCKS * count).0,
        };
        let sinkhorn = couple(
            &points,
            T::ONE / config.epsilon,
            self.log_a,
            log_b,
            &config.sinkhorn_params(),
            self.u,
            split_mut(self.v, count).0,
            kernel,
        );
        // 6. Update.
        let coupling_ess = self.move_particles(config, particles, d, count, rng);
        Ok(StepStats {
            sinkhorn,
            cost_scale,
            weight_ess: T::ZERO,
            coupling_ess,
            acceptance_rate: T::ZERO,
        })
    }

    /// Stage 6 from `particles` (N, d) along the plan to the first `count` proposals: the new
    /// positions are left in `next`; returns the coupling ESS. Not inlined, so that the rounded
    /// rule's scratch stays out of the frame of stages 3-5.
    #[inline(never)]
    fn move_particles<R: Rng + ?Sized>(
        &mut self,
        config: &Config<T>,
        particles: &[T],
        d: usize,
        count: usize,
        rng: &mut R,
    ) -> T {
        let n = particles.len() / d.max(1);
        // Buffers whose contents are spent by now (the mutation rewrites its own before it
        // reads them).
        let scratch = Scratch {
            rows: [&mut *self.alpha, &mut *self.means],
            cols: [&mut *self.col_sums, &mut *self.log_b],
        };
        update(
            split_mut(self.kernel, n * count).0,
            split_mut(self.log_pi, count).0,
            self.proposals.get_mut(..count * d).unwrap_or_default(),
            particles,
            d,
            config.update,
            config.damping,
            self.next,
            scratch,
            rng,
        )
    }
}

/// A sampler whose whole workspace lives inline: `N` particles, a pool of `P = N*M` proposals,
/// dimension `D`. `P % N != 0` (or any zero size) is rejected at compile time.
///
/// `Etd::new()` is a `const fn`, so the sampler can be a `static` on a microcontroller; its size
/// is `size_of::<T>()` times [`workspace_len`] of its shape (the same layout table sizes both).
pub struct Etd<T, const N: usize, const P: usize, const D: usize> {
    matrices: [[[T; P]; N]; count_of(Extent::Matrix)],
    pools: [[[T; D]; P]; count_of(Extent::Pool)],
    proposals: [[T; P]; count_of(Extent::Proposals)],
    partials: [[[T; P]; BLOCKS]; count_of(Extent::Partials)],
    points: [[[T; D]; N]; count_of(Extent::Points)],
    particles: [[T; N]; count_of(Extent::Particles)],
    squares: [[[T; D]; D]; count_of(Extent::Square)],
    vectors: [[T; D]; count_of(Extent::Vector)],
    ones: [T; count_of(Extent::One)],
}

impl<T: Real, const N: usize, const P: usize, const D: usize> Etd<T, N, P, D> {
    /// A zeroed sampler (Sinkhorn starts cold).
    pub const fn new() -> Self {
        const {
            assert!(N > 0 && D > 0 && P >= N, "N, D must be >= 1 and P >= N");
            assert!(P % N == 0, "the pool size P must be a multiple of N");
        }
        Etd {
            matrices: [[[T::ZERO; P]; N]; count_of(Extent::Matrix)],
            pools: [[[T::ZERO; D]; P]; count_of(Extent::Pool)],
            proposals: [[T::ZERO; P]; count_of(Extent::Proposals)],
            partials: [[[T::ZERO; P]; BLOCKS]; count_of(Extent::Partials)],
            points: [[[T::ZERO; D]; N]; count_of(Extent::Points)],
            particles: [[T::ZERO; N]; count_of(Extent::Particles)],
            squares: [[[T::ZERO; D]; D]; count_of(Extent::Square)],
            vectors: [[T::ZERO; D]; count_of(Extent::Vector)],
            ones: [T::ZERO; count_of(Extent::One)],
        }
    }

    /// The shape `(N, P / N, D)`.
    pub const fn shape() -> Shape {
        Shape::new(N, P / N, D)
    }

    /// The shared slice workspace over this sampler's arrays (potentials persist inside).
    pub fn workspace(&mut self) -> Workspace<'_, T> {
        Workspace::from_groups(
            Self::shape(),
            [
                self.matrices.as_flattened_mut().as_flattened_mut(),
                self.pools.as_flattened_mut().as_flattened_mut(),
                self.proposals.as_flattened_mut(),
                self.partials.as_flattened_mut().as_flattened_mut(),
                self.points.as_flattened_mut().as_flattened_mut(),
                self.particles.as_flattened_mut(),
                self.squares.as_flattened_mut().as_flattened_mut(),
                self.vectors.as_flattened_mut(),
                &mut self.ones,
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

    /// Moves `particles` along the transport plan to caller-made `proposals` (at most `P`)
    /// weighted by `exp(log_weights)`; see [`Workspace::transport`].
    pub fn transport<R: Rng + ?Sized>(
        &mut self,
        config: &Config<T>,
        particles: &mut [[T; D]; N],
        proposals: &[[T; D]],
        log_weights: &[T],
        rng: &mut R,
    ) -> Result<StepStats<T>, Error> {
        self.workspace().transport(
            config,
            particles.as_flattened_mut(),
            proposals.as_flattened(),
            log_weights,
            rng,
        )
    }
}

impl<T: Real, const N: usize, const P: usize, const D: usize> Default for Etd<T, N, P, D> {
    fn default() -> Self {
        Self::new()
    }
}
