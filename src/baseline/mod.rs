//! The codecs aec is compared with: JPEG (the `image` crate's encoder, and libjpeg-turbo's
//! `cjpeg` when it is on PATH), WebP (libwebp's `cwebp` when it is on PATH), and the lossless
//! baselines gzip -9 and zstd -19 of the raw samples, and PNG. The tools' output is decoded by
//! the `image` crate.

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

/// Decodes JPEG/PNG/WebP bytes to samples with the picture's channel count.
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

/// An external encoder that `aec bench` runs when it is installed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    /// libjpeg-turbo's `cjpeg -quality Q -optimize`.
    Cjpeg,
    /// libwebp's `cwebp -q Q` (its default method 4, as libwebp's simple encoding API).
    Cwebp,
}

impl Tool {
    /// The command's name.
    pub fn command(self) -> &'static str {
        match self {
            Tool::Cjpeg => "cjpeg",
            Tool::Cwebp => "cwebp",
        }
    }

    /// The codec's name in `aec bench`'s records.
    pub fn codec(self) -> &'static str {
        match self {
            Tool::Cjpeg => "cjpeg",
            Tool::Cwebp => "webp",
        }
    }

    /// The Debian package that installs it.
    pub fn package(self) -> &'static str {
        match self {
            Tool::Cjpeg => "libjpeg-turbo-progs",
            Tool::Cwebp => "webp",
        }
    }

    /// Whether it can be run.
    pub fn available(self) -> bool {
        Command::new(self.command()).arg("-version").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|s| s.success())
    }

    /// Its arguments to encode a PPM/PGM from standard input at `quality` to standard output.
    fn args(self, quality: u8) -> Vec<String> {
        let quality = quality.to_string();
        match self {
            Tool::Cjpeg => vec!["-quality".into(), quality, "-optimize".into()],
            Tool::Cwebp => ["-quiet", "-q", &quality, "-o", "-", "--", "-"].map(String::from).to_vec(),
        }
    }

    /// Encodes `p` at `quality` (a PPM or PGM goes in on standard input) and decodes the result
    /// with the `image` crate; `None` if the tool fails.
    pub fn code(self, p: &Pixels, quality: u8) -> Option<Coded> {
        let magic = if p.channels == 1 { "P5" } else { "P6" };
        let mut input = format!("{magic}\n{} {}\n255\n", p.width, p.height).into_bytes();
        input.extend_from_slice(&p.samples);
        let (bytes, encode_seconds) = timed(|| {
            let mut child =
                Command::new(self.command()).args(self.args(quality)).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().ok()?;
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
        // Texture on the ramps: on smooth ramps alone cjpeg's coarsest tables cost more bytes.
        let mut p = picture();
        p.samples.iter_mut().enumerate().for_each(|(i, v)| *v = v.wrapping_add((i as u32).wrapping_mul(2_654_435_761) as u8 >> 3));
        let tools: Vec<Tool> = [Tool::Cjpeg, Tool::Cwebp].into_iter().filter(|tool| tool.available()).collect();
        let coded = |tool: Option<Tool>, quality| tool.map_or_else(|| jpeg(&p, quality), |tool| tool.code(&p, quality));
        for tool in std::iter::once(None).chain(tools.into_iter().map(Some)) {
            let (low, high) = (coded(tool, 10).unwrap(), coded(tool, 90).unwrap());
            assert_eq!(low.decoded.len(), p.samples.len());
            assert!(low.bytes < high.bytes);
        }
    }
}
