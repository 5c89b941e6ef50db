//! The workspace's memory layout: one table of named buffers, each one [`Extent`] of the shape
//! long. [`workspace_len`](crate::workspace_len), the split of caller memory in
//! [`Workspace`](crate::Workspace) and the inline arrays of [`Etd`](crate::Etd) are all derived
//! from the table in [`layout!`], so they cannot disagree.
//!
//! Memory holds one group per extent, in the order of [`Extent::ALL`]; inside a group the
//! buffers follow the table's order.

use crate::blocks::BLOCKS;
use crate::Shape;

/// The unit a buffer's length is measured in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Extent {
    /// `N * P`: one value per particle and proposal.
    Matrix,
    /// `P * d`: one point per proposal.
    Pool,
    /// `P`: one value per proposal.
    Proposals,
    /// `BLOCKS * P`: one value per proposal for every block of rows (`BLOCKS` is 1 without
    /// the `parallel` feature).
    Partials,
    /// `N * d`: one point per particle.
    Points,
    /// `N`: one value per particle.
    Particles,
    /// `d * d`: one matrix.
    Square,
    /// `d`: one vector.
    Vector,
    /// One value.
    One,
}

impl Extent {
    /// Every extent, in memory order.
    pub(crate) const ALL: [Extent; 9] = [
        Extent::Matrix,
        Extent::Pool,
        Extent::Proposals,
        Extent::Partials,
        Extent::Points,
        Extent::Particles,
        Extent::Square,
        Extent::Vector,
        Extent::One,
    ];

    /// Values in one buffer of this extent for `(n, p, d)`; `None` on overflow.
    pub(crate) const fn len(self, n: usize, p: usize, d: usize) -> Option<usize> {
        match self {
            Extent::Matrix => n.checked_mul(p),
            Extent::Pool => p.checked_mul(d),
            Extent::Proposals => Some(p),
            Extent::Partials => p.checked_mul(BLOCKS),
            Extent::Points => n.checked_mul(d),
            Extent::Particles => Some(n),
            Extent::Square => d.checked_mul(d),
            Extent::Vector => Some(d),
            Extent::One => Some(1),
        }
    }

    /// Position in [`Extent::ALL`].
    const fn index(self) -> usize {
        self as usize
    }
}

/// How many buffers of each extent `table` holds, in the order of [`Extent::ALL`].
const fn count(table: &[Extent]) -> [usize; 9] {
    let mut counts = [0; 9];
    let mut k = 0;
    while k < table.len() {
        counts[table[k].index()] += 1;
        k += 1;
    }
    counts
}

/// Values of memory for the whole table at `shape`: the sum over extents of the buffer count
/// times the extent's length; `None` if a size is zero or it overflows.
pub(crate) fn total_len(shape: &Shape) -> Option<usize> {
    shape.validate().ok()?;
    let (n, d) = (shape.n_particles, shape.dim);
    let p = n.checked_mul(shape.proposals_per_particle)?;
    Extent::ALL.iter().try_fold(0usize, |total, &extent| {
        let group = COUNTS[extent.index()].checked_mul(extent.len(n, p, d)?)?;
        total.checked_add(group)
    })
}

/// Caller memory cut into one group per extent (memory order), each `count * len` values.
pub(crate) type Groups<'a, T> = [&'a mut [T]; 9];

/// Cuts `memory` of exactly [`total_len`] values into its extent groups.
pub(crate) fn groups<'a, T>(shape: &Shape, memory: &'a mut [T]) -> Groups<'a, T> {
    let (n, p, d) = (shape.n_particles, shape.pool(), shape.dim);
    let mut rest = memory;
    Extent::ALL.map(|extent| {
        let len = extent.len(n, p, d).unwrap_or(0) * COUNTS[extent.index()];
        cut(&mut rest, len)
    })
}

/// Splits the first `len` values off `rest`. Every caller sizes its memory from this table, so
/// the empty fallback (never a panic) is unreachable.
fn cut<'a, T>(rest: &mut &'a mut [T], len: usize) -> &'a mut [T] {
    let (head, tail) = core::mem::take(rest)
        .split_at_mut_checked(len)
        .unwrap_or_default();
    *rest = tail;
    head
}

/// Declares the table: one struct of named buffers per group, the per-extent counts, and
/// [`carve`], which hands out the buffers from the extent groups in table order.
macro_rules! layout {
    ($(
        $(#[$group_doc:meta])*
        struct $group:ident {
            $( $(#[$doc:meta])* $field:ident: $extent:ident, )*
        }
    )*) => {
        $(
            $(#[$group_doc])*
            pub(crate) struct $group<'a, T> {
                $( $(#[$doc])* pub(crate) $field: &'a mut [T], )*
            }
        )*

        /// Buffers per extent, in the order of [`Extent::ALL`].
        pub(crate) const COUNTS: [usize; 9] = count(&[$($(Extent::$extent,)*)*]);

        /// The table's buffers over `groups` (from [`groups`] or `Etd`'s arrays).
        pub(crate) fn carve<'a, T>(shape: &Shape, groups: Groups<'a, T>) -> ($($group<'a, T>,)*) {
            let (n, p, d) = (shape.n_particles, shape.pool(), shape.dim);
            let mut groups = groups;
            ($(
                $group {
                    $( $field: cut(
                        &mut groups[Extent::$extent.index()],
                        Extent::$extent.len(n, p, d).unwrap_or(0),
                    ), )*
                },
            )*)
        }
    };
}

layout! {
    /// The buffers of stages 1-7, all in the coordinates the step runs in.
    struct Stages {
        /// The cost subsample of the median, then the kernel `K` of the plan
        /// `alpha_i K_ij beta_j` (the log solver: the normalised cost, then the plan) (N, P).
        kernel: Matrix,
        /// Proposal pool (P, d); once the particles have moved, the mutation's scores at the
        /// current points (N, d) in its first `N d` values.
        proposals: Pool,
        /// Scaled column potential `v = g / eps` (P), the warm start.
        v: Proposals,
        /// `log pi` of the proposals, then the column scalings `beta` (P).
        log_pi: Proposals,
        /// Normalised log-weights `log b` (P); once the particles have moved, the mutation's
        /// `log pi` at its proposals (N) in its first `N` values.
        log_b: Proposals,
        /// Sinkhorn column sums, one partial per block of rows, or log-sum-exp scratch
        /// (BLOCKS, P).
        col_sums: Partials,
        /// Proposal means (N, d); the rounded update's row scratch (first `N` values); stage 7's
        /// proposed points.
        means: Points,
        /// Scores at the particles (N, d); the mutation reuses it for the proposals' scores.
        scores: Points,
        /// Positions after update and mutation, copied out on success (N, d).
        next: Points,
        /// `log a_i = -ln N` (N).
        log_a: Particles,
        /// Scaled row potential `u = f / eps` (N), the warm start.
        u: Particles,
        /// Row scalings `alpha` (the log solver: row scratch); stage 7's `log pi` at the
        /// current points (N).
        alpha: Particles,
    }

    /// The preconditioner's state and scratch (stage 0).
    struct Preconditioner {
        /// The particles in whitened coordinates (N, d).
        whitened: Points,
        /// Exponentially weighted running sum of ensemble covariances (d, d), row-major.
        sum: Square,
        /// Lower Cholesky factor `L` of `Sigma` (d, d), row-major; zero above the diagonal.
        factor: Square,
        /// Ensemble mean `mu` (d).
        mean: Vector,
        /// One point in `x` (d), scratch of the whitened target.
        point: Vector,
        /// One score in `x` (d), scratch of the whitened target.
        score: Vector,
        /// Total weight of `sum`: `Sigma = sum / weight`; 0 before the first step.
        weight: One,
    }
}

/// Buffers of `extent` in the table.
pub(crate) const fn count_of(extent: Extent) -> usize {
    COUNTS[extent.index()]
}
