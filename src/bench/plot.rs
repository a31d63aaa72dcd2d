//! The rate–distortion plot of `aec bench` (SVG, plotters).

use std::path::Path;

use plotters::prelude::*;

use super::report::Summary;
use crate::error::{Error, Result};
use crate::plot::{COLORS, drawing_error};

/// Draws PSNR against bits per pixel for every lossy codec of `summary` into an SVG file.
///
/// # Errors
/// [`Error::InvalidArgument`] if there is nothing to draw; [`Error::Io`] if the file cannot be
/// drawn.
pub fn rd_plot(summary: &Summary, title: &str, path: &Path) -> Result<()> {
    let lossy: Vec<&str> = ["aec", "jpeg", "cjpeg", "webp"].into_iter().filter(|c| summary.points.iter().any(|p| p.codec == *c)).collect();
    let pts = |codec: &str| -> Vec<(f64, f64)> {
        let mut v: Vec<(f64, f64)> = summary.points.iter().filter(|p| p.codec == codec).map(|p| (p.bpp, p.psnr)).collect();
        v.sort_by(|a, b| a.0.total_cmp(&b.0));
        v
    };
    let all: Vec<(f64, f64)> = lossy.iter().flat_map(|c| pts(c)).collect();
    if all.is_empty() {
        return Err(Error::InvalidArgument("nothing to plot".into()));
    }
    let x_max = all.iter().map(|p| p.0).fold(0.0, f64::max).min(3.0) * 1.05;
    let y_min = all.iter().map(|p| p.1).fold(f64::INFINITY, f64::min).floor() - 1.0;
    let y_max = all.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max).ceil() + 1.0;
    let draw = || -> std::result::Result<(), Box<dyn std::error::Error>> {
        let root = SVGBackend::new(path, (800, 560)).into_drawing_area();
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 22))
            .margin(15)
            .x_label_area_size(45)
            .y_label_area_size(55)
            .build_cartesian_2d(0.0..x_max, y_min..y_max)?;
        chart.configure_mesh().x_desc("bits per pixel").y_desc("PSNR (dB)").draw()?;
        for (i, codec) in lossy.iter().enumerate() {
            let color = COLORS[i % COLORS.len()];
            let series: Vec<(f64, f64)> = pts(codec).into_iter().filter(|p| p.0 <= x_max).collect();
            chart
                .draw_series(LineSeries::new(series.clone(), color.stroke_width(2)))?
                .label(*codec)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2)));
            chart.draw_series(series.into_iter().map(|p| Circle::new(p, 3, color.filled())))?;
        }
        chart.configure_series_labels().position(SeriesLabelPosition::LowerRight).background_style(WHITE).border_style(BLACK).draw()?;
        root.present()?;
        Ok(())
    };
    draw().map_err(|e| drawing_error(path, e))
}
