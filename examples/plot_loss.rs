//! Draws the loss curve of a training run (the `loss.csv` of a checkpoint folder) as SVG:
//! PSNR and bits per pixel against the step.
//! `cargo run --release --example plot_loss -- models/default.train/loss.csv models/default-loss.svg`

use plotters::prelude::*;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (input, output) = match args.as_slice() {
        [_, i, o] => (i, o),
        _ => return Err("usage: plot_loss LOSS.csv OUT.svg".into()),
    };
    let text = std::fs::read_to_string(input)?;
    // step,lr,loss,mse,psnr,bpp,seconds
    let rows: Vec<Vec<f64>> = text.lines().skip(1).filter_map(|l| l.split(',').map(|v| v.parse().ok()).collect()).collect();
    let psnr: Vec<(f64, f64)> = rows.iter().map(|r| (r[0], r[4])).collect();
    let bpp: Vec<(f64, f64)> = rows.iter().map(|r| (r[0], r[5])).collect();
    let max_step = psnr.last().map_or(1.0, |p| p.0);
    let root = SVGBackend::new(output, (900, 420)).into_drawing_area();
    root.fill(&WHITE)?;
    let (left, right) = root.split_horizontally(450);
    for (area, series, label, color, range) in
        [(&left, &psnr, "training PSNR (dB, noisy latents)", RED, (10.0, 35.0)), (&right, &bpp, "estimated bits per pixel", BLUE, (0.0, 2.0))]
    {
        let mut chart = ChartBuilder::on(area)
            .caption(label, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(35)
            .y_label_area_size(45)
            .build_cartesian_2d(0.0..max_step, range.0..range.1)?;
        chart.configure_mesh().x_desc("step").draw()?;
        chart.draw_series(LineSeries::new(series.iter().copied(), color.stroke_width(1)))?;
    }
    root.present()?;
    Ok(())
}
