//! Where the instructions of one step go (`--features profile`): the stages of
//! `Workspace::step` run one by one through the core's public stage functions on the final
//! ensemble, each timed with the same SysTick window as the whole step. Extra static buffers
//! (one more workspace) make this build's RAM figures meaningless; the default build has none.

use crate::measure::{ticks, ticks_and_stack, Out};
use core::fmt::Write;
use entropic_transport::cost::{cost_scale, half_sq_dists};
use entropic_transport::propose::propose;
use entropic_transport::rng::{fill_normal, uniform};
use entropic_transport::update::{update, Scratch};
use entropic_transport::vector::log_sum_exp_in_place;
use entropic_transport::weights::log_weights;
use entropic_transport::{
    sinkhorn, sinkhorn_scratch_len, Config, DefaultRng, Real, SinkhornParams, Solver, Target,
};
use etd_cortex_m4::{Mixture3, Scalar, D, N, P};

/// The stage buffers, named as in `Workspace`.
pub struct Buffers {
    scores: [[Scalar; D]; N],
    means: [[Scalar; D]; N],
    proposals: [[Scalar; D]; P],
    log_pi: [Scalar; P],
    log_b: [Scalar; P],
    col: [Scalar; P],
    cost: [[Scalar; P]; N],
    f: [Scalar; N],
    g: [Scalar; P],
    scratch: [Scalar; SCRATCH],
    ones: [Scalar; P],
    next: [[Scalar; D]; N],
}

/// Scratch of the standalone scaling solve.
const SCRATCH: usize = sinkhorn_scratch_len(N, P, Solver::Scaling);

impl Buffers {
    /// Zeroed buffers (for a `static`).
    pub const fn new() -> Self {
        Buffers {
            scores: [[Scalar::ZERO; D]; N],
            means: [[Scalar::ZERO; D]; N],
            proposals: [[Scalar::ZERO; D]; P],
            log_pi: [Scalar::ZERO; P],
            log_b: [Scalar::ZERO; P],
            col: [Scalar::ZERO; P],
            cost: [[Scalar::ZERO; P]; N],
            f: [Scalar::ZERO; N],
            g: [Scalar::ZERO; P],
            scratch: [Scalar::ZERO; SCRATCH],
            ones: [Scalar::ONE; P],
            next: [[Scalar::ZERO; D]; N],
        }
    }
}

/// Instructions per stage of one step on `particles`, printed as a table.
pub fn profile(
    out: &mut Out,
    b: &mut Buffers,
    particles: &[[Scalar; D]; N],
    config: &Config<Scalar>,
    per_tick: f32,
    rng: &mut DefaultRng,
) {
    let x = particles.as_flattened();
    let mut target = Mixture3;
    let instr = |t: u32| (t as f32 * per_tick) as u32;
    let sigma = config.proposal_sigma();
    let _ = writeln!(
        out,
        "stage profile of one step:          instructions  stack (bytes)"
    );
    let line = |out: &mut Out, name: &str, ((), t, stack): ((), u32, usize)| {
        let _ = writeln!(out, "  {name:<33} {:>9} {stack:>6}", instr(t));
    };

    let t = ticks_and_stack(|| {
        let _ = target.score(x, D, b.scores.as_flattened_mut());
    });
    line(out, "target score at N particles", t);
    let t = ticks_and_stack(|| {
        propose(
            x,
            Some(b.scores.as_flattened()),
            D,
            config.alpha,
            config.score_clip,
            sigma,
            b.means.as_flattened_mut(),
            b.proposals.as_flattened_mut(),
            rng,
        )
    });
    line(out, "1 propose (P normal draws)", t);
    let t = ticks_and_stack(|| {
        let _ = target.log_density(b.proposals.as_flattened(), D, &mut b.log_pi);
    });
    line(out, "target log pi at P proposals", t);
    let t = ticks_and_stack(|| {
        let _ = log_weights(
            b.means.as_flattened(),
            b.proposals.as_flattened(),
            &b.log_pi,
            D,
            sigma,
            config.truncate_weights,
            &mut b.log_b,
            b.cost.as_flattened_mut(),
            &mut b.col,
        );
    });
    line(out, "2 weigh (N*P kernel exps)", t);
    let mut scale = Scalar::ONE;
    let t = ticks_and_stack(|| {
        scale = cost_scale(x, b.proposals.as_flattened(), D, b.cost.as_flattened_mut())
            .unwrap_or(Scalar::ONE);
    });
    line(out, "3-4 cost scale (median)", t);
    // The solve below reads a stored cost matrix; the step forms its costs from the points.
    let inv_scale = Scalar::ONE / scale;
    for (row, p) in b.cost.iter_mut().zip(particles) {
        half_sq_dists(p, b.proposals.as_flattened(), row);
        row.iter_mut().for_each(|c| *c *= inv_scale);
    }
    let log_a = [-Scalar::from_usize(N).ln(); N];
    let solve = |iterations: u32, b: &mut Buffers| {
        b.f.fill(Scalar::ZERO);
        b.g.fill(Scalar::ZERO);
        let params = SinkhornParams {
            epsilon: config.epsilon,
            coupling: config.coupling,
            max_iterations: iterations,
            tolerance: Scalar::from_f64(1e-30),
            solver: Solver::Scaling,
        };
        ticks_and_stack(|| {
            let _ = sinkhorn(
                b.cost.as_flattened(),
                &log_a,
                &b.log_b,
                &params,
                &mut b.f,
                &mut b.g,
                &mut b.scratch,
            );
        })
    };
    let one = solve(1, b);
    let eleven = solve(11, b);
    line(out, "5 Sinkhorn, kernel + 1st iteration", one);
    let per_iteration = instr(eleven.1.saturating_sub(one.1)) / 10;
    let _ = writeln!(
        out,
        "  5 Sinkhorn, each further iteration {:>9}        ({} per cost entry)",
        per_iteration,
        per_iteration as usize / (N * P)
    );
    // The update reads a kernel and column scalings; its work does not depend on their values,
    // so the plan `exp((f + g - C) / eps)` with unit scalings stands in.
    let inv_eps = Scalar::ONE / config.epsilon;
    for (row, &f) in b.cost.iter_mut().zip(&b.f) {
        for (c, &g) in row.iter_mut().zip(&b.g) {
            *c = ((f + g - *c) * inv_eps).exp();
        }
    }
    let t = ticks_and_stack(|| {
        // Scratch for the rounded rule only; the firmware's categorical update leaves it alone.
        let scratch = Scratch {
            rows: [&mut b.f, b.scores.as_flattened_mut()],
            cols: [&mut b.log_b, &mut b.col],
        };
        update(
            b.cost.as_flattened_mut(),
            &mut b.ones,
            b.proposals.as_flattened_mut(),
            x,
            D,
            config.update,
            config.damping,
            b.next.as_flattened_mut(),
            scratch,
            rng,
        );
    });
    line(out, "6 update (reads the kernel)", t);

    let _ = writeln!(out, "building blocks (instructions each):");
    let t = ticks(|| {
        for _ in 0..P {
            core::hint::black_box(uniform::<Scalar, _>(rng));
        }
    });
    let _ = writeln!(
        out,
        "  rng::uniform (one draw)          {:>9}",
        instr(t) / P as u32
    );
    let t = ticks(|| fill_normal(rng, b.log_pi.as_mut_slice()));
    let _ = writeln!(
        out,
        "  one normal draw (Box-Muller)     {:>9}",
        instr(t) / P as u32
    );
    b.log_b
        .iter_mut()
        .enumerate()
        .for_each(|(j, v)| *v = Scalar::from_f64(-(j as f64) / 16.0));
    let t = ticks(|| {
        core::hint::black_box(log_sum_exp_in_place::<Scalar, false>(&mut b.log_b));
    });
    let _ = writeln!(
        out,
        "  log-sum-exp, per entry           {:>9}",
        instr(t) / P as u32
    );
}
