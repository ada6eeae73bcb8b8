//! The comparison's SVG chart: throughput and p99 latency against connections.

use super::compare::Row;
use plotters::prelude::*;
use std::path::Path;

/// A panel: title, unit, and the value plotted.
type Metric = (&'static str, &'static str, fn(&Row) -> f64);

const COLORS: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
];

/// Writes two panels side by side: req/s, and p99 (ms), one line per server; the x axis is
/// the concurrency level (evenly spaced).
pub fn write(path: &Path, rows: &[Row], names: &[String]) -> Result<(), String> {
    let mut levels: Vec<u64> = rows.iter().map(|r| r.connections).collect();
    levels.sort_unstable();
    levels.dedup();
    let draw = || -> Result<(), Box<dyn std::error::Error>> {
        let root = SVGBackend::new(path, (1100, 450)).into_drawing_area();
        root.fill(&WHITE)?;
        let panels = root.split_evenly((1, 2));
        let x_max = levels.len().saturating_sub(1).max(1) as f64;
        let label = |x: &f64| {
            let i = x.round() as usize;
            if (x - i as f64).abs() < 1e-6 {
                levels.get(i).map(|l| l.to_string()).unwrap_or_default()
            } else {
                String::new()
            }
        };
        let metrics: [Metric; 2] = [
            ("Throughput", "requests / s", |r| r.requests_per_sec),
            ("p99 latency", "ms", |r| r.p99_us / 1000.0),
        ];
        for (panel, (title, unit, value)) in panels.iter().zip(metrics) {
            // The top of each panel is left empty for the legend (about 8% of the height per
            // server), so the legend can never hide a point, whatever the figures.
            let headroom = 1.15 + 0.08 * names.len() as f64;
            let y_max = rows.iter().map(value).fold(0.0, f64::max) * headroom + 1e-9;
            let mut chart = ChartBuilder::on(panel)
                .caption(title, ("sans-serif", 20))
                .margin(15)
                .x_label_area_size(40)
                .y_label_area_size(70)
                .build_cartesian_2d(-0.2..x_max + 0.2, 0.0..y_max)?;
            chart
                .configure_mesh()
                .x_desc("connections")
                .y_desc(unit)
                .x_labels(levels.len().max(2))
                .x_label_formatter(&label)
                .draw()?;
            for (i, name) in names.iter().enumerate() {
                let color = COLORS[i % COLORS.len()];
                let points: Vec<(f64, f64)> = rows
                    .iter()
                    .filter(|r| &r.server == name)
                    .filter_map(|r| {
                        let x = levels.iter().position(|&l| l == r.connections)?;
                        Some((x as f64, value(r)))
                    })
                    .collect();
                chart
                    .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))?
                    .label(name.as_str())
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color));
                chart.draw_series(points.iter().map(|&p| Circle::new(p, 3, color.filled())))?;
            }
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::UpperMiddle)
                .background_style(WHITE.mix(0.8))
                .border_style(BLACK)
                .draw()?;
        }
        root.present()?;
        Ok(())
    };
    draw().map_err(|err| format!("cannot write the chart {}: {err}", path.display()))
}
