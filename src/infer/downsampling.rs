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
use super::layers::{BLOCK_POSITIONS, KERNEL, Normalization, Scratch, TapRow, products};

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
}

impl Downsampling {
    /// The layer from burn's weight layout `[outputs, inputs, 5, 5]` and bias `[outputs]`.
    ///
    /// # Panics
    /// If the sizes do not agree.
    pub fn new(weight: &[f32], inputs: usize, outputs: usize, bias: Vec<f32>, normalization: Option<Normalization>) -> Self {
        assert_eq!(weight.len(), inputs * outputs * KERNEL * KERNEL, "weight size");
        assert_eq!(bias.len(), outputs, "bias size");
        assert!(normalization.as_ref().is_none_or(|n| n.beta.len() == outputs && n.gamma.len() == outputs * outputs), "normalization size");
        let at = |co: usize, ci: usize, ky: usize, kx: usize| weight[((co * inputs + ci) * KERNEL + ky) * KERNEL + kx];
        let plan = if inputs < FEW_INPUTS {
            let rows = (-1..2)
                .map(|ey| {
                    let mut weights = Vec::with_capacity(3 * 4 * inputs * outputs);
                    for ex in -1..2 {
                        for (a, b) in PHASES {
                            let used = offsets(a).contains(&ey) && offsets(b).contains(&ex);
                            for ci in 0..inputs {
                                weights.extend((0..outputs).map(|co| if used { at(co, ci, tap(a, ey), tap(b, ex)) } else { 0.0 }));
                            }
                        }
                    }
                    TapRow { row: (1 + ey) as usize, column: 0, width: 3, weights }
                })
                .collect();
            Plan::Stacked(rows)
        } else {
            Plan::Phases(PHASES.map(|(a, b)| {
                offsets(a)
                    .map(|ey| {
                        let columns = offsets(b);
                        let mut weights = Vec::with_capacity(columns.len() * inputs * outputs);
                        for ex in columns.clone() {
                            for ci in 0..inputs {
                                weights.extend((0..outputs).map(|co| at(co, ci, tap(a, ey), tap(b, ex))));
                            }
                        }
                        TapRow { row: (1 + ey) as usize, column: (1 + columns.start) as usize, width: columns.len(), weights }
                    })
                    .collect()
            }))
        };
        Self { inputs, outputs, plan, bias, normalization }
    }

    /// Channels in and out.
    pub fn channels(&self) -> (usize, usize) {
        (self.inputs, self.outputs)
    }

    /// Runs the layer: `[inputs, h, w]` → `[outputs, h/2, w/2]`.
    ///
    /// # Panics
    /// If `input` does not have the layer's input channels, or an odd height or width.
    pub fn forward(&self, input: &Maps) -> Maps {
        let [channels, h, w] = input.dims();
        assert_eq!(channels, self.inputs, "input channels");
        assert!(h % 2 == 0 && w % 2 == 0, "downsampling needs an even size, not {h}x{w}");
        let (h2, w2) = (h / 2, w / 2);
        let phases: Vec<Maps> = match self.plan {
            Plan::Phases(_) => PHASES.iter().map(|&(a, b)| phase(input, a, b)).collect(),
            Plan::Stacked(_) => {
                let mut stacked = Maps::zeros(4 * channels, h2, w2);
                for (q, &(a, b)) in PHASES.iter().enumerate() {
                    fill_phase(&mut stacked, input, a, b, q * channels);
                }
                vec![stacked]
            }
        };
        let mut out = Maps::zeros(self.outputs, h2, w2);
        let stride = out.stride();
        let out_row = stride * self.outputs;
        let rows_per_block = (BLOCK_POSITIONS / stride).max(1);
        let body = &mut out.data[out_row..(h2 + 1) * out_row];
        body.par_chunks_mut(rows_per_block * out_row).enumerate().for_each_init(Scratch::default, |scratch, (i, band)| {
            let first = i * rows_per_block;
            let rows = first..(first + rows_per_block).min(h2);
            let (start, positions) = (rows.start * stride, rows.len() * stride);
            match &self.plan {
                Plan::Phases(taps) => {
                    for (q, (maps, taps)) in phases.iter().zip(taps).enumerate() {
                        products(maps, start, positions, taps, self.outputs, &mut scratch.values, q > 0);
                    }
                }
                Plan::Stacked(taps) => {
                    products(&phases[0], start, positions, taps, self.outputs, &mut scratch.values, false);
                }
            }
            let values = &mut scratch.values;
            for row in values.chunks_exact_mut(self.outputs) {
                row.iter_mut().zip(&self.bias).for_each(|(v, b)| *v += b);
            }
            if let Some(norm) = &self.normalization {
                norm.apply(values, &mut scratch.squares, &mut scratch.norms);
            }
            // Position (m, n) of the block is output pixel (first + m, n); the frame columns
            // (n >= w2) are dropped.
            let c = self.outputs;
            for m in 0..rows.len() {
                let from = m * stride * c;
                let to = (m * stride + 1) * c;
                band[to..to + w2 * c].copy_from_slice(&values[from..from + w2 * c]);
            }
        });
        out
    }
}

/// Phase `(a, b)` of `input` (rows `2y + a`, columns `2x + b`) as maps of their own.
fn phase(input: &Maps, a: usize, b: usize) -> Maps {
    let mut maps = Maps::zeros(input.channels, input.height / 2, input.width / 2);
    fill_phase(&mut maps, input, a, b, 0);
    maps
}

/// Copies phase `(a, b)` of `input` into channels `first ..` of `maps`.
fn fill_phase(maps: &mut Maps, input: &Maps, a: usize, b: usize, first: usize) {
    let c = input.channels;
    for y in 0..maps.height {
        for x in 0..maps.width {
            let from = input.index(2 * y + a, 2 * x + b);
            let to = maps.index(y, x) + first;
            maps.data[to..to + c].copy_from_slice(&input.data[from..from + c]);
        }
    }
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
        for (ci, co, h, w) in [(3, 4, 6, 8), (9, 3, 2, 2), (2, 5, 10, 400)] {
            let (x, wt, bias) = (values(ci * h * w, 1), values(ci * co * 25, 2), values(co, 3));
            let layer = Downsampling::new(&wt, ci, co, bias.clone(), None);
            let out = layer.forward(&Maps::from_planes(&x, ci, h, w));
            assert_eq!(out.dims(), [co, h / 2, w / 2]);
            let expected = reference(&x, &wt, &bias, (ci, co, h, w));
            let worst = out.to_planes().iter().zip(&expected).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
            assert!(worst < 1e-4, "{ci}x{h}x{w} -> {co}: differs by {worst}");
        }
    }
}
