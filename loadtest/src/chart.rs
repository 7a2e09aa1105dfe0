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
    let mut c = ChartBuilder::on(&top)
        .margin(10)
        .caption("latency (ms) of sampled viewers", ("sans-serif", 16))
        .x_label_area_size(30)
        .y_label_area_size(60)
        .build_cartesian_2d(t0..t1, 0.0..lat_max)
        .map_err(|e| anyhow!("{e:?}"))?;
    c.configure_mesh()
        .x_desc("s since traffic start")
        .draw()
        .map_err(|e| anyhow!("{e:?}"))?;
    for (name, color, f) in [
        (
            "p50",
            BLUE,
            (|p: &Point| p.latency.p50_ms) as fn(&Point) -> f64,
        ),
        ("p99", RED, |p: &Point| p.latency.p99_ms),
        ("max", BLACK, |p: &Point| p.latency.max_ms),
    ] {
        c.draw_series(LineSeries::new(
            with_lat.iter().map(|p| (p.t as f64, f(p).min(lat_max))),
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

    let d_max = series
        .iter()
        .map(|p| p.deliveries.max(p.frames))
        .max()
        .unwrap_or(1)
        .max(1) as f64
        * 1.1;
    let mut c = ChartBuilder::on(&bottom)
        .margin(10)
        .caption("per second: comment deliveries, frames", ("sans-serif", 16))
        .x_label_area_size(30)
        .y_label_area_size(60)
        .build_cartesian_2d(t0..t1, 0.0..d_max)
        .map_err(|e| anyhow!("{e:?}"))?;
    c.configure_mesh()
        .x_desc("s since traffic start")
        .draw()
        .map_err(|e| anyhow!("{e:?}"))?;
    for (name, color, f) in [
        (
            "deliveries/s",
            GREEN,
            (|p: &Point| p.deliveries as f64) as fn(&Point) -> f64,
        ),
        ("frames/s", MAGENTA, |p: &Point| p.frames as f64),
    ] {
        c.draw_series(LineSeries::new(
            series.iter().map(|p| (p.t as f64, f(p))),
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
    root.present().map_err(|e| anyhow!("{e:?}"))?;
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
