//! Writes the test vectors of `format-spec/vectors/` and the fuzzing seeds of `fuzz/seeds/`
//! with the embedded default model, one with each other built-in photo model of the quality
//! scale, one with an ICC profile and EXIF data, and one with the built-in `mnist-conv` model.
//! Photo files are container version 2 (`v2-*`); the version-1 vectors, written by aec 0.1,
//! are kept as they are. Run after every change of a built-in model:
//! `cargo run --release --example make_vectors`.

use std::path::Path;

use aec::codec::registry::AnyCodec;
use aec::codec::{Codec, EncodeOptions, Ladder};
use aec::format::{CoderId, Limits, Metadata};
use image::DynamicImage;
use sha2::{Digest, Sha256};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let photo_codec = AnyCodec::Photo(Box::new(Ladder::single(Codec::embedded()?)));
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
    let others: Vec<(String, AnyCodec)> = aec::codec::registry::BUILTIN_PHOTO[1..]
        .iter()
        .map(|b| Ok((format!("{}-rgb-70x50-q4-range", b.name), AnyCodec::Photo(Box::new(Ladder::single(b.load(burn::prelude::Device::flex())?))))))
        .collect::<aec::Result<_>>()?;
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
    write_picture_seeds(&photo.crop_imm(200, 60, 12, 9))
}

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

/// Writes a vector and the SHA-256 of its decoded pixels, and the file as fuzzing seed.
/// Vectors of container version 1 are named as before and never rewritten: they are the
/// files that released versions of aec wrote. Version-2 vectors are named `v2-NAME`.
fn write_vector(codec: &AnyCodec, name: &str, bytes: &[u8]) -> Result<(), Box<dyn std::error::Error>> {
    let vectors = Path::new("format-spec/vectors");
    let v2 = aec::format::version_of(bytes)? == aec::format::VERSION_2;
    let name = if v2 { format!("v2-{name}") } else { name.to_string() };
    let path = vectors.join(format!("{name}.aec"));
    if !v2 && path.exists() {
        println!("{name}: kept (a version-1 vector is never rewritten)");
        return Ok(());
    }
    let decoded = codec.decode(bytes, &Limits::default())?;
    let digest = Sha256::digest(decoded.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    std::fs::write(&path, bytes)?;
    std::fs::write(vectors.join(format!("{name}.sha256")), format!("{hex}  {name}.aec\n"))?;
    for target in if v2 { ["sections", "decode"] } else { ["container", "decode"] } {
        let dir = Path::new("fuzz/seeds").join(target);
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join(format!("{name}.aec")), bytes)?;
    }
    println!("{name}: {} bytes", bytes.len());
    Ok(())
}
