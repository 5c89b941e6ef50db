//! Robot localisation with particle filters that differ only in their resampling step:
//! bootstrap SIR (systematic resampling every step), SIR with ESS-triggered systematic
//! resampling, and the ETD transport filter (`Workspace::transport` with `Config::filter()`,
//! with independent and with rounded categorical draws).
//!
//! `cargo run --release --example localization [-- --variants] [-- --streams K]`: a robot with pose
//! (x, y, heading) follows a noisy unicycle model and reads ranges (and bearings) of known
//! landmarks. Two scenarios, `SEEDS` seeds each, at N = 32 and N = 100 particles; every filter
//! of a seed sees the same true trajectory and the same readings. Prints one markdown table per
//! scenario; `--variants` adds the ETD variants (and their SIR counterparts) of
//! `docs/filter.md`; `--streams K` runs every filter over the same seeds with `K` independent
//! random streams of its own (the first is the default run's), pools them in the table and
//! adds each stream's coverage, to show how much of a difference between filters is their
//! own Monte Carlo noise.
//!
//! 1. Tracking: a circular drive among eight range-limited landmarks, 100 steps.
//! 2. Two hypotheses: range-only readings of two landmarks on a line cannot tell the true pose
//!    from its mirror image, and the filters start with half their particles on each, until a
//!    third, off-axis landmark comes within sensor range.

use entropic_transport::rng::fill_normal;
use entropic_transport::{
    systematic_resample, weight_ess, workspace_len, Config, DefaultRng, Error, Shape, StepStats,
    Update, Workspace,
};
use rand_core::{Rng, SeedableRng};
use std::collections::HashSet;
use std::f64::consts::{PI, TAU};
use std::time::Instant;

/// The pose: x (m), y (m), heading (rad). Headings are never wrapped: the truth and every
/// particle integrate the turn rate continuously from nearby starting headings, so the
/// particles stay within a fraction of a radian of the true heading on the same branch, and the
/// transport cost may treat the heading as an ordinary coordinate (1 rad weighs like 1 m).
/// Only differences that are compared with a reading or with the truth are wrapped.
const DIM: usize = 3;
/// Seeds per scenario, filter and particle count.
const SEEDS: u64 = 200;
/// The particle counts compared.
const PARTICLE_COUNTS: [usize; 2] = [32, 100];
/// The chi-square(2) 95% quantile: the squared Mahalanobis radius of a 95% region in (x, y).
const CHI2_2_95: f64 = 5.991;
/// How close (m) a particle must be to the true position to count as "near the truth".
const NEAR: f64 = 1.0;
/// The steps at the end of a run whose RMSE is reported as the final RMSE.
const FINAL_STEPS: usize = 10;
/// Standard deviations of the roughening jitter of the `jitter` variants: x (m), y (m),
/// heading (rad).
const JITTER_SD: [f64; 3] = [0.05, 0.05, 0.005];

fn main() -> Result<(), Error> {
    let mut methods = Method::filters();
    if std::env::args().any(|arg| arg == "--variants") {
        methods.extend(Method::variants());
    }
    let streams = option("--streams").unwrap_or(1).max(1);
    for scenario in [Scenario::tracking(), Scenario::two_hypotheses()] {
        let worlds: Vec<World> = (0..SEEDS)
            .map(|seed| World::simulate(&scenario, seed))
            .collect();
        let ambiguous = scenario.is_ambiguous();
        println!("## {}\n\n{}\n", scenario.title, scenario.summary);
        println!("{}", Totals::header(ambiguous, streams > 1));
        for n in PARTICLE_COUNTS {
            for method in &methods {
                let (mut totals, mut coverage) = (Totals::default(), Vec::new());
                for stream in 0..streams {
                    let mut pooled = Totals::default();
                    for (seed, world) in (0..).zip(&worlds) {
                        let rng_seed = 2 * seed + 1 + 2 * SEEDS * stream;
                        pooled.merge(&run(&scenario, world, method, n, rng_seed)?);
                    }
                    coverage.push(pooled.covered as f64 / pooled.steps as f64);
                    totals.merge(&pooled);
                }
                let mut row = totals.row(method, n, ambiguous);
                if streams > 1 {
                    let each: Vec<String> = coverage.iter().map(|c| format!("{c:.3}")).collect();
                    row += &format!(" {} |", each.join(" / "));
                }
                println!("{row}");
            }
        }
        println!();
    }
    Ok(())
}

/// The number after `name` on the command line, if any.
fn option(name: &str) -> Option<u64> {
    let args: Vec<String> = std::env::args().collect();
    let at = args.iter().position(|arg| arg == name)?;
    args.get(at + 1)?.parse().ok()
}

/// `angle` wrapped into (-pi, pi] (rad).
fn wrap(angle: f64) -> f64 {
    angle - TAU * ((angle - PI) / TAU).ceil()
}

/// A pair of independent standard normal draws.
fn normal_pair(rng: &mut DefaultRng) -> [f64; 2] {
    let mut z = [0.0; 2];
    fill_normal(rng, &mut z);
    z
}

/// Commanded controls, held for one time step.
#[derive(Clone, Copy)]
struct Control {
    /// Forward speed (m/s).
    speed: f64,
    /// Turn rate (rad/s).
    turn_rate: f64,
}

/// The unicycle motion model: the robot drives with the commanded controls plus independent
/// Gaussian noise on each, held constant over a step.
struct Motion {
    /// Time step (s).
    dt: f64,
    /// Standard deviation of the speed noise (m/s).
    speed_sd: f64,
    /// Standard deviation of the turn-rate noise (rad/s).
    turn_rate_sd: f64,
}

impl Motion {
    /// Moves `pose` one step with the controls perturbed by `noise` (two standard normals),
    /// integrating the unicycle exactly: an arc of radius `speed / turn_rate`.
    fn advance(&self, pose: &mut [f64], control: Control, noise: [f64; 2]) {
        let speed = control.speed + self.speed_sd * noise[0];
        let turn_rate = control.turn_rate + self.turn_rate_sd * noise[1];
        let (heading, turn) = (pose[2], turn_rate * self.dt);
        if turn.abs() < 1e-9 {
            pose[0] += speed * self.dt * heading.cos();
            pose[1] += speed * self.dt * heading.sin();
        } else {
            let radius = speed / turn_rate;
            pose[0] += radius * ((heading + turn).sin() - heading.sin());
            pose[1] += radius * (heading.cos() - (heading + turn).cos());
        }
        pose[2] = heading + turn;
    }
}

/// A landmark at a known position (m), seen only within `max_range` (m).
struct Landmark {
    position: [f64; 2],
    max_range: f64,
}

/// One reading of a known landmark: range (m) and bearing relative to the heading (rad, in
/// (-pi, pi]; unused by a range-only sensor).
#[derive(Clone, Copy)]
struct Reading {
    landmark: usize,
    range: f64,
    bearing: f64,
}

/// The range-bearing sensor: Gaussian noise on range and bearing, known data association.
struct Sensor {
    landmarks: Vec<Landmark>,
    /// Standard deviation of the range noise (m).
    range_sd: f64,
    /// Standard deviation of the bearing noise (rad); `None` for a range-only sensor.
    bearing_sd: Option<f64>,
}

impl Sensor {
    /// Noise-free range (m) and bearing (rad, wrapped) of `landmark` from `pose`.
    fn expected(pose: &[f64], landmark: &Landmark) -> (f64, f64) {
        let (dx, dy) = (
            landmark.position[0] - pose[0],
            landmark.position[1] - pose[1],
        );
        (dx.hypot(dy), wrap(dy.atan2(dx) - pose[2]))
    }

    /// Noisy readings of every landmark within range of the true `pose`.
    fn observe(&self, pose: &[f64], rng: &mut DefaultRng) -> Vec<Reading> {
        let mut readings = Vec::new();
        for (index, landmark) in self.landmarks.iter().enumerate() {
            let (range, bearing) = Self::expected(pose, landmark);
            if range <= landmark.max_range {
                let z = normal_pair(rng);
                readings.push(Reading {
                    landmark: index,
                    range: range + self.range_sd * z[0],
                    bearing: wrap(bearing + self.bearing_sd.unwrap_or(0.0) * z[1]),
                });
            }
        }
        readings
    }

    /// `log p(readings | pose)` up to a constant: the bearing residual is wrapped into
    /// (-pi, pi].
    fn log_likelihood(&self, pose: &[f64], readings: &[Reading]) -> f64 {
        readings
            .iter()
            .map(|reading| {
                let (range, bearing) = Self::expected(pose, &self.landmarks[reading.landmark]);
                let range_term = ((reading.range - range) / self.range_sd).powi(2);
                let bearing_term = self
                    .bearing_sd
                    .map_or(0.0, |sd| (wrap(reading.bearing - bearing) / sd).powi(2));
                -0.5 * (range_term + bearing_term)
            })
            .sum()
    }
}

/// A localisation problem: model, controls, prior and length.
struct Scenario {
    title: &'static str,
    summary: &'static str,
    motion: Motion,
    sensor: Sensor,
    control: Control,
    steps: usize,
    /// The prior is an equal mixture of Gaussians around these poses (the truth starts around
    /// the first); particle `k` is drawn around hypothesis `k mod len`.
    hypotheses: Vec<[f64; 3]>,
    /// Prior standard deviations of x (m), y (m) and heading (rad).
    prior_sd: [f64; 3],
    /// The landmark whose first reading resolves the ambiguity, if any.
    breaking_landmark: Option<usize>,
}

impl Scenario {
    /// A circle of radius 10 m at 1 m/s among eight landmarks on a ring of radius 14 m, seen
    /// within 12 m (two or three at a time), range and bearing.
    fn tracking() -> Self {
        let landmarks = (0..8)
            .map(|k| {
                let angle = f64::from(k) * TAU / 8.0;
                Landmark {
                    position: [14.0 * angle.cos(), 14.0 * angle.sin()],
                    max_range: 12.0,
                }
            })
            .collect();
        Scenario {
            title: "Scenario 1: tracking",
            summary: "Unicycle at 1 m/s and 0.1 rad/s (noise sd 0.1 m/s, 0.02 rad/s), dt 1 s, \
                      100 steps; range-bearing readings (sd 0.3 m, 0.05 rad) of 8 landmarks \
                      within 12 m; prior sd 0.5 m, 0.5 m, 0.1 rad around the start.",
            motion: Motion {
                dt: 1.0,
                speed_sd: 0.1,
                turn_rate_sd: 0.02,
            },
            sensor: Sensor {
                landmarks,
                range_sd: 0.3,
                bearing_sd: Some(0.05),
            },
            control: Control {
                speed: 1.0,
                turn_rate: 0.1,
            },
            steps: 100,
            hypotheses: vec![[10.0, 0.0, PI / 2.0]],
            prior_sd: [0.5, 0.5, 0.1],
            breaking_landmark: None,
        }
    }

    /// A straight drive along y = 2.5 m past two landmarks on the x-axis, range only: the
    /// mirror pose (x, -y, -heading) explains every reading (and, with zero commanded turn
    /// rate, the motion) equally well until the landmark at (16, 4), seen within 5 m, comes
    /// into view (around step 30).
    fn two_hypotheses() -> Self {
        let landmark = |x, y, max_range| Landmark {
            position: [x, y],
            max_range,
        };
        Scenario {
            title: "Scenario 2: two hypotheses",
            summary: "Straight drive at 0.5 m/s (noise sd 0.1 m/s, 0.02 rad/s), dt 1 s, 50 steps; \
                      range-only readings (sd 0.2 m) of landmarks at (0, 0) and (8, 0) (always) \
                      and (16, 4) (within 5 m); the prior puts half the particles around the \
                      start (-4, 2.5, 0) and half around its mirror image (-4, -2.5, 0).",
            motion: Motion {
                dt: 1.0,
                speed_sd: 0.1,
                turn_rate_sd: 0.02,
            },
            sensor: Sensor {
                landmarks: vec![
                    landmark(0.0, 0.0, f64::INFINITY),
                    landmark(8.0, 0.0, f64::INFINITY),
                    landmark(16.0, 4.0, 5.0),
                ],
                range_sd: 0.2,
                bearing_sd: None,
            },
            control: Control {
                speed: 0.5,
                turn_rate: 0.0,
            },
            steps: 50,
            hypotheses: vec![[-4.0, 2.5, 0.0], [-4.0, -2.5, 0.0]],
            prior_sd: [0.3, 0.3, 0.05],
            breaking_landmark: Some(2),
        }
    }

    /// Whether the readings start out unable to tell the hypotheses apart.
    fn is_ambiguous(&self) -> bool {
        self.breaking_landmark.is_some()
    }

    /// Whether `reading` is of the landmark that tells the hypotheses apart.
    fn breaks_symmetry(&self, reading: &Reading) -> bool {
        self.breaking_landmark == Some(reading.landmark)
    }

    /// A draw from the prior around hypothesis `k mod len`, written into `pose`.
    fn draw_prior(&self, k: usize, pose: &mut [f64], rng: &mut DefaultRng) {
        let mut z = [0.0; DIM];
        fill_normal(rng, &mut z);
        let mean = self.hypotheses[k % self.hypotheses.len()];
        for (((p, m), sd), z) in pose.iter_mut().zip(mean).zip(self.prior_sd).zip(z) {
            *p = m + sd * z;
        }
    }
}

/// One seed's true trajectory and readings, shared by every filter.
struct World {
    /// True pose at each step, after that step's motion (steps, 3).
    truth: Vec<[f64; 3]>,
    /// The readings of each step.
    readings: Vec<Vec<Reading>>,
}

impl World {
    fn simulate(scenario: &Scenario, seed: u64) -> Self {
        let mut rng = DefaultRng::seed_from_u64(2 * seed);
        let mut pose = [0.0; DIM];
        scenario.draw_prior(0, &mut pose, &mut rng);
        let (mut truth, mut readings) = (Vec::new(), Vec::new());
        for _ in 0..scenario.steps {
            let noise = normal_pair(&mut rng);
            scenario.motion.advance(&mut pose, scenario.control, noise);
            truth.push(pose);
            readings.push(scenario.sensor.observe(&pose, &mut rng));
        }
        World { truth, readings }
    }
}

/// A filter: how it turns weighted proposals back into `N` equally weighted particles.
#[derive(Clone, Copy)]
struct Method {
    name: &'static str,
    /// `None`: systematic resampling; `Some`: `Workspace::transport` with this configuration.
    transport: Option<Config<f64>>,
    /// Resample (or transport) only when the ESS falls below N / 2; otherwise the weights
    /// carry over to the next step. Needs `draws` = 1.
    ess_triggered: bool,
    /// Motion-model draws per particle (`M`): the step's `N M` proposals.
    draws: usize,
    /// Add `JITTER_SD` noise to every particle after a resampling (roughening).
    jitter: bool,
    /// Resample systematically instead when Sinkhorn stops at its cap (transport only).
    fallback: bool,
    /// Shuffle the proposals before systematic resampling, so that its rounding no longer
    /// follows the particle order (SIR only).
    shuffled: bool,
}

impl Method {
    /// Systematic resampling every step, one draw per particle.
    fn sir(name: &'static str) -> Self {
        Method {
            name,
            transport: None,
            ess_triggered: false,
            draws: 1,
            jitter: false,
            fallback: false,
            shuffled: false,
        }
    }

    /// `Workspace::transport` with `config` every step, one draw per particle.
    fn etd(name: &'static str, config: Config<f64>) -> Self {
        Method {
            transport: Some(config),
            ..Method::sir(name)
        }
    }

    /// The filters compared: SIR's two and ETD with each categorical update.
    fn filters() -> Vec<Self> {
        vec![
            Method::sir("bootstrap SIR"),
            Method {
                ess_triggered: true,
                ..Method::sir("SIR, resample if ESS < N/2")
            },
            Method::etd("ETD transport", Config::filter()),
            Method::etd(
                "ETD transport, rounded",
                Config {
                    update: Update::Rounded,
                    ..Config::filter()
                },
            ),
        ]
    }

    /// The ETD variants tried, and SIR with the same change where it applies to SIR too.
    fn variants() -> Vec<Self> {
        let filter = Config::filter();
        vec![
            Method::etd(
                "ETD, epsilon 0.05",
                Config {
                    epsilon: 0.05,
                    ..filter
                },
            ),
            Method::etd(
                "ETD, cap 2000 sweeps",
                Config {
                    max_iterations: 2000,
                    ..filter
                },
            ),
            Method {
                fallback: true,
                ..Method::etd("ETD, systematic when capped", filter)
            },
            Method {
                ess_triggered: true,
                ..Method::etd("ETD, transport if ESS < N/2", filter)
            },
            Method::etd(
                "ETD, rounded, cap 2000 sweeps",
                Config {
                    update: Update::Rounded,
                    max_iterations: 2000,
                    ..filter
                },
            ),
            Method::etd(
                "ETD, barycentric",
                Config {
                    update: Update::Barycentric,
                    ..filter
                },
            ),
            Method::etd(
                "ETD, damping 0.5",
                Config {
                    damping: 0.5,
                    ..filter
                },
            ),
            Method {
                shuffled: true,
                ..Method::sir("bootstrap SIR, shuffled before resampling")
            },
            Method {
                jitter: true,
                ..Method::sir("bootstrap SIR, jitter")
            },
            Method {
                jitter: true,
                ..Method::etd("ETD, jitter", filter)
            },
            Method {
                draws: 4,
                ..Method::sir("bootstrap SIR, M = 4")
            },
            Method {
                draws: 4,
                ..Method::etd("ETD, M = 4", filter)
            },
        ]
    }
}

/// A particle filter's state: `N` poses with running log-weights (all 0 after a resampling)
/// and the `N M` proposals of the current step with theirs.
struct Filter<'a> {
    method: Method,
    /// The transport's configuration and workspace; `None` resamples systematically.
    transport: Option<(Config<f64>, Workspace<'a, f64>)>,
    particles: Vec<f64>,
    log_weights: Vec<f64>,
    proposals: Vec<f64>,
    proposal_log_weights: Vec<f64>,
}

impl<'a> Filter<'a> {
    /// A filter of `particles` (N, 3), equally weighted; a transport filter keeps its
    /// workspace in `memory`.
    fn new(method: Method, particles: Vec<f64>, memory: &'a mut Vec<f64>) -> Result<Self, Error> {
        let n = particles.len() / DIM;
        let transport = match method.transport {
            Some(config) => {
                let shape = Shape::new(n, method.draws, DIM);
                memory.resize(workspace_len(&shape).ok_or(Error::ZeroSize)?, 0.0);
                Some((config, Workspace::new(shape, memory)?))
            }
            None => None,
        };
        Ok(Filter {
            method,
            transport,
            proposals: vec![0.0; n * method.draws * DIM],
            proposal_log_weights: vec![0.0; n * method.draws],
            particles,
            log_weights: vec![0.0; n],
        })
    }

    /// The prediction: `M` motion-model draws per particle become the proposals, each with its
    /// particle's log-weight. The particles become the transport's source: the proposals
    /// themselves when `M` = 1, else each particle moved with the noise-free controls.
    fn predict(&mut self, motion: &Motion, control: Control, rng: &mut DefaultRng) {
        let m = self.method.draws;
        let groups = self
            .particles
            .chunks_exact_mut(DIM)
            .zip(self.proposals.chunks_exact_mut(m * DIM))
            .zip(self.proposal_log_weights.chunks_exact_mut(m))
            .zip(&self.log_weights);
        for (((particle, proposals), proposal_log_weights), &log_weight) in groups {
            proposal_log_weights.fill(log_weight);
            for proposal in proposals.chunks_exact_mut(DIM) {
                proposal.copy_from_slice(particle);
                motion.advance(proposal, control, normal_pair(rng));
            }
            if m == 1 {
                particle.copy_from_slice(proposals);
            } else {
                motion.advance(particle, control, [0.0; 2]);
            }
        }
    }

    /// The measurement update: adds the readings' log-likelihood to every proposal's
    /// log-weight, then resamples or transports as the method says. Returns the transport's
    /// statistics, if it ran.
    fn update(
        &mut self,
        sensor: &Sensor,
        readings: &[Reading],
        rng: &mut DefaultRng,
    ) -> Result<Option<StepStats<f64>>, Error> {
        for (w, pose) in self
            .proposal_log_weights
            .iter_mut()
            .zip(self.proposals.chunks_exact(DIM))
        {
            *w += sensor.log_likelihood(pose, readings);
        }
        let (proposals, log_weights) = (&self.proposals, &self.proposal_log_weights);
        let n = self.log_weights.len() as f64;
        if self.method.ess_triggered && weight_ess(log_weights)? >= n / 2.0 {
            self.log_weights.copy_from_slice(log_weights);
            return Ok(None);
        }
        let stats = match &mut self.transport {
            None => None,
            Some((config, workspace)) => Some(workspace.transport(
                config,
                &mut self.particles,
                proposals,
                log_weights,
                rng,
            )?),
        };
        let capped = stats.is_some_and(|s| !s.sinkhorn.converged);
        if stats.is_none() || (capped && self.method.fallback) {
            if self.method.shuffled {
                self.shuffle(rng);
            }
            let (proposals, log_weights) = (&self.proposals, &self.proposal_log_weights);
            systematic_resample(&mut self.particles, proposals, log_weights, DIM, rng)?;
        }
        self.log_weights.fill(0.0);
        if self.method.jitter {
            self.jitter(rng);
        }
        Ok(stats)
    }

    /// Puts the proposals and their log-weights in a uniformly random order (Fisher-Yates).
    fn shuffle(&mut self, rng: &mut DefaultRng) {
        for i in (1..self.proposal_log_weights.len()).rev() {
            let j = (rng.next_u64() % (i as u64 + 1)) as usize;
            self.proposal_log_weights.swap(i, j);
            for k in 0..DIM {
                self.proposals.swap(i * DIM + k, j * DIM + k);
            }
        }
    }

    /// Adds independent `N(0, JITTER_SD^2)` noise to every coordinate of every particle.
    fn jitter(&mut self, rng: &mut DefaultRng) {
        let mut z = [0.0; DIM];
        for particle in self.particles.chunks_exact_mut(DIM) {
            fill_normal(rng, &mut z);
            for ((x, sd), z) in particle.iter_mut().zip(JITTER_SD).zip(z) {
                *x += sd * z;
            }
        }
    }

    /// The normalised weights of the particles.
    fn weights(&self) -> Vec<f64> {
        let max = self
            .log_weights
            .iter()
            .copied()
            .fold(f64::NEG_INFINITY, f64::max);
        let w: Vec<f64> = self.log_weights.iter().map(|lw| (lw - max).exp()).collect();
        let total: f64 = w.iter().sum();
        w.into_iter().map(|w| w / total).collect()
    }

    /// The weighted mean pose and the weighted covariance of (x, y) (m^2).
    fn moments(&self) -> ([f64; 3], [[f64; 2]; 2]) {
        let weights = self.weights();
        let poses = || self.particles.chunks_exact(DIM).zip(&weights);
        let mut mean = [0.0; 3];
        for (pose, w) in poses() {
            mean.iter_mut().zip(pose).for_each(|(m, p)| *m += w * p);
        }
        let mut cov = [[0.0; 2]; 2];
        for (pose, w) in poses() {
            let d = [pose[0] - mean[0], pose[1] - mean[1]];
            for (row, di) in cov.iter_mut().zip(d) {
                row.iter_mut().zip(d).for_each(|(c, dj)| *c += w * di * dj);
            }
        }
        (mean, cov)
    }

    /// Particles with pairwise different poses.
    fn distinct(&self) -> usize {
        let keys = self
            .particles
            .chunks_exact(DIM)
            .map(|p| p.iter().map(|x| x.to_bits()).collect::<Vec<_>>());
        keys.collect::<HashSet<_>>().len()
    }

    /// Whether each particle lies within `NEAR` of the true position.
    fn near(&self, truth: &[f64; 3]) -> Vec<bool> {
        let distance = |p: &[f64]| (p[0] - truth[0]).hypot(p[1] - truth[1]);
        self.particles
            .chunks_exact(DIM)
            .map(|p| distance(p) < NEAR)
            .collect()
    }

    /// The normalised weight of the particles within `NEAR` of the true position.
    fn mass_near(&self, truth: &[f64; 3]) -> f64 {
        let weights = self.weights().into_iter().zip(self.near(truth));
        weights.filter(|&(_, near)| near).map(|(w, _)| w).sum()
    }
}

/// The squared Mahalanobis distance of `d` under the 2 x 2 covariance `cov`; infinite when
/// `cov` is singular (a collapsed ensemble covers nothing).
fn mahalanobis_sq(d: [f64; 2], cov: [[f64; 2]; 2]) -> f64 {
    let det = cov[0][0] * cov[1][1] - cov[0][1] * cov[1][0];
    if det <= 0.0 {
        return f64::INFINITY;
    }
    (d[0] * d[0] * cov[1][1] - 2.0 * d[0] * d[1] * cov[0][1] + d[1] * d[1] * cov[0][0]) / det
}

/// Runs one filter over one seed's world with the filter's own random stream `rng_seed`:
/// predict, update (timed), measure.
fn run(
    scenario: &Scenario,
    world: &World,
    method: &Method,
    n: usize,
    rng_seed: u64,
) -> Result<Totals, Error> {
    let mut rng = DefaultRng::seed_from_u64(rng_seed);
    let mut particles = vec![0.0; n * DIM];
    for (k, pose) in particles.chunks_exact_mut(DIM).enumerate() {
        scenario.draw_prior(k, pose, &mut rng);
    }
    let mut memory = Vec::new();
    let mut filter = Filter::new(*method, particles, &mut memory)?;
    let mut totals = Totals {
        runs: 1,
        ..Totals::default()
    };
    let mut ambiguous = scenario.is_ambiguous();
    for (step, (truth, readings)) in world.truth.iter().zip(&world.readings).enumerate() {
        filter.predict(&scenario.motion, scenario.control, &mut rng);
        let resolving = ambiguous && readings.iter().any(|r| scenario.breaks_symmetry(r));
        if resolving {
            totals.kept += usize::from(filter.near(truth).contains(&true));
        }

        let start = Instant::now();
        let stats = filter.update(&scenario.sensor, readings, &mut rng)?;
        totals.seconds += start.elapsed().as_secs_f64();

        if resolving {
            ambiguous = false;
            totals.mass_near += filter.mass_near(truth);
        }
        let last = step + FINAL_STEPS >= scenario.steps;
        totals.record(&filter, truth, stats, last);
    }
    Ok(totals)
}

/// Sums over the steps of one or more runs of one (filter, N).
#[derive(Default)]
struct Totals {
    runs: usize,
    steps: usize,
    /// Squared position error of the mean (m^2).
    sq_error: f64,
    /// Absolute heading error of the mean (rad).
    heading_error: f64,
    /// Steps whose true position lay inside the 95% region.
    covered: usize,
    /// Distinct particles after the update.
    distinct: usize,
    /// Wall time of the updates (s).
    seconds: f64,
    /// Updates that ran `transport`, their Sinkhorn sweeps, and those that stopped at the cap.
    transports: usize,
    sweeps: usize,
    capped: usize,
    /// Runs with a particle near the truth when the symmetry-breaking reading arrived.
    kept: usize,
    /// Weight near the truth just after that reading's update.
    mass_near: f64,
    /// Squared position error (m^2) over the last `FINAL_STEPS` steps, and their number.
    final_sq_error: f64,
    final_steps: usize,
}

impl Totals {
    /// Adds one step's measures of `filter` after its update against the `truth`; `last`
    /// marks the final steps.
    fn record(
        &mut self,
        filter: &Filter,
        truth: &[f64; 3],
        stats: Option<StepStats<f64>>,
        last: bool,
    ) {
        let (mean, cov) = filter.moments();
        let d = [mean[0] - truth[0], mean[1] - truth[1]];
        let sq_error = d[0] * d[0] + d[1] * d[1];
        self.sq_error += sq_error;
        if last {
            self.final_sq_error += sq_error;
            self.final_steps += 1;
        }
        self.heading_error += wrap(mean[2] - truth[2]).abs();
        self.covered += usize::from(mahalanobis_sq(d, cov) < CHI2_2_95);
        self.distinct += filter.distinct();
        if let Some(stats) = stats {
            self.transports += 1;
            self.sweeps += stats.sinkhorn.iterations as usize;
            self.capped += usize::from(!stats.sinkhorn.converged);
        }
        self.steps += 1;
    }

    fn merge(&mut self, other: &Totals) {
        self.runs += other.runs;
        self.steps += other.steps;
        self.sq_error += other.sq_error;
        self.heading_error += other.heading_error;
        self.covered += other.covered;
        self.distinct += other.distinct;
        self.seconds += other.seconds;
        self.transports += other.transports;
        self.sweeps += other.sweeps;
        self.capped += other.capped;
        self.kept += other.kept;
        self.mass_near += other.mass_near;
        self.final_sq_error += other.final_sq_error;
        self.final_steps += other.final_steps;
    }

    /// The table header; the ambiguous scenario adds the hypothesis columns, and several
    /// streams the coverage of each.
    fn header(ambiguous: bool, streams: bool) -> String {
        let mut columns = vec![
            "filter",
            "N",
            "position RMSE (m)",
            "heading error (rad)",
            "95% coverage",
            "distinct particles",
            "µs / update",
            "Sinkhorn sweeps",
            "Sinkhorn capped",
        ];
        if ambiguous {
            columns.extend([
                "kept true hypothesis",
                "mass near truth after",
                "final RMSE (m)",
            ]);
        }
        if streams {
            columns.push("95% coverage by stream");
        }
        let rule = vec!["---"; columns.len()];
        format!("| {} |\n|{}|", columns.join(" | "), rule.join("|"))
    }

    /// One table row: means per step (RMSE over every step of every seed).
    fn row(&self, method: &Method, n: usize, ambiguous: bool) -> String {
        let steps = self.steps as f64;
        let transports = self.transports as f64;
        let sinkhorn = if self.transports == 0 {
            "– | –".to_string()
        } else {
            format!(
                "{:.1} | {:.3}",
                self.sweeps as f64 / transports,
                self.capped as f64 / transports
            )
        };
        let mut row = format!(
            "| {} | {n} | {:.3} | {:.4} | {:.3} | {:.1} | {:.1} | {sinkhorn} |",
            method.name,
            (self.sq_error / steps).sqrt(),
            self.heading_error / steps,
            self.covered as f64 / steps,
            self.distinct as f64 / steps,
            1e6 * self.seconds / steps,
        );
        if ambiguous {
            row += &format!(
                " {}/{} | {:.3} | {:.3} |",
                self.kept,
                self.runs,
                self.mass_near / self.runs as f64,
                (self.final_sq_error / self.final_steps as f64).sqrt()
            );
        }
        row
    }
}
