//! Properties of the public API on random inputs, checked with proptest at [`CASES`] cases per
//! property (a fixed count, set in the configuration). A failing case is shrunk and saved in
//! `tests/properties.proptest-regressions`, which every later run replays first.
//!
//! | property | inputs | checked |
//! |---|---|---|
//! | [`sinkhorn_never_writes_a_nan`] | typical, huge-range and out-of-range costs and log-marginals, `-inf` marginal entries, warm starts with NaN and infinities, sometimes one forbidden value; `epsilon` 1e-3 to 10; every coupling and solver; f32 and f64 | the documented error exactly when the contract names one, and then `f`, `g` bit-identical; otherwise finite potentials (`-inf` only for zero mass), a finite non-negative plan, honest statistics |
//! | [`converged_balanced_plans_hold_their_marginals`] | costs up to 10, normalised marginals, both solvers, f32 and f64 | after a converged balanced solve the enforced (column) marginal is exact to rounding and the row marginal within the tolerance |
//! | [`f32_and_f64_plans_agree`] | well-conditioned problems (costs up to 20 `epsilon`), every coupling, both solvers | where both converge to 1e-5, the L1 distance between the two plans is at most 1e-3 (the mass is 1) |
//! | [`sampler_steps_are_finite_deterministic_and_atomic`] | any configuration (sometimes invalid), particles of any finite magnitude, random finite targets (flat, bowl, rough, spike) with injected faults; f32 and f64 | finite particles and statistics within their ranges after a success, bit-identical particles after an error, bit-identical runs from one seed; at most `max_iterations` Sinkhorn iterations with at most one absorption each, and at most `P + N (3 + 2k)` points evaluated for `k` MH steps |
//! | [`transport_is_finite_deterministic_and_atomic`] | proposals and log-weights with NaN and infinities, any count | as for the step; an undamped categorical move lands on a proposal of positive weight |
//! | [`weight_ess_and_resampling_respect_their_contracts`] | log-weights with NaN and infinities | the ESS lies in [1, count]; resampling copies proposals of positive weight, or writes nothing |

use entropic_transport::{
    sinkhorn, sinkhorn_scratch_len, systematic_resample, weight_ess, workspace_len, Config,
    Coupling, DefaultRng, Error, Mutation, Precondition, Real, Shape, SinkhornParams,
    SinkhornStats, Solver, StepStats, Steps, Target, Update, Workspace,
};
use proptest::prelude::*;
use proptest::sample::Index;
use rand_core::SeedableRng;

/// Cases per property.
const CASES: u32 = 256;

/// The two scalar types, with what the generators and checks need to know about them.
trait Float: Real {
    /// The largest finite value.
    const MAX: Self;
    /// The smallest positive normal value.
    const MIN_POSITIVE: f64;
    /// The exponent of 2 just below [`Float::MAX`].
    const MAX_EXP: f64;
    /// Bits of the mantissa: `2^MANTISSA_BITS = 1 / EPSILON`.
    const MANTISSA_BITS: f64;
    /// The bit pattern, to compare values exactly.
    fn bits(self) -> u64;
}

impl Float for f32 {
    const MAX: Self = f32::MAX;
    const MIN_POSITIVE: f64 = f32::MIN_POSITIVE as f64;
    const MAX_EXP: f64 = 127.0;
    const MANTISSA_BITS: f64 = 23.0;
    fn bits(self) -> u64 {
        self.to_bits().into()
    }
}

impl Float for f64 {
    const MAX: Self = f64::MAX;
    const MIN_POSITIVE: f64 = f64::MIN_POSITIVE;
    const MAX_EXP: f64 = 1023.0;
    const MANTISSA_BITS: f64 = 52.0;
    fn bits(self) -> u64 {
        self.to_bits()
    }
}

fn bits<T: Float>(x: &[T]) -> Vec<u64> {
    x.iter().map(|v| v.bits()).collect()
}

/// A number as a recipe, drawn once and made in each scalar type, so that one case runs in f32
/// and f64 at the same magnitudes relative to each type's range.
#[derive(Clone, Copy, Debug)]
enum Value {
    /// This value, rounded to the type.
    Plain(f64),
    /// `mantissa * 2^(power * E)` with both in [-1, 1]: from subnormal to near the largest
    /// value of the type (`E` its largest exponent).
    Wide {
        mantissa: f64,
        power: f64,
    },
    /// The same up to `1 / EPSILON` of the type (`E` its mantissa width).
    Precise {
        mantissa: f64,
        power: f64,
    },
    NegInf,
    PosInf,
    Nan,
}

impl Value {
    fn get<T: Float>(self) -> T {
        match self {
            Value::Plain(x) => T::from_f64(x),
            Value::Wide { mantissa, power } => T::from_f64(mantissa * (power * T::MAX_EXP).exp2()),
            Value::Precise { mantissa, power } => {
                T::from_f64(mantissa * (power * T::MANTISSA_BITS).exp2())
            }
            Value::NegInf => T::NEG_INFINITY,
            Value::PosInf => T::INFINITY,
            Value::Nan => T::from_f64(f64::NAN),
        }
    }
}

fn make<T: Float>(values: &[Value]) -> Vec<T> {
    values.iter().map(|v| v.get()).collect()
}

fn plain(lo: f64, hi: f64) -> BoxedStrategy<Value> {
    (lo..hi).prop_map(Value::Plain).boxed()
}

fn wide() -> BoxedStrategy<Value> {
    (-1.0..=1.0f64, -1.0..=1.0f64)
        .prop_map(|(mantissa, power)| Value::Wide { mantissa, power })
        .boxed()
}

fn precise() -> BoxedStrategy<Value> {
    (-1.0..=1.0f64, -1.0..=1.0f64)
        .prop_map(|(mantissa, power)| Value::Precise { mantissa, power })
        .boxed()
}

/// Finite values: mostly ordinary, often of any magnitude the type holds, sometimes 0.
fn finite() -> BoxedStrategy<Value> {
    prop_oneof![6 => plain(-10.0, 10.0), 3 => wide(), 1 => Just(Value::Plain(0.0))].boxed()
}

/// Log-weights: finite, or `-inf` (a weight of 0).
fn log_weight() -> BoxedStrategy<Value> {
    prop_oneof![8 => finite(), 1 => Just(Value::NegInf)].boxed()
}

/// Anything, NaN and both infinities included.
fn any_value() -> BoxedStrategy<Value> {
    prop_oneof![
        12 => finite(),
        1 => Just(Value::NegInf),
        1 => Just(Value::PosInf),
        1 => Just(Value::Nan),
    ]
    .boxed()
}

/// Log-uniform in `[lo, hi]`.
fn log_uniform(lo: f64, hi: f64) -> impl Strategy<Value = f64> + Clone {
    (lo.ln()..=hi.ln()).prop_map(f64::exp)
}

// ---------------------------------------------------------------------------------------------
// Sinkhorn

/// How extreme the values of one problem are.
#[derive(Clone, Copy, Debug)]
enum Regime {
    /// Costs within 30 `epsilon`, log-masses within 10 of 1.
    Typical,
    /// Costs up to the solver's limit `epsilon / EPSILON`, log-masses down to `-MAX`: the
    /// dynamic range the contract accepts.
    Huge,
    /// Costs and log-masses of any finite magnitude: mostly beyond the contract's range.
    Beyond,
}

fn regime() -> impl Strategy<Value = Regime> {
    prop_oneof![4 => Just(Regime::Typical), 4 => Just(Regime::Huge), 1 => Just(Regime::Beyond)]
}

/// Scaled costs `C / epsilon` of a regime.
fn scaled_cost(regime: Regime) -> BoxedStrategy<Value> {
    match regime {
        Regime::Typical => plain(-30.0, 30.0),
        Regime::Huge => prop_oneof![plain(-30.0, 30.0), precise()].boxed(),
        Regime::Beyond => prop_oneof![plain(-30.0, 30.0), wide()].boxed(),
    }
}

/// Log-masses of a regime, `-inf` included.
fn log_mass(regime: Regime) -> BoxedStrategy<Value> {
    let entries = match regime {
        Regime::Typical => plain(-10.0, 10.0),
        Regime::Huge => {
            let tiny = wide().prop_map(|v| match v {
                Value::Wide { mantissa, power } => Value::Wide {
                    mantissa: -mantissa.abs(),
                    power,
                },
                other => other,
            });
            prop_oneof![plain(-10.0, 10.0), tiny].boxed()
        }
        Regime::Beyond => prop_oneof![plain(-10.0, 10.0), wide()].boxed(),
    };
    prop_oneof![8 => entries, 1 => Just(Value::NegInf)].boxed()
}

/// Coordinates of a regime: typical, up to `1 / EPSILON`, or of any finite magnitude.
fn coordinate(regime: Regime) -> BoxedStrategy<Value> {
    match regime {
        Regime::Typical => plain(-10.0, 10.0),
        Regime::Huge => prop_oneof![plain(-10.0, 10.0), precise()].boxed(),
        Regime::Beyond => prop_oneof![plain(-10.0, 10.0), wide()].boxed(),
    }
}

/// A forbidden value for [`poison`]: NaN or an infinity.
fn forbidden() -> impl Strategy<Value = Value> {
    prop_oneof![Just(Value::Nan), Just(Value::PosInf), Just(Value::NegInf)]
}

/// `values` with `value` written at `index` (nothing to write into an empty slice).
fn poison(values: &mut [Value], index: Index, value: Value) {
    if !values.is_empty() {
        values[index.index(values.len())] = value;
    }
}

/// One standalone Sinkhorn problem: `n` particles, `p = n * m` proposals.
#[derive(Clone, Debug)]
struct Problem {
    n: usize,
    p: usize,
    /// `C / epsilon`: the costs, in units of `epsilon`.
    scaled_cost: Vec<Value>,
    log_a: Vec<Value>,
    log_b: Vec<Value>,
    /// Warm starts, in cost units.
    f: Vec<Value>,
    g: Vec<Value>,
    params: SinkhornParams<f64>,
}

/// Where [`Problem::poisoned`] puts its forbidden value.
#[derive(Clone, Copy, Debug)]
enum Slot {
    Cost,
    LogA,
    LogB,
}

impl Problem {
    /// The problem with `value` written at `index` of `slot`.
    fn poisoned(mut self, (slot, index, value): (Slot, Index, Value)) -> Self {
        let target = match slot {
            Slot::Cost => &mut self.scaled_cost,
            Slot::LogA => &mut self.log_a,
            Slot::LogB => &mut self.log_b,
        };
        poison(target, index, value);
        self
    }

    fn params<T: Float>(&self) -> SinkhornParams<T> {
        let t = T::from_f64;
        SinkhornParams {
            epsilon: t(self.params.epsilon),
            coupling: match self.params.coupling {
                Coupling::Unbalanced { rho } => Coupling::Unbalanced { rho: t(rho) },
                Coupling::Balanced => Coupling::Balanced,
                Coupling::Gibbs => Coupling::Gibbs,
            },
            max_iterations: self.params.max_iterations,
            tolerance: t(self.params.tolerance),
            solver: self.params.solver,
        }
    }

    /// The costs in `T`: each scaled cost times `epsilon`.
    fn cost<T: Float>(&self) -> Vec<T> {
        let epsilon = T::from_f64(self.params.epsilon);
        self.scaled_cost
            .iter()
            .map(|c| c.get::<T>() * epsilon)
            .collect()
    }
}

fn coupling() -> impl Strategy<Value = Coupling<f64>> {
    prop_oneof![
        Just(Coupling::Balanced),
        log_uniform(1e-2, 1e2).prop_map(|rho| Coupling::Unbalanced { rho }),
        Just(Coupling::Gibbs),
    ]
}

fn solver() -> impl Strategy<Value = Solver> {
    prop_oneof![Just(Solver::Scaling), Just(Solver::Log)]
}

/// What [`problem`] draws its values and parameters from.
struct Draw {
    scaled_cost: BoxedStrategy<Value>,
    log_mass: BoxedStrategy<Value>,
    warm: BoxedStrategy<Value>,
    coupling: BoxedStrategy<Coupling<f64>>,
    iterations: std::ops::RangeInclusive<u32>,
    /// Log-uniform ranges of `epsilon` and `tolerance`.
    epsilon: (f64, f64),
    tolerance: (f64, f64),
}

/// A problem of 1..=64 particles and 1..=8 proposals each.
fn problem(draw: Draw) -> impl Strategy<Value = Problem> {
    (1usize..=64, 1usize..=8).prop_flat_map(move |(n, m)| {
        let p = n * m;
        let params = (
            log_uniform(draw.epsilon.0, draw.epsilon.1),
            draw.coupling.clone(),
            draw.iterations.clone(),
            log_uniform(draw.tolerance.0, draw.tolerance.1),
            solver(),
        )
            .prop_map(|(epsilon, coupling, max_iterations, tolerance, solver)| {
                SinkhornParams {
                    epsilon,
                    coupling,
                    max_iterations,
                    tolerance,
                    solver,
                }
            });
        (
            prop::collection::vec(draw.scaled_cost.clone(), n * p),
            prop::collection::vec(draw.log_mass.clone(), n),
            prop::collection::vec(draw.log_mass.clone(), p),
            prop::collection::vec(draw.warm.clone(), n),
            prop::collection::vec(draw.warm.clone(), p),
            params,
        )
            .prop_map(move |(scaled_cost, log_a, log_b, f, g, params)| Problem {
                n,
                p,
                scaled_cost,
                log_a,
                log_b,
                f,
                g,
                params,
            })
    })
}

/// Problems of every regime with warm starts of any value; one in eight has a NaN or an
/// infinity where the contract forbids it.
fn wild_problem() -> impl Strategy<Value = Problem> {
    let poison = (
        prop_oneof![Just(Slot::Cost), Just(Slot::LogA), Just(Slot::LogB)],
        any::<Index>(),
        forbidden(),
    );
    let problem = (regime(), regime()).prop_flat_map(|(costs, masses)| {
        problem(Draw {
            scaled_cost: scaled_cost(costs),
            log_mass: log_mass(masses),
            warm: any_value(),
            coupling: coupling().boxed(),
            iterations: 1..=200,
            epsilon: (1e-3, 10.0),
            tolerance: (1e-6, 1.0),
        })
    });
    (problem, prop::option::weighted(0.125, poison)).prop_map(|(problem, poison)| match poison {
        Some(poison) => problem.poisoned(poison),
        None => problem,
    })
}

/// The error the contract of `sinkhorn` names for these inputs (valid parameters assumed), in
/// its order: a NaN or an infinity; a marginal whose largest mass is below
/// `e * MIN_POSITIVE`; a total mass above `1 / sqrt(MIN_POSITIVE)`; a cost above
/// `epsilon / EPSILON` in magnitude.
fn expected_error<T: Float>(cost: &[T], log_a: &[T], log_b: &[T], epsilon: T) -> Option<Error> {
    let marginals = [log_a, log_b];
    let bad_marginal = |m: &[T]| m.iter().any(|&x| x.is_nan() || x == T::INFINITY);
    let ln_min = T::MIN_POSITIVE.ln();
    let underflows = |m: &[T]| m.iter().all(|x| x.to_f64() < ln_min + 1.0);
    let log_total = |m: &[T]| {
        let max = m
            .iter()
            .map(|x| x.to_f64())
            .fold(f64::NEG_INFINITY, f64::max);
        max + m.iter().map(|x| (x.to_f64() - max).exp()).sum::<f64>().ln()
    };
    let limit = T::ONE / T::EPSILON * epsilon;
    if cost.iter().any(|c| !c.is_finite()) || marginals.iter().any(|m| bad_marginal(m)) {
        Some(Error::NonFiniteInput)
    } else if marginals.iter().any(|m| underflows(m)) {
        Some(Error::AllWeightsZero)
    } else if marginals.iter().any(|m| log_total(m) > -0.5 * ln_min) {
        Some(Error::NonFiniteInput)
    } else if cost.iter().any(|c| c.abs() > limit) {
        Some(Error::NonFiniteCost)
    } else {
        None
    }
}

/// The outcome of one solve, widened to f64.
struct Solved {
    result: Result<SinkhornStats<f64>, Error>,
    cost: Vec<f64>,
    f: Vec<f64>,
    g: Vec<f64>,
}

impl Solved {
    /// `P_ij = exp((f_i + g_j - C_ij) / epsilon)` in f64, row-major.
    fn plan(&self, epsilon: f64) -> Vec<f64> {
        self.cost
            .chunks_exact(self.g.len())
            .zip(&self.f)
            .flat_map(|(row, &f_i)| {
                row.iter()
                    .zip(&self.g)
                    .map(move |(&c, &g_j)| ((f_i + g_j - c) / epsilon).exp())
            })
            .collect()
    }
}

/// Solves `problem` in `T`: checks that it fails exactly as the contract says, and then writes
/// nothing.
fn solve<T: Float>(problem: &Problem) -> Result<Solved, TestCaseError> {
    let (cost, log_a, log_b) = (
        problem.cost::<T>(),
        make::<T>(&problem.log_a),
        make::<T>(&problem.log_b),
    );
    let (mut f, mut g) = (make::<T>(&problem.f), make::<T>(&problem.g));
    let (f0, g0) = (bits(&f), bits(&g));
    let params = problem.params::<T>();
    let mut scratch = vec![T::ZERO; sinkhorn_scratch_len(problem.n, problem.p, params.solver)];
    let result = sinkhorn(&cost, &log_a, &log_b, &params, &mut f, &mut g, &mut scratch);
    let expected = expected_error(&cost, &log_a, &log_b, params.epsilon);
    prop_assert_eq!(result.as_ref().err().copied(), expected);
    if result.is_err() {
        prop_assert!(bits(&f) == f0 && bits(&g) == g0, "wrote on error");
    }
    let widen = |x: &[T]| x.iter().map(|v| v.to_f64()).collect::<Vec<f64>>();
    Ok(Solved {
        result: result.map(|s| SinkhornStats {
            iterations: s.iterations,
            converged: s.converged,
            marginal_error: s.marginal_error.to_f64(),
            absorptions: s.absorptions,
        }),
        cost: widen(&cost),
        f: widen(&f),
        g: widen(&g),
    })
}

/// Potentials are finite, except `-inf` where the mass `exp(log m)` is 0 in `T` (always where
/// `log m = -inf`).
fn check_potentials<T: Float>(potentials: &[f64], log_m: &[Value]) -> Result<(), TestCaseError> {
    for (&x, m) in potentials.iter().zip(log_m) {
        let log_m = m.get::<T>();
        if log_m == T::NEG_INFINITY {
            prop_assert_eq!(x, f64::NEG_INFINITY);
        } else {
            let zero_mass = log_m.exp() == T::ZERO;
            prop_assert!(
                x.is_finite() || (zero_mass && x == f64::NEG_INFINITY),
                "potential {x} for log-mass {log_m}"
            );
        }
    }
    Ok(())
}

fn check_wild<T: Float>(problem: &Problem) -> Result<(), TestCaseError> {
    let solved = solve::<T>(problem)?;
    let Ok(stats) = solved.result else {
        return Ok(());
    };
    check_potentials::<T>(&solved.f, &problem.log_a)?;
    check_potentials::<T>(&solved.g, &problem.log_b)?;
    let params = problem.params::<T>();
    let plan = solved.plan(params.epsilon.to_f64());
    prop_assert!(
        plan.iter().all(|&x| x.is_finite() && x >= 0.0),
        "plan entry not finite and non-negative"
    );
    prop_assert!(stats.marginal_error.is_finite() && stats.marginal_error >= 0.0);
    prop_assert!((1..=params.max_iterations).contains(&stats.iterations));
    if params.coupling == Coupling::Gibbs {
        prop_assert!(stats.iterations == 1 && stats.converged);
    } else if stats.converged {
        prop_assert!(stats.marginal_error <= params.tolerance.to_f64());
    }
    Ok(())
}

/// Log-masses normalised to a total mass of 1 (kept as they are if all `-inf`).
fn normalised(log_m: &[Value]) -> Vec<Value> {
    let values: Vec<f64> = make(log_m);
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let total = max + values.iter().map(|v| (v - max).exp()).sum::<f64>().ln();
    if !total.is_finite() {
        return log_m.to_vec();
    }
    values
        .iter()
        .map(|&v| match v - total {
            x if x == f64::NEG_INFINITY => Value::NegInf,
            x => Value::Plain(x),
        })
        .collect()
}

/// Well-scaled problems: costs of up to `max_scaled_cost` epsilons, log-masses in [-5, 5) or
/// `-inf`, normalised; cold starts.
fn moderate_problem(
    max_scaled_cost: f64,
    coupling: BoxedStrategy<Coupling<f64>>,
    iterations: std::ops::RangeInclusive<u32>,
    epsilon: (f64, f64),
    tolerance: (f64, f64),
) -> impl Strategy<Value = Problem> {
    problem(Draw {
        scaled_cost: plain(0.0, max_scaled_cost),
        log_mass: prop_oneof![8 => plain(-5.0, 5.0), 1 => Just(Value::NegInf)].boxed(),
        warm: Just(Value::Plain(0.0)).boxed(),
        coupling,
        iterations,
        epsilon,
        tolerance,
    })
    .prop_map(|mut problem| {
        problem.log_a = normalised(&problem.log_a);
        problem.log_b = normalised(&problem.log_b);
        problem
    })
}

/// Row and column sums of a plan (n, p).
fn marginals(plan: &[f64], p: usize) -> (Vec<f64>, Vec<f64>) {
    let rows = plan.chunks_exact(p).map(|r| r.iter().sum()).collect();
    let mut cols = vec![0.0; p];
    for row in plan.chunks_exact(p) {
        cols.iter_mut().zip(row).for_each(|(c, &x)| *c += x);
    }
    (rows, cols)
}

/// `sum_k |x_k - exp(log_m_k)|`.
fn l1_error(sums: &[f64], log_m: &[Value]) -> f64 {
    sums.iter()
        .zip(log_m)
        .map(|(s, m)| (s - m.get::<f64>().exp()).abs())
        .sum()
}

fn check_converged_marginals<T: Float>(problem: &Problem) -> Result<(), TestCaseError> {
    let solved = solve::<T>(problem)?;
    let Ok(stats) = solved.result else {
        return Ok(()); // every entry of a marginal was -inf
    };
    if !stats.converged {
        return Ok(());
    }
    let params = problem.params::<T>();
    let (rows, cols) = marginals(&solved.plan(params.epsilon.to_f64()), problem.p);
    // The plan rebuilt from potentials rounded to T is off by a few ulps of its exponents,
    // which reach the largest scaled cost.
    let largest = make::<f64>(&problem.scaled_cost)
        .iter()
        .fold(0.0f64, |m, c| m.max(c.abs()));
    let rounding = 16.0 * T::EPSILON.to_f64() * (1.0 + largest);
    let column_error = l1_error(&cols, &problem.log_b);
    let row_error = l1_error(&rows, &problem.log_a);
    prop_assert!(
        column_error <= rounding,
        "column error {column_error:e}, rounding {rounding:e}"
    );
    let tolerance = params.tolerance.to_f64();
    prop_assert!(
        row_error <= tolerance + rounding,
        "row error {row_error:e}, tolerance {tolerance:e}, rounding {rounding:e}"
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    /// Any problem in either type: the documented error, or finite outputs.
    #[test]
    fn sinkhorn_never_writes_a_nan(problem in wild_problem()) {
        check_wild::<f32>(&problem)?;
        check_wild::<f64>(&problem)?;
    }

    /// A converged balanced plan: columns exact (the last half-step enforces them), rows within
    /// the tolerance.
    #[test]
    fn converged_balanced_plans_hold_their_marginals(
        problem in moderate_problem(
            1e4,
            Just(Coupling::Balanced).boxed(),
            1..=1000,
            (1e-3, 10.0),
            (1e-6, 1e-1),
        )
    ) {
        check_converged_marginals::<f32>(&problem)?;
        check_converged_marginals::<f64>(&problem)?;
    }

    /// The same problem in f32 and f64: where both converge, the plans are within 1e-3 in L1
    /// (the total mass is 1).
    #[test]
    fn f32_and_f64_plans_agree(
        problem in moderate_problem(20.0, coupling().boxed(), 2000..=2000, (1e-3, 10.0), (1e-5, 1e-5))
    ) {
        let (narrow, wide) = (solve::<f32>(&problem)?, solve::<f64>(&problem)?);
        let converged = |s: &Solved| s.result.as_ref().is_ok_and(|s| s.converged);
        if converged(&narrow) && converged(&wide) {
            let epsilon = problem.params.epsilon;
            let distance: f64 = narrow
                .plan(epsilon)
                .iter()
                .zip(wide.plan(epsilon))
                .map(|(a, b)| (a - b).abs())
                .sum();
            prop_assert!(distance <= 1e-3, "L1 distance {distance:e}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The sampler

/// A random target, finite wherever it is evaluated (`-inf`, zero density, is allowed).
#[derive(Clone, Copy, Debug)]
enum Landscape {
    /// `log pi = 0`, score 0.
    Flat,
    /// `-c |x - m|^2 / 2` (`-inf` where it overflows), score `-c (x - m)` clamped to the finite
    /// range.
    Bowl { centre: Value, curvature: f64 },
    /// Arbitrary values in `[-scale, scale]` hashed from the point's bits, and a hashed score.
    Rough { scale: Value },
    /// 0 inside the cube `|x_k - m| < width`, `-inf` outside; score 0.
    Spike { centre: Value, width: f64 },
}

/// A misbehaviour of the target on its `call`-th evaluation (counting both callbacks).
#[derive(Clone, Copy, Debug)]
enum Fault {
    None,
    /// Returns this code without writing.
    Fail {
        call: usize,
        code: i32,
    },
    /// Writes `value` into output `index`.
    Write {
        call: usize,
        index: Index,
        value: Value,
    },
    /// Writes only the first half of its outputs.
    Short {
        call: usize,
    },
}

#[derive(Clone, Copy, Debug)]
struct Model {
    landscape: Landscape,
    fault: Fault,
    has_score: bool,
}

/// [`Model`] as a [`Target`] in `T`, counting its calls.
struct ModelTarget<T> {
    model: Model,
    calls: usize,
    /// Points evaluated, by both callbacks together.
    points: usize,
    _scalar: core::marker::PhantomData<T>,
}

/// A hash of a point's bits and a salt, as a value in [-1, 1].
fn hash_unit<T: Float>(x: &[T], salt: u64) -> f64 {
    let h = x.iter().fold(salt ^ 0x9E37_79B9_7F4A_7C15, |h, v| {
        (h ^ v.bits())
            .wrapping_mul(0x0100_0000_01B3)
            .rotate_left(29)
    });
    (h >> 11) as f64 / (1u64 << 52) as f64 - 1.0
}

impl<T: Float> ModelTarget<T> {
    fn new(model: Model) -> Self {
        ModelTarget {
            model,
            calls: 0,
            points: 0,
            _scalar: core::marker::PhantomData,
        }
    }

    /// Runs `fill` (the well-behaved output) with this call's fault applied.
    fn evaluate(&mut self, out: &mut [T], fill: impl FnOnce(&mut [T])) -> Result<(), i32> {
        let call = self.calls;
        self.calls += 1;
        match self.model.fault {
            Fault::Fail { call: c, code } if c == call => return Err(code),
            Fault::Short { call: c } if c == call => {
                let half = out.len() / 2;
                fill(&mut out[..half]);
                return Ok(());
            }
            _ => fill(out),
        }
        if let Fault::Write {
            call: c,
            index,
            value,
        } = self.model.fault
        {
            if c == call && !out.is_empty() {
                out[index.index(out.len())] = value.get();
            }
        }
        Ok(())
    }
}

impl<T: Float> Target<T> for ModelTarget<T> {
    fn log_density(&mut self, x: &[T], dim: usize, out: &mut [T]) -> Result<(), i32> {
        let landscape = self.model.landscape;
        self.points += x.len() / dim;
        self.evaluate(out, |out| {
            for (point, o) in x.chunks_exact(dim).zip(out.iter_mut()) {
                *o = match landscape {
                    Landscape::Flat => T::ZERO,
                    Landscape::Bowl { centre, curvature } => {
                        let m = centre.get::<T>();
                        let sq = point.iter().fold(T::ZERO, |s, &v| s + (v - m) * (v - m));
                        -(T::from_f64(0.5 * curvature) * sq)
                    }
                    Landscape::Rough { scale } => {
                        T::from_f64(hash_unit(point, 1)) * scale.get::<T>()
                    }
                    Landscape::Spike { centre, width } => {
                        let (m, w) = (centre.get::<T>(), T::from_f64(width));
                        if point.iter().all(|&v| (v - m).abs() < w) {
                            T::ZERO
                        } else {
                            T::NEG_INFINITY
                        }
                    }
                };
            }
        })
    }

    fn score(&mut self, x: &[T], dim: usize, out: &mut [T]) -> Result<(), i32> {
        let landscape = self.model.landscape;
        self.points += x.len() / dim;
        self.evaluate(out, |out| {
            for (point, o) in x.chunks_exact(dim).zip(out.chunks_exact_mut(dim)) {
                for (k, (o, &v)) in o.iter_mut().zip(point).enumerate() {
                    *o = match landscape {
                        Landscape::Flat | Landscape::Spike { .. } => T::ZERO,
                        Landscape::Bowl { centre, curvature } => {
                            let s = -(T::from_f64(curvature) * (v - centre.get::<T>()));
                            s.max(-T::MAX).min(T::MAX)
                        }
                        Landscape::Rough { scale } => {
                            T::from_f64(hash_unit(point, 2 + k as u64)) * scale.get::<T>()
                        }
                    };
                }
            }
        })
    }

    fn has_score(&self) -> bool {
        self.model.has_score
    }
}

fn landscape() -> impl Strategy<Value = Landscape> {
    prop_oneof![
        Just(Landscape::Flat),
        (finite(), log_uniform(1e-6, 1e6))
            .prop_map(|(centre, curvature)| Landscape::Bowl { centre, curvature }),
        finite().prop_map(|scale| Landscape::Rough { scale }),
        (finite(), log_uniform(1e-3, 1e3))
            .prop_map(|(centre, width)| Landscape::Spike { centre, width }),
    ]
}

fn fault() -> impl Strategy<Value = Fault> {
    let bad = prop_oneof![Just(Value::Nan), Just(Value::PosInf), Just(Value::NegInf)];
    prop_oneof![
        8 => Just(Fault::None),
        1 => (0usize..12, any::<i32>()).prop_map(|(call, code)| Fault::Fail { call, code }),
        1 => (0usize..12, any::<Index>(), bad)
            .prop_map(|(call, index, value)| Fault::Write { call, index, value }),
        1 => (0usize..12).prop_map(|call| Fault::Short { call }),
    ]
}

fn model() -> impl Strategy<Value = Model> {
    (landscape(), fault(), prop::bool::weighted(0.9)).prop_map(|(landscape, fault, has_score)| {
        Model {
            landscape,
            fault,
            has_score,
        }
    })
}

/// Any configuration: mostly valid, occasionally not (`alpha = 0` without `sigma`, a NaN
/// `epsilon`), every coupling, solver, update and option.
fn config() -> impl Strategy<Value = Config<f64>> {
    let epsilon = prop_oneof![20 => log_uniform(1e-3, 10.0), 1 => Just(f64::NAN)];
    let sigma = prop::option::of(prop_oneof![
        8 => log_uniform(1e-3, 1e2),
        1 => finite().prop_map(|v| v.get::<f64>().abs()),
    ]);
    let precondition = prop_oneof![
        3 => Just(Precondition::Off),
        1 => (0.01..=1.0f64).prop_map(|rate| Precondition::Ensemble { rate }),
    ];
    let steps = prop_oneof![Just(Steps::Auto), (0u32..=3).prop_map(Steps::Fixed)];
    let mutation = (steps, log_uniform(1e-4, 1.0))
        .prop_map(|(steps, step_size)| Mutation { steps, step_size });
    (
        (
            epsilon,
            1u32..=60,
            log_uniform(1e-4, 1.0),
            solver(),
            coupling(),
        ),
        (0.0..2.0f64, sigma, log_uniform(1e-2, 1e3), any::<bool>()),
        (
            prop_oneof![
                Just(Update::Categorical),
                Just(Update::Barycentric),
                Just(Update::Rounded)
            ],
            prop_oneof![3 => Just(1.0), 1 => 0.01..=1.0f64],
            mutation,
            any::<bool>(),
            any::<bool>(),
            precondition,
        ),
    )
        .prop_map(
            |(
                (epsilon, max_iterations, tolerance, solver, coupling),
                (alpha, sigma, score_clip, use_score),
                (update, damping, mutation, warm_start, truncate_weights, precondition),
            )| Config {
                epsilon,
                tolerance,
                max_iterations,
                solver,
                alpha,
                sigma,
                score_clip,
                use_score,
                coupling,
                update,
                damping,
                mutation,
                warm_start,
                truncate_weights,
                precondition,
            },
        )
}

/// `config` in `T`.
fn narrow<T: Float>(c: &Config<f64>) -> Config<T> {
    let t = T::from_f64;
    Config {
        epsilon: t(c.epsilon),
        tolerance: t(c.tolerance),
        max_iterations: c.max_iterations,
        solver: c.solver,
        alpha: t(c.alpha),
        sigma: c.sigma.map(t),
        score_clip: t(c.score_clip),
        use_score: c.use_score,
        coupling: match c.coupling {
            Coupling::Unbalanced { rho } => Coupling::Unbalanced { rho: t(rho) },
            Coupling::Balanced => Coupling::Balanced,
            Coupling::Gibbs => Coupling::Gibbs,
        },
        update: c.update,
        damping: t(c.damping),
        mutation: Mutation {
            steps: c.mutation.steps,
            step_size: t(c.mutation.step_size),
        },
        warm_start: c.warm_start,
        truncate_weights: c.truncate_weights,
        precondition: match c.precondition {
            Precondition::Ensemble { rate } => Precondition::Ensemble { rate: t(rate) },
            Precondition::Off => Precondition::Off,
        },
    }
}

/// A sampler run: shape, starting particles, configuration, target and seed.
#[derive(Clone, Debug)]
struct Run {
    shape: Shape,
    particles: Vec<Value>,
    config: Config<f64>,
    model: Model,
    seed: u64,
    steps: usize,
}

/// 1..=64 particles, 1..=8 proposals each, dimension 1..=5; particles of a regime, sometimes
/// all at one point.
fn run() -> impl Strategy<Value = Run> {
    (1usize..=64, 1usize..=8, 1usize..=5, regime()).prop_flat_map(|(n, m, d, regime)| {
        let particles = prop_oneof![
            4 => prop::collection::vec(coordinate(regime), n * d),
            1 => coordinate(regime).prop_map(move |v| vec![v; n * d]),
        ];
        (particles, config(), model(), any::<u64>(), 1usize..=3).prop_map(
            move |(particles, config, model, seed, steps)| Run {
                shape: Shape::new(n, m, d),
                particles,
                config,
                model,
                seed,
                steps,
            },
        )
    })
}

/// One call's result and the particles after it, as bits.
type Outcome = (Result<StepStats<u64>, Error>, Vec<u64>);

/// What a run produced: every step's outcome.
type Trace = Vec<Outcome>;

/// The statistics as bit patterns, to compare runs exactly.
fn stats_bits<T: Float>(s: &StepStats<T>) -> StepStats<u64> {
    StepStats {
        sinkhorn: SinkhornStats {
            iterations: s.sinkhorn.iterations,
            converged: s.sinkhorn.converged,
            marginal_error: s.sinkhorn.marginal_error.bits(),
            absorptions: s.sinkhorn.absorptions,
        },
        cost_scale: s.cost_scale.bits(),
        weight_ess: s.weight_ess.bits(),
        coupling_ess: s.coupling_ess.bits(),
        acceptance_rate: s.acceptance_rate.bits(),
    }
}

/// Runs `run.steps` steps in `T`, checking each: finite particles and statistics on success,
/// particles bit-identical on error.
fn sample<T: Float>(run: &Run) -> Result<Trace, TestCaseError> {
    let mut memory = vec![T::ZERO; workspace_len(&run.shape).unwrap()];
    let mut workspace = Workspace::new(run.shape, &mut memory).unwrap();
    let mut particles = make::<T>(&run.particles);
    let config = narrow::<T>(&run.config);
    let mut target = ModelTarget::<T>::new(run.model);
    let mut rng = DefaultRng::seed_from_u64(run.seed);
    let mut trace = Trace::new();
    // The work of a step is bounded by its configuration: at most P proposals and N particles
    // through both callbacks, plus N points twice per MH step and once more for each callback
    // before the first (`P + N (3 + 2k)`), whatever the target returns.
    let (n, k) = (
        run.shape.n_particles,
        config.mutation.steps.count(run.shape.dim) as usize,
    );
    let most_points = run.shape.pool() + n * (3 + 2 * k);
    for _ in 0..run.steps {
        let before = bits(&particles);
        target.points = 0;
        let result = workspace.step(&config, &mut particles, &mut target, &mut rng);
        prop_assert!(
            target.points <= most_points,
            "{} points evaluated",
            target.points
        );
        match &result {
            Ok(stats) => {
                prop_assert!(
                    particles.iter().all(|x| x.is_finite()),
                    "non-finite particle"
                );
                check_stats(stats, run.shape.pool(), config.max_iterations)?;
            }
            Err(_) => prop_assert_eq!(bits(&particles), before, "particles changed on error"),
        }
        trace.push((result.map(|s| stats_bits(&s)), bits(&particles)));
    }
    Ok(trace)
}

/// Finite statistics, each within its documented range.
fn check_stats<T: Float>(s: &StepStats<T>, pool: usize, cap: u32) -> Result<(), TestCaseError> {
    let values = [
        s.sinkhorn.marginal_error,
        s.cost_scale,
        s.weight_ess,
        s.coupling_ess,
        s.acceptance_rate,
    ];
    prop_assert!(values.iter().all(|v| v.is_finite()), "statistics {s:?}");
    prop_assert!(
        (1..=cap).contains(&s.sinkhorn.iterations),
        "statistics {s:?}"
    );
    prop_assert!(
        s.sinkhorn.absorptions <= s.sinkhorn.iterations,
        "statistics {s:?}"
    );
    let acceptance = s.acceptance_rate.to_f64();
    prop_assert!((0.0..=1.0).contains(&acceptance), "statistics {s:?}");
    // The ESS lie in [1, P] up to rounding.
    for ess in [s.weight_ess.to_f64(), s.coupling_ess.to_f64()] {
        prop_assert!(
            (0.999..=pool as f64 * 1.001).contains(&ess),
            "statistics {s:?}"
        );
    }
    Ok(())
}

/// A transport call: particles, proposals and their log-weights, configuration and seed.
#[derive(Clone, Debug)]
struct Move {
    shape: Shape,
    particles: Vec<Value>,
    proposals: Vec<Value>,
    log_weights: Vec<Value>,
    config: Config<f64>,
    seed: u64,
}

/// Particles and proposals of a regime, log-weights of a regime, any count from 0 to one
/// above the pool; in one case of eight a NaN or an infinity among the proposals or the
/// log-weights.
fn transport_case() -> impl Strategy<Value = Move> {
    (1usize..=64, 1usize..=8, 1usize..=5, regime(), regime()).prop_flat_map(
        |(n, m, d, points, weights)| {
            (0..=n * m + 1).prop_flat_map(move |count| {
                let poisoned = (any::<bool>(), any::<Index>(), forbidden());
                (
                    prop::collection::vec(coordinate(points), n * d),
                    prop::collection::vec(coordinate(points), count * d),
                    prop::collection::vec(log_mass(weights), count),
                    prop::option::weighted(0.125, poisoned),
                    config(),
                    any::<u64>(),
                )
                    .prop_map(
                        move |(
                            particles,
                            mut proposals,
                            mut log_weights,
                            poisoned,
                            config,
                            seed,
                        )| {
                            if let Some((in_weights, index, value)) = poisoned {
                                let values = if in_weights {
                                    &mut log_weights
                                } else {
                                    &mut proposals
                                };
                                poison(values, index, value);
                            }
                            Move {
                                shape: Shape::new(n, m, d),
                                particles,
                                proposals,
                                log_weights,
                                config,
                                seed,
                            }
                        },
                    )
            })
        },
    )
}

/// One transport call in `T`, checked: on success finite particles (after an undamped
/// categorical move each on a proposal of positive weight, or where it was if its plan row
/// has no mass), on error the particles untouched.
fn transport<T: Float>(case: &Move) -> Result<Outcome, TestCaseError> {
    let mut memory = vec![T::ZERO; workspace_len(&case.shape).unwrap()];
    let mut workspace = Workspace::new(case.shape, &mut memory).unwrap();
    let mut particles = make::<T>(&case.particles);
    let (proposals, log_weights) = (make::<T>(&case.proposals), make::<T>(&case.log_weights));
    let config = narrow::<T>(&case.config);
    let mut rng = DefaultRng::seed_from_u64(case.seed);
    let before = bits(&particles);
    let result = workspace.transport(&config, &mut particles, &proposals, &log_weights, &mut rng);
    match &result {
        Ok(stats) => {
            prop_assert!(
                particles.iter().all(|x| x.is_finite()),
                "non-finite particle"
            );
            check_stats(stats, case.log_weights.len(), config.max_iterations)?;
            if config.update != Update::Barycentric && config.damping == T::ONE {
                let d = case.shape.dim;
                let start = make::<T>(&case.particles);
                for (x, x0) in particles.chunks_exact(d).zip(start.chunks_exact(d)) {
                    let landed = proposals
                        .chunks_exact(d)
                        .zip(&log_weights)
                        .any(|(y, &w)| bits(y) == bits(x) && w > T::NEG_INFINITY);
                    prop_assert!(
                        landed || bits(x) == bits(x0),
                        "a particle moved, but onto no proposal of positive weight"
                    );
                }
            }
        }
        Err(_) => prop_assert_eq!(bits(&particles), before, "particles changed on error"),
    }
    Ok((result.map(|s| stats_bits(&s)), bits(&particles)))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    /// One to three steps in f32 and in f64, each run twice from the same seed.
    #[test]
    fn sampler_steps_are_finite_deterministic_and_atomic(run in run()) {
        prop_assert_eq!(sample::<f32>(&run)?, sample::<f32>(&run)?);
        prop_assert_eq!(sample::<f64>(&run)?, sample::<f64>(&run)?);
    }

    /// One transport call in f32 and in f64, each run twice from the same seed.
    #[test]
    fn transport_is_finite_deterministic_and_atomic(case in transport_case()) {
        prop_assert_eq!(transport::<f32>(&case)?, transport::<f32>(&case)?);
        prop_assert_eq!(transport::<f64>(&case)?, transport::<f64>(&case)?);
    }

    /// `weight_ess` in [1, count] and systematic resampling onto proposals of positive weight,
    /// or an error and nothing written.
    #[test]
    fn weight_ess_and_resampling_respect_their_contracts(
        log_weights in prop::collection::vec(prop_oneof![8 => log_weight(), 1 => any_value()], 0..64),
        n in 1usize..32,
        seed: u64,
    ) {
        let w = make::<f64>(&log_weights);
        let proposals: Vec<f64> = (0..w.len()).map(|j| j as f64).collect();
        let mut particles = vec![-1.0; n];
        let mut rng = DefaultRng::seed_from_u64(seed);
        let resampled = systematic_resample(&mut particles, &proposals, &w, 1, &mut rng);
        match weight_ess(&w) {
            Ok(ess) => {
                prop_assert!(resampled.is_ok());
                prop_assert!((1.0..=w.len() as f64 * (1.0 + 1e-12)).contains(&ess), "ESS {ess}");
                for &x in &particles {
                    prop_assert!(w[x as usize] > f64::NEG_INFINITY, "drew a zero weight");
                }
            }
            Err(error) => {
                prop_assert_eq!(resampled, Err(error));
                prop_assert!(particles.iter().all(|&x| x == -1.0));
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The cases these properties found, kept as plain tests

/// A workspace of `shape` in `T` over fresh memory, and a generator.
fn workspace_of<T: Float>(shape: Shape) -> (Vec<T>, DefaultRng) {
    let memory = vec![T::ZERO; workspace_len(&shape).unwrap()];
    (memory, DefaultRng::seed_from_u64(3))
}

/// Two equal log-weights of -1e13 in f32 normalise to 1/2 each: the shift by the largest and
/// the `ln(total)` are applied one after the other (in one step, `ln 2` was lost to rounding and
/// the ESS came out as 0.5).
#[test]
fn huge_equal_log_weights_normalise_exactly() {
    let shape = Shape::new(2, 1, 1);
    let (mut memory, mut rng) = workspace_of::<f32>(shape);
    let mut workspace = Workspace::new(shape, &mut memory).unwrap();
    let mut particles = [0.0f32, 1.0];
    let stats = workspace
        .transport(
            &Config::default(),
            &mut particles,
            &[0.0, 1.0],
            &[-1e13, -1e13],
            &mut rng,
        )
        .unwrap();
    assert_eq!(stats.weight_ess, 2.0);
}

/// A particle so far from every proposal that its normalised cost overflows has an empty plan
/// row: it stays where it is, under every update (the barycentric update divided by the empty
/// row's total 0 and wrote NaN), and the coupling ESS stays finite.
#[test]
fn a_particle_without_plan_mass_stays_where_it_is() {
    for update in [Update::Categorical, Update::Barycentric, Update::Rounded] {
        for solver in [Solver::Scaling, Solver::Log] {
            let shape = Shape::new(4, 1, 1);
            let (mut memory, mut rng) = workspace_of::<f32>(shape);
            let mut workspace = Workspace::new(shape, &mut memory).unwrap();
            let mut particles = [1.2e19f32, 0.0, 0.1, 0.2];
            let config = Config {
                update,
                solver,
                ..Config::filter()
            };
            let stats = workspace
                .transport(
                    &config,
                    &mut particles,
                    &[0.0, 0.1, 0.2, 0.3],
                    &[0.0; 4],
                    &mut rng,
                )
                .unwrap();
            assert_eq!(particles[0], 1.2e19, "{update:?} {solver:?}");
            assert!(
                particles.iter().all(|x| x.is_finite()),
                "{update:?} {solver:?}"
            );
            assert!(stats.coupling_ess.is_finite() && stats.sinkhorn.marginal_error.is_finite());
        }
    }
}

/// The log solver with exponents far beyond f32's precision (a particle 1.3e5 away, a median
/// cost of order 1): rounding in `u + lse` made a row mass infinite; it is clamped at the
/// plan's total now.
#[test]
fn log_solver_statistics_stay_finite_beyond_the_precision() {
    let shape = Shape::new(3, 2, 1);
    let (mut memory, mut rng) = workspace_of::<f32>(shape);
    let mut workspace = Workspace::new(shape, &mut memory).unwrap();
    let mut particles = [-128_979.13f32, 0.35, 2.7];
    let proposals = [0.0f32, -569.2, 3.6, -2_457_011.3, 4.9, 0.0];
    let config = Config {
        solver: Solver::Log,
        max_iterations: 1,
        epsilon: 1.0,
        ..Config::default()
    };
    let stats = workspace
        .transport(&config, &mut particles, &proposals, &[0.0; 6], &mut rng)
        .unwrap();
    assert!(stats.sinkhorn.marginal_error.is_finite(), "{stats:?}");
}

/// Solves a 1 x 1 or larger problem in f64; the result and the potentials.
fn solve_f64(
    cost: &[f64],
    log_a: &[f64],
    log_b: &[f64],
    params: SinkhornParams<f64>,
    warm: (f64, f64),
) -> (Result<SinkhornStats<f64>, Error>, Vec<f64>, Vec<f64>) {
    let (mut f, mut g) = (vec![warm.0; log_a.len()], vec![warm.1; log_b.len()]);
    let len = sinkhorn_scratch_len(log_a.len(), log_b.len(), params.solver);
    let mut scratch = vec![0.0; len];
    let result = sinkhorn(cost, log_a, log_b, &params, &mut f, &mut g, &mut scratch);
    (result, f, g)
}

fn params(epsilon: f64, coupling: Coupling<f64>, solver: Solver) -> SinkhornParams<f64> {
    SinkhornParams {
        epsilon,
        coupling,
        max_iterations: 50,
        tolerance: 1e-6,
        solver,
    }
}

/// Warm starts whose scaled value `f / epsilon` overflowed (1e300 / 1e-3) made every potential
/// NaN; such a warm start now starts cold.
#[test]
fn an_overflowing_warm_start_starts_cold() {
    for solver in [Solver::Scaling, Solver::Log] {
        let p = params(1e-3, Coupling::Balanced, solver);
        let (result, f, g) =
            solve_f64(&[0.0, 1e-3], &[0.0], &[-(2f64.ln()); 2], p, (1e300, -1e300));
        assert!(result.is_ok(), "{solver:?}");
        assert!(
            f.iter().chain(&g).all(|x| x.is_finite()),
            "{solver:?}: {f:?} {g:?}"
        );
    }
}

/// From a warm start that lowered every column far (`g = -1e4 epsilon`), the unbalanced
/// column half-step of the log solver raised the columns by `exp((1 - lambda) 1e4)`: the row
/// masses overflowed. Columns are capped at the rows' total now.
#[test]
fn the_unbalanced_log_solver_cannot_overshoot() {
    let p = SinkhornParams {
        max_iterations: 3,
        ..params(1.0, Coupling::Unbalanced { rho: 0.05 }, Solver::Log)
    };
    let (result, f, g) = solve_f64(
        &[0.0, 1.0, 2.0, 0.5],
        &[-(2f64.ln()); 2],
        &[-(2f64.ln()); 2],
        p,
        (0.0, -1e4),
    );
    let stats = result.unwrap();
    assert!(stats.marginal_error.is_finite(), "{stats:?}");
    for (i, j) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
        let cost = [0.0, 1.0, 2.0, 0.5][2 * i + j];
        assert!((f[i] + g[j] - cost).exp() <= 1.0 + 1e-12);
    }
}

/// The bounds `check_problem` and `validate` put on the standalone solver's inputs, each found
/// by a NaN or an infinity it let through.
#[test]
fn inputs_beyond_the_representable_range_are_rejected() {
    let p = params(1.0, Coupling::Balanced, Solver::Log);
    let half = [-(2f64.ln()); 2];
    let reject = |cost: &[f64], log_a: &[f64], log_b: &[f64], p| {
        solve_f64(cost, log_a, log_b, p, (0.0, 0.0)).0
    };
    // A scaled cost above 1 / EPSILON: its rounding exceeds epsilon.
    assert_eq!(
        reject(&[0.0, 1e16], &[0.0], &half, p),
        Err(Error::NonFiniteCost)
    );
    // A total mass above 1 / sqrt(MIN_POSITIVE).
    assert_eq!(
        reject(&[0.0, 1.0], &[400.0], &half, p),
        Err(Error::NonFiniteInput)
    );
    // Every mass below e * MIN_POSITIVE.
    assert_eq!(
        reject(&[0.0, 1.0], &[-800.0], &half, p),
        Err(Error::AllWeightsZero)
    );
    // Epsilon outside the square root of the range (f64::MAX overflowed the potentials).
    for epsilon in [f64::MAX, 1e-200] {
        let p = params(epsilon, Coupling::Balanced, Solver::Log);
        assert_eq!(
            reject(&[0.0, 1.0], &[0.0], &half, p),
            Err(Error::InvalidEpsilon)
        );
        let config = Config::<f64> {
            epsilon,
            ..Config::default()
        };
        assert_eq!(config.validate(), Err(Error::InvalidEpsilon));
    }
}
