//! `aec eval-mnist`: the tutorial autoencoders measured on the MNIST test digits — the
//! network's MSE and PSNR, the same after going through an `.aec` file, the bytes per digit —
//! beside gzip, PNG and JPEG of the same digits, and a picture grid of originals, noisy inputs
//! and reconstructions.

use image::{GrayImage, Luma};
use rand::SeedableRng;
use rand::rngs::StdRng;

use crate::baseline::{self, Coded};
use crate::codec::digits::{DigitCodec, quality_step};
use crate::codec::pixels::{self, Pixels};
use crate::error::{Error, Result};
use crate::mnist::{Digits, PIXELS, SIDE, add_noise};

/// Digits run through a network at once.
const BATCH: usize = 500;
/// Seed of the noise added to the test digits, so that every run sees the same noisy inputs.
const NOISE_SEED: u64 = 2017;

/// One line of the evaluation table.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DigitRow {
    /// Model or baseline name.
    pub name: String,
    /// Standard deviation of the noise on the inputs (0 for clean inputs).
    pub noise: f32,
    /// Per-pixel MSE (0..1 scale) of the noisy input against the clean digit, if noisy.
    pub input_mse: Option<f64>,
    /// Per-pixel MSE of the network's output (unquantized) against the clean digit.
    pub mse: f64,
    /// Per-pixel MSE of the picture decoded from the `.aec` file (or the baseline's file).
    pub file_mse: f64,
    /// Mean size of one digit's file in bytes (container or format overhead included).
    pub bytes_per_digit: f64,
    /// Mean size of the coded data alone (without the 52 bytes of `.aec` header and checksum),
    /// for the models.
    pub payload_bytes: Option<f64>,
}

/// PSNR in dB of a per-pixel MSE on the 0..1 scale.
pub fn psnr01(mse: f64) -> f64 {
    crate::metrics::psnr_from_mse(mse * 255.0 * 255.0)
}

/// What [`evaluate`] returns: the table, plus the reconstructions drawn in the grid.
pub struct DigitReport {
    /// One row per model and baseline.
    pub rows: Vec<DigitRow>,
    /// Rows of the picture grid: a label and 10 digits (0 to 9) as 784 bytes each.
    pub grid: Vec<(String, Vec<Vec<u8>>)>,
}

fn mse01(a: &[f32], b: &[f32]) -> f64 {
    a.iter().zip(b).map(|(x, y)| f64::from(x - y).powi(2)).sum::<f64>() / a.len() as f64
}

fn to_u8(v: &[f32]) -> Vec<u8> {
    v.iter().map(|&x| pixels::to_u8(x)).collect()
}

fn to_f32(v: &[u8]) -> Vec<f32> {
    v.iter().map(|&x| f32::from(x) / 255.0).collect()
}

/// The first test digit of every class, 0 to 9.
fn one_of_each(digits: &Digits) -> Vec<usize> {
    (0..10u8).filter_map(|d| digits.labels.iter().position(|&l| l == d)).collect()
}

/// Runs every model on `digits` (noisy copies for the denoisers), codes them at quality level
/// `quality`, and measures the baselines.
///
/// # Errors
/// Model errors.
pub fn evaluate(models: &[(String, DigitCodec)], digits: &Digits, quality: u8) -> Result<DigitReport> {
    if digits.is_empty() {
        return Err(Error::InvalidArgument("no test digits".into()));
    }
    let clean = digits.floats(0..digits.len());
    let picks = one_of_each(digits);
    let pick = |v: &[f32]| -> Vec<Vec<u8>> { picks.iter().map(|&i| to_u8(&v[i * PIXELS..(i + 1) * PIXELS])).collect() };
    let mut grid = vec![("original".to_string(), pick(&clean))];
    let mut rows = Vec::new();
    for (name, model) in models {
        let noise = model.settings().noise;
        let input = add_noise(&clean, noise, &mut StdRng::seed_from_u64(NOISE_SEED));
        let measured = run_model(model, &input, &clean, quality)?;
        if noise > 0.0 {
            grid.push((format!("noisy σ={noise}"), pick(&input)));
        }
        grid.push((name.clone(), pick(&measured.output)));
        rows.push(DigitRow {
            name: name.clone(),
            noise,
            input_mse: (noise > 0.0).then(|| mse01(&input, &clean)),
            mse: mse01(&measured.output, &clean),
            file_mse: measured.file_mse,
            bytes_per_digit: measured.file_bytes,
            payload_bytes: Some(measured.payload_bytes),
        });
    }
    rows.extend(baselines(digits));
    Ok(DigitReport { rows, grid })
}

struct ModelMeasure {
    output: Vec<f32>,
    file_mse: f64,
    file_bytes: f64,
    payload_bytes: f64,
}

fn run_model(model: &DigitCodec, input: &[f32], clean: &[f32], quality: u8) -> Result<ModelMeasure> {
    let count = input.len() / PIXELS;
    let step = f32::from(quality_step(quality)?) / 256.0;
    let (mut output, mut decoded) = (Vec::with_capacity(input.len()), Vec::with_capacity(input.len()));
    let (mut file_bytes, mut payload_bytes) = (0usize, 0usize);
    let overhead = crate::format::HEADER_LEN + crate::format::CHECKSUM_LEN;
    for start in (0..count).step_by(BATCH) {
        let n = BATCH.min(count - start);
        let batch = &input[start * PIXELS..(start + n) * PIXELS];
        let (reconstructed, codes, shape) = model.reconstruct_and_quantize(batch, n, SIDE, SIDE, quality)?;
        output.extend(reconstructed);
        for code in &codes {
            let file = model.pack(code, shape, SIDE, SIDE, quality)?;
            file_bytes += file.len();
            payload_bytes += file.len() - overhead;
        }
        // What a decoder of the files shows: the network's output rounded to 8 bits.
        decoded.extend(to_f32(&to_u8(&model.decode_codes(&codes, shape, step)?)));
    }
    Ok(ModelMeasure {
        file_mse: mse01(&decoded, clean),
        output,
        file_bytes: file_bytes as f64 / count as f64,
        payload_bytes: payload_bytes as f64 / count as f64,
    })
}

/// gzip, zstd, PNG and JPEG (the `image` crate, qualities 50 and 90) of each clean digit.
fn baselines(digits: &Digits) -> Vec<DigitRow> {
    type Coder = Box<dyn Fn(&Pixels) -> Option<Coded>>;
    let coders: Vec<(&str, Coder)> = vec![
        ("gzip -9", Box::new(|p| Some(baseline::gzip(p)))),
        ("zstd -19", Box::new(|p| Some(baseline::zstd19(p)))),
        ("PNG", Box::new(|p| Some(baseline::png(p)))),
        ("JPEG q50", Box::new(|p| baseline::jpeg(p, 50))),
        ("JPEG q90", Box::new(|p| baseline::jpeg(p, 90))),
    ];
    coders
        .into_iter()
        .map(|(name, code)| {
            let (mut bytes, mut squared, mut n) = (0usize, 0.0, 0usize);
            for i in 0..digits.len() {
                let p = Pixels { width: SIDE, height: SIDE, channels: 1, samples: digits.digit(i).to_vec() };
                if let Some(coded) = code(&p) {
                    bytes += coded.bytes;
                    squared += mse01(&to_f32(&coded.decoded), &to_f32(&p.samples));
                    n += 1;
                }
            }
            let n_f = n.max(1) as f64;
            DigitRow {
                name: name.into(),
                noise: 0.0,
                input_mse: None,
                mse: squared / n_f,
                file_mse: squared / n_f,
                bytes_per_digit: bytes as f64 / n_f,
                payload_bytes: None,
            }
        })
        .collect()
}

/// The table as Markdown.
pub fn table(rows: &[DigitRow], digits: usize, quality: u8) -> String {
    let mut out = format!(
        "{digits} MNIST test digits; MSE per pixel on the 0..1 scale, PSNR = 10·log10(1/MSE); model files at quality {quality}\n\n\
         | model | input | input PSNR | test MSE | PSNR | MSE via file | bytes/digit (file) | code bytes |\n\
         |---|---|---|---|---|---|---|---|\n"
    );
    for r in rows {
        let input = if r.noise > 0.0 { format!("noisy σ={}", r.noise) } else { "clean".into() };
        let input_psnr = r.input_mse.map_or("-".into(), |m| format!("{:.2} dB", psnr01(m)));
        let psnr = |m: f64| if m > 0.0 { format!("{:.2} dB", psnr01(m)) } else { "lossless".into() };
        let payload = r.payload_bytes.map_or("-".into(), |b| format!("{b:.1}"));
        out +=
            &format!("| {} | {input} | {input_psnr} | {:.5} | {} | {:.5} | {:.1} | {payload} |\n", r.name, r.mse, psnr(r.mse), r.file_mse, r.bytes_per_digit);
    }
    out
}

/// Draws the grid (one row per label, digits 0 to 9 across) as PNG bytes, each digit scaled 3x
/// on a gray background.
pub fn grid_png(grid: &[(String, Vec<Vec<u8>>)]) -> Vec<u8> {
    let mut png = std::io::Cursor::new(Vec::new());
    grid_picture(grid).write_to(&mut png, image::ImageFormat::Png).expect("in-memory PNG of a valid picture");
    png.into_inner()
}

/// The picture of [`grid_png`]: digits drawn 3x larger on a gray background, a row of the
/// grid per row of digits.
pub fn grid_picture(grid: &[(String, Vec<Vec<u8>>)]) -> GrayImage {
    const SCALE: usize = 3;
    const GAP: usize = 4;
    let cell = SIDE * SCALE + GAP;
    let columns = grid.iter().map(|(_, row)| row.len()).max().unwrap_or(0);
    let (width, height) = ((columns * cell + GAP) as u32, (grid.len() * cell + GAP) as u32);
    let mut picture = GrayImage::from_pixel(width, height, Luma([128]));
    for (r, (_, row)) in grid.iter().enumerate() {
        for (c, digit) in row.iter().enumerate() {
            for y in 0..SIDE * SCALE {
                for x in 0..SIDE * SCALE {
                    let v = digit[(y / SCALE) * SIDE + x / SCALE];
                    picture.put_pixel((GAP + c * cell + x) as u32, (GAP + r * cell + y) as u32, Luma([v]));
                }
            }
        }
    }
    picture
}
