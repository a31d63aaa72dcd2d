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
    let net = aec::entropy::intnet::IntNet::from_bytes(&std::fs::read(std::path::Path::new(model).with_extension("hsi"))?)?;
    let (zh, zw) = (picture.height().div_ceil(64) as usize, picture.width().div_ceil(64) as usize);
    let z: Vec<i16> = (0..net.inputs() * zh * zw).map(|i| (i % 5) as i16 - 2).collect();
    let t = Instant::now();
    for _ in 0..runs {
        std::hint::black_box(net.forward(&z, zh, zw));
    }
    let hyper_synthesis = t.elapsed().as_secs_f64();
    println!("{}x{} at quality {quality}: {} bytes", picture.width(), picture.height(), bytes.len());
    println!("model load        {:8.1} ms (once)", load.as_secs_f64() * 1000.0);
    println!("parse             {:8.2} ms", ms(parse));
    let share = |part: f64| 100.0 * part / total;
    println!("entropy layer     {:8.1} ms (z decode, integer h_s, y decode; {:.1}% of the decode)", ms(entropy), share(entropy));
    println!("  integer h_s     {:8.1} ms ({:.1}%)", ms(hyper_synthesis), share(hyper_synthesis));
    let coding = (entropy - hyper_synthesis).max(0.0);
    println!("  z and y coding  {:8.1} ms ({:.1}%: range decoding and table indices, the rest of the entropy layer)", ms(coding), share(coding));
    // The parts of the y coding: table indices, range decoding, and the re-encoding that
    // checks the payload is exactly the encoder's (the format's rule).
    let file = SectionFile::parse(&bytes, &Limits::default())?;
    let (z, q, _) = codec.decode_latents(&file, &Limits::default())?;
    let (zh, zw) = (file.header.height.div_ceil(64) as usize, file.header.width.div_ceil(64) as usize);
    let params = net.forward(&z, zh, zw);
    let log_scales = &params[q.len()..];
    let payload = file.section(aec::format::SectionKind::Latents).ok_or("no latents")?;
    let timed = |f: &mut dyn FnMut()| {
        let t = Instant::now();
        for _ in 0..runs {
            f();
        }
        ms(t.elapsed().as_secs_f64())
    };
    let mut indices = Vec::new();
    let index_ms = timed(&mut || indices = log_scales.iter().map(|&s| aec::entropy::gaussian::table_index(s)).collect());
    let decode_ms = timed(&mut || {
        std::hint::black_box(aec::entropy::coding::decode_indexed(payload, &indices).expect("decodes"));
    });
    let encode_ms = timed(&mut || {
        std::hint::black_box(aec::entropy::coding::encode_indexed(&q, &indices));
    });
    println!(
        "    y table indices {index_ms:6.2} ms; y decode with its check {decode_ms:.2} ms (it re-encodes each value as it decodes it; the re-encoding alone takes {encode_ms:.2} ms) ({} symbols)",
        q.len()
    );
    println!("synthesis + rest  {:8.1} ms", ms(total - entropy - parse));
    println!("whole decode      {:8.1} ms", ms(total));
    Ok(())
}

/// Options for one level with the given coder, within the decoder's default limits.
fn level(quality: u8, coder: CoderId) -> EncodeOptions {
    EncodeOptions { quality, coder, limits: Limits::default(), ..EncodeOptions::default() }
}
