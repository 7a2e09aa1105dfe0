//! The SVG chart of a run: latency percentiles (sampled viewers) and
//! comment deliveries per second over time. SVG backend only, no font
//! files: plotters writes `<text>` elements and the viewer renders them.

use std::path::Path;

use anyhow::anyhow;
use plotters::prelude::*;

use crate::report::Point;

/// Writes the chart of `series` to `path`.
pub fn write_svg(path: &Path, title: &str, series: &[Point]) -> anyhow::Result<()> {
    let root = SVGBackend::new(path, (1000, 700)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| anyhow!("{e:?}"))?;
    let root = root
        .titled(title, ("sans-serif", 22))
        .map_err(|e| anyhow!("{e:?}"))?;
    let (top, bottom) = root.split_vertically(340);
    let t0 = series.first().map_or(0, |p| p.t) as f64;
    let t1 = (series.last().map_or(1, |p| p.t) as f64).max(t0 + 1.0);

    let with_lat: Vec<&Point> = series.iter().filter(|p| p.latency.count > 0).collect();
    let lat_max = with_lat
        .iter()
        .map(|p| p.latency.p99_ms)
        .fold(1.0, f64::max)
        * 1.1;
    let latency: [Line; 3] = [
        ("p50", BLUE, |p| p.latency.p50_ms),
        ("p99", RED, |p| p.latency.p99_ms),
        ("max", BLACK, |p| p.latency.max_ms),
    ];
    panel(
        &top,
        "latency (ms) of sampled viewers",
        (t0, t1, lat_max),
        &with_lat,
        &latency,
    )?;

    let d_max = series
        .iter()
        .map(|p| p.deliveries.max(p.frames))
        .max()
        .unwrap_or(1)
        .max(1) as f64
        * 1.1;
    let all: Vec<&Point> = series.iter().collect();
    let rates: [Line; 2] = [
        ("deliveries/s", GREEN, |p| p.deliveries as f64),
        ("frames/s", MAGENTA, |p| p.frames as f64),
    ];
    panel(
        &bottom,
        "per second: comment deliveries, frames",
        (t0, t1, d_max),
        &all,
        &rates,
    )?;
    root.present().map_err(|e| anyhow!("{e:?}"))?;
    Ok(())
}

/// One line of a panel: its name, colour and value per point.
type Line = (&'static str, RGBColor, fn(&Point) -> f64);

/// Draws one panel: `lines` over `points`, the x axis in seconds, values
/// capped at the y range's top.
fn panel(
    area: &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
    caption: &str,
    (t0, t1, y_max): (f64, f64, f64),
    points: &[&Point],
    lines: &[Line],
) -> anyhow::Result<()> {
    let mut c = ChartBuilder::on(area)
        .margin(10)
        .caption(caption, ("sans-serif", 16))
        .x_label_area_size(30)
        .y_label_area_size(60)
        .build_cartesian_2d(t0..t1, 0.0..y_max)
        .map_err(|e| anyhow!("{e:?}"))?;
    c.configure_mesh()
        .x_desc("s since traffic start")
        .draw()
        .map_err(|e| anyhow!("{e:?}"))?;
    for &(name, color, f) in lines {
        c.draw_series(LineSeries::new(
            points.iter().map(|p| (p.t as f64, f(p).min(y_max))),
            &color,
        ))
        .map_err(|e| anyhow!("{e:?}"))?
        .label(name)
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color));
    }
    c.configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(|e| anyhow!("{e:?}"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::hist::Percentiles;

    #[test]
    fn writes_an_svg_with_text() {
        let series: Vec<Point> = (-2..10)
            .map(|t| Point {
                t,
                frames: (100 + t) as u64,
                deliveries: 50,
                latency: Percentiles {
                    count: 10,
                    p50_ms: 20.0,
                    p99_ms: 90.0,
                    max_ms: 120.0,
                    ..Percentiles::default()
                },
                ..Point::default()
            })
            .collect();
        let path = std::env::temp_dir().join(format!("loadtest-chart-{}.svg", std::process::id()));
        write_svg(&path, "test", &series).unwrap();
        let svg = std::fs::read_to_string(&path).unwrap();
        let _ = std::fs::remove_file(&path);
        assert!(svg.contains("<svg"));
        assert!(
            svg.contains("<text") && svg.contains("p99"),
            "labels missing"
        );
        assert!(svg.contains("<polyline"));
    }
}
