//! Host run of the filter firmware's exact problem (`etd-filter`, `src/robot.rs`) over many
//! seeds, so its tolerances are not tuned to the one seed it boots with. For comparison the same
//! 32-particle filter runs with systematic resampling in place of transport, and both are
//! measured against a 2048-particle bootstrap filter on the same trajectory (a stand-in for the
//! exact posterior mean). `cargo test -p etd-cortex-m4 --release --test filter_seeds --
//! --nocapture` prints the distributions.

use entropic_transport::{systematic_resample, Config, Etd};
use etd_cortex_m4::robot::{
    check, errors, estimate, generators, initial_particles, log_likelihood, predict, sin_cos,
    Errors, Pose, World, D, N, P, STEPS,
};

/// How a filter turns its weighted proposals into the next particles.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Resampler {
    /// `Etd::transport` with `Config::filter()`, from the previous particles (the firmware).
    Transport,
    /// `systematic_resample`: the classical bootstrap filter.
    Systematic,
}

/// Particles of the reference filter.
const REFERENCE: usize = 2048;

/// The reference: a `REFERENCE`-particle bootstrap filter on the same trajectory; its
/// importance-weighted mean after each update.
fn reference(seed: u64) -> Vec<Pose> {
    let (world_rng, mut rng) = generators(seed);
    let mut world = World::new(world_rng);
    let mut particles = vec![[0.0f32; D]; REFERENCE];
    initial_particles(&mut rng, &mut particles);
    let mut proposals = particles.clone();
    let mut log_weights = vec![0.0f32; REFERENCE];
    let mut means = Vec::with_capacity(STEPS);
    for _ in 0..STEPS {
        let z = world.step();
        predict(&particles, &mut proposals, &mut rng);
        log_likelihood(&proposals, &z, &mut log_weights);
        let max = log_weights
            .iter()
            .copied()
            .fold(f32::NEG_INFINITY, f32::max);
        let weights: Vec<f64> = log_weights
            .iter()
            .map(|&w| f64::from(w - max).exp())
            .collect();
        let total: f64 = weights.iter().sum();
        let mut mean = [0.0f64; D];
        for (w, y) in weights.iter().zip(&proposals) {
            mean.iter_mut()
                .zip(y)
                .for_each(|(m, &y)| *m += w / total * f64::from(y));
        }
        means.push(mean.map(|m| m as f32));
        systematic_resample(
            particles.as_flattened_mut(),
            proposals.as_flattened(),
            &log_weights,
            D,
            &mut rng,
        )
        .unwrap();
    }
    means
}

/// What one 32-particle run reports.
#[derive(Clone, Copy, Debug)]
struct Run {
    /// Final errors against the true pose (what the firmware checks).
    last: Errors,
    /// Position distance to the reference's mean, averaged over all updates.
    gap: f32,
    /// Sinkhorn sweeps per update (0 for systematic resampling).
    sweeps: f32,
}

/// One run of the firmware's filter with `resampler`, against the reference means.
fn run(seed: u64, resampler: Resampler, reference: &[Pose]) -> Run {
    let mut sampler: Box<Etd<f32, N, P, D>> = Box::default();
    let config = Config::<f32>::filter();
    let (world_rng, mut rng) = generators(seed);
    let mut world = World::new(world_rng);
    let mut particles = [[0.0f32; D]; N];
    initial_particles(&mut rng, &mut particles);
    let mut proposals: [Pose; P] = [[0.0; D]; P];
    let mut log_weights = [0.0f32; P];
    let (mut gap, mut sweeps) = (0.0, 0.0);
    for (step, reference_mean) in reference.iter().enumerate() {
        let z = world.step();
        predict(&particles, &mut proposals, &mut rng);
        log_likelihood(&proposals, &z, &mut log_weights);
        match resampler {
            Resampler::Transport => {
                let stats = sampler
                    .transport(&config, &mut particles, &proposals, &log_weights, &mut rng)
                    .unwrap_or_else(|e| panic!("seed {seed}, update {step}: {e}"));
                sweeps += stats.sinkhorn.iterations as f32 / STEPS as f32;
            }
            Resampler::Systematic => systematic_resample(
                particles.as_flattened_mut(),
                proposals.as_flattened(),
                &log_weights,
                D,
                &mut rng,
            )
            .unwrap_or_else(|e| panic!("seed {seed}, update {step}: {e}")),
        }
        gap += errors(&estimate(&particles), reference_mean).position / STEPS as f32;
    }
    Run {
        last: errors(&estimate(&particles), &world.pose),
        gap,
        sweeps,
    }
}

/// Mean, median, 99th percentile and maximum.
fn summary(mut v: Vec<f32>) -> String {
    v.sort_by(f32::total_cmp);
    let mean = v.iter().sum::<f32>() / v.len() as f32;
    format!(
        "mean {mean:.3}, median {:.3}, p99 {:.3}, max {:.3}",
        v[v.len() / 2],
        v[v.len() * 99 / 100],
        v[v.len() - 1]
    )
}

#[test]
fn filter_tolerances_hold_over_many_seeds() {
    let seeds = 0..500u64;
    let references: Vec<Vec<Pose>> = seeds.clone().map(reference).collect();
    let (mut truth_last, mut world_poses) = (Vec::new(), Vec::new());
    for seed in seeds.clone() {
        let mut world = World::new(generators(seed).0);
        (0..STEPS).for_each(|_| {
            world.step();
        });
        world_poses.push(world.pose);
    }
    for (r, pose) in references.iter().zip(&world_poses) {
        truth_last.push(errors(&r[STEPS - 1], pose).position);
    }
    println!(
        "reference ({REFERENCE}-particle bootstrap), final position error: {}",
        summary(truth_last)
    );
    let mut failures = Vec::new();
    for resampler in [Resampler::Transport, Resampler::Systematic] {
        let runs: Vec<(u64, Run)> = seeds
            .clone()
            .zip(&references)
            .map(|(seed, r)| (seed, run(seed, resampler, r)))
            .collect();
        let column = |f: fn(&Run) -> f32| summary(runs.iter().map(|(_, r)| f(r)).collect());
        println!("{resampler:?}, {N} particles, over {} seeds:", runs.len());
        println!("  final position error  {}", column(|r| r.last.position));
        println!("  final heading error   {}", column(|r| r.last.heading));
        println!("  gap to the reference  {}", column(|r| r.gap));
        if resampler == Resampler::Transport {
            println!("  Sinkhorn sweeps       {}", column(|r| r.sweeps));
            failures.extend(runs.iter().filter(|(_, r)| !check(&r.last)).copied());
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} seeds fail: {failures:?}",
        failures.len(),
        seeds.end
    );
}

#[test]
fn f32_sin_cos_matches_f64() {
    let mut worst = 0.0f64;
    for k in -1_000_000..=1_000_000 {
        let a = k as f32 * 1e-4; // [-100, 100]
        let (sin, cos) = sin_cos(a);
        let exact = f64::from(a);
        worst = worst
            .max((f64::from(sin) - exact.sin()).abs())
            .max((f64::from(cos) - exact.cos()).abs());
    }
    println!("sin_cos: worst absolute error {worst:.2e} on [-100, 100]");
    assert!(worst < 2e-7, "{worst}");
}
