//! The targets of the runner, one table: each with its defaults (iterations, particles, step
//! sizes, initial spread), its reference, and the methods of a full run.

use crate::bayes::{load_split, Bnn, LogisticRegression};
use crate::boltzmann::{DoubleWell, Dw4};
use crate::method::Method::{self, *};
use crate::problem::Problem;
use crate::targets::{Banana, DiagonalGaussian, Funnel, GaussianMixture, Pointwise};
use std::path::Path;

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
    pub methods: &'static [Method],
}

/// The default method list of most targets. One balanced ETD step costs far more than a
/// baseline step (an `N x NM` Sinkhorn solve, about 0.1-0.2 s on a shared 2-core machine), so
/// the longer variant lists run on the grid mixture, BLR and `N(0, I_50)` only; `--methods` runs
/// any list anywhere.
const STANDARD: &[Method] = &[Etd, EtdGibbs, Svgd, Ula, Mala];

/// The three couplings, the mutation and preconditioned ETD with mutation, against the baselines
/// (grid mixture, `N(0, I_50)`).
const COUPLINGS: &[Method] = &[
    Etd,
    EtdUnbalanced,
    EtdGibbs,
    EtdMut,
    EtdPreMut,
    Svgd,
    Ula,
    Mala,
];

/// ETD's default step `alpha` (the kernel's default).
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
        methods: &[Etd, EtdGibbs, Svgd, Ula, Mala],
        ..spec("gauss-2d", "N(0, I_2)", 500, 2.0, 0.05, 0.1)
    },
    TargetSpec {
        reference: ReferenceKind::Moments("blr"),
        minibatch: true,
        methods: &[
            Etd,
            EtdUnbalanced,
            EtdMut,
            EtdUnbalancedMut,
            EtdPre,
            EtdPreMut,
            Svgd,
            Ula,
            Mala,
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
        methods: &[Etd, Svgd, Ula, Mala],
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
