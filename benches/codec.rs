//! `cargo bench`: encode and decode time of a 768x512 photo at the default level and at the
//! top level of the built-in quality scale, the share of entropy coding in it, against the
//! `image` crate's JPEG encoder in the same run (machines are noisy: compare the ratios, not
//! the seconds).

use std::hint::black_box;
use std::time::{Duration, Instant};

use aec::codec::{EncodeOptions, Ladder, PhotoCodec};
use aec::format::{CoderId, Limits};
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

/// Times one level with both coders, and the range coder alone on the file's own latents.
fn measure(ladder: &Ladder, picture: &DynamicImage, quality: u8, jpeg: Duration, runs: usize) {
    let options = EncodeOptions { quality, coder: CoderId::Range, ..EncodeOptions::default() };
    let zstd = EncodeOptions { coder: CoderId::Zstd, ..options.clone() };
    let bytes = ladder.encode(picture, &options).unwrap();
    let zstd_bytes = ladder.encode(picture, &zstd).unwrap();
    let encode = median_time(runs, || drop(black_box(ladder.encode(picture, &options).unwrap())));
    let encode_zstd = median_time(runs, || drop(black_box(ladder.encode(picture, &zstd).unwrap())));
    let decode = median_time(runs, || drop(black_box(ladder.decode(&bytes, &Limits::default()).unwrap())));
    let decode_zstd = median_time(runs, || drop(black_box(ladder.decode(&zstd_bytes, &Limits::default()).unwrap())));
    let file = aec::format::AecFile::parse(&bytes, &Limits::default()).unwrap();
    let plane = usize::from(file.header.latent.height) * usize::from(file.header.latent.width);
    let (codec, step) = ladder.level(quality).unwrap();
    let tables = codec.tables_for_step(step).unwrap();
    let latents = aec::entropy::coding::decode_range(file.latents, plane, tables).unwrap();
    let range_encode = median_time(runs, || drop(black_box(aec::entropy::coding::encode_range(&latents, plane, tables))));
    let range_decode = median_time(runs, || drop(black_box(aec::entropy::coding::decode_range(file.latents, plane, tables).unwrap())));
    let bpp = bytes.len() as f64 * 8.0 / f64::from(picture.width() * picture.height());
    println!("quality {quality} ({} latent channels, {bpp:.3} bpp)", file.header.latent.channels);
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
}

fn main() {
    let ladder = Ladder::builtin();
    let picture = image::open("tests/fixtures/kodim23.png").expect("fixture");
    let pixels = aec::bench::pixels_of(&picture);
    let runs = 7;
    let jpeg = median_time(runs, || drop(black_box(aec::baseline::jpeg(&pixels, 75))));
    println!("768x512 photo, median of {runs} runs");
    for quality in [ladder.default_quality(), ladder.max_quality()] {
        measure(&ladder, &picture, quality, jpeg, runs);
    }
}
