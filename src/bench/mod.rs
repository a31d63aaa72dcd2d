//! `aec bench`: aec side by side with JPEG, WebP and the lossless baselines on a folder of
//! pictures — bytes, bits per pixel, PSNR, MS-SSIM, encode and decode time — aggregated per
//! quality level as the literature does, with Bjøntegaard deltas against each lossy baseline.

pub mod bd;
pub mod digits;
pub mod features;
pub mod plot;
pub mod report;

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

use image::DynamicImage;
use indicatif::ProgressBar;
use serde::Serialize;

use crate::baseline::{self, Coded};
use crate::codec::pixels::Pixels;
use crate::codec::refine::Refinement;
use crate::codec::{EncodeOptions, PhotoCodec};
use crate::error::{Error, Result};
use crate::format::{Limits, SECTION_ENTRY_LEN, SectionFile, SectionKind};
use crate::metrics;

/// JPEG and WebP qualities measured.
pub const BASELINE_QUALITIES: [u8; 10] = [5, 15, 25, 35, 45, 55, 65, 75, 85, 95];

/// What to measure.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// Threads working on different pictures at once.
    pub jobs: usize,
    /// The external encoders to measure beside the `image` crate's JPEG (`cjpeg`, `cwebp`:
    /// those installed).
    pub tools: Vec<baseline::Tool>,
    /// Measure JPEG, WebP and the lossless codecs beside aec (else aec alone).
    pub baselines: bool,
    /// Show a progress bar.
    pub progress: bool,
    /// The aec quality levels measured.
    pub levels: Vec<u8>,
    /// How aec refines its latents (none: the encoder's default).
    pub refinement: Refinement,
    /// Whether aec's encoder fits restoration filters (as by default).
    pub restoration: bool,
    /// Whether aec's encoder codes residual layers (as by default).
    pub residual: bool,
}

/// One codec at one setting on one picture.
#[derive(Debug, Clone, Serialize)]
pub struct Record {
    /// File name of the picture.
    pub image: String,
    /// Codec name (`aec`, `jpeg`, `cjpeg`, `webp`, `png`, `gzip`, `zstd`).
    pub codec: String,
    /// Quality setting (0 for lossless codecs).
    pub quality: u8,
    /// Compressed size.
    pub bytes: usize,
    /// Bits per pixel.
    pub bpp: f64,
    /// PSNR in dB over all samples (infinite when lossless).
    pub psnr: f64,
    /// MS-SSIM (absent for pictures under 161 pixels on a side).
    pub ms_ssim: Option<f64>,
    /// Seconds to encode.
    pub encode_seconds: f64,
    /// Seconds to decode.
    pub decode_seconds: f64,
    /// For aec: the size the entropy model predicts (ideal code length plus container).
    pub estimated_bytes: Option<f64>,
}

/// Loads the pictures of a folder (or a single picture).
///
/// # Errors
/// I/O and image errors; [`Error::InvalidArgument`] if there is no picture.
pub fn load_pictures(path: &Path) -> Result<Vec<(String, DynamicImage)>> {
    let paths: Vec<PathBuf> = if path.is_dir() { crate::pictures::list_images(path)? } else { vec![path.to_path_buf()] };
    if paths.is_empty() {
        return Err(Error::InvalidArgument(format!("no PNG/JPEG/PPM/WebP picture in {}", path.display())));
    }
    paths
        .into_iter()
        .map(|p| {
            let picture = image::open(&p).map_err(|e| Error::image(&p, e))?;
            let name = p.file_name().map_or_else(|| p.display().to_string(), |n| n.to_string_lossy().into_owned());
            Ok((name, picture))
        })
        .collect()
}

/// Gray or RGB samples of a picture (alpha dropped: every codec is measured on colour).
pub fn pixels_of(picture: &DynamicImage) -> Pixels {
    let (width, height) = (picture.width() as usize, picture.height() as usize);
    if picture.color().has_color() {
        Pixels { width, height, channels: 3, samples: picture.to_rgb8().into_raw() }
    } else {
        Pixels { width, height, channels: 1, samples: picture.to_luma8().into_raw() }
    }
}

fn record(image: &str, codec: &str, quality: u8, p: &Pixels, coded: &Coded) -> Record {
    Record {
        image: image.to_string(),
        codec: codec.to_string(),
        quality,
        bytes: coded.bytes,
        bpp: coded.bytes as f64 * 8.0 / (p.width * p.height) as f64,
        psnr: metrics::psnr(&p.samples, &coded.decoded),
        ms_ssim: metrics::ms_ssim(&p.samples, &coded.decoded, p.width, p.height, p.channels),
        encode_seconds: coded.encode_seconds,
        decode_seconds: coded.decode_seconds,
        estimated_bytes: None,
    }
}

/// Encodes a picture with aec as `options` say and decodes it.
///
/// # Errors
/// Any codec error.
pub fn aec_coded(codec: &dyn PhotoCodec, picture: &DynamicImage, options: &EncodeOptions) -> Result<Coded> {
    Ok(aec_file(codec, picture, options)?.0)
}

/// As [`aec_coded`], with the bytes of the file's restoration filter and residual layer (their
/// sections and table entries; 0 without them).
fn aec_file(codec: &dyn PhotoCodec, picture: &DynamicImage, options: &EncodeOptions) -> Result<(Coded, usize)> {
    let start = Instant::now();
    let bytes = codec.encode(picture, options)?;
    let encode_seconds = start.elapsed().as_secs_f64();
    let start = Instant::now();
    let decoded = pixels_of(&codec.decode(&bytes, &Limits::default())?).samples;
    let coded = Coded { bytes: bytes.len(), decoded, encode_seconds, decode_seconds: start.elapsed().as_secs_f64() };
    let parsed = SectionFile::parse(&bytes, &Limits::largest()).ok();
    let layers = [SectionKind::Restoration, SectionKind::Residual]
        .into_iter()
        .filter_map(|kind| parsed.as_ref()?.section(kind))
        .map(|payload| payload.len() + SECTION_ENTRY_LEN)
        .sum();
    Ok((coded, layers))
}

/// Every measurement of one picture.
fn measure_picture(codec: &dyn PhotoCodec, name: &str, picture: &DynamicImage, options: &BenchOptions, bar: &ProgressBar) -> Result<Vec<Record>> {
    let p = pixels_of(picture);
    let mut out = Vec::new();
    // aec sees the same gray/RGB samples as the baselines.
    let input = match p.channels {
        1 => DynamicImage::ImageLuma8(image::GrayImage::from_raw(p.width as u32, p.height as u32, p.samples.clone()).expect("sizes match")),
        _ => DynamicImage::ImageRgb8(image::RgbImage::from_raw(p.width as u32, p.height as u32, p.samples.clone()).expect("sizes match")),
    };
    // The estimates are of latents as the analysis gives them: a refined file is not compared.
    let estimates = if options.refinement.steps == 0 { Some(codec.estimated_sizes(&input, options.residual)?) } else { None };
    for &quality in &options.levels {
        let (coded, layer_bytes) = aec_file(
            codec,
            &input,
            &EncodeOptions {
                quality,
                refinement: options.refinement.clone(),
                restoration: options.restoration,
                residual: options.residual,
                ..EncodeOptions::default()
            },
        )?;
        let mut r = record(name, "aec", quality, &p, &coded);
        // The estimate is of a file without a restoration filter or residual layer: their
        // bytes are known.
        r.estimated_bytes = estimates.as_ref().and_then(|e| e.get(usize::from(quality) - 1)).map(|e| e + layer_bytes as f64);
        out.push(r);
        bar.inc(1);
    }
    if options.baselines {
        measure_baselines(name, &p, options, bar, &mut out);
    }
    Ok(out)
}

/// JPEG, and libjpeg-turbo and WebP where installed, at every quality of [`BASELINE_QUALITIES`], and the lossless codecs.
fn measure_baselines(name: &str, p: &Pixels, options: &BenchOptions, bar: &ProgressBar, out: &mut Vec<Record>) {
    for quality in BASELINE_QUALITIES {
        if let Some(c) = baseline::jpeg(p, quality) {
            out.push(record(name, "jpeg", quality, p, &c));
        }
        for &tool in &options.tools {
            if let Some(c) = tool.code(p, quality) {
                out.push(record(name, tool.codec(), quality, p, &c));
            }
        }
        bar.inc(1);
    }
    out.push(record(name, "png", 0, p, &baseline::png(p)));
    out.push(record(name, "gzip", 0, p, &baseline::gzip(p)));
    out.push(record(name, "zstd", 0, p, &baseline::zstd19(p)));
    bar.inc(1);
}

/// Measures every codec on every picture, `options.jobs` pictures at a time.
///
/// # Errors
/// The first codec error met.
pub fn run(codec: &dyn PhotoCodec, pictures: &[(String, DynamicImage)], options: &BenchOptions) -> Result<Vec<Record>> {
    let baseline_steps = if options.baselines { BASELINE_QUALITIES.len() as u64 + 1 } else { 0 };
    let steps_per_picture = options.levels.len() as u64 + baseline_steps;
    let bar = crate::progress::bar(steps_per_picture * pictures.len() as u64, options.progress);
    let next = Mutex::new(0usize);
    let results = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..options.jobs.max(1) {
            scope.spawn(|| {
                loop {
                    let i = {
                        let mut n = next.lock().expect("no panics while held");
                        *n += 1;
                        *n - 1
                    };
                    let Some((name, picture)) = pictures.get(i) else {
                        break;
                    };
                    bar.set_message(name.clone());
                    let r = measure_picture(codec, name, picture, options, &bar);
                    results.lock().expect("no panics while held").push((i, r));
                }
            });
        }
    });
    bar.finish_and_clear();
    let mut results = results.into_inner().expect("threads are done");
    results.sort_by_key(|(i, _)| *i);
    let mut records = Vec::new();
    for (_, r) in results {
        records.extend(r?);
    }
    Ok(records)
}
