//! Tiled against whole-picture coding on a folder of photos: each photo is analysed, rounded
//! and synthesized once whole and once cut into small tiles (8x8 latent positions = 128x128
//! pixels, with the margin coding uses), and the PSNRs against the original are compared, with
//! the transforms of the default model (the built-in hyperprior, without gain: its latents
//! rounded as they come) or of the version-1 scale's default model (`factorized`, at its step
//! 1.0). Prints a Markdown table and the largest difference.
//!
//! `cargo run --release --example tile_check -- ../shared/datasets/eval [default|factorized]`

use aec::codec::Codec;
use aec::codec::hyper::HyperCodec;
use aec::codec::pixels::Pixels;
use aec::codec::tiles::{self, LatentPlanes, Tiling};
use aec::infer::{Analysis, Synthesis};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args().nth(1).ok_or("usage: tile_check DIR [default|factorized]")?;
    let (analysis, synthesis) = match std::env::args().nth(2).as_deref().unwrap_or("default") {
        "default" => {
            let codec = HyperCodec::builtin()?;
            let (a, s) = codec.transforms()?;
            (a.clone(), s.clone())
        }
        "factorized" => {
            // From its files: the built-in version-1 model only decodes.
            let codec = Codec::from_files(std::path::Path::new("models/default.bpk"), burn::prelude::Device::flex())?;
            (Analysis::from_model(&codec.model().analysis)?, Synthesis::from_model(&codec.model().synthesis)?)
        }
        other => return Err(format!("no model {other:?}: default or factorized").into()),
    };
    let small = Tiling { tile: 8, margin: tiles::MARGIN, max_whole: 0 };
    let mut paths: Vec<_> = std::fs::read_dir(&dir)?.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.extension().is_some_and(|e| e == "png")).collect();
    paths.sort();
    println!("| photo | tiles | PSNR whole dB | PSNR tiled dB | difference dB | samples differing | largest difference |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    let mut worst_db = 0.0f64;
    for path in &paths {
        let picture = image::open(path)?.to_rgb8();
        let (width, height) = (picture.width() as usize, picture.height() as usize);
        let pixels = Pixels { width, height, channels: 3, samples: picture.into_raw() };
        let run = |tiling: &Tiling| {
            let (y, _, _) = tiles::analyze_with(tiling, &pixels, tiles::SCALE, |x, h, w| analysis.forward(x, h, w));
            let y = LatentPlanes { values: y.values.iter().map(|v| v.round()).collect(), ..y };
            tiles::synthesize_with(tiling, &y, width, height, 3, |t| synthesis.forward(&t.values, t.height, t.width))
        };
        let (whole, tiled) = (run(&Tiling { max_whole: usize::MAX, ..small }), run(&small));
        let (a, b) = (aec::metrics::psnr(&pixels.samples, &whole.samples), aec::metrics::psnr(&pixels.samples, &tiled.samples));
        let differing = whole.samples.iter().zip(&tiled.samples).filter(|(x, y)| x != y).count();
        let largest = whole.samples.iter().zip(&tiled.samples).map(|(x, y)| x.abs_diff(*y)).max().unwrap_or(0);
        let count = width.div_ceil(128) * height.div_ceil(128);
        worst_db = worst_db.max((a - b).abs());
        println!(
            "| {} | {count} | {a:.4} | {b:.4} | {:+.4} | {differing} of {} | {largest} |",
            path.file_name().unwrap_or_default().to_string_lossy(),
            b - a,
            whole.samples.len()
        );
    }
    println!("\nLargest PSNR difference, tiled against whole: {worst_db:.4} dB over {} photos", paths.len());
    Ok(())
}
