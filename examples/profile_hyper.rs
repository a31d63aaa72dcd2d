//! Where a hyperprior decode spends its time: model loading, parsing, the entropy layer
//! (z decoding, the integer hyper-synthesis, y decoding) and the synthesis transform.
//! `cargo run --release --example profile_hyper -- models/hyper.bpk PICTURE.png [QUALITY]`

use std::time::Instant;

use aec::codec::hyper::HyperCodec;
use aec::codec::{EncodeOptions, PhotoCodec};
use aec::format::{CoderId, Limits, SectionFile};
use burn::prelude::Device;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (model, picture) = match args.as_slice() {
        [_, m, p, ..] => (m, p),
        _ => return Err("usage: profile_hyper MODEL.bpk PICTURE [QUALITY]".into()),
    };
    let quality: u8 = args.get(3).map_or(Ok(17), |q| q.parse())?;
    let started = Instant::now();
    let codec = HyperCodec::from_files(std::path::Path::new(model), Device::flex())?;
    let load = started.elapsed();
    let picture = image::open(picture)?;
    let bytes = codec.encode(&picture, &level(quality, CoderId::Range))?;
    // The synthesis loads on the first decode: not timed.
    codec.decode(&bytes, &Limits::default())?;
    let runs = 5;
    let (mut parse, mut entropy, mut total) = (0.0, 0.0, 0.0);
    for _ in 0..runs {
        let t = Instant::now();
        let file = SectionFile::parse(&bytes, &Limits::default())?;
        parse += t.elapsed().as_secs_f64();
        let t = Instant::now();
        codec.decode_latents(&file, &Limits::default())?;
        entropy += t.elapsed().as_secs_f64();
        let t = Instant::now();
        codec.decode(&bytes, &Limits::default())?;
        total += t.elapsed().as_secs_f64();
    }
    let ms = |s: f64| s * 1000.0 / f64::from(runs);
    // The parts of the entropy layer timed alone, on this file's own ẑ (the integer h_s
    // skips z's channels that are zero throughout, so a made-up ẑ would time it wrongly).
    // In a decode, y decoding overlaps the computation of the means.
    let file = SectionFile::parse(&bytes, &Limits::default())?;
    let z = codec.decode_hyper_latents(&file)?;
    let (zh, zw) = (file.header.height.div_ceil(64) as usize, file.header.width.div_ceil(64) as usize);
    let first = file.section(aec::format::SectionKind::Latents).ok_or("no latents")?;
    let streams = aec::format::streams::split_streams(first, file.section(aec::format::SectionKind::LatentStreams))?;
    let timed = |f: &mut dyn FnMut()| {
        let t = Instant::now();
        for _ in 0..runs {
            f();
        }
        t.elapsed().as_secs_f64()
    };
    let z_s = timed(&mut || drop(std::hint::black_box(codec.decode_hyper_latents(&file).expect("decodes"))));
    let mut params = Vec::new();
    let hyper_synthesis = timed(&mut || params = codec.hyper_synthesis().forward(&z, zh, zw));
    let log_scales = &params[params.len() / 2..];
    let channels = codec.config().latent;
    let y_s = timed(&mut || drop(std::hint::black_box(aec::codec::hyper::decode_residuals(&streams, log_scales, channels).expect("decodes"))));
    let indices: Vec<u8> = log_scales.iter().map(|&s| aec::entropy::gaussian::table_index(s)).collect();
    // The streams one after the other: the range decoding's processor time.
    let plane = indices.len() / channels;
    let firsts: Vec<usize> = streams.iter().map(|s| s.0).collect();
    let stream_indices: Vec<&[u8]> =
        aec::format::streams::stream_channels(&firsts, channels).into_iter().map(|c| &indices[c.start * plane..c.end * plane]).collect();
    let range_s = timed(&mut || {
        for ((_, payload), indices) in streams.iter().zip(&stream_indices) {
            drop(std::hint::black_box(aec::entropy::coding::decode_indexed(payload, indices).expect("decodes")));
        }
    });
    println!("{}x{} at quality {quality}: {} bytes", picture.width(), picture.height(), bytes.len());
    println!("model load        {:8.1} ms (once)", load.as_secs_f64() * 1000.0);
    println!("parse             {:8.2} ms", ms(parse));
    let share = |part: f64| 100.0 * part / total;
    println!("entropy layer     {:8.1} ms (z decode, integer h_s, y decode; {:.1}% of the decode)", ms(entropy), share(entropy));
    println!("parts alone:");
    println!("  integer h_s     {:8.1} ms ({:.1}%)", ms(hyper_synthesis), share(hyper_synthesis));
    let coding = z_s + y_s;
    println!("  z and y coding  {:8.1} ms ({:.1}%)", ms(coding), share(coding));
    println!(
        "    z decode {:.2} ms; y table indices and decode {:.2} ms ({} streams at once); range decoding with its exactness check, the streams one after the other, {:.2} ms ({} symbols)",
        ms(z_s),
        ms(y_s),
        streams.len(),
        ms(range_s),
        indices.len()
    );
    // The layers after the synthesis, applied to the decoded picture (what they would filter).
    let decoded = codec.decode(&bytes, &Limits::default())?;
    let (picture_channels, samples) = if decoded.color().has_color() { (3, decoded.to_rgb8().into_raw()) } else { (1, decoded.to_luma8().into_raw()) };
    let pixels = aec::codec::pixels::Pixels { width: decoded.width() as usize, height: decoded.height() as usize, channels: picture_channels, samples };
    let restoration =
        file.section(aec::format::SectionKind::Restoration).map(|p| aec::codec::restoration::Restoration::parse(p, picture_channels)).transpose()?;
    let residual = file.section(aec::format::SectionKind::Residual).map(|p| aec::codec::residual::Residual::parse(p, picture_channels)).transpose()?;
    let restoration_s = restoration.map_or(0.0, |filter| timed(&mut || filter.apply(&mut pixels.clone())));
    let residual_s = residual.map_or(0.0, |layer| timed(&mut || layer.apply(&mut pixels.clone()).expect("decodes")));
    println!("restoration filter{:8.1} ms ({:.1}%; 0 if the file has none)", ms(restoration_s), share(restoration_s));
    println!("residual layer    {:8.1} ms ({:.1}%; 0 if the file has none)", ms(residual_s), share(residual_s));
    println!("synthesis + rest  {:8.1} ms", ms(total - entropy - parse - restoration_s - residual_s));
    println!("whole decode      {:8.1} ms", ms(total));
    Ok(())
}

/// Options for one level with the given coder, within the decoder's default limits.
fn level(quality: u8, coder: CoderId) -> EncodeOptions {
    EncodeOptions { quality, coder, limits: Limits::default(), ..EncodeOptions::default() }
}
