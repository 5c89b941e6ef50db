//! Random draws on top of `rand_core`: uniforms and standard normals for any [`Real`].
//!
//! Only the `rand_core::Rng` trait is used, so any generator works; [`DefaultRng`] (PCG32,
//! 16 bytes of state) is the one the examples and the C ABI use.

use crate::Real;
use rand_core::Rng;

/// The default generator: PCG32 (`rand_pcg::Pcg32`), small, fast and reproducible.
pub type DefaultRng = rand_pcg::Pcg32;

/// A uniform draw in the open interval (0, 1), with [`Real::UNIFORM_BITS`] random bits.
#[inline]
pub fn uniform<T: Real, R: Rng + ?Sized>(rng: &mut R) -> T {
    // (k + 0.5) / 2^bits lies strictly inside (0, 1) and is exact in T.
    T::uniform_from_bits(rng.next_u64() >> (64 - T::UNIFORM_BITS))
}

/// Fills `out` with independent standard normal draws (Box-Muller, both outputs used).
pub fn fill_normal<T: Real, R: Rng + ?Sized>(rng: &mut R, out: &mut [T]) {
    let two_pi = T::from_f64(core::f64::consts::TAU);
    let minus_two = T::from_f64(-2.0);
    let mut pairs = out.chunks_exact_mut(2);
    for pair in &mut pairs {
        let (r, theta) = polar(rng, minus_two, two_pi);
        pair[0] = r * theta.cos();
        pair[1] = r * theta.sin();
    }
    if let [last] = pairs.into_remainder() {
        let (r, theta) = polar(rng, minus_two, two_pi);
        *last = r * theta.cos();
    }
}

/// Radius `sqrt(-2 ln u1)` and angle `2 pi u2` of one Box-Muller pair.
#[inline]
fn polar<T: Real, R: Rng + ?Sized>(rng: &mut R, minus_two: T, two_pi: T) -> (T, T) {
    let u1: T = uniform(rng);
    let u2: T = uniform(rng);
    ((minus_two * u1.ln()).sqrt(), two_pi * u2)
}
