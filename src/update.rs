//! Stage 6, update: each particle moves along its row of the transport plan.

use crate::lse::{max, sum};
use crate::rng::uniform;
use crate::{Real, Update};
use rand_core::Rng;

/// Moves every particle by its row-normalised plan `p_i(j) = P_ij / sum_j P_ij` and returns the
/// mean coupling ESS `mean_i 1 / sum_j p_i(j)^2`.
///
/// The row of the plan is `exp(v_j - k C_ij)` up to the row's own factor, so `u` is not needed.
/// Categorical: `x_new` is the first `y_j` whose cumulative row probability reaches `u ~ U(0,1)`.
/// Barycentric: `x_new = sum_j p_i(j) y_j`. Then `next_i = (1 - eta) x_i + eta x_new`.
/// Shapes: `cost` (N, P) normalised cost, overwritten by the unnormalised plan rows; `v` (P);
/// `proposals` (P, d); `particles`, `next` (N, d).
#[allow(clippy::too_many_arguments)]
pub fn update<T: Real, R: Rng + ?Sized>(
    cost: &mut [T],
    k: T,
    v: &[T],
    proposals: &[T],
    particles: &[T],
    dim: usize,
    rule: Update,
    damping: T,
    next: &mut [T],
    rng: &mut R,
) -> T {
    let mut ess_sum = T::ZERO;
    let rows = cost.chunks_exact_mut(v.len());
    for ((row, x), x_next) in rows
        .zip(particles.chunks_exact(dim))
        .zip(next.chunks_exact_mut(dim))
    {
        let total = plan_row(row, k, v);
        let sum_sq = row.iter().fold(T::ZERO, |acc, &w| acc + w * w);
        ess_sum += total * total / sum_sq;
        match rule {
            Update::Categorical => {
                let j = categorical(row, uniform::<T, R>(rng) * total);
                x_next.copy_from_slice(&proposals[j * dim..][..dim]);
            }
            Update::Barycentric => {
                x_next.fill(T::ZERO);
                for (&w, y) in row.iter().zip(proposals.chunks_exact(dim)) {
                    for (o, &y_k) in x_next.iter_mut().zip(y) {
                        *o += w * y_k;
                    }
                }
                let inv_total = T::ONE / total;
                x_next.iter_mut().for_each(|o| *o *= inv_total);
            }
        }
        if damping < T::ONE {
            for (o, &x_k) in x_next.iter_mut().zip(x) {
                *o = (T::ONE - damping) * x_k + damping * *o;
            }
        }
    }
    ess_sum / T::from_usize(particles.len() / dim)
}

/// Overwrites a cost row with `w_j = exp(v_j - k c_j - max)` (largest entry 1) and returns
/// `sum_j w_j` (at least 1).
#[inline]
fn plan_row<T: Real>(row: &mut [T], k: T, v: &[T]) -> T {
    for (w, &v_j) in row.iter_mut().zip(v) {
        *w = v_j - k * *w;
    }
    let max = max(row);
    for w in row.iter_mut() {
        *w = (*w - max).exp();
    }
    sum(row)
}

/// Index of the first weight whose running sum reaches `target`; rounding can leave the running
/// sum just short of `target` at the end, so the last positive weight is the fallback.
#[inline]
fn categorical<T: Real>(weights: &[T], target: T) -> usize {
    let mut cumulative = T::ZERO;
    let mut last_positive = 0;
    for (j, &w) in weights.iter().enumerate() {
        if w > T::ZERO {
            cumulative += w;
            last_positive = j;
            if cumulative >= target {
                return j;
            }
        }
    }
    last_positive
}
