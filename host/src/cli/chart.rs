//! A dependency-free SVG chart of a simulation. Every panel has a time axis in simulated days
//! and a labelled value axis: cumulative revenue, mean fee, mean local share and cumulative
//! fee broadcasts for every policy, then fee and local share of the first policy's tracked
//! channels.

use crate::sim::SimReport;
use std::fmt::Write;

const WIDTH: f64 = 960.0;
const PANEL: f64 = 200.0;
const GAP: f64 = 80.0;
const LEFT: f64 = 80.0;
const LEGEND_WIDTH: f64 = 230.0;
const COLORS: [&str; 10] = [
    "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2",
    "#7f7f7f", "#bcbd22",
];

struct Line<'a> {
    label: &'a str,
    color: &'a str,
    /// (seconds since the start, value)
    points: Vec<(f64, f64)>,
}

/// A line per report from `value(report)`, timed by the report's series.
fn per_policy<'a>(
    reports: &'a [SimReport],
    value: impl Fn(&SimReport) -> Vec<f64>,
) -> Vec<Line<'a>> {
    reports
        .iter()
        .zip(COLORS.iter().cycle())
        .map(|(r, color)| Line {
            label: &r.policy,
            color,
            points: timed(&r.series.at_secs, value(r)),
        })
        .collect()
}

fn timed(at_secs: &[u64], values: Vec<f64>) -> Vec<(f64, f64)> {
    let start = at_secs.first().copied().unwrap_or(0);
    at_secs
        .iter()
        .zip(values)
        .map(|(&t, v)| ((t - start) as f64, v))
        .collect()
}

pub fn render(reports: &[SimReport]) -> String {
    let mut panels: Vec<(String, &str, Vec<Line>)> = vec![
        (
            "cumulative revenue, per policy".into(),
            "revenue (sat)",
            per_policy(reports, |r| {
                r.series
                    .cumulative_revenue_msat
                    .iter()
                    .map(|&m| m as f64 / 1000.0)
                    .collect()
            }),
        ),
        (
            "mean fee over all channels, per policy".into(),
            "fee (ppm)",
            per_policy(reports, |r| {
                r.series.mean_fee_ppm.iter().map(|&f| f as f64).collect()
            }),
        ),
        (
            "mean local share of capacity, per policy".into(),
            "local share",
            per_policy(reports, |r| r.series.mean_local_share.clone()),
        ),
        (
            "cumulative fee broadcasts, per policy".into(),
            "broadcasts",
            per_policy(reports, |r| {
                r.series
                    .cumulative_broadcasts
                    .iter()
                    .map(|&b| b as f64)
                    .collect()
            }),
        ),
    ];
    if let Some(first) = reports.first() {
        let tracked = |value: &dyn Fn(usize) -> Vec<f64>| -> Vec<Line> {
            first
                .series
                .tracked
                .iter()
                .enumerate()
                .zip(COLORS.iter().cycle())
                .map(|((i, t), color)| Line {
                    label: &t.label,
                    color,
                    points: timed(&first.series.at_secs, value(i)),
                })
                .collect()
        };
        let fee_lines = tracked(&|i| {
            first.series.tracked[i]
                .fee_ppm
                .iter()
                .map(|&f| f64::from(f))
                .collect()
        });
        let share_lines = tracked(&|i| first.series.tracked[i].local_share.clone());
        panels.push((
            format!("fee of tracked channels — {}", first.policy),
            "fee (ppm)",
            fee_lines,
        ));
        panels.push((
            format!("local share of tracked channels — {}", first.policy),
            "local share",
            share_lines,
        ));
    }
    let height = panels.len() as f64 * (PANEL + GAP) + GAP;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" font-family="sans-serif" font-size="12">"#
    );
    svg.push_str(r#"<rect width="100%" height="100%" fill="white"/>"#);
    for (index, (title, unit, lines)) in panels.iter().enumerate() {
        panel(&mut svg, index, title, unit, lines);
    }
    svg.push_str("</svg>\n");
    svg
}

fn panel(svg: &mut String, index: usize, title: &str, unit: &str, lines: &[Line<'_>]) {
    let top = GAP + index as f64 * (PANEL + GAP);
    let (left, right) = (LEFT, WIDTH - LEGEND_WIDTH);
    let bottom = top + PANEL;
    let points = || lines.iter().flat_map(|l| l.points.iter().copied());
    let max_y = points().map(|(_, y)| y).fold(0.0f64, f64::max).max(1e-9);
    let max_t = points().map(|(t, _)| t).fold(0.0f64, f64::max).max(1.0);
    let x_of = |t: f64| left + (right - left) * t / max_t;
    let y_of = |v: f64| bottom - PANEL * (v / max_y);
    let _ = write!(
        svg,
        r#"<text x="{left}" y="{}" font-weight="bold">{}</text>"#,
        top - 10.0,
        escape(title)
    );
    let _ = write!(
        svg,
        r##"<rect x="{left}" y="{top}" width="{}" height="{PANEL}" fill="none" stroke="#999"/>"##,
        right - left
    );
    // Value axis: ticks at 0, ½ and the maximum, and its label turned along the axis.
    for fraction in [0.0, 0.5, 1.0] {
        let y = y_of(max_y * fraction);
        let _ = write!(
            svg,
            r##"<line x1="{}" y1="{y:.1}" x2="{left}" y2="{y:.1}" stroke="#999"/><text x="{}" y="{:.1}" text-anchor="end">{}</text>"##,
            left - 4.0,
            left - 6.0,
            y + 4.0,
            format_number(max_y * fraction)
        );
    }
    let _ = write!(
        svg,
        r#"<text transform="translate({},{:.1}) rotate(-90)" text-anchor="middle">{}</text>"#,
        left - 58.0,
        top + PANEL / 2.0,
        escape(unit)
    );
    // Time axis: a tick per day (per week beyond three weeks), labelled in days.
    let days = max_t / 86_400.0;
    let step = if days > 21.0 {
        7.0
    } else if days > 2.0 {
        1.0
    } else {
        0.25
    };
    let mut day = 0.0;
    while day <= days + 1e-9 {
        let x = x_of(day * 86_400.0);
        let _ = write!(
            svg,
            r##"<line x1="{x:.1}" y1="{bottom}" x2="{x:.1}" y2="{}" stroke="#999"/><text x="{x:.1}" y="{}" text-anchor="middle">{}</text>"##,
            bottom + 4.0,
            bottom + 16.0,
            format_number(day)
        );
        day += step;
    }
    let _ = write!(
        svg,
        r#"<text x="{}" y="{}" text-anchor="middle">simulated time (days)</text>"#,
        (left + right) / 2.0,
        bottom + 32.0
    );
    for (n, line) in lines.iter().enumerate() {
        let path: Vec<String> = line
            .points
            .iter()
            .map(|&(t, v)| format!("{:.1},{:.1}", x_of(t), y_of(v)))
            .collect();
        let _ = write!(
            svg,
            r#"<polyline fill="none" stroke="{}" stroke-width="1.5" points="{}"/>"#,
            line.color,
            path.join(" ")
        );
        let _ = write!(
            svg,
            r#"<text x="{}" y="{}" fill="{}">{}</text>"#,
            right + 10.0,
            top + 14.0 + 15.0 * n as f64,
            line.color,
            escape(line.label)
        );
    }
}

fn format_number(value: f64) -> String {
    if value >= 100.0 || value == value.trunc() {
        format!("{value:.0}")
    } else {
        format!("{value:.2}")
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
