//! Where the instructions of one step go (`--features profile`): the stages of
//! `Workspace::step` run one by one through the core's public stage functions on the final
//! ensemble, each timed with the same SysTick window as the whole step. Extra static buffers
//! (one more workspace) make this build's RAM figures meaningless; the default build has none.

use crate::firmware::{ticks, Out};
use core::fmt::Write;
use entropic_transport::cost::normalised_cost;
use entropic_transport::lse::log_sum_exp_in_place;
use entropic_transport::propose::propose;
use entropic_transport::rng::{fill_normal, uniform};
use entropic_transport::update::update;
use entropic_transport::weights::log_weights;
use entropic_transport::{sinkhorn, Config, DefaultRng, Real, SinkhornParams, Target};
use etd_cortex_m4::{Mixture3, Scalar, D, N, P};

/// The stage buffers, named as in `Workspace`.
pub struct Buffers {
    scores: [[Scalar; D]; N],
    means: [[Scalar; D]; N],
    proposals: [[Scalar; D]; P],
    log_pi: [Scalar; P],
    log_b: [Scalar; P],
    row: [Scalar; N],
    cost: [[Scalar; P]; N],
    f: [Scalar; N],
    g: [Scalar; P],
    scratch: [Scalar; N + P],
    next: [[Scalar; D]; N],
}

impl Buffers {
    /// Zeroed buffers (for a `static`).
    pub const fn new() -> Self {
        Buffers {
            scores: [[Scalar::ZERO; D]; N],
            means: [[Scalar::ZERO; D]; N],
            proposals: [[Scalar::ZERO; D]; P],
            log_pi: [Scalar::ZERO; P],
            log_b: [Scalar::ZERO; P],
            row: [Scalar::ZERO; N],
            cost: [[Scalar::ZERO; P]; N],
            f: [Scalar::ZERO; N],
            g: [Scalar::ZERO; P],
            scratch: [Scalar::ZERO; N + P],
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
    let _ = writeln!(out, "stage profile of one step (instructions):");

    let t = ticks(|| {
        let _ = target.score(x, D, b.scores.as_flattened_mut());
    });
    let _ = writeln!(out, "  target score at N particles      {:>9}", instr(t));
    let t = ticks(|| {
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
    let _ = writeln!(out, "  1 propose (P normal draws)       {:>9}", instr(t));
    let t = ticks(|| {
        let _ = target.log_density(b.proposals.as_flattened(), D, &mut b.log_pi);
    });
    let _ = writeln!(out, "  target log pi at P proposals     {:>9}", instr(t));
    let t = ticks(|| {
        let _ = log_weights(
            b.means.as_flattened(),
            b.proposals.as_flattened(),
            &b.log_pi,
            D,
            sigma,
            config.truncate_weights,
            &mut b.log_b,
            &mut b.row,
        );
    });
    let _ = writeln!(out, "  2 weigh (N*P kernel exps)        {:>9}", instr(t));
    let t = ticks(|| {
        let _ = normalised_cost(x, b.proposals.as_flattened(), D, b.cost.as_flattened_mut());
    });
    let _ = writeln!(out, "  3-4 cost + median                {:>9}", instr(t));
    let log_a = [-Scalar::from_usize(N).ln(); N];
    let solve = |iterations: u32, b: &mut Buffers| {
        b.f.fill(Scalar::ZERO);
        b.g.fill(Scalar::ZERO);
        let params = SinkhornParams {
            epsilon: config.epsilon,
            coupling: config.coupling,
            max_iterations: iterations,
            tolerance: Scalar::from_f64(1e-30),
        };
        ticks(|| {
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
    let per_iteration = instr(eleven.saturating_sub(one)) / 10;
    let _ = writeln!(
        out,
        "  5 Sinkhorn, first iteration      {:>9} (incl. input checks)",
        instr(one)
    );
    let _ = writeln!(
        out,
        "  5 Sinkhorn, each further iter.   {:>9} ({} per cost entry)",
        per_iteration,
        per_iteration as usize / (N * P)
    );
    let inv_eps = Scalar::ONE / config.epsilon;
    let g = b.g.map(|g| g * inv_eps);
    let t = ticks(|| {
        update(
            b.cost.as_flattened_mut(),
            inv_eps,
            &g,
            b.proposals.as_flattened(),
            x,
            D,
            config.update,
            config.damping,
            b.next.as_flattened_mut(),
            rng,
        );
    });
    let _ = writeln!(out, "  6 update (N*P plan exps)         {:>9}", instr(t));

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
        core::hint::black_box(log_sum_exp_in_place(&mut b.log_b));
    });
    let _ = writeln!(
        out,
        "  log-sum-exp, per entry           {:>9}",
        instr(t) / P as u32
    );
}
