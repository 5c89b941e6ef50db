//! The experiment runner's `--quick` mode, in-process (what `cargo run -p etd-lab --bin paper --
//! --quick` runs, minus plots): every row present, metrics finite, ETD covering all four modes
//! of the grid mixture in every seed, and the JSON report reading back to the same rows.

use etd_lab::method::Method;
use etd_lab::report::{markdown, Report, FIELDS};
use etd_lab::run::{run, Options, QUICK};

#[test]
fn quick_run_is_complete_and_sane() {
    let options = Options {
        quick: true,
        ..Options::default()
    };
    let report = run(&options, &mut |_| {}).expect("quick run");
    assert_eq!(report.rows.len(), QUICK.targets.len() * QUICK.methods.len());
    for target in QUICK.targets {
        for &method in QUICK.methods {
            let row = report
                .row(target, method)
                .unwrap_or_else(|| panic!("row {target} / {method:?} missing"));
            assert_eq!(row.seeds, 2);
            // ULA may legitimately fail on a target it cannot handle; nothing here should.
            assert_eq!(row.failed, 0, "{target} / {method:?} failed");
            for m in &row.per_seed {
                for f in FIELDS {
                    if let Some(v) = (f.get)(m) {
                        assert!(v.is_finite(), "{target} / {method:?}: {} = {v}", f.key);
                    }
                }
            }
        }
    }
    let etd = report.row("grid4", Method::Etd).expect("grid4 / etd");
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
    let pool = (QUICK.particles * QUICK.proposals) as f64;
    for row in &report.rows {
        for m in &row.per_seed {
            match m.weight_ess {
                Some(w) => assert!(row.method.is_etd() && (1.0..=pool).contains(&w)),
                None => assert!(!row.method.is_etd(), "{:?}", row.method),
            }
        }
    }
    let table = markdown(&report.rows);
    assert_eq!(table.lines().count(), 2 + report.rows.len());
    let text = report.to_json();
    assert!(text.contains("\"target\": \"grid4\"") && text.contains("\"etd-pre-mut\""));
    let back = Report::from_json(&text).expect("the JSON reads back");
    assert_eq!(back.rows.len(), report.rows.len());
    for (a, b) in back.rows.iter().zip(&report.rows) {
        assert_eq!(
            (&a.target, a.method, a.failed),
            (&b.target, b.method, b.failed)
        );
        assert_eq!(a.per_seed, b.per_seed);
    }
}
