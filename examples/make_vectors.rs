//! Writes the test vectors of `format-spec/vectors/` and the fuzzing seeds of `fuzz/seeds/`:
//! with the version-1 scale's default factorized model, one with each other built-in
//! factorized model, one with an ICC profile and EXIF data, one with the built-in `mnist-conv`
//! model, and the hyperprior vectors (with their golden latent digests) of a small model stored
//! with them (`v2-hyper-tiny-*`) and of the default model, the built-in hyperprior
//! (`v2-NAME-*`; `v2-default-*` are those of `hyper-ext`, the default of aec 0.3 to 0.7).
//! Photo files are container version 2 (`v2-*`); the version-1 vectors were
//! written by aec 0.1. A vector, once written, is never rewritten (it is a file a released aec
//! wrote): run after a new built-in model to add its vectors,
//! `cargo run --release --example make_vectors`.

use std::path::Path;

use aec::codec::registry::AnyCodec;
use aec::codec::{Codec, EncodeOptions, Ladder};
use aec::format::{CoderId, Limits, Metadata};
use aec::model::hyperprior::HyperpriorConfig;
use image::DynamicImage;
use sha2::{Digest, Sha256};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The version-1 models from their files (the built-in ones only decode).
    let v1 = |file: &str| -> aec::Result<AnyCodec> {
        Ok(AnyCodec::Photo(Box::new(Ladder::single(Codec::from_files(&Path::new("models").join(format!("{file}.bpk")), burn::prelude::Device::flex())?))))
    };
    let photo_codec = v1("default")?;
    let digit_codec = AnyCodec::Digits(aec::codec::registry::builtin_digits("mnist-conv")?);
    let digit = image::open("tests/fixtures/mnist/digits.png")?.crop_imm(7 * 28, 0, 28, 28);
    let photo = image::open("tests/fixtures/chelsea.png")?;
    let rgb = photo.crop_imm(200, 60, 70, 50);
    let gray = DynamicImage::ImageLuma8(photo.crop_imm(100, 100, 33, 47).to_luma8());
    let mut rgba = photo.crop_imm(300, 150, 24, 16).to_rgba8();
    for (x, _, p) in rgba.enumerate_pixels_mut() {
        p[3] = (x * 10) as u8;
    }
    let rgba = DynamicImage::ImageRgba8(rgba);
    let others: Vec<(String, AnyCodec)> =
        aec::codec::registry::BUILTIN_PHOTO[1..].iter().map(|b| Ok((format!("{}-rgb-70x50-q4-range", b.name), v1(b.file)?))).collect::<aec::Result<_>>()?;
    let mut cases = vec![
        ("rgb-70x50-q4-range", &photo_codec, &rgb, 4, CoderId::Range),
        ("rgb-70x50-q1-range", &photo_codec, &rgb, 1, CoderId::Range),
        ("rgb-70x50-q4-zstd", &photo_codec, &rgb, 4, CoderId::Zstd),
        ("gray-33x47-q5-range", &photo_codec, &gray, 5, CoderId::Range),
        ("rgba-24x16-q3-range", &photo_codec, &rgba, 3, CoderId::Range),
        ("mnist-conv-28x28-q4-zstd", &digit_codec, &digit, 4, CoderId::Zstd),
    ];
    cases.extend(others.iter().map(|(name, codec)| (name.as_str(), codec, &rgb, 4, CoderId::Range)));
    let vectors = Path::new("format-spec/vectors");
    std::fs::create_dir_all(vectors)?;
    for (name, codec, picture, quality, coder) in cases {
        let bytes = codec.encode(picture, &EncodeOptions { quality, coder, ..EncodeOptions::default() })?;
        write_vector(codec, name, &bytes)?;
    }
    // A photo with an ICC profile and EXIF data kept in ancillary sections.
    let metadata = Metadata { icc: Some(b"an ICC profile, kept byte for byte".to_vec()), exif: Some(b"MM\0*\0\0\0\x08\0\0\0\0\0\0".to_vec()) };
    let bytes = photo_codec.encode(&rgb, &EncodeOptions { quality: 4, coder: CoderId::Range, metadata, ..EncodeOptions::default() })?;
    write_vector(&photo_codec, "rgb-70x50-q4-range-metadata", &bytes)?;
    write_hyperprior_vectors(&rgb, &rgba)?;
    let layered = (photo.crop_imm(150, 100, 128, 96), DynamicImage::ImageLuma8(photo.crop_imm(220, 120, 96, 64).to_luma8()));
    write_default_vectors(&rgb, &gray, &rgba, &layered)?;
    write_layer_seeds()?;
    write_picture_seeds(&photo.crop_imm(200, 60, 12, 9))
}

/// Writes the restoration filters and residual layers of the `-layers` vectors as seeds of the
/// `layers` fuzz target: a byte whose low bit says 3 channels, the picture's width and height
/// less one (modulo 128, as the target reads them), then the section's payload.
fn write_layer_seeds() -> Result<(), Box<dyn std::error::Error>> {
    let dir = Path::new("fuzz/seeds/layers");
    std::fs::create_dir_all(dir)?;
    let mut count = 0;
    for entry in std::fs::read_dir("format-spec/vectors")? {
        let path = entry?.path();
        let name = path.file_stem().and_then(|s| s.to_str()).unwrap_or_default().to_string();
        if !(name.contains("-layers") && path.extension().is_some_and(|e| e == "aec")) {
            continue;
        }
        let bytes = std::fs::read(&path)?;
        let file = aec::format::SectionFile::parse(&bytes, &Limits::default())?;
        let h = &file.header;
        let head = [u8::from(h.color != aec::format::ColorModel::Gray), ((h.width - 1) % 128) as u8, ((h.height - 1) % 128) as u8];
        for (kind, label) in [(aec::format::SectionKind::Restoration, "restoration"), (aec::format::SectionKind::Residual, "residual")] {
            let payload = file.section(kind).ok_or_else(|| format!("{name}: no {label} section"))?;
            std::fs::write(dir.join(format!("{name}-{label}.bin")), [&head[..], payload].concat())?;
            count += 1;
        }
    }
    println!("{count} layer seeds");
    Ok(())
}

/// The version-2 vectors of the default model (the built-in hyperprior, with their golden
/// latent digests), named after it: `hyper-ext`'s (`v2-default-*`) are files aec 0.3 wrote by
/// default, one at the top level of aec 0.4, one with the latents in two streams (aec 0.5), an
/// RGB and a gray one with a restoration filter and a residual layer (aec 0.6; larger crops,
/// `layered`: the encoder adds neither to a picture under 4096 pixels), and the same two with
/// the residual layer's version 2 (aec 0.7); `hyper-light`'s (`v2-hyper-light-*`, aec 0.8)
/// the same pictures at the same levels (its two `-layers` with the residual layer's version the
/// encoder chose). Never rewritten.
fn write_default_vectors(
    rgb: &DynamicImage,
    gray: &DynamicImage,
    rgba: &DynamicImage,
    layered: &(DynamicImage, DynamicImage),
) -> Result<(), Box<dyn std::error::Error>> {
    let codec = AnyCodec::open("default")?;
    let photo = codec.photo().expect("a photo model");
    let default = f64::from(photo.default_quality());
    let name = aec::codec::registry::default_hyper().name;
    // (`hyper-ext`'s were `default-` with the same pictures and levels, and its `-layers` and
    // `-layers2` pair pinned the residual layer's versions 1 and 2.)
    let cases: [(String, &DynamicImage, f64, CoderId); 8] = [
        (format!("{name}-rgb-70x50-q{default}-range"), rgb, default, CoderId::Range),
        (format!("{name}-rgb-70x50-q2.5-zstd"), rgb, 2.5, CoderId::Zstd),
        (format!("{name}-gray-33x47-q28-range"), gray, 28.0, CoderId::Range),
        (format!("{name}-rgba-24x16-q9-range"), rgba, 9.0, CoderId::Range),
        (format!("{name}-rgb-70x50-q33-range"), rgb, 33.0, CoderId::Range),
        (format!("{name}-rgb-70x50-q20-range-streams"), rgb, 20.0, CoderId::Range),
        // The residual layer of whichever version the encoder chooses (1 on these crops).
        (format!("{name}-rgb-128x96-q28-range-layers"), &layered.0, 28.0, CoderId::Range),
        (format!("{name}-gray-96x64-q28-range-layers"), &layered.1, 28.0, CoderId::Range),
    ];
    let hyper = aec::codec::hyper::HyperCodec::builtin()?;
    for (name, picture, quality, coder) in cases {
        if Path::new(&format!("format-spec/vectors/v2-{name}.aec")).exists() {
            println!("v2-{name}: kept (a vector is never rewritten)");
            continue;
        }
        let bytes = photo.encode_fraction(picture, quality, &EncodeOptions { coder, ..EncodeOptions::default() })?;
        let file = aec::format::SectionFile::parse(&bytes, &Limits::default())?;
        let layers = [aec::format::SectionKind::Restoration, aec::format::SectionKind::Residual].map(|kind| file.section(kind).is_some());
        if layers != [name.contains("-layers"); 2] {
            return Err(format!("v2-{name}: a restoration filter or residual layer where none was meant, or none where both were").into());
        }
        write_vector(&codec, &name, &bytes)?;
        let digest = aec::codec::hyper::latents_digest(&hyper.decode_latents(&file, &Limits::default())?);
        std::fs::write(format!("format-spec/vectors/v2-{name}.latents.sha256"), format!("{digest}  v2-{name}.aec\n"))?;
    }
    Ok(())
}

/// The version-2 vectors of the hyperprior family (architecture 2), made by a small seeded
/// model whose files live beside them (`models/hyper-tiny.*`).
/// Model and vectors, once written, are never rewritten: they are part of the specification.
/// Each vector also gets `NAME.latents.sha256`, the digest of its decoded integers.
fn write_hyperprior_vectors(rgb: &DynamicImage, rgba: &DynamicImage) -> Result<(), Box<dyn std::error::Error>> {
    let weights = Path::new(HYPER_TINY);
    if !weights.exists() {
        std::fs::create_dir_all(weights.parent().expect("a folder"))?;
        let config = HyperpriorConfig::new(vec![0.004, 0.02, 0.1]).with_hidden(8).with_latent(16).with_hyper_hidden(8).with_hyper_latent(8);
        let device = burn::prelude::Device::flex();
        device.seed(2026);
        aec::train::hyperprior::export(&config.init(&device), &config, aec::entropy::intnet::WEIGHT_BITS, weights)?;
    }
    let codec = AnyCodec::from_files(weights)?;
    let photo = codec.photo().expect("a photo model");
    let cases: [(&str, &DynamicImage, f64, CoderId); 5] = [
        ("hyper-tiny-rgb-70x50-q3-range", rgb, 3.0, CoderId::Range),
        ("hyper-tiny-rgb-70x50-q5.5-zstd", rgb, 5.5, CoderId::Zstd),
        ("hyper-tiny-rgba-24x16-q7-range", rgba, 7.0, CoderId::Range),
        // aec 0.4: the top level, rate 683, beyond the top trained one (extrapolated gains).
        ("hyper-tiny-rgb-70x50-q9-range", rgb, 9.0, CoderId::Range),
        // aec 0.5: the latents in two streams (section kind 4).
        ("hyper-tiny-rgb-70x50-q4-range-streams", rgb, 4.0, CoderId::Range),
    ];
    for (name, picture, quality, coder) in cases {
        if Path::new(&format!("format-spec/vectors/v2-{name}.aec")).exists() {
            println!("v2-{name}: kept (a vector is never rewritten)");
            continue;
        }
        let bytes = photo.encode_fraction(picture, quality, &EncodeOptions { coder, ..EncodeOptions::default() })?;
        write_vector(&codec, name, &bytes)?;
        let hyper = aec::codec::hyper::HyperCodec::from_files(weights, burn::prelude::Device::flex())?;
        let file = aec::format::SectionFile::parse(&bytes, &Limits::default())?;
        let digest = aec::codec::hyper::latents_digest(&hyper.decode_latents(&file, &Limits::default())?);
        std::fs::write(format!("format-spec/vectors/v2-{name}.latents.sha256"), format!("{digest}  v2-{name}.aec\n"))?;
    }
    Ok(())
}

/// Where the hyperprior vectors' model lives.
const HYPER_TINY: &str = "format-spec/vectors/models/hyper-tiny.bpk";

/// Writes a small picture in every input format as seeds of the `picture` fuzz target.
fn write_picture_seeds(picture: &DynamicImage) -> Result<(), Box<dyn std::error::Error>> {
    use image::ImageFormat::*;
    let dir = Path::new("fuzz/seeds/picture");
    std::fs::create_dir_all(dir)?;
    let rgba = DynamicImage::ImageRgba8(picture.to_rgba8());
    let gray = DynamicImage::ImageLuma8(picture.to_luma8());
    let cases = [
        ("rgb.png", picture, Png),
        ("rgba.png", &rgba, Png),
        ("gray.png", &gray, Png),
        ("rgb.jpg", picture, Jpeg),
        ("gray.jpg", &gray, Jpeg),
        ("rgb.webp", picture, WebP),
        ("rgb.tiff", picture, Tiff),
        ("rgb.gif", &rgba, Gif),
        ("rgb.bmp", picture, Bmp),
        ("rgb.ppm", picture, Pnm),
        ("gray.pgm", &gray, Pnm),
    ];
    for (name, picture, format) in cases {
        let mut bytes = std::io::Cursor::new(Vec::new());
        picture.write_to(&mut bytes, format)?;
        std::fs::write(dir.join(name), bytes.into_inner())?;
    }
    println!("{} picture seeds", cases.len());
    Ok(())
}

/// Writes a vector, its decoded picture (`NAME.png`, the reference) and the SHA-256 of its
/// pixels, and the file as fuzzing seed. A vector that exists is never rewritten: it is a file
/// that a released aec wrote. Version-2 vectors are named `v2-NAME`.
fn write_vector(codec: &AnyCodec, name: &str, bytes: &[u8]) -> Result<(), Box<dyn std::error::Error>> {
    let vectors = Path::new("format-spec/vectors");
    let v2 = aec::format::version_of(bytes)? == aec::format::VERSION_2;
    let name = if v2 { format!("v2-{name}") } else { name.to_string() };
    let path = vectors.join(format!("{name}.aec"));
    if path.exists() {
        println!("{name}: kept (a vector is never rewritten: it is a file a released aec wrote)");
        return Ok(());
    }
    let decoded = codec.decode(bytes, &Limits::default())?;
    let digest = Sha256::digest(decoded.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    std::fs::write(&path, bytes)?;
    std::fs::write(vectors.join(format!("{name}.sha256")), format!("{hex}  {name}.aec\n"))?;
    decoded.save(vectors.join(format!("{name}.png")))?; // the reference picture the digest pins
    for target in if v2 { ["sections", "decode"] } else { ["container", "decode"] } {
        let dir = Path::new("fuzz/seeds").join(target);
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join(format!("{name}.aec")), bytes)?;
    }
    println!("{name}: {} bytes", bytes.len());
    Ok(())
}
