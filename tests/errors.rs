//! Every error path: a distinct error value, and the particles left untouched.

use entropic_transport::{
    sinkhorn, sinkhorn_scratch_len, workspace_len, Config, Coupling, DefaultRng, Error, Mutation,
    Shape, SinkhornParams, Solver, Steps, Target, Workspace,
};
use rand_core::SeedableRng;

const SHAPE: Shape = Shape::new(8, 4, 2);

/// What a misbehaving target does, and when.
#[derive(Clone, Copy)]
enum Fault {
    None,
    /// `log_density` returns this code on its `k`-th call (0-based).
    Fail(usize, i32),
    /// `log_density` writes this value into its first output on its `k`-th call.
    Write(usize, f64),
    /// `score` writes NaN.
    NanScore,
    /// No score at all.
    NoScore,
    /// Every proposal at zero density.
    Zero,
}

/// A standard normal in 2-D with an injected fault.
struct Faulty {
    fault: Fault,
    calls: usize,
}

impl Target<f64> for Faulty {
    fn log_density(&mut self, x: &[f64], dim: usize, out: &mut [f64]) -> Result<(), i32> {
        let call = self.calls;
        self.calls += 1;
        for (p, o) in x.chunks_exact(dim).zip(out.iter_mut()) {
            *o = -0.5 * p.iter().map(|v| v * v).sum::<f64>();
        }
        match self.fault {
            Fault::Fail(k, code) if k == call => Err(code),
            Fault::Write(k, value) if k == call => {
                out[0] = value;
                Ok(())
            }
            Fault::Zero => {
                out.fill(f64::NEG_INFINITY);
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn score(&mut self, x: &[f64], _dim: usize, out: &mut [f64]) -> Result<(), i32> {
        out.iter_mut().zip(x).for_each(|(o, v)| *o = -v);
        if matches!(self.fault, Fault::NanScore) {
            out[1] = f64::NAN;
        }
        Ok(())
    }

    fn has_score(&self) -> bool {
        !matches!(self.fault, Fault::NoScore)
    }
}

fn particles() -> Vec<f64> {
    (0..16).map(|i| i as f64 * 0.25 - 2.0).collect()
}

/// Runs one step with `config` and `fault`, asserts the error and that particles are unchanged.
fn expect_error(config: Config<f64>, fault: Fault, particles: &mut [f64], expected: Error) {
    let mut memory = vec![0.0; workspace_len(&SHAPE).unwrap()];
    let mut ws = Workspace::new(SHAPE, &mut memory).unwrap();
    let before = particles.to_vec();
    let mut target = Faulty { fault, calls: 0 };
    let mut rng = DefaultRng::seed_from_u64(1);
    let got = ws.step(&config, particles, &mut target, &mut rng);
    assert_eq!(got.err(), Some(expected));
    assert!(
        before
            .iter()
            .zip(particles.iter())
            .all(|(a, b)| a.to_bits() == b.to_bits()),
        "particles changed on {expected:?}"
    );
}

#[test]
fn invalid_configuration_is_rejected() {
    let d = Config::<f64>::default();
    let cases = [
        (Config { epsilon: 0.0, ..d }, Error::InvalidEpsilon),
        (
            Config {
                epsilon: f64::NAN,
                ..d
            },
            Error::InvalidEpsilon,
        ),
        (
            Config {
                tolerance: -1.0,
                ..d
            },
            Error::InvalidTolerance,
        ),
        (
            Config {
                max_iterations: 0,
                ..d
            },
            Error::InvalidMaxIterations,
        ),
        (Config { alpha: -0.1, ..d }, Error::InvalidAlpha),
        (
            Config {
                sigma: Some(0.0),
                ..d
            },
            Error::InvalidSigma,
        ),
        (
            Config {
                alpha: 0.0,
                sigma: None,
                ..d
            },
            Error::InvalidSigma,
        ),
        (
            Config {
                score_clip: f64::INFINITY,
                ..d
            },
            Error::InvalidScoreClip,
        ),
        (
            Config {
                coupling: Coupling::Unbalanced { rho: 0.0 },
                ..d
            },
            Error::InvalidRho,
        ),
        (Config { damping: 0.0, ..d }, Error::InvalidDamping),
        (Config { damping: 1.5, ..d }, Error::InvalidDamping),
        (
            Config {
                mutation: Mutation {
                    steps: Steps::Fixed(2),
                    step_size: 0.0,
                },
                ..d
            },
            Error::InvalidMutationStepSize,
        ),
    ];
    for (config, expected) in cases {
        expect_error(config, Fault::None, &mut particles(), expected);
    }
}

#[test]
fn bad_particles_are_rejected() {
    let d = Config::default();
    expect_error(
        d,
        Fault::None,
        &mut particles()[..15].to_vec(),
        Error::ParticlesLength {
            expected: 16,
            found: 15,
        },
    );
    let mut x = particles();
    x[3] = f64::NAN;
    expect_error(d, Fault::None, &mut x, Error::NonFiniteParticles);
    x[3] = f64::INFINITY;
    expect_error(d, Fault::None, &mut x, Error::NonFiniteParticles);
}

#[test]
fn target_faults_are_reported() {
    let d = Config::default();
    let free = Config {
        use_score: false,
        ..d
    };
    let mutating = Config {
        mutation: Mutation {
            steps: Steps::Fixed(3),
            step_size: 0.05,
        },
        ..d
    };
    let cases = [
        (d, Fault::Fail(0, 42), Error::Target(42)),
        (d, Fault::Write(0, f64::NAN), Error::NonFiniteDensity),
        (d, Fault::Write(0, f64::INFINITY), Error::NonFiniteDensity),
        (d, Fault::NanScore, Error::NonFiniteScore),
        (d, Fault::NoScore, Error::NoScore),
        (free, Fault::Zero, Error::AllWeightsZero),
        // Faults during mutation, after the transport update has been computed.
        (mutating, Fault::Fail(2, -7), Error::Target(-7)),
        (mutating, Fault::Write(3, f64::NAN), Error::NonFiniteDensity),
    ];
    for (config, fault, expected) in cases {
        expect_error(config, fault, &mut particles(), expected);
    }
}

#[test]
fn a_zero_density_proposal_is_never_chosen() {
    // Half the plane has zero density; the categorical update must never land there.
    let mut target = entropic_transport::LogDensityFn(|x: &[f64]| {
        if x[0] < 0.0 {
            f64::NEG_INFINITY
        } else {
            -0.5 * (x[0] * x[0] + x[1] * x[1])
        }
    });
    let mut memory = vec![0.0; workspace_len(&SHAPE).unwrap()];
    let mut ws = Workspace::new(SHAPE, &mut memory).unwrap();
    let mut x: Vec<f64> = (0..16).map(|i| 0.5 + 0.1 * i as f64).collect();
    let config = Config {
        use_score: false,
        ..Config::default()
    };
    let mut rng = DefaultRng::seed_from_u64(5);
    for _ in 0..50 {
        ws.step(&config, &mut x, &mut target, &mut rng).unwrap();
        assert!(x.chunks_exact(2).all(|p| p[0] >= 0.0));
    }
}

#[test]
fn workspace_and_sinkhorn_buffers_are_checked() {
    assert_eq!(workspace_len(&Shape::new(0, 4, 2)), None);
    let mut small = vec![0.0f64; 10];
    assert_eq!(
        Workspace::new(SHAPE, &mut small).err(),
        Some(Error::BufferLength {
            expected: workspace_len(&SHAPE).unwrap(),
            found: 10
        })
    );
    assert_eq!(
        Workspace::new(Shape::new(4, 0, 2), &mut small).err(),
        Some(Error::ZeroSize)
    );

    let (n, p) = (3, 4);
    let cost = vec![1.0f64; n * p];
    let (log_a, log_b) = (vec![-(3f64).ln(); n], vec![-(4f64).ln(); p]);
    let params = SinkhornParams {
        epsilon: 0.1,
        coupling: Coupling::Balanced,
        max_iterations: 10,
        tolerance: 1e-6,
        solver: Solver::Log,
    };
    let mut f = vec![0.5; n];
    let mut g = vec![0.25; p];
    let mut scratch = vec![0.0; sinkhorn_scratch_len(n, p, Solver::Log)];
    let mut solve =
        |cost: &[f64], la: &[f64], lb: &[f64], params: &SinkhornParams<f64>, scratch_len: usize| {
            let (f0, g0) = (f.clone(), g.clone());
            let r = sinkhorn(
                cost,
                la,
                lb,
                params,
                &mut f,
                &mut g,
                &mut scratch[..scratch_len],
            );
            if r.is_err() {
                assert_eq!((&f, &g), (&f0, &g0), "outputs written on error");
            }
            r.err()
        };
    let full = sinkhorn_scratch_len(n, p, Solver::Log);
    assert_eq!(
        solve(&cost[..11], &log_a, &log_b, &params, full),
        Some(Error::BufferLength {
            expected: 12,
            found: 11
        })
    );
    assert_eq!(
        solve(&cost, &log_a, &log_b, &params, full - 1),
        Some(Error::BufferLength {
            expected: 7,
            found: 6
        })
    );
    assert_eq!(
        solve(&[], &[], &log_b, &params, full),
        Some(Error::ZeroSize)
    );
    let mut bad = cost.clone();
    bad[5] = f64::NAN;
    assert_eq!(
        solve(&bad, &log_a, &log_b, &params, full),
        Some(Error::NonFiniteInput)
    );
    assert_eq!(
        solve(&cost, &log_a, &[f64::NEG_INFINITY; 4], &params, full),
        Some(Error::AllWeightsZero)
    );
    let unbalanced = SinkhornParams {
        coupling: Coupling::Unbalanced { rho: -1.0 },
        ..params
    };
    assert_eq!(
        solve(&cost, &log_a, &log_b, &unbalanced, full),
        Some(Error::InvalidRho)
    );
    let no_eps = SinkhornParams {
        epsilon: 0.0,
        ..params
    };
    assert_eq!(
        solve(&cost, &log_a, &log_b, &no_eps, full),
        Some(Error::InvalidEpsilon)
    );
}

#[test]
fn same_seed_gives_bit_identical_particles() {
    let run = || {
        let mut target = Faulty {
            fault: Fault::None,
            calls: 0,
        };
        let shape = Shape::new(16, 8, 2);
        let mut memory = vec![0.0; workspace_len(&shape).unwrap()];
        let mut ws = Workspace::new(shape, &mut memory).unwrap();
        let mut x: Vec<f64> = (0..32).map(|i| (i as f64 * 0.7).sin() * 4.0).collect();
        let config = Config {
            mutation: Mutation {
                steps: Steps::Fixed(2),
                step_size: 0.05,
            },
            ..Config::default()
        };
        let mut rng = DefaultRng::seed_from_u64(77);
        for _ in 0..20 {
            ws.step(&config, &mut x, &mut target, &mut rng).unwrap();
        }
        x.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
    };
    assert_eq!(run(), run());
}
