//! What a run of the runner produced, aggregated over seeds: rows of per-seed metrics, mean
//! curves, final ensembles; written as JSON (serde) and as a markdown table.

use crate::evaluate::Metrics;
use crate::method::Method;
use serde::{Deserialize, Serialize};

/// Mean, standard deviation (n - 1) and range of a metric over seeds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Summary {
    /// Mean.
    pub mean: f64,
    /// Sample standard deviation (0 for one value).
    pub sd: f64,
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
    /// Number of values.
    pub count: usize,
}

impl Summary {
    /// The summary of `values`; `None` when empty.
    pub fn of(values: &[f64]) -> Option<Summary> {
        let n = values.len();
        if n == 0 {
            return None;
        }
        let mean = values.iter().sum::<f64>() / n as f64;
        let ss = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>();
        Some(Summary {
            mean,
            sd: if n > 1 {
                (ss / (n - 1) as f64).sqrt()
            } else {
                0.0
            },
            min: values.iter().copied().fold(f64::INFINITY, f64::min),
            max: values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            count: n,
        })
    }
}

/// One table row: a method on a target, over seeds.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Row {
    /// Target name.
    pub target: String,
    /// The method.
    pub method: Method,
    /// Method label on this target.
    pub label: String,
    /// Seeds run.
    pub seeds: usize,
    /// Seeds whose run failed (a non-finite particle, score or density).
    pub failed: usize,
    /// Number of modes of the target (mixtures, double well).
    pub mode_total: Option<usize>,
    /// Per-seed metrics of the successful runs.
    pub per_seed: Vec<Metrics>,
}

impl Row {
    /// The summary of field `f` over the successful seeds.
    pub fn summary(&self, f: &Field) -> Option<Summary> {
        Summary::of(&self.values(f))
    }

    /// The values of field `f`, one per successful seed that has it.
    pub fn values(&self, f: &Field) -> Vec<f64> {
        self.per_seed.iter().filter_map(|m| (f.get)(m)).collect()
    }
}

/// The mean metric curve of a method on a target.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Curve {
    /// Target name.
    pub target: String,
    /// The method.
    pub method: Method,
    /// What is measured.
    pub metric: String,
    /// Checkpoints, each the mean over the successful seeds.
    pub points: Vec<CurvePoint>,
}

impl Curve {
    /// Whether the points record their cost (runs before the cost fields have none).
    pub fn has_cost(&self) -> bool {
        self.points.iter().any(|p| p.evaluations().is_some())
    }
}

/// One checkpoint of a metric curve: the metric after `iteration` steps and what those steps
/// cost. In JSON an object `{"iteration", "seconds", "density_evals", "score_evals", "value"}`;
/// a bare `[iteration, value]` pair (the format of runs before the cost fields) reads as a point
/// without cost.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(from = "PointForm")]
pub struct CurvePoint {
    /// Iterations done.
    pub iteration: usize,
    /// Cumulative wall time of the steps in seconds (metric evaluations excluded).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seconds: Option<f64>,
    /// Cumulative points whose `log pi` was evaluated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub density_evals: Option<f64>,
    /// Cumulative points whose score was evaluated (SGLD's minibatch scores included).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score_evals: Option<f64>,
    /// The curve metric (`NaN`, `null` in JSON, where it is undefined).
    pub value: f64,
}

impl CurvePoint {
    /// Target evaluations so far: density plus score evaluations.
    pub fn evaluations(&self) -> Option<f64> {
        Some(self.density_evals? + self.score_evals?)
    }
}

/// The JSON forms a [`CurvePoint`] is read from.
#[derive(Deserialize)]
#[serde(
    untagged,
    expecting = "a curve point: {\"iteration\", \"seconds\", \"density_evals\", \
                 \"score_evals\", \"value\"} or an [iteration, value] pair"
)]
enum PointForm {
    /// `[iteration, value]`, the format before the cost fields.
    Pair(usize, Option<f64>),
    /// The current format.
    Point {
        iteration: usize,
        seconds: Option<f64>,
        density_evals: Option<f64>,
        score_evals: Option<f64>,
        value: Option<f64>,
    },
}

impl From<PointForm> for CurvePoint {
    fn from(form: PointForm) -> Self {
        match form {
            PointForm::Pair(iteration, value) => CurvePoint {
                iteration,
                seconds: None,
                density_evals: None,
                score_evals: None,
                value: value.unwrap_or(f64::NAN),
            },
            PointForm::Point {
                iteration,
                seconds,
                density_evals,
                score_evals,
                value,
            } => CurvePoint {
                iteration,
                seconds,
                density_evals,
                score_evals,
                value: value.unwrap_or(f64::NAN),
            },
        }
    }
}

/// Final particles of seed 1 (for scatter plots of 2-D targets).
#[derive(Clone, Debug)]
pub struct Snapshot {
    /// Target name.
    pub target: String,
    /// The method.
    pub method: Method,
    /// Particles (N, d).
    pub particles: Vec<f64>,
}

/// Everything a run produced. The JSON form (`results.json`) holds the command, the rows and
/// the curves; the snapshots only feed the plots.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Report {
    /// The command line that produced it.
    pub command: String,
    /// One row per target and method.
    pub rows: Vec<Row>,
    /// One curve per target and method.
    pub curves: Vec<Curve>,
    /// Final ensembles of the first seed.
    #[serde(skip)]
    pub snapshots: Vec<Snapshot>,
}

impl Report {
    /// Appends the rows, curves and snapshots of `other`.
    pub fn extend(&mut self, other: Report) {
        self.rows.extend(other.rows);
        self.curves.extend(other.curves);
        self.snapshots.extend(other.snapshots);
    }

    /// The row of `method` on `target`.
    pub fn row(&self, target: &str, method: Method) -> Option<&Row> {
        self.rows
            .iter()
            .find(|r| r.target == target && r.method == method)
    }

    /// The report as pretty JSON (non-finite numbers become `null`).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// A report read back from [`Report::to_json`].
    pub fn from_json(text: &str) -> Result<Report, String> {
        serde_json::from_str(text).map_err(|e| e.to_string())
    }
}

/// How a field's summary is shown in the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// `mean ± sd`.
    PlusMinus,
    /// `mean/K (min m)`: modes covered out of the target's `K`.
    Modes,
    /// `mean ± sd [min ratio, max ratio]`: the median variance ratio with the mean smallest
    /// and largest per-dimension ratios.
    VarianceRatio,
    /// Not in the table (JSON only).
    Hidden,
}

/// A metric: key, table header, accessor, significant digits and style.
#[derive(Clone, Copy)]
pub struct Field {
    /// Key (the [`Metrics`] field name).
    pub key: &'static str,
    /// Markdown header.
    pub header: &'static str,
    /// Reads the metric.
    pub get: fn(&Metrics) -> Option<f64>,
    /// Significant digits shown.
    pub digits: usize,
    /// How the table shows it.
    pub style: Style,
}

/// Every metric, in table order.
pub const FIELDS: &[Field] = &[
    field("energy", "energy dist.", |m| m.energy, 3, Style::PlusMinus),
    field("sw2", "sliced W2", |m| m.sw2, 3, Style::PlusMinus),
    field(
        "mean_error",
        "mean err.",
        |m| m.mean_error,
        3,
        Style::PlusMinus,
    ),
    VAR_RATIO,
    VAR_RATIO_MIN,
    VAR_RATIO_MAX,
    field("modes", "modes covered", |m| m.modes, 2, Style::Modes),
    field("mode_tv", "mode TV", |m| m.mode_tv, 3, Style::PlusMinus),
    field("accuracy", "test acc.", |m| m.accuracy, 4, Style::PlusMinus),
    field("log_lik", "test LL", |m| m.log_lik, 4, Style::PlusMinus),
    field("rmse", "test RMSE", |m| m.rmse, 4, Style::PlusMinus),
    field(
        "weight_ess",
        "weight ESS",
        |m| m.weight_ess,
        3,
        Style::PlusMinus,
    ),
    field(
        "ms_per_iter",
        "ms / iter",
        |m| m.ms_per_iter,
        3,
        Style::PlusMinus,
    ),
];

/// The median variance ratio.
pub const VAR_RATIO: Field = field(
    "var_ratio",
    "var. ratio (median)",
    |m| m.var_ratio,
    3,
    Style::VarianceRatio,
);
/// The smallest per-dimension variance ratio.
pub const VAR_RATIO_MIN: Field = field(
    "var_ratio_min",
    "var. ratio min",
    |m| m.var_ratio_min,
    3,
    Style::Hidden,
);
/// The largest per-dimension variance ratio.
pub const VAR_RATIO_MAX: Field = field(
    "var_ratio_max",
    "var. ratio max",
    |m| m.var_ratio_max,
    3,
    Style::Hidden,
);

const fn field(
    key: &'static str,
    header: &'static str,
    get: fn(&Metrics) -> Option<f64>,
    digits: usize,
    style: Style,
) -> Field {
    Field {
        key,
        header,
        get,
        digits,
        style,
    }
}

/// The field with this key.
pub fn field_named(key: &str) -> Option<&'static Field> {
    FIELDS.iter().find(|f| f.key == key)
}

/// A table cell: the summary of `f` over `row`'s seeds in `f`'s style; `–` without values.
fn cell(f: &Field, row: &Row) -> String {
    let Some(s) = row.summary(f) else {
        return "–".to_string();
    };
    match f.style {
        Style::Modes => format!(
            "{:.1}/{} (min {})",
            s.mean,
            row.mode_total.unwrap_or(0),
            s.min
        ),
        Style::VarianceRatio => {
            let mean_of = |g: &Field| row.summary(g).map_or(f64::NAN, |t| t.mean);
            format!(
                "{} [{}, {}]",
                pm(s, f.digits),
                sig(mean_of(&VAR_RATIO_MIN), 2),
                sig(mean_of(&VAR_RATIO_MAX), 2)
            )
        }
        Style::PlusMinus | Style::Hidden => pm(s, f.digits),
    }
}

/// `mean ± sd`.
fn pm(s: Summary, digits: usize) -> String {
    if s.count > 1 {
        // Rounding noise of identical values is shown as an exact 0.
        let sd = if s.sd <= 1e-9 * s.mean.abs() {
            0.0
        } else {
            s.sd
        };
        format!("{} ± {}", sig(s.mean, digits), sig(sd, 2))
    } else {
        sig(s.mean, digits)
    }
}

/// `x` with `digits` significant digits, in plain notation.
pub fn sig(x: f64, digits: usize) -> String {
    if !x.is_finite() || x == 0.0 {
        return format!("{x}");
    }
    let magnitude = x.abs().log10().floor() as i32;
    let decimals = (digits as i32 - 1 - magnitude).max(0) as usize;
    format!("{x:.decimals$}")
}

/// The markdown table of `rows` (only columns with at least one value).
pub fn markdown(rows: &[Row]) -> String {
    let columns: Vec<&Field> = FIELDS
        .iter()
        .filter(|f| f.style != Style::Hidden && rows.iter().any(|r| r.summary(f).is_some()))
        .collect();
    let mut out = String::from("| target | method | failed |");
    columns
        .iter()
        .for_each(|f| out += &format!(" {} |", f.header));
    out += "\n|---|---|---|";
    columns.iter().for_each(|_| out += "---|");
    out += "\n";
    for row in rows {
        out += &format!(
            "| {} | {} | {}/{} |",
            row.target, row.label, row.failed, row.seeds
        );
        for f in &columns {
            out += &format!(" {} |", cell(f, row));
        }
        out += "\n";
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn curve_points_read_both_formats() {
        let point = CurvePoint {
            iteration: 4,
            seconds: Some(0.5),
            density_evals: Some(1000.0),
            score_evals: Some(40.0),
            value: 0.25,
        };
        let text = serde_json::to_string(&point).unwrap();
        assert_eq!(
            text,
            r#"{"iteration":4,"seconds":0.5,"density_evals":1000.0,"score_evals":40.0,"value":0.25}"#
        );
        assert_eq!(serde_json::from_str::<CurvePoint>(&text).unwrap(), point);
        assert_eq!(point.evaluations(), Some(1040.0));
        // The format before the cost fields, `[iteration, value]`, with `null` for NaN.
        let old: Vec<CurvePoint> = serde_json::from_str("[[0, 1.5], [4, null]]").unwrap();
        assert_eq!(old[0].iteration, 0);
        assert_eq!(
            (old[0].value, old[0].seconds, old[0].evaluations()),
            (1.5, None, None)
        );
        assert!(old[1].value.is_nan());
        let bad = serde_json::from_str::<CurvePoint>(r#"{"value": 1}"#).unwrap_err();
        assert!(bad.to_string().contains("a curve point"), "{bad}");
    }
}
