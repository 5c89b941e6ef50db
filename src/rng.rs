//! Random draws on top of `rand_core`: uniforms and standard normals for any [`Real`].
//!
//! Only the `rand_core::Rng` trait is used, so any generator works; [`DefaultRng`] (PCG32,
//! 16 bytes of state) is the one the examples and the C ABI use.

use crate::vector::vectorised;
use crate::Real;
use rand_core::Rng;

/// The default generator: PCG32 (`rand_pcg::Pcg32`), small, fast and reproducible.
pub type DefaultRng = rand_pcg::Pcg32;

/// A uniform draw in the open interval (0, 1) with the mantissa's width of random bits (23 for
/// `f32`, from one 32-bit draw; 52 for `f64`, from one 64-bit draw).
#[inline]
pub fn uniform<T: Real, R: Rng + ?Sized>(rng: &mut R) -> T {
    // (k + 0.5) / 2^bits lies strictly inside (0, 1) and is exact in T.
    let k = if T::UNIFORM_BITS <= 32 {
        u64::from(rng.next_u32() >> (32 - T::UNIFORM_BITS))
    } else {
        rng.next_u64() >> (64 - T::UNIFORM_BITS)
    };
    T::uniform_from_bits(k)
}

/// Fills `out` with independent standard normal draws (Box-Muller, both outputs used): for
/// each pair, radius `sqrt(-2 ln u1)` and angle `2 pi u2`, with the sine and cosine in the
/// scalar's own arithmetic (an `f32` build never uses `f64`). Exactly two uniforms per pair,
/// with no rejection loop, so the work and the generator's advance are fixed by `out.len()`.
/// The uniforms are drawn first, into `out` itself; the transform is then one pass over it
/// with no call, which the compiler vectorises.
pub fn fill_normal<T: Real, R: Rng + ?Sized>(rng: &mut R, out: &mut [T]) {
    let mut pairs = out.chunks_exact_mut(2);
    for pair in &mut pairs {
        pair[0] = uniform(rng);
        pair[1] = uniform(rng);
    }
    if let [last] = pairs.into_remainder() {
        let (u1, u2) = (uniform(rng), uniform(rng));
        *last = box_muller(u1, u2).0;
    }
    vectorised!(_FUSED => {
        for pair in out.chunks_exact_mut(2) {
            (pair[0], pair[1]) = box_muller(pair[0], pair[1]);
        }
    });
}

/// The Box-Muller pair `r (cos 2 pi u2, sin 2 pi u2)`, `r = sqrt(-2 ln u1)`, of two uniforms.
#[inline(always)]
fn box_muller<T: Real>(u1: T, u2: T) -> (T, T) {
    let r = (T::from_f64(-2.0) * u1.ln()).sqrt();
    let (sin, cos) = u2.sin_cos_turns();
    (r * cos, r * sin)
}
