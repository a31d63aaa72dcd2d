//! Decode time of candidate hyperprior models against the built-in ones, in the same run: the
//! version-1 default, the built-in default hyperprior and each model given, each decoding the
//! same picture at its default level (restoration filter and residual layers as the encoder
//! chooses), timed in turn within every round (medians; compare the ratios, the machine is noisy).
//! `cargo run --release --example decode_race -- PICTURE.png [MODEL.bpk ...] [--quality Q] [--runs N]`

use std::hint::black_box;
use std::time::{Duration, Instant};

use aec::codec::hyper::HyperCodec;
use aec::codec::{EncodeOptions, Ladder, PhotoCodec};
use aec::format::{CoderId, Limits};
use burn::prelude::Device;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut option = |name: &str, default: usize| -> Result<usize, Box<dyn std::error::Error>> {
        match args.iter().position(|a| a == name) {
            Some(i) if i + 1 < args.len() => {
                let value = args.remove(i + 1).parse()?;
                args.remove(i);
                Ok(value)
            }
            Some(_) => Err(format!("{name} needs a value").into()),
            None => Ok(default),
        }
    };
    let (quality, runs) = (option("--quality", 17)?, option("--runs", 31)?);
    let (picture, models) = args.split_first().ok_or("usage: decode_race PICTURE [MODEL.bpk ...] [--quality Q] [--runs N]")?;
    let picture = image::open(picture)?;
    let options = |quality: u8| EncodeOptions { quality, coder: CoderId::Range, ..EncodeOptions::default() };

    // The version-1 file is written by the scale's model files (the binary only decodes it).
    let ladder = Ladder::builtin();
    let mut entries: Vec<(String, Box<dyn PhotoCodec>, Vec<u8>)> = Vec::new();
    let v1 = Ladder::builtin_from_files(std::path::Path::new("models"), Device::flex())?.encode(&picture, &options(ladder.default_quality()))?;
    entries.push(("version-1 default".into(), Box::new(ladder), v1));
    let mut hyper: Vec<(String, HyperCodec)> = vec![("built-in default".into(), HyperCodec::builtin()?)];
    for model in models {
        hyper.push((model.clone(), HyperCodec::from_files(std::path::Path::new(model), Device::flex())?));
    }
    for (name, codec) in hyper {
        let bytes = codec.encode(&picture, &options(u8::try_from(quality)?))?;
        entries.push((format!("{name} at {quality}"), Box::new(codec), bytes));
    }

    let mut times = vec![Vec::with_capacity(runs); entries.len()];
    for round in 0..=runs {
        for ((_, codec, bytes), times) in entries.iter().zip(&mut times) {
            let start = Instant::now();
            black_box(codec.decode(bytes, &Limits::default())?);
            // Round 0 loads what a first decode loads: not timed.
            if round > 0 {
                times.push(start.elapsed());
            }
        }
    }
    let median = |t: &mut Vec<Duration>| {
        t.sort();
        t[t.len() / 2].as_secs_f64() * 1000.0
    };
    let medians: Vec<f64> = times.iter_mut().map(median).collect();
    println!("| decoder | bytes | ms (median of {runs}) | vs version-1 default |\n|---|---:|---:|---:|");
    for ((name, _, bytes), ms) in entries.iter().zip(&medians) {
        println!("| {name} | {} | {ms:.1} | {:.2}x |", bytes.len(), ms / medians[0]);
    }
    Ok(())
}
