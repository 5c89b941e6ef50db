//! The target density: batch evaluations of `log pi` and, optionally, its score.

use crate::real::is_nan_or_pos_inf;
use crate::{Error, Real};

/// An unnormalised target density `pi` on R^d, evaluated in batches.
///
/// Points are row-major: `x` holds `count = x.len() / dim` points of `dim` coordinates. Both
/// methods are fallible; an `Err(code)` becomes [`Error::Target`]. `log_density` may return
/// `-inf` (zero density) but never NaN or `+inf`; the kernel checks.
pub trait Target<T: Real> {
    /// Writes `log pi(x_k)` into `out[k]`. Shapes: `x` (count, dim), `out` (count).
    fn log_density(&mut self, x: &[T], dim: usize, out: &mut [T]) -> Result<(), i32>;

    /// Writes `grad log pi(x_k)` into `out[k*dim..(k+1)*dim]`. Shapes: `x`, `out` (count, dim).
    ///
    /// Only called when [`Target::has_score`] is `true`.
    fn score(&mut self, x: &[T], dim: usize, out: &mut [T]) -> Result<(), i32> {
        let _ = (x, dim, out);
        Err(0)
    }

    /// Whether [`Target::score`] is implemented.
    fn has_score(&self) -> bool {
        false
    }
}

/// A score-free target from a pointwise closure `|x: &[T]| -> log pi(x)`.
#[derive(Clone, Copy, Debug)]
pub struct LogDensityFn<F>(pub F);

impl<T: Real, F: FnMut(&[T]) -> T> Target<T> for LogDensityFn<F> {
    fn log_density(&mut self, x: &[T], dim: usize, out: &mut [T]) -> Result<(), i32> {
        for (point, value) in x.chunks_exact(dim).zip(out.iter_mut()) {
            *value = (self.0)(point);
        }
        Ok(())
    }
}

/// Any target, even an unsized one, as a sized value that coerces to `&mut dyn Target<T>`, so
/// the stages are compiled once per scalar type instead of once per target type (the
/// preconditioned path would otherwise instantiate them twice: 3.4 KB more flash on a
/// Cortex-M4).
pub(crate) struct Erased<'a, G: ?Sized>(pub &'a mut G);

impl<T: Real, G: Target<T> + ?Sized> Target<T> for Erased<'_, G> {
    fn log_density(&mut self, x: &[T], dim: usize, out: &mut [T]) -> Result<(), i32> {
        self.0.log_density(x, dim, out)
    }

    fn score(&mut self, x: &[T], dim: usize, out: &mut [T]) -> Result<(), i32> {
        self.0.score(x, dim, out)
    }

    fn has_score(&self) -> bool {
        self.0.has_score()
    }
}

/// Evaluates `log pi` at the points `x` (count, dim) into `out` (count), rejecting NaN and `+inf`.
pub(crate) fn eval_log_density<T: Real, G: Target<T> + ?Sized>(
    target: &mut G,
    x: &[T],
    dim: usize,
    out: &mut [T],
) -> Result<(), Error> {
    target.log_density(x, dim, out).map_err(Error::Target)?;
    // `-inf` is a legal zero density; NaN and +inf are not.
    if out.iter().any(|&v| is_nan_or_pos_inf(v)) {
        return Err(Error::NonFiniteDensity);
    }
    Ok(())
}

/// Evaluates the score at `x` (count, dim) into `out` (count, dim), rejecting non-finite values.
pub(crate) fn eval_score<T: Real, G: Target<T> + ?Sized>(
    target: &mut G,
    x: &[T],
    dim: usize,
    out: &mut [T],
) -> Result<(), Error> {
    if !target.has_score() {
        return Err(Error::NoScore);
    }
    target.score(x, dim, out).map_err(Error::Target)?;
    if !out.iter().all(|v| v.is_finite()) {
        return Err(Error::NonFiniteScore);
    }
    Ok(())
}
