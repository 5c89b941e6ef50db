#!/usr/bin/env python3
"""Build the README "Results" section from a run of examples/paper.rs.

    python3 tools/results_section.py [RESULTS_DIR ...] [--write]

Reads RESULTS_DIR/results.json and results.md of each run (default: target/paper/rerun, full,
variants and precondition, those present), one table per run (a target and method measured by an earlier
run is shown from that run only), checks the issue's bars on the measured numbers, copies the
plots shown in the README into docs/, and prints the section; with --write it replaces the text between <!-- results:begin --> and
<!-- results:end --> in README.md (nothing else is touched).
"""
import json
import os
import re
import shutil
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
PLOTS = ["scatter-grid4.png", "curve-grid4.png", "curve-gauss-50d.png", "curve-blr.png"]


def row(rows, target, method):
    for r in rows:
        if r["target"] == target and r["method"] == method:
            return r
    return None


def per_seed(r, key):
    return r["metrics"].get(key, {}).get("per_seed", []) if r else []


def mean(values):
    values = [v for v in values if v is not None]
    return sum(values) / len(values) if values else float("nan")


def etd_rows(rows, target):
    return [r for r in rows if r["target"] == target and r["method"].startswith("etd")]


def bars(rows):
    out = []
    met = {"grid": set(), "N(0, I_2)": set(), "BLR": set()}
    svgd = row(rows, "grid4", "svgd")
    variants = etd_rows(rows, "grid4")
    if svgd and variants:
        s = per_seed(svgd, "energy")
        out.append(f"- 2-D 4-mode grid, 500 iterations (SVGD energy distance {mean(s):.4f}):")
        for etd in variants:
            modes = per_seed(etd, "modes")
            e = per_seed(etd, "energy")
            wins = sum(a < b for a, b in zip(e, s))
            ok_modes = len(modes) == etd["seeds"] and all(m == 4 for m in modes)
            ok_ed = wins >= 4 and mean(e) <= 0.04
            if ok_modes and ok_ed:
                met["grid"].add(etd["label"])
            out.append(
                f"  - {etd['label']} covers 4/4 modes in {sum(m == 4 for m in modes)}/{etd['seeds']} "
                f"seeds (**{'met' if ok_modes else 'not met'}**); its energy distance is below "
                f"SVGD's in {wins}/{len(e)} seeds and averages {mean(e):.4f} (bar: >= 4 seeds and "
                f"<= 0.04: **{'met' if ok_ed else 'not met'}**)."
            )
    variants = etd_rows(rows, "gauss-2d")
    if variants:
        out.append("- N(0, I_2), per-dimension variance ratios averaged over seeds (bar [0.9, 1.1]):")
        for g in variants:
            lo, hi = mean(per_seed(g, "var_ratio_min")), mean(per_seed(g, "var_ratio_max"))
            ok = 0.9 <= lo and hi <= 1.1
            if ok:
                met["N(0, I_2)"].add(g["label"])
            out.append(
                f"  - {g['label']}: {lo:.3f} (smaller) and {hi:.3f} (larger): "
                f"**{'met' if ok else 'not met'}**."
            )
    m, s = row(rows, "blr", "mala"), row(rows, "blr", "svgd")
    variants = etd_rows(rows, "blr")
    if m and s and variants:
        acc_m = mean(per_seed(m, "accuracy"))
        err_s = mean(per_seed(s, "mean_error"))
        out.append(
            f"- BLR (MALA test accuracy {100 * acc_m:.2f} %, SVGD posterior-mean error "
            f"{err_s:.2f}), for every ETD variant that ran:"
        )
        both = []
        for b in variants:
            acc_b, err_b = mean(per_seed(b, "accuracy")), mean(per_seed(b, "mean_error"))
            ok_acc = abs(acc_b - acc_m) <= 0.01
            ok_err = err_b <= err_s
            out.append(
                f"  - {b['label']}: test accuracy {100 * acc_b:.2f} % (within 1 point: "
                f"**{'met' if ok_acc else 'not met'}**); posterior-mean error {err_b:.2f} "
                f"(no worse than SVGD: **{'met' if ok_err else 'not met'}**)."
            )
            if ok_acc and ok_err:
                both.append(b["label"])
                met["BLR"].add(b["label"])
        out.append(
            f"  - Both halves hold for: {', '.join(both)}."
            if both
            else "  - No ETD variant meets both halves."
        )
    every = set.intersection(*met.values())
    out.append(
        "- Per bar, the configurations that meet it: "
        + "; ".join(f"{bar}: {', '.join(sorted(labels)) or 'none'}" for bar, labels in met.items())
        + ". "
        + (
            f"All three: {', '.join(sorted(every))}."
            if every
            else "No single configuration meets all three."
        )
    )
    return "\n".join(out)


def load(results):
    with open(os.path.join(results, "results.json")) as f:
        data = json.load(f)
    with open(os.path.join(results, "results.md")) as f:
        table = f.read().split("\n\n", 1)[1].strip()
    # Rounding noise of identical values (an older runner printed it) as an exact 0.
    table = re.sub(r"± 0\.0{9,}\d*", "± 0", table)
    return data, table


def main():
    dirs = [a for a in sys.argv[1:] if a != "--write"]
    if not dirs:
        dirs = [
            os.path.join(ROOT, "target", "paper", d)
            for d in ("rerun", "full", "variants", "precondition")
        ]
        dirs = [d for d in dirs if os.path.exists(os.path.join(d, "results.json"))]
    runs = [load(d) for d in dirs]
    # A (target, method) row of an earlier run hides the same row of later runs.
    seen = set()
    for i, (data, table) in enumerate(runs):
        data["rows"] = [r for r in data["rows"] if (r["target"], r["label"]) not in seen]
        kept = {(r["target"], r["label"]) for r in data["rows"]}
        lines = table.split("\n")
        cells = lambda l: tuple(c.strip() for c in l.split("|")[1:3])
        keep = lines[:2] + [l for l in lines[2:] if cells(l) in kept]
        runs[i] = (data, "\n".join(keep))
        seen |= kept
    runs = [(data, table) for data, table in runs if data["rows"]]
    rows = [r for data, _ in runs for r in data["rows"]]
    shown = []
    for name in PLOTS:
        for d in dirs:
            src = os.path.join(d, name)
            if os.path.exists(src) and name not in shown:
                shutil.copy(src, os.path.join(ROOT, "docs", name))
                shown.append(name)
    with open(os.path.join(ROOT, "tools", "results_notes.md")) as f:
        notes = f.read().strip()
    images = "\n\n".join(f"![{n[:-4]}](docs/{n})" for n in shown)
    commands = "\n".join(data["command"] for data, _ in runs)
    tables = "\n\n".join(f"`{data['command']}`:\n\n{table}" for data, table in runs)
    section = f"""<!-- results:begin -->
## Results

Produced by

```text
{commands}
python3 tools/results_section.py {" ".join(os.path.relpath(d, ROOT) for d in dirs)} --write   # this section, the bars, docs/*.png
```

(seeds 1..5; the defaults of `TARGETS` in `src/host/experiment.rs`; `--quick` runs a small
subset in well under a minute and is what `tests/paper_quick.rs` checks). Mean ± standard
deviation over seeds; "failed" counts seeds whose run hit a non-finite value; the variance
ratio is the median over dimensions, with the mean smallest and largest ratio in brackets.

{tables}

### The issue's bars, as measured

{bars(rows)}

{notes}

{images}
<!-- results:end -->"""
    print(section)
    if "--write" in sys.argv:
        path = os.path.join(ROOT, "README.md")
        with open(path) as f:
            text = f.read()
        start = text.index("<!-- results:begin -->")
        end = text.index("<!-- results:end -->") + len("<!-- results:end -->")
        with open(path, "w") as f:
            f.write(text[:start] + section + text[end:])


if __name__ == "__main__":
    main()
