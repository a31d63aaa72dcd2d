//! Writes the test vectors of `format-spec/vectors/` and the fuzzing seeds of `fuzz/seeds/`
//! with the embedded default model, one with each other built-in photo model of the quality
//! scale, and one with the built-in `mnist-conv` model. Run after every change of a built-in
//! model:
//! `cargo run --release --example make_vectors`.

use std::path::Path;

use aec::codec::models::AnyCodec;
use aec::codec::{Codec, EncodeOptions, Ladder};
use aec::format::{CoderId, Limits};
use image::DynamicImage;
use sha2::{Digest, Sha256};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let photo_codec = AnyCodec::Photo(Ladder::single(Codec::embedded()?));
    let digit_codec = AnyCodec::Digits(aec::codec::models::builtin_digits("mnist-conv")?);
    let digit = image::open("tests/fixtures/mnist/digits.png")?.crop_imm(7 * 28, 0, 28, 28);
    let photo = image::open("tests/fixtures/chelsea.png")?;
    let rgb = photo.crop_imm(200, 60, 70, 50);
    let gray = DynamicImage::ImageLuma8(photo.crop_imm(100, 100, 33, 47).to_luma8());
    let mut rgba = photo.crop_imm(300, 150, 24, 16).to_rgba8();
    for (x, _, p) in rgba.enumerate_pixels_mut() {
        p[3] = (x * 10) as u8;
    }
    let rgba = DynamicImage::ImageRgba8(rgba);
    let others: Vec<(String, AnyCodec)> = aec::codec::models::BUILTIN_PHOTO[1..]
        .iter()
        .map(|b| Ok((format!("{}-rgb-70x50-q4-range", b.name), AnyCodec::Photo(Ladder::single(b.load(burn::prelude::Device::flex())?)))))
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
        let bytes = codec.encode(picture, &EncodeOptions { quality, coder })?;
        let decoded = codec.decode(&bytes, &Limits::default())?;
        let digest = Sha256::digest(decoded.as_bytes());
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        std::fs::write(vectors.join(format!("{name}.aec")), &bytes)?;
        std::fs::write(vectors.join(format!("{name}.sha256")), format!("{hex}  {name}.aec\n"))?;
        for target in ["container", "decode"] {
            let dir = Path::new("fuzz/seeds").join(target);
            std::fs::create_dir_all(&dir)?;
            std::fs::write(dir.join(format!("{name}.aec")), &bytes)?;
        }
        println!("{name}: {} bytes", bytes.len());
    }
    Ok(())
}
