//! Stages 3 and 4, cost and normalise: `C_ij = |x_i - y_j|^2 / 2`, divided by its median.
//! The normalised cost itself is computed where it is used, when the Sinkhorn kernel is formed.

use crate::vector::{larger, row, rows};
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
    // Sample t is flat index t * stride: row by row, the columns from where the previous
    // row's stride ran over, in steps of the stride (no division per sample).
    let mut slots = samples.iter_mut();
    let mut start = 0;
    for x in rows(particles, dim) {
        let mut j = start;
        while j < pool {
            if let Some(c) = slots.next() {
                *c = half_sq_dist(x, row(proposals, j, dim));
            }
            j += stride;
        }
        start = j - pool;
    }
    Ok(median(samples).max(T::from_f64(SCALE_FLOOR)))
}

/// `out_j = |x - y_j|^2 / 2` for the points `y_j` of `points` (count, d), `d = x.len()`:
/// the loop over `j` is compiled for `d` up to 4 with the dimension known, so it vectorises.
#[inline(always)]
pub fn half_sq_dists<T: Real>(x: &[T], points: &[T], out: &mut [T]) {
    half_sq_dists_with(x, points, out.iter_mut(), |o, h| *o = h);
}

/// [`half_sq_dists`] handed to `sink` with the matching item of `out`, one call per point
/// (as many as `out` has items), so that a caller's use of each distance fuses into the loop.
#[inline(always)]
pub fn half_sq_dists_with<T: Real, O>(
    x: &[T],
    points: &[T],
    out: impl Iterator<Item = O>,
    sink: impl FnMut(O, T),
) {
    match x.len() {
        1 => fixed::<T, 1, O>(x, points, out, sink),
        2 => fixed::<T, 2, O>(x, points, out, sink),
        3 => fixed::<T, 3, O>(x, points, out, sink),
        4 => fixed::<T, 4, O>(x, points, out, sink),
        d => {
            let mut sink = sink;
            for (o, y) in out.zip(rows(points, d)) {
                sink(o, half_sq_dist(x, y));
            }
        }
    }
}

/// [`half_sq_dists_with`] in dimension `D`.
#[inline(always)]
fn fixed<T: Real, const D: usize, O>(
    x: &[T],
    points: &[T],
    out: impl Iterator<Item = O>,
    mut sink: impl FnMut(O, T),
) {
    let mut centre = [T::ZERO; D];
    centre.iter_mut().zip(x).for_each(|(c, &v)| *c = v);
    let half = T::from_f64(0.5);
    for (o, y) in out.zip(points.chunks_exact(D)) {
        if let Some(y) = y.first_chunk::<D>() {
            let mut sq = T::ZERO;
            for k in 0..D {
                let diff = centre[k] - y[k];
                sq += diff * diff;
            }
            sink(o, half * sq);
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
/// even count, 0 for an empty slice); reorders it. The bit patterns of such values order as
/// the values do, so the middle values are found by integer selection on them ([`select`]).
fn median<T: Real>(values: &mut [T]) -> T {
    let len = values.len();
    if len == 0 {
        return T::ZERO;
    }
    let (upper, lower) = select(values, len / 2);
    if len % 2 == 1 {
        return upper;
    }
    // Halves first, so that two values near the type's maximum do not overflow.
    let half = T::from_f64(0.5);
    half * lower + half * upper
}

/// The `k`-th smallest (from 0) of `values` (`k < len`) and the `(k - 1)`-th (the `k`-th again
/// for `k = 0`), for non-negative, non-NaN values; reorders them. A most-significant-byte-first
/// radix selection on the bit patterns: for each byte from the highest set bit of any value
/// down (at most 4 for `f32`, 8 for `f64`), one pass counts the candidates' values of that
/// byte, which fixes the byte of the `k`-th, and one pass keeps the candidates that share it,
/// at the front, remembering the largest value left below. No recursion and no index that can
/// fail; the byte counters (512 bytes of stack) need fewer than 65 536 values (the cost
/// subsample has fewer than `2 * MEDIAN_SAMPLES`).
fn select<T: Real>(values: &mut [T], k: usize) -> (T, T) {
    let top = values.iter().fold(0u64, |acc, v| acc | v.to_bits());
    let mut shift = (63 - top.max(1).leading_zeros()) / 8 * 8;
    let byte = |v: T, shift: u32| usize::from((v.to_bits() >> shift) as u8);
    let (mut rank, mut below) = (k, T::ZERO);
    let mut live = values;
    loop {
        let mut counts = [0u16; 256];
        for &v in live.iter() {
            if let Some(c) = counts.get_mut(byte(v, shift)) {
                *c = c.wrapping_add(1);
            }
        }
        let mut chosen = 0;
        for (d, &count) in counts.iter().enumerate() {
            chosen = d;
            if rank < usize::from(count) {
                break;
            }
            rank -= usize::from(count);
        }
        let mut kept = 0;
        for i in 0..live.len() {
            let Some(&v) = live.get(i) else { break };
            let d = byte(v, shift);
            if d < chosen {
                below = larger(below, v);
            } else if d == chosen {
                if let Some(slot) = live.get_mut(kept) {
                    *slot = v;
                }
                kept += 1;
            }
        }
        live = live.get_mut(..kept).unwrap_or_default();
        if shift == 0 {
            break;
        }
        shift -= 8;
    }
    // Every remaining candidate has the `k`-th's bit pattern; `rank` of them precede it.
    let kth = live.first().copied().unwrap_or(T::ZERO);
    let previous = if rank > 0 || k == 0 { kth } else { below };
    (kth, previous)
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use crate::rng::DefaultRng;
    use rand_core::{Rng, SeedableRng};
    use std::vec::Vec;

    /// The median by sorting, for comparison (the middle pair's halves added).
    fn sorted_median(values: &[f64]) -> f64 {
        let mut v = values.to_vec();
        v.sort_by(f64::total_cmp);
        let mid = v.len() / 2;
        if v.len() % 2 == 1 {
            v[mid]
        } else {
            0.5 * v[mid - 1] + 0.5 * v[mid]
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

    /// Non-negative values over the whole range, with ties (the bit patterns of a few small
    /// integers, of a few values, and of anything up to `MAX`).
    fn costs() -> impl proptest::strategy::Strategy<Value = Vec<f64>> {
        use proptest::prelude::*;
        let value = prop_oneof![
            Just(0.0),
            (0u32..4).prop_map(f64::from),
            (0u64..0x7ff0_0000_0000_0000).prop_map(f64::from_bits),
        ];
        proptest::collection::vec(value, 1..3000)
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(128))]
        #[test]
        fn median_matches_sorting_on_any_costs(values in costs()) {
            proptest::prop_assert_eq!(median(&mut values.clone()), sorted_median(&values));
            let mut narrow: Vec<f32> = values.iter().map(|&v| v as f32).collect();
            let wide: Vec<f64> = narrow.iter().map(|&v| f64::from(v)).collect();
            // The f32 mean of the middle pair, from the exact middle values.
            let want = {
                let mut v = wide.clone();
                v.sort_by(f64::total_cmp);
                let mid = v.len() / 2;
                if v.len() % 2 == 1 {
                    v[mid] as f32
                } else {
                    0.5 * v[mid - 1] as f32 + 0.5 * v[mid] as f32
                }
            };
            proptest::prop_assert_eq!(median(&mut narrow), want);
        }
    }

    #[test]
    fn median_of_constant_and_extreme_values() {
        for len in [1usize, 2, 5, 4095] {
            for v in [0.0, f64::MIN_POSITIVE / 8.0, 1.0, f64::MAX] {
                assert_eq!(median(&mut std::vec![v; len]), v, "{v:e} x {len}");
                assert_eq!(median(&mut std::vec![v as f32; len]), v as f32, "{v:e} x {len}");
            }
        }
        assert_eq!(median(&mut [0.0, f64::MAX]), 0.5 * f64::MAX);
        assert_eq!(median::<f32>(&mut []), 0.0);
    }

    /// The scale is the median of `C.flat[::s]`, also where the stride spans several rows
    /// (`s > P`) or none (`s = 1`).
    #[test]
    fn cost_scale_is_the_median_of_the_strided_subsample() {
        let mut rng = DefaultRng::seed_from_u64(3);
        for (n, p, dim) in [(3, 5, 2), (100, 2500, 2), (7, 3001, 3), (5000, 2, 1), (4099, 3, 2)] {
            let mut points = std::vec![0.0f64; (n + p) * dim];
            crate::rng::fill_normal(&mut rng, &mut points);
            let (x, y) = points.split_at(n * dim);
            let stride = (n * p / MEDIAN_SAMPLES).max(1);
            let subsample: Vec<f64> = (0..n * p)
                .step_by(stride)
                .map(|flat| {
                    let (i, j) = (flat / p, flat % p);
                    half_sq_dist(&x[i * dim..][..dim], &y[j * dim..][..dim])
                })
                .collect();
            let mut scratch = std::vec![0.0; n * p];
            let scale = cost_scale(x, y, dim, &mut scratch).unwrap();
            assert_eq!(scale, sorted_median(&subsample), "{n} x {p}, d = {dim}");
        }
    }
}
