//! `cargo bench`: encode and decode time of a 768x512 photo at the default and top levels of
//! the default model (the built-in hyperprior) and of the version-1 scale, the share of the
//! entropy layer in a decode, against the `image` crate's JPEG encoder and against each other in
//! the same run (machines are noisy: compare the ratios, not the seconds). Also burn's
//! transforms against the inference layer (`aec::infer`) that coding runs, on the same latents
//! and picture.

use std::hint::black_box;
use std::time::{Duration, Instant};

use aec::codec::hyper::HyperCodec;
use aec::codec::{EncodeOptions, Ladder, PhotoCodec};
use aec::format::{CoderId, Limits, SectionFile};
use burn::prelude::*;
use image::DynamicImage;

fn median_time(runs: usize, mut f: impl FnMut()) -> Duration {
    f();
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    times.sort();
    times[runs / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Medians of `runs` timings of each of `parts`, run in turn within every round (on a noisy
/// machine their ratios are then taken under the same conditions).
fn interleaved_medians(runs: usize, parts: &mut [&mut dyn FnMut()]) -> Vec<Duration> {
    parts.iter_mut().for_each(|f| f());
    let mut times = vec![Vec::with_capacity(runs); parts.len()];
    for _ in 0..runs {
        for (f, t) in parts.iter_mut().zip(&mut times) {
            let start = Instant::now();
            f();
            t.push(start.elapsed());
        }
    }
    times
        .into_iter()
        .map(|mut t| {
            t.sort();
            t[runs / 2]
        })
        .collect()
}

/// Times one level of the default model (the built-in hyperprior): encode; then, interleaved
/// round by round with the version-1 scale's default decode (`v1_bytes`), decode, the entropy
/// layer alone (`ẑ` decoding, the integer hyper-synthesis, `y` decoding with its exactness
/// check) and its coding part alone (`ẑ` decoding, table indices, `y` decoding).
fn measure_hyper(codec: &HyperCodec, ladder: &Ladder, v1_bytes: &[u8], picture: &DynamicImage, quality: u8, jpeg: Duration, runs: usize) {
    let options = EncodeOptions { quality, coder: CoderId::Range, ..EncodeOptions::default() };
    let bytes = codec.encode(picture, &options).unwrap();
    let encode = median_time(runs, || drop(black_box(codec.encode(picture, &options).unwrap())));
    let file = SectionFile::parse(&bytes, &Limits::default()).unwrap();
    let z = codec.decode_hyper_latents(&file).unwrap();
    let (zh, zw) = (file.header.height.div_ceil(64) as usize, file.header.width.div_ceil(64) as usize);
    let params = codec.hyper_synthesis().forward(&z, zh, zw);
    let log_scales = &params[params.len() / 2..];
    let streams =
        aec::format::streams::split_streams(file.section(aec::format::SectionKind::Latents).unwrap(), file.section(aec::format::SectionKind::LatentStreams))
            .unwrap();
    let times = interleaved_medians(
        3 * runs,
        &mut [
            &mut || drop(black_box(ladder.decode(v1_bytes, &Limits::default()).unwrap())),
            &mut || drop(black_box(codec.decode(&bytes, &Limits::default()).unwrap())),
            &mut || drop(black_box(codec.decode_latents(&file, &Limits::default()).unwrap())),
            &mut || drop(black_box(codec.decode_hyper_latents(&file).unwrap())),
            &mut || drop(black_box(aec::codec::hyper::decode_residuals(&streams, log_scales, codec.config().latent).unwrap())),
        ],
    );
    let [v1_decode, decode, entropy, z_coding, y_coding] = times[..] else { unreachable!("five parts") };
    let coding = z_coding + y_coding;
    let bpp = bytes.len() as f64 * 8.0 / f64::from(picture.width() * picture.height());
    println!("default model, quality {quality} ({bpp:.3} bpp, {} bytes)", bytes.len());
    println!("  aec encode (range coder)  {:8.1} ms   {:6.1}x JPEG q75 encode+decode ({:.1} ms)", ms(encode), ms(encode) / ms(jpeg), ms(jpeg));
    println!(
        "  aec decode (range coder)  {:8.1} ms   {:.2}x the version-1 scale's default decode ({:.1} ms, interleaved)",
        ms(decode),
        ms(decode) / ms(v1_decode),
        ms(v1_decode)
    );
    println!("  entropy layer (z, integer h_s, y): {:.1} ms ({:.1}% of the decode)", ms(entropy), 100.0 * ms(entropy) / ms(decode));
    println!(
        "  z and y coding (z decoding, table indices, y decoding with its streams at once; each alone): {:.1} ms ({:.1}% of the decode)",
        ms(coding),
        100.0 * ms(coding) / ms(decode)
    );
}

/// Times one level of the version-1 scale with both coders (written by `encoder`, the scale
/// over its model files, decoded by `ladder`, the built-in scale), and the range coder alone
/// on the file's own latents.
fn measure(encoder: &Ladder, ladder: &Ladder, picture: &DynamicImage, quality: u8, jpeg: Duration, runs: usize) {
    let options = EncodeOptions { quality, coder: CoderId::Range, ..EncodeOptions::default() };
    let zstd = EncodeOptions { coder: CoderId::Zstd, ..options.clone() };
    let bytes = encoder.encode(picture, &options).unwrap();
    let zstd_bytes = encoder.encode(picture, &zstd).unwrap();
    let encode = median_time(runs, || drop(black_box(encoder.encode(picture, &options).unwrap())));
    let encode_zstd = median_time(runs, || drop(black_box(encoder.encode(picture, &zstd).unwrap())));
    let decode = median_time(runs, || drop(black_box(ladder.decode(&bytes, &Limits::default()).unwrap())));
    let decode_zstd = median_time(runs, || drop(black_box(ladder.decode(&zstd_bytes, &Limits::default()).unwrap())));
    let (codec, step) = encoder.level(quality).unwrap();
    let parsed = SectionFile::parse(&bytes, &Limits::default()).unwrap();
    let file = parsed.as_single_payload(codec.latent_shape(parsed.header.width, parsed.header.height), &Limits::default()).unwrap();
    let plane = usize::from(file.header.latent.height) * usize::from(file.header.latent.width);
    let tables = codec.tables_for_step(step).unwrap();
    let latents = aec::entropy::coding::decode_range(file.latents, plane, tables).unwrap();
    let range_encode = median_time(runs, || drop(black_box(aec::entropy::coding::encode_range(&latents, plane, tables))));
    let range_decode = median_time(runs, || drop(black_box(aec::entropy::coding::decode_range(file.latents, plane, tables).unwrap())));
    let bpp = bytes.len() as f64 * 8.0 / f64::from(picture.width() * picture.height());
    println!("version-1 scale, quality {quality} ({} latent channels, {bpp:.3} bpp)", file.header.latent.channels);
    println!("  aec encode (range coder)  {:8.1} ms   {:6.1}x JPEG q75 encode+decode ({:.1} ms)", ms(encode), ms(encode) / ms(jpeg), ms(jpeg));
    println!("  aec decode (range coder)  {:8.1} ms", ms(decode));
    println!("  aec encode (zstd coder)   {:8.1} ms   range/zstd {:.3}", ms(encode_zstd), ms(encode) / ms(encode_zstd));
    println!("  aec decode (zstd coder)   {:8.1} ms   range/zstd {:.3}", ms(decode_zstd), ms(decode) / ms(decode_zstd));
    println!(
        "  range coding alone: encode {:.2} ms ({:.1}% of aec encode), decode {:.2} ms ({:.1}% of aec decode)",
        ms(range_encode),
        100.0 * ms(range_encode) / ms(encode),
        ms(range_decode),
        100.0 * ms(range_decode) / ms(decode)
    );
    println!("  file: {} bytes with the range coder, {} with zstd", bytes.len(), zstd_bytes.len());
    let latent = file.header.latent;
    let (c, h, w) = (usize::from(latent.channels), usize::from(latent.height), usize::from(latent.width));
    let values: Vec<f32> = latents.iter().map(|&v| f32::from(v) * f32::from(step) / 256.0).collect();
    let device = Device::flex();
    let packed = aec::infer::Synthesis::from_model(&codec.model().synthesis).unwrap();
    let burn_synthesis = median_time(runs, || {
        let y = Tensor::<4>::from_data(TensorData::new(values.clone(), [1, c, h, w]), &device);
        drop(black_box(codec.model().synthesis.forward(y).into_data()));
    });
    let fast_synthesis = median_time(runs, || drop(black_box(packed.forward(&values, h, w))));
    let planes = aec::bench::pixels_of(picture).samples.iter().enumerate().fold(vec![0.0f32; 3 * 16 * h * 16 * w], |mut planes, (i, &v)| {
        let (pixel, channel) = (i / 3, i % 3);
        planes[channel * 256 * h * w + pixel] = f32::from(v) / 255.0;
        planes
    });
    let analysis = aec::infer::Analysis::from_model(&codec.model().analysis).unwrap();
    let burn_analysis = median_time(runs, || {
        let x = Tensor::<4>::from_data(TensorData::new(planes.clone(), [1, 3, 16 * h, 16 * w]), &device);
        drop(black_box(codec.model().analysis.forward(x).into_data()));
    });
    let fast_analysis = median_time(runs, || drop(black_box(analysis.forward(&planes, 16 * h, 16 * w))));
    println!(
        "  synthesis: burn {:.1} ms, inference layer {:.1} ms ({:.2}x faster); analysis: burn {:.1} ms, inference layer {:.1} ms ({:.2}x faster)",
        ms(burn_synthesis),
        ms(fast_synthesis),
        ms(burn_synthesis) / ms(fast_synthesis),
        ms(burn_analysis),
        ms(fast_analysis),
        ms(burn_analysis) / ms(fast_analysis)
    );
}

fn main() {
    // The binary has only the version-1 scale's decoders: its files are written by its model
    // files.
    let (ladder, encoder) = (Ladder::builtin(), Ladder::builtin_from_files(std::path::Path::new("models"), Device::flex()).expect("models/"));
    let picture = image::open("tests/fixtures/kodim23.png").expect("fixture");
    let pixels = aec::bench::pixels_of(&picture);
    let runs = 7;
    let jpeg = median_time(runs, || drop(black_box(aec::baseline::jpeg(&pixels, 75))));
    println!("768x512 photo, median of {runs} runs");
    measure(&encoder, &ladder, &picture, ladder.default_quality(), jpeg, runs);
    measure(&encoder, &ladder, &picture, ladder.max_quality(), jpeg, runs);
    let v1_options = EncodeOptions { quality: ladder.default_quality(), coder: CoderId::Range, ..EncodeOptions::default() };
    let v1_bytes = encoder.encode(&picture, &v1_options).unwrap();
    let hyper = HyperCodec::builtin().unwrap();
    for quality in [hyper.default_quality(), hyper.max_quality()] {
        measure_hyper(&hyper, &ladder, &v1_bytes, &picture, quality, jpeg, runs);
    }
}
