#!/usr/bin/env python3
"""How often an exact sampler meets the N(0, I_2) bar of the paper runner.

    python3 lab/tools/iid_bar.py [--trials T]

The bar: over 5 seeds of N = 100 particles, the per-dimension variance ratios (the runner's
`etd_lab::metrics::variance`, divisor N) average to a smaller ratio >= 0.9 and a larger one
<= 1.1. Here every "run" is 100 exact N(0, I_2) draws, so the printed rate is what a perfect
iid sampler scores; a method that meets the bar reliably is spreading its particles more
evenly than independent draws do.
"""
import sys

import numpy as np

trials = int(sys.argv[sys.argv.index("--trials") + 1]) if "--trials" in sys.argv else 20000
rng = np.random.default_rng(2026)
x = rng.standard_normal((trials, 5, 100, 2))
v = x.var(axis=2)  # divisor N, as in the runner
smaller, larger = v.min(axis=2).mean(axis=1), v.max(axis=2).mean(axis=1)
met = (smaller >= 0.9) & (larger <= 1.1)
print(
    f"{trials} sets of 5 iid runs of 100 points: bar met in {met.mean():.1%}; "
    f"smaller ratio averages {smaller.mean():.3f}, larger {larger.mean():.3f}"
)
