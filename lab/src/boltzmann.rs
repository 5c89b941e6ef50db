//! Molecular-style Boltzmann targets `pi(x) ∝ exp(-E(x) / kT)` at `kT = 1`.
//!
//! - [`DoubleWell`]: the 2-D double well of the Boltzmann-generator paper (Noé, Olsson, Köhler,
//!   Wu, Science 2019): `E(x) = a x1^4 / 4 - b x1^2 / 2 + c x1 + d x2^2 / 2` with
//!   `a = 1, b = 6, c = 1, d = 1`. Two wells at `x1 = -2.53` and `x1 = +2.36`, separated by a
//!   barrier at `x1 = 0.167`, 11.6 kT above the left well and 6.7 kT above the right one; the
//!   tilt `c` makes the left well deeper, so the modes carry unequal mass (0.992 / 0.008). `x2` is an independent unit Gaussian, and
//!   `x1` is sampled exactly by inverting its one-dimensional CDF on a fine grid.
//! - [`Dw4`]: DW-4 (Köhler, Klein, Noé, ICML 2020): four particles in the plane (d = 8) with the
//!   pairwise double-well potential `E = (1 / 2 tau) sum_{i<j} [a r + b r^2 + c r^4]`,
//!   `r = d_ij - d0`, `a = 0, b = -4, c = 0.9, d0 = 4, tau = 1`. Each pair distance prefers
//!   `d0 ± 1.49` (about 2.5 or 5.5) over the barrier at `d0` (2.2 kT). The energy is invariant
//!   to translations, rotations and permutations; translations would make `pi` improper, so a
//!   harmonic restraint `2 |x̄|^2` on the centre of mass `x̄` is added (it does not touch the
//!   pair distances). Metrics compare the sorted six pair distances, which are invariant to all
//!   three symmetries; the reference is a long MALA run (see `host::experiment`).

use crate::problem::Problem;
use crate::targets::PointTarget;
use entropic_transport::Target;

/// The 2-D double well (see the module docs), with an exact sampler.
#[derive(Clone, Debug)]
pub struct DoubleWell {
    /// Grid of `x1` values for the inverse CDF.
    grid: Vec<f64>,
    /// CDF of `x1` on the grid, from 0 to 1.
    cdf: Vec<f64>,
    /// The barrier top, separating the two modes.
    barrier: f64,
}

/// Grid of the inverse CDF: `x1` in [-6, 6]; the density beyond is below e^-100.
const GRID: (f64, f64, usize) = (-6.0, 6.0, 24_001);

impl Default for DoubleWell {
    fn default() -> Self {
        Self::new()
    }
}

impl DoubleWell {
    /// The double well with the constants of the module docs.
    pub fn new() -> Self {
        let (lo, hi, n) = GRID;
        let step = (hi - lo) / (n - 1) as f64;
        let grid: Vec<f64> = (0..n).map(|i| lo + step * i as f64).collect();
        let density: Vec<f64> = grid.iter().map(|&x| (-Self::energy_x1(x)).exp()).collect();
        let mut cdf = vec![0.0; n];
        for i in 1..n {
            cdf[i] = cdf[i - 1] + 0.5 * step * (density[i] + density[i - 1]);
        }
        let total = cdf[n - 1];
        cdf.iter_mut().for_each(|c| *c /= total);
        // The barrier: the root of E'(x1) = x1^3 - 6 x1 + 1 between the wells, by bisection.
        let (mut a, mut b) = (-1.0f64, 1.0f64);
        for _ in 0..60 {
            let m = 0.5 * (a + b);
            // E'(-1) = 6 > 0 and E'(1) = -4 < 0: keep the sign change inside [a, b].
            if m * m * m - 6.0 * m + 1.0 > 0.0 {
                a = m;
            } else {
                b = m;
            }
        }
        DoubleWell {
            grid,
            cdf,
            barrier: 0.5 * (a + b),
        }
    }

    /// The `x1` part of the energy, `x1^4 / 4 - 3 x1^2 + x1`.
    fn energy_x1(x: f64) -> f64 {
        0.25 * x.powi(4) - 3.0 * x * x + x
    }

    /// `x1` at CDF level `u`, linearly interpolated between grid points.
    fn quantile(&self, u: f64) -> f64 {
        let i = self
            .cdf
            .partition_point(|&c| c < u)
            .clamp(1, self.cdf.len() - 1);
        let (c0, c1) = (self.cdf[i - 1], self.cdf[i]);
        let t = if c1 > c0 { (u - c0) / (c1 - c0) } else { 0.5 };
        self.grid[i - 1] + t * (self.grid[i] - self.grid[i - 1])
    }
}

impl PointTarget for DoubleWell {
    fn dim(&self) -> usize {
        2
    }

    fn log_pdf(&self, x: &[f64]) -> f64 {
        -Self::energy_x1(x[0]) - 0.5 * x[1] * x[1]
    }

    fn grad(&self, x: &[f64], out: &mut [f64]) {
        out[0] = -(x[0].powi(3) - 6.0 * x[0] + 1.0);
        out[1] = -x[1];
    }

    fn transform(&self, z: &[f64], out: &mut [f64]) {
        let u = 0.5 * (1.0 + libm::erf(z[0] / core::f64::consts::SQRT_2));
        out[0] = self.quantile(u);
        out[1] = z[1];
    }

    fn mode_weights(&self) -> Option<Vec<f64>> {
        let left = self.cdf[self.grid.partition_point(|&g| g < self.barrier)];
        Some(vec![left, 1.0 - left])
    }

    fn mode_of(&self, x: &[f64]) -> usize {
        usize::from(x[0] >= self.barrier)
    }
}

/// DW-4 (see the module docs): 4 particles in 2-D, `x = (p1, p2, p3, p4)`, d = 8.
#[derive(Clone, Copy, Debug, Default)]
pub struct Dw4;

/// Particles, spatial dimension and the potential's constants of DW-4.
const ATOMS: usize = 4;
const SPACE: usize = 2;
const B: f64 = -4.0;
const C: f64 = 0.9;
const D0: f64 = 4.0;
const TAU: f64 = 1.0;
/// Stiffness of the centre-of-mass restraint `k |x̄|^2 / 2`.
const COM_STIFFNESS: f64 = 4.0;

impl Dw4 {
    /// The pair potential `(a r + b r^2 + c r^4) / (2 tau)` and its derivative in `d`.
    fn pair(d: f64) -> (f64, f64) {
        let r = d - D0;
        let e = (B * r * r + C * r.powi(4)) / (2.0 * TAU);
        let de = (2.0 * B * r + 4.0 * C * r.powi(3)) / (2.0 * TAU);
        (e, de)
    }

    /// Energy of one configuration (8), and its gradient into `grad` when given.
    fn energy(x: &[f64], mut grad: Option<&mut [f64]>) -> f64 {
        let mut e = 0.0;
        if let Some(g) = grad.as_deref_mut() {
            g.fill(0.0);
        }
        for i in 0..ATOMS {
            for j in i + 1..ATOMS {
                let dx = x[SPACE * i] - x[SPACE * j];
                let dy = x[SPACE * i + 1] - x[SPACE * j + 1];
                let d = (dx * dx + dy * dy).sqrt().max(1e-9);
                let (pe, de) = Self::pair(d);
                e += pe;
                if let Some(g) = grad.as_deref_mut() {
                    let (gx, gy) = (de * dx / d, de * dy / d);
                    g[SPACE * i] += gx;
                    g[SPACE * i + 1] += gy;
                    g[SPACE * j] -= gx;
                    g[SPACE * j + 1] -= gy;
                }
            }
        }
        for k in 0..SPACE {
            let com = (0..ATOMS).map(|i| x[SPACE * i + k]).sum::<f64>() / ATOMS as f64;
            e += 0.5 * COM_STIFFNESS * com * com;
            if let Some(g) = grad.as_deref_mut() {
                (0..ATOMS).for_each(|i| g[SPACE * i + k] += COM_STIFFNESS * com / ATOMS as f64);
            }
        }
        e
    }
}

impl Target<f64> for Dw4 {
    fn log_density(&mut self, x: &[f64], dim: usize, out: &mut [f64]) -> Result<(), i32> {
        for (p, o) in x.chunks_exact(dim).zip(out.iter_mut()) {
            *o = -Self::energy(p, None);
        }
        Ok(())
    }

    fn score(&mut self, x: &[f64], dim: usize, out: &mut [f64]) -> Result<(), i32> {
        for (p, o) in x.chunks_exact(dim).zip(out.chunks_exact_mut(dim)) {
            Self::energy(p, Some(&mut *o));
            o.iter_mut().for_each(|v| *v = -*v);
        }
        Ok(())
    }

    fn has_score(&self) -> bool {
        true
    }
}

impl Problem for Dw4 {
    fn dim(&self) -> usize {
        ATOMS * SPACE
    }

    fn feature_dim(&self) -> usize {
        ATOMS * (ATOMS - 1) / 2
    }

    /// The six pair distances of each configuration, sorted ascending.
    fn features(&self, x: &[f64]) -> Vec<f64> {
        let mut out = Vec::with_capacity(x.len() / (ATOMS * SPACE) * self.feature_dim());
        for p in x.chunks_exact(ATOMS * SPACE) {
            let start = out.len();
            for i in 0..ATOMS {
                for j in i + 1..ATOMS {
                    let dx = p[SPACE * i] - p[SPACE * j];
                    let dy = p[SPACE * i + 1] - p[SPACE * j + 1];
                    out.push((dx * dx + dy * dy).sqrt());
                }
            }
            out[start..].sort_by(f64::total_cmp);
        }
        out
    }
}
