//! The restoration filter: small Wiener filters that the encoder fits to each picture by least
//! squares against the original and the decoder applies to the decoded 8-bit samples, in
//! integer arithmetic (AV1's loop restoration and VVC's adaptive loop filter do the same after
//! their transforms). They take back some of the detail the synthesis transform smooths away:
//! 0.1–0.3 dB on the evaluation set for 50–200 bytes.
//!
//! Pixels fall into classes by their local activity, each class with its own filter. With `E`
//! the decoded picture extended by repeating its edge samples, `G = Σ_c E_c` (the sum of the
//! channels), `lap(p) = |4·G(p) − G(p ± (1, 0)) − G(p ± (0, 1))|` and the activity
//! `act(p) = Σ lap(p + (a, b))` over `a, b ∈ {−1, 0, 1}`, a pixel's class is the number of the
//! filter's thresholds that `act(p)` reaches. For channel `c` at pixel `p`, with the offsets
//! `o_k` of [`HALF_DIAMOND`] and the picture's other channels `j` (in increasing order), the
//! weights `w_k`, `v_j` of the pixel's class and channel give
//!
//! `acc = Σ_k w_k·(E_c(p + o_k) + E_c(p − o_k) − 2·E_c(p)) + Σ_j v_j·(E_j(p) − E_c(p))`,
//!
//! and the sample becomes `clamp(E_c(p) + ((acc + 2^(s−1)) >> s), 0, 255)` (arithmetic shift).
//! Weights lie within ±[`MAX_WEIGHT`], so `|acc| < 2^28` and `i32` holds every sum exactly.
//!
//! Payload (a container section of its own; `format-spec/aec-v2.md`, step 6): version `u8` = 1,
//! shift `s` `u8` (1..=14), channel count `u8` (1 or 3, the picture's), class count `u8`
//! (1..=8), the `classes − 1` thresholds (non-decreasing), then per class and channel its 12
//! spatial weights and its `channels − 1` cross-channel weights. Thresholds and weights are
//! LEB128 varints of at most 3 bytes, the weights zigzag-coded; nothing follows the last one.

use rayon::prelude::*;

use super::pixels::{Pixels, squared_error};
use crate::format::FormatError;

/// One half of the diamond of radius 3 around a pixel, `(row, column)` offsets: each offset
/// stands for itself and its opposite (the filter is point-symmetric).
pub const HALF_DIAMOND: [(isize, isize); 12] = [(0, 1), (0, 2), (0, 3), (1, -2), (1, -1), (1, 0), (1, 1), (1, 2), (2, -1), (2, 0), (2, 1), (3, 0)];
/// Largest magnitude of a weight.
pub const MAX_WEIGHT: i32 = 32767;
/// Most classes a filter has.
pub const MAX_CLASSES: usize = 8;
/// The payload version this reader knows.
const VERSION: u8 = 1;
/// The reach of the filter around a pixel.
const RADIUS: usize = 3;
/// Largest shift.
const MAX_SHIFT: u32 = 14;
/// Largest activity: nine Laplacians of sums of three 8-bit samples.
const MAX_ACTIVITY: usize = 9 * 4 * 3 * 255;
/// Largest value of a 3-byte varint.
const MAX_VARINT: u32 = (1 << 21) - 1;
/// Output rows a thread filters at once.
const BAND_ROWS: usize = 32;
/// Pixels in a row segment whose products of features are summed in `i32` (at most
/// 510² · 2048 < 2^31).
const SEGMENT: usize = 2048;
/// The shifts the encoder tries (the finer, the more bytes a weight may take).
const SHIFTS: std::ops::Range<u32> = 7..11;
/// The encoder's finest split of the pixels by activity (classes are runs of these bins).
const BINS: usize = 16;
/// Most classes the encoder gives a filter: on the evaluation set 8 gained nothing measurable
/// over 4 (BD-rate within 0.1 point) and a decode filters each pixel once per class.
const ENCODER_CLASSES: usize = 4;
/// Pictures smaller than this are not worth a filter (its section would outweigh the gain).
const MIN_PIXELS: usize = 4096;

/// A filter: its shift, its classes' thresholds and, per class and channel, [`HALF_DIAMOND`]'s
/// weights then the cross-channel ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restoration {
    shift: u32,
    channels: usize,
    thresholds: Vec<u32>,
    weights: Vec<i32>,
}

/// Weights of one channel of one class: the spatial ones and one per other channel.
fn weights_per_channel(channels: usize) -> usize {
    HALF_DIAMOND.len() + channels - 1
}

/// Appends a LEB128 varint.
fn write_varint(out: &mut Vec<u8>, mut v: u32) {
    while v >= 0x80 {
        out.push((v as u8 & 0x7f) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Reads a LEB128 varint of at most 3 bytes.
fn read_varint(bytes: &mut std::slice::Iter<'_, u8>) -> Result<u32, &'static str> {
    let mut v = 0u32;
    for i in 0..3 {
        let &b = bytes.next().ok_or("cut short")?;
        v |= u32::from(b & 0x7f) << (7 * i);
        if b < 0x80 {
            return Ok(v);
        }
    }
    Err("a number longer than 3 bytes")
}

impl Restoration {
    /// A filter of these thresholds (`classes − 1`, non-decreasing) and weights (per class and
    /// channel [`HALF_DIAMOND`]'s then the cross-channel ones), or `None` if a count or value
    /// is out of range.
    pub fn new(shift: u32, channels: usize, thresholds: Vec<u32>, weights: Vec<i32>) -> Option<Self> {
        let classes = thresholds.len() + 1;
        let valid = (1..=MAX_SHIFT).contains(&shift)
            && matches!(channels, 1 | 3)
            && classes <= MAX_CLASSES
            && thresholds.is_sorted()
            && thresholds.iter().all(|&t| t <= MAX_VARINT)
            && weights.len() == classes * channels * weights_per_channel(channels)
            && weights.iter().all(|w| w.abs() <= MAX_WEIGHT);
        valid.then_some(Self { shift, channels, thresholds, weights })
    }

    /// The channel count of the pictures it filters.
    pub fn channels(&self) -> usize {
        self.channels
    }

    /// Its number of classes.
    pub fn classes(&self) -> usize {
        self.thresholds.len() + 1
    }

    /// The weights of a class and channel.
    fn weights_of(&self, class: usize, channel: usize) -> &[i32] {
        let n = weights_per_channel(self.channels);
        &self.weights[(class * self.channels + channel) * n..][..n]
    }

    /// The payload of its section.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = vec![VERSION, self.shift as u8, self.channels as u8, self.classes() as u8];
        self.thresholds.iter().for_each(|&t| write_varint(&mut out, t));
        self.weights.iter().for_each(|&w| write_varint(&mut out, ((w << 1) ^ (w >> 31)) as u32));
        out
    }

    /// Reads a section's payload for a picture of `channels` channels.
    ///
    /// # Errors
    /// [`FormatError::CorruptPayload`] for another version, a shift beyond 1..=14, another
    /// channel count, a class count beyond 1..=8, decreasing thresholds, a number that is not a
    /// varint of at most 3 bytes, a weight beyond ±32767, or bytes after the last weight.
    pub fn parse(payload: &[u8], channels: usize) -> Result<Self, FormatError> {
        let bad = |why: &str| FormatError::CorruptPayload(format!("restoration filter: {why}"));
        let [version, shift, count, classes, rest @ ..] = payload else { return Err(bad("shorter than its head")) };
        if *version != VERSION {
            return Err(bad(&format!("unknown version {version}")));
        }
        if usize::from(*count) != channels {
            return Err(bad(&format!("{count} channels for a picture of {channels}")));
        }
        let classes = usize::from(*classes);
        if !(1..=MAX_CLASSES).contains(&classes) {
            return Err(bad(&format!("{classes} classes")));
        }
        let mut bytes = rest.iter();
        let thresholds = (1..classes).map(|_| read_varint(&mut bytes)).collect::<Result<Vec<_>, _>>().map_err(bad)?;
        let weights = (0..classes * channels * weights_per_channel(channels))
            .map(|_| read_varint(&mut bytes).map(|v| (v >> 1) as i32 ^ -((v & 1) as i32)))
            .collect::<Result<Vec<_>, _>>()
            .map_err(bad)?;
        if bytes.len() > 0 {
            return Err(bad("bytes after the weights"));
        }
        if !thresholds.is_sorted() {
            return Err(bad("decreasing thresholds"));
        }
        Self::new(u32::from(*shift), channels, thresholds, weights).ok_or_else(|| bad("a shift beyond 1..=14 or a weight beyond ±32767"))
    }

    /// Filters a picture in place.
    ///
    /// # Panics
    /// If the picture's channel count is not the filter's (checked when the file is read).
    pub fn apply(&self, picture: &mut Pixels) {
        assert_eq!(picture.channels, self.channels, "restoration filter of another channel count");
        let source = Pixels { samples: picture.samples.clone(), ..*picture };
        let weights: Vec<DecoderWeights> = (0..self.channels).map(|c| DecoderWeights::of(self, c)).collect();
        picture.samples.par_chunks_mut((BAND_ROWS * picture.width * picture.channels).max(1)).enumerate().for_each(|(b, out)| {
            // With AVX2 where the processor has it (the sums are integers, the same on every
            // path).
            super::simd::run(FilterBand { filter: self, weights: &weights, source: &source, b, out });
        });
    }

    /// Filters band `b` of `source` into `out` (its output rows), with each channel's weights
    /// as the decoder's sums take them.
    #[inline(always)]
    fn filter_band(&self, weights: &[DecoderWeights], source: &Pixels, b: usize, out: &mut [u8]) {
        let (width, channels) = (source.width, source.channels);
        let round = 1i32 << (self.shift - 1);
        let band = Band::of(source, band_rows(b, source.height), self.classes() > 1);
        let lanes = band.padded_width();
        let mut acc = vec![0i32; lanes];
        let (mut classes, mut activity) = (vec![0u8; width], vec![0u32; width]);
        // The classes widened to the sums' lanes (so that choosing a sum is a vector select).
        let mut class_lanes = vec![0i32; lanes];
        let mut pairs = vec![vec![0i16; 2 * lanes]; PAIRS];
        let mut filtered = vec![0u8; lanes];
        for (i, out_row) in out.chunks_exact_mut(width * channels).enumerate() {
            if self.classes() > 1 {
                band.classify(i, &self.thresholds, &mut activity, &mut classes);
                class_lanes.iter_mut().zip(&classes).for_each(|(lane, &class)| *lane = i32::from(class));
            }
            for (c, weights) in weights.iter().enumerate() {
                let own = band.neighbourhood(c, i, &mut pairs);
                row_sums(&pairs, own, weights, &class_lanes, &mut acc);
                // The samples in a row of their own (whole vector steps), then into their
                // channel's places.
                for ((v, &a), &d) in filtered.iter_mut().zip(&acc).zip(own) {
                    *v = (i32::from(d) + ((a + round) >> self.shift)).clamp(0, 255) as u8;
                }
                out_row[c..].iter_mut().step_by(channels).zip(&filtered).for_each(|(sample, &v)| *sample = v);
            }
        }
    }
}

/// [`Restoration::filter_band`] as a task that `pulp` compiles for each instruction set (a
/// closure would not be inlined into those versions).
struct FilterBand<'a> {
    filter: &'a Restoration,
    weights: &'a [DecoderWeights],
    source: &'a Pixels,
    b: usize,
    out: &'a mut [u8],
}

impl pulp::WithSimd for FilterBand<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _: S) {
        self.filter.filter_band(self.weights, self.source, self.b, self.out);
    }
}

/// Samples a step of the decoder's filter handles at once (eight `i32` lanes of AVX2).
const LANES: usize = 8;
/// The terms of the decoder's sum: [`HALF_DIAMOND`]'s, two of the other channels, the sample's
/// own.
const TERMS: usize = HALF_DIAMOND.len() + 3;
/// The terms but the last, two at a time.
const PAIRS: usize = (TERMS - 1) / 2;

/// One class and channel's weights as the weights of the decoder's terms: the filter's sum
/// `Σ_k w_k·(p_k + q_k − 2m) + Σ_j v_j·(e_j − m)` is `Σ_k w_k·(p_k + q_k) + Σ_j v_j·e_j + u·m`
/// with `u = −2·Σ_k w_k − Σ_j v_j`, the same integer (no partial sum leaves `i32`: each part is
/// below 2^28 in magnitude). A gray picture's two cross-channel weights are 0.
fn terms(weights: &[i32]) -> [i32; TERMS] {
    let (spatial, cross) = weights.split_at(HALF_DIAMOND.len());
    let mut terms = [0; TERMS];
    terms[..spatial.len()].copy_from_slice(spatial);
    terms[HALF_DIAMOND.len()..][..cross.len()].copy_from_slice(cross);
    terms[TERMS - 1] = -2 * spatial.iter().sum::<i32>() - cross.iter().sum::<i32>();
    terms
}

/// One channel's weights as the decoder's sums take them, for the filter's classes padded to
/// a count its sums are compiled for (1, 4 or [`MAX_CLASSES`], for binary size: a filter of 2,
/// 3, 5, 6 or 7 classes runs as one of 4 or 8 whose extra classes have no pixel and no weight).
struct DecoderWeights {
    /// Per class and pair of terms, the pair's two weights repeated over a step's lanes.
    pairs: Vec<[[i16; 2 * LANES]; PAIRS]>,
    /// Per class, the weight of the last term (the sample's own).
    own: Vec<i32>,
}

impl DecoderWeights {
    /// Channel `channel`'s weights of `filter`. Every weight but the last term's fits `i16`
    /// (at most [`MAX_WEIGHT`]).
    fn of(filter: &Restoration, channel: usize) -> Self {
        let classes = match filter.classes() {
            1 => 1,
            2..=4 => 4,
            _ => MAX_CLASSES,
        };
        let terms: Vec<[i32; TERMS]> =
            (0..classes).map(|class| if class < filter.classes() { terms(filter.weights_of(class, channel)) } else { [0; TERMS] }).collect();
        let pairs = terms.iter().map(|t| std::array::from_fn(|k| std::array::from_fn(|j| t[2 * k + j % 2] as i16))).collect();
        Self { pairs, own: terms.iter().map(|t| t[TERMS - 1]).collect() }
    }
}

/// The sums of a row, `out[x] = Σ_t weights[class(x)][t]·term_t[x]`, in whole vector steps:
/// `pairs` are the terms but the last interleaved two by two (as [`Band::neighbourhood`] makes
/// them, rows of twice `out`'s length), `own` the last term's row and `classes` the pixels'
/// classes (both of `out`'s length).
#[inline(always)]
fn row_sums(pairs: &[Vec<i16>], own: &[i16], weights: &DecoderWeights, classes: &[i32], out: &mut [i32]) {
    let pairs: &[Vec<i16>; PAIRS] = pairs.try_into().expect("the pairs of terms");
    match weights.own.len() {
        1 => class_sums::<1>(pairs, own, weights, classes, out),
        4 => class_sums::<4>(pairs, own, weights, classes, out),
        _ => class_sums::<MAX_CLASSES>(pairs, own, weights, classes, out),
    }
}

/// [`row_sums`] for `C` classes: every class's sum of each step in registers, each pixel
/// keeping its own class's. A pair of terms is two adjacent `i16` of a pixel times two `i16`
/// weights, summed into an `i32`: the shape of one instruction where the processor has it
/// (AVX2's `vpmaddwd`). Every term fits `i16` (at most 510), and no sum leaves `i32`.
#[inline(always)]
fn class_sums<const C: usize>(pairs: &[Vec<i16>; PAIRS], own: &[i16], weights: &DecoderWeights, classes: &[i32], out: &mut [i32]) {
    let pair_weights: &[[[i16; 2 * LANES]; PAIRS]; C] = weights.pairs.as_slice().try_into().expect("C classes");
    let own_weights: &[i32; C] = weights.own.as_slice().try_into().expect("C classes");
    for (x, out) in out.chunks_exact_mut(LANES).enumerate() {
        let mut s = [[0i32; LANES]; C];
        for (k, pair) in pairs.iter().enumerate() {
            let terms: &[i16; 2 * LANES] = pair[2 * x * LANES..2 * (x + 1) * LANES].try_into().expect("whole steps");
            for (s, w) in s.iter_mut().zip(pair_weights) {
                let w = &w[k];
                let products: [i32; LANES] =
                    std::array::from_fn(|j| i32::from(terms[2 * j]) * i32::from(w[2 * j]) + i32::from(terms[2 * j + 1]) * i32::from(w[2 * j + 1]));
                s.iter_mut().zip(products).for_each(|(s, p)| *s += p);
            }
        }
        let lanes = x * LANES..(x + 1) * LANES;
        let own: &[i16; LANES] = own[lanes.clone()].try_into().expect("whole steps");
        let own: [i32; LANES] = own.map(i32::from);
        for (s, &u) in s.iter_mut().zip(own_weights) {
            for (s, &m) in s.iter_mut().zip(&own) {
                *s += u * m;
            }
        }
        let class: &[i32; LANES] = classes[lanes].try_into().expect("whole steps");
        let mut chosen = s[0];
        for (m, s) in s.iter().enumerate().skip(1) {
            chosen = std::array::from_fn(|j| if class[j] == m as i32 { s[j] } else { chosen[j] });
        }
        out.copy_from_slice(&chosen);
    }
}

/// Writes `first` and `second` into `out` alternately, starting with `first`.
#[inline(always)]
fn interleave(out: &mut [i16], first: impl Iterator<Item = i16>, second: impl Iterator<Item = i16>) {
    for (out, (a, b)) in out.chunks_exact_mut(2).zip(first.zip(second)) {
        out[0] = a;
        out[1] = b;
    }
}

/// The output rows of band `b` of a picture of `height` rows.
fn band_rows(b: usize, height: usize) -> std::ops::Range<usize> {
    b * BAND_ROWS..(b * BAND_ROWS + BAND_ROWS).min(height)
}

/// Rows of a picture around some output rows, every channel as `i16`, with [`RADIUS`] samples
/// of repeated edge on every side (the extended picture `E`): `[channel][row][column]`; with
/// the Laplacian of the channels' sum where classes need the activity.
struct Band {
    samples: Vec<i16>,
    /// Samples in a row: the width and both borders.
    stride: usize,
    /// Rows of a channel: the output rows and both borders.
    rows: usize,
    width: usize,
    channels: usize,
    /// `lap` of every sample of the band but its outermost ring (which is 0), `[row][column]`;
    /// empty when not asked for.
    laplacian: Vec<u16>,
}

impl Band {
    /// The band of output rows `rows`, with the Laplacian if `with_activity`.
    fn of(picture: &Pixels, rows: std::ops::Range<usize>, with_activity: bool) -> Self {
        let (width, height, channels) = (picture.width, picture.height, picture.channels);
        // Room after each row for the decoder's whole vector steps (`padded_width`).
        let stride = width + 2 * RADIUS + LANES;
        let band_rows = rows.len() + 2 * RADIUS;
        let mut samples = vec![0i16; channels * band_rows * stride];
        for (r, row) in samples.chunks_exact_mut(stride).enumerate() {
            let (c, i) = (r / band_rows, r % band_rows);
            let y = (rows.start + i).saturating_sub(RADIUS).min(height - 1);
            let source = &picture.samples[y * width * channels..(y + 1) * width * channels];
            for (v, &s) in row[RADIUS..RADIUS + width].iter_mut().zip(source[c..].iter().step_by(channels)) {
                *v = i16::from(s);
            }
            let (first, last) = (row[RADIUS], row[RADIUS + width - 1]);
            row[..RADIUS].fill(first);
            row[RADIUS + width..].fill(last);
        }
        let mut band = Self { samples, stride, rows: band_rows, width, channels, laplacian: Vec::new() };
        if with_activity {
            band.laplacian = band.laplacian();
        }
        band
    }

    /// `lap` of the channels' sum over the band (0 on its outermost ring).
    fn laplacian(&self) -> Vec<u16> {
        let plane = self.rows * self.stride;
        let mut sum = vec![0i32; plane];
        for channel in self.samples.chunks_exact(plane) {
            sum.iter_mut().zip(channel).for_each(|(s, &v)| *s += i32::from(v));
        }
        let mut out = vec![0u16; plane];
        let stride = self.stride;
        for r in 1..self.rows - 1 {
            let (above, row, below) = (&sum[(r - 1) * stride..r * stride], &sum[r * stride..(r + 1) * stride], &sum[(r + 1) * stride..(r + 2) * stride]);
            let inner = &mut out[r * stride + 1..(r + 1) * stride - 1];
            let neighbours = row.iter().zip(&row[2..]).zip(&above[1..]).zip(&below[1..]);
            for ((l, (((&left, &right), &up), &down)), &centre) in inner.iter_mut().zip(neighbours).zip(&row[1..]) {
                *l = (4 * centre - left - right - up - down).unsigned_abs() as u16;
            }
        }
        out
    }

    /// The activity of every pixel of output row `i`.
    #[inline(always)]
    fn activity(&self, i: usize, out: &mut [u32]) {
        out.fill(0);
        for r in i + RADIUS - 1..=i + RADIUS + 1 {
            // Columns x + RADIUS − 1 ..= x + RADIUS + 1 of the band's row.
            let row = &self.laplacian[r * self.stride + RADIUS - 1..(r + 1) * self.stride];
            for (((a, &left), &middle), &right) in out.iter_mut().zip(row).zip(&row[1..]).zip(&row[2..]) {
                *a += u32::from(left) + u32::from(middle) + u32::from(right);
            }
        }
    }

    /// The class of every pixel of output row `i`: how many of `thresholds` its activity
    /// reaches (`activity` is working space).
    #[inline(always)]
    fn classify(&self, i: usize, thresholds: &[u32], activity: &mut [u32], out: &mut [u8]) {
        self.activity(i, activity);
        out.fill(0);
        for &t in thresholds {
            out.iter_mut().zip(activity.iter()).for_each(|(class, &a)| *class += u8::from(a >= t));
        }
    }

    /// `len` samples of channel `c` of output row `i` (counted from the band's first), shifted
    /// by `(dy, dx)`.
    #[inline(always)]
    fn row(&self, c: usize, i: usize, (dy, dx): (isize, isize), len: usize) -> &[i16] {
        let row = (i + RADIUS).wrapping_add_signed(dy);
        let start = (c * self.rows + row) * self.stride + RADIUS.wrapping_add_signed(dx);
        &self.samples[start..start + len]
    }

    /// Channel `c` of output row `i` (counted from the band's first), shifted by `(dy, dx)`.
    fn shifted(&self, c: usize, i: usize, dy: isize, dx: isize) -> &[i16] {
        self.row(c, i, (dy, dx), self.width)
    }

    /// The row length the decoder's filter computes: the width rounded up to whole vector
    /// steps (the samples beyond the width repeat the last column).
    fn padded_width(&self) -> usize {
        self.width.next_multiple_of(LANES)
    }

    /// The terms of channel `c` of output row `i`, [`Band::padded_width`] pixels: into `pairs`
    /// ([`PAIRS`] rows of twice that length), the [`TERMS`] but the last two at a time,
    /// interleaved pixel by pixel (term `2k` then `2k + 1` of each pixel in row `k`: the sums of
    /// opposite samples, then the other channels); returned, the sample's own row.
    #[inline(always)]
    fn neighbourhood(&self, c: usize, i: usize, pairs: &mut [Vec<i16>]) -> &[i16] {
        let row = |c: usize, (dy, dx): (isize, isize)| self.row(c, i, (dy, dx), self.padded_width());
        let opposite = |(dy, dx): (isize, isize)| (-dy, -dx);
        let (spatial, cross) = pairs.split_at_mut(HALF_DIAMOND.len() / 2);
        // Each sample plus the one opposite it.
        let sums = |offset| row(c, offset).iter().zip(row(c, opposite(offset))).map(|(&p, &q)| p + q);
        for (pair, offsets) in spatial.iter_mut().zip(HALF_DIAMOND.chunks_exact(2)) {
            interleave(pair, sums(offsets[0]), sums(offsets[1]));
        }
        // A gray picture's cross-channel terms (weight 0) read its own row.
        let mut others = (0..self.channels).filter(|&j| j != c);
        let mut other = || row(others.next().unwrap_or(c), (0, 0)).iter().copied();
        interleave(&mut cross[0], other(), other());
        row(c, (0, 0))
    }

    /// Channel `c` of output row `i`.
    fn center(&self, c: usize, i: usize) -> &[i16] {
        self.shifted(c, i, 0, 0)
    }

    /// The terms the weights of channel `c` multiply, at the pixels `xs` of output row `i`:
    /// into the first `xs.len()` samples of each of `out`'s rows.
    fn features(&self, i: usize, c: usize, xs: std::ops::Range<usize>, out: &mut [Vec<i16>]) {
        let center = &self.center(c, i)[xs.clone()];
        for (f, &(dy, dx)) in out.iter_mut().zip(&HALF_DIAMOND) {
            let (ahead, behind) = (&self.shifted(c, i, dy, dx)[xs.clone()], &self.shifted(c, i, -dy, -dx)[xs.clone()]);
            for (((f, &p), &q), &m) in f.iter_mut().zip(ahead).zip(behind).zip(center) {
                *f = p + q - 2 * m;
            }
        }
        for (f, j) in out[HALF_DIAMOND.len()..].iter_mut().zip((0..self.channels).filter(|&j| j != c)) {
            for ((f, &o), &m) in f.iter_mut().zip(&self.center(j, i)[xs.clone()]).zip(center) {
                *f = o - m;
            }
        }
    }
}

/// The least-squares problem of one channel's weights over some pixels: `Σ f fᵀ` and `Σ f·t`,
/// `f` the filter's features (the terms its weights multiply) and `t` the original sample
/// minus the decoded one.
#[derive(Clone)]
struct NormalEquations {
    n: usize,
    /// The upper triangle of `Σ f fᵀ` (row-major, `n x n`).
    gram: Vec<i64>,
    target: Vec<i64>,
}

impl NormalEquations {
    fn new(n: usize) -> Self {
        Self { n, gram: vec![0; n * n], target: vec![0; n] }
    }

    fn add(&mut self, other: &Self) {
        self.gram.iter_mut().zip(&other.gram).for_each(|(a, b)| *a += b);
        self.target.iter_mut().zip(&other.target).for_each(|(a, b)| *a += b);
    }

    /// Adds a row segment's targets and features (the first `targets.len()` of each of the
    /// `n` rows).
    fn add_segment(&mut self, features: &[Vec<i16>], targets: &[i16]) {
        let len = targets.len();
        let dot = |a: &[i16], b: &[i16]| i64::from(a[..len].iter().zip(&b[..len]).map(|(&x, &y)| i32::from(x) * i32::from(y)).sum::<i32>());
        for k in 0..self.n {
            for l in k..self.n {
                self.gram[k * self.n + l] += dot(&features[k], &features[l]);
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

/// Runs `each(band, output row, picture row)` over every row of a picture, a band of rows at a
/// time on every thread, and sums what each band's `state` gathered with `merge`.
fn over_rows<T: Send>(
    picture: &Pixels,
    with_activity: bool,
    state: impl Fn() -> T + Sync + Send,
    each: impl Fn(&mut T, &Band, usize, usize) + Sync + Send,
    merge: impl Fn(T, T) -> T + Sync + Send,
) -> T {
    (0..picture.height.div_ceil(BAND_ROWS))
        .into_par_iter()
        .map(|b| {
            let rows = band_rows(b, picture.height);
            let band = Band::of(picture, rows.clone(), with_activity);
            let mut gathered = state();
            for (i, y) in rows.enumerate() {
                each(&mut gathered, &band, i, y);
            }
            gathered
        })
        .reduce(&state, merge)
}

/// How many pixels have each activity.
fn activity_histogram(picture: &Pixels) -> Vec<u64> {
    over_rows(
        picture,
        true,
        || vec![0u64; MAX_ACTIVITY + 1],
        |histogram, band, i, _| {
            let mut activity = vec![0u32; band.width];
            band.activity(i, &mut activity);
            activity.iter().for_each(|&a| histogram[a as usize] += 1);
        },
        |mut a, b| {
            a.iter_mut().zip(&b).for_each(|(a, b)| *a += b);
            a
        },
    )
}

/// Up to `bins − 1` thresholds that split the pixels into runs of activity of about equal
/// counts (fewer where many pixels share an activity).
fn quantile_thresholds(histogram: &[u64], bins: usize) -> Vec<u32> {
    let total: u64 = histogram.iter().sum();
    let mut thresholds = Vec::new();
    let mut seen = 0u64;
    for (activity, &count) in histogram.iter().enumerate() {
        let next = thresholds.len() as u64 + 1;
        if seen >= total * next / bins as u64 && seen > 0 && thresholds.len() + 1 < bins {
            thresholds.push(activity as u32);
        }
        seen += count;
    }
    thresholds
}

/// Pixels of one activity bin and channel gathered until [`SEGMENT`] of them are added to its
/// normal equations at once (long sums of products vectorise; a row holds few of a bin's).
struct Pending {
    features: Vec<Vec<i16>>,
    targets: Vec<i16>,
}

impl Pending {
    fn new(n: usize) -> Self {
        Self { features: vec![Vec::with_capacity(SEGMENT); n], targets: Vec::with_capacity(SEGMENT) }
    }

    /// Adds what is gathered to `sums` and empties it.
    fn flush(&mut self, sums: &mut NormalEquations) {
        sums.add_segment(&self.features, &self.targets);
        self.features.iter_mut().for_each(Vec::clear);
        self.targets.clear();
    }
}

/// The normal equations of every activity bin (split by `thresholds`) and channel of
/// `decoded` against `original` (same size): `[bin][channel]`.
fn normal_equations(original: &Pixels, decoded: &Pixels, thresholds: &[u32]) -> Vec<Vec<NormalEquations>> {
    let (width, channels) = (decoded.width, decoded.channels);
    let (n, bins) = (weights_per_channel(channels), thresholds.len() + 1);
    let empty = || vec![vec![NormalEquations::new(n); channels]; bins];
    (0..decoded.height.div_ceil(BAND_ROWS))
        .into_par_iter()
        .map(|b| {
            let rows = band_rows(b, decoded.height);
            let band = Band::of(decoded, rows.clone(), bins > 1);
            let mut sums = empty();
            let mut pending: Vec<Vec<Pending>> = (0..bins).map(|_| (0..channels).map(|_| Pending::new(n)).collect()).collect();
            let (mut features, mut targets) = (vec![vec![0i16; width]; n], vec![0i16; width]);
            let (mut activity, mut bin_of) = (vec![0u32; width], vec![0u8; width]);
            for (i, y) in rows.enumerate() {
                if bins > 1 {
                    band.classify(i, thresholds, &mut activity, &mut bin_of);
                }
                for c in 0..channels {
                    band.features(i, c, 0..width, &mut features);
                    let source = &original.samples[y * width * channels..(y + 1) * width * channels];
                    for ((t, &m), x) in targets.iter_mut().zip(band.center(c, i)).zip(0..width) {
                        *t = i16::from(source[x * channels + c]) - m;
                    }
                    for x in 0..width {
                        let bin = usize::from(bin_of[x]);
                        let gathered = &mut pending[bin][c];
                        gathered.features.iter_mut().zip(&features).for_each(|(g, f)| g.push(f[x]));
                        gathered.targets.push(targets[x]);
                        if gathered.targets.len() == SEGMENT {
                            gathered.flush(&mut sums[bin][c]);
                        }
                    }
                }
            }
            for (pending, sums) in pending.iter_mut().zip(&mut sums) {
                pending.iter_mut().zip(sums).for_each(|(p, s)| p.flush(s));
            }
            sums
        })
        .reduce(empty, |mut a, b| {
            a.iter_mut().zip(&b).for_each(|(a, b)| a.iter_mut().zip(b).for_each(|(a, b)| a.add(b)));
            a
        })
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

/// The classes of a run of activity bins `[first, end)`: each channel's summed normal
/// equations, their real least-squares weights and the change of the squared error these make.
struct Run {
    equations: Vec<NormalEquations>,
    weights: Vec<Vec<f64>>,
    change: f64,
}

impl Run {
    /// The run of `bins[first..end]` (`[bin][channel]`), or `None` for a singular system.
    fn of(bins: &[Vec<NormalEquations>], first: usize, end: usize) -> Option<Self> {
        let equations: Vec<NormalEquations> = (0..bins[0].len())
            .map(|c| {
                let mut sum = NormalEquations::new(bins[0][c].n);
                bins[first..end].iter().for_each(|bin| sum.add(&bin[c]));
                sum
            })
            .collect();
        let weights: Vec<Vec<f64>> = equations.iter().map(NormalEquations::solve).collect::<Option<_>>()?;
        let change = equations.iter().zip(&weights).map(|(e, w)| e.change(w)).sum();
        Some(Self { equations, weights, change })
    }
}

/// For every class count `k` from 1 to `most`, the split of the bins into `k` runs whose real
/// weights lower the squared error most (dynamic programming: each run's change is its own),
/// as the first bin of every run.
fn best_splits(runs: &[Vec<Option<Run>>], bins: usize, most: usize) -> Vec<Vec<usize>> {
    // best[k][end]: the lowest change of `bins[..end]` in k + 1 runs, and where its last starts.
    let mut best: Vec<Vec<Option<(f64, usize)>>> = vec![vec![None; bins + 1]; most];
    for end in 1..=bins {
        best[0][end] = runs[0][end].as_ref().map(|r| (r.change, 0));
    }
    for k in 1..most {
        for end in k + 1..=bins {
            best[k][end] =
                (k..end).filter_map(|start| Some((best[k - 1][start]?.0 + runs[start][end].as_ref()?.change, start))).min_by(|a, b| a.0.total_cmp(&b.0));
        }
    }
    (0..most)
        .filter(|&k| best[k][bins].is_some())
        .map(|k| {
            let mut starts = vec![0; k + 1];
            let mut end = bins;
            for level in (0..=k).rev() {
                let start = best[level][end].expect("a split that was found").1;
                starts[level] = start;
                end = start;
            }
            starts
        })
        .collect()
}

/// The encoder's filter for a decoded picture: for 1 to 4 classes, the runs of activity bins
/// and least-squares weights against the original that lower the squared error most, rounded
/// at the shift of [`SHIFTS`] that costs least; of these the one of lowest rate–distortion
/// cost `bits / pixels + λ·MSE` (MSE of 8-bit samples, all channels) once its section
/// (`overhead` bytes besides the payload) is paid for, kept only if that cost is below the
/// unfiltered picture's.
pub fn fit(original: &Pixels, decoded: &Pixels, lambda: f64, overhead: usize) -> Option<Fitted> {
    assert_eq!((original.width, original.height, original.channels), (decoded.width, decoded.height, decoded.channels), "picture sizes");
    let pixels = decoded.width * decoded.height;
    if pixels < MIN_PIXELS || !matches!(decoded.channels, 1 | 3) {
        return None;
    }
    let samples = (pixels * decoded.channels) as f64;
    let cost = |filter: &Restoration, squared_error_change: f64| {
        (8 * (filter.to_bytes().len() + overhead)) as f64 / pixels as f64 + lambda * squared_error_change / samples
    };
    let bin_thresholds = quantile_thresholds(&activity_histogram(decoded), BINS);
    let bins = normal_equations(original, decoded, &bin_thresholds);
    let n = weights_per_channel(decoded.channels);
    // runs[first][end] for first < end.
    let runs: Vec<Vec<Option<Run>>> =
        (0..bins.len()).map(|first| (0..=bins.len()).map(|end| if end > first { Run::of(&bins, first, end) } else { None }).collect()).collect();
    let mut best: Option<(f64, Restoration)> = None;
    for starts in best_splits(&runs, bins.len(), ENCODER_CLASSES.min(bins.len())) {
        let ends = starts.iter().skip(1).copied().chain([bins.len()]);
        let classes: Vec<&Run> = starts.iter().zip(ends).map(|(&first, end)| runs[first][end].as_ref().expect("a run of the split")).collect();
        let thresholds: Vec<u32> = starts[1..].iter().map(|&first| bin_thresholds[first - 1]).collect();
        for shift in SHIFTS {
            let scale = f64::from(1u32 << shift);
            let weights: Vec<i32> = classes
                .iter()
                .flat_map(|run| run.weights.iter().flatten())
                .map(|w| (w * scale).round().clamp(-f64::from(MAX_WEIGHT), f64::from(MAX_WEIGHT)) as i32)
                .collect();
            let Some(filter) = Restoration::new(shift, decoded.channels, thresholds.clone(), weights) else { continue };
            let equations = classes.iter().flat_map(|run| &run.equations);
            let change: f64 =
                equations.zip(filter.weights.chunks_exact(n)).map(|(e, w)| e.change(&w.iter().map(|&v| f64::from(v) / scale).collect::<Vec<_>>())).sum();
            let candidate = cost(&filter, change);
            if best.as_ref().is_none_or(|(c, _)| candidate < *c) {
                best = Some((candidate, filter));
            }
        }
    }
    let (_, filter) = best?;
    // Judged again on the samples the decoder will write (rounded and clamped).
    let mut picture = decoded.clone();
    filter.apply(&mut picture);
    let change = squared_error(original, &picture) - squared_error(original, decoded);
    (cost(&filter, change as f64) < 0.0).then_some(Fitted { filter, picture })
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

    /// The filter as the module's documentation defines it, a pixel at a time.
    fn filtered_by_definition(filter: &Restoration, p: &Pixels) -> Pixels {
        let (w, h, channels) = (p.width as isize, p.height as isize, p.channels);
        let e = |x: isize, y: isize, c: usize| i32::from(p.samples[(y.clamp(0, h - 1) * w + x.clamp(0, w - 1)) as usize * channels + c]);
        let g = |x: isize, y: isize| (0..channels).map(|c| e(x, y, c)).sum::<i32>();
        let lap = |x: isize, y: isize| (4 * g(x, y) - g(x - 1, y) - g(x + 1, y) - g(x, y - 1) - g(x, y + 1)).unsigned_abs();
        let mut out = p.clone();
        for y in 0..h {
            for x in 0..w {
                let activity: u32 = (-1..=1).flat_map(|b| (-1..=1).map(move |a| (a, b))).map(|(a, b)| lap(x + a, y + b)).sum();
                let class = filter.thresholds.iter().filter(|&&t| activity >= t).count();
                for c in 0..channels {
                    let weights = filter.weights_of(class, c);
                    let m = e(x, y, c);
                    let spatial: i32 =
                        HALF_DIAMOND.iter().zip(weights).map(|(&(dy, dx), &wk)| wk * (e(x + dx, y + dy, c) + e(x - dx, y - dy, c) - 2 * m)).sum();
                    let cross: i32 = (0..channels).filter(|&j| j != c).zip(&weights[HALF_DIAMOND.len()..]).map(|(j, &v)| v * (e(x, y, j) - m)).sum();
                    let acc = spatial + cross;
                    out.samples[(y * w + x) as usize * channels + c] = (m + ((acc + (1 << (filter.shift - 1))) >> filter.shift)).clamp(0, 255) as u8;
                }
            }
        }
        out
    }

    /// The vectorized filter gives what the definition gives, whatever the sizes (widths that
    /// are not whole vector steps, pictures smaller than the filter), classes and weights
    /// (the largest ones included).
    #[test]
    fn the_filter_computes_its_definition() {
        let mut seed = 0x9e37_79b9u32;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            seed
        };
        let sizes = [(37, 45, 3, 4), (8, 3, 3, 8), (1, 1, 3, 2), (2, 9, 1, 3), (53, 34, 1, 1), (16, 70, 3, 1), (9, 5, 3, 5), (12, 11, 1, 6), (23, 4, 3, 7)];
        for (width, height, channels, classes) in sizes {
            let p = picture(width, height, channels);
            let mut thresholds: Vec<u32> = (1..classes).map(|_| next() % 3000).collect();
            thresholds.sort();
            let weights: Vec<i32> = (0..classes * channels * weights_per_channel(channels))
                .map(|i| match i % 7 {
                    0 => MAX_WEIGHT,
                    1 => -MAX_WEIGHT,
                    _ => (next() % 4001) as i32 - 2000,
                })
                .collect();
            for shift in [1, 9, 14] {
                let filter = Restoration::new(shift, channels, thresholds.clone(), weights.clone()).unwrap();
                let mut filtered = p.clone();
                filter.apply(&mut filtered);
                assert_eq!(filtered, filtered_by_definition(&filter, &p), "{width}x{height}x{channels}, {classes} classes, shift {shift}");
            }
        }
    }

    #[test]
    fn a_fitted_filter_takes_back_much_of_a_blur() {
        for channels in [1, 3] {
            let original = picture(97, 71, channels);
            let decoded = blurred(&original);
            let before = squared_error(&original, &decoded);
            let fitted = fit(&original, &decoded, 1.0, 8).expect("the filter pays for itself");
            assert!(fitted.filter.classes() >= 1);
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
        Restoration::new(8, 3, Vec::new(), vec![0; 42]).unwrap().apply(&mut same);
        assert_eq!(same, p);
        // A single weight of 2^s on the red channel's horizontal neighbours: each red sample
        // becomes d(x−1) + d(x+1) − d(x), clamped; the others stay.
        let mut weights = vec![0; 42];
        weights[0] = 256;
        let mut filtered = p.clone();
        Restoration::new(8, 3, Vec::new(), weights).unwrap().apply(&mut filtered);
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
        for classes in [1, MAX_CLASSES] {
            let thresholds: Vec<u32> = (1..classes as u32).map(|t| t * 400).collect();
            let filter = Restoration::new(1, 3, thresholds.clone(), vec![MAX_WEIGHT; 42 * classes]).unwrap();
            let flipped = Restoration::new(1, 3, thresholds, vec![-MAX_WEIGHT; 42 * classes]).unwrap();
            for (w, h) in [(1, 1), (1, 40), (40, 1), (3, 2)] {
                filter.apply(&mut picture(w, h, 3));
                flipped.apply(&mut picture(w, h, 3));
            }
        }
    }

    /// Classes by activity: a two-class filter whose second class has no weights filters the
    /// flat pixels (activity 0, below the threshold 1) and leaves the busy ones as they are.
    #[test]
    fn classes_follow_the_activity() {
        // A flat left half (red 100, green 150, blue 50) and a striped right half.
        let (width, height) = (40, 12);
        let samples = (0..width * height * 3)
            .map(|i| {
                let (x, c) = ((i / 3) % width, i % 3);
                if x < 20 {
                    [100, 150, 50][c]
                } else if x % 2 == 0 {
                    40
                } else {
                    200
                }
            })
            .collect();
        let p = Pixels { width, height, channels: 3, samples };
        let mut weights = vec![0; 2 * 42];
        weights[12] = 1 << 7; // class 0, red: half of green minus red
        let mut filtered = p.clone();
        Restoration::new(8, 3, vec![1], weights).unwrap().apply(&mut filtered);
        for y in 0..height {
            for x in (0..16).chain(24..width) {
                let at = |p: &Pixels, c: usize| p.samples[(y * width + x) * 3 + c];
                let red = if x < 16 { 125 } else { at(&p, 0) };
                assert_eq!([at(&filtered, 0), at(&filtered, 1), at(&filtered, 2)], [red, at(&p, 1), at(&p, 2)], "({x}, {y})");
            }
        }
    }

    #[test]
    fn payloads_round_trip_and_bad_ones_are_refused() {
        let filter = Restoration::new(9, 3, vec![5, 5, 300], (0..168).map(|i| (i - 84) * 390).collect()).unwrap();
        let bytes = filter.to_bytes();
        assert_eq!(Restoration::parse(&bytes, 3).unwrap(), filter);
        let gray = Restoration::new(1, 1, Vec::new(), vec![MAX_WEIGHT, -MAX_WEIGHT, 0, 1, -1, 63, -64, 64, 8191, -8192, 8192, 5]).unwrap();
        assert_eq!(gray.to_bytes().len(), 4 + 21);
        assert_eq!(Restoration::parse(&gray.to_bytes(), 1).unwrap(), gray);
        let corrupt = |b: &[u8], channels| matches!(Restoration::parse(b, channels), Err(FormatError::CorruptPayload(_)));
        assert!(corrupt(&bytes, 1), "another channel count");
        assert!(corrupt(&bytes[..bytes.len() - 1], 3), "truncated");
        assert!(corrupt(&[bytes.as_slice(), &[0]].concat(), 3), "trailing byte");
        assert!(corrupt(&[2, 8, 1, 1], 1), "unknown version");
        assert!(corrupt(&[1, 8, 1], 1), "short head");
        let two_classes = |thresholds: &[u8]| [&[1, 8, 1, 2][..], thresholds, &[0; 24]].concat();
        assert!(!corrupt(&two_classes(&[0x7f]), 1));
        assert!(corrupt(&two_classes(&[0x80, 0x80, 0x80, 0x01]), 1), "a 4-byte threshold");
        assert!(corrupt(&[&[1, 8, 1, 0][..], &[0; 12]].concat(), 1), "no class");
        assert!(corrupt(&[&[1, 8, 1, 9][..], &[0; 8 + 9 * 12]].concat(), 1), "nine classes");
        assert!(corrupt(&[&[1, 8, 1, 3, 9, 8][..], &[0; 36]].concat(), 1), "decreasing thresholds");
        assert!(!corrupt(&[&[1, 8, 1, 3, 8, 8][..], &[0; 36]].concat(), 1), "equal thresholds");
        let weights = |shift: u8, first: &[u8]| [&[1, shift, 1, 1][..], first, &[0; 11]].concat();
        assert!(!corrupt(&weights(14, &[0]), 1));
        assert!(corrupt(&weights(0, &[0]), 1), "shift 0");
        assert!(corrupt(&weights(15, &[0]), 1), "shift 15");
        assert!(corrupt(&weights(8, &[0xff, 0xff, 0x03]), 1), "weight -32768");
        assert!(corrupt(&weights(8, &[0x80, 0x80, 0x04]), 1), "weight 32768");
        assert!(!corrupt(&weights(8, &[0xfd, 0xff, 0x03]), 1), "weight -32767");
        assert!(corrupt(&weights(8, &[0x80, 0x80, 0x80, 0x00]), 1), "4-byte varint");
    }
}
