//! The codecs aec is compared with: JPEG (the `image` crate's encoder, and libjpeg-turbo's
//! `cjpeg` when it is on PATH), WebP (libwebp through the `webp` crate), and the lossless
//! baselines gzip -9 and zstd -19 of the raw samples, and PNG.

use std::io::{Cursor, Read, Write};
use std::process::{Command, Stdio};
use std::time::Instant;

use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use image::{ExtendedColorType, ImageEncoder};

use crate::codec::pixels::Pixels;

/// The result of one encode/decode of a picture.
#[derive(Debug, Clone)]
pub struct Coded {
    /// Size of the compressed data.
    pub bytes: usize,
    /// Decoded samples, same layout as the input.
    pub decoded: Vec<u8>,
    /// Seconds to encode.
    pub encode_seconds: f64,
    /// Seconds to decode.
    pub decode_seconds: f64,
}

fn color_type(p: &Pixels) -> ExtendedColorType {
    if p.channels == 1 { ExtendedColorType::L8 } else { ExtendedColorType::Rgb8 }
}

fn timed<T>(f: impl FnOnce() -> T) -> (T, f64) {
    let start = Instant::now();
    let out = f();
    (out, start.elapsed().as_secs_f64())
}

/// Decodes JPEG/PNG bytes to samples with the picture's channel count.
fn decode_with_image(bytes: &[u8], channels: usize) -> Option<Vec<u8>> {
    let img = image::load_from_memory(bytes).ok()?;
    Some(if channels == 1 { img.to_luma8().into_raw() } else { img.to_rgb8().into_raw() })
}

/// JPEG with the `image` crate's encoder at `quality` (1..=100).
pub fn jpeg(p: &Pixels, quality: u8) -> Option<Coded> {
    let (bytes, encode_seconds) = timed(|| {
        let mut out = Vec::new();
        JpegEncoder::new_with_quality(&mut out, quality).write_image(&p.samples, p.width as u32, p.height as u32, color_type(p)).ok().map(|()| out)
    });
    let bytes = bytes?;
    let (decoded, decode_seconds) = timed(|| decode_with_image(&bytes, p.channels));
    Some(Coded { bytes: bytes.len(), decoded: decoded?, encode_seconds, decode_seconds })
}

/// Whether libjpeg-turbo's `cjpeg` can be run.
pub fn cjpeg_available() -> bool {
    Command::new("cjpeg").arg("-version").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok()
}

/// JPEG with libjpeg-turbo's `cjpeg -quality Q -optimize` (a PPM/PGM goes in on stdin).
pub fn cjpeg(p: &Pixels, quality: u8) -> Option<Coded> {
    let magic = if p.channels == 1 { "P5" } else { "P6" };
    let mut input = format!("{magic}\n{} {}\n255\n", p.width, p.height).into_bytes();
    input.extend_from_slice(&p.samples);
    let (bytes, encode_seconds) = timed(|| {
        let mut child = Command::new("cjpeg")
            .args(["-quality", &quality.to_string(), "-optimize"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let mut stdin = child.stdin.take()?;
        let writer = std::thread::spawn(move || stdin.write_all(&input));
        let mut out = Vec::new();
        child.stdout.take()?.read_to_end(&mut out).ok()?;
        writer.join().ok()?.ok()?;
        child.wait().ok()?.success().then_some(out)
    });
    let bytes = bytes?;
    let (decoded, decode_seconds) = timed(|| decode_with_image(&bytes, p.channels));
    Some(Coded { bytes: bytes.len(), decoded: decoded?, encode_seconds, decode_seconds })
}

/// Lossy WebP (libwebp) at `quality` (0..=100). Gray pictures go in as RGB and come back
/// averaged.
pub fn webp(p: &Pixels, quality: u8) -> Option<Coded> {
    let rgb: Vec<u8> = if p.channels == 1 { p.samples.iter().flat_map(|&v| [v, v, v]).collect() } else { p.samples.clone() };
    let (bytes, encode_seconds) = timed(|| webp::Encoder::from_rgb(&rgb, p.width as u32, p.height as u32).encode(f32::from(quality)).to_vec());
    let (decoded, decode_seconds) = timed(|| {
        let image = webp::Decoder::new(&bytes).decode()?;
        let data: &[u8] = &image;
        let stride = if image.is_alpha() { 4 } else { 3 };
        Some(if p.channels == 1 {
            data.chunks_exact(stride).map(|c| ((u16::from(c[0]) + u16::from(c[1]) + u16::from(c[2]) + 1) / 3) as u8).collect()
        } else {
            data.chunks_exact(stride).flat_map(|c| [c[0], c[1], c[2]]).collect()
        })
    });
    Some(Coded { bytes: bytes.len(), decoded: decoded?, encode_seconds, decode_seconds })
}

/// gzip -9 of the raw samples.
pub fn gzip(p: &Pixels) -> Coded {
    let (bytes, encode_seconds) = timed(|| {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        enc.write_all(&p.samples).expect("in-memory write");
        enc.finish().expect("in-memory write")
    });
    let (decoded, decode_seconds) = timed(|| {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&bytes[..]).read_to_end(&mut out).expect("own gzip data");
        out
    });
    Coded { bytes: bytes.len(), decoded, encode_seconds, decode_seconds }
}

/// zstd -19 of the raw samples.
pub fn zstd19(p: &Pixels) -> Coded {
    let (bytes, encode_seconds) = timed(|| zstd::bulk::compress(&p.samples, 19).expect("in-memory zstd"));
    let (decoded, decode_seconds) = timed(|| zstd::bulk::decompress(&bytes, p.samples.len()).expect("own zstd data"));
    Coded { bytes: bytes.len(), decoded, encode_seconds, decode_seconds }
}

/// PNG at the best compression with adaptive filtering.
pub fn png(p: &Pixels) -> Coded {
    let (bytes, encode_seconds) = timed(|| {
        let mut out = Cursor::new(Vec::new());
        PngEncoder::new_with_quality(&mut out, CompressionType::Best, FilterType::Adaptive)
            .write_image(&p.samples, p.width as u32, p.height as u32, color_type(p))
            .expect("in-memory PNG");
        out.into_inner()
    });
    let (decoded, decode_seconds) = timed(|| decode_with_image(&bytes, p.channels).expect("own PNG data"));
    Coded { bytes: bytes.len(), decoded, encode_seconds, decode_seconds }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn picture() -> Pixels {
        let samples = (0..64 * 48 * 3).map(|i| ((i / 3) % 64 * 4) as u8).collect();
        Pixels { width: 64, height: 48, channels: 3, samples }
    }

    #[test]
    fn lossless_baselines_give_back_the_exact_samples() {
        let p = picture();
        for coded in [gzip(&p), zstd19(&p), png(&p)] {
            assert_eq!(coded.decoded, p.samples);
            assert!(coded.bytes < p.samples.len());
        }
    }

    #[test]
    fn lossy_baselines_decode_to_the_same_size_and_shrink_with_quality() {
        let p = picture();
        for encode in [jpeg, webp] {
            let low = encode(&p, 10).unwrap();
            let high = encode(&p, 90).unwrap();
            assert_eq!(low.decoded.len(), p.samples.len());
            assert!(low.bytes < high.bytes);
        }
    }
}
