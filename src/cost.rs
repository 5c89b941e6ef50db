//! Stages 3 and 4, cost and normalise: `C_ij = |x_i - y_j|^2 / 2`, divided by its median.
//! The normalised cost itself is computed where it is used, when the Sinkhorn kernel is formed.

use crate::vector::{row, rows};
use crate::{Error, Real};

/// Subsample budget of the median: every `s`-th entry, `s = max(1, N*P / 2048)`.
const MEDIAN_SAMPLES: usize = 2048;
/// Lower bound of the cost scale.
const SCALE_FLOOR: f64 = 1e-8;

/// The cost scale: the median of the strided subsample `C.flat[::s]` of
/// `C_ij = |x_i - y_j|^2 / 2` (mean of the two middle values for an even count), floored at
/// 1e-8. The subsample is computed and selected in `scratch` (at least `N P` values; only the
/// first `ceil(N P / s)` are used). Costs come from coordinate differences, never
/// `|x|^2 + |y|^2 - 2<x,y>`.
///
/// `Err(NonFiniteCost)` unless every cost is finite, which is checked in `O((N + P) d)` from
/// the largest coordinate: `2 d max|coordinate|^2` must be finite.
/// Shapes: `particles` (N, d), `proposals` (P, d).
pub fn cost_scale<T: Real>(
    particles: &[T],
    proposals: &[T],
    dim: usize,
    scratch: &mut [T],
) -> Result<T, Error> {
    let largest = particles
        .iter()
        .chain(proposals)
        .fold(T::ZERO, |m, &x| m.max(x.abs()));
    if !(T::from_usize(2 * dim) * largest * largest).is_finite() {
        return Err(Error::NonFiniteCost);
    }
    // Every size is at least 1 here; `max(1)` spares the compiler the divisions by zero.
    let pool = (proposals.len() / dim.max(1)).max(1);
    let total = particles.len() / dim.max(1) * pool;
    let stride = (total / MEDIAN_SAMPLES).max(1);
    let samples = scratch.get_mut(..total.div_ceil(stride)).unwrap_or_default();
    for (t, c) in samples.iter_mut().enumerate() {
        let flat = t * stride;
        let (i, j) = (flat / pool, flat % pool);
        *c = half_sq_dist(row(particles, i, dim), row(proposals, j, dim));
    }
    Ok(median(samples).max(T::from_f64(SCALE_FLOOR)))
}

/// `out_j = |x - y_j|^2 / 2` for the points `y_j` of `points` (count, d), `d = x.len()`:
/// the loop over `j` is compiled for `d` up to 4 with the dimension known, so it vectorises.
#[inline(always)]
pub fn half_sq_dists<T: Real>(x: &[T], points: &[T], out: &mut [T]) {
    match x.len() {
        1 => fixed::<T, 1>(x, points, out),
        2 => fixed::<T, 2>(x, points, out),
        3 => fixed::<T, 3>(x, points, out),
        4 => fixed::<T, 4>(x, points, out),
        d => {
            for (o, y) in out.iter_mut().zip(rows(points, d)) {
                *o = half_sq_dist(x, y);
            }
        }
    }
}

/// [`half_sq_dists`] in dimension `D`.
#[inline(always)]
fn fixed<T: Real, const D: usize>(x: &[T], points: &[T], out: &mut [T]) {
    let mut centre = [T::ZERO; D];
    centre.iter_mut().zip(x).for_each(|(c, &v)| *c = v);
    let half = T::from_f64(0.5);
    for (o, y) in out.iter_mut().zip(points.chunks_exact(D)) {
        if let Some(y) = y.first_chunk::<D>() {
            let mut sq = T::ZERO;
            for k in 0..D {
                let diff = centre[k] - y[k];
                sq += diff * diff;
            }
            *o = half * sq;
        }
    }
}

/// `|a - b|^2 / 2`, from differences.
#[inline(always)]
pub fn half_sq_dist<T: Real>(a: &[T], b: &[T]) -> T {
    let sq = a
        .iter()
        .zip(b)
        .fold(T::ZERO, |acc, (&a_k, &b_k)| acc + (a_k - b_k) * (a_k - b_k));
    T::from_f64(0.5) * sq
}

/// Median of a slice of non-negative, non-NaN values (the mean of the two middle values for an
/// even count, 0 for an empty slice); reorders it. Selection compares the bit patterns as
/// integers, which for such values order as the values do and cost one integer compare each.
fn median<T: Real>(values: &mut [T]) -> T {
    if values.is_empty() {
        return T::ZERO;
    }
    let (len, mid) = (values.len(), values.len() / 2);
    let (lower, &mut upper, _) = values.select_nth_unstable_by_key(mid, |v| v.to_bits());
    if len % 2 == 1 {
        return upper;
    }
    let below = lower.iter().fold(T::ZERO, |m, &v| m.max(v));
    T::from_f64(0.5) * (below + upper)
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use crate::rng::DefaultRng;
    use rand_core::{Rng, SeedableRng};
    use std::vec::Vec;

    /// The median by sorting, for comparison.
    fn sorted_median(values: &[f64]) -> f64 {
        let mut v = values.to_vec();
        v.sort_by(f64::total_cmp);
        let mid = v.len() / 2;
        if v.len() % 2 == 1 {
            v[mid]
        } else {
            0.5 * (v[mid - 1] + v[mid])
        }
    }

    #[test]
    fn median_matches_sorting() {
        let mut rng = DefaultRng::seed_from_u64(5);
        for len in [1usize, 2, 3, 4, 7, 64, 255, 256, 1000, 2047, 2048, 4095] {
            // Costs with many ties and zeros, spread over many binades.
            let values: Vec<f64> = (0..len)
                .map(|_| match rng.next_u32() % 4 {
                    0 => 0.0,
                    1 => f64::from(rng.next_u32() % 8),
                    _ => f64::from(rng.next_u32()) * 1e-6 * f64::from(rng.next_u32() % 1000),
                })
                .collect();
            assert_eq!(median(&mut values.clone()), sorted_median(&values), "f64, len {len}");
            let mut narrow: Vec<f32> = values.iter().map(|&v| v as f32).collect();
            let want = sorted_median(&narrow.iter().map(|&v| f64::from(v)).collect::<Vec<_>>());
            assert_eq!(f64::from(median(&mut narrow)), want as f32 as f64, "f32, len {len}");
        }
    }

}
