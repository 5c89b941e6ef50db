//! Stages 3 and 4, cost and normalise: `C_ij = |x_i - y_j|^2 / 2`, divided by its median.

use crate::{Error, Real};
use core::cmp::Ordering;

/// Subsample budget of the median: every `s`-th entry, `s = max(1, N*P / 2048)`.
const MEDIAN_SAMPLES: usize = 2048;
/// Lower bound of the cost scale.
const SCALE_FLOOR: f64 = 1e-8;

/// Writes the normalised cost `C_ij / scale` and returns `scale`, the median of the strided
/// subsample `C.flat[::s]` (mean of the two middle values for an even count), floored at 1e-8.
///
/// The median is selected in place inside `cost` itself (no extra memory), then the full matrix
/// is written over it. Costs come from coordinate differences, never `|x|^2 + |y|^2 - 2<x,y>`.
/// Shapes: `particles` (N, d), `proposals` (P, d), `cost` (N, P).
pub fn normalised_cost<T: Real>(
    particles: &[T],
    proposals: &[T],
    dim: usize,
    cost: &mut [T],
) -> Result<T, Error> {
    let pool = proposals.len() / dim;
    let stride = (cost.len() / MEDIAN_SAMPLES).max(1);
    let count = cost.len().div_ceil(stride);
    for (t, c) in cost[..count].iter_mut().enumerate() {
        let flat = t * stride;
        let (i, j) = (flat / pool, flat % pool);
        *c = half_sq_dist(&particles[i * dim..][..dim], &proposals[j * dim..][..dim]);
    }
    let scale = median(&mut cost[..count]).max(T::from_f64(SCALE_FLOOR));
    if !scale.is_finite() {
        return Err(Error::NonFiniteCost);
    }
    let inv_scale = T::ONE / scale;
    let mut finite = true;
    for (row, x) in cost.chunks_exact_mut(pool).zip(particles.chunks_exact(dim)) {
        for (c, y) in row.iter_mut().zip(proposals.chunks_exact(dim)) {
            *c = half_sq_dist(x, y) * inv_scale;
            finite &= c.is_finite();
        }
    }
    if finite {
        Ok(scale)
    } else {
        Err(Error::NonFiniteCost)
    }
}

/// `|a - b|^2 / 2`, from differences.
#[inline]
pub fn half_sq_dist<T: Real>(a: &[T], b: &[T]) -> T {
    let sq = a
        .iter()
        .zip(b)
        .fold(T::ZERO, |acc, (&a_k, &b_k)| acc + (a_k - b_k) * (a_k - b_k));
    T::from_f64(0.5) * sq
}

/// Median of a non-empty slice (reorders it); NaN compares as equal, so it never panics.
fn median<T: Real>(values: &mut [T]) -> T {
    let order = |a: &T, b: &T| a.partial_cmp(b).unwrap_or(Ordering::Equal);
    let (len, mid) = (values.len(), values.len() / 2);
    let (lower, &mut upper, _) = values.select_nth_unstable_by(mid, order);
    if len % 2 == 1 {
        return upper;
    }
    let below = lower.iter().fold(T::NEG_INFINITY, |m, &x| m.max(x));
    T::from_f64(0.5) * (below + upper)
}
