//! The figure of `nearopt density --plot`: the SLQ spectral density on a linear λ axis (left)
//! and on a log10 λ axis (right), each with its probe band (± one standard error over probes)
//! and the top eigenvalues marked.

use crate::plot::register_font;
use anyhow::{anyhow, bail, Context, Result};
use nearopt::density::{Curve, DensityEstimate};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;

/// Width and height in pixels.
const SIZE: (u32, u32) = (1400, 600);
const BLUE: RGBColor = RGBColor(31, 119, 180);
const RED: RGBColor = RGBColor(214, 39, 40);

fn panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    curve: &Curve,
    title: &str,
    x_label: &str,
    marks: &[f64],
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let e = |err: DrawingAreaErrorKind<DB::ErrorType>| anyhow!("plotting the density: {err:?}");
    let (x0, x1) = (curve.x[0], *curve.x.last().unwrap_or(&1.0));
    let ymax = curve
        .density
        .iter()
        .zip(&curve.standard_error)
        .map(|(d, s)| d + s)
        .fold(0.0f64, f64::max)
        .max(f64::MIN_POSITIVE)
        * 1.05;
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 20))
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(70)
        .build_cartesian_2d(x0..x1, 0.0..ymax)
        .map_err(e)?;
    chart
        .configure_mesh()
        .x_desc(x_label)
        .y_desc("density")
        .label_style(("sans-serif", 14))
        .axis_desc_style(("sans-serif", 16))
        .light_line_style(WHITE.mix(0.0))
        .draw()
        .map_err(e)?;
    let mut band: Vec<(f64, f64)> = curve
        .x
        .iter()
        .zip(curve.density.iter().zip(&curve.standard_error))
        .map(|(x, (d, s))| (*x, d + s))
        .collect();
    band.extend(
        curve
            .x
            .iter()
            .zip(curve.density.iter().zip(&curve.standard_error))
            .rev()
            .map(|(x, (d, s))| (*x, (d - s).max(0.0))),
    );
    chart
        .draw_series(std::iter::once(Polygon::new(band, BLUE.mix(0.25).filled())))
        .map_err(e)?
        .label("± 1 s.e. over probes")
        .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 15, y + 5)], BLUE.mix(0.25).filled()));
    let line: Vec<(f64, f64)> = curve
        .x
        .iter()
        .copied()
        .zip(curve.density.iter().copied())
        .collect();
    chart
        .draw_series(LineSeries::new(line, BLUE.stroke_width(2)))
        .map_err(e)?
        .label("SLQ density")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 15, y)], BLUE.stroke_width(2)));
    if !marks.is_empty() {
        chart
            .draw_series(
                marks
                    .iter()
                    .filter(|m| m.is_finite() && **m >= x0 && **m <= x1)
                    .map(|m| {
                        PathElement::new(vec![(*m, 0.0), (*m, ymax * 0.08)], RED.stroke_width(2))
                    }),
            )
            .map_err(e)?
            .label("top eigenvalues (Lanczos)")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 15, y)], RED.stroke_width(2)));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font(("sans-serif", 14))
        .draw()
        .map_err(e)?;
    Ok(())
}

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    est: &DensityEstimate,
    title: &str,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let e = |err: DrawingAreaErrorKind<DB::ErrorType>| anyhow!("plotting the density: {err:?}");
    root.fill(&WHITE).map_err(e)?;
    let root = root.titled(title, ("sans-serif", 22)).map_err(e)?;
    let (left, right) = root.split_horizontally(SIZE.0 / 2);
    let top: Vec<f64> = est.top.as_ref().map_or(Vec::new(), |t| t.values.clone());
    panel(&left, &est.linear, "linear axis", "λ", &top)?;
    let log_top: Vec<f64> = top
        .iter()
        .filter(|v| **v > 0.0)
        .map(|v| v.log10())
        .collect();
    panel(
        &right,
        &est.log,
        &format!(
            "log axis ({:.1}% of the mass below {:.1e} not shown)",
            100.0 * est.mass_below_floor,
            est.floor
        ),
        "log10 λ",
        &log_top,
    )?;
    root.present().map_err(e)?;
    Ok(())
}

/// Writes the figure to `path` (`.svg` or `.png`), atomically.
pub fn write_density_plot(est: &DensityEstimate, title: &str, path: &Path) -> Result<()> {
    register_font()?;
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase());
    match ext.as_deref() {
        Some("svg") => {
            let mut s = String::new();
            {
                let root = SVGBackend::with_string(&mut s, SIZE).into_drawing_area();
                draw(&root, est, title)?;
            }
            crate::io::write_atomic(path, s.as_bytes())
        }
        Some("png") => {
            let dir = path
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            let name = path
                .file_name()
                .ok_or_else(|| anyhow!("cannot write {}: not a file path", path.display()))?;
            let tmp = dir.join(format!(
                ".tmp{}-{}",
                std::process::id(),
                name.to_string_lossy()
            ));
            let result = (|| -> Result<()> {
                {
                    let root = BitMapBackend::new(&tmp, SIZE).into_drawing_area();
                    draw(&root, est, title)?;
                }
                std::fs::rename(&tmp, path).with_context(|| {
                    format!("cannot move the output into place at {}", path.display())
                })
            })();
            if result.is_err() {
                let _ = std::fs::remove_file(&tmp);
            }
            result
        }
        _ => bail!(
            "--plot {}: the file name must end in .svg or .png",
            path.display()
        ),
    }
}
