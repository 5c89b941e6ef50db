#!/usr/bin/env python3
"""Golden reference data for the log-domain Sinkhorn solver (`entropic_transport::sinkhorn`).

What it generates
-----------------
`tests/data/sinkhorn_golden.txt`, consumed by `tests/sinkhorn_golden.rs`. Each problem is a
pair of 2-D point clouds x (n points) and y (p points), cost C_ij = 0.5 * |x_i - y_j|^2
(float64, from coordinate differences), source weights a = 1/n (uniform), target weights b
positive random normalised to sum 1, a regularisation eps, and a coupling:

* ``balanced``   -- entropic OT, both marginals exact. Reference:
  ``ot.bregman.sinkhorn_log(a, b, C, reg=eps, stopThr=1e-14, log=True)``;
  f = eps * log_u, g = eps * log_v.
* ``unbalanced`` -- semi-unbalanced OT: row marginal exact (a), column marginal penalised by
  rho*eps*KL(P^T 1 | b), entropy eps*KL(P | 1 1^T). Fixed point u = a / (K v),
  v = (b / K^T u)^lambda with K = exp(-C/eps), lambda = rho / (1 + rho). Reference:
  ``ot.unbalanced.sinkhorn_unbalanced(a, b, C, reg=eps, reg_m=(inf, rho*eps),
  reg_type="entropy", method="sinkhorn", stopThr=1e-14, log=True)``;
  f = eps * logu, g = eps * logv.
* ``gibbs``      -- one-sided (semi-relaxed, column marginal free) closed form
  P_ij = a_i b_j exp(-C_ij/eps) / sum_k b_k exp(-C_ik/eps), computed here with a max-shifted
  logsumexp; g_j = eps*log b_j, f_i = eps*(log a_i - logsumexp_k(log b_k - C_ik/eps)).

For every problem the reference plan is exactly P_ij = exp((f_i + g_j - C_ij) / eps), f and g in
cost units. The cost matrix and plan are NOT stored (the test rebuilds C from the points).

Checks performed here (the script aborts on failure):
* the plan rebuilt from (f, g, C) equals the plan POT returned to 1e-12 relative (Frobenius);
* balanced: both marginals hold to 1e-12 (L1, total mass 1);
  unbalanced: row marginal to 1e-12 and the column fixed-point residual
  |g - lambda*eps*(log b - lse_i((f_i - C_ij)/eps))| to 1e-10 (cost units);
* polishing: 2000 further fixed-point iterations (independent numpy log-domain code) from the
  stored potentials change the plan by < 1e-11 relative, i.e. the reference is converged;
* unbalanced: POT's stabilised method (``method="sinkhorn_stabilized"``) agrees to 1e-9.

It also prints, per problem, the "f32 input floor": the relative Frobenius change of the exact
f64 solution when C, log_a, log_b are rounded to f32 -- a lower bound on what an f32 solver can
achieve against this reference (written into the data file as a comment too).

Generated with POT 0.9.7.post1 and numpy 2.4.6 (Python 3.11). The data depend only on the
numpy seeds (``np.random.default_rng(seed)`` per problem) and the solver; to regenerate, from the
repository root:

    pip install pot numpy
    python3 tools/sinkhorn_golden.py
"""

import os
import sys
import warnings

import numpy as np
import ot

REL_TOL_PLAN = 1e-12
MARGINAL_TOL = 1e-12
POLISH_ITERS = 2000
POLISH_TOL = 1e-11

OUT = os.path.join("tests", "data", "sinkhorn_golden.txt")

# name, coupling, n, p, eps, rho, seed
PROBLEMS = [
    ("balanced_5x7_eps0.1", "balanced", 5, 7, 0.1, 0.0, 1),
    ("balanced_10x40_eps0.01", "balanced", 10, 40, 0.01, 0.0, 2),
    ("balanced_64x1600_eps0.1", "balanced", 64, 1600, 0.1, 0.0, 3),
    ("balanced_1x6_eps0.1", "balanced", 1, 6, 0.1, 0.0, 4),
    ("balanced_12x9_eps0.05", "balanced", 12, 9, 0.05, 0.0, 5),
    ("unbalanced_8x11_rho1_eps0.1", "unbalanced", 8, 11, 0.1, 1.0, 6),
    ("unbalanced_16x24_rho0.5_eps0.05", "unbalanced", 16, 24, 0.05, 0.5, 7),
    ("unbalanced_64x400_rho2_eps0.1", "unbalanced", 64, 400, 0.1, 2.0, 8),
    ("gibbs_6x9_eps0.1", "gibbs", 6, 9, 0.1, 0.0, 9),
    ("gibbs_20x50_eps0.01", "gibbs", 20, 50, 0.01, 0.0, 10),
    ("gibbs_64x1600_eps0.1", "gibbs", 64, 1600, 0.1, 0.0, 11),
]


def lse(z, axis):
    """Max-shifted logsumexp along `axis`."""
    m = np.max(z, axis=axis, keepdims=True)
    return np.squeeze(m, axis=axis) + np.log(np.sum(np.exp(z - m), axis=axis))


def cost_matrix(x, y):
    d0 = x[:, 0][:, None] - y[:, 0][None, :]
    d1 = x[:, 1][:, None] - y[:, 1][None, :]
    return 0.5 * (d0 * d0 + d1 * d1)


def plan_from(f, g, C, eps):
    return np.exp((f[:, None] + g[None, :] - C) / eps)


def rel_fro(P, Q):
    return np.linalg.norm(P - Q) / np.linalg.norm(Q)


def make_points(n, p, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 2))
    y = 0.3 + 1.1 * rng.standard_normal((p, 2))
    w = rng.uniform(0.2, 1.0, size=p)
    b = w / w.sum()
    a = np.full(n, 1.0 / n)
    return x, y, a, b


# --- independent numpy log-domain fixed-point iterations (used for polishing/floors) ---

def iterate(coupling, C, log_a, log_b, eps, rho, f, g, iters):
    lam = rho / (1.0 + rho) if coupling == "unbalanced" else 1.0
    for _ in range(iters):
        # g-update then f-update (f-update last: rows exact)
        g = lam * eps * (log_b - lse((f[:, None] - C) / eps, 0))
        f = eps * (log_a - lse((g[None, :] - C) / eps, 1))
    return f, g


def solve_np(coupling, C, log_a, log_b, eps, rho, f0=None, g0=None, max_iter=200000, tol=1e-13):
    n, p = C.shape
    if coupling == "gibbs":
        g = eps * log_b
        f = eps * (log_a - lse(log_b[None, :] - C / eps, 1))
        return f, g
    f = np.zeros(n) if f0 is None else f0.copy()
    g = np.zeros(p) if g0 is None else g0.copy()
    P_old = plan_from(f, g, C, eps)
    for _ in range(max_iter // 10):
        f, g = iterate(coupling, C, log_a, log_b, eps, rho, f, g, 10)
        P = plan_from(f, g, C, eps)
        if np.linalg.norm(P - P_old) <= tol * np.linalg.norm(P):
            break
        P_old = P
    return f, g


def solve_reference(coupling, a, b, C, eps, rho):
    """Returns (f, g, plan returned by the reference solver, info string)."""
    if coupling == "balanced":
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # non-convergence warning -> hard error
            P, log = ot.bregman.sinkhorn_log(
                a, b, C, reg=eps, numItermax=2_000_000, stopThr=1e-14, log=True
            )
        f = eps * log["log_u"]
        g = eps * log["log_v"]
        info = "POT sinkhorn_log niter=%d err=%.3e" % (log["niter"], log["err"][-1])
    elif coupling == "unbalanced":
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # numerical errors / non-convergence -> hard error
            warnings.filterwarnings("ignore", message="If reg_type = entropy")
            P, log = ot.unbalanced.sinkhorn_unbalanced(
                a, b, C, reg=eps, reg_m=(float("inf"), rho * eps), reg_type="entropy",
                method="sinkhorn", numItermax=2_000_000, stopThr=1e-14, log=True,
            )
            P2, log2 = ot.unbalanced.sinkhorn_unbalanced(
                a, b, C, reg=eps, reg_m=(float("inf"), rho * eps), reg_type="entropy",
                method="sinkhorn_stabilized", numItermax=2_000_000, stopThr=1e-14, log=True,
            )
        f = eps * log["logu"]
        g = eps * log["logv"]
        d = rel_fro(P2, P)
        assert d < 1e-9, "POT sinkhorn vs sinkhorn_stabilized disagree: %g" % d
        info = "POT sinkhorn_unbalanced niter=%d err=%.3e (stabilized agrees to %.1e)" % (
            len(log["err"]), log["err"][-1], d)
    else:
        log_a, log_b = np.log(a), np.log(b)
        f, g = solve_np("gibbs", C, log_a, log_b, eps, 0.0)
        # plain (non-log) closed form, evaluated independently, as "the plan returned"
        Kb = b[None, :] * np.exp(-C / eps)
        P = a[:, None] * Kb / Kb.sum(axis=1, keepdims=True)
        info = "numpy closed form"
    return f, g, P, info


def fmt(vals):
    return " ".join(repr(float(v)) for v in np.asarray(vals).ravel())


def main():
    if not os.path.isdir(os.path.join("tests", "data")):
        sys.exit("run from the repository root: python3 tools/sinkhorn_golden.py")

    lines = [
        "# Golden reference data for entropic_transport::sinkhorn.",
        "# Generated by tools/sinkhorn_golden.py with POT %s, numpy %s. Do not edit by hand."
        % (ot.__version__, np.__version__),
        "# C_ij = 0.5*|x_i - y_j|^2; reference plan P_ij = exp((f_i + g_j - C_ij)/eps).",
        "# problem <name> <coupling> <n> <p> <eps> <rho>; then x, y (row-major), log_a, log_b, f, g; end",
    ]
    print("%-34s %5s %5s %6s %4s  %-9s %-9s %-9s %-9s %-9s  %s" % (
        "problem", "n", "p", "eps", "rho", "recon", "row", "col", "polish", "f32floor", "solver"))
    for name, coupling, n, p, eps, rho, seed in PROBLEMS:
        x, y, a, b = make_points(n, p, seed)
        C = cost_matrix(x, y)
        log_a, log_b = np.log(a), np.log(b)

        f, g, P_pot, info = solve_reference(coupling, a, b, C, eps, rho)
        P = plan_from(f, g, C, eps)

        recon = rel_fro(P, P_pot)
        assert recon <= REL_TOL_PLAN, "%s: reconstruction %g" % (name, recon)

        row_err = np.sum(np.abs(P.sum(axis=1) - a))
        assert row_err <= MARGINAL_TOL, "%s: row marginal %g" % (name, row_err)
        if coupling == "balanced":
            col_err = np.sum(np.abs(P.sum(axis=0) - b))
            assert col_err <= MARGINAL_TOL, "%s: column marginal %g" % (name, col_err)
        elif coupling == "unbalanced":
            lam = rho / (1.0 + rho)
            g_fix = lam * eps * (log_b - lse((f[:, None] - C) / eps, 0))
            col_err = np.max(np.abs(g - g_fix))
            assert col_err <= 1e-10, "%s: column fixed point %g" % (name, col_err)
        else:
            col_err = float("nan")

        # Polishing: further iterations must not move the plan.
        if coupling == "gibbs":
            f_ind, g_ind = f, g
            polish = rel_fro(P, P_pot)  # closed form vs closed form (log vs plain)
        else:
            f_ind, g_ind = iterate(coupling, C, log_a, log_b, eps, rho, f, g, POLISH_ITERS)
            polish = rel_fro(plan_from(f_ind, g_ind, C, eps), P)
        assert polish <= POLISH_TOL, "%s: polishing moved plan by %g" % (name, polish)

        # f32 input floor: exact solution for f32-rounded inputs vs reference.
        C32 = C.astype(np.float32).astype(np.float64)
        la32 = log_a.astype(np.float32).astype(np.float64)
        lb32 = log_b.astype(np.float32).astype(np.float64)
        f32, g32 = solve_np(coupling, C32, la32, lb32, eps, rho, f, g)
        floor32 = rel_fro(plan_from(f32, g32, C32, eps), P)

        print("%-34s %5d %5d %6g %4g  %.2e  %.2e  %.2e  %.2e  %.2e  %s" % (
            name, n, p, eps, rho, recon, row_err, col_err, polish, floor32, info))

        lines.append("# %s: %s; f32 input floor (rel. Frobenius) %.2e" % (name, info, floor32))
        lines.append("problem %s %s %d %d %r %r" % (name, coupling, n, p, float(eps), float(rho)))
        lines.append("x " + fmt(x))
        lines.append("y " + fmt(y))
        lines.append("log_a " + fmt(log_a))
        lines.append("log_b " + fmt(log_b))
        lines.append("f " + fmt(f))
        lines.append("g " + fmt(g))
        lines.append("end")

    with open(OUT, "w") as fh:
        fh.write("\n".join(lines) + "\n")
    print("wrote %s (%d problems, %d bytes)" % (OUT, len(PROBLEMS), os.path.getsize(OUT)))


if __name__ == "__main__":
    main()
