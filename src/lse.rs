//! The kernel's inner loop: max-shifted log-sum-exp over contiguous rows.
//!
//! Shifting by the maximum means `exp` only ever sees arguments `<= 0`: no overflow at any
//! scale, and a coarse `exp` approximation stays bounded in [0, 1]. Each pass is a plain map or
//! a reduction in [`LANES`] independent accumulators, shapes the compiler vectorises; the
//! summation order is fixed, so results are bit-reproducible.

use crate::Real;

/// Independent accumulators per reduction (a multiple of every SIMD width in use).
pub const LANES: usize = 8;

/// Replaces `x_j` by `exp(x_j - max)` and returns `LSE_j(x_j) = max + ln sum_j exp(x_j - max)`;
/// `-inf` (and `x` untouched) when `x` is empty or all `-inf`.
#[inline]
pub fn log_sum_exp_in_place<T: Real>(x: &mut [T]) -> T {
    let max = max(x);
    if max == T::NEG_INFINITY {
        return max;
    }
    for x_j in x.iter_mut() {
        *x_j = (*x_j - max).exp();
    }
    max + sum(x).ln()
}

/// Largest element (`-inf` for an empty slice; NaN-ignoring).
#[inline]
pub fn max<T: Real>(x: &[T]) -> T {
    fold_lanes(x, T::NEG_INFINITY, T::max)
}

/// Sum of the elements, in [`LANES`] accumulators.
#[inline]
pub fn sum<T: Real>(x: &[T]) -> T {
    fold_lanes(x, T::ZERO, |a, b| a + b)
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
