//! Figures: plotters renderings (SVG and PNG) of `nearopt::experiments::Figure`, and their data as
//! CSV. Text uses the bundled DejaVu Sans (`assets/fonts`), so no system font is needed.

use anyhow::{anyhow, Context, Result};
use nearopt::experiments::{Figure, Series};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;
use std::sync::Once;

/// DejaVu Sans (Bitstream Vera licence, `assets/fonts/LICENSE-DejaVu.txt`).
static FONT: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");

/// Width and height of every figure, in pixels.
pub const SIZE: (u32, u32) = (900, 600);

const COLORS: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(255, 127, 14),
    RGBColor(23, 190, 207),
];

/// Registers the bundled font as "sans-serif" (once per process).
pub fn register_font() -> Result<()> {
    static ONCE: Once = Once::new();
    let mut err = None;
    ONCE.call_once(|| {
        if plotters::style::register_font("sans-serif", FontStyle::Normal, FONT).is_err() {
            err = Some(anyhow!("the bundled DejaVu Sans font could not be loaded"));
        }
    });
    err.map_or(Ok(()), Err)
}

fn tx(v: f64, log: bool) -> f64 {
    if log {
        v.log10()
    } else {
        v
    }
}

/// Finite (transformed) points of every series, for the axis ranges.
fn extent(fig: &Figure) -> ((f64, f64), (f64, f64)) {
    let mut xs = Vec::new();
    let mut ys = Vec::new();
    for s in &fig.series {
        match s {
            Series::Line { x, y, .. } | Series::Points { x, y, .. } => {
                xs.extend(x.iter().map(|v| tx(*v, fig.log_x)));
                ys.extend(y.iter().map(|v| tx(*v, fig.log_y)));
            }
            Series::Histogram { edges, density, .. } => {
                xs.extend(edges.iter().map(|v| tx(*v, fig.log_x)));
                ys.extend(density.iter().map(|v| tx(*v, fig.log_y)));
            }
        }
    }
    let span = |v: &[f64], zero: bool| {
        let f: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
        let mut lo = f.iter().copied().fold(f64::INFINITY, f64::min);
        let mut hi = f.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        if !lo.is_finite() {
            return (0.0, 1.0);
        }
        if zero {
            lo = lo.min(0.0);
        }
        if hi - lo < 1e-12 {
            hi = lo + 1.0;
        }
        let pad = 0.05 * (hi - lo);
        (if zero && lo == 0.0 { 0.0 } else { lo - pad }, hi + pad)
    };
    (span(&xs, false), span(&ys, !fig.log_y))
}

fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, fig: &Figure) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let e = |err: DrawingAreaErrorKind<DB::ErrorType>| anyhow!("plotting {}: {err:?}", fig.id);
    root.fill(&WHITE).map_err(e)?;
    let ((x0, x1), (y0, y1)) = extent(fig);
    let label = |l: &str, log: bool| {
        if log {
            format!("log10 {l}")
        } else {
            l.to_string()
        }
    };
    let mut chart = ChartBuilder::on(root)
        .caption(&fig.title, ("sans-serif", 22))
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(70)
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(e)?;
    chart
        .configure_mesh()
        .x_desc(label(&fig.x_label, fig.log_x))
        .y_desc(label(&fig.y_label, fig.log_y))
        .label_style(("sans-serif", 15))
        .axis_desc_style(("sans-serif", 17))
        .light_line_style(WHITE.mix(0.0))
        .draw()
        .map_err(e)?;
    let (lx, ly) = (fig.log_x, fig.log_y);
    for (i, s) in fig.series.iter().enumerate() {
        let c = COLORS[i % COLORS.len()];
        match s {
            Series::Histogram {
                label,
                edges,
                density,
            } => {
                let bars = edges.windows(2).zip(density).map(|(w, &d)| {
                    Rectangle::new(
                        [(tx(w[0], lx), y0.max(0.0)), (tx(w[1], lx), tx(d, ly))],
                        c.mix(0.3).filled(),
                    )
                });
                chart
                    .draw_series(bars)
                    .map_err(e)?
                    .label(label.as_str())
                    .legend(move |(x, y)| {
                        Rectangle::new([(x, y - 5), (x + 15, y + 5)], c.mix(0.5).filled())
                    });
                let mut step = Vec::new();
                for (w, &d) in edges.windows(2).zip(density) {
                    step.push((tx(w[0], lx), tx(d, ly)));
                    step.push((tx(w[1], lx), tx(d, ly)));
                }
                chart
                    .draw_series(LineSeries::new(step, c.stroke_width(1)))
                    .map_err(e)?;
            }
            Series::Line { label, x, y } => {
                let pts: Vec<(f64, f64)> = x
                    .iter()
                    .zip(y)
                    .map(|(&a, &b)| (tx(a, lx), tx(b, ly)))
                    .filter(|(a, b)| a.is_finite() && b.is_finite())
                    .collect();
                chart
                    .draw_series(LineSeries::new(pts, c.stroke_width(2)))
                    .map_err(e)?
                    .label(label.as_str())
                    .legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 15, y)], c.stroke_width(2))
                    });
            }
            Series::Points { label, x, y } => {
                let pts: Vec<(f64, f64)> = x
                    .iter()
                    .zip(y)
                    .map(|(&a, &b)| (tx(a, lx), tx(b, ly)))
                    .filter(|(a, b)| a.is_finite() && b.is_finite())
                    .collect();
                chart
                    .draw_series(pts.into_iter().map(|p| Circle::new(p, 4, c.filled())))
                    .map_err(e)?
                    .label(label.as_str())
                    .legend(move |(x, y)| Circle::new((x + 7, y), 4, c.filled()));
            }
        }
    }
    let scatter = fig
        .series
        .iter()
        .any(|s| matches!(s, Series::Points { .. }));
    chart
        .configure_series_labels()
        .position(if scatter {
            SeriesLabelPosition::UpperLeft
        } else {
            SeriesLabelPosition::UpperRight
        })
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font(("sans-serif", 15))
        .draw()
        .map_err(e)?;
    root.present().map_err(e)?;
    Ok(())
}

/// The figure as an SVG document.
pub fn svg(fig: &Figure) -> Result<String> {
    register_font()?;
    let mut s = String::new();
    {
        let root = SVGBackend::with_string(&mut s, SIZE).into_drawing_area();
        draw(&root, fig)?;
    }
    Ok(s)
}

/// Writes the figure as a PNG at `path`, atomically (rendered beside it under a temporary name
/// that keeps the `.png` extension, then renamed).
pub fn write_png(fig: &Figure, path: &Path) -> Result<()> {
    register_font()?;
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
            draw(&root, fig)?;
        }
        std::fs::rename(&tmp, path)
            .with_context(|| format!("cannot move the output into place at {}", path.display()))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// The figure's data as CSV: `series,kind,x,x_hi,y` (histograms: bin `[x, x_hi)` and density;
/// lines and points: `x_hi` empty).
pub fn csv(fig: &Figure) -> String {
    let mut s = String::from("series,kind,x,x_hi,y\n");
    let q = |l: &str| format!("\"{}\"", l.replace('"', "\"\""));
    for series in &fig.series {
        match series {
            Series::Histogram {
                label,
                edges,
                density,
            } => {
                for (w, d) in edges.windows(2).zip(density) {
                    s.push_str(&format!("{},histogram,{},{},{}\n", q(label), w[0], w[1], d));
                }
            }
            Series::Line { label, x, y } | Series::Points { label, x, y } => {
                let kind = if matches!(series, Series::Line { .. }) {
                    "line"
                } else {
                    "points"
                };
                for (a, b) in x.iter().zip(y) {
                    s.push_str(&format!("{},{kind},{a},,{b}\n", q(label)));
                }
            }
        }
    }
    s
}
