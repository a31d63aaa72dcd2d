//! Where `aec decompress` spends its time with the built-in default model: process start and
//! model loading, reading the picture, parsing, range decoding, each layer of the synthesis,
//! and writing the PNG; burn's synthesis layer by layer against the inference layer that
//! decoding runs (`aec::infer`). Prints a Markdown table (milliseconds, the mean of several runs).
//! `cargo run --release --example profile_decode -- PICTURE.png [QUALITY] [RUNS]`

use std::time::Instant;

use aec::codec::{Codec, EncodeOptions, latent_coding};
use aec::format::{AecFile, CoderId, Limits, SectionFile};
use burn::prelude::*;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let picture_path = args.first().ok_or("usage: profile_decode PICTURE [QUALITY] [RUNS]")?;
    let quality: u8 = args.get(1).map_or(Ok(4), |q| q.parse())?;
    let runs: u32 = args.get(2).map_or(Ok(5), |r| r.parse())?;
    let t = Instant::now();
    // From its files: the built-in version-1 model only decodes.
    let codec = Codec::from_files(std::path::Path::new("models/default.bpk"), burn::prelude::Device::flex())?;
    let load = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let decoder = aec::infer::Synthesis::from_model(&codec.model().synthesis)?;
    let packing = t.elapsed().as_secs_f64();
    let mut worst_difference = 0.0f32;
    let picture = image::open(picture_path)?;
    let bytes = codec.encode(&picture, &EncodeOptions { quality, coder: CoderId::Range, ..EncodeOptions::default() })?;
    let mut rows: Vec<(String, f64)> = Vec::new();
    let mut add = |name: &str, seconds: f64| match rows.iter_mut().find(|(n, _)| n == name) {
        Some(row) => row.1 += seconds,
        None => rows.push((name.to_string(), seconds)),
    };
    for _ in 0..runs {
        let t = Instant::now();
        let file = SectionFile::parse(&bytes, &Limits::default())?;
        let shape = codec.latent_shape(file.header.width, file.header.height);
        let v1: AecFile = file.as_single_payload(shape, &Limits::default())?;
        add("parse", t.elapsed().as_secs_f64());
        let t = Instant::now();
        let level = codec.tables_for_step(v1.header.quant_step).ok_or("no tables")?;
        let plane = usize::from(shape.height) * usize::from(shape.width);
        let latents = latent_coding::decode_range(v1.latents, plane, level)?;
        add("range decoding", t.elapsed().as_secs_f64());
        let t = Instant::now();
        let step = f32::from(v1.header.quant_step) / 256.0;
        let values: Vec<f32> = latents.iter().map(|&v| f32::from(v) * step).collect();
        let device = Device::flex();
        let y = Tensor::<4>::from_data(
            TensorData::new(values.clone(), [1, usize::from(shape.channels), usize::from(shape.height), usize::from(shape.width)]),
            &device,
        );
        add("latents to tensor", t.elapsed().as_secs_f64());
        let mut last = Instant::now();
        let out = codec.model().synthesis.forward_observed(y, |layer, _| {
            add(&layer, last.elapsed().as_secs_f64());
            last = Instant::now();
        });
        let t = Instant::now();
        let planes: Vec<f32> = out.into_data().try_to_vec::<f32>().map_err(|e| format!("{e:?}"))?;
        std::hint::black_box(&planes);
        add("tensor to pixels", t.elapsed().as_secs_f64());
        let t = Instant::now();
        let mut last = Instant::now();
        let fast = decoder.forward_observed(&values, usize::from(shape.height), usize::from(shape.width), |stage| {
            add(&format!("inference layer: {stage} (with its inverse GDN)"), last.elapsed().as_secs_f64());
            last = Instant::now();
        });
        add("inference layer: the whole synthesis (what decoding runs)", t.elapsed().as_secs_f64());
        let worst = fast.iter().zip(&planes).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
        worst_difference = worst_difference.max(worst);
        let t = Instant::now();
        let decoded = codec.decode(&bytes, &Limits::default())?;
        add("(Codec::decode, all of the above)", t.elapsed().as_secs_f64());
        let t = Instant::now();
        let mut png = std::io::Cursor::new(Vec::new());
        decoded.write_to(&mut png, image::ImageFormat::Png)?;
        add("PNG writing", t.elapsed().as_secs_f64());
    }
    println!(
        "{}x{}, quality {quality}, {} bytes, mean of {runs} runs, {} threads",
        picture.width(),
        picture.height(),
        bytes.len(),
        rayon::current_num_threads()
    );
    println!("| stage | ms |\n|---|---:|");
    println!("| model loading (once per process) | {:.1} |", load * 1000.0);
    println!("| packing the synthesis for the inference layer (once per process) | {:.1} |", packing * 1000.0);
    for (name, seconds) in rows {
        println!("| {name} | {:.1} |", seconds * 1000.0 / f64::from(runs));
    }
    println!("\nThe inference layer's output differs from burn's by at most {worst_difference:.2e} (pixels in 0..1).");
    Ok(())
}
