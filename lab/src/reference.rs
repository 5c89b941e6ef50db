//! Reference samples and moments of the targets, and the long MALA runs that produce the
//! references of the targets without exact samplers (`data/reference/`).

use crate::baselines::{Mala, ParticleSampler};
use crate::boltzmann::Dw4;
use crate::metrics::{distance, mean, self_term, variance};
use crate::problem::Problem;
use crate::registry::{build, target_spec, ReferenceKind, TargetSpec, SPLIT_SEED};
use crate::report::{sig, Summary};
use crate::run::Event;
use entropic_transport::precondition::{cholesky, unwhiten, Whitened};
use entropic_transport::rng::fill_normal;
use entropic_transport::{DefaultRng, Target};
use rand_core::SeedableRng;
use std::path::{Path, PathBuf};

/// Reference samples and moments of a target's features.
#[derive(Clone, Debug, Default)]
pub struct Reference {
    /// Samples (count, feature_dim) for the energy distance and sliced W2.
    pub samples: Option<Vec<f64>>,
    /// `E|Y - Y'|` of `samples`.
    pub(crate) samples_self: f64,
    /// The first [`CURVE_REFERENCE`] samples, for the cheaper metric curves, and their self term.
    pub(crate) curve: Option<(Vec<f64>, f64)>,
    /// Per-feature mean.
    pub mean: Option<Vec<f64>>,
    /// Per-feature variance.
    pub var: Option<Vec<f64>>,
}

/// Exact reference samples for the distances.
pub const REFERENCE_SAMPLES: usize = 4000;
/// Exact samples for the reference moments.
const MOMENT_SAMPLES: usize = 20_000;
/// Reference samples used along the run (metric curves).
const CURVE_REFERENCE: usize = 1000;
/// Seed of the exact reference samples.
pub(crate) const REFERENCE_SEED: u64 = 0xE7AC7;
/// Projections of the sliced W2.
pub(crate) const PROJECTIONS: usize = 200;

impl Reference {
    /// The reference of `spec`'s target (exact, or read from `data_dir/reference/`).
    pub fn new(spec: &TargetSpec, problem: &dyn Problem, data_dir: &Path) -> Result<Self, String> {
        let fdim = problem.feature_dim();
        let mut reference = Reference::default();
        match spec.reference {
            ReferenceKind::Exact => {
                let mut rng = DefaultRng::seed_from_u64(REFERENCE_SEED);
                let draw = |count, rng: &mut DefaultRng| {
                    problem
                        .exact_samples(count, rng)
                        .map(|x| problem.features(&x))
                        .ok_or_else(|| format!("{} has no exact sampler", spec.name))
                };
                reference.samples = Some(draw(REFERENCE_SAMPLES, &mut rng)?);
                let moments = draw(MOMENT_SAMPLES, &mut rng)?;
                reference.mean = Some(mean(&moments, fdim));
                reference.var = Some(variance(&moments, fdim));
            }
            ReferenceKind::Moments(file) => {
                let rows = read_table(&reference_path(data_dir, file))?;
                reference.mean = Some(rows.iter().map(|r| r[0]).collect());
                reference.var = Some(rows.iter().map(|r| r[1]).collect());
            }
            ReferenceKind::Samples(file) => {
                let samples: Vec<f64> = read_table(&reference_path(data_dir, file))?.concat();
                reference.mean = Some(mean(&samples, fdim));
                reference.var = Some(variance(&samples, fdim));
                reference.samples = Some(samples);
            }
            ReferenceKind::None => {}
        }
        if let Some(samples) = &reference.samples {
            reference.samples_self = self_term(samples, fdim);
            let head = samples[..samples.len().min(CURVE_REFERENCE * fdim)].to_vec();
            let head_self = self_term(&head, fdim);
            reference.curve = Some((head, head_self));
        }
        Ok(reference)
    }
}

/// `data_dir/reference/NAME.csv`.
pub fn reference_path(data_dir: &Path, name: &str) -> PathBuf {
    data_dir.join("reference").join(format!("{name}.csv"))
}

/// Numeric rows of a CSV whose comment lines start with `#` (no header otherwise).
fn read_table(path: &Path) -> Result<Vec<Vec<f64>>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        format!("{path:?}: {e} (generate it with `cargo run --release -p etd-lab --bin paper -- --make-reference`)")
    })?;
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            l.split(',')
                .map(|c| {
                    c.trim()
                        .parse::<f64>()
                        .map_err(|e| format!("{path:?}: {e}"))
                })
                .collect()
        })
        .collect()
}

/// Settings of a long MALA reference run (independent chains, step adapted during burn-in).
#[derive(Clone, Copy, Debug)]
pub struct MalaRun {
    /// Independent chains.
    pub chains: usize,
    /// Burn-in steps; the step size adapts towards acceptance 0.45-0.65 in windows of 50.
    pub burn_in: usize,
    /// Steps after burn-in.
    pub steps: usize,
    /// Keep every `thin`-th state after burn-in.
    pub thin: usize,
    /// Chains start from `N(0, init_std^2 I)`.
    pub init_std: f64,
    /// Initial step size.
    pub step_size: f64,
    /// Seed.
    pub seed: u64,
}

/// The BLR reference: posterior mean and variance from 40 long MALA chains.
pub const BLR_REFERENCE: MalaRun = MalaRun {
    chains: 40,
    burn_in: 5000,
    steps: 20_000,
    thin: 1,
    init_std: 0.1,
    step_size: 2e-4,
    seed: 0xB12,
};

/// The DW-4 reference: 1000 configurations, 10 from each of 100 long MALA chains.
pub const DW4_REFERENCE: MalaRun = MalaRun {
    chains: 100,
    burn_in: 5000,
    steps: 5000,
    thin: 500,
    init_std: 2.0,
    step_size: 0.01,
    seed: 0xD04,
};

/// Runs `run` on `problem`, calling `keep(chain, state)` on every kept state; returns the final
/// step size and the acceptance rate after burn-in.
pub fn long_mala(
    problem: &mut dyn Problem,
    run: &MalaRun,
    progress: &mut dyn FnMut(Event),
    keep: &mut dyn FnMut(usize, &[f64]),
) -> Result<(f64, f64), String> {
    let d = problem.dim();
    let mut rng = DefaultRng::seed_from_u64(run.seed);
    let mut x = vec![0.0; run.chains * d];
    fill_normal(&mut rng, &mut x);
    x.iter_mut().for_each(|v| *v *= run.init_std);
    let mut mala = Mala {
        step_size: run.step_size,
        steps: 1,
        warm_up: 0,
    };
    let (mut window, mut accepted) = (0.0, 0.0);
    progress(Event::Planned((run.burn_in + run.steps) as u64));
    for it in 1..=run.burn_in + run.steps {
        let rate = mala
            .step(&mut x, problem, &mut rng)
            .map_err(|e| format!("reference MALA step {it}: {e}"))?
            .acceptance
            .unwrap_or(0.0);
        if it <= run.burn_in {
            window += rate;
            if it % 50 == 0 {
                let acc = window / 50.0;
                if acc > 0.65 {
                    mala.step_size *= 1.15;
                } else if acc < 0.45 {
                    mala.step_size /= 1.15;
                }
                window = 0.0;
            }
        } else {
            accepted += rate;
            if (it - run.burn_in) % run.thin == 0 {
                x.chunks_exact(d).enumerate().for_each(|(c, s)| keep(c, s));
            }
        }
        if it % 100 == 0 {
            progress(Event::Advanced(100));
        }
    }
    Ok((mala.step_size, accepted / run.steps.max(1) as f64))
}

/// Writes `data/reference/blr.csv` and `data/reference/dw4.csv` from long MALA runs.
pub fn make_reference(data_dir: &Path, progress: &mut dyn FnMut(Event)) -> Result<(), String> {
    let dir = data_dir.join("reference");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let write = |name: &str, text: String| {
        std::fs::write(reference_path(data_dir, name), text).map_err(|e| e.to_string())
    };
    // BLR: running sums per chain, then pooled moments and the between-chain standard error.
    let spec = target_spec("blr").ok_or("no blr")?;
    let mut problem = build(spec, data_dir)?;
    let d = problem.dim();
    let run = BLR_REFERENCE;
    let mut sums = vec![0.0; run.chains * d];
    let mut squares = vec![0.0; run.chains * d];
    let (h, acc) = long_mala(problem.as_mut(), &run, progress, &mut |c, s| {
        for (k, v) in s.iter().enumerate() {
            sums[c * d + k] += v;
            squares[c * d + k] += v * v;
        }
    })?;
    let kept = (run.steps / run.thin) as f64;
    let mut text = format!(
        "# Reference posterior of `blr` (logistic regression, data/breast_cancer.csv, split seed {SPLIT_SEED}, prior N(0, 25 I)).\n\
         # Long MALA run: {} chains from N(0, {}^2 I), {} burn-in steps (step adapted to acceptance 0.45-0.65), then {} steps at h = {} (acceptance {:.3}), seed {:#x}.\n\
         # Generated by `cargo run --release -p etd-lab --bin paper -- --make-reference`.\n\
         # Columns: posterior mean, posterior variance, Monte Carlo standard error of the mean (between-chain). Last row: intercept.\n",
        run.chains, run.init_std, run.burn_in, run.steps, sig(h, 3), acc, run.seed
    );
    for k in 0..d {
        let chain_means: Vec<f64> = (0..run.chains).map(|c| sums[c * d + k] / kept).collect();
        let m = chain_means.iter().sum::<f64>() / run.chains as f64;
        let second =
            (0..run.chains).map(|c| squares[c * d + k]).sum::<f64>() / (kept * run.chains as f64);
        let between = Summary::of(&chain_means).map_or(0.0, |s| s.sd);
        text += &format!(
            "{},{},{}\n",
            sig(m, 6),
            sig(second - m * m, 6),
            sig(between / (run.chains as f64).sqrt(), 3)
        );
    }
    write("blr", text)?;
    // DW-4: sorted pair distances of thinned states.
    let mut dw4 = Dw4;
    let run = DW4_REFERENCE;
    let mut rows = String::new();
    let (h, acc) = long_mala(&mut dw4, &run, progress, &mut |_, s| {
        let f: Vec<String> = Dw4.features(s).iter().map(|v| sig(*v, 5)).collect();
        rows += &(f.join(",") + "\n");
    })?;
    let header = format!(
        "# Reference samples of `dw4`: the six sorted pair distances of {} configurations.\n\
         # Long MALA run: {} chains from N(0, {}^2 I), {} burn-in steps (step adapted to acceptance 0.45-0.65), then {} steps at h = {} (acceptance {:.3}) keeping every {}th state, seed {:#x}.\n\
         # Generated by `cargo run --release -p etd-lab --bin paper -- --make-reference`.\n",
        run.chains * run.steps / run.thin,
        run.chains, run.init_std, run.burn_in, run.steps, sig(h, 3), acc, run.thin, run.seed
    );
    write("dw4", header + &rows)
}

/// A problem seen through the affine map `x = shift + L z`: the kernel's [`Whitened`] target
/// with the problem's dimension. MALA on `z` is MALA on `x` preconditioned by `L L^T`.
struct Affine<'a> {
    whitened: Whitened<'a, f64>,
    dim: usize,
}

impl<'a> Affine<'a> {
    /// `inner` through `x = shift + L z` (`chol` is `L`, (d, d) row-major); `scratch` holds 2 d.
    fn new(
        inner: &'a mut dyn Problem,
        shift: &'a [f64],
        chol: &'a [f64],
        scratch: &'a mut [f64],
    ) -> Self {
        Affine {
            dim: shift.len(),
            whitened: {
                let (point, score) = scratch.split_at_mut(shift.len());
                Whitened::new(inner, chol, shift, point, score)
            },
        }
    }
}

impl Target<f64> for Affine<'_> {
    fn log_density(&mut self, z: &[f64], dim: usize, out: &mut [f64]) -> Result<(), i32> {
        self.whitened.log_density(z, dim, out)
    }

    fn score(&mut self, z: &[f64], dim: usize, out: &mut [f64]) -> Result<(), i32> {
        self.whitened.score(z, dim, out)
    }

    fn has_score(&self) -> bool {
        self.whitened.has_score()
    }
}

impl Problem for Affine<'_> {
    fn dim(&self) -> usize {
        self.dim
    }
}

/// Starts of [`check_blr_reference`], as multiples of the reference mean.
pub const CHECK_STARTS: [f64; 2] = [1.0, 1.5];

/// Checks `data/reference/blr.csv` with a sampler it did not come from: for each start in
/// [`CHECK_STARTS`], [`BLR_REFERENCE`]'s chains start at that multiple of the reference mean,
/// a pilot MALA run estimates the posterior covariance `S`, and MALA preconditioned by `S`
/// (same settings, from the same start) estimates the mean. Returns one line per start: the
/// L2 distance of that mean from the reference mean, and its between-chain standard error.
pub fn check_blr_reference(
    data_dir: &Path,
    progress: &mut dyn FnMut(Event),
) -> Result<String, String> {
    let spec = target_spec("blr").ok_or("no blr")?;
    let mut problem = build(spec, data_dir)?;
    let reference = Reference::new(spec, problem.as_ref(), data_dir)?;
    let target_mean = reference.mean.ok_or("no reference mean")?;
    let d = problem.dim();
    let run = BLR_REFERENCE;
    let mut report = String::new();
    for scale in CHECK_STARTS {
        let shift: Vec<f64> = target_mean.iter().map(|m| scale * m).collect();
        // Pilot: plain MALA (L = I) from the start; pooled covariance of the kept states.
        let identity: Vec<f64> = (0..d * d)
            .map(|k| if k % (d + 1) == 0 { 1.0 } else { 0.0 })
            .collect();
        let mut scratch = vec![0.0; 2 * d];
        let mut pilot = Affine::new(problem.as_mut(), &shift, &identity, &mut scratch);
        let (mut first, mut second, mut kept) = (vec![0.0; d], vec![0.0; d * d], 0.0);
        long_mala(&mut pilot, &run, progress, &mut |_, z| {
            kept += 1.0;
            for i in 0..d {
                first[i] += z[i];
                for j in 0..d {
                    second[i * d + j] += z[i] * z[j];
                }
            }
        })?;
        let cov: Vec<f64> = (0..d * d)
            .map(|k| second[k] / kept - first[k / d] * first[k % d] / (kept * kept))
            .collect();
        // Preconditioned run; x = shift + L z is linear, so per-chain means of z suffice.
        let mut chol = vec![0.0; d * d];
        if !cholesky(&cov, 1.0, 0.0, 0.0, d, &mut chol) {
            return Err("pilot covariance is not positive definite".to_string());
        }
        let mut affine = Affine::new(problem.as_mut(), &shift, &chol, &mut scratch);
        let mut sums = vec![0.0; run.chains * d];
        let (h, acc) = long_mala(&mut affine, &run, progress, &mut |c, z| {
            sums[c * d..(c + 1) * d]
                .iter_mut()
                .zip(z)
                .for_each(|(s, v)| *s += v);
        })?;
        let kept_per_chain = (run.steps / run.thin) as f64;
        sums.iter_mut().for_each(|s| *s /= kept_per_chain);
        let mut chain_means = vec![0.0; sums.len()];
        unwhiten(&chol, &shift, &sums, &mut chain_means);
        let pooled = mean(&chain_means, d);
        let error = distance(&pooled, &target_mean);
        let se = (0..d)
            .map(|k| {
                let column: Vec<f64> = (0..run.chains).map(|c| chain_means[c * d + k]).collect();
                Summary::of(&column).map_or(0.0, |s| s.sd * s.sd / run.chains as f64)
            })
            .sum::<f64>()
            .sqrt();
        report += &format!(
            "start {scale} x reference mean: preconditioned MALA (h = {}, acceptance {acc:.3}) \
             mean is {} from the reference mean (L2), between-chain standard error {}\n",
            sig(h, 3),
            sig(error, 3),
            sig(se, 2)
        );
    }
    Ok(report)
}
