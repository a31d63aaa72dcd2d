//! The restoration filter: a small Wiener filter that the encoder fits to each picture by least
//! squares against the original and the decoder applies to the decoded 8-bit samples, in
//! integer arithmetic (AV1's loop restoration and VVC's adaptive loop filter do the same after
//! their transforms). It takes back some of the detail the synthesis transform smooths away:
//! 0.1–0.2 dB on the evaluation set for a section of ~50 bytes.
//!
//! For channel `c` at pixel `p`, with `d` the decoded samples (coordinates clamped to the
//! picture), the offsets `o_k` of [`HALF_DIAMOND`] and the picture's other channels `j` (in
//! increasing order):
//!
//! `acc = Σ_k w_k·(d_c(p + o_k) + d_c(p − o_k) − 2·d_c(p)) + Σ_j v_j·(d_j(p) − d_c(p))`
//!
//! and the sample becomes `clamp(d_c(p) + ((acc + 2^(s−1)) >> s), 0, 255)` (arithmetic shift).
//! Weights lie within ±[`MAX_WEIGHT`], so `|acc| < 2^28` and `i32` holds every sum exactly.
//!
//! Payload (a container section of its own): version `u8` = 1, shift `s` `u8` (1..=14),
//! channel count `u8` (1 or 3, the picture's), then per channel its 12 spatial weights and
//! its `channels − 1` cross-channel weights, each a zigzag LEB128 varint (at most 3 bytes),
//! and nothing after them.

use std::ops::Range;

use rayon::prelude::*;

use super::pixels::Pixels;
use crate::format::FormatError;

/// One half of the diamond of radius 3 around a pixel, `(row, column)` offsets: each offset
/// stands for itself and its opposite (the filter is point-symmetric).
pub const HALF_DIAMOND: [(isize, isize); 12] = [(0, 1), (0, 2), (0, 3), (1, -2), (1, -1), (1, 0), (1, 1), (1, 2), (2, -1), (2, 0), (2, 1), (3, 0)];
/// Largest magnitude of a weight.
pub const MAX_WEIGHT: i32 = 32767;
/// The payload version this reader knows.
const VERSION: u8 = 1;
/// The reach of the filter around a pixel.
const RADIUS: usize = 3;
/// Largest shift.
const MAX_SHIFT: u32 = 14;
/// Output rows a thread filters at once.
const BAND_ROWS: usize = 32;
/// Pixels in a row segment whose products of features are summed in `i32` (at most
/// 510² · 2048 < 2^31).
const SEGMENT: usize = 2048;
/// The shifts the encoder tries (the finer, the more bytes a weight may take).
const SHIFTS: Range<u32> = 7..11;
/// Pictures smaller than this are not worth a filter (its section would outweigh the gain).
const MIN_PIXELS: usize = 4096;

/// A fitted filter: its shift and, per channel, [`HALF_DIAMOND`]'s weights then the
/// cross-channel ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restoration {
    shift: u32,
    channels: usize,
    weights: Vec<i32>,
}

/// Weights of one channel: the spatial ones and one per other channel.
fn weights_per_channel(channels: usize) -> usize {
    HALF_DIAMOND.len() + channels - 1
}

impl Restoration {
    /// A filter of these weights (`channels` groups of [`HALF_DIAMOND`]'s then the
    /// cross-channel ones), or `None` if a count or value is out of range.
    pub fn new(shift: u32, channels: usize, weights: Vec<i32>) -> Option<Self> {
        let valid = (1..=MAX_SHIFT).contains(&shift)
            && matches!(channels, 1 | 3)
            && weights.len() == channels * weights_per_channel(channels)
            && weights.iter().all(|w| w.abs() <= MAX_WEIGHT);
        valid.then_some(Self { shift, channels, weights })
    }

    /// The channel count of the pictures it filters.
    pub fn channels(&self) -> usize {
        self.channels
    }

    /// The payload of its section.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = vec![VERSION, self.shift as u8, self.channels as u8];
        for &w in &self.weights {
            let mut v = ((w << 1) ^ (w >> 31)) as u32;
            while v >= 0x80 {
                out.push((v as u8 & 0x7f) | 0x80);
                v >>= 7;
            }
            out.push(v as u8);
        }
        out
    }

    /// Reads a section's payload for a picture of `channels` channels.
    ///
    /// # Errors
    /// [`FormatError::CorruptPayload`] for another version, a shift beyond 1..=14, another
    /// channel count, a weight that is not a varint of at most 3 bytes within ±32767, or
    /// bytes after the last weight.
    pub fn parse(payload: &[u8], channels: usize) -> Result<Self, FormatError> {
        let bad = |why: &str| FormatError::CorruptPayload(format!("restoration filter: {why}"));
        let [version, shift, count, rest @ ..] = payload else { return Err(bad("shorter than its head")) };
        if *version != VERSION {
            return Err(bad(&format!("unknown version {version}")));
        }
        if usize::from(*count) != channels {
            return Err(bad(&format!("{count} channels for a picture of {channels}")));
        }
        let mut bytes = rest.iter();
        let mut weights = Vec::with_capacity(channels * weights_per_channel(channels));
        for _ in 0..channels * weights_per_channel(channels) {
            let mut v = 0u32;
            for i in 0.. {
                let &b = bytes.next().ok_or_else(|| bad("truncated weights"))?;
                if i == 2 && b >= 0x80 {
                    return Err(bad("a weight longer than 3 bytes"));
                }
                v |= u32::from(b & 0x7f) << (7 * i);
                if b < 0x80 {
                    break;
                }
            }
            let w = (v >> 1) as i32 ^ -((v & 1) as i32);
            weights.push(w);
        }
        if bytes.len() > 0 {
            return Err(bad("bytes after the weights"));
        }
        Self::new(u32::from(*shift), channels, weights).ok_or_else(|| bad("a shift beyond 1..=14 or a weight beyond ±32767"))
    }

    /// Filters a picture in place.
    ///
    /// # Panics
    /// If the picture's channel count is not the filter's (checked when the file is read).
    pub fn apply(&self, picture: &mut Pixels) {
        assert_eq!(picture.channels, self.channels, "restoration filter of another channel count");
        let source = Pixels { samples: picture.samples.clone(), ..*picture };
        let (width, channels) = (picture.width, picture.channels);
        let round = 1i32 << (self.shift - 1);
        let band_len = BAND_ROWS * width * channels;
        picture.samples.par_chunks_mut(band_len.max(1)).enumerate().for_each(|(b, out)| {
            let rows = b * BAND_ROWS..(b * BAND_ROWS + BAND_ROWS).min(source.height);
            let band = Band::of(&source, rows.clone());
            let mut acc = vec![0i32; width];
            for (i, out_row) in out.chunks_exact_mut(width * channels).enumerate() {
                for c in 0..channels {
                    self.correction(&band, i, c, &mut acc);
                    let center = band.center(c, i);
                    for ((sample, &a), &d) in out_row[c..].iter_mut().step_by(channels).zip(&acc).zip(center) {
                        *sample = (i32::from(d) + ((a + round) >> self.shift)).clamp(0, 255) as u8;
                    }
                }
            }
        });
    }

    /// `acc` of every pixel of a band's output row `i` in channel `c`.
    fn correction(&self, band: &Band, i: usize, c: usize, acc: &mut [i32]) {
        let weights = &self.weights[c * weights_per_channel(self.channels)..][..weights_per_channel(self.channels)];
        acc.fill(0);
        let center = band.center(c, i);
        for (&w, &(dy, dx)) in weights.iter().zip(&HALF_DIAMOND) {
            if w == 0 {
                continue;
            }
            let (ahead, behind) = (band.shifted(c, i, dy, dx), band.shifted(c, i, -dy, -dx));
            for (((a, &p), &q), &m) in acc.iter_mut().zip(ahead).zip(behind).zip(center) {
                *a += w * (i32::from(p) + i32::from(q) - 2 * i32::from(m));
            }
        }
        for (&w, j) in weights[HALF_DIAMOND.len()..].iter().zip((0..self.channels).filter(|&j| j != c)) {
            for ((a, &o), &m) in acc.iter_mut().zip(band.center(j, i)).zip(center) {
                *a += w * (i32::from(o) - i32::from(m));
            }
        }
    }
}

/// Rows of a picture around some output rows, every channel as `i16`, with [`RADIUS`] samples
/// of clamped border on every side: `[channel][row][column]`.
struct Band {
    samples: Vec<i16>,
    /// Samples in a row: the width and both borders.
    stride: usize,
    /// Rows of a channel: the output rows and both borders.
    rows: usize,
    width: usize,
}

impl Band {
    /// The band of output rows `rows`.
    fn of(picture: &Pixels, rows: Range<usize>) -> Self {
        let (width, height, channels) = (picture.width, picture.height, picture.channels);
        let stride = width + 2 * RADIUS;
        let band_rows = rows.len() + 2 * RADIUS;
        let mut samples = vec![0i16; channels * band_rows * stride];
        for (r, row) in samples.chunks_exact_mut(stride).enumerate() {
            let (c, i) = (r / band_rows, r % band_rows);
            let y = (rows.start + i).saturating_sub(RADIUS).min(height - 1);
            let source = &picture.samples[y * width * channels..(y + 1) * width * channels];
            for (x, v) in row.iter_mut().enumerate() {
                *v = i16::from(source[x.saturating_sub(RADIUS).min(width - 1) * channels + c]);
            }
        }
        Self { samples, stride, rows: band_rows, width }
    }

    /// Channel `c` of output row `i` (counted from the band's first), shifted by `(dy, dx)`.
    fn shifted(&self, c: usize, i: usize, dy: isize, dx: isize) -> &[i16] {
        let row = (i + RADIUS).wrapping_add_signed(dy);
        let start = (c * self.rows + row) * self.stride + RADIUS.wrapping_add_signed(dx);
        &self.samples[start..start + self.width]
    }

    /// Channel `c` of output row `i`.
    fn center(&self, c: usize, i: usize) -> &[i16] {
        self.shifted(c, i, 0, 0)
    }
}

/// The least-squares problem of one channel's weights: `Σ f fᵀ` and `Σ f·t` over the picture's
/// pixels, `f` the filter's features (the terms its weights multiply) and `t` the original
/// sample minus the decoded one.
#[derive(Clone)]
struct NormalEquations {
    n: usize,
    gram: Vec<i64>,
    target: Vec<i64>,
}

impl NormalEquations {
    fn new(n: usize) -> Self {
        Self { n, gram: vec![0; n * n], target: vec![0; n] }
    }

    fn add(mut self, other: &Self) -> Self {
        self.gram.iter_mut().zip(&other.gram).for_each(|(a, b)| *a += b);
        self.target.iter_mut().zip(&other.target).for_each(|(a, b)| *a += b);
        self
    }

    /// Adds a row segment's targets and features (the first `targets.len()` of each of the
    /// `n` rows).
    fn add_segment(&mut self, features: &[Vec<i16>], targets: &[i16]) {
        let len = targets.len();
        let dot = |a: &[i16], b: &[i16]| i64::from(a[..len].iter().zip(&b[..len]).map(|(&x, &y)| i32::from(x) * i32::from(y)).sum::<i32>());
        for k in 0..self.n {
            for l in k..self.n {
                let v = dot(&features[k], &features[l]);
                self.gram[k * self.n + l] += v;
            }
            self.target[k] += dot(&features[k], targets);
        }
    }

    /// The real weights that minimise the squared error, or `None` for a singular system.
    fn solve(&self) -> Option<Vec<f64>> {
        let n = self.n;
        // Mirror the upper triangle and add a small ridge (flat pictures make the system
        // singular).
        let mut a: Vec<f64> = (0..n * n).map(|i| self.gram[(i / n).min(i % n) * n + (i / n).max(i % n)] as f64).collect();
        let ridge = 1e-6 * (0..n).map(|k| a[k * n + k]).sum::<f64>().max(1.0) / n as f64;
        (0..n).for_each(|k| a[k * n + k] += ridge);
        let mut b: Vec<f64> = self.target.iter().map(|&v| v as f64).collect();
        // Gaussian elimination with partial pivoting.
        for col in 0..n {
            let pivot = (col..n).max_by(|&i, &j| a[i * n + col].abs().total_cmp(&a[j * n + col].abs()))?;
            if a[pivot * n + col].abs() < 1e-9 {
                return None;
            }
            for k in 0..n {
                a.swap(col * n + k, pivot * n + k);
            }
            b.swap(col, pivot);
            for row in col + 1..n {
                let f = a[row * n + col] / a[col * n + col];
                for k in col..n {
                    a[row * n + k] -= f * a[col * n + k];
                }
                b[row] -= f * b[col];
            }
        }
        let mut x = vec![0.0; n];
        for row in (0..n).rev() {
            let s: f64 = (row + 1..n).map(|k| a[row * n + k] * x[k]).sum();
            x[row] = (b[row] - s) / a[row * n + row];
        }
        x.iter().all(|v| v.is_finite()).then_some(x)
    }

    /// The change of the squared error that weights `w` (real, already divided by `2^s`) would
    /// make, before rounding: `wᵀ G w − 2 bᵀ w`.
    fn change(&self, w: &[f64]) -> f64 {
        let n = self.n;
        let mut quadratic = 0.0;
        for k in 0..n {
            for l in 0..n {
                quadratic += w[k] * w[l] * self.gram[k.min(l) * n + k.max(l)] as f64;
            }
        }
        quadratic - 2.0 * w.iter().zip(&self.target).map(|(a, &b)| a * b as f64).sum::<f64>()
    }
}

/// The normal equations of every channel of `decoded` against `original` (same size).
fn normal_equations(original: &Pixels, decoded: &Pixels) -> Vec<NormalEquations> {
    let (width, channels) = (decoded.width, decoded.channels);
    let n = weights_per_channel(channels);
    let empty = || vec![NormalEquations::new(n); channels];
    (0..decoded.height.div_ceil(BAND_ROWS))
        .into_par_iter()
        .map(|b| {
            let rows = b * BAND_ROWS..(b * BAND_ROWS + BAND_ROWS).min(decoded.height);
            let band = Band::of(decoded, rows.clone());
            let mut sums = empty();
            let mut features = vec![vec![0i16; SEGMENT.min(width)]; n];
            let mut targets = vec![0i16; SEGMENT.min(width)];
            for (i, y) in rows.enumerate() {
                for (c, sums) in sums.iter_mut().enumerate() {
                    for start in (0..width).step_by(SEGMENT) {
                        let xs = start..(start + SEGMENT).min(width);
                        let len = xs.len();
                        let center = &band.center(c, i)[xs.clone()];
                        for (f, &(dy, dx)) in features.iter_mut().zip(&HALF_DIAMOND) {
                            let (ahead, behind) = (&band.shifted(c, i, dy, dx)[xs.clone()], &band.shifted(c, i, -dy, -dx)[xs.clone()]);
                            for (((f, &p), &q), &m) in f.iter_mut().zip(ahead).zip(behind).zip(center) {
                                *f = p + q - 2 * m;
                            }
                        }
                        for (f, j) in features[HALF_DIAMOND.len()..].iter_mut().zip((0..channels).filter(|&j| j != c)) {
                            for ((f, &o), &m) in f.iter_mut().zip(&band.center(j, i)[xs.clone()]).zip(center) {
                                *f = o - m;
                            }
                        }
                        let source = &original.samples[(y * width + start) * channels..];
                        for ((t, &m), x) in targets.iter_mut().zip(center).zip(0..len) {
                            *t = i16::from(source[x * channels + c]) - m;
                        }
                        sums.add_segment(&features, &targets[..len]);
                    }
                }
            }
            sums
        })
        .reduce(empty, |a, b| a.into_iter().zip(&b).map(|(a, b)| a.add(b)).collect())
}

/// What the encoder decided for a picture: the filter and the picture it gives, if a filter
/// pays for its section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fitted {
    /// The filter.
    pub filter: Restoration,
    /// The decoded picture, filtered.
    pub picture: Pixels,
}

/// The encoder's filter for a decoded picture: the least-squares weights against the
/// original, rounded at the shift of [`SHIFTS`] that costs least, kept only if it lowers the
/// rate–distortion cost `bits / pixels + λ·MSE` (MSE of 8-bit samples, all channels) once its
/// section (`overhead` bytes besides the payload) is paid for.
pub fn fit(original: &Pixels, decoded: &Pixels, lambda: f64, overhead: usize) -> Option<Fitted> {
    assert_eq!((original.width, original.height, original.channels), (decoded.width, decoded.height, decoded.channels), "picture sizes");
    let pixels = decoded.width * decoded.height;
    if pixels < MIN_PIXELS || !matches!(decoded.channels, 1 | 3) {
        return None;
    }
    let samples = (pixels * decoded.channels) as f64;
    let equations = normal_equations(original, decoded);
    let real: Vec<Vec<f64>> = equations.iter().map(NormalEquations::solve).collect::<Option<_>>()?;
    let cost = |filter: &Restoration, squared_error_change: f64| {
        (8 * (filter.to_bytes().len() + overhead)) as f64 / pixels as f64 + lambda * squared_error_change / samples
    };
    // The shift whose rounded weights the normal equations judge best.
    let candidates = SHIFTS.filter_map(|shift| {
        let scale = f64::from(1u32 << shift);
        let weights: Vec<i32> = real.iter().flatten().map(|w| (w * scale).round().clamp(-f64::from(MAX_WEIGHT), f64::from(MAX_WEIGHT)) as i32).collect();
        let filter = Restoration::new(shift, decoded.channels, weights)?;
        let n = weights_per_channel(decoded.channels);
        let change: f64 =
            equations.iter().zip(filter.weights.chunks_exact(n)).map(|(e, w)| e.change(&w.iter().map(|&v| f64::from(v) / scale).collect::<Vec<_>>())).sum();
        Some((cost(&filter, change), filter))
    });
    let (_, filter) = candidates.min_by(|a, b| a.0.total_cmp(&b.0))?;
    // Judged again on the samples the decoder will write (rounded and clamped).
    let mut picture = decoded.clone();
    filter.apply(&mut picture);
    let change = squared_error(original, &picture) - squared_error(original, decoded);
    (cost(&filter, change as f64) < 0.0).then_some(Fitted { filter, picture })
}

/// The sum of squared differences of two pictures' samples.
fn squared_error(a: &Pixels, b: &Pixels) -> i64 {
    a.samples
        .par_chunks(1 << 16)
        .zip(b.samples.par_chunks(1 << 16))
        .map(|(a, b)| a.iter().zip(b).map(|(&x, &y)| (i64::from(x) - i64::from(y)).pow(2)).sum::<i64>())
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A picture with edges and texture in every channel.
    fn picture(width: usize, height: usize, channels: usize) -> Pixels {
        let samples = (0..width * height * channels)
            .map(|i| {
                let (x, y, c) = ((i / channels) % width, (i / channels) / width, i % channels);
                let v = 128.0 + 60.0 * ((x as f64 * 0.7 + c as f64).sin() + (y as f64 * 0.45).cos()) + if (x / 9 + y / 7) % 2 == 0 { 30.0 } else { -30.0 };
                v.clamp(0.0, 255.0) as u8
            })
            .collect();
        Pixels { width, height, channels, samples }
    }

    /// A 3-tap horizontal and vertical blur of a picture (clamped borders).
    fn blurred(p: &Pixels) -> Pixels {
        let at = |x: isize, y: isize, c: usize| {
            i32::from(p.samples[(y.clamp(0, p.height as isize - 1) as usize * p.width + x.clamp(0, p.width as isize - 1) as usize) * p.channels + c])
        };
        let mut out = p.clone();
        for y in 0..p.height as isize {
            for x in 0..p.width as isize {
                for c in 0..p.channels {
                    let v = 4 * at(x, y, c) + at(x - 1, y, c) + at(x + 1, y, c) + at(x, y - 1, c) + at(x, y + 1, c);
                    out.samples[(y as usize * p.width + x as usize) * p.channels + c] = ((v + 4) / 8) as u8;
                }
            }
        }
        out
    }

    #[test]
    fn a_fitted_filter_takes_back_much_of_a_blur() {
        for channels in [1, 3] {
            let original = picture(97, 71, channels);
            let decoded = blurred(&original);
            let before = squared_error(&original, &decoded);
            let fitted = fit(&original, &decoded, 1.0, 8).expect("the filter pays for itself");
            let after = squared_error(&original, &fitted.picture);
            assert!(after * 2 < before, "{channels} channels: {before} -> {after}");
            // The decoder's filter, from the payload, gives the encoder's picture.
            let mut again = decoded.clone();
            Restoration::parse(&fitted.filter.to_bytes(), channels).unwrap().apply(&mut again);
            assert_eq!(again, fitted.picture);
        }
    }

    #[test]
    fn a_filter_that_does_not_pay_is_not_kept() {
        let original = picture(80, 60, 3);
        // The decoded picture is the original: nothing to gain, a section to pay.
        assert_eq!(fit(&original, &original, 1.0, 8), None);
        // A tiny picture is never filtered.
        let small = picture(20, 20, 3);
        assert_eq!(fit(&small, &blurred(&small), 1.0, 8), None);
    }

    #[test]
    fn zero_weights_leave_the_picture_as_it_is_and_one_weight_acts_as_written() {
        let p = picture(13, 5, 3);
        let mut same = p.clone();
        Restoration::new(8, 3, vec![0; 42]).unwrap().apply(&mut same);
        assert_eq!(same, p);
        // A single weight of 2^s on the red channel's horizontal neighbours: each red sample
        // becomes d(x−1) + d(x+1) − d(x), clamped; the others stay.
        let mut weights = vec![0; 42];
        weights[0] = 256;
        let mut filtered = p.clone();
        Restoration::new(8, 3, weights).unwrap().apply(&mut filtered);
        let at = |x: usize, y: usize, c: usize| i32::from(p.samples[(y * 13 + x) * 3 + c]);
        for y in 0..5 {
            for x in 0..13usize {
                let expected = (at(x.saturating_sub(1), y, 0) + at((x + 1).min(12), y, 0) - at(x, y, 0)).clamp(0, 255);
                assert_eq!(i32::from(filtered.samples[(y * 13 + x) * 3]), expected, "({x}, {y})");
                assert_eq!(filtered.samples[(y * 13 + x) * 3 + 1], p.samples[(y * 13 + x) * 3 + 1]);
            }
        }
    }

    #[test]
    fn one_pixel_and_one_row_pictures_are_filtered_without_panicking() {
        let filter = Restoration::new(1, 3, vec![MAX_WEIGHT; 42]).unwrap();
        for (w, h) in [(1, 1), (1, 40), (40, 1), (3, 2)] {
            let mut p = picture(w, h, 3);
            filter.apply(&mut p);
            let mut flipped = picture(w, h, 3);
            Restoration::new(1, 3, vec![-MAX_WEIGHT; 42]).unwrap().apply(&mut flipped);
        }
    }

    #[test]
    fn payloads_round_trip_and_bad_ones_are_refused() {
        let filter = Restoration::new(9, 3, (0..42).map(|i| (i - 21) * 1560).collect()).unwrap();
        let bytes = filter.to_bytes();
        assert_eq!(Restoration::parse(&bytes, 3).unwrap(), filter);
        assert_eq!(Restoration::new(1, 1, vec![MAX_WEIGHT, -MAX_WEIGHT, 0, 1, -1, 63, -64, 64, 8191, -8192, 8192, 5]).unwrap().to_bytes().len(), 3 + 21);
        let corrupt = |b: &[u8], channels| matches!(Restoration::parse(b, channels), Err(FormatError::CorruptPayload(_)));
        assert!(corrupt(&bytes, 1), "another channel count");
        assert!(corrupt(&bytes[..bytes.len() - 1], 3), "truncated");
        assert!(corrupt(&[bytes.as_slice(), &[0]].concat(), 3), "trailing byte");
        assert!(corrupt(&[2, 8, 1], 1), "unknown version");
        assert!(corrupt(&[1, 8], 1), "short head");
        let weights = |shift: u8, first: &[u8]| [&[1, shift, 1][..], first, &[0; 11]].concat();
        assert!(!corrupt(&weights(14, &[0]), 1));
        assert!(corrupt(&weights(0, &[0]), 1), "shift 0");
        assert!(corrupt(&weights(15, &[0]), 1), "shift 15");
        assert!(corrupt(&weights(8, &[0xff, 0xff, 0x03]), 1), "weight -32768");
        assert!(corrupt(&weights(8, &[0x80, 0x80, 0x04]), 1), "weight 32768");
        assert!(!corrupt(&weights(8, &[0xfd, 0xff, 0x03]), 1), "weight -32767");
        assert!(corrupt(&weights(8, &[0x80, 0x80, 0x80, 0x00]), 1), "4-byte varint");
    }
}
