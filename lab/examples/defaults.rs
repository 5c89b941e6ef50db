//! The measurement behind the kernel's default configuration: ETD variants on the runner's
//! targets, 5 seeds each (N = 100, M = 25, the target's iterations from its initial ensemble,
//! f64), two seeds at a time.
//!
//! `cargo run --release -p etd-lab --example defaults -- TARGET[,TARGET..] VARIANT [VARIANT..]`
//!
//! A variant is comma-separated edits of `Config::plain()` (`default` switches to
//! `Config::default()`, and later edits apply to it): `pre=RATE`
//! (precondition, 0 = off), `mut=K` (mutation steps), `h=STEP` (mutation step size),
//! `alpha=A`, `eps=E`, `cap=K`, `tol=T`, `m=M` (proposals per particle). Prints energy distance, median variance ratio, modes
//! and ms per iteration, mean (and worst) over the seeds.
use entropic_transport::rng::fill_normal;
use entropic_transport::{Config, DefaultRng, Mutation, Precondition, Shape, Steps};
use etd_lab::baselines::{EtdSampler, ParticleSampler};
use etd_lab::evaluate::{evaluate, Metrics};
use etd_lab::reference::Reference;
use etd_lab::registry::{build, target_spec};
use etd_lab::run::Options;
use rand_core::SeedableRng;
use std::time::Instant;

const SEEDS: u64 = 5;

/// `Config::plain()` with the edits of `variant`, and the proposals per particle if set.
fn parse(variant: &str) -> (Config<f64>, Option<usize>) {
    let (mut c, mut m) = (Config::plain(), None);
    for edit in variant.split(',') {
        if edit == "default" {
            c = Config::default();
            continue;
        }
        let (key, value) = edit.split_once('=').expect("key=value");
        let v: f64 = value.parse().expect("a number");
        match key {
            "pre" if v == 0.0 => c.precondition = Precondition::Off,
            "pre" => c.precondition = Precondition::Ensemble { rate: v },
            "mut" => {
                c.mutation = Mutation {
                    steps: Steps::Fixed(v as u32),
                    ..c.mutation
                }
            }
            "h" => c.mutation.step_size = v,
            "alpha" => c.alpha = v,
            "eps" => c.epsilon = v,
            "cap" => c.max_iterations = v as u32,
            "tol" => c.tolerance = v,
            "m" => m = Some(v as usize),
            other => panic!("unknown key {other}"),
        }
    }
    (c, m)
}

/// One seed with `m` proposals per particle (else the target's): the final metrics and ms per
/// iteration.
fn run(target: &str, config: &Config<f64>, m: Option<usize>, seed: u64) -> (Metrics, f64) {
    let spec = target_spec(target).expect("a runner target");
    let data = Options::default().data_dir;
    let mut problem = build(spec, &data).unwrap();
    let reference = Reference::new(spec, problem.as_ref(), &data).unwrap();
    let d = problem.dim();
    let proposals = m.unwrap_or(spec.proposals);
    let mut sampler =
        EtdSampler::new(Shape::new(spec.particles, proposals, d), *config).expect("a valid shape");
    let mut rng = DefaultRng::seed_from_u64(seed);
    let mut x = vec![0.0; spec.particles * d];
    fill_normal(&mut rng, &mut x);
    x.iter_mut().for_each(|v| *v *= spec.init_std);
    let start = Instant::now();
    for _ in 0..spec.iterations {
        sampler.step(&mut x, problem.as_mut(), &mut rng).unwrap();
    }
    let ms = start.elapsed().as_secs_f64() * 1e3 / spec.iterations as f64;
    (evaluate(problem.as_ref(), &reference, &x), ms)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (targets, variants) = args.split_first().expect("TARGETS VARIANT..");
    for target in targets.split(',') {
        for variant in variants {
            let (config, m) = parse(variant);
            let runs: Vec<(Metrics, f64)> = std::thread::scope(|s| {
                let handles: Vec<_> = (1..=SEEDS)
                    .map(|seed| s.spawn(move || run(target, &config, m, seed)))
                    .collect();
                handles.into_iter().map(|h| h.join().unwrap()).collect()
            });
            let stat = |f: &dyn Fn(&Metrics) -> Option<f64>| {
                let v: Vec<f64> = runs.iter().filter_map(|(m, _)| f(m)).collect();
                let mean = v.iter().sum::<f64>() / v.len().max(1) as f64;
                (mean, v)
            };
            let (ed, eds) = stat(&|m| m.energy);
            let (vr, vrs) = stat(&|m| m.var_ratio);
            let (modes, all_modes) = stat(&|m| m.modes);
            let ms = runs.iter().map(|r| r.1).sum::<f64>() / SEEDS as f64;
            println!(
                "{target:10} {variant:32} ED {ed:.4} (worst {:.4})  var {vr:.3} [{:.3}, {:.3}]  modes {modes:.1} (min {:.0})  {ms:.1} ms/it",
                eds.iter().cloned().fold(0.0, f64::max),
                vrs.iter().cloned().fold(f64::INFINITY, f64::min),
                vrs.iter().cloned().fold(0.0, f64::max),
                all_modes.iter().cloned().fold(f64::INFINITY, f64::min),
            );
        }
    }
}
