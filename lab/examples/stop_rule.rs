//! The measurement behind the default Sinkhorn stop rule: the sampling-quality tests' problems
//! over many seeds at a given tolerance and iteration cap.
//!
//! `cargo run --release -p etd-lab --example stop_rule -- TOL CAP [SEEDS] [log]`
//!
//! Prints, for the four-mode grid (N = 100, M = 25, 500 steps from `N(0, 25 I)`, f64) the mean
//! energy distance to exact samples with its standard error, the worst seed and the smallest
//! mode; and for `N(0, I_2)` (200 steps from `N(0, 4 I)`) the variance ratios and how many seeds
//! end with a mean coordinate of at least 0.1; plus Sinkhorn iterations per step and wall time.
//! `log` runs the log-domain solver instead of the default scaling one.
use entropic_transport::rng::fill_normal;
use entropic_transport::{Config, DefaultRng, Etd, Solver, Target};
use etd_lab::metrics::{energy_distance, variance};
use etd_lab::targets::GaussianMixture;
use rand_core::SeedableRng;
use std::time::Instant;

const N: usize = 100;
const M: usize = 25;

fn run<G: Target<f64>>(
    seed: u64,
    target: &mut G,
    config: &Config<f64>,
    std: f64,
    iters: usize,
) -> (Vec<f64>, f64, f64) {
    let mut x = Box::new([[0.0; 2]; N]);
    fill_normal(
        &mut DefaultRng::seed_from_u64(seed ^ 0x5eed),
        x.as_flattened_mut(),
    );
    x.as_flattened_mut().iter_mut().for_each(|v| *v *= std);
    let mut s: Box<Etd<f64, N, { N * M }, 2>> = Box::default();
    let mut rng = DefaultRng::seed_from_u64(seed);
    let mut its = 0u64;
    let t0 = Instant::now();
    for _ in 1..=iters {
        let st = s.step(config, &mut x, target, &mut rng).unwrap();
        its += st.sinkhorn.iterations as u64;
    }
    let ms = t0.elapsed().as_secs_f64() * 1e3 / iters as f64;
    (x.as_flattened().to_vec(), its as f64 / iters as f64, ms)
}

fn par<R: Send>(seeds: Vec<u64>, f: impl Fn(u64) -> R + Sync) -> Vec<R> {
    let f = &f;
    let chunks: Vec<Vec<u64>> = vec![
        seeds.iter().copied().step_by(2).collect(),
        seeds.iter().copied().skip(1).step_by(2).collect(),
    ];
    let mut out: Vec<(u64, R)> = std::thread::scope(|s| {
        let hs: Vec<_> = chunks
            .into_iter()
            .map(|c| {
                s.spawn(move || {
                    c.into_iter()
                        .map(|seed| (seed, f(seed)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        hs.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    out.sort_by_key(|p| p.0);
    out.into_iter().map(|p| p.1).collect()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let number = |k: usize, default: f64| {
        args.get(k)
            .map_or(default, |a| a.parse().expect("TOL CAP [SEEDS] [log]"))
    };
    let (tol, cap, seeds) = (
        number(0, 5e-2),
        number(1, 8.0) as u32,
        number(2, 60.0) as u64,
    );
    let solver = if args.get(3).is_some_and(|a| a == "log") {
        Solver::Log
    } else {
        Solver::Scaling
    };
    let config = Config {
        tolerance: tol,
        max_iterations: cap,
        solver,
        ..Config::default()
    };
    let res = par((1..=seeds).collect(), |seed| {
        let mut t = GaussianMixture::grid4();
        let (x, its, ms) = run(seed, &mut t, &config, 5.0, 500);
        let exact = t.sample(4000, &mut DefaultRng::seed_from_u64(1000 + seed));
        let mut c = [0; 4];
        x.chunks_exact(2).for_each(|p| c[t.nearest_mode(p)] += 1);
        (
            energy_distance(&x, &exact, 2),
            *c.iter().min().unwrap(),
            its,
            ms,
        )
    });
    let eds: Vec<f64> = res.iter().map(|r| r.0).collect();
    let n = eds.len() as f64;
    let mean = eds.iter().sum::<f64>() / n;
    let se = (eds.iter().map(|e| (e - mean).powi(2)).sum::<f64>() / (n - 1.0) / n).sqrt();
    let first5 = eds[..5].iter().sum::<f64>() / 5.0;
    let its: f64 = res.iter().map(|r| r.2).sum::<f64>() / n;
    let ms: f64 = res.iter().map(|r| r.3).sum::<f64>() / n;
    let g = par((21..21 + seeds / 2).collect(), |seed| {
        let mut t = GaussianMixture::isotropic(2, 1.0);
        let (x, its, _) = run(seed, &mut t, &config, 2.0, 200);
        (variance(&x, 2), its, etd_lab::metrics::mean(&x, 2))
    });
    let means: Vec<f64> = g.iter().map(|r| r.2[0].abs().max(r.2[1].abs())).collect();
    let over = means.iter().filter(|&&m| m >= 0.1).count();
    let lo: f64 = g.iter().map(|r| r.0[0].min(r.0[1])).sum::<f64>() / g.len() as f64;
    let hi: f64 = g.iter().map(|r| r.0[0].max(r.0[1])).sum::<f64>() / g.len() as f64;
    let vr: Vec<f64> = g.iter().flat_map(|r| r.0.clone()).collect();
    println!("{solver:?} tol {tol:e} cap {cap}: grid ED {mean:.4} ± {se:.4} (seeds 1-5: {first5:.4}; worst {:.4}; min mode {}) iters {its:.1} ms/step {ms:.2} | N(0,I2) var mean smaller {lo:.3} larger {hi:.3}, range [{:.3}, {:.3}] iters {:.1} | max|mean| >= 0.1 in {over}/{} seeds (largest {:.3})",
        eds.iter().cloned().fold(0.0, f64::max), res.iter().map(|r| r.1).min().unwrap(),
        vr.iter().cloned().fold(f64::INFINITY, f64::min), vr.iter().cloned().fold(0.0, f64::max), g.iter().map(|r| r.1).sum::<f64>() / g.len() as f64, means.len(), means.iter().cloned().fold(0.0, f64::max));
}
