//! The residual layer: what the decoded (and restored) picture still misses of the original,
//! coded as JPEG codes a picture — 8x8 DCT blocks of the difference in YCbCr, a uniform
//! quantizer per channel — and range-coded with the Gaussian bank of the latents, one table
//! per channel and frequency. The synthesis transform flattens out near 36 dB (its top levels
//! buy 0.3 dB with 0.6 bpp); at those rates the residual's DCT buys the same for a fraction of
//! the bits, and the encoder stores a layer only where the level's λ says it pays.
//!
//! Payload (a container section of its own; `format-spec/aec-v2.md`, step 7): version `u8`
//! (1 or 2), channel count `u8` (1 or 3, the picture's), per channel its quantizer step `u16`
//! (units of 1/16 of a sample level; 0: the channel is not coded), per coded channel 64 bank
//! indices `u8` (one per frequency `8·u + v`, `u` vertical) and, in version 2, 96 context
//! offsets `i8`, then the range-coded quantized coefficients: for each row of blocks, each
//! coded channel, each block of the row from the left, its 64 coefficients in frequency order.
//!
//! Version 2 (aec 0.7) codes a coefficient under its frequency's table moved by its context's
//! offset ([`context`]): how many nonzero coefficients the blocks to the left and above hold,
//! how large the same frequency is in those two blocks, and how large the neighbouring
//! frequencies of its own block are. Busy neighbours predict a busy block; at equal steps that
//! saves about a quarter of the layer's bits against version 1's one table per frequency.

use rayon::prelude::*;

use super::pixels::{Pixels, squared_error};
use crate::entropy::coding::{IndexedDecoder, encode_indexed};
use crate::entropy::gaussian::SCALES;
use context::{CONTEXTS, Tables};

mod context;
use crate::format::FormatError;

/// The payload version of aec 0.6: each frequency of a channel coded under one table.
const PLAIN: u8 = 1;
/// The payload version since aec 0.7: a frequency's table moved by a context that the
/// neighbouring blocks give.
const CONTEXTUAL: u8 = 2;
/// The side of a block.
const BLOCK: usize = 8;
/// Coefficients of a block.
const COEFFICIENTS: usize = BLOCK * BLOCK;
/// Steps are in units of 1/16 of a sample level.
const STEP_UNIT: f32 = 16.0;
/// The steps the encoder tries, units of 1/16 (3 to 64 sample levels).
const STEPS: [u16; 15] = [48, 56, 64, 80, 96, 112, 128, 160, 192, 256, 320, 384, 512, 768, 1024];
/// The encoder rounds `|c| / step + ROUNDING` down (a dead zone: small coefficients cost more
/// bits than they save).
const ROUNDING: f32 = 0.35;
/// RGB to YCbCr (JPEG's matrix, without offsets: the residual is centred on 0).
const TO_YCBCR: [[f32; 3]; 3] = [[0.299, 0.587, 0.114], [-0.168_736, -0.331_264, 0.5], [0.5, -0.418_688, -0.081_312]];
/// YCbCr to RGB.
const TO_RGB: [[f32; 3]; 3] = [[1.0, 0.0, 1.402], [1.0, -0.344_136, -0.714_136], [1.0, 1.772, 0.0]];
/// The encoder judges its steps on one row of blocks in this many.
const SAMPLED_ROWS: usize = 4;
/// Pictures smaller than this get no layer.
const MIN_PIXELS: usize = 4096;

/// The orthonormal DCT-II basis: `basis[k][n] = √((k = 0 ? 1 : 2)/8)·cos(π·(2n + 1)·k / 16)`.
fn basis() -> &'static [[f32; BLOCK]; BLOCK] {
    static BASIS: std::sync::OnceLock<[[f32; BLOCK]; BLOCK]> = std::sync::OnceLock::new();
    BASIS.get_or_init(|| {
        std::array::from_fn(|k| {
            let norm = if k == 0 { (1.0f64 / 8.0).sqrt() } else { (2.0f64 / 8.0).sqrt() };
            std::array::from_fn(|n| (norm * (std::f64::consts::PI * (2 * n + 1) as f64 * k as f64 / 16.0).cos()) as f32)
        })
    })
}

/// The DCT of a block (`forward`) or its inverse, in place: `C·B·Cᵀ` or `Cᵀ·B·C`.
fn transform(block: &mut [f32; COEFFICIENTS], forward: bool) {
    let c = basis();
    let at = |k: usize, n: usize| if forward { c[k][n] } else { c[n][k] };
    let mut rows = [0f32; COEFFICIENTS];
    for y in 0..BLOCK {
        for k in 0..BLOCK {
            rows[y * BLOCK + k] = (0..BLOCK).map(|n| at(k, n) * block[y * BLOCK + n]).sum();
        }
    }
    for k in 0..BLOCK {
        for x in 0..BLOCK {
            block[k * BLOCK + x] = (0..BLOCK).map(|n| at(k, n) * rows[n * BLOCK + x]).sum();
        }
    }
}

/// A layer's head: its version, the picture's channel count, each channel's step (0: not
/// coded) and each coded channel's tables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Residual {
    version: u8,
    steps: Vec<u16>,
    tables: Vec<Tables>,
}

/// A parsed layer: its head and its range-coded coefficients, decoded when applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedResidual<'a> {
    head: Residual,
    stream: &'a [u8],
}

impl Residual {
    /// The channels the layer codes.
    fn coded(&self) -> impl Iterator<Item = usize> + '_ {
        self.steps.iter().enumerate().filter(|(_, s)| **s > 0).map(|(c, _)| c)
    }

    /// The bytes of a coded channel's tables in the head: 64 indices, then (version 2) 96
    /// offsets.
    fn tables_len(version: u8) -> usize {
        if version == PLAIN { COEFFICIENTS } else { COEFFICIENTS + CONTEXTS }
    }

    /// The head's bytes, then the coefficients' stream.
    fn to_bytes(&self, stream: &[u8]) -> Vec<u8> {
        let mut out = vec![self.version, self.steps.len() as u8];
        self.steps.iter().for_each(|s| out.extend_from_slice(&s.to_le_bytes()));
        for tables in &self.tables {
            out.extend_from_slice(&tables.base);
            if self.version == CONTEXTUAL {
                out.extend(tables.offsets.iter().map(|&o| o as u8));
            }
        }
        out.extend_from_slice(stream);
        out
    }

    /// Reads a section's payload for a picture of `channels` channels; the coefficients are
    /// decoded (and checked) by [`ParsedResidual::apply`].
    ///
    /// # Errors
    /// [`FormatError::CorruptPayload`] for another version or channel count, no coded channel,
    /// a table index beyond the bank, or a payload shorter than its head.
    pub fn parse(payload: &[u8], channels: usize) -> Result<ParsedResidual<'_>, FormatError> {
        let bad = |why: &str| FormatError::CorruptPayload(format!("residual layer: {why}"));
        let [version, count, rest @ ..] = payload else { return Err(bad("shorter than its head")) };
        if ![PLAIN, CONTEXTUAL].contains(version) {
            return Err(bad(&format!("unknown version {version}")));
        }
        if usize::from(*count) != channels {
            return Err(bad(&format!("{count} channels for a picture of {channels}")));
        }
        let (steps, rest) = rest.split_at_checked(2 * channels).ok_or_else(|| bad("shorter than its head"))?;
        let steps: Vec<u16> = steps.chunks_exact(2).map(|s| u16::from_le_bytes([s[0], s[1]])).collect();
        let coded = steps.iter().filter(|&&s| s > 0).count();
        if coded == 0 {
            return Err(bad("no channel coded"));
        }
        let len = Self::tables_len(*version);
        let (heads, stream) = rest.split_at_checked(coded * len).ok_or_else(|| bad("shorter than its head"))?;
        let tables = heads
            .chunks_exact(len)
            .map(|head| {
                let (base, offsets) = head.split_at(COEFFICIENTS);
                if base.iter().any(|&k| usize::from(k) >= SCALES) {
                    return Err(bad("a table index beyond the bank"));
                }
                let base = base.try_into().expect("64 indices");
                let offsets = if offsets.is_empty() { [0; CONTEXTS] } else { std::array::from_fn(|c| offsets[c] as i8) };
                Ok(Tables { base, offsets })
            })
            .collect::<Result<_, _>>()?;
        Ok(ParsedResidual { head: Self { version: *version, steps, tables }, stream })
    }

    /// Each value's bank table in stream order, from the values (the encoder's).
    fn stream_tables(&self, values: &[i16], rows: usize, columns: usize) -> Vec<u8> {
        let mut tables = Vec::with_capacity(values.len());
        context::walk(&mut values.to_vec(), (rows, self.tables.len(), columns), |k, j, context, _| {
            tables.push(self.tables[j].index(k, context));
            Ok(())
        })
        .expect("reading the values cannot fail");
        tables
    }

    /// Decodes the values of a stream for `rows` rows of `columns` blocks.
    fn decode_values(&self, stream: &[u8], rows: usize, columns: usize) -> Result<Vec<i16>, FormatError> {
        let mut values = vec![0i16; rows * self.tables.len() * columns * COEFFICIENTS];
        let mut decoder = IndexedDecoder::new(stream)?;
        let indices: Vec<_> = self.tables.iter().map(Tables::indices).collect();
        context::walk(&mut values, (rows, self.tables.len(), columns), |k, j, context, value| {
            *value = decoder.decode(indices[j][k][context])?;
            Ok(())
        })?;
        decoder.finish()?;
        Ok(values)
    }
}

impl ParsedResidual<'_> {
    /// Decodes the coefficients and adds the residual they code to a picture.
    ///
    /// # Errors
    /// [`FormatError::CorruptPayload`] if the stream is not exactly the encoder's words for the
    /// picture's blocks.
    ///
    /// # Panics
    /// If the picture's channel count is not the layer's (checked by [`Residual::parse`]).
    pub fn apply(&self, picture: &mut Pixels) -> Result<(), FormatError> {
        self.decode(picture.width, picture.height)?.add_to(picture);
        Ok(())
    }

    /// Decodes the coefficients of a picture of `width x height`: the layer's range decoding,
    /// which needs nothing of the picture but its size (a decoder may run it while it
    /// synthesizes the picture).
    ///
    /// # Errors
    /// [`FormatError::CorruptPayload`] if the stream is not exactly the encoder's words for the
    /// picture's blocks.
    pub fn decode(&self, width: usize, height: usize) -> Result<DecodedResidual<'_>, FormatError> {
        let values = self.head.decode_values(self.stream, height.div_ceil(BLOCK), width.div_ceil(BLOCK))?;
        Ok(DecodedResidual { head: &self.head, values, width, height })
    }
}

/// A layer's decoded coefficients, for a picture of one size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodedResidual<'a> {
    head: &'a Residual,
    values: Vec<i16>,
    width: usize,
    height: usize,
}

impl DecodedResidual<'_> {
    /// Adds the residual to the picture.
    ///
    /// # Panics
    /// If the picture's size or channel count is not the one the coefficients were decoded
    /// for.
    pub fn add_to(&self, picture: &mut Pixels) {
        assert_eq!(picture.channels, self.head.steps.len(), "residual layer of another channel count");
        assert_eq!((picture.width, picture.height), (self.width, self.height), "residual layer of another size");
        self.head.add_to(&self.values, picture);
    }
}

impl Residual {
    /// Adds the residual that the quantized coefficients `values` (in stream order) code to a
    /// picture of the layer's channel count.
    fn add_to(&self, values: &[i16], picture: &mut Pixels) {
        let coded: Vec<usize> = self.coded().collect();
        let (width, channels, bw) = (picture.width, picture.channels, picture.width.div_ceil(BLOCK));
        let per_row = coded.len() * bw * COEFFICIENTS;
        picture.samples.par_chunks_mut(BLOCK * width * channels).zip(values.par_chunks(per_row.max(1))).for_each(|(rows, values)| {
            let residual = block_row_residual(self, &coded, values, bw);
            add_residual(rows, &residual, width, channels, bw * BLOCK);
        });
    }
}

/// The residual of one row of blocks, `[channel][8][bw·8]` in the picture's channels (RGB or
/// gray), from its quantized coefficients.
fn block_row_residual(head: &Residual, coded: &[usize], values: &[i16], bw: usize) -> Vec<f32> {
    let channels = head.steps.len();
    let stride = bw * BLOCK;
    let mut planes = vec![0f32; channels * BLOCK * stride];
    for (j, &c) in coded.iter().enumerate() {
        let step = f32::from(head.steps[c]) / STEP_UNIT;
        for b in 0..bw {
            let q = &values[(j * bw + b) * COEFFICIENTS..][..COEFFICIENTS];
            if q.iter().all(|&v| v == 0) {
                // Its residual is zero (the planes' zeros add the same as its signed zeros).
                continue;
            }
            let mut block: [f32; COEFFICIENTS] = std::array::from_fn(|k| f32::from(q[k]) * step);
            transform(&mut block, false);
            for y in 0..BLOCK {
                planes[(c * BLOCK + y) * stride + b * BLOCK..][..BLOCK].copy_from_slice(&block[y * BLOCK..(y + 1) * BLOCK]);
            }
        }
    }
    if channels == 3 {
        let plane = BLOCK * stride;
        for i in 0..plane {
            let ycc = [planes[i], planes[plane + i], planes[2 * plane + i]];
            for (c, row) in TO_RGB.iter().enumerate() {
                planes[c * plane + i] = row[0] * ycc[0] + row[1] * ycc[1] + row[2] * ycc[2];
            }
        }
    }
    planes
}

/// Adds a row of blocks' residual (`[channel][8][stride]`) to up to 8 rows of samples, rounded
/// and clamped.
fn add_residual(rows: &mut [u8], residual: &[f32], width: usize, channels: usize, stride: usize) {
    let plane = BLOCK * stride;
    for (y, row) in rows.chunks_exact_mut(width * channels).enumerate() {
        for (x, pixel) in row.chunks_exact_mut(channels).enumerate() {
            for (c, sample) in pixel.iter_mut().enumerate() {
                *sample = (f32::from(*sample) + residual[c * plane + y * stride + x]).round().clamp(0.0, 255.0) as u8;
            }
        }
    }
}

/// The DCT coefficients of `original − decoded` in YCbCr (or gray), `[channel][block][64]`,
/// blocks row by row over the picture extended by repeating its last row and column.
fn coefficients(original: &Pixels, decoded: &Pixels) -> Vec<Vec<f32>> {
    let (width, height, channels) = (decoded.width, decoded.height, decoded.channels);
    let (bw, bh) = (width.div_ceil(BLOCK), height.div_ceil(BLOCK));
    let difference = |y: usize, x: usize, c: usize| {
        let i = (y.min(height - 1) * width + x.min(width - 1)) * channels + c;
        f32::from(original.samples[i]) - f32::from(decoded.samples[i])
    };
    let blocks: Vec<Vec<[f32; COEFFICIENTS]>> = (0..bw * bh)
        .into_par_iter()
        .map(|b| {
            let (by, bx) = (b / bw, b % bw);
            let at = |k: usize| (by * BLOCK + k / BLOCK, bx * BLOCK + k % BLOCK);
            let mut out: Vec<[f32; COEFFICIENTS]> = if channels == 3 {
                let rgb: [[f32; 3]; COEFFICIENTS] = std::array::from_fn(|k| {
                    let (y, x) = at(k);
                    [difference(y, x, 0), difference(y, x, 1), difference(y, x, 2)]
                });
                TO_YCBCR.iter().map(|row| std::array::from_fn(|k| row[0] * rgb[k][0] + row[1] * rgb[k][1] + row[2] * rgb[k][2])).collect()
            } else {
                vec![std::array::from_fn(|k| {
                    let (y, x) = at(k);
                    difference(y, x, 0)
                })]
            };
            out.iter_mut().for_each(|block| transform(block, true));
            out
        })
        .collect();
    (0..channels).map(|c| blocks.iter().flat_map(|b| b[c]).collect()).collect()
}

/// How much an error in a channel of the layer weighs in the picture's squared error: the
/// squared norm of its column of [`TO_RGB`] (1 for gray).
fn error_weight(channel: usize, channels: usize) -> f64 {
    if channels == 1 { 1.0 } else { TO_RGB.iter().map(|row| f64::from(row[channel]).powi(2)).sum() }
}

/// The quantized coefficients of a channel at a step.
fn quantize(coefficients: &[f32], step: u16) -> Vec<i16> {
    let step = f32::from(step) / STEP_UNIT;
    coefficients.iter().map(|&c| ((c.abs() / step + ROUNDING).floor().min(f32::from(i16::MAX)) * c.signum()) as i16).collect()
}

/// One channel coded at a step: its values, its tables and their bits in either version, and
/// its squared error (in the picture's terms, before rounding).
struct CodedChannel {
    step: u16,
    values: Vec<i16>,
    tables: context::Fitted,
    error: f64,
}

impl CodedChannel {
    /// The channel's tables in a payload version, and its bits there: the values' bits
    /// times `share` (the channel is a sample of that many times as many blocks), plus the
    /// tables' bytes in the head.
    fn in_version(&self, version: u8, share: f64) -> (Tables, f64) {
        let (tables, bits) = if version == PLAIN { self.tables.plain } else { self.tables.contextual };
        (tables, bits * share + 8.0 * Residual::tables_len(version) as f64)
    }

    /// The bits of the version that codes the channel in fewer (see [`Self::in_version`]).
    fn bits(&self, share: f64) -> f64 {
        self.in_version(PLAIN, share).1.min(self.in_version(CONTEXTUAL, share).1)
    }
}

/// A channel's coefficients (blocks row by row, `columns` to a row) coded at a step.
fn code_channel(coefficients: &[f32], step: u16, weight: f64, columns: usize) -> CodedChannel {
    let values = quantize(coefficients, step);
    let tables = context::fit(&values, columns);
    let scale = f32::from(step) / STEP_UNIT;
    let error = coefficients.iter().zip(&values).map(|(&c, &q)| f64::from(c - f32::from(q) * scale).powi(2)).sum::<f64>() * weight;
    CodedChannel { step, values, tables, error }
}

/// Every `SAMPLED_ROWS`-th row of blocks of a channel's coefficients (`columns` blocks to a
/// row): the steps are judged on these, as if they were a picture of their own.
fn sampled_rows(coefficients: &[f32], columns: usize) -> Vec<f32> {
    coefficients.chunks_exact(columns * COEFFICIENTS).step_by(SAMPLED_ROWS).flatten().copied().collect()
}

/// Whether the encoder may code a layer for a picture of this size and channel count (not for
/// pictures under 4096 pixels).
pub fn applies(width: usize, height: usize, channels: usize) -> bool {
    width * height >= MIN_PIXELS && matches!(channels, 1 | 3)
}

/// What the encoder decided for a picture: the layer's payload and the picture it gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fitted {
    /// The section's payload.
    pub payload: Vec<u8>,
    /// The decoded picture with the residual added.
    pub picture: Pixels,
}

/// The encoder's layer for a decoded picture (in the version that codes it in fewer bits,
/// usually 2): each channel at the step of
/// [`STEPS`] (or not at all) of lowest rate–distortion cost `bits / pixels + λ·MSE` (MSE of
/// 8-bit samples, all channels); kept only if, its section (`overhead` bytes besides the
/// payload) paid for, the picture it gives costs less than `decoded`.
pub fn fit(original: &Pixels, decoded: &Pixels, lambda: f64, overhead: usize) -> Option<Fitted> {
    assert_eq!((original.width, original.height, original.channels), (decoded.width, decoded.height, decoded.channels), "picture sizes");
    let (pixels, channels) = (decoded.width * decoded.height, decoded.channels);
    if !applies(decoded.width, decoded.height, channels) {
        return None;
    }
    let samples = (pixels * channels) as f64;
    let (columns, rows) = (decoded.width.div_ceil(BLOCK), decoded.height.div_ceil(BLOCK));
    let coefficients = coefficients(original, decoded);
    // Each channel's best step, judged alone (the costs add up).
    let choices: Vec<Option<CodedChannel>> = (0..channels)
        .into_par_iter()
        .map(|c| {
            let weight = error_weight(c, channels);
            let uncoded = coefficients[c].iter().map(|&v| f64::from(v).powi(2)).sum::<f64>() * weight;
            let cost = |bits: f64, error: f64| bits / pixels as f64 + lambda * error / samples;
            // The steps are judged on a sample of the rows of blocks (bits and error scaled
            // up), the best one then coded on all.
            let sample = sampled_rows(&coefficients[c], columns);
            let share = coefficients[c].len() as f64 / sample.len().max(1) as f64;
            let step = STEPS
                .iter()
                .map(|&step| {
                    let judged = code_channel(&sample, step, weight, columns);
                    (step, cost(judged.bits(share), judged.error * share))
                })
                .min_by(|a, b| a.1.total_cmp(&b.1))?
                .0;
            let best = code_channel(&coefficients[c], step, weight, columns);
            (cost(best.bits(1.0), best.error) < lambda * uncoded / samples).then_some(best)
        })
        .collect();
    if choices.iter().all(Option::is_none) {
        return None;
    }
    let steps: Vec<u16> = choices.iter().map(|c| c.as_ref().map_or(0, |c| c.step)).collect();
    let coded: Vec<&CodedChannel> = choices.iter().flatten().collect();
    // Version 2's offsets cost 96 bytes a channel: version 1 where they do not pay for them.
    let bits = |version: u8| coded.iter().map(|c| c.in_version(version, 1.0).1).sum::<f64>();
    let version = if bits(PLAIN) <= bits(CONTEXTUAL) { PLAIN } else { CONTEXTUAL };
    let head = Residual { version, steps, tables: coded.iter().map(|c| c.in_version(version, 1.0).0).collect() };
    // The values in stream order: rows of blocks, coded channels, blocks of the row.
    let row_len = columns * COEFFICIENTS;
    let values: Vec<i16> = (0..rows).flat_map(|r| coded.iter().flat_map(move |channel| &channel.values[r * row_len..(r + 1) * row_len])).copied().collect();
    let payload = head.to_bytes(&encode_indexed(&values, &head.stream_tables(&values, rows, columns)));
    // The decoder's picture, from the values the stream codes exactly (its tests decode them).
    let mut picture = decoded.clone();
    head.add_to(&values, &mut picture);
    let cost = |bytes: usize, picture: &Pixels| (8 * bytes) as f64 / pixels as f64 + lambda * squared_error(original, picture) as f64 / samples;
    (cost(payload.len() + overhead, &picture) < cost(0, decoded)).then_some(Fitted { payload, picture })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A textured picture, and a copy of it with blurred detail (what a decoder might give).
    fn pictures(width: usize, height: usize, channels: usize) -> (Pixels, Pixels) {
        let sample = |x: usize, y: usize, c: usize, detail: f64| {
            let smooth = 120.0 + 50.0 * ((x as f64 * 0.05 + c as f64).sin() + (y as f64 * 0.04).cos());
            (smooth + detail * ((x * 7 + y * 13 + c * 5) % 17) as f64).clamp(0.0, 255.0).round() as u8
        };
        let make = |detail: f64| Pixels {
            width,
            height,
            channels,
            samples: (0..width * height * channels).map(|i| sample((i / channels) % width, (i / channels) / width, i % channels, detail)).collect(),
        };
        (make(4.0), make(1.0))
    }

    #[test]
    fn the_inverse_transform_undoes_the_forward_one() {
        let original: [f32; COEFFICIENTS] = std::array::from_fn(|i| ((i * 37) % 23) as f32 - 11.0);
        let mut block = original;
        transform(&mut block, true);
        assert!((block[0] - original.iter().sum::<f32>() / 8.0).abs() < 1e-3, "the DC term is the mean times 8");
        transform(&mut block, false);
        assert!(block.iter().zip(&original).all(|(a, b)| (a - b).abs() < 1e-3));
    }

    #[test]
    fn a_fitted_layer_lowers_the_error_and_decodes_to_the_encoders_picture() {
        for (channels, width, height) in [(3, 83, 61), (1, 70, 64)] {
            let (original, decoded) = pictures(width, height, channels);
            let fitted = fit(&original, &decoded, 1.0, 8).expect("the layer pays for itself");
            assert!(squared_error(&original, &fitted.picture) * 2 < squared_error(&original, &decoded), "{channels} channels");
            let mut again = decoded.clone();
            Residual::parse(&fitted.payload, channels).unwrap().apply(&mut again).unwrap();
            assert_eq!(again, fitted.picture);
            // A stream one word short or long is refused.
            let short = &fitted.payload[..fitted.payload.len() - 4];
            assert!(matches!(Residual::parse(short, channels).unwrap().apply(&mut decoded.clone()), Err(FormatError::CorruptPayload(_))));
            let long = [fitted.payload.as_slice(), &[0, 0, 0, 0]].concat();
            assert!(matches!(Residual::parse(&long, channels).unwrap().apply(&mut decoded.clone()), Err(FormatError::CorruptPayload(_))));
        }
    }

    #[test]
    fn no_layer_where_it_cannot_pay() {
        let (original, _) = pictures(80, 60, 3);
        assert_eq!(fit(&original, &original, 1.0, 8), None, "nothing to add");
        let (small, blurred) = pictures(30, 30, 3);
        assert_eq!(fit(&small, &blurred, 1.0, 8), None, "a picture too small");
        let (original, decoded) = pictures(80, 60, 3);
        assert_eq!(fit(&original, &decoded, 1e-6, 8), None, "a λ that prices bits far above quality");
    }

    #[test]
    fn bad_heads_are_refused() {
        let corrupt = |b: &[u8], channels| matches!(Residual::parse(b, channels), Err(FormatError::CorruptPayload(_)));
        let head = |version: u8, channels: u8, steps: &[u16], index: u8| {
            let mut out = vec![version, channels];
            steps.iter().for_each(|s| out.extend_from_slice(&s.to_le_bytes()));
            out.extend(std::iter::repeat_n(index, 64 * steps.iter().filter(|&&s| s > 0).count()));
            out
        };
        assert!(!corrupt(&head(1, 3, &[16, 0, 32], 63), 3));
        assert!(corrupt(&head(2, 3, &[16, 0, 32], 0), 3), "version");
        assert!(corrupt(&head(1, 3, &[16, 0, 32], 0), 1), "channel count");
        assert!(corrupt(&head(1, 3, &[0, 0, 0], 0), 3), "no coded channel");
        assert!(corrupt(&head(1, 1, &[16], 64), 1), "a table beyond the bank");
        let whole = head(1, 3, &[16, 0, 32], 5);
        assert!(corrupt(&whole[..whole.len() - 1], 3), "short indices");
        assert!(corrupt(&whole[..5], 3), "short steps");
        assert!(corrupt(&[1], 1), "no head");
        // Version 2: 64 indices and 96 offsets (any i8) per coded channel.
        assert!(corrupt(&head(2, 3, &[16, 0, 32], 5), 3), "version 2 without its offsets");
        let mut contextual = vec![2, 3, 16, 0, 0, 0, 32, 0];
        for _ in 0..2 {
            contextual.extend([[5u8; COEFFICIENTS].as_slice(), &[0x80; CONTEXTS]].concat());
        }
        assert!(corrupt(&contextual[..contextual.len() - 1], 3), "a short offset");
        let parsed = Residual::parse(&contextual, 3).unwrap();
        assert!(parsed.stream.is_empty() && parsed.head.tables.iter().all(|t| t.offsets == [-128; CONTEXTS]));
        assert!(corrupt(&head(3, 3, &[16, 0, 32], 5), 3), "version 3");
    }

    #[test]
    fn a_version_1_layer_decodes_as_version_2_with_zero_offsets() {
        let (original, decoded) = pictures(83, 61, 3);
        let fitted = fit(&original, &decoded, 1.0, 8).expect("the layer pays for itself");
        let parsed = Residual::parse(&fitted.payload, 3).unwrap();
        let (rows, columns) = (61usize.div_ceil(BLOCK), 83usize.div_ceil(BLOCK));
        let values = parsed.head.decode_values(parsed.stream, rows, columns).unwrap();
        // The same values under each frequency's index alone, in either version.
        for version in [PLAIN, CONTEXTUAL] {
            let tables = parsed.head.tables.iter().map(|t| Tables { base: t.base, offsets: [0; CONTEXTS] }).collect();
            let head = Residual { version, steps: parsed.head.steps.clone(), tables };
            let payload = head.to_bytes(&encode_indexed(&values, &head.stream_tables(&values, rows, columns)));
            assert_eq!(payload[0], version);
            let mut picture = decoded.clone();
            Residual::parse(&payload, 3).unwrap().apply(&mut picture).unwrap();
            assert_eq!(picture, fitted.picture, "version {version}");
        }
    }
}
