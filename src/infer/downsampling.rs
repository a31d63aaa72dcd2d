//! The layer of the encoder transform: a 5x5 convolution of stride 2 and padding 2 (2x
//! downsampling), optionally followed by GDN, fused block by block.
//!
//! Output `(m, n)` reads input `(2m + ky - 2, 2n + kx - 2)`. Split the input into its four
//! phases (even/odd rows and columns, each `h/2 x w/2`): input row `2(m + e) + a` is row `m + e`
//! of phase row `a`, reached through tap `ky = 2e + a + 2`, so `e` runs over -1..=1 for `a = 0`
//! and -1..=0 for `a = 1`. The convolution becomes a sum of stride-1 convolutions over the
//! phases, read like the upsampling layer's through strided views of framed maps.

use std::ops::Range;

use rayon::prelude::*;

use super::Maps;
use super::layers::{KERNEL, Normalization, Scratch, TapRow, check_sizes, finish, products, rows_per_block, tap_rows, transposed};

/// Layers with fewer inputs than this (the picture's 3 channels) stack the four phases as
/// channels of one map and read them in one product per tap row (36 taps of which 25 are not
/// zero): a product with `3 * 4 * 3` terms runs far faster than sixteen with 6 or 9.
const FEW_INPUTS: usize = 8;

/// The offsets `e` through which phase row (or column) `a` reaches an output.
fn offsets(a: usize) -> Range<isize> {
    if a == 0 { -1..2 } else { -1..1 }
}

/// The kernel tap through which row `m + e` of phase `a` reaches output row `m`.
fn tap(a: usize, e: isize) -> usize {
    (2 * e + a as isize + 2) as usize
}

/// The phases `(a, b)` in the order of their maps (or channel groups).
const PHASES: [(usize, usize); 4] = [(0, 0), (0, 1), (1, 0), (1, 1)];

/// How a layer's products are laid out.
#[derive(Debug, Clone)]
enum Plan {
    /// Four phase maps, the tap rows of each (2 or 3, of 2 or 3 taps).
    Phases([Vec<TapRow>; 4]),
    /// One map holding the four phases as channel groups (`4 * inputs` channels, phase-major);
    /// three tap rows of three taps each.
    Stacked(Vec<TapRow>),
}

/// A 5x5 convolution of stride 2 and padding 2 (2x downsampling), optionally followed by a
/// normalization.
#[derive(Debug, Clone)]
pub struct Downsampling {
    inputs: usize,
    outputs: usize,
    plan: Plan,
    bias: Vec<f32>,
    normalization: Option<Normalization>,
    /// ReLU on the outputs (the hyper-analysis's layers; the analysis normalizes instead).
    rectified: bool,
}

impl Downsampling {
    /// The layer from burn's weight layout `[outputs, inputs, 5, 5]` and bias `[outputs]`.
    ///
    /// # Panics
    /// If the sizes do not agree.
    pub fn new(weight: &[f32], inputs: usize, outputs: usize, bias: Vec<f32>, normalization: Option<Normalization>) -> Self {
        check_sizes(weight, inputs, outputs, &bias, normalization.as_ref());
        // `[inputs][ky][kx][outputs]`, so that packing reads along the outputs.
        let weight = transposed(weight, outputs, inputs * KERNEL * KERNEL);
        let at = |co: usize, ci: usize, ky: usize, kx: usize| weight[((ci * KERNEL + ky) * KERNEL + kx) * outputs + co];
        let plan = if inputs < FEW_INPUTS {
            // Input channel k of the stacked map is phase q = k / inputs, channel k % inputs.
            Plan::Stacked(tap_rows(-1..2, -1..2, 4 * inputs, outputs, |ey, ex, k, co| {
                let (a, b) = PHASES[k / inputs];
                let used = offsets(a).contains(&ey) && offsets(b).contains(&ex);
                if used { at(co, k % inputs, tap(a, ey), tap(b, ex)) } else { 0.0 }
            }))
        } else {
            Plan::Phases(PHASES.map(|(a, b)| tap_rows(offsets(a), offsets(b), inputs, outputs, |ey, ex, ci, co| at(co, ci, tap(a, ey), tap(b, ex)))))
        };
        Self { inputs, outputs, plan, bias, normalization, rectified: false }
    }

    /// The layer with a ReLU on its outputs.
    pub fn rectified(self) -> Self {
        Self { rectified: true, ..self }
    }

    /// Channels in and out.
    pub fn channels(&self) -> (usize, usize) {
        (self.inputs, self.outputs)
    }

    /// The layout of the maps this layer reads.
    pub fn input_layout(&self) -> Layout {
        match self.plan {
            Plan::Phases(_) => Layout::Phases,
            Plan::Stacked(_) => Layout::Stacked,
        }
    }

    /// Runs the layer on its input in [`Downsampling::input_layout`] (the input picture or
    /// maps `[inputs, 2h, 2w]` arranged by [`arrange`]) and gives `[outputs, h, w]` in
    /// `layout`: the next layer's, so that no layer copies its input into phases.
    ///
    /// # Panics
    /// If the input is not in this layer's layout with its channels, or `layout` is not
    /// [`Layout::Plain`] and `h` or `w` is odd.
    pub fn forward(&self, input: &[Maps], layout: Layout) -> Vec<Maps> {
        let expected = match self.plan {
            Plan::Phases(_) => (4, self.inputs),
            Plan::Stacked(_) => (1, 4 * self.inputs),
        };
        assert!(input.len() == expected.0 && input.iter().all(|m| m.channels == expected.1 && m.dims() == input[0].dims()), "input layout");
        let [_, h, w] = input[0].dims();
        let c = self.outputs;
        let mut outputs = layout.empty(c, h, w);
        let stride = input[0].stride();
        // Blocks of an even number of rows: in a split layout they fill whole rows of each map.
        let rows_per_block = rows_per_block(h, stride).next_multiple_of(2);
        let rows_out = if layout == Layout::Plain { rows_per_block } else { rows_per_block / 2 };
        let mut bodies: Vec<_> = outputs
            .iter_mut()
            .map(|m| {
                let row = m.stride() * m.channels;
                let height = m.height;
                m.data[row..(height + 1) * row].chunks_mut(rows_out * row)
            })
            .collect();
        let mut bands: Vec<Vec<&mut [f32]>> = Vec::new();
        while let Some(band) = bodies.iter_mut().map(Iterator::next).collect::<Option<Vec<_>>>() {
            bands.push(band);
        }
        bands.into_par_iter().enumerate().for_each_init(Scratch::default, |scratch, (i, mut band)| {
            let first = i * rows_per_block;
            let rows = first..(first + rows_per_block).min(h);
            let (start, positions) = (rows.start * stride, rows.len() * stride);
            match &self.plan {
                Plan::Phases(taps) => {
                    for (q, (maps, taps)) in input.iter().zip(taps).enumerate() {
                        products(maps, start, positions, taps, c, &mut scratch.values, q > 0);
                    }
                }
                Plan::Stacked(taps) => {
                    products(&input[0], start, positions, taps, c, &mut scratch.values, false);
                }
            }
            let values = &mut scratch.values;
            finish(values, &self.bias, self.normalization.as_ref(), &mut scratch.squares, &mut scratch.norms);
            if self.rectified {
                values.iter_mut().for_each(|v| *v = v.max(0.0));
            }
            // Position (m, n) of the block is output pixel (first + m, n); the frame columns
            // (n >= w) are dropped.
            // The band holds the maps' rows from `first` (plain) or `first / 2` (split) on.
            let band_start = layout.row_start(first, c, w);
            for m in 0..rows.len() {
                for n in 0..w {
                    let (map, at) = layout.locate(first + m, n, c, w);
                    let from = (m * stride + n) * c;
                    band[map][at - band_start..at - band_start + c].copy_from_slice(&values[from..from + c]);
                }
            }
        });
        outputs
    }
}

/// How a transform's maps are laid out between two layers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// One map of the picture's size.
    Plain,
    /// Four maps of half the size, one per phase ([`PHASES`] order).
    Phases,
    /// One map of half the size with four times the channels, phase-major.
    Stacked,
}

impl Layout {
    /// Zero maps of `channels` x `h` x `w` in this layout.
    pub(super) fn empty(self, channels: usize, h: usize, w: usize) -> Vec<Maps> {
        if self != Layout::Plain {
            assert!(h.is_multiple_of(2) && w.is_multiple_of(2), "phases of an odd size {h}x{w}");
        }
        match self {
            Layout::Plain => vec![Maps::zeros(channels, h, w)],
            Layout::Phases => (0..4).map(|_| Maps::zeros(channels, h / 2, w / 2)).collect(),
            Layout::Stacked => vec![Maps::zeros(4 * channels, h / 2, w / 2)],
        }
    }

    /// Index of the start of the buffer row that holds pixel row `y` (even in split layouts)
    /// of maps `channels` deep and `w` pixels wide.
    pub(super) fn row_start(self, y: usize, channels: usize, w: usize) -> usize {
        match self {
            Layout::Plain => (y + 1) * (w + 2) * channels,
            Layout::Phases => (y / 2 + 1) * (w / 2 + 2) * channels,
            Layout::Stacked => (y / 2 + 1) * (w / 2 + 2) * 4 * channels,
        }
    }

    /// Where pixel `(y, x)` of maps `channels` deep and `w` pixels wide lies in this layout:
    /// the map and the index of its first channel there.
    pub(super) fn locate(self, y: usize, x: usize, channels: usize, w: usize) -> (usize, usize) {
        let q = 2 * (y % 2) + x % 2;
        let half = ((y / 2 + 1) * (w / 2 + 2) + x / 2 + 1) * channels;
        match self {
            Layout::Plain => (0, ((y + 1) * (w + 2) + x + 1) * channels),
            Layout::Phases => (q, half),
            Layout::Stacked => (0, 4 * half + q * channels),
        }
    }
}

/// A picture or maps (`[channels, h, w]` planes) in `layout`.
///
/// # Panics
/// If `planes` does not hold `channels * h * w` values, or `layout` is not [`Layout::Plain`]
/// and `h` or `w` is odd.
pub fn arrange(planes: &[f32], channels: usize, h: usize, w: usize, layout: Layout) -> Vec<Maps> {
    assert_eq!(planes.len(), channels * h * w, "plane size");
    let mut maps = layout.empty(channels, h, w);
    for y in 0..h {
        for x in 0..w {
            let (map, at) = layout.locate(y, x, channels, w);
            for c in 0..channels {
                maps[map].data[at + c] = planes[(c * h + y) * w + x];
            }
        }
    }
    maps
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The definition: `out[co, m, n] = bias[co] + sum x[ci, 2m + ky - 2, 2n + kx - 2] w[co, ci,
    /// ky, kx]`, zero outside the input.
    fn reference(x: &[f32], w: &[f32], bias: &[f32], (ci_n, co_n, h, wd): (usize, usize, usize, usize)) -> Vec<f32> {
        let (oh, ow) = (h / 2, wd / 2);
        let mut out = vec![0.0f64; co_n * oh * ow];
        for co in 0..co_n {
            for m in 0..oh {
                for n in 0..ow {
                    let mut sum = f64::from(bias[co]);
                    for ci in 0..ci_n {
                        for ky in 0..KERNEL {
                            for kx in 0..KERNEL {
                                let (y, xx) = ((2 * m + ky) as isize - 2, (2 * n + kx) as isize - 2);
                                if y < 0 || xx < 0 || y >= h as isize || xx >= wd as isize {
                                    continue;
                                }
                                sum += f64::from(x[(ci * h + y as usize) * wd + xx as usize]) * f64::from(w[((co * ci_n + ci) * KERNEL + ky) * KERNEL + kx]);
                            }
                        }
                    }
                    out[(co * oh + m) * ow + n] = sum;
                }
            }
        }
        out.into_iter().map(|v| v as f32).collect()
    }

    fn values(n: usize, seed: usize) -> Vec<f32> {
        (0..n).map(|i| (((i * 7919 + seed * 104729) % 1000) as f32 / 500.0) - 1.0).collect()
    }

    #[test]
    fn downsampling_matches_the_strided_convolution_definition() {
        for (ci, co, h, w) in [(3, 4, 6, 8), (9, 3, 2, 2), (2, 5, 10, 400), (3, 4, 8, 12), (9, 5, 8, 20)] {
            let (x, wt, bias) = (values(ci * h * w, 1), values(ci * co * 25, 2), values(co, 3));
            let layer = Downsampling::new(&wt, ci, co, bias.clone(), None);
            let out = layer.forward(&arrange(&x, ci, h, w, layer.input_layout()), Layout::Plain);
            assert_eq!(out[0].dims(), [co, h / 2, w / 2]);
            let expected = reference(&x, &wt, &bias, (ci, co, h, w));
            let worst = out[0].to_planes().iter().zip(&expected).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
            assert!(worst < 1e-4, "{ci}x{h}x{w} -> {co}: differs by {worst}");
            // The split layouts hold the same values.
            for layout in [Layout::Phases, Layout::Stacked] {
                if (h / 2) % 2 == 0 && (w / 2) % 2 == 0 {
                    let split = layer.forward(&arrange(&x, ci, h, w, layer.input_layout()), layout);
                    assert_eq!(split, arrange(&out[0].to_planes(), co, h / 2, w / 2, layout), "{layout:?}");
                }
            }
        }
    }
}
