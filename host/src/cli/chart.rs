//! A dependency-free SVG chart of a simulation: cumulative revenue per policy, then fee and
//! local balance over time for the tracked channels of the first policy.

use crate::sim::SimReport;
use std::fmt::Write;

const WIDTH: f64 = 900.0;
const PANEL: f64 = 220.0;
const MARGIN: f64 = 60.0;
const COLORS: [&str; 6] = [
    "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf",
];

struct Line<'a> {
    label: &'a str,
    color: &'a str,
    points: Vec<f64>,
}

pub fn render(reports: &[SimReport]) -> String {
    let mut svg = String::new();
    let height = 3.0 * (PANEL + MARGIN) + MARGIN;
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" font-family="sans-serif" font-size="12">"#
    );
    svg.push_str(r#"<rect width="100%" height="100%" fill="white"/>"#);
    let revenue: Vec<Line> = reports
        .iter()
        .zip(COLORS.iter().cycle())
        .map(|(r, color)| Line {
            label: &r.policy,
            color,
            points: r
                .series
                .cumulative_revenue_msat
                .iter()
                .map(|&m| m as f64 / 1000.0)
                .collect(),
        })
        .collect();
    panel(
        &mut svg,
        0,
        "cumulative revenue (sat), per policy",
        &revenue,
    );
    if let Some(first) = reports.first() {
        let tracked = &first.series.tracked;
        let fees: Vec<Line> = tracked
            .iter()
            .zip(COLORS.iter().cycle())
            .map(|(t, color)| Line {
                label: &t.label,
                color,
                points: t.fee_ppm.iter().map(|&f| f64::from(f)).collect(),
            })
            .collect();
        panel(&mut svg, 1, &format!("fee (ppm) — {}", first.policy), &fees);
        let balances: Vec<Line> = tracked
            .iter()
            .zip(COLORS.iter().cycle())
            .map(|(t, color)| Line {
                label: &t.label,
                color,
                points: t.local_share.clone(),
            })
            .collect();
        panel(
            &mut svg,
            2,
            &format!("local share of capacity — {}", first.policy),
            &balances,
        );
    }
    svg.push_str("</svg>\n");
    svg
}

fn panel(svg: &mut String, index: usize, title: &str, lines: &[Line<'_>]) {
    let top = MARGIN + index as f64 * (PANEL + MARGIN);
    let (left, right) = (MARGIN, WIDTH - 200.0);
    let max = lines
        .iter()
        .flat_map(|l| l.points.iter().copied())
        .fold(0.0f64, f64::max)
        .max(1e-9);
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
    let _ = write!(
        svg,
        r#"<text x="{}" y="{}" text-anchor="end">{}</text><text x="{}" y="{}" text-anchor="end">0</text>"#,
        left - 4.0,
        top + 10.0,
        format_number(max),
        left - 4.0,
        top + PANEL
    );
    for (n, line) in lines.iter().enumerate() {
        let count = line.points.len().max(2) - 1;
        let points: Vec<String> = line
            .points
            .iter()
            .enumerate()
            .map(|(i, &v)| {
                let x = left + (right - left) * i as f64 / count as f64;
                let y = top + PANEL - PANEL * (v / max);
                format!("{x:.1},{y:.1}")
            })
            .collect();
        let _ = write!(
            svg,
            r#"<polyline fill="none" stroke="{}" stroke-width="1.5" points="{}"/>"#,
            line.color,
            points.join(" ")
        );
        let _ = write!(
            svg,
            r#"<text x="{}" y="{}" fill="{}">{}</text>"#,
            right + 10.0,
            top + 14.0 + 16.0 * n as f64,
            line.color,
            escape(line.label)
        );
    }
}

fn format_number(value: f64) -> String {
    if value >= 100.0 {
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
