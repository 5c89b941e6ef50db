//! The kernel's inner loops over contiguous slices: reductions (max, sum, dot product), the
//! multiply-add `y += a x`, and the max-shifted log-sum-exp.
//!
//! Shifting by the maximum means `exp` only ever sees arguments `<= 0`: no overflow at any
//! scale, and a coarse `exp` approximation stays bounded in [0, 1]. Each pass is a plain map or
//! a reduction in `LANES` independent accumulators, shapes the compiler vectorises; the
//! summation order is fixed, so results are bit-reproducible.

use crate::Real;

/// Runs `$body` with the widest vector instructions the running CPU has, with the constant
/// `$fused` telling it whether fused multiply-adds are available: with the `std` feature on an
/// x86-64 CPU with AVX2 and FMA (detected at run time through `pulp`), `$body` is compiled for
/// them with `$fused = true`; otherwise it runs as the build was compiled, with
/// `$fused = false`. Everything `$body` calls must be `#[inline(always)]` to be compiled for
/// the wider instructions. Reduction orders are fixed in the source, so a given machine always
/// gives the same result; a machine with FMA rounds the multiply-adds once, not twice.
macro_rules! vectorised {
    ($fused:ident => $body:expr) => {{
        #[cfg(all(feature = "std", target_arch = "x86_64"))]
        {
            match pulp::Arch::new() {
                pulp::Arch::V3(simd) => pulp::Simd::vectorize(
                    simd,
                    #[inline(always)]
                    || {
                        const $fused: bool = true;
                        $body
                    },
                ),
                _ => {
                    const $fused: bool = false;
                    $body
                }
            }
        }
        #[cfg(not(all(feature = "std", target_arch = "x86_64")))]
        {
            const $fused: bool = cfg!(all(feature = "std", target_arch = "aarch64"));
            $body
        }
    }};
}
pub(crate) use vectorised;

/// Independent accumulators per reduction, a multiple of every SIMD width in use: 32 on hosts
/// (`std`), enough to hide the multiply-add latency of four AVX2 registers; 8 otherwise, which
/// a microcontroller's FPU registers hold without spilling.
pub const LANES: usize = if cfg!(feature = "std") { 32 } else { 8 };

/// Whether a pass that also sums its results stores them and sums them in a second pass, in
/// [`LANES`] accumulators: on hosts (`std`), so that the first pass vectorises and the sum is not
/// one chain of dependent additions; not on a microcontroller, which has no vector unit for it
/// and would only pay for the extra pass.
pub(crate) const SPLIT_SUMS: bool = cfg!(feature = "std");

/// Replaces `x_j` by `exp(x_j - max)` and returns `LSE_j(x_j) = max + ln sum_j exp(x_j - max)`;
/// `-inf` (and `x` untouched) when `x` is empty or all `-inf`.
#[inline(always)]
pub fn log_sum_exp_in_place<T: Real, const FUSED: bool>(x: &mut [T]) -> T {
    let max = max(x);
    if max == T::NEG_INFINITY {
        return max;
    }
    for x_j in x.iter_mut() {
        *x_j = (*x_j - max).exp_with::<FUSED>();
    }
    max + sum(x).ln()
}

/// Largest element (`-inf` for an empty slice; NaN-ignoring).
#[inline(always)]
pub fn max<T: Real>(x: &[T]) -> T {
    fold_lanes(x, T::NEG_INFINITY, T::max)
}

/// The larger of two values that are never NaN (finite, or infinite): a plain compare, so
/// loops around it vectorise to one instruction.
#[inline(always)]
pub(crate) fn larger<T: Real>(a: T, b: T) -> T {
    if b > a {
        b
    } else {
        a
    }
}

/// Whether every element is finite: one pass without early exit, so it vectorises.
#[inline(always)]
pub fn all_finite<T: Real>(x: &[T]) -> bool {
    // `x - x` is 0 for a finite value and NaN for an infinite or NaN one.
    #[allow(clippy::eq_op)]
    let sum = fold_lanes(x, T::ZERO, |acc, x_j| acc + (x_j - x_j));
    sum == T::ZERO
}

/// Sum of the elements, in [`LANES`] accumulators.
#[inline(always)]
pub fn sum<T: Real>(x: &[T]) -> T {
    fold_lanes(x, T::ZERO, |a, b| a + b)
}

/// `sum_j x_j y_j` over the common length, in [`LANES`] accumulators (fused multiply-adds
/// when `FUSED`).
#[inline(always)]
pub fn dot<T: Real, const FUSED: bool>(x: &[T], y: &[T]) -> T {
    let head = dot_lanes::<T, FUSED>(x, y)
        .into_iter()
        .fold(T::ZERO, |s, a| s + a);
    dot_tail::<T, FUSED>(head, x, y)
}

/// The [`dot`] products of four rows `x` with `y`, each rounded exactly as [`dot`] rounds it:
/// the same accumulators, reduced in the same order, but the four reductions transposed into
/// one 4-wide addition per accumulator, so that their latencies overlap (for a short row the
/// sequential reduction is most of a [`dot`]).
#[inline(always)]
pub fn dot4<T: Real, const FUSED: bool>(x: [&[T]; 4], y: &[T]) -> [T; 4] {
    // Not `x.map(..)`: a closure would not be inlined into the caller's vector context.
    let [x0, x1, x2, x3] = x;
    let lanes = [
        dot_lanes::<T, FUSED>(x0, y),
        dot_lanes::<T, FUSED>(x1, y),
        dot_lanes::<T, FUSED>(x2, y),
        dot_lanes::<T, FUSED>(x3, y),
    ];
    // Accumulator `k` of the four rows side by side.
    let mut by_lane = [[T::ZERO; 4]; LANES];
    for (r, lanes) in lanes.iter().enumerate() {
        for (column, &value) in by_lane.iter_mut().zip(lanes) {
            if let Some(slot) = column.get_mut(r) {
                *slot = value;
            }
        }
    }
    let mut heads = [T::ZERO; 4];
    for column in by_lane {
        for (head, value) in heads.iter_mut().zip(column) {
            *head += value;
        }
    }
    let mut out = [T::ZERO; 4];
    for ((out, head), x) in out.iter_mut().zip(heads).zip(x) {
        *out = dot_tail::<T, FUSED>(head, x, y);
    }
    out
}

/// The [`LANES`] accumulators of [`dot`] over the whole chunks of `x` and `y`.
#[inline(always)]
fn dot_lanes<T: Real, const FUSED: bool>(x: &[T], y: &[T]) -> [T; LANES] {
    let mut acc = [T::ZERO; LANES];
    for (a, b) in x.chunks_exact(LANES).zip(y.chunks_exact(LANES)) {
        for ((s, &a), &b) in acc.iter_mut().zip(a).zip(b) {
            *s = a.mul_add::<FUSED>(b, *s);
        }
    }
    acc
}

/// `head`, the reduced accumulators of [`dot`], with the products of the tails of `x` and `y`
/// (past their whole chunks) added one by one.
#[inline(always)]
fn dot_tail<T: Real, const FUSED: bool>(head: T, x: &[T], y: &[T]) -> T {
    let (x_tail, y_tail) = (
        x.chunks_exact(LANES).remainder(),
        y.chunks_exact(LANES).remainder(),
    );
    x_tail
        .iter()
        .zip(y_tail)
        .fold(head, |s, (&a, &b)| a.mul_add::<FUSED>(b, s))
}

/// `y_j += a x_j` over the common length (fused multiply-adds when `FUSED`).
#[inline(always)]
pub fn axpy<T: Real, const FUSED: bool>(y: &mut [T], a: T, x: &[T]) {
    for (y_j, &x_j) in y.iter_mut().zip(x) {
        *y_j = a.mul_add::<FUSED>(x_j, *y_j);
    }
}

/// `y_j += a_0 x_0j`, then `+= a_1 x_1j`, `+= a_2 x_2j`, `+= a_3 x_3j`, over the common
/// length: four [`axpy`] calls in one pass, rounded exactly as they are, with one load and
/// one store of `y` where they make four.
#[inline(always)]
pub fn axpy4<T: Real, const FUSED: bool>(y: &mut [T], a: [T; 4], x: [&[T]; 4]) {
    let [x0, x1, x2, x3] = x;
    for ((((y_j, &x0), &x1), &x2), &x3) in y.iter_mut().zip(x0).zip(x1).zip(x2).zip(x3) {
        let y01 = a[1].mul_add::<FUSED>(x1, a[0].mul_add::<FUSED>(x0, *y_j));
        *y_j = a[3].mul_add::<FUSED>(x3, a[2].mul_add::<FUSED>(x2, y01));
    }
}

/// Folds `op` over `x` in [`LANES`] accumulators starting at `init`, then across them and the tail.
#[inline(always)]
fn fold_lanes<T: Real>(x: &[T], init: T, op: impl Fn(T, T) -> T) -> T {
    let mut acc = [init; LANES];
    let chunks = x.chunks_exact(LANES);
    let tail = chunks.remainder();
    for chunk in chunks {
        for (a, &x_j) in acc.iter_mut().zip(chunk) {
            *a = op(*a, x_j);
        }
    }
    let head = acc.into_iter().fold(init, &op);
    tail.iter().fold(head, |a, &x_j| op(a, x_j))
}

/// The rows of a row-major slice with `width` values per row. Every caller's width is checked
/// non-zero first; `max(1)` lets the compiler see it, so this cannot panic.
#[inline(always)]
pub(crate) fn rows<T>(x: &[T], width: usize) -> core::slice::ChunksExact<'_, T> {
    x.chunks_exact(width.max(1))
}

/// [`rows`], mutable.
#[inline(always)]
pub(crate) fn rows_mut<T>(x: &mut [T], width: usize) -> core::slice::ChunksExactMut<'_, T> {
    x.chunks_exact_mut(width.max(1))
}

/// Row `i` of a row-major slice with `width` values per row; empty if it lies outside the
/// slice (a correctly sized buffer never does), never a panic.
#[inline(always)]
pub(crate) fn row<T>(x: &[T], i: usize, width: usize) -> &[T] {
    x.get(i.saturating_mul(width)..)
        .and_then(|rest| rest.get(..width))
        .unwrap_or_default()
}

/// `x` split at `mid`; two empty halves if `mid` lies beyond it (a correctly sized buffer
/// never does), never a panic.
#[inline(always)]
pub(crate) fn split_mut<T>(x: &mut [T], mid: usize) -> (&mut [T], &mut [T]) {
    x.split_at_mut_checked(mid).unwrap_or_default()
}

/// `dst_k = src_k` over the common length (`copy_from_slice` without its length panic).
#[inline(always)]
pub(crate) fn copy<T: Copy>(dst: &mut [T], src: &[T]) {
    dst.iter_mut().zip(src).for_each(|(d, &s)| *d = s);
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use crate::rng::{uniform, DefaultRng};
    use rand_core::SeedableRng;

    /// `dot4` gives [`dot`]'s bits for every row, fused or not, for rows with and without a
    /// tail, shorter than one chunk, and empty.
    #[test]
    fn dot4_rounds_as_four_dots() {
        let mut rng = DefaultRng::seed_from_u64(4);
        for len in [0, 1, 7, LANES, LANES + 5, 3 * LANES, 2500] {
            let mut draw = |n: usize| -> std::vec::Vec<f32> {
                (0..n).map(|_| uniform::<f32, _>(&mut rng) * 2.0 - 0.7).collect()
            };
            let (rows, y) = ([draw(len), draw(len), draw(len), draw(len)], draw(len));
            let x = [&rows[0][..], &rows[1][..], &rows[2][..], &rows[3][..]];
            let (plain, fused) = (dot4::<f32, false>(x, &y), dot4::<f32, true>(x, &y));
            for (r, row) in x.iter().enumerate() {
                assert_eq!(plain[r].to_bits(), dot::<f32, false>(row, &y).to_bits());
                assert_eq!(fused[r].to_bits(), dot::<f32, true>(row, &y).to_bits());
            }
        }
    }
}
