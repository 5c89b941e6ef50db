//! The experiment runner's `--quick` mode, in-process (what `cargo run --example paper --
//! --quick` runs, minus plots): every row present, metrics finite, and ETD covering all four
//! modes of the grid mixture in every seed.

use entropic_transport::host::experiment::{json, markdown, run, Options, FIELDS, QUICK};

#[test]
fn quick_run_is_complete_and_sane() {
    let options = Options {
        quick: true,
        ..Options::default()
    };
    let report = run(&options, &mut |_| {}).expect("quick run");
    let (targets, methods, ..) = QUICK;
    assert_eq!(report.rows.len(), targets.len() * methods.len());
    for target in targets {
        for method in methods {
            let row = report
                .rows
                .iter()
                .find(|r| r.target == *target && r.method == *method)
                .unwrap_or_else(|| panic!("row {target} / {method} missing"));
            assert_eq!(row.seeds, 2);
            // ULA may legitimately fail on a target it cannot handle; nothing here should.
            assert_eq!(row.failed, 0, "{target} / {method} failed");
            for m in &row.per_seed {
                for f in FIELDS {
                    if let Some(v) = (f.get)(m) {
                        assert!(v.is_finite(), "{target} / {method}: {} = {v}", f.key);
                    }
                }
            }
        }
    }
    let etd = report
        .rows
        .iter()
        .find(|r| r.target == "grid4" && r.method == "etd")
        .expect("grid4 / etd");
    for m in &etd.per_seed {
        assert_eq!(m.modes, Some(4.0), "ETD missed a mode: {m:?}");
        assert!(m.energy.is_some_and(|e| e < 0.3), "{m:?}");
    }
    let blr = report
        .rows
        .iter()
        .filter(|r| r.target == "blr")
        .flat_map(|r| &r.per_seed);
    for m in blr {
        assert!(m.accuracy.is_some_and(|a| a > 0.85), "{m:?}");
        assert!(m.mean_error.is_some());
    }
    // The weight ESS is ETD's alone and lies in [1, P].
    let pool = (QUICK.3 * QUICK.4) as f64;
    for row in &report.rows {
        for m in &row.per_seed {
            match m.weight_ess {
                Some(w) => assert!(row.method.starts_with("etd") && (1.0..=pool).contains(&w)),
                None => assert!(!row.method.starts_with("etd"), "{}", row.method),
            }
        }
    }
    let table = markdown(&report);
    assert_eq!(table.lines().count(), 2 + report.rows.len());
    let text = json(&report, "test");
    assert!(text.contains("\"target\": \"grid4\"") && !text.contains("NaN"));
}
