//! The experiment runner behind `examples/paper.rs` (no plotting, no progress bars: those live
//! in the example). One table of targets with their defaults ([`TARGETS`]), one constructor per
//! method family ([`sampler`]), one loop ([`run`]) over targets x methods x seeds, and the
//! metrics of every run aggregated into [`Row`]s.
//!
//! Every method starts from the same `N(0, init_std^2 I)` ensemble for a given seed (seeds
//! `1..=K`), uses the same particle count and target interface, and is timed on its steps only.

use crate::host::baselines::{EtdSampler, Langevin, Mala, ParticleSampler, StepInfo, Svgd};
use crate::host::bayes::{load_split, Bnn, LogisticRegression};
use crate::host::boltzmann::{DoubleWell, Dw4};
use crate::host::metrics::{
    distance, energy_distance_to, mean, median, mode_coverage, self_term, sliced_w2, variance,
};
use crate::host::problem::Problem;
use crate::host::targets::{Banana, DiagonalGaussian, Funnel, GaussianMixture, Pointwise};
use crate::precondition::{cholesky, unwhiten, Whitened};
use crate::rng::fill_normal;
use crate::{Config, Coupling, DefaultRng, Mutation, Precondition, Shape};
use rand_core::SeedableRng;
use std::boxed::Box;
use std::path::{Path, PathBuf};
use std::string::{String, ToString};
use std::vec::Vec;
use std::{format, vec};

/// Where the reference posterior summaries come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReferenceKind {
    /// Exact samples from the target.
    Exact,
    /// Per-dimension mean and variance from a file in `data/reference/` (long MALA run).
    Moments(&'static str),
    /// Samples of the target's features from a file in `data/reference/` (long MALA run).
    Samples(&'static str),
    /// No reference: predictive metrics only.
    None,
}

/// One target and its defaults.
#[derive(Clone, Copy, Debug)]
pub struct TargetSpec {
    /// Name used on the command line.
    pub name: &'static str,
    /// One-line description for the table legend.
    pub summary: &'static str,
    /// Iterations of a full run.
    pub iterations: usize,
    /// Particles `N`.
    pub particles: usize,
    /// ETD proposals per particle `M`.
    pub proposals: usize,
    /// Initial ensemble `N(0, init_std^2 I)`.
    pub init_std: f64,
    /// Step size `h` of ULA / SGLD and MALA.
    pub step_size: f64,
    /// Step size `h` of ETD's unpreconditioned MALA mutation (default `step_size`).
    pub mutation_step: f64,
    /// SVGD's Adam learning rate.
    pub svgd_rate: f64,
    /// ETD's score step `alpha` (proposal std `sqrt(2 alpha)`).
    pub etd_alpha: f64,
    /// Whether ULA uses minibatch scores (then it is SGLD).
    pub minibatch: bool,
    /// Reference for the distance and moment metrics.
    pub reference: ReferenceKind,
    /// Methods of a full run.
    pub methods: &'static [&'static str],
}

/// Every method the runner knows, in table order.
pub const METHODS: &[&str] = &[
    "etd",
    "etd-free",
    "etd-unbalanced",
    "etd-gibbs",
    "etd-mut",
    "etd-unbalanced-mut",
    "etd-pre",
    "etd-pre-mut",
    "svgd",
    "ula",
    "mala",
];

/// The default method list of most targets. One balanced ETD step costs far more than a
/// baseline step (an `N x NM` Sinkhorn solve, about 0.1-0.2 s on a shared 2-core machine), so
/// the longer variant lists run on the grid mixture, BLR and `N(0, I_50)` only; `--methods` runs
/// any list anywhere.
const STANDARD: &[&str] = &["etd", "etd-gibbs", "svgd", "ula", "mala"];

/// The three couplings, the mutation and preconditioned ETD with mutation, against the baselines
/// (grid mixture, `N(0, I_50)`).
const COUPLINGS: &[&str] = &[
    "etd",
    "etd-unbalanced",
    "etd-gibbs",
    "etd-mut",
    "etd-pre-mut",
    "svgd",
    "ula",
    "mala",
];

/// ETD's default step `alpha` (ALGORITHM.md).
const ALPHA: f64 = 0.05;

/// Defaults per target, in the order of a full run (the targets with bars first):
/// `N = 100`, `M = 25` unless stated.
pub const TARGETS: &[TargetSpec] = &[
    TargetSpec {
        methods: COUPLINGS,
        ..spec(
            "grid4",
            "2-D 4-mode grid, means (+-3, +-3), unit std",
            500,
            5.0,
            0.05,
            0.1,
        )
    },
    TargetSpec {
        methods: &["etd", "etd-gibbs", "svgd", "ula", "mala"],
        ..spec("gauss-2d", "N(0, I_2)", 500, 2.0, 0.05, 0.1)
    },
    TargetSpec {
        reference: ReferenceKind::Moments("blr"),
        minibatch: true,
        methods: &[
            "etd",
            "etd-unbalanced",
            "etd-mut",
            "etd-unbalanced-mut",
            "etd-pre",
            "etd-pre-mut",
            "svgd",
            "ula",
            "mala",
        ],
        ..spec(
            "blr",
            "logistic regression, breast cancer (WDBC), d = 31",
            300,
            1.0,
            0.04,
            0.1,
        )
    },
    TargetSpec {
        methods: COUPLINGS,
        ..spec("gauss-50d", "N(0, I_50)", 300, 2.0, 0.05, 0.1)
    },
    spec("gauss-10d", "N(0, I_10)", 300, 2.0, 0.05, 0.1),
    spec(
        "ring8",
        "2-D 8-mode ring, radius 5, unit std",
        500,
        5.0,
        0.05,
        0.1,
    ),
    spec(
        "ring5-10d",
        "10-D 5-mode ring, radius 3 in (x1, x2), unit std",
        300,
        3.0,
        0.05,
        0.1,
    ),
    spec(
        "gauss-ill",
        "N(0, diag(1, 0.01)), condition number 100",
        500,
        2.0,
        0.002,
        0.1,
    ),
    spec(
        "banana",
        "2-D banana, x1 ~ N(0, 4), x2 | x1 ~ N(0.5 (x1^2 - 4), 1)",
        500,
        2.0,
        0.02,
        0.1,
    ),
    spec(
        "funnel",
        "Neal's funnel, d = 10, v ~ N(0, 9)",
        300,
        1.0,
        0.01,
        0.05,
    ),
    spec(
        "dw2",
        "2-D double well (Noé et al. 2019), kT = 1",
        500,
        2.0,
        0.02,
        0.1,
    ),
    TargetSpec {
        reference: ReferenceKind::Samples("dw4"),
        ..spec(
            "dw4",
            "DW-4: 4 particles in 2-D, pairwise double well, d = 8",
            300,
            2.0,
            0.01,
            0.1,
        )
    },
    TargetSpec {
        reference: ReferenceKind::None,
        minibatch: true,
        methods: &["etd", "svgd", "ula", "mala"],
        proposals: 10,
        ..spec(
            "bnn",
            "BNN, 1 hidden layer of 10 tanh, diabetes, d = 122, M = 10",
            300,
            0.3,
            2e-4,
            0.01,
        )
    },
];

/// A target with the common defaults.
const fn spec(
    name: &'static str,
    summary: &'static str,
    iterations: usize,
    init_std: f64,
    step_size: f64,
    svgd_rate: f64,
) -> TargetSpec {
    TargetSpec {
        name,
        summary,
        iterations,
        particles: 100,
        proposals: 25,
        init_std,
        step_size,
        mutation_step: step_size,
        svgd_rate,
        etd_alpha: ALPHA,
        minibatch: false,
        reference: ReferenceKind::Exact,
        methods: STANDARD,
    }
}

/// The spec named `name`.
pub fn target_spec(name: &str) -> Option<&'static TargetSpec> {
    TARGETS.iter().find(|t| t.name == name)
}

/// Human-readable method name on a target.
pub fn method_label(method: &str, spec: &TargetSpec) -> &'static str {
    match method {
        "etd" => "ETD",
        "etd-free" => "ETD score-free",
        "etd-unbalanced" => "ETD unbalanced (rho 1)",
        "etd-gibbs" => "ETD gibbs",
        "etd-mut" => "ETD + MALA mutation (5 steps)",
        "etd-unbalanced-mut" => "ETD unbalanced (rho 1) + MALA mutation (5 steps)",
        "etd-pre" => "ETD preconditioned",
        "etd-pre-mut" => "ETD preconditioned + MALA mutation (5 steps, whitened h = 0.3)",
        "svgd" => "SVGD",
        "ula" if spec.minibatch => "SGLD (batch 32)",
        "ula" => "ULA",
        "mala" => "MALA (step adapted in first half)",
        _ => "?",
    }
}

/// The sampler of `method` on `spec`'s target of dimension `dim`.
/// MALA adapts its step during the first half of the iterations (see [`Mala::warm_up`]).
pub fn sampler(
    method: &str,
    spec: &TargetSpec,
    dim: usize,
    iterations: usize,
) -> Result<Box<dyn ParticleSampler>, String> {
    let base = Config {
        alpha: spec.etd_alpha,
        ..Config::default()
    };
    let unbalanced = Coupling::Unbalanced { rho: 1.0 };
    // ETD-SMC: the kernel's MALA mutation after every transport step.
    let mutation = Mutation {
        steps: MUTATION_STEPS,
        step_size: spec.mutation_step,
    };
    let precondition = Precondition::Ensemble {
        rate: PRECONDITION_RATE,
    };
    let config = match method {
        "etd" => base,
        "etd-free" => Config {
            use_score: false,
            ..base
        },
        "etd-unbalanced" => Config {
            coupling: unbalanced,
            ..base
        },
        "etd-gibbs" => Config {
            coupling: Coupling::Gibbs,
            ..base
        },
        "etd-mut" => Config { mutation, ..base },
        "etd-unbalanced-mut" => Config {
            coupling: unbalanced,
            mutation,
            ..base
        },
        "etd-pre" => Config {
            precondition,
            ..base
        },
        "etd-pre-mut" => Config {
            precondition,
            mutation: Mutation {
                steps: MUTATION_STEPS,
                step_size: WHITENED_MUTATION_STEP,
            },
            ..base
        },
        "svgd" => return Ok(Box::new(Svgd::new(spec.svgd_rate, 5.0))),
        "ula" => {
            return Ok(Box::new(Langevin {
                step_size: spec.step_size,
            }))
        }
        "mala" => {
            return Ok(Box::new(Mala {
                step_size: spec.step_size,
                steps: 1,
                warm_up: iterations / 2,
            }))
        }
        other => return Err(format!("unknown method {other:?}; known: {METHODS:?}")),
    };
    let shape = Shape::new(spec.particles, spec.proposals, dim);
    let etd = EtdSampler::new(shape, config).map_err(|e| e.to_string())?;
    Ok(Box::new(etd))
}

/// MALA steps per iteration of ETD's mutation.
pub const MUTATION_STEPS: u32 = 5;
/// Weight of the current ensemble in the preconditioner's running covariance (about ten steps).
pub const PRECONDITION_RATE: f64 = 0.1;
/// The mutation's MALA step in whitened units, the same on every target: whitening gives the
/// target roughly unit scale, where MALA's optimal step is about `1.36 d^(-1/3)` (0.43 at
/// d = 31, 0.37 at d = 50); 0.3 stays below it up to d = 90.
pub const WHITENED_MUTATION_STEP: f64 = 0.3;

/// Seed of the train/test split of the data targets.
pub const SPLIT_SEED: u64 = 2024;
/// SGLD minibatch size.
const BATCH: usize = 32;

/// The target of `spec`; data targets read their CSV from `data_dir`.
pub fn build(spec: &TargetSpec, data_dir: &Path) -> Result<Box<dyn Problem>, String> {
    Ok(match spec.name {
        "gauss-2d" => Box::new(GaussianMixture::isotropic(2, 1.0)),
        "gauss-10d" => Box::new(GaussianMixture::isotropic(10, 1.0)),
        "gauss-50d" => Box::new(GaussianMixture::isotropic(50, 1.0)),
        "gauss-ill" => Box::new(Pointwise(DiagonalGaussian {
            std: vec![1.0, 0.1],
        })),
        "grid4" => Box::new(GaussianMixture::grid4()),
        "ring8" => Box::new(GaussianMixture::ring(8, 5.0, 2)),
        "ring5-10d" => Box::new(GaussianMixture::ring(5, 3.0, 10)),
        "banana" => Box::new(Pointwise(Banana {
            scale: 2.0,
            twist: 0.5,
        })),
        "funnel" => Box::new(Pointwise(Funnel { dim: 10 })),
        "dw2" => Box::new(Pointwise(DoubleWell::new())),
        "dw4" => Box::new(Dw4),
        "blr" => {
            let (train, test) = load_split(&data_dir.join("breast_cancer.csv"), SPLIT_SEED)?;
            Box::new(LogisticRegression::new(train, test, 5.0, BATCH))
        }
        "bnn" => {
            let (train, test) = load_split(&data_dir.join("diabetes.csv"), SPLIT_SEED)?;
            Box::new(Bnn::new(train, test, 10, BATCH))
        }
        other => return Err(format!("unknown target {other:?}")),
    })
}

/// Reference samples and moments of a target's features.
#[derive(Clone, Debug, Default)]
pub struct Reference {
    /// Samples (count, feature_dim) for the energy distance and sliced W2.
    pub samples: Option<Vec<f64>>,
    /// `E|Y - Y'|` of `samples`.
    samples_self: f64,
    /// The first [`CURVE_REFERENCE`] samples, for the cheaper metric curves, and their self term.
    curve: Option<(Vec<f64>, f64)>,
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
const REFERENCE_SEED: u64 = 0xE7AC7;
/// Projections of the sliced W2.
const PROJECTIONS: usize = 200;

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
        format!("{path:?}: {e} (generate it with `cargo run --release --example paper -- --make-reference`)")
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

/// The metrics of one run (one target, method and seed); `None` where they do not apply.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Metrics {
    /// Energy distance (V-statistic) to the reference samples.
    pub energy: Option<f64>,
    /// Sliced Wasserstein-2 to the reference samples (200 projections).
    pub sw2: Option<f64>,
    /// Euclidean norm of the ensemble mean minus the reference mean.
    pub mean_error: Option<f64>,
    /// Median over dimensions of ensemble variance / reference variance.
    pub var_ratio: Option<f64>,
    /// Smallest per-dimension variance ratio.
    pub var_ratio_min: Option<f64>,
    /// Largest per-dimension variance ratio.
    pub var_ratio_max: Option<f64>,
    /// Modes holding at least one particle.
    pub modes: Option<f64>,
    /// Total variation between the ensemble's mode shares and the true mode weights.
    pub mode_tv: Option<f64>,
    /// Test accuracy (classification).
    pub accuracy: Option<f64>,
    /// Mean test log-likelihood of the posterior predictive.
    pub log_lik: Option<f64>,
    /// Test RMSE of the predictive mean (regression).
    pub rmse: Option<f64>,
    /// ETD's importance-weight ESS `1 / sum_j b_j^2` (of `P = N M`), mean over the second half
    /// of the run.
    pub weight_ess: Option<f64>,
    /// Wall time per iteration in milliseconds (steps only).
    pub ms_per_iter: Option<f64>,
}

/// A metric: JSON key, table header, accessor, and decimals in the table.
#[derive(Clone, Copy)]
pub struct Field {
    /// JSON key.
    pub key: &'static str,
    /// Markdown header.
    pub header: &'static str,
    /// Reads the metric.
    pub get: fn(&Metrics) -> Option<f64>,
    /// Significant digits shown.
    pub digits: usize,
    /// Shown in the markdown table (the rest is JSON only).
    pub in_table: bool,
}

/// Every metric, in table order.
pub const FIELDS: &[Field] = &[
    field("energy", "energy dist.", |m| m.energy, 3, true),
    field("sw2", "sliced W2", |m| m.sw2, 3, true),
    field("mean_error", "mean err.", |m| m.mean_error, 3, true),
    field("var_ratio", "var. ratio (median)", |m| m.var_ratio, 3, true),
    field(
        "var_ratio_min",
        "var. ratio min",
        |m| m.var_ratio_min,
        3,
        false,
    ),
    field(
        "var_ratio_max",
        "var. ratio max",
        |m| m.var_ratio_max,
        3,
        false,
    ),
    field("modes", "modes covered", |m| m.modes, 2, true),
    field("mode_tv", "mode TV", |m| m.mode_tv, 3, true),
    field("accuracy", "test acc.", |m| m.accuracy, 4, true),
    field("log_lik", "test LL", |m| m.log_lik, 4, true),
    field("rmse", "test RMSE", |m| m.rmse, 4, true),
    field("weight_ess", "weight ESS", |m| m.weight_ess, 3, true),
    field("ms_per_iter", "ms / iter", |m| m.ms_per_iter, 3, true),
];

const fn field(
    key: &'static str,
    header: &'static str,
    get: fn(&Metrics) -> Option<f64>,
    digits: usize,
    in_table: bool,
) -> Field {
    Field {
        key,
        header,
        get,
        digits,
        in_table,
    }
}

/// Distance and moment metrics of an ensemble `x` (N, d) against the reference, plus modes and
/// predictive metrics.
pub fn evaluate(problem: &dyn Problem, reference: &Reference, x: &[f64]) -> Metrics {
    let fdim = problem.feature_dim();
    let f = problem.features(x);
    let mut m = Metrics::default();
    if let Some(samples) = &reference.samples {
        m.energy = Some(energy_distance_to(
            &f,
            samples,
            fdim,
            reference.samples_self,
        ));
        m.sw2 = Some(sliced_w2(&f, samples, fdim, PROJECTIONS, REFERENCE_SEED));
    }
    if let (Some(rm), Some(rv)) = (&reference.mean, &reference.var) {
        let (em, ev) = (mean(&f, fdim), variance(&f, fdim));
        m.mean_error = Some(distance(&em, rm));
        let ratios: Vec<f64> = ev.iter().zip(rv).map(|(a, b)| a / b).collect();
        m.var_ratio = Some(median(&ratios));
        m.var_ratio_min = ratios.iter().copied().reduce(f64::min);
        m.var_ratio_max = ratios.iter().copied().reduce(f64::max);
    }
    if let Some(weights) = problem.mode_weights() {
        let d = problem.dim();
        let labels: Vec<usize> = x.chunks_exact(d).map(|p| problem.mode_of(p)).collect();
        let (covered, tv) = mode_coverage(&labels, &weights);
        m.modes = Some(covered as f64);
        m.mode_tv = Some(tv);
    }
    if let Some(p) = problem.predictive(x) {
        m.accuracy = p.accuracy;
        m.log_lik = Some(p.log_likelihood);
        m.rmse = p.rmse;
    }
    m
}

/// The metric tracked along a run: energy distance to the first reference samples where there
/// are samples, the mean error where there are moments, the test RMSE otherwise.
fn curve_metric(problem: &dyn Problem, reference: &Reference, x: &[f64]) -> f64 {
    let fdim = problem.feature_dim();
    if let Some((head, head_self)) = &reference.curve {
        return energy_distance_to(&problem.features(x), head, fdim, *head_self);
    }
    if reference.mean.is_some() {
        return evaluate(problem, reference, x)
            .mean_error
            .unwrap_or(f64::NAN);
    }
    problem
        .predictive(x)
        .and_then(|p| p.rmse)
        .unwrap_or(f64::NAN)
}

/// Name of the metric tracked along a run (energy distance, mean error or test RMSE).
pub fn curve_metric_name(reference: &Reference) -> &'static str {
    if reference.curve.is_some() {
        "energy distance (1000 reference samples)"
    } else if reference.mean.is_some() {
        "posterior-mean error"
    } else {
        "test RMSE"
    }
}

/// What the runner reports while it works.
#[derive(Clone, Copy, Debug)]
pub enum Event<'a> {
    /// Total iterations planned over all runs.
    Planned(u64),
    /// A run starts.
    Run {
        /// Target name.
        target: &'a str,
        /// Method name.
        method: &'a str,
        /// Seed.
        seed: u64,
    },
    /// This many more iterations are done.
    Advanced(u64),
}

/// One run: final metrics, the metric curve, and the final particles.
#[derive(Clone, Debug)]
pub struct RunOutcome {
    /// Final metrics; `None` if the method failed (diverged).
    pub metrics: Option<Metrics>,
    /// `(iteration, curve metric)` checkpoints.
    pub curve: Vec<(usize, f64)>,
    /// Final particles (N, d).
    pub particles: Vec<f64>,
}

/// Checkpoints of the metric curve per run.
const CHECKPOINTS: usize = 25;

/// Runs `method` on the target for `iterations` from the seed's initial ensemble.
pub fn run_one(
    spec: &TargetSpec,
    problem: &mut dyn Problem,
    reference: &Reference,
    method: &str,
    seed: u64,
    iterations: usize,
    progress: &mut dyn FnMut(Event),
) -> Result<RunOutcome, String> {
    let d = problem.dim();
    let mut sampler = sampler(method, spec, d, iterations)?;
    let mut rng = DefaultRng::seed_from_u64(seed);
    let mut x = vec![0.0; spec.particles * d];
    fill_normal(&mut rng, &mut x);
    x.iter_mut().for_each(|v| *v *= spec.init_std);
    let every = (iterations / CHECKPOINTS).max(1);
    let mut curve = vec![(0, curve_metric(problem, reference, &x))];
    let mut elapsed = std::time::Duration::ZERO;
    let mut failed = false;
    let mut reported = 0;
    let mut ess = Vec::new();
    for it in 1..=iterations {
        let start = std::time::Instant::now();
        let result = sampler.step(&mut x, problem, &mut rng);
        elapsed += start.elapsed();
        failed = result.is_err();
        if let Ok(StepInfo {
            weight_ess: Some(w),
            ..
        }) = result
        {
            if 2 * it > iterations {
                ess.push(w);
            }
        }
        if !failed && (it % every == 0 || it == iterations) {
            curve.push((it, curve_metric(problem, reference, &x)));
        }
        if failed || it % 10 == 0 || it == iterations {
            let done = if failed { iterations } else { it };
            progress(Event::Advanced((done - reported) as u64));
            reported = done;
        }
        if failed {
            break;
        }
    }
    let metrics = (!failed).then(|| Metrics {
        ms_per_iter: Some(elapsed.as_secs_f64() * 1e3 / iterations as f64),
        weight_ess: Summary::of(&ess).map(|s| s.mean),
        ..evaluate(problem, reference, &x)
    });
    Ok(RunOutcome {
        metrics,
        curve,
        particles: x,
    })
}

/// Mean, standard deviation (n - 1) and range of a metric over seeds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Summary {
    /// Mean.
    pub mean: f64,
    /// Sample standard deviation (0 for one value).
    pub sd: f64,
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
    /// Number of values.
    pub count: usize,
}

impl Summary {
    /// The summary of `values`; `None` when empty.
    pub fn of(values: &[f64]) -> Option<Summary> {
        let n = values.len();
        if n == 0 {
            return None;
        }
        let mean = values.iter().sum::<f64>() / n as f64;
        let ss = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>();
        Some(Summary {
            mean,
            sd: if n > 1 {
                (ss / (n - 1) as f64).sqrt()
            } else {
                0.0
            },
            min: values.iter().copied().fold(f64::INFINITY, f64::min),
            max: values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            count: n,
        })
    }
}

/// One table row: a method on a target, over seeds.
#[derive(Clone, Debug)]
pub struct Row {
    /// Target name.
    pub target: String,
    /// Method name.
    pub method: String,
    /// Method label.
    pub label: String,
    /// Seeds run.
    pub seeds: usize,
    /// Seeds whose run failed (a non-finite particle, score or density).
    pub failed: usize,
    /// Number of modes of the target (mixtures, double well).
    pub mode_total: Option<usize>,
    /// Per-seed metrics of the successful runs.
    pub per_seed: Vec<Metrics>,
}

impl Row {
    /// The summary of field `f` over the successful seeds.
    pub fn summary(&self, f: &Field) -> Option<Summary> {
        let values: Vec<f64> = self.per_seed.iter().filter_map(|m| (f.get)(m)).collect();
        Summary::of(&values)
    }
}

/// The mean metric curve of a method on a target.
#[derive(Clone, Debug)]
pub struct Curve {
    /// Target name.
    pub target: String,
    /// Method name.
    pub method: String,
    /// What is measured.
    pub metric: &'static str,
    /// `(iteration, mean over successful seeds)`.
    pub points: Vec<(usize, f64)>,
}

/// Final particles of seed 1 (for scatter plots of 2-D targets).
#[derive(Clone, Debug)]
pub struct Snapshot {
    /// Target name.
    pub target: String,
    /// Method name.
    pub method: String,
    /// Particles (N, d).
    pub particles: Vec<f64>,
}

/// Everything a run produced.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// One row per target and method.
    pub rows: Vec<Row>,
    /// One curve per target and method.
    pub curves: Vec<Curve>,
    /// Final ensembles of the first seed.
    pub snapshots: Vec<Snapshot>,
}

/// What to run.
#[derive(Clone, Debug)]
pub struct Options {
    /// Targets (default: all, or the quick set).
    pub targets: Option<Vec<String>>,
    /// Methods (default: each target's list, or the quick set).
    pub methods: Option<Vec<String>>,
    /// Seeds `1..=seeds` (default 5, quick 2).
    pub seeds: Option<u64>,
    /// Iterations override.
    pub iterations: Option<usize>,
    /// ETD proposals per particle `M` override.
    pub proposals: Option<usize>,
    /// Override of the unpreconditioned mutation's step ([`TargetSpec::mutation_step`]).
    pub mutation_step: Option<f64>,
    /// The quick mode: a few targets, methods and iterations (about half a minute).
    pub quick: bool,
    /// Directory of the datasets and `reference/`.
    pub data_dir: PathBuf,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            targets: None,
            methods: None,
            seeds: None,
            iterations: None,
            proposals: None,
            mutation_step: None,
            quick: false,
            data_dir: default_data_dir(),
        }
    }
}

impl Options {
    /// Seeds of the run: `--seeds`, else 5 (2 in quick mode).
    pub fn seed_count(&self) -> u64 {
        self.seeds.unwrap_or(if self.quick { 2 } else { 5 })
    }
}

/// The repository's `data/` directory.
pub fn default_data_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/data"))
}

/// Targets, methods, iterations, particles and proposals per particle of `--quick`: a smoke
/// run at a tenth of the Sinkhorn cost of the full one (N = 50, M = 10).
pub const QUICK: (&[&str], &[&str], usize, usize, usize) = (
    &["grid4", "gauss-2d", "blr"],
    &["etd", "etd-pre-mut", "svgd", "ula", "mala"],
    100,
    50,
    10,
);

/// The plan: each selected target with its methods and iterations.
pub fn plan(options: &Options) -> Result<Vec<(TargetSpec, Vec<String>, usize)>, String> {
    let owned = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let targets = match (&options.targets, options.quick) {
        (Some(t), _) => t.clone(),
        (None, true) => owned(QUICK.0),
        (None, false) => TARGETS.iter().map(|t| t.name.to_string()).collect(),
    };
    targets
        .iter()
        .map(|name| {
            let spec = target_spec(name).ok_or_else(|| format!("unknown target {name:?}"))?;
            let methods = match (&options.methods, options.quick) {
                (Some(m), _) => m.clone(),
                (None, true) => owned(QUICK.1),
                (None, false) => owned(spec.methods),
            };
            if let Some(bad) = methods.iter().find(|m| !METHODS.contains(&m.as_str())) {
                return Err(format!("unknown method {bad:?}; known: {METHODS:?}"));
            }
            let iterations = match (options.iterations, options.quick) {
                (Some(i), _) => i,
                (None, true) => spec.iterations.min(QUICK.2),
                (None, false) => spec.iterations,
            };
            let mut spec = *spec;
            if options.quick {
                (spec.particles, spec.proposals) = (QUICK.3, QUICK.4);
            }
            spec.proposals = options.proposals.unwrap_or(spec.proposals);
            spec.mutation_step = options.mutation_step.unwrap_or(spec.mutation_step);
            Ok((spec, methods, iterations))
        })
        .collect()
}

/// Runs the plan of `options`; `progress` hears about every run and iteration.
pub fn run(options: &Options, progress: &mut dyn FnMut(Event)) -> Result<Report, String> {
    let plan = plan(options)?;
    let seeds = options.seed_count();
    let total: usize = plan.iter().map(|(_, m, it)| m.len() * it).sum();
    progress(Event::Planned(total as u64 * seeds));
    let mut report = Report::default();
    for (spec, methods, iterations) in &plan {
        let (spec, iterations) = (spec, *iterations);
        let mut problem = build(spec, &options.data_dir)?;
        let reference = Reference::new(spec, problem.as_ref(), &options.data_dir)?;
        for method in methods {
            let mut row = Row {
                target: spec.name.to_string(),
                method: method.clone(),
                label: method_label(method, spec).to_string(),
                seeds: seeds as usize,
                failed: 0,
                mode_total: problem.mode_weights().map(|w| w.len()),
                per_seed: Vec::new(),
            };
            let mut curves: Vec<Vec<(usize, f64)>> = Vec::new();
            for seed in 1..=seeds {
                progress(Event::Run {
                    target: spec.name,
                    method,
                    seed,
                });
                let outcome = run_one(
                    spec,
                    problem.as_mut(),
                    &reference,
                    method,
                    seed,
                    iterations,
                    progress,
                )?;
                if seed == 1 {
                    report.snapshots.push(Snapshot {
                        target: spec.name.to_string(),
                        method: method.clone(),
                        particles: outcome.particles.clone(),
                    });
                }
                match outcome.metrics {
                    Some(m) => {
                        row.per_seed.push(m);
                        curves.push(outcome.curve);
                    }
                    None => row.failed += 1,
                }
            }
            report.curves.push(Curve {
                target: spec.name.to_string(),
                method: method.clone(),
                metric: curve_metric_name(&reference),
                points: mean_curve(&curves),
            });
            report.rows.push(row);
        }
    }
    Ok(report)
}

impl Report {
    /// Appends the rows, curves and snapshots of `other`.
    pub fn extend(&mut self, other: Report) {
        self.rows.extend(other.rows);
        self.curves.extend(other.curves);
        self.snapshots.extend(other.snapshots);
    }
}

/// Pointwise mean of curves with the same checkpoints.
fn mean_curve(curves: &[Vec<(usize, f64)>]) -> Vec<(usize, f64)> {
    let Some(first) = curves.first() else {
        return Vec::new();
    };
    (0..first.len())
        .map(|k| {
            let sum: f64 = curves.iter().map(|c| c[k].1).sum();
            (first[k].0, sum / curves.len() as f64)
        })
        .collect()
}

/// `mean ± sd` with `digits` significant digits; modes as `mean/K (min m)`.
fn cell(s: Option<Summary>, f: &Field, row: &Row) -> String {
    let Some(s) = s else {
        return "–".to_string();
    };
    if f.key == "modes" {
        let total = row.mode_total.unwrap_or(0);
        return format!("{:.1}/{total} (min {})", s.mean, s.min);
    }
    if f.key == "var_ratio" {
        let range = |k: &str| {
            FIELDS
                .iter()
                .find(|g| g.key == k)
                .and_then(|g| row.summary(g))
                .map_or(f64::NAN, |t| t.mean)
        };
        return format!(
            "{} [{}, {}]",
            pm(s, f.digits),
            sig(range("var_ratio_min"), 2),
            sig(range("var_ratio_max"), 2)
        );
    }
    pm(s, f.digits)
}

/// `mean ± sd`.
fn pm(s: Summary, digits: usize) -> String {
    if s.count > 1 {
        // Rounding noise of identical values is shown as an exact 0.
        let sd = if s.sd <= 1e-9 * s.mean.abs() {
            0.0
        } else {
            s.sd
        };
        format!("{} ± {}", sig(s.mean, digits), sig(sd, 2))
    } else {
        sig(s.mean, digits)
    }
}

/// `x` with `digits` significant digits, in plain notation.
pub fn sig(x: f64, digits: usize) -> String {
    if !x.is_finite() || x == 0.0 {
        return format!("{x}");
    }
    let magnitude = x.abs().log10().floor() as i32;
    let decimals = (digits as i32 - 1 - magnitude).max(0) as usize;
    format!("{x:.decimals$}")
}

/// The markdown table of `report` (only columns with at least one value).
pub fn markdown(report: &Report) -> String {
    let columns: Vec<&Field> = FIELDS
        .iter()
        .filter(|f| f.in_table && report.rows.iter().any(|r| r.summary(f).is_some()))
        .collect();
    let mut out = String::from("| target | method | failed |");
    columns
        .iter()
        .for_each(|f| out += &format!(" {} |", f.header));
    out += "\n|---|---|---|";
    columns.iter().for_each(|_| out += "---|");
    out += "\n";
    for row in &report.rows {
        out += &format!(
            "| {} | {} | {}/{} |",
            row.target, row.label, row.failed, row.seeds
        );
        for f in &columns {
            out += &format!(" {} |", cell(row.summary(f), f, row));
        }
        out += "\n";
    }
    out
}

/// A JSON number (`null` for NaN and infinities).
fn json_number(x: f64) -> String {
    if x.is_finite() {
        format!("{x}")
    } else {
        "null".to_string()
    }
}

/// The report as JSON: rows with per-field summaries and per-seed values, and the curves.
pub fn json(report: &Report, command: &str) -> String {
    let quote = |s: &str| format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""));
    let rows: Vec<String> = report
        .rows
        .iter()
        .map(|row| {
            let fields: Vec<String> = FIELDS
                .iter()
                .filter_map(|f| {
                    let s = row.summary(f)?;
                    let seeds: Vec<String> = row
                        .per_seed
                        .iter()
                        .map(|m| (f.get)(m).map_or("null".to_string(), json_number))
                        .collect();
                    Some(format!(
                        "{}: {{\"mean\": {}, \"sd\": {}, \"min\": {}, \"max\": {}, \"per_seed\": [{}]}}",
                        quote(f.key),
                        json_number(s.mean),
                        json_number(s.sd),
                        json_number(s.min),
                        json_number(s.max),
                        seeds.join(", ")
                    ))
                })
                .collect();
            format!(
                "    {{\"target\": {}, \"method\": {}, \"label\": {}, \"seeds\": {}, \"failed\": {}, \"metrics\": {{{}}}}}",
                quote(&row.target),
                quote(&row.method),
                quote(&row.label),
                row.seeds,
                row.failed,
                fields.join(", ")
            )
        })
        .collect();
    let curves: Vec<String> = report
        .curves
        .iter()
        .map(|c| {
            let its: Vec<String> = c.points.iter().map(|p| p.0.to_string()).collect();
            let values: Vec<String> = c.points.iter().map(|p| json_number(p.1)).collect();
            format!(
                "    {{\"target\": {}, \"method\": {}, \"metric\": {}, \"iterations\": [{}], \"values\": [{}]}}",
                quote(&c.target),
                quote(&c.method),
                quote(c.metric),
                its.join(", "),
                values.join(", ")
            )
        })
        .collect();
    format!(
        "{{\n  \"command\": {},\n  \"rows\": [\n{}\n  ],\n  \"curves\": [\n{}\n  ]\n}}\n",
        quote(command),
        rows.join(",\n"),
        curves.join(",\n")
    )
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
         # Generated by `cargo run --release --example paper -- --make-reference`.\n\
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
         # Generated by `cargo run --release --example paper -- --make-reference`.\n",
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
            whitened: Whitened::new(inner, chol, shift, scratch),
        }
    }
}

impl crate::Target<f64> for Affine<'_> {
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
