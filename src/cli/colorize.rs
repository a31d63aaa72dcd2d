//! `aec colorize` and `aec train --arch colorize`.

use std::path::Path;

use anyhow::{Context, Result};
use image::{DynamicImage, RgbImage};

use aec::codec::colorize::{Colorizer, colour_error, gray_of};
use aec::train::colorize::ColorizeTrainConfig;

use super::args::{ColorizeArgs, TrainArgs};
use super::commands::{encode_picture, format_for};
use super::io::{check_writable, read_picture, write_output};

/// The network of `--model`, or the built-in one.
fn colorizer(model: Option<&Path>) -> Result<Colorizer> {
    Ok(match model {
        Some(path) => Colorizer::from_file(path, super::device())?,
        None => aec::codec::registry::builtin_colorizer_on(super::device())?,
    })
}

/// `aec colorize`.
pub fn colorize(args: ColorizeArgs) -> Result<()> {
    let net = colorizer(args.model.as_deref())?;
    if let Some(dir) = &args.eval {
        return evaluate(&net, dir, &args);
    }
    let (input, output) = (args.input.as_deref().context("a picture to colour")?, args.output.as_deref().context("-o")?);
    let format = format_for(output)?;
    check_writable(output, args.force)?;
    let picture = read_picture(input, args.max_pixels)?;
    let coloured = net.colorize(&picture)?;
    write_output(output, &encode_picture(&DynamicImage::ImageRgb8(coloured), format, output, 90, &aec::format::Metadata::default())?, args.force)?;
    eprintln!("{} -> {} ({}x{})", input.display(), output.display(), picture.width(), picture.height());
    Ok(())
}

/// `aec colorize --eval DIR`: every photo made gray and coloured, measured against itself.
fn evaluate(net: &Colorizer, dir: &Path, args: &ColorizeArgs) -> Result<()> {
    if let Some(path) = &args.before_after {
        check_writable(path, args.force)?;
    }
    let files = aec::pictures::list_images(dir)?;
    if files.is_empty() {
        return Err(aec::Error::InvalidArgument(format!("{}: no pictures in this folder", dir.display())).into());
    }
    println!("{:<44} {:>10} {:>10} {:>9} {:>9} {:>9}", "photo", "gray MSE", "colour MSE", "change", "gray dB", "colour dB");
    // Means of the chroma MSEs and of the RGB MSEs (PSNR of the mean MSE: a photo that is
    // already gray has an infinite PSNR of its own).
    let mut sums = [0.0; 4];
    for (i, file) in files.iter().enumerate() {
        let photo = read_picture(file, args.max_pixels)?;
        let coloured = net.colorize(&photo)?;
        let e = colour_error(&photo, &coloured)?;
        let name = file.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
        println!("{}", row(&name, e.gray_chroma_mse, e.chroma_mse, e.gray_psnr, e.psnr));
        let mse_of = |psnr: f64| 255.0 * 255.0 * 10f64.powf(-psnr / 10.0);
        for (s, v) in sums.iter_mut().zip([e.gray_chroma_mse, e.chroma_mse, mse_of(e.gray_psnr), mse_of(e.psnr)]) {
            *s += v / files.len() as f64;
        }
        if let (0, Some(path)) = (i, &args.before_after) {
            write_output(path, &before_after_png(&photo, &coloured)?, args.force)?;
            eprintln!("before/after of {name} written to {}", path.display());
        }
    }
    let [gray, colour, gray_rgb, colour_rgb] = sums;
    let psnr = |mse: f64| aec::metrics::psnr_from_mse(mse);
    println!("{}", row(&format!("mean of {} photos", files.len()), gray, colour, psnr(gray_rgb), psnr(colour_rgb)));
    Ok(())
}

/// Chroma MSE below which a photo counts as gray already (half a step of 8-bit chroma is
/// about 4e-6).
const GRAY_ALREADY: f64 = 1e-6;

/// One line of the evaluation table.
fn row(name: &str, gray: f64, colour: f64, gray_db: f64, colour_db: f64) -> String {
    // A photo that is gray already has no chroma error to change (its tiny one is rounding).
    let change = if gray >= GRAY_ALREADY { format!("{:+.1}%", 100.0 * (colour / gray - 1.0)) } else { "-".into() };
    format!("{name:<44} {gray:>10.5} {colour:>10.5} {change:>9} {gray_db:>9.2} {colour_db:>9.2}")
}

/// Gray | colourised | original side by side, each at most 256 pixels wide, as PNG bytes.
fn before_after_png(photo: &DynamicImage, coloured: &RgbImage) -> Result<Vec<u8>> {
    let width = photo.width().min(256);
    let small = |p: &DynamicImage| p.resize(width, u32::MAX, image::imageops::FilterType::Triangle).to_rgb8();
    let panels = [small(&DynamicImage::ImageLuma8(gray_of(photo))), small(&DynamicImage::ImageRgb8(coloured.clone())), small(photo)];
    let (w, h) = panels[0].dimensions();
    let mut strip = RgbImage::from_pixel(3 * w + 8, h, image::Rgb([255, 255, 255]));
    for (i, panel) in panels.iter().enumerate() {
        image::imageops::replace(&mut strip, panel, i64::from(i as u32 * (w + 4)), 0);
    }
    let mut png = std::io::Cursor::new(Vec::new());
    strip.write_to(&mut png, image::ImageFormat::Png).context("encoding the before/after picture")?;
    Ok(png.into_inner())
}

/// `aec train --arch colorize`.
pub fn train(args: TrainArgs) -> Result<()> {
    let data = args.data.context("--data is required")?;
    let out = args.out.unwrap_or_else(|| "models/colorize.bpk".into());
    let config = ColorizeTrainConfig::new()
        .with_steps(args.steps.unwrap_or(100_000))
        .with_batch(args.batch.unwrap_or(16))
        .with_patch(args.patch.unwrap_or(64))
        .with_lr(args.lr.unwrap_or(1e-3));
    eprintln!("training colorize on {}: {} steps of {} crops of {}x{}", data.display(), config.steps, config.batch, config.patch, config.patch);
    let logs = aec::train::colorize::train(&config, &data, &out, &super::device(), true)?;
    let last = logs.last().expect("at least one step");
    eprintln!("wrote {}: chroma MSE {:.5} on the last training crops, {:.0} s", out.display(), last.chroma_mse, last.seconds);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::row;

    #[test]
    fn a_photo_gray_already_gets_no_change_and_others_their_percentage() {
        let camera = row("camera", 1e-20, 0.00136, f64::INFINITY, 25.76);
        assert!(camera.contains(" - "), "{camera}");
        assert!(row("bridge", 0.01218, 0.00738, 16.61, 18.81).contains("-39.4%"));
    }
}
