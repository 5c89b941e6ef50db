//! PNG plots of a report: metric curves per target (against iterations, and against wall time
//! and target evaluations), and final ensembles over the density of 2-D targets. Text is drawn from a bundled subset of DejaVu Sans (`assets/`), so no system
//! font libraries are needed.

use crate::method::Method;
use crate::reference::REFERENCE_SAMPLES;
use crate::registry::{build, target_spec};
use crate::report::{sig, Curve, CurvePoint, Report};
use entropic_transport::DefaultRng;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use rand_core::SeedableRng;
use std::path::Path;

/// The font of all plot text (an ASCII subset of DejaVu Sans, see `assets/FONT-LICENSE.txt`).
const FONT: &[u8] = include_bytes!("../assets/DejaVuSans-subset.ttf");

/// Registers the bundled font; call once before plotting.
pub fn register_font() -> Result<(), String> {
    plotters::style::register_font("sans-serif", FontStyle::Normal, FONT)
        .map_err(|_| "bad font".to_string())
}

/// The curve, cost and scatter plots of every target of `report` into `dir`.
pub fn plot_all(report: &Report, data_dir: &Path, dir: &Path) -> Result<(), String> {
    register_font()?;
    let mut targets: Vec<&str> = report.rows.iter().map(|r| r.target.as_str()).collect();
    targets.dedup();
    for target in targets {
        curve_plot(report, target, &dir.join(format!("curve-{target}.png")))
            .map_err(|e| format!("curve plot {target}: {e}"))?;
        cost_plot(report, target, &dir.join(format!("cost-{target}.png")))
            .map_err(|e| format!("cost plot {target}: {e}"))?;
        scatter_plot(
            report,
            target,
            data_dir,
            &dir.join(format!("scatter-{target}.png")),
        )
        .map_err(|e| format!("scatter plot {target}: {e}"))?;
    }
    Ok(())
}

type PlotResult = Result<(), Box<dyn std::error::Error>>;

/// A distinct colour per method (by its index in [`Method::ALL`]; the array length makes a new
/// method without a colour a compile error).
fn method_color(method: Method) -> RGBColor {
    const PALETTE: [RGBColor; Method::ALL.len()] = [
        RGBColor(214, 39, 40),
        RGBColor(247, 182, 210),
        RGBColor(255, 127, 14),
        RGBColor(148, 103, 189),
        RGBColor(140, 86, 75),
        RGBColor(227, 119, 194),
        RGBColor(127, 127, 127),
        RGBColor(0, 0, 0),
        RGBColor(31, 119, 180),
        RGBColor(44, 160, 44),
        RGBColor(23, 190, 207),
        RGBColor(188, 189, 34),
    ];
    let k = Method::ALL.iter().position(|&m| m == method).unwrap_or(0);
    PALETTE[k]
}

/// The mean metric curve of every method on `target`, log-scale.
pub fn curve_plot(report: &Report, target: &str, path: &Path) -> PlotResult {
    let curves: Vec<_> = report
        .curves
        .iter()
        .filter(|c| c.target == target && !c.points.is_empty())
        .collect();
    let Some(first) = curves.first() else {
        return Ok(());
    };
    let values = curves
        .iter()
        .flat_map(|c| c.points.iter().map(|p| p.value))
        .filter(|v| v.is_finite() && *v > 0.0);
    let lo = values.clone().fold(f64::INFINITY, f64::min);
    let hi = values.fold(0.0, f64::max);
    if !(lo.is_finite() && hi > 0.0) {
        return Ok(());
    }
    let last = curves
        .iter()
        .filter_map(|c| c.points.last().map(|p| p.iteration))
        .max()
        .unwrap_or(1);
    let spec = target_spec(target).ok_or("unknown target")?;
    let root = BitMapBackend::new(path, (640, 440)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(format!("{target}: {}", first.metric), ("sans-serif", 16))
        .margin(10)
        .x_label_area_size(36)
        .y_label_area_size(56)
        .build_cartesian_2d(0usize..last, (lo * 0.8..hi * 1.25).log_scale())?;
    chart
        .configure_mesh()
        .x_desc("iteration")
        .y_label_formatter(&|v| sig(*v, 2))
        .label_style(("sans-serif", 12))
        .draw()?;
    for c in &curves {
        let color = method_color(c.method);
        let points = c
            .points
            .iter()
            .filter(|p| p.value > 0.0 && p.value.is_finite())
            .map(|p| (p.iteration, p.value));
        chart
            .draw_series(LineSeries::new(points, color.stroke_width(2)))?
            .label(c.method.label(spec))
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 16, y)], color.stroke_width(2))
            });
    }
    chart
        .configure_series_labels()
        .label_font(("sans-serif", 12))
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperRight)
        .draw()?;
    root.present()?;
    Ok(())
}

/// The mean metric curve of every method on `target` against cost, two panels side by side:
/// against the cumulative wall time of the steps and against the cumulative target evaluations
/// (density + score), all axes log-scale. Colours and labels are those of [`curve_plot`];
/// nothing is written unless a curve of `target` records its cost.
pub fn cost_plot(report: &Report, target: &str, path: &Path) -> PlotResult {
    let curves: Vec<&Curve> = report
        .curves
        .iter()
        .filter(|c| c.target == target && c.has_cost())
        .collect();
    let Some(first) = curves.first() else {
        return Ok(());
    };
    // One value range for both panels: the points either panel can show (positive cost).
    let values = curves
        .iter()
        .flat_map(|c| &c.points)
        .filter(|p| p.iteration > 0)
        .map(|p| p.value)
        .filter(|v| v.is_finite() && *v > 0.0);
    let lo = values.clone().fold(f64::INFINITY, f64::min);
    let hi = values.fold(0.0, f64::max);
    if !(lo.is_finite() && hi > 0.0) {
        return Ok(());
    }
    let spec = target_spec(target).ok_or("unknown target")?;
    // Title, the two panels, and the legend below them (cost curves fill every corner).
    let rows = curves.len().div_ceil(LEGEND_COLUMNS) as u32;
    let (width, panel_height) = (1200, 420);
    let legend_height = 12 + LEGEND_ROW * rows;
    let root =
        BitMapBackend::new(path, (width, 28 + panel_height + legend_height)).into_drawing_area();
    root.fill(&WHITE)?;
    let (title, rest) = root.split_vertically(28);
    title.titled(
        &format!("{target}: {} against cost (mean over seeds)", first.metric),
        ("sans-serif", 16),
    )?;
    let (body, legend) = rest.split_vertically(panel_height);
    let (left, right) = body.split_horizontally(width / 2);
    let range = (lo, hi);
    let wall = "wall time of the steps (s)";
    cost_panel(&left, &curves, range, wall, |p| p.seconds)?;
    let evals = "target evaluations (density + score)";
    cost_panel(&right, &curves, range, evals, CurvePoint::evaluations)?;
    let column = (width / LEGEND_COLUMNS as u32) as i32;
    for (k, c) in curves.iter().enumerate() {
        let color = method_color(c.method);
        let x = 70 + column * (k % LEGEND_COLUMNS) as i32;
        let y = 6 + (LEGEND_ROW * (k / LEGEND_COLUMNS) as u32) as i32 + LEGEND_ROW as i32 / 2;
        legend.draw(&PathElement::new(
            vec![(x, y), (x + 24, y)],
            color.stroke_width(2),
        ))?;
        let font =
            TextStyle::from(("sans-serif", 12).into_font()).pos(Pos::new(HPos::Left, VPos::Center));
        legend.draw(&Text::new(c.method.label(spec), (x + 32, y), font))?;
    }
    root.present()?;
    Ok(())
}

/// One panel of [`cost_plot`]: the curves against `cost`, both axes log-scale, values in
/// `range` (the legend is drawn below the panels).
fn cost_panel(
    area: &DrawingArea<BitMapBackend<'_>, Shift>,
    curves: &[&Curve],
    (lo, hi): (f64, f64),
    x_desc: &str,
    cost: fn(&CurvePoint) -> Option<f64>,
) -> PlotResult {
    let shown = |c: &Curve| -> Vec<(f64, f64)> {
        c.points
            .iter()
            .filter_map(|p| Some((cost(p)?, p.value)))
            .filter(|&(x, v)| x > 0.0 && x.is_finite() && v > 0.0 && v.is_finite())
            .collect()
    };
    let xs = curves.iter().flat_map(|c| shown(c)).map(|p| p.0);
    let x_lo = xs.clone().fold(f64::INFINITY, f64::min);
    let x_hi = xs.fold(0.0, f64::max);
    if !x_lo.is_finite() {
        return Ok(());
    }
    let mut chart = ChartBuilder::on(area)
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(56)
        .build_cartesian_2d(
            (x_lo * 0.8..x_hi * 1.25).log_scale(),
            (lo * 0.8..hi * 1.25).log_scale(),
        )?;
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .x_label_formatter(&|v| short(*v))
        .y_label_formatter(&|v| sig(*v, 2))
        .label_style(("sans-serif", 12))
        .draw()?;
    for c in curves {
        let color = method_color(c.method);
        chart.draw_series(LineSeries::new(shown(c), color.stroke_width(2)))?;
    }
    Ok(())
}

/// Columns of the legend of [`cost_plot`].
const LEGEND_COLUMNS: usize = 2;
/// Height of a legend row in pixels.
const LEGEND_ROW: u32 = 18;

/// An axis label of a log-scale cost axis, two significant digits without trailing zeros:
/// `0.001`, `0.25`, `500`, and `1e4`, `2.5e5` from 10^4 on.
fn short(v: f64) -> String {
    let trim = |s: String| {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        }
    };
    if v.abs() >= 1e4 {
        let text = format!("{v:.1e}");
        let (mantissa, exponent) = text.split_once('e').unwrap_or((&text, "0"));
        format!("{}e{exponent}", trim(mantissa.to_string()))
    } else {
        trim(sig(v, 2))
    }
}

/// Plot window of a 2-D target: the 0.5 % and 99.5 % quantiles of exact samples, padded.
fn window(samples: &[f64], axis: usize) -> (f64, f64) {
    let mut v: Vec<f64> = samples.iter().skip(axis).step_by(2).copied().collect();
    v.sort_by(f64::total_cmp);
    let (a, b) = (v[v.len() / 200], v[v.len() - 1 - v.len() / 200]);
    let pad = 0.15 * (b - a);
    (a - pad, b + pad)
}

/// Grid resolution of the density contours.
const CONTOUR_GRID: usize = 160;
/// Number of contour levels (equally spaced in density).
const CONTOUR_LEVELS: f64 = 7.0;

/// Final particles of seed 1 per method over the target's density contours (2-D targets).
pub fn scatter_plot(report: &Report, target: &str, data_dir: &Path, path: &Path) -> PlotResult {
    let spec = target_spec(target).ok_or("unknown target")?;
    let mut problem = build(spec, data_dir)?;
    if problem.dim() != 2 {
        return Ok(());
    }
    let Some(exact) = problem.exact_samples(REFERENCE_SAMPLES, &mut DefaultRng::seed_from_u64(1))
    else {
        return Ok(());
    };
    let (x_range, y_range) = (window(&exact, 0), window(&exact, 1));
    // Density on a grid; a contour passes through every cell whose level differs from its
    // right or upper neighbour's.
    let g = CONTOUR_GRID;
    let mut points = Vec::with_capacity(2 * g * g);
    for j in 0..g {
        for i in 0..g {
            points.push(x_range.0 + (x_range.1 - x_range.0) * (i as f64 + 0.5) / g as f64);
            points.push(y_range.0 + (y_range.1 - y_range.0) * (j as f64 + 0.5) / g as f64);
        }
    }
    let mut log_pi = vec![0.0; g * g];
    problem
        .log_density(&points, 2, &mut log_pi)
        .map_err(|code| format!("log-density failed with {code}"))?;
    let max = log_pi.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let level: Vec<i64> = log_pi
        .iter()
        .map(|l| ((l - max).exp() * CONTOUR_LEVELS).floor() as i64)
        .collect();
    let contour: Vec<(f64, f64)> = (0..g * g)
        .filter(|&k| {
            let (i, j) = (k % g, k / g);
            (i + 1 < g && level[k] != level[k + 1]) || (j + 1 < g && level[k] != level[k + g])
        })
        .map(|k| (points[2 * k], points[2 * k + 1]))
        .collect();
    let snapshots: Vec<_> = report
        .snapshots
        .iter()
        .filter(|s| s.target == target)
        .collect();
    let cols = snapshots.len().clamp(1, 4);
    let rows = snapshots.len().div_ceil(cols);
    let panel = 260;
    let root = BitMapBackend::new(path, ((cols * panel) as u32, (rows * panel + 24) as u32))
        .into_drawing_area();
    root.fill(&WHITE)?;
    let (title, body) = root.split_vertically(24);
    title.titled(
        &format!("{target}: {} (final particles, seed 1)", spec.summary),
        ("sans-serif", 14),
    )?;
    for (area, snap) in body.split_evenly((rows, cols)).iter().zip(&snapshots) {
        let mut chart = ChartBuilder::on(area)
            .caption(snap.method.label(spec), ("sans-serif", 13))
            .margin(6)
            .build_cartesian_2d(x_range.0..x_range.1, y_range.0..y_range.1)?;
        chart.configure_mesh().disable_mesh().draw()?;
        let gray = RGBColor(170, 170, 170);
        chart.draw_series(contour.iter().map(|&p| Circle::new(p, 1, gray.filled())))?;
        let color = method_color(snap.method);
        let inside = snap.particles.chunks_exact(2).filter(|p| {
            (x_range.0..x_range.1).contains(&p[0]) && (y_range.0..y_range.1).contains(&p[1])
        });
        chart.draw_series(inside.map(|p| Circle::new((p[0], p[1]), 3, color.filled())))?;
    }
    root.present()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn cost_axis_labels_are_short() {
        let labels: Vec<String> = [0.001, 0.25, 1.0, 500.0, 1e4, 25_000.0, 1e6]
            .into_iter()
            .map(super::short)
            .collect();
        assert_eq!(labels, ["0.001", "0.25", "1", "500", "1e4", "2.5e4", "1e6"]);
    }
}
