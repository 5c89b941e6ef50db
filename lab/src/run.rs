//! The run loop: targets x methods x seeds. Every method starts from the same
//! `N(0, init_std^2 I)` ensemble for a given seed (seeds `1..=K`), uses the same particle count
//! and target interface, and is timed on its steps only. Its target evaluations are counted
//! through [`Counting`], so curves show quality against wall time and evaluations as well as
//! iterations.

use crate::baselines::StepInfo;
use crate::evaluate::{curve_metric, curve_metric_name, evaluate, Metrics};
use crate::method::Method;
use crate::problem::Predictive;
use crate::problem::Problem;
use crate::reference::Reference;
use crate::registry::{build, target_spec, TargetSpec, TARGETS};
use crate::report::{Curve, CurvePoint, Report, Row, Snapshot, Summary};
use entropic_transport::rng::fill_normal;
use entropic_transport::{DefaultRng, Target};
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
    /// Checkpoints of the curve metric with the cumulative cost of the steps.
    pub curve: Vec<CurvePoint>,
    /// Final particles (N, d).
    pub particles: Vec<f64>,
}

/// Checkpoints of the metric curve per run.
const CHECKPOINTS: usize = 25;

/// A [`Problem`] that counts the target evaluations passing through it, per point (an `x` of
/// `count * dim` values is `count` evaluations), cumulatively; every method delegates to the
/// wrapped problem.
pub struct Counting<'a> {
    inner: &'a mut dyn Problem,
    /// Points passed to [`Target::log_density`].
    pub density_evals: u64,
    /// Points passed to [`Target::score`] or [`Problem::stochastic_score`]. A minibatch score
    /// (SGLD on data targets) is counted as one score evaluation, although it is cheaper than a
    /// full one (it sums over a batch of the data, not all of it).
    pub score_evals: u64,
}

impl<'a> Counting<'a> {
    /// `problem` with both counts at zero.
    pub fn new(problem: &'a mut dyn Problem) -> Self {
        Counting {
            inner: problem,
            density_evals: 0,
            score_evals: 0,
        }
    }
}

/// Points in `x` (count, dim).
fn points(x: &[f64], dim: usize) -> u64 {
    x.len().checked_div(dim).unwrap_or(0) as u64
}

impl Target<f64> for Counting<'_> {
    fn log_density(&mut self, x: &[f64], dim: usize, out: &mut [f64]) -> Result<(), i32> {
        self.density_evals += points(x, dim);
        self.inner.log_density(x, dim, out)
    }

    fn score(&mut self, x: &[f64], dim: usize, out: &mut [f64]) -> Result<(), i32> {
        self.score_evals += points(x, dim);
        self.inner.score(x, dim, out)
    }

    fn has_score(&self) -> bool {
        self.inner.has_score()
    }
}

impl Problem for Counting<'_> {
    fn dim(&self) -> usize {
        self.inner.dim()
    }

    fn stochastic_score(
        &mut self,
        x: &[f64],
        out: &mut [f64],
        rng: &mut DefaultRng,
    ) -> Result<(), i32> {
        self.score_evals += points(x, self.inner.dim());
        self.inner.stochastic_score(x, out, rng)
    }

    fn exact_samples(&self, count: usize, rng: &mut DefaultRng) -> Option<Vec<f64>> {
        self.inner.exact_samples(count, rng)
    }

    fn feature_dim(&self) -> usize {
        self.inner.feature_dim()
    }

    fn features(&self, x: &[f64]) -> Vec<f64> {
        self.inner.features(x)
    }

    fn mode_weights(&self) -> Option<Vec<f64>> {
        self.inner.mode_weights()
    }

    fn mode_of(&self, x: &[f64]) -> usize {
        self.inner.mode_of(x)
    }

    fn predictive(&self, particles: &[f64]) -> Option<Predictive> {
        self.inner.predictive(particles)
    }
}

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
    let mut problem = Counting::new(problem);
    let mut sampler = method.sampler(spec, d, iterations)?;
    let mut rng = DefaultRng::seed_from_u64(seed);
    let mut x = vec![0.0; spec.particles * d];
    fill_normal(&mut rng, &mut x);
    x.iter_mut().for_each(|v| *v *= spec.init_std);
    let every = (iterations / CHECKPOINTS).max(1);
    let mut elapsed = std::time::Duration::ZERO;
    // The metric only reads the problem (`&dyn`), so it adds no evaluations.
    let point = |it, elapsed: std::time::Duration, problem: &Counting, x: &[f64]| CurvePoint {
        iteration: it,
        seconds: Some(elapsed.as_secs_f64()),
        density_evals: Some(problem.density_evals as f64),
        score_evals: Some(problem.score_evals as f64),
        value: curve_metric(problem, reference, x),
    };
    let mut curve = vec![point(0, elapsed, &problem, &x)];
    let mut failed = false;
    let mut reported = 0;
    let mut ess = Vec::new();
    for it in 1..=iterations {
        let start = std::time::Instant::now();
        let result = sampler.step(&mut x, &mut problem, &mut rng);
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
            curve.push(point(it, elapsed, &problem, &x));
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
        ..evaluate(&problem, reference, &x)
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
        let mut curves: Vec<Vec<CurvePoint>> = Vec::new();
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

/// Pointwise mean of curves with the same checkpoints (every field; a cost field is `None`
/// unless every curve has it).
fn mean_curve(curves: &[Vec<CurvePoint>]) -> Vec<CurvePoint> {
    let Some(first) = curves.first() else {
        return Vec::new();
    };
    let n = curves.len() as f64;
    (0..first.len())
        .map(|k| {
            let mean = |f: fn(&CurvePoint) -> Option<f64>| -> Option<f64> {
                curves
                    .iter()
                    .map(|c| f(&c[k]))
                    .sum::<Option<f64>>()
                    .map(|s| s / n)
            };
            CurvePoint {
                iteration: first[k].iteration,
                seconds: mean(|p| p.seconds),
                density_evals: mean(|p| p.density_evals),
                score_evals: mean(|p| p.score_evals),
                value: curves.iter().map(|c| c[k].value).sum::<f64>() / n,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::method::MUTATION_STEPS;

    /// Evaluations per iteration `(density, score)` of each method on N(0, I_2) with `N`
    /// particles and `M` proposals each, read off the cost of consecutive checkpoints.
    #[test]
    fn curves_count_the_evaluations_of_each_step() {
        let (n, m, iterations) = (20, 5, 8);
        let spec = TargetSpec {
            particles: n,
            proposals: m,
            ..*target_spec("gauss-2d").expect("gauss-2d")
        };
        let data_dir = default_data_dir();
        let mut problem = build(&spec, &data_dir).expect("target");
        let reference = Reference::new(&spec, problem.as_ref(), &data_dir).expect("reference");
        let (n, m, k) = (n as f64, m as f64, f64::from(MUTATION_STEPS));
        // The transport step: N scores at the particles, P = N M densities at the proposals.
        // The kernel's MALA (`mutate`) evaluates density and score at the N starting points and
        // at N proposals per MH step: N (K + 1) of each. The defaults on d = 2: no mutation.
        let expected = [
            (Method::EtdPlain, n * m, n),
            (Method::Etd, n * m, n),
            (Method::EtdMut, n * m + n * (k + 1.0), n + n * (k + 1.0)),
            (Method::Mala, 2.0 * n, 2.0 * n),
            (Method::Ula, 0.0, n),
            (Method::Svgd, 0.0, n),
        ];
        for (method, density, score) in expected {
            let outcome = run_one(
                &spec,
                problem.as_mut(),
                &reference,
                method,
                1,
                iterations,
                &mut |_| {},
            )
            .expect("run");
            assert!(outcome.metrics.is_some(), "{method:?} failed");
            let curve = &outcome.curve;
            assert_eq!(curve.len(), iterations + 1, "{method:?}");
            let first = curve[0];
            assert_eq!(
                (first.iteration, first.density_evals, first.score_evals),
                (0, Some(0.0), Some(0.0))
            );
            for pair in curve.windows(2) {
                let (a, b) = (pair[0], pair[1]);
                let steps = (b.iteration - a.iteration) as f64;
                let delta = |f: fn(&CurvePoint) -> Option<f64>| f(&b).unwrap() - f(&a).unwrap();
                assert!(steps > 0.0 && delta(|p| p.seconds) >= 0.0, "{method:?}");
                assert_eq!(delta(|p| p.density_evals), density * steps, "{method:?}");
                assert_eq!(delta(|p| p.score_evals), score * steps, "{method:?}");
                assert!(b.evaluations().unwrap() > a.evaluations().unwrap());
            }
            assert!(curve.last().unwrap().seconds.unwrap() > 0.0);
        }
    }

    #[test]
    fn mean_curve_averages_every_field() {
        let point = |iteration, seconds: f64, evals: f64, value| CurvePoint {
            iteration,
            seconds: Some(seconds),
            density_evals: Some(evals),
            score_evals: Some(2.0 * evals),
            value,
        };
        let a = vec![point(0, 0.0, 0.0, 1.0), point(5, 1.0, 10.0, 0.5)];
        let b = vec![point(0, 0.0, 0.0, 3.0), point(5, 3.0, 30.0, 0.25)];
        let mean = mean_curve(&[a.clone(), b]);
        assert_eq!(
            mean,
            vec![point(0, 0.0, 0.0, 2.0), point(5, 2.0, 20.0, 0.375)]
        );
        let old = vec![
            CurvePoint {
                seconds: None,
                ..a[0]
            },
            a[1],
        ];
        let mean = mean_curve(&[a, old]);
        assert_eq!((mean[0].seconds, mean[1].seconds), (None, Some(1.0)));
    }
}
