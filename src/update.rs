//! Stage 6, update: each particle moves along its row of the transport plan.

use crate::rng::uniform;
use crate::rounding::{self, fits, round};
use crate::vector::{self, copy, dot, rows_mut, vectorised, LANES};
use crate::{Real, Update};
use rand_core::Rng;

/// Scratch of [`Update::Rounded`]: two buffers of at least `N` values and two of at least
/// `P`; the other rules leave them alone.
pub struct Scratch<'a, T> {
    /// At least `N` values.
    pub rows: [&'a mut [T]; 2],
    /// At least `P` values.
    pub cols: [&'a mut [T]; 2],
}

/// Moves every particle by its row-normalised plan `p_i(j) = K_ij beta_j / sum_j K_ij beta_j`
/// and returns the mean coupling ESS `mean_i 1 / sum_j p_i(j)^2`, each row's clamped to
/// `[1, P]` where it lies (rounding, or squared weights below the type's range, cannot push it
/// out).
///
/// Categorical: `x_new` is the first `y_j` whose cumulative row probability reaches
/// `u ~ U(0, 1)`. Rounded: `x_new` is the proposal the dependent rounding of the plan gives the
/// row ([`rounding`]), the same draw in law, made jointly for all rows after the proposals are
/// put in a spatial order (independent categorical draws instead if `8 (N + 2 P + 1)` reaches
/// `2^UNIFORM_BITS`, beyond the integers the scratch holds exactly, or if `scratch` is too
/// short). Barycentric: `x_new = sum_j p_i(j) y_j`. Then
/// `next_i = (1 - eta) x_i + eta x_new`. A row whose total `t` has no finite positive `1 / t`
/// (every entry underflowed: the particle lies beyond the type's exponent range from every
/// proposal, in units of `epsilon`) leaves its particle where it is, with a row ESS of 1, and
/// draws no uniform.
/// Shapes: `kernel` (N, P), `beta` (P), `proposals` (P, d), `particles`, `next` (N, d). The
/// rounded rule overwrites `kernel`, `beta` and `scratch` and reorders `proposals`.
#[allow(clippy::too_many_arguments)]
pub fn update<T: Real, R: Rng + ?Sized>(
    kernel: &mut [T],
    beta: &mut [T],
    proposals: &mut [T],
    particles: &[T],
    dim: usize,
    rule: Update,
    damping: T,
    next: &mut [T],
    scratch: Scratch<'_, T>,
    rng: &mut R,
) -> T {
    let (n, p) = (particles.len() / dim.max(1), beta.len());
    let room = scratch.rows.iter().all(|s| s.len() >= n) && scratch.cols.iter().all(|s| s.len() >= p);
    if rule == Update::Rounded && room && fits::<T>(n, p) {
        return rounded(kernel, beta, proposals, particles, dim, damping, next, scratch, rng);
    }
    vectorised!(FUSED => rows::<T, R, FUSED>(
        kernel, beta, proposals, particles, dim, rule, damping, next, rng
    ))
}

/// [`update`] with the rounded rule. Not inlined: its frame stays off the other rules' stack.
#[allow(clippy::too_many_arguments)]
#[inline(never)]
fn rounded<T: Real, R: Rng + ?Sized>(
    kernel: &mut [T],
    beta: &mut [T],
    proposals: &mut [T],
    particles: &[T],
    dim: usize,
    damping: T,
    next: &mut [T],
    scratch: Scratch<'_, T>,
    rng: &mut R,
) -> T {
    let n = particles.len() / dim.max(1);
    let ess = vectorised!(FUSED => coupling_ess::<T, FUSED>(kernel, beta, n));
    rounding::normalise_rows(kernel, beta);
    let Scratch {
        rows: [row_prev, row_scan],
        cols: [col_prev, running],
    } = scratch;
    rounding::spatial_order(kernel, proposals, dim, beta);
    let scratch = rounding::Scratch {
        row_prev,
        row_scan,
        col_prev,
        col_scan: beta,
        running,
    };
    let p = scratch.col_scan.len();
    round(kernel, p, scratch, rng);
    for ((row, x), x_next) in vector::rows(kernel, p)
        .zip(vector::rows(particles, dim))
        .zip(rows_mut(next, dim))
    {
        match rounding::chosen(row, rng) {
            Some(j) => copy(x_next, vector::row(proposals, j, dim)),
            None => copy(x_next, x),
        }
        damp(x_next, x, damping);
    }
    ess
}

/// [`update`] with independent draws, compiled for the vector unit the caller chose.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn rows<T: Real, R: Rng + ?Sized, const FUSED: bool>(
    kernel: &[T],
    beta: &[T],
    proposals: &[T],
    particles: &[T],
    dim: usize,
    rule: Update,
    damping: T,
    next: &mut [T],
    rng: &mut R,
) -> T {
    let mut ess_sum = T::ZERO;
    for ((row, x), x_next) in vector::rows(kernel, beta.len())
        .zip(vector::rows(particles, dim))
        .zip(rows_mut(next, dim))
    {
        let (ess, total) = row_ess::<T, FUSED>(row, beta);
        ess_sum += ess;
        let Some(total) = total else {
            copy(x_next, x);
            continue;
        };
        match rule {
            Update::Categorical | Update::Rounded => {
                let j = categorical::<T, FUSED>(row, beta, uniform::<T, R>(rng) * total);
                copy(x_next, vector::row(proposals, j, dim));
            }
            Update::Barycentric => {
                // Probabilities first, so that no product of a weight and a coordinate
                // underflows.
                let inv_total = T::ONE / total;
                x_next.fill(T::ZERO);
                for ((&k, &b), y) in row.iter().zip(beta).zip(vector::rows(proposals, dim)) {
                    let p = k * b * inv_total;
                    for (o, &y_k) in x_next.iter_mut().zip(y) {
                        *o += p * y_k;
                    }
                }
            }
        }
        damp(x_next, x, damping);
    }
    ess_sum / T::from_usize(particles.len() / dim.max(1))
}

/// The mean over the `n` rows of `kernel` (n, P) of [`row_ess`].
#[inline(always)]
fn coupling_ess<T: Real, const FUSED: bool>(kernel: &[T], beta: &[T], n: usize) -> T {
    let total = vector::rows(kernel, beta.len()).fold(T::ZERO, |acc, row| {
        acc + row_ess::<T, FUSED>(row, beta).0
    });
    total / T::from_usize(n)
}

/// A row's ESS `t^2 / sum_j w_j^2` of its weights `w_j = k_j b_j` (total `t`), clamped to
/// `[1, P]`, and `t`; a row without a finite positive `1 / t` has ESS 1 and `None`.
#[inline(always)]
fn row_ess<T: Real, const FUSED: bool>(row: &[T], beta: &[T]) -> (T, Option<T>) {
    let (total, sum_sq) = moments::<T, FUSED>(row, beta);
    let inv_total = T::ONE / total;
    if !(inv_total > T::ZERO && inv_total.is_finite()) {
        return (T::ONE, None);
    }
    let pool = T::from_usize(beta.len());
    ((total * total / sum_sq).max(T::ONE).min(pool), Some(total))
}

/// `next = (1 - eta) x + eta next`, for `eta = damping < 1`.
#[inline(always)]
fn damp<T: Real>(next: &mut [T], x: &[T], damping: T) {
    if damping < T::ONE {
        for (o, &x_k) in next.iter_mut().zip(x) {
            *o = (T::ONE - damping) * x_k + damping * *o;
        }
    }
}

/// `(sum_j w_j, sum_j w_j^2)` of the row weights `w_j = k_j b_j`, in [`LANES`] accumulators.
#[inline(always)]
fn moments<T: Real, const FUSED: bool>(kernel: &[T], beta: &[T]) -> (T, T) {
    let (mut sum, mut sq) = ([T::ZERO; LANES], [T::ZERO; LANES]);
    let (ks, bs) = (kernel.chunks_exact(LANES), beta.chunks_exact(LANES));
    let (k_tail, b_tail) = (ks.remainder(), bs.remainder());
    for (kc, bc) in ks.zip(bs) {
        for (((s, q), &k), &b) in sum.iter_mut().zip(sq.iter_mut()).zip(kc).zip(bc) {
            let w = k * b;
            *s += w;
            *q = w.mul_add::<FUSED>(w, *q);
        }
    }
    let head = (sum.iter().fold(T::ZERO, |a, &s| a + s), sq.iter().fold(T::ZERO, |a, &q| a + q));
    k_tail.iter().zip(b_tail).fold(head, |(s, q), (&k, &b)| {
        let w = k * b;
        (s + w, w.mul_add::<FUSED>(w, q))
    })
}

/// Entries per block of the categorical search.
const BLOCK: usize = 64;

/// Index of the first weight `w_j = k_j b_j` whose running sum reaches `target`. The running sum
/// advances a block of [`BLOCK`] weights at a time (each block summed as a vector) and only the
/// block where it crosses `target` is scanned entry by entry. Rounding can leave the running sum
/// just short of `target` at the end, so the last positive weight is the fallback. A zero
/// weight is never chosen.
#[inline(always)]
fn categorical<T: Real, const FUSED: bool>(kernel: &[T], beta: &[T], target: T) -> usize {
    let mut cumulative = T::ZERO;
    for (start, (kb, bb)) in (0..)
        .step_by(BLOCK)
        .zip(kernel.chunks(BLOCK).zip(beta.chunks(BLOCK)))
    {
        let block = dot::<T, FUSED>(kb, bb);
        if cumulative + block < target {
            cumulative += block;
            continue;
        }
        for (j, (&k, &b)) in kb.iter().zip(bb).enumerate() {
            let w = k * b;
            if w > T::ZERO {
                cumulative += w;
                if cumulative >= target {
                    return start + j;
                }
            }
        }
    }
    kernel
        .iter()
        .zip(beta)
        .rposition(|(&k, &b)| k * b > T::ZERO)
        .unwrap_or(0)
}
