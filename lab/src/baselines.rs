//! Baseline particle samplers on the same [`Problem`] interface as ETD: SVGD, ULA / SGLD and
//! MALA. Each is a [`ParticleSampler`], so the experiment runner drives every method with one
//! loop; `Etd` joins them through [`EtdSampler`].

use crate::problem::Problem;
use entropic_transport::mutate::{mutate, MutationBuffers};
use entropic_transport::rng::fill_normal;
use entropic_transport::{workspace_len, Config, DefaultRng, Error, Shape, Workspace};

/// One iteration of a particle method on `x` (N, d) in place.
pub trait ParticleSampler {
    /// Moves the ensemble and says what the step saw.
    fn step(
        &mut self,
        x: &mut [f64],
        target: &mut dyn Problem,
        rng: &mut DefaultRng,
    ) -> Result<StepInfo, Error>;
}

/// Diagnostics of one iteration; `None` where a method has no such quantity.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct StepInfo {
    /// Fraction of accepted Metropolis-Hastings proposals (MALA, ETD's mutation).
    pub acceptance: Option<f64>,
    /// ETD's importance-weight ESS `1 / sum_j b_j^2`, in [1, P].
    pub weight_ess: Option<f64>,
}

/// Scales each row of `s` (rows of `dim`) longer than `clip` down to length `clip`.
pub fn clip_rows(s: &mut [f64], dim: usize, clip: f64) {
    for row in s.chunks_exact_mut(dim) {
        let norm = row.iter().map(|v| v * v).sum::<f64>().sqrt();
        if norm > clip {
            row.iter_mut().for_each(|v| *v *= clip / norm);
        }
    }
}

/// The exact score of `x` (N, d), checked finite.
fn full_score(target: &mut dyn Problem, x: &[f64], out: &mut [f64]) -> Result<(), Error> {
    let d = target.dim();
    target.score(x, d, out).map_err(Error::Target)?;
    finite(out, Error::NonFiniteScore)
}

/// `Err(err)` unless every value is finite.
fn finite(values: &[f64], err: Error) -> Result<(), Error> {
    if values.iter().all(|v| v.is_finite()) {
        Ok(())
    } else {
        Err(err)
    }
}

/// Stein variational gradient descent (Liu and Wang 2016) with the RBF kernel
/// `k(x, y) = exp(-|x - y|^2 / h)`, the median heuristic `h = median(|x_i - x_j|^2) / ln(N + 1)`,
/// scores clipped to length `score_clip`, and Adam on the Stein direction, as in the ETD
/// authors' baseline.
#[derive(Clone, Debug)]
pub struct Svgd {
    /// Adam learning rate.
    pub learning_rate: f64,
    /// Score clip (5 in the authors' code).
    pub score_clip: f64,
    first: Vec<f64>,
    second: Vec<f64>,
    steps: i32,
}

/// Adam's decay rates and denominator guard.
const ADAM: (f64, f64, f64) = (0.9, 0.999, 1e-8);

impl Svgd {
    /// SVGD with Adam at `learning_rate` and scores clipped at `score_clip`.
    pub fn new(learning_rate: f64, score_clip: f64) -> Self {
        Svgd {
            learning_rate,
            score_clip,
            first: Vec::new(),
            second: Vec::new(),
            steps: 0,
        }
    }

    /// The Stein direction `phi(x_i) = mean_j [k(x_j, x_i) s_j + grad_{x_j} k(x_j, x_i)]`.
    fn direction(x: &[f64], score: &[f64], dim: usize, phi: &mut [f64]) {
        let n = x.len() / dim;
        let sq = |i: usize, j: usize| -> f64 {
            x[i * dim..(i + 1) * dim]
                .iter()
                .zip(&x[j * dim..(j + 1) * dim])
                .map(|(a, b)| (a - b) * (a - b))
                .sum()
        };
        let mut pairs: Vec<f64> = (0..n)
            .flat_map(|i| (i + 1..n).map(move |j| (i, j)))
            .map(|(i, j)| sq(i, j))
            .collect();
        let h = if pairs.is_empty() {
            1.0
        } else {
            let mid = pairs.len() / 2;
            let (_, m, _) = pairs.select_nth_unstable_by(mid, f64::total_cmp);
            (*m / ((n + 1) as f64).ln()).max(1e-12)
        };
        phi.fill(0.0);
        for i in 0..n {
            let xi = &x[i * dim..(i + 1) * dim];
            let out = &mut phi[i * dim..(i + 1) * dim];
            for j in 0..n {
                let k = (-sq(i, j) / h).exp();
                let xj = &x[j * dim..(j + 1) * dim];
                let sj = &score[j * dim..(j + 1) * dim];
                for ((o, (&a, &b)), &s) in out.iter_mut().zip(xi.iter().zip(xj)).zip(sj) {
                    *o += k * (s + 2.0 * (a - b) / h) / n as f64;
                }
            }
        }
    }
}

impl ParticleSampler for Svgd {
    fn step(
        &mut self,
        x: &mut [f64],
        target: &mut dyn Problem,
        _rng: &mut DefaultRng,
    ) -> Result<StepInfo, Error> {
        let d = target.dim();
        let mut score = vec![0.0; x.len()];
        full_score(target, x, &mut score)?;
        clip_rows(&mut score, d, self.score_clip);
        let mut phi = vec![0.0; x.len()];
        Self::direction(x, &score, d, &mut phi);
        if self.first.len() != x.len() {
            self.first = vec![0.0; x.len()];
            self.second = vec![0.0; x.len()];
            self.steps = 0;
        }
        self.steps += 1;
        let (b1, b2, guard) = ADAM;
        let (c1, c2) = (1.0 - b1.powi(self.steps), 1.0 - b2.powi(self.steps));
        for (((xv, g), m), v) in x
            .iter_mut()
            .zip(&phi)
            .zip(&mut self.first)
            .zip(&mut self.second)
        {
            *m = b1 * *m + (1.0 - b1) * g;
            *v = b2 * *v + (1.0 - b2) * g * g;
            *xv += self.learning_rate * (*m / c1) / ((*v / c2).sqrt() + guard);
        }
        finite(x, Error::NonFiniteParticles)?;
        Ok(StepInfo::default())
    }
}

/// The unadjusted Langevin algorithm `x <- x + h s(x) + sqrt(2h) xi`, independently per
/// particle. With [`Problem::stochastic_score`] a minibatch estimate on data targets, this is
/// SGLD (Welling and Teh 2011, constant step).
#[derive(Clone, Copy, Debug)]
pub struct Langevin {
    /// Step size `h`.
    pub step_size: f64,
}

impl ParticleSampler for Langevin {
    fn step(
        &mut self,
        x: &mut [f64],
        target: &mut dyn Problem,
        rng: &mut DefaultRng,
    ) -> Result<StepInfo, Error> {
        let mut score = vec![0.0; x.len()];
        target
            .stochastic_score(x, &mut score, rng)
            .map_err(Error::Target)?;
        finite(&score, Error::NonFiniteScore)?;
        let mut noise = vec![0.0; x.len()];
        fill_normal(rng, &mut noise);
        let h = self.step_size;
        for ((xv, s), z) in x.iter_mut().zip(&score).zip(&noise) {
            *xv += h * s + (2.0 * h).sqrt() * z;
        }
        finite(x, Error::NonFiniteParticles)?;
        Ok(StepInfo::default())
    }
}

/// The Metropolis-adjusted Langevin algorithm on independent chains: `steps` MH steps per
/// iteration with the proposal `y = x + h s(x) + sqrt(2h) xi`, run by the kernel's
/// [`mutate`] stage, plus a step-size warm-up.
#[derive(Clone, Copy, Debug)]
pub struct Mala {
    /// Step size `h`.
    pub step_size: f64,
    /// MH steps per iteration.
    pub steps: u32,
    /// Warm-up iterations left: while positive, each iteration scales `h` by 1.1 up or down
    /// when the acceptance rate over the ensemble leaves [0.45, 0.65] (0: fixed step).
    pub warm_up: usize,
}

impl ParticleSampler for Mala {
    fn step(
        &mut self,
        x: &mut [f64],
        target: &mut dyn Problem,
        rng: &mut DefaultRng,
    ) -> Result<StepInfo, Error> {
        let d = target.dim();
        let n = x.len() / d;
        let (mut proposal, mut score, mut score_proposal) =
            (vec![0.0; n * d], vec![0.0; n * d], vec![0.0; n * d]);
        let (mut log_pi, mut log_pi_proposal) = (vec![0.0; n], vec![0.0; n]);
        let buffers = MutationBuffers {
            proposal: &mut proposal,
            score: &mut score,
            score_proposal: &mut score_proposal,
            log_pi: &mut log_pi,
            log_pi_proposal: &mut log_pi_proposal,
        };
        let rate = mutate(x, d, self.steps, self.step_size, target, buffers, rng)?;
        if self.warm_up > 0 {
            self.warm_up -= 1;
            if rate > 0.65 {
                self.step_size *= 1.1;
            } else if rate < 0.45 {
                self.step_size /= 1.1;
            }
        }
        Ok(StepInfo {
            acceptance: Some(rate),
            weight_ess: None,
        })
    }
}

/// ETD through the runtime-sized [`Workspace`], owning its memory (the warm-start potentials
/// persist between steps).
#[derive(Clone, Debug)]
pub struct EtdSampler {
    /// The ETD configuration.
    pub config: Config<f64>,
    shape: Shape,
    memory: Vec<f64>,
}

impl EtdSampler {
    /// An ETD sampler for `shape` with `config`; `Err` if a size is zero.
    pub fn new(shape: Shape, config: Config<f64>) -> Result<Self, Error> {
        let len = workspace_len(&shape).ok_or(Error::ZeroSize)?;
        Ok(EtdSampler {
            config,
            shape,
            memory: vec![0.0; len],
        })
    }
}

impl ParticleSampler for EtdSampler {
    fn step(
        &mut self,
        x: &mut [f64],
        target: &mut dyn Problem,
        rng: &mut DefaultRng,
    ) -> Result<StepInfo, Error> {
        let mut ws = Workspace::from_memory(self.shape, &mut self.memory)?;
        let stats = ws.step(&self.config, x, target, rng)?;
        Ok(StepInfo {
            acceptance: (self.config.mutation.steps.count(self.shape.dim) > 0)
                .then_some(stats.acceptance_rate),
            weight_ess: Some(stats.weight_ess),
        })
    }
}
