//! Sine and cosine of a fraction of a turn, `2 pi t` for `t` in `[0, 1)`: the angles of the
//! Box-Muller normal draws. Both are free of branches, so the loop over the draws vectorises.

/// `libm`'s `k_sin` and `k_cos` coefficients, and its split of `pi/2` (all as bit patterns).
const S: [f64; 6] = [
    f64::from_bits(0xbfc5_5555_5555_5549),
    f64::from_bits(0x3f81_1111_1110_f8a6),
    f64::from_bits(0xbf2a_01a0_19c1_61d5),
    f64::from_bits(0x3ec7_1de3_57b1_fe7d),
    f64::from_bits(0xbe5a_e5e6_8a2b_9ceb),
    f64::from_bits(0x3de5_d93a_5acf_d57c),
];
/// See [`S`].
const C: [f64; 6] = [
    f64::from_bits(0x3fa5_5555_5555_554c),
    f64::from_bits(0xbf56_c16c_16c1_5177),
    f64::from_bits(0x3efa_01a0_19cb_1590),
    f64::from_bits(0xbe92_7e4f_809c_52ad),
    f64::from_bits(0x3e21_ee9e_bdb4_b1c4),
    f64::from_bits(0xbda8_fae9_be88_38d4),
];
/// `2 / pi`.
const INV_PIO2: f64 = f64::from_bits(0x3fe4_5f30_6dc9_c883);
/// `pi / 2` in three pieces of 33 bits and their tails.
const PIO2: [(f64, f64); 3] = [
    (
        f64::from_bits(0x3ff9_21fb_5440_0000),
        f64::from_bits(0x3dd0_b461_1a62_6331),
    ),
    (
        f64::from_bits(0x3dd0_b461_1a60_0000),
        f64::from_bits(0x3ba3_198a_2e03_7073),
    ),
    (
        f64::from_bits(0x3ba3_198a_2e00_0000),
        f64::from_bits(0x397b_839a_2520_49c1),
    ),
];

/// `libm`'s `sin` and `cos` of `2 pi t`, bit for bit, for `t` in `[0, 1)`, with every branch
/// of theirs turned into a select. `libm` takes `x = 2 pi t <= pi/4` as it is; above, it
/// subtracts `n pi/2` (`n` from 1 to 4 by the high word of `x`, or, near a multiple of `pi/2`,
/// rounded from `x 2/pi` and subtracted in up to three rounds), keeping the remainder as a sum
/// `y0 + y1`; its polynomials then give the sine and cosine of the remainder, and `n mod 4`
/// picks and signs them. Each of those steps is computed here for every `t` and selected.
#[inline(always)]
pub(crate) fn f64_sin_cos(t: f64) -> (f64, f64) {
    let x = core::f64::consts::TAU * t;
    let high = (x.to_bits() >> 32) as u32 & 0x7fff_ffff;
    let small = high <= 0x3fe9_21fb;
    // n from the high word, and the remainder in one subtraction of n (pi/2 in two pieces).
    let quadrant = if high <= 0x4002_d97c {
        1.0
    } else if high <= 0x400f_6a7a {
        2.0
    } else if high <= 0x4015_fdbc {
        3.0
    } else {
        4.0
    };
    let z = x - quadrant * PIO2[0].0;
    let y0 = z - quadrant * PIO2[0].1;
    let quick = (y0, (z - y0) - quadrant * PIO2[0].1);
    // Near a multiple of pi/2 (where the subtraction cancels), n rounded and up to three rounds.
    let near = (high <= 0x400f_6a7a && high & 0xf_ffff == 0x9_21fb)
        || high == 0x4012_d97c
        || high == 0x4019_21fb;
    const TO_INT: f64 = 1.5 / f64::EPSILON;
    let rounded = (x * INV_PIO2 + TO_INT) - TO_INT;
    let exponent = |y: f64| (y.to_bits() >> 52) as i32 & 0x7ff;
    let lost = |y: f64| (high >> 20) as i32 - exponent(y);
    let (mut r, mut w) = (x - rounded * PIO2[0].0, rounded * PIO2[0].1);
    let mut y0 = r - w;
    // libm's second round when more than 16 bits cancelled, its third beyond 49.
    for (&(piece, tail), bits) in PIO2[1..].iter().zip([16, 49]) {
        let needed = lost(y0) > bits;
        let t = r;
        let w_next = rounded * piece;
        let r_next = t - w_next;
        let w_next = rounded * tail - ((t - r_next) - w_next);
        let y0_next = r_next - w_next;
        (r, w, y0) = if needed {
            (r_next, w_next, y0_next)
        } else {
            (r, w, y0)
        };
    }
    let medium = (y0, (r - y0) - w);
    let (n, (y0, y1)) = if small {
        (0.0, (x, 0.0))
    } else if near {
        (rounded, medium)
    } else {
        (quadrant, quick)
    };
    // libm's k_sin (its form for y = 0 when x is small) and k_cos of y0 + y1.
    let z = y0 * y0;
    let w = z * z;
    let r = S[1] + z * (S[2] + z * S[3]) + z * w * (S[4] + z * S[5]);
    let v = z * y0;
    let sin = if small {
        y0 + v * (S[0] + z * r)
    } else {
        y0 - ((z * (0.5 * y1 - v * r) - y1) - v * S[0])
    };
    let r = z * (C[0] + z * (C[1] + z * C[2])) + w * w * (C[3] + z * (C[4] + z * C[5]));
    let hz = 0.5 * z;
    let w = 1.0 - hz;
    let cos = w + (((1.0 - w) - hz) + (z * r - y0 * y1));
    // (Below 2^-26 libm returns x itself for the sine, and below 2^-27 sqrt(2) 1 for the
    // cosine; the polynomials round to exactly those there, so no select is needed.)
    let q = n as u32 & 3;
    let (first, second) = if q & 1 == 1 { (cos, sin) } else { (sin, cos) };
    let first = if q >= 2 { -first } else { first };
    let second = if q == 1 || q == 2 { -second } else { second };
    (first, second)
}

/// In `f32` arithmetic only: the quadrant from `4 t`, then Taylor polynomials of degree 11
/// (sine) and 12 (cosine) on the remaining angle in `[0, pi/2)` (truncation error below
/// 3e-8).
#[inline(always)]
pub(crate) fn f32_sin_cos(t: f32) -> (f32, f32) {
    let scaled = 4.0 * t;
    // Exact: `t` is a multiple of 2^-24 below 1.
    let quadrant = scaled as i32;
    let x = core::f32::consts::FRAC_PI_2 * (scaled - quadrant as f32);
    let x2 = x * x;
    // sin x = x (1 - x^2/(2*3) (1 - x^2/(4*5) (1 - ...))), cos likewise from 1; every
    // factor a multiplication by a constant.
    let step = |inner: f32, k: f32| 1.0 - x2 * (1.0 / (k * (k + 1.0))) * inner;
    let sin = x * step(step(step(step(step(1.0, 10.0), 8.0), 6.0), 4.0), 2.0);
    let cos = step(
        step(step(step(step(step(1.0, 11.0), 9.0), 7.0), 5.0), 3.0),
        1.0,
    );
    // Quadrants 0 to 3 give (sin, cos), (cos, -sin), (-sin, -cos), (-cos, sin): selects,
    // not branches, so that loops around this vectorise.
    let odd = quadrant & 1 == 1;
    let (first, second) = if odd { (cos, sin) } else { (sin, cos) };
    let first = if quadrant >= 2 { -first } else { first };
    let second = if quadrant == 1 || quadrant == 2 {
        -second
    } else {
        second
    };
    (first, second)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn f32_turns_match_libm() {
        let mut worst = 0.0f64;
        for k in 0..(1 << 16) {
            let t = (k as f32 + 0.5) / 65536.0;
            let (s, c) = f32_sin_cos(t);
            let angle = core::f64::consts::TAU * t as f64;
            worst = worst
                .max((s as f64 - libm::sin(angle)).abs())
                .max((c as f64 - libm::cos(angle)).abs());
        }
        assert!(worst < 4e-7, "largest error {worst:e}");
    }

    /// Every `t` at and near the quadrant boundaries and the multiples of `pi/2` (where libm
    /// switches to its rounded reduction, in up to three rounds), near 0 (where it returns `x`
    /// and 1), and a million spread over `[0, 1)`: libm's bits.
    #[test]
    fn f64_turns_are_libm_bit_for_bit() {
        let spread = (0..1_000_000u64).map(|k| (k as f64 + 0.5) / 1e6);
        let edges = [
            0.0, 0.125, 0.25, 0.375, 0.5, 0.625, 0.75, 0.875, 1.0, 1e-9, 5e-9,
        ];
        let close = edges.into_iter().flat_map(|c: f64| {
            (1..200_000u64).flat_map(move |k| [c + k as f64 * 2e-12, c - k as f64 * 2e-12])
        });
        let uniforms = (0..1 << 16).map(|k| (f64::from(k) + 0.5) / 65536.0);
        // The smallest uniforms, 2^-53 up: libm's sine returns x below 2^-26, its cosine 1.
        let tiny = (1..=53).map(|k| 0.5f64.powi(k));
        let all = spread.chain(edges).chain(close).chain(uniforms).chain(tiny);
        for t in all.filter(|t| (0.0..1.0).contains(t)) {
            let angle = core::f64::consts::TAU * t;
            let (sin, cos) = f64_sin_cos(t);
            assert_eq!(
                sin.to_bits(),
                libm::sin(angle).to_bits(),
                "sin at t = {t:e}"
            );
            assert_eq!(
                cos.to_bits(),
                libm::cos(angle).to_bits(),
                "cos at t = {t:e}"
            );
        }
    }
}
