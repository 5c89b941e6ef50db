//! The run loop: targets x methods x seeds. Every method starts from the same
//! `N(0, init_std^2 I)` ensemble for a given seed (seeds `1..=K`), uses the same particle count
//! and target interface, and is timed on its steps only.

use crate::baselines::StepInfo;
use crate::evaluate::{curve_metric, curve_metric_name, evaluate, Metrics};
use crate::method::Method;
use crate::problem::Problem;
use crate::reference::Reference;
use crate::registry::{build, target_spec, TargetSpec, TARGETS};
use crate::report::{Curve, Report, Row, Snapshot, Summary};
use entropic_transport::rng::fill_normal;
use entropic_transport::DefaultRng;
use rand_core::SeedableRng;
use std::path::PathBuf;

/// What the runner reports while it works.
#[derive(Clone, Copy, Debug)]
pub enum Event<'a> {
    /// Total iterations planned over all runs.
    Planned(u64),
    /// A run starts.
    Run {
        /// Target name.
        target: &'a str,
        /// The method.
        method: Method,
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
    method: Method,
    seed: u64,
    iterations: usize,
    progress: &mut dyn FnMut(Event),
) -> Result<RunOutcome, String> {
    let d = problem.dim();
    let mut sampler = method.sampler(spec, d, iterations)?;
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

/// What to run.
#[derive(Clone, Debug)]
pub struct Options {
    /// Targets (default: all, or the quick set).
    pub targets: Option<Vec<String>>,
    /// Methods (default: each target's list, or the quick set).
    pub methods: Option<Vec<Method>>,
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

/// The lab's `data/` directory.
pub fn default_data_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/data"))
}

/// The `--quick` mode: a smoke run at a tenth of the Sinkhorn cost of the full one.
pub struct Quick {
    /// Targets.
    pub targets: &'static [&'static str],
    /// Methods.
    pub methods: &'static [Method],
    /// Iterations cap.
    pub iterations: usize,
    /// Particles `N`.
    pub particles: usize,
    /// Proposals per particle `M`.
    pub proposals: usize,
}

/// The `--quick` run.
pub const QUICK: Quick = Quick {
    targets: &["grid4", "gauss-2d", "blr"],
    methods: &[
        Method::Etd,
        Method::EtdPreMut,
        Method::Svgd,
        Method::Ula,
        Method::Mala,
    ],
    iterations: 100,
    particles: 50,
    proposals: 10,
};

/// One target of a plan: its (overridden) spec, methods and iterations.
#[derive(Clone, Debug)]
pub struct Planned {
    /// The target's defaults after the command-line overrides.
    pub spec: TargetSpec,
    /// Methods to run.
    pub methods: Vec<Method>,
    /// Iterations per run.
    pub iterations: usize,
}

/// The plan: each selected target with its methods and iterations.
pub fn plan(options: &Options) -> Result<Vec<Planned>, String> {
    let targets: Vec<&str> = match (&options.targets, options.quick) {
        (Some(t), _) => t.iter().map(String::as_str).collect(),
        (None, true) => QUICK.targets.to_vec(),
        (None, false) => TARGETS.iter().map(|t| t.name).collect(),
    };
    targets
        .iter()
        .map(|name| {
            let spec = target_spec(name).ok_or_else(|| format!("unknown target {name:?}"))?;
            let methods = match (&options.methods, options.quick) {
                (Some(m), _) => m.clone(),
                (None, true) => QUICK.methods.to_vec(),
                (None, false) => spec.methods.to_vec(),
            };
            let iterations = match (options.iterations, options.quick) {
                (Some(i), _) => i,
                (None, true) => spec.iterations.min(QUICK.iterations),
                (None, false) => spec.iterations,
            };
            let mut spec = *spec;
            if options.quick {
                (spec.particles, spec.proposals) = (QUICK.particles, QUICK.proposals);
            }
            spec.proposals = options.proposals.unwrap_or(spec.proposals);
            spec.mutation_step = options.mutation_step.unwrap_or(spec.mutation_step);
            Ok(Planned {
                spec,
                methods,
                iterations,
            })
        })
        .collect()
}

/// Runs the plan of `options`; `progress` hears about every run and iteration.
pub fn run(options: &Options, progress: &mut dyn FnMut(Event)) -> Result<Report, String> {
    let plan = plan(options)?;
    let seeds = options.seed_count();
    let total: usize = plan.iter().map(|p| p.methods.len() * p.iterations).sum();
    progress(Event::Planned(total as u64 * seeds));
    let mut report = Report::default();
    for planned in &plan {
        report.extend(run_target(planned, options, progress)?);
    }
    Ok(report)
}

/// Every method of `planned` on its target, over the seeds of `options`.
pub fn run_target(
    planned: &Planned,
    options: &Options,
    progress: &mut dyn FnMut(Event),
) -> Result<Report, String> {
    let Planned {
        spec,
        methods,
        iterations,
    } = planned;
    let seeds = options.seed_count();
    let mut problem = build(spec, &options.data_dir)?;
    let reference = Reference::new(spec, problem.as_ref(), &options.data_dir)?;
    let mut report = Report::default();
    for &method in methods {
        let mut row = Row {
            target: spec.name.to_string(),
            method,
            label: method.label(spec).to_string(),
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
                *iterations,
                progress,
            )?;
            if seed == 1 {
                report.snapshots.push(Snapshot {
                    target: spec.name.to_string(),
                    method,
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
            method,
            metric: curve_metric_name(&reference).to_string(),
            points: mean_curve(&curves),
        });
        report.rows.push(row);
    }
    Ok(report)
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
