//! Plots (SVG) drawn with plotters: loss curves and class scatters, and the colours and error
//! handling that `bench`'s rate–distortion plot shares.

use std::path::Path;

use plotters::prelude::*;

use crate::error::{Error, Result};

/// The colours of successive curves.
pub(crate) const COLORS: [RGBColor; 6] =
    [RGBColor(214, 39, 40), RGBColor(31, 119, 180), RGBColor(44, 160, 44), RGBColor(255, 127, 14), RGBColor(148, 103, 189), RGBColor(23, 190, 207)];

/// A failure of the drawing backend for `path`, as an I/O error about that file.
pub(crate) fn drawing_error(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::io(path, std::io::Error::other(format!("drawing failed: {e}")))
}

/// One named curve of [`line_plot`].
pub struct Curve {
    /// Legend text.
    pub label: String,
    /// `(x, y)` points in drawing order.
    pub points: Vec<(f64, f64)>,
}

/// Draws curves (e.g. a training and a validation loss against the epoch) into an SVG file,
/// with a logarithmic y axis when `log_y` is set.
///
/// # Errors
/// [`Error::InvalidArgument`] if there is nothing to draw; [`Error::Io`] if the file cannot be
/// drawn.
pub fn line_plot(title: &str, x_desc: &str, y_desc: &str, curves: &[Curve], log_y: bool, path: &Path) -> Result<()> {
    let all: Vec<(f64, f64)> =
        curves.iter().flat_map(|c| c.points.iter().copied()).filter(|p| p.0.is_finite() && p.1.is_finite() && (!log_y || p.1 > 0.0)).collect();
    if all.is_empty() {
        return Err(Error::InvalidArgument("nothing to plot".into()));
    }
    let (x_min, x_max) = all.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| (lo.min(p.0), hi.max(p.0)));
    let (y_min, y_max) = all.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| (lo.min(p.1), hi.max(p.1)));
    let x_range = x_min..x_max.max(x_min + 1.0);
    let draw = || -> std::result::Result<(), Box<dyn std::error::Error>> {
        let root = SVGBackend::new(path, (700, 450)).into_drawing_area();
        root.fill(&WHITE)?;
        let mut builder = ChartBuilder::on(&root);
        builder.caption(title, ("sans-serif", 20)).margin(15).x_label_area_size(40).y_label_area_size(65);
        macro_rules! draw_curves {
            ($chart:expr) => {{
                $chart.configure_mesh().x_desc(x_desc).y_desc(y_desc).draw()?;
                for (i, curve) in curves.iter().enumerate() {
                    let color = COLORS[i % COLORS.len()];
                    $chart
                        .draw_series(LineSeries::new(curve.points.iter().copied(), color.stroke_width(2)))?
                        .label(curve.label.as_str())
                        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2)));
                }
                $chart.configure_series_labels().position(SeriesLabelPosition::UpperRight).background_style(WHITE).border_style(BLACK).draw()?;
            }};
        }
        if log_y {
            let mut chart = builder.build_cartesian_2d(x_range, (y_min * 0.9..y_max * 1.1).log_scale())?;
            draw_curves!(chart);
        } else {
            let pad = (y_max - y_min).max(1e-9) * 0.05;
            let mut chart = builder.build_cartesian_2d(x_range, y_min - pad..y_max + pad)?;
            draw_curves!(chart);
        }
        root.present()?;
        Ok(())
    };
    draw().map_err(|e| drawing_error(path, e))
}

/// Ten colours for the classes of [`scatter_plot`] (matplotlib's "tab10").
const CLASS_COLORS: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// Draws points coloured by class (0..=9, e.g. the digit), with a legend, as an SVG document.
///
/// # Errors
/// [`Error::InvalidArgument`] if there is nothing to draw, the lengths differ, or the backend
/// fails.
pub fn scatter_plot(title: &str, x_desc: &str, y_desc: &str, points: &[(f64, f64)], classes: &[u8]) -> Result<String> {
    if points.is_empty() || points.len() != classes.len() {
        return Err(Error::InvalidArgument(format!("{} points for {} classes", points.len(), classes.len())));
    }
    let (x_min, x_max) = points.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| (lo.min(p.0), hi.max(p.0)));
    let (y_min, y_max) = points.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| (lo.min(p.1), hi.max(p.1)));
    let pad = |lo: f64, hi: f64| (hi - lo).max(1e-9) * 0.04;
    let mut svg = String::new();
    let mut draw = || -> std::result::Result<(), Box<dyn std::error::Error>> {
        let root = SVGBackend::with_string(&mut svg, (760, 620)).into_drawing_area();
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 20))
            .margin(15)
            .x_label_area_size(40)
            .y_label_area_size(55)
            .build_cartesian_2d(x_min - pad(x_min, x_max)..x_max + pad(x_min, x_max), y_min - pad(y_min, y_max)..y_max + pad(y_min, y_max))?;
        chart.configure_mesh().x_desc(x_desc).y_desc(y_desc).draw()?;
        let mut present: Vec<u8> = classes.to_vec();
        present.sort_unstable();
        present.dedup();
        for class in present {
            let color = CLASS_COLORS[usize::from(class) % CLASS_COLORS.len()];
            let series = points.iter().zip(classes).filter(|(_, c)| **c == class).map(|(p, _)| Circle::new(*p, 2, color.mix(0.6).filled()));
            chart.draw_series(series)?.label(class.to_string()).legend(move |(x, y)| Circle::new((x + 10, y), 4, color.filled()));
        }
        chart.configure_series_labels().position(SeriesLabelPosition::UpperRight).background_style(WHITE).border_style(BLACK).draw()?;
        root.present()?;
        Ok(())
    };
    draw().map_err(|e| drawing_error(Path::new("scatter plot"), e))?;
    Ok(svg)
}
