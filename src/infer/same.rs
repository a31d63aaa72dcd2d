//! A 3x3 convolution of stride 1 and padding 1 (the output as large as the input) with a ReLU:
//! the first layer of the hyper-analysis, run like the other layers, block by block over
//! framed maps.

use rayon::prelude::*;

use super::Maps;
use super::layers::{Scratch, TapRow, finish, products, rows_per_block, tap_rows, transposed};

/// Kernel size.
const KERNEL: usize = 3;

/// A 3x3 convolution of stride 1 and padding 1 followed by a ReLU.
#[derive(Debug, Clone)]
pub struct SameSize {
    inputs: usize,
    outputs: usize,
    taps: Vec<TapRow>,
    bias: Vec<f32>,
}

impl SameSize {
    /// The layer from burn's weight layout `[outputs, inputs, 3, 3]` and bias `[outputs]`.
    ///
    /// # Panics
    /// If the sizes do not agree.
    pub fn new(weight: &[f32], inputs: usize, outputs: usize, bias: Vec<f32>) -> Self {
        assert_eq!(weight.len(), inputs * outputs * KERNEL * KERNEL, "weight size");
        assert_eq!(bias.len(), outputs, "bias size");
        // `[inputs][ky][kx][outputs]`, so that packing reads along the outputs.
        let weight = transposed(weight, outputs, inputs * KERNEL * KERNEL);
        let at = |co: usize, ci: usize, ky: usize, kx: usize| weight[((ci * KERNEL + ky) * KERNEL + kx) * outputs + co];
        let taps = tap_rows(-1..2, -1..2, inputs, outputs, |dy, dx, ci, co| at(co, ci, (dy + 1) as usize, (dx + 1) as usize));
        Self { inputs, outputs, taps, bias }
    }

    /// Channels in and out.
    pub fn channels(&self) -> (usize, usize) {
        (self.inputs, self.outputs)
    }

    /// Runs the layer: `[inputs, h, w]` → `[outputs, h, w]`.
    ///
    /// # Panics
    /// If `input` does not have the layer's input channels.
    pub fn forward(&self, input: &Maps) -> Maps {
        let [channels, h, w] = input.dims();
        assert_eq!(channels, self.inputs, "input channels");
        let mut out = Maps::zeros(self.outputs, h, w);
        let (stride, c) = (input.stride(), self.outputs);
        let row = stride * c;
        let rows_per_block = rows_per_block(h, stride);
        out.data[row..(h + 1) * row].par_chunks_mut(rows_per_block * row).enumerate().for_each_init(Scratch::default, |scratch, (b, band)| {
            let first = b * rows_per_block;
            let rows = (first + rows_per_block).min(h) - first;
            products(input, first * stride, rows * stride, &self.taps, c, &mut scratch.values, false);
            let values = &mut scratch.values;
            finish(values, &self.bias, None, &mut scratch.squares, &mut scratch.norms);
            // Position (m, n) of the block is output pixel (first + m, n); the frame columns
            // (n >= w) are dropped, and stay zero in `band`.
            for m in 0..rows {
                for n in 0..w {
                    let (from, to) = ((m * stride + n) * c, (m * stride + n + 1) * c);
                    band[to..to + c].iter_mut().zip(&values[from..from + c]).for_each(|(o, &v)| *o = v.max(0.0));
                }
            }
        });
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_size_matches_the_convolution_definition_with_its_relu() {
        let values = |n: usize, seed: usize| -> Vec<f32> { (0..n).map(|i| (((i * 7919 + seed * 104729) % 1000) as f32 / 500.0) - 1.0).collect() };
        for (ci, co, h, w) in [(3, 4, 1, 1), (5, 6, 7, 9), (4, 3, 30, 200)] {
            let (x, wt, bias) = (values(ci * h * w, 1), values(ci * co * 9, 2), values(co, 3));
            let out = SameSize::new(&wt, ci, co, bias.clone()).forward(&Maps::from_planes(&x, ci, h, w));
            assert_eq!(out.dims(), [co, h, w]);
            let out = out.to_planes();
            for o in 0..co {
                for y in 0..h {
                    for xx in 0..w {
                        let mut sum = f64::from(bias[o]);
                        for i in 0..ci {
                            for ky in 0..3 {
                                for kx in 0..3 {
                                    let (sy, sx) = ((y + ky) as isize - 1, (xx + kx) as isize - 1);
                                    if (0..h as isize).contains(&sy) && (0..w as isize).contains(&sx) {
                                        sum += f64::from(x[(i * h + sy as usize) * w + sx as usize]) * f64::from(wt[((o * ci + i) * 3 + ky) * 3 + kx]);
                                    }
                                }
                            }
                        }
                        let got = out[(o * h + y) * w + xx];
                        assert!((f64::from(got) - sum.max(0.0)).abs() < 1e-4, "{ci}x{h}x{w} -> {co}: {got} against {}", sum.max(0.0));
                    }
                }
            }
        }
    }
}
