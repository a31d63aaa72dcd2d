//! The integer hyper-synthesis: the network that turns the decoded hyper-latents `ẑ` into the
//! mean and log-scale of every latent, in integer arithmetic only (Ballé et al. 2019,
//! "Integer networks for data compression"). Encoder and decoder run this very code, so they
//! derive the same means and table indices on every machine, backend and thread count.
//!
//! Arithmetic: activations are `i32` with [`ACT_BITS`] fractional bits; each layer's weights
//! are `i32` holding at most 16 significant bits, scaled by `2^shift`; products are summed in
//! `i64` (no overflow is possible for weights and activations of these sizes), the bias
//! (scaled by `2^(shift + ACT_BITS)`) added, and the sum rounded back to `ACT_BITS` by
//! `(acc + 2^(shift-1)) >> shift` (arithmetic shift), saturated to `i32`; then ReLU where the
//! layer's flag says so. Sums use wrapping `i64` arithmetic (exact for any real model, and
//! defined even for a hostile one), so their order does not matter.
//!
//! Speed: when a layer's largest possible sum, `max |x| · max_o Σ |w|`, is below 2^53, every
//! product and every partial sum is an integer that `f64` holds exactly, in whatever order the
//! additions happen; the layer then runs as `f64` matrix products (`infer::matmul`, the same
//! kernels as the transforms) and gives bit for bit what the `i64` loops give. Otherwise (a
//! hostile model, or inputs far beyond any real picture's) it runs the `i64` loops.
//!
//! Serialized layout (little-endian): `b"AECH"`, version `u16` = 1, layer count `u16`; per
//! layer: kind `u8` (0 = 5x5 transposed convolution of stride 2, padding 2, output padding 1;
//! 1 = 1x1 convolution), ReLU `u8` (0 or 1), shift `u8` (0..=30), reserved `u8` = 0, input
//! channels `u32`, output channels `u32`, weights `i32` laid out `[out][in][ky][kx]`, biases
//! `i64`.

use std::ops::Range;

use byteorder::{ByteOrder, LittleEndian as LE};
use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::infer::matmul::{MatRef, matmul_strided};

/// Positions of a pointwise layer computed at once on the `f64` path (its working copies:
/// 8 bytes per position and channel).
const POINTWISE_BLOCK: usize = 512;
/// Sums below this magnitude are exact in `f64` whatever the order of their additions.
const EXACT_IN_F64: u128 = 1 << 53;

/// Fractional bits of the activations (and of the outputs: means and log-scales).
pub const ACT_BITS: u32 = 12;
const MAGIC: &[u8; 4] = b"AECH";
/// Version of the files `to_bytes` writes: weights as `i16`.
const VERSION: u16 = 2;
/// The first version, still read: weights as `i32` (the same values).
const VERSION_WIDE_WEIGHTS: u16 = 1;
/// Largest channel count of a layer.
const MAX_CHANNELS: usize = 4096;
/// Largest layer count.
const MAX_LAYERS: usize = 16;
/// Largest magnitude of a quantized weight (16 significant bits).
const WEIGHT_MAX: f64 = 32767.0;
/// Significant bits of a weight at most (the serialized `i16`).
pub const WEIGHT_BITS: u32 = 16;

/// The two kinds of layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LayerKind {
    /// 5x5 transposed convolution, stride 2, padding 2, output padding 1 (doubles the size).
    Up5 = 0,
    /// 1x1 convolution.
    Pointwise = 1,
}

impl LayerKind {
    fn taps(self) -> usize {
        match self {
            Self::Up5 => 25,
            Self::Pointwise => 1,
        }
    }
}

/// One integer layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntLayer {
    kind: LayerKind,
    relu: bool,
    shift: u32,
    inputs: usize,
    outputs: usize,
    /// `[tap][out][in]` (tap `ky·5 + kx`), each within ±32767 (16 significant bits; checked on
    /// parsing): a tap's weights of all outputs are contiguous, as its matrix product reads them.
    weights: Vec<i16>,
    biases: Vec<i64>,
    /// `max over outputs of Σ |w|`, the weights' part of [`IntLayer::largest_sum`].
    largest_weight_sum: u128,
}

/// The rows/columns of the input that feed output parity `p` of a stride-2 5x5 transposed
/// convolution with padding 2: (kernel index, input offset) pairs.
fn up5_taps(parity: usize) -> &'static [(usize, isize)] {
    if parity == 0 { &[(0, 1), (2, 0), (4, -1)] } else { &[(1, 1), (3, 0)] }
}

impl IntLayer {
    /// A layer of these weights, laid out `[out][in][ky][kx]` as in the serialized form.
    fn new(kind: LayerKind, relu: bool, shift: u32, (inputs, outputs): (usize, usize), weights: &[i16], biases: Vec<i64>) -> Self {
        let taps = kind.taps();
        let mut by_tap = vec![0i16; weights.len()];
        // An output's weights of one tap are a contiguous run of the result: written run by run
        // (one value at a time across the taps wrote 25 places 2·inputs·outputs bytes apart).
        for (o, row) in weights.chunks_exact((inputs * taps).max(1)).enumerate() {
            for tap in 0..taps {
                let run = &mut by_tap[(tap * outputs + o) * inputs..][..inputs];
                run.iter_mut().zip(row[tap..].iter().step_by(taps)).for_each(|(w, &v)| *w = v);
            }
        }
        Self::of_taps(kind, relu, shift, (inputs, outputs), by_tap, biases)
    }

    /// A layer of these weights, laid out `[tap][out][in]`.
    fn of_taps(kind: LayerKind, relu: bool, shift: u32, (inputs, outputs): (usize, usize), weights: Vec<i16>, biases: Vec<i64>) -> Self {
        let mut sums = vec![0u128; outputs];
        for of_tap in weights.chunks_exact((outputs * inputs).max(1)) {
            for (sum, row) in sums.iter_mut().zip(of_tap.chunks_exact(inputs.max(1))) {
                *sum += row.iter().map(|v| u128::from(v.unsigned_abs())).sum::<u128>();
            }
        }
        let largest_weight_sum = sums.into_iter().max().unwrap_or(0);
        Self { kind, relu, shift, inputs, outputs, weights, biases, largest_weight_sum }
    }

    /// The weights laid out `[out][in][ky][kx]` (the serialized order).
    fn weights_by_output(&self) -> Vec<i16> {
        let taps = self.kind.taps();
        let mut out = vec![0i16; self.weights.len()];
        for (tap, of_tap) in self.weights.chunks_exact((self.outputs * self.inputs).max(1)).enumerate() {
            for (o, row) in of_tap.chunks_exact(self.inputs).enumerate() {
                for (i, &w) in row.iter().enumerate() {
                    out[(o * self.inputs + i) * taps + tap] = w;
                }
            }
        }
        out
    }

    /// The weights of tap `tap`, `[out][in]`.
    fn tap_weights(&self, tap: usize) -> &[i16] {
        &self.weights[tap * self.outputs * self.inputs..(tap + 1) * self.outputs * self.inputs]
    }

    /// Quantizes a float layer: `weights` laid out `[out][in][ky][kx]`, `biases` per output.
    /// The shift is the largest that keeps every weight within 16 bits.
    ///
    /// # Errors
    /// [`Error::Model`] if the sizes do not match, a value is not finite or a weight is
    /// beyond ±32767.
    pub fn quantize(kind: LayerKind, relu: bool, inputs: usize, outputs: usize, weights: &[f32], biases: &[f32]) -> Result<Self> {
        Self::quantize_to(kind, relu, inputs, outputs, weights, biases, WEIGHT_BITS)
    }

    /// [`IntLayer::quantize`] to `bits` significant bits (2 to 16): the shift is the largest
    /// that keeps every weight within ±(2^(bits−1) − 1). Fewer bits make a smaller model file
    /// (each bit about 1/16 of it) at the cost of coarser means and scales.
    ///
    /// # Errors
    /// As [`IntLayer::quantize`], and for `bits` out of range.
    pub fn quantize_to(kind: LayerKind, relu: bool, inputs: usize, outputs: usize, weights: &[f32], biases: &[f32], bits: u32) -> Result<Self> {
        if weights.len() != inputs * outputs * kind.taps() || biases.len() != outputs || !weights.iter().chain(biases).all(|v| v.is_finite()) {
            return Err(Error::Model("integer layer: sizes do not match or values are not finite".into()));
        }
        if !(2..=WEIGHT_BITS).contains(&bits) {
            return Err(Error::Model(format!("integer layer: {bits} bits per weight (2 to {WEIGHT_BITS})")));
        }
        let weight_max = f64::from((1u32 << (bits - 1)) - 1);
        let largest = weights.iter().fold(0f64, |m, &w| m.max(f64::from(w).abs())).max(1e-30);
        if largest > weight_max {
            return Err(Error::Model(format!("integer layer: a weight of {largest} does not fit {bits} bits")));
        }
        let shift = (weight_max / largest).log2().floor().clamp(0.0, 30.0) as u32;
        let scale = f64::from(1u32 << shift);
        let act = f64::from(1u32 << ACT_BITS);
        let quantized: Vec<i16> = weights.iter().map(|&w| (f64::from(w) * scale).round() as i16).collect();
        Ok(Self::new(kind, relu, shift, (inputs, outputs), &quantized, biases.iter().map(|&b| (f64::from(b) * scale * act).round() as i64).collect()))
    }

    /// The layer restricted to output channels `outputs` (each output's weights and bias as
    /// they are).
    fn only(&self, outputs: Range<usize>) -> Self {
        self.only_these(&outputs.collect::<Vec<_>>())
    }

    /// The layer restricted to the output channels `outputs`, in that order.
    fn only_these(&self, outputs: &[usize]) -> Self {
        let inputs = self.inputs;
        let weights =
            (0..self.kind.taps()).flat_map(|tap| outputs.iter().flat_map(move |&o| &self.tap_weights(tap)[o * inputs..(o + 1) * inputs])).copied().collect();
        Self::of_taps(self.kind, self.relu, self.shift, (inputs, outputs.len()), weights, outputs.iter().map(|&o| self.biases[o]).collect())
    }

    /// Output size for an input of `h x w`.
    fn output_size(&self, h: usize, w: usize) -> (usize, usize) {
        match self.kind {
            LayerKind::Up5 => (2 * h, 2 * w),
            LayerKind::Pointwise => (h, w),
        }
    }

    /// Rounds an accumulator back to activation precision.
    fn requantize(&self, acc: i64) -> i32 {
        let v = if self.shift == 0 { acc } else { acc.wrapping_add(1i64 << (self.shift - 1)) >> self.shift };
        let v = v.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32;
        if self.relu { v.max(0) } else { v }
    }

    /// Runs the layer on `[inputs][h][w]` activations: as exact `f64` products when no sum can
    /// reach 2^53, else in `i64`; both give the same bits.
    fn forward(&self, input: &[i32], h: usize, w: usize) -> Vec<i32> {
        if self.largest_sum(input) < EXACT_IN_F64 { self.forward_f64(input, h, w) } else { self.forward_i64(input, h, w) }
    }

    /// A bound on the magnitude of every sum (and partial sum) of products this layer forms
    /// from `input`, and of that sum plus the bias and the rounding half:
    /// `max |x| · max over outputs of Σ |w| + max |bias| + 2^shift`.
    fn largest_sum(&self, input: &[i32]) -> u128 {
        let largest_input = input.iter().map(|v| v.unsigned_abs()).max().unwrap_or(0);
        let largest_bias = self.biases.iter().map(|b| u128::from(b.unsigned_abs())).max().unwrap_or(0);
        u128::from(largest_input) * self.largest_weight_sum + largest_bias + (1 << self.shift)
    }

    /// The `f64` form of [`IntLayer::requantize`] for the `f64` path: `biased` is an exact sum
    /// plus [`IntLayer::bias_and_half`] (exact: [`IntLayer::largest_sum`] bounds it below
    /// 2^53). `floor(biased / 2^shift)` is then the arithmetic shift, computed without an
    /// `f64` → `i64` conversion so that the compiler can vectorise the loops that call it.
    #[inline]
    fn requantize_exact(&self, biased: f64) -> i32 {
        // Scaling by a power of two is exact; clamping to integers commutes with `floor`.
        let q = (biased * self.inverse_scale()).clamp(f64::from(i32::MIN), f64::from(i32::MAX));
        let toward_zero = q as i32;
        let v = toward_zero - i32::from(f64::from(toward_zero) > q);
        if self.relu { v.max(0) } else { v }
    }

    /// `2^-shift`, exactly.
    fn inverse_scale(&self) -> f64 {
        1.0 / f64::from(1u32 << self.shift)
    }

    /// Output `o`'s bias plus the rounding half `2^(shift-1)` (none for shift 0), as `f64`.
    fn bias_and_half(&self, o: usize) -> f64 {
        let half = if self.shift == 0 { 0 } else { 1i64 << (self.shift - 1) };
        self.biases[o].wrapping_add(half) as f64
    }

    /// Writes tap `tap`'s weights of the outputs `outputs` and the input channels `active` into
    /// `dst` as `f64`, laid out `[output][active input]`.
    fn gather_weights(&self, dst: &mut [f64], outputs: Range<usize>, active: &[usize], tap: usize) {
        let rows = self.tap_weights(tap).chunks_exact(self.inputs).skip(outputs.start);
        for (row, dst) in rows.zip(dst.chunks_exact_mut(active.len().max(1))).take(outputs.len()) {
            if active.len() == self.inputs {
                dst.iter_mut().zip(row).for_each(|(d, &w)| *d = f64::from(w));
            } else {
                dst.iter_mut().zip(active).for_each(|(d, &i)| *d = f64::from(row[i]));
            }
        }
    }

    /// [`IntLayer::forward`] as `f64` matrix products: the sums, exact integers, are then
    /// biased and requantized by [`IntLayer::requantize_exact`], which gives what
    /// [`IntLayer::forward_i64`]'s `i64` requantization gives.
    fn forward_f64(&self, input: &[i32], h: usize, w: usize) -> Vec<i32> {
        let (oh, ow) = self.output_size(h, w);
        let outputs = self.outputs;
        // Only the input channels with a nonzero value take part: a zero adds nothing to an
        // exact sum, and most channels of a picture's `ẑ` are zero (70–80 of 96 on kodim23).
        let active: Vec<usize> = (0..self.inputs).filter(|&i| input[i * h * w..(i + 1) * h * w].iter().any(|&v| v != 0)).collect();
        let inputs = active.len();
        let mut out = vec![0i32; outputs * oh * ow];
        match self.kind {
            LayerKind::Pointwise => {
                // Blocks of positions, one after the other, so that the f64 copies stay small
                // whatever the picture; within a block, output channels in groups over the threads.
                let plane = h * w;
                let block = POINTWISE_BLOCK.min(plane).max(1);
                let group = outputs.div_ceil(4).max(1);
                let mut x = vec![0.0f64; inputs * block];
                let mut sums = vec![0.0f64; outputs * block];
                for start in (0..plane).step_by(block) {
                    let count = block.min(plane - start);
                    for (&i, dst) in active.iter().zip(x.chunks_exact_mut(count)) {
                        dst.iter_mut().zip(&input[i * plane + start..][..count]).for_each(|(d, &v)| *d = f64::from(v));
                    }
                    let a = MatRef { data: &x, offset: 0, rows: count, cols: inputs, row_stride: 1, col_stride: count };
                    out.par_chunks_mut(group * plane).zip(sums[..outputs * count].par_chunks_mut(group * count)).enumerate().for_each(
                        |(g, (out_planes, sums))| {
                            let n = sums.len() / count;
                            // The group's weights, `[out][in]`, as `f64` (a copy of the group only).
                            let mut weights = vec![0.0f64; n * inputs];
                            self.gather_weights(&mut weights, g * group..g * group + n, &active, 0);
                            let b = MatRef { data: &weights, offset: 0, rows: inputs, cols: n, row_stride: 1, col_stride: inputs };
                            matmul_strided(sums, (1, count), a, b, false);
                            for (k, (out_plane, sums)) in out_planes.chunks_exact_mut(plane).zip(sums.chunks_exact(count)).enumerate() {
                                let bias = self.bias_and_half(g * group + k);
                                for (dst, &sum) in out_plane[start..start + count].iter_mut().zip(sums) {
                                    *dst = self.requantize_exact(sum + bias);
                                }
                            }
                        },
                    );
                }
            }
            LayerKind::Up5 => {
                let stride = w + 2;
                let padded_plane = (h + 2) * stride;
                let mut x = vec![0.0f64; inputs * padded_plane];
                for (slot, &i) in active.iter().enumerate() {
                    for (y, row) in input[i * h * w..(i + 1) * h * w].chunks_exact(w).enumerate() {
                        let dst = slot * padded_plane + (y + 1) * stride + 1;
                        x[dst..dst + w].iter_mut().zip(row).for_each(|(d, &v)| *d = f64::from(v));
                    }
                }
                // Each output parity (py, px) is a sum over its taps of products of the shifted
                // input planes (`len` positions, rows `stride` apart) with that tap's weights.
                let len = h * stride - 2;
                // Parities with 9 and 4 taps first, then the two with 6: two threads, which
                // take halves of the list, get 13 and 12 taps.
                let phases: Vec<((usize, usize), Vec<f64>)> = [(0, 0), (1, 1), (0, 1), (1, 0)]
                    .par_iter()
                    .map(|&(py, px)| {
                        let mut sums = vec![0.0f64; len * outputs];
                        // One tap's weights, `[out][in]`, as `f64`: gathered tap by tap into the
                        // same small buffer (a copy of all of them was megabytes of fresh pages).
                        let mut weights = vec![0.0f64; inputs * outputs];
                        let mut first = true;
                        for &(ky, dy) in up5_taps(py) {
                            for &(kx, dx) in up5_taps(px) {
                                let tap = ky * 5 + kx;
                                self.gather_weights(&mut weights, 0..outputs, &active, tap);
                                let offset = ((1 + dy) as usize) * stride + (1 + dx) as usize;
                                let a = MatRef { data: &x, offset, rows: len, cols: inputs, row_stride: 1, col_stride: padded_plane };
                                let b = MatRef { data: &weights, offset: 0, rows: inputs, cols: outputs, row_stride: 1, col_stride: inputs };
                                matmul_strided(&mut sums, (1, len), a, b, !first);
                                first = false;
                            }
                        }
                        ((py, px), sums)
                    })
                    .collect();
                // Each output row interleaves the two column parities of its row parity:
                // requantized a row at a time (a loop the compiler vectorises), then interleaved;
                // the output channels over the threads.
                let sums_of = |parity: (usize, usize)| &phases.iter().find(|(p, _)| *p == parity).expect("four parities").1;
                out.par_chunks_mut(oh * ow).enumerate().for_each_init(
                    || (vec![0i32; w], vec![0i32; w]),
                    |(even, odd), (o, out_plane)| {
                        let bias = self.bias_and_half(o);
                        for py in 0..2 {
                            let (left, right) = (sums_of((py, 0)), sums_of((py, 1)));
                            for yy in 0..h {
                                let at = o * len + yy * stride;
                                even.iter_mut().zip(&left[at..at + w]).for_each(|(d, &s)| *d = self.requantize_exact(s + bias));
                                odd.iter_mut().zip(&right[at..at + w]).for_each(|(d, &s)| *d = self.requantize_exact(s + bias));
                                let row = &mut out_plane[(2 * yy + py) * ow..][..ow];
                                for ((pair, &e), &d) in row.chunks_exact_mut(2).zip(even.iter()).zip(odd.iter()) {
                                    pair[0] = e;
                                    pair[1] = d;
                                }
                            }
                        }
                    },
                );
            }
        }
        out
    }

    /// [`IntLayer::forward`] in wrapping `i64` arithmetic: defined for any weights and inputs.
    fn forward_i64(&self, input: &[i32], h: usize, w: usize) -> Vec<i32> {
        let (oh, ow) = self.output_size(h, w);
        let plane = h * w;
        // Input planes with a border of one zero, for the transposed convolution.
        let padded: Vec<i32> = match self.kind {
            LayerKind::Up5 => {
                let stride = w + 2;
                let mut p = vec![0i32; self.inputs * (h + 2) * stride];
                for i in 0..self.inputs {
                    for y in 0..h {
                        let dst = i * (h + 2) * stride + (y + 1) * stride + 1;
                        p[dst..dst + w].copy_from_slice(&input[i * plane + y * w..][..w]);
                    }
                }
                p
            }
            LayerKind::Pointwise => Vec::new(),
        };
        let mut out = vec![0i32; self.outputs * oh * ow];
        out.par_chunks_mut(oh * ow).enumerate().for_each(|(o, out_plane)| {
            // Output `o`'s weight of input `i` at tap `tap`.
            let weight = |i: usize, tap: usize| i64::from(self.tap_weights(tap)[o * self.inputs + i]);
            match self.kind {
                LayerKind::Pointwise => {
                    let mut acc = vec![self.biases[o]; plane];
                    for i in 0..self.inputs {
                        let wv = weight(i, 0);
                        for (a, &x) in acc.iter_mut().zip(&input[i * plane..(i + 1) * plane]) {
                            *a = a.wrapping_add(wv.wrapping_mul(i64::from(x)));
                        }
                    }
                    for (dst, &a) in out_plane.iter_mut().zip(&acc) {
                        *dst = self.requantize(a);
                    }
                }
                LayerKind::Up5 => {
                    // Each output parity (py, px) is a 3x3-or-smaller convolution of the input;
                    // on zero-padded input planes each tap is one long contiguous loop.
                    let stride = w + 2;
                    let len = h * stride - 2;
                    let mut acc = vec![0i64; len];
                    for py in 0..2 {
                        for px in 0..2 {
                            acc.fill(self.biases[o]);
                            for i in 0..self.inputs {
                                let x = &padded[i * (h + 2) * stride..(i + 1) * (h + 2) * stride];
                                for &(ky, dy) in up5_taps(py) {
                                    for &(kx, dx) in up5_taps(px) {
                                        let wv = weight(i, ky * 5 + kx);
                                        let offset = ((1 + dy) as usize) * stride + (1 + dx) as usize;
                                        for (a, &v) in acc.iter_mut().zip(&x[offset..offset + len]) {
                                            *a = a.wrapping_add(wv.wrapping_mul(i64::from(v)));
                                        }
                                    }
                                }
                            }
                            for yy in 0..h {
                                for xx in 0..w {
                                    out_plane[(2 * yy + py) * ow + 2 * xx + px] = self.requantize(acc[yy * stride + xx]);
                                }
                            }
                        }
                    }
                }
            }
        });
        out
    }
}

/// A stack of integer layers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntNet {
    layers: Vec<IntLayer>,
}

impl IntNet {
    /// A network of these layers.
    ///
    /// # Errors
    /// [`Error::Model`] if a layer's inputs do not match the previous layer's outputs.
    pub fn new(layers: Vec<IntLayer>) -> Result<Self> {
        if layers.is_empty() || layers.len() > MAX_LAYERS || layers.windows(2).any(|p| p[0].outputs != p[1].inputs) {
            return Err(Error::Model("integer network: layer sizes do not chain".into()));
        }
        Ok(Self { layers })
    }

    /// Channels of the input.
    pub fn inputs(&self) -> usize {
        self.layers[0].inputs
    }

    /// Channels of the output.
    pub fn outputs(&self) -> usize {
        self.layers[self.layers.len() - 1].outputs
    }

    /// How many times larger the output grid is than the input grid, in each direction.
    pub fn upsampling(&self) -> usize {
        self.layers.iter().map(|l| if l.kind == LayerKind::Up5 { 2 } else { 1 }).product()
    }

    /// Runs the network on integer inputs `[inputs][h][w]` (each taken as an exact value);
    /// returns `[outputs][h·up][w·up]` with [`ACT_BITS`] fractional bits.
    ///
    /// # Panics
    /// If `input.len() != inputs · h · w` (a caller's bug).
    pub fn forward(&self, input: &[i16], h: usize, w: usize) -> Vec<i32> {
        self.run(input, h, w, IntLayer::forward)
    }

    /// [`IntNet::forward`] with work to do on some of the outputs as soon as they exist: the
    /// outputs of each of `parts` (ranges of output channels, disjoint) are computed and
    /// `with_part(i, outputs of part i)` runs on them, each part on its own as threads come
    /// free, while the other outputs are computed too. Returns those other outputs, in order
    /// (bit for bit what [`IntNet::forward`] gives for them: each output is its own sum), and
    /// what `with_part` returned for each part. A decoder decodes each stream of `y` under its
    /// channels' log-scales while the means and the other streams' log-scales are computed.
    ///
    /// # Panics
    /// As [`IntNet::forward`], or if a part is not within the outputs.
    pub fn forward_overlapped<T: Send>(
        &self,
        input: &[i16],
        h: usize,
        w: usize,
        parts: &[Range<usize>],
        with_part: impl Fn(usize, &[i32]) -> T + Sync,
    ) -> (Vec<i32>, Vec<T>) {
        assert_eq!(input.len(), self.inputs() * h * w, "input size");
        assert!(parts.iter().all(|p| p.start <= p.end && p.end <= self.outputs()), "output range");
        debug_assert!(parts.iter().enumerate().all(|(i, a)| parts[i + 1..].iter().all(|b| a.end <= b.start || b.end <= a.start)), "parts overlap");
        let (last, trunk) = self.layers.split_last().expect("a network has layers");
        let mut x: Vec<i32> = input.iter().map(|&v| i32::from(v) << ACT_BITS).collect();
        let (mut h, mut w) = (h, w);
        for layer in trunk {
            x = layer.forward(&x, h, w);
            (h, w) = layer.output_size(h, w);
        }
        let rest: Vec<usize> = (0..last.outputs).filter(|o| !parts.iter().any(|p| p.contains(o))).collect();
        // The parts first on this thread (they lead to more work), the rest to whichever
        // thread comes free.
        let (done, rest) = rayon::join(
            || parts.par_iter().enumerate().map(|(i, part)| with_part(i, &last.only(part.clone()).forward(&x, h, w))).collect(),
            || last.only_these(&rest).forward(&x, h, w),
        );
        (rest, done)
    }

    /// Runs the layers with `forward` (one of [`IntLayer`]'s).
    fn run(&self, input: &[i16], h: usize, w: usize, forward: fn(&IntLayer, &[i32], usize, usize) -> Vec<i32>) -> Vec<i32> {
        assert_eq!(input.len(), self.inputs() * h * w, "input size");
        let mut x: Vec<i32> = input.iter().map(|&v| i32::from(v) << ACT_BITS).collect();
        let (mut h, mut w) = (h, w);
        for layer in &self.layers {
            x = forward(layer, &x, h, w);
            (h, w) = layer.output_size(h, w);
        }
        x
    }

    /// [`IntNet::forward`] with every layer in the `i64` loops: the reference that the exact
    /// `f64` path must equal bit for bit (tests and fuzzing compare them).
    ///
    /// # Panics
    /// As [`IntNet::forward`].
    pub fn forward_reference(&self, input: &[i16], h: usize, w: usize) -> Vec<i32> {
        self.run(input, h, w, IntLayer::forward_i64)
    }

    /// Serializes the network (version 2: weights as `i16`, which every quantized weight fits).
    pub fn to_bytes(&self) -> Vec<u8> {
        self.to_bytes_of_version(VERSION)
    }

    /// Serializes the network as file version `version`: weights as `i16` (2) or `i32` (1).
    fn to_bytes_of_version(&self, version: u16) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&version.to_le_bytes());
        out.extend_from_slice(&(self.layers.len() as u16).to_le_bytes());
        for l in &self.layers {
            out.extend_from_slice(&[l.kind as u8, u8::from(l.relu), l.shift as u8, 0]);
            out.extend_from_slice(&(l.inputs as u32).to_le_bytes());
            out.extend_from_slice(&(l.outputs as u32).to_le_bytes());
            for w in l.weights_by_output() {
                if version == VERSION_WIDE_WEIGHTS {
                    out.extend_from_slice(&i32::from(w).to_le_bytes());
                } else {
                    out.extend_from_slice(&w.to_le_bytes());
                }
            }
            l.biases.iter().for_each(|b| out.extend_from_slice(&b.to_le_bytes()));
        }
        out
    }

    /// Parses a serialized network, checking every size against the data before allocating.
    ///
    /// # Errors
    /// [`Error::Model`] for anything malformed.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let bad = |why: &str| Error::Model(format!("integer hyper-synthesis: {why}"));
        let mut rest = bytes.strip_prefix(MAGIC.as_slice()).ok_or_else(|| bad("bad magic"))?;
        let mut take = |n: usize| -> Result<&[u8]> {
            if rest.len() < n {
                return Err(bad("truncated"));
            }
            let (head, tail) = rest.split_at(n);
            rest = tail;
            Ok(head)
        };
        let weight_bytes = match LE::read_u16(take(2)?) {
            VERSION => 2,
            VERSION_WIDE_WEIGHTS => 4,
            _ => return Err(bad("unknown version")),
        };
        let count = usize::from(LE::read_u16(take(2)?));
        if count == 0 || count > MAX_LAYERS {
            return Err(bad("layer count"));
        }
        let mut layers = Vec::with_capacity(count);
        for _ in 0..count {
            let head = take(12)?;
            let kind = match head[0] {
                0 => LayerKind::Up5,
                1 => LayerKind::Pointwise,
                _ => return Err(bad("layer kind")),
            };
            let (relu, shift) = (head[1], u32::from(head[2]));
            let (inputs, outputs) = (LE::read_u32(&head[4..8]) as usize, LE::read_u32(&head[8..12]) as usize);
            if relu > 1 || shift > 30 || head[3] != 0 || inputs == 0 || outputs == 0 || inputs > MAX_CHANNELS || outputs > MAX_CHANNELS {
                return Err(bad("layer header"));
            }
            let n = inputs * outputs * kind.taps();
            let raw = take(weight_bytes * n)?;
            let in_range = |w: i32| (w.unsigned_abs() <= WEIGHT_MAX as u32).then_some(w as i16);
            let weights: Option<Vec<i16>> = if weight_bytes == 2 {
                raw.chunks_exact(2).map(|b| in_range(i32::from(LE::read_i16(b)))).collect()
            } else {
                raw.chunks_exact(4).map(|b| in_range(LE::read_i32(b))).collect()
            };
            let biases: Vec<i64> = take(8 * outputs)?.chunks_exact(8).map(LE::read_i64).collect();
            let Some(weights) = weights.filter(|_| biases.iter().all(|b| b.unsigned_abs() <= 1 << 62)) else {
                return Err(bad("weight or bias out of range"));
            };
            layers.push(IntLayer::new(kind, relu == 1, shift, (inputs, outputs), &weights, biases));
        }
        if !rest.is_empty() {
            return Err(bad("trailing bytes"));
        }
        Self::new(layers)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Float reference of a 5x5 stride-2 transposed convolution (padding 2, output padding 1)
    /// with `[out][in][ky][kx]` weights.
    fn up5_reference(x: &[f64], inputs: usize, h: usize, w: usize, weights: &[f32], biases: &[f32]) -> Vec<f64> {
        let outputs = biases.len();
        let (oh, ow) = (2 * h, 2 * w);
        let mut out: Vec<f64> = (0..outputs * oh * ow).map(|i| f64::from(biases[i / (oh * ow)])).collect();
        for o in 0..outputs {
            for i in 0..inputs {
                for iy in 0..h {
                    for ix in 0..w {
                        for ky in 0..5 {
                            for kx in 0..5 {
                                let (oy, ox) = (2 * iy as isize - 2 + ky as isize, 2 * ix as isize - 2 + kx as isize);
                                if (0..oh as isize).contains(&oy) && (0..ow as isize).contains(&ox) {
                                    out[o * oh * ow + oy as usize * ow + ox as usize] +=
                                        x[i * h * w + iy * w + ix] * f64::from(weights[((o * inputs + i) * 5 + ky) * 5 + kx]);
                                }
                            }
                        }
                    }
                }
            }
        }
        out
    }

    fn pseudo_random(n: usize, seed: u32, scale: f32) -> Vec<f32> {
        (0..n)
            .map(|i| ((i as u32).wrapping_mul(2_654_435_761).wrapping_add(seed.wrapping_mul(40503)) >> 16) as f32 / 65536.0 * 2.0 - 1.0)
            .map(|v| v * scale)
            .collect()
    }

    #[test]
    fn transposed_convolution_matches_a_float_reference() {
        let (inputs, outputs, h, w) = (3, 4, 5, 7);
        let weights = pseudo_random(inputs * outputs * 25, 1, 0.3);
        let biases = pseudo_random(outputs, 2, 0.5);
        let layer = IntLayer::quantize(LayerKind::Up5, false, inputs, outputs, &weights, &biases).unwrap();
        let net = IntNet::new(vec![layer]).unwrap();
        let z: Vec<i16> = (0..inputs * h * w).map(|i| ((i * 37) % 11) as i16 - 5).collect();
        let got = net.forward(&z, h, w);
        let reference = up5_reference(&z.iter().map(|&v| f64::from(v)).collect::<Vec<_>>(), inputs, h, w, &weights, &biases);
        for (g, r) in got.iter().zip(&reference) {
            let g = f64::from(*g) / 4096.0;
            assert!((g - r).abs() < 2e-3, "{g} vs {r}");
        }
    }

    #[test]
    fn exact_f64_products_give_the_bits_of_the_i64_loops() {
        for (kind, relu, inputs, outputs, h, w) in
            [(LayerKind::Up5, true, 7, 9, 5, 6), (LayerKind::Up5, false, 16, 5, 1, 9), (LayerKind::Pointwise, false, 9, 13, 4, 7)]
        {
            let weights = pseudo_random(inputs * outputs * kind.taps(), 7, 0.8);
            let layer = IntLayer::quantize(kind, relu, inputs, outputs, &weights, &pseudo_random(outputs, 8, 0.5)).unwrap();
            // Activations of every size up to ~2^24 (as after a few layers), signs mixed.
            let x: Vec<i32> = pseudo_random(inputs * h * w, 9, 1.0).iter().enumerate().map(|(i, v)| (v * (1 << (i % 25)) as f32) as i32).collect();
            assert_eq!(layer.forward_f64(&x, h, w), layer.forward_i64(&x, h, w), "{kind:?} {inputs} -> {outputs}");
        }
        // Input channels that are zero throughout (some, or all) are left out of the products.
        for (kind, inputs) in [(LayerKind::Up5, 6), (LayerKind::Pointwise, 6)] {
            let layer = IntLayer::quantize(kind, true, inputs, 5, &pseudo_random(inputs * 5 * kind.taps(), 11, 0.7), &pseudo_random(5, 12, 0.5)).unwrap();
            let (h, w) = (3, 4);
            for live in [vec![1, 4], vec![], (0..inputs).collect()] {
                let x: Vec<i32> = (0..inputs * h * w).map(|j| if live.contains(&(j / (h * w))) { (j as i32 * 7919 % 9000) - 4500 } else { 0 }).collect();
                assert_eq!(layer.forward_f64(&x, h, w), layer.forward_i64(&x, h, w), "{kind:?}, live inputs {live:?}");
            }
        }
        // Activations up to 2^31 into few inputs: sums stay below 2^53 but their requantized
        // values reach past the i32 range, where both paths saturate.
        for (kind, relu) in [(LayerKind::Pointwise, false), (LayerKind::Pointwise, true), (LayerKind::Up5, false)] {
            let layer = IntLayer::quantize(kind, relu, 2, 3, &pseudo_random(6 * kind.taps(), 3, 0.9), &pseudo_random(3, 4, 0.9)).unwrap();
            let x: Vec<i32> = pseudo_random(2 * 4 * 5, 5, 1.0)
                .iter()
                .map(|&v| {
                    if v > 0.3 {
                        i32::MAX
                    } else if v < -0.3 {
                        i32::MIN
                    } else {
                        (v * 1e9) as i32
                    }
                })
                .collect();
            assert!(layer.largest_sum(&x) < EXACT_IN_F64);
            let reference = layer.forward_i64(&x, 4, 5);
            assert!(reference.iter().any(|&v| v == i32::MAX || v == i32::MIN) || relu, "the test needs saturated outputs");
            assert_eq!(layer.forward_f64(&x, 4, 5), reference, "{kind:?}");
        }
        // Beyond 2^53 the layer keeps to the i64 loops: 512 weights of 2^14 (1.0 quantized at
        // its largest shift) times inputs of 2^31 reach 2^54, where f64 sums would round.
        let inputs = 512;
        let weights: Vec<f32> = (0..inputs).map(|i| if i % 3 == 0 { -1.0 } else { 1.0 }).collect();
        let layer = IntLayer::quantize(LayerKind::Pointwise, false, inputs, 1, &weights, &[0.0]).unwrap();
        let huge: Vec<i32> = (0..inputs).map(|i| if i % 2 == 0 { i32::MAX } else { i32::MIN + 1 }).collect();
        assert!(layer.largest_sum(&huge) >= EXACT_IN_F64, "the test needs sums beyond 2^53");
        assert_eq!(layer.forward(&huge, 1, 1), layer.forward_i64(&huge, 1, 1));
    }

    #[test]
    fn a_pointwise_layer_over_several_blocks_is_exact() {
        let layer = IntLayer::quantize(LayerKind::Pointwise, true, 3, 5, &pseudo_random(15, 7, 1.0), &pseudo_random(5, 8, 1.0)).unwrap();
        // 100 x 100 positions: a whole block of POINTWISE_BLOCK and a part of one.
        let (h, w) = (100, 100);
        assert!(h * w > POINTWISE_BLOCK && !(h * w).is_multiple_of(POINTWISE_BLOCK));
        let input: Vec<i32> = (0..3 * h * w).map(|i| ((i * 7919) % 20_001) as i32 - 10_000).collect();
        assert!(layer.largest_sum(&input) < EXACT_IN_F64);
        assert_eq!(layer.forward_f64(&input, h, w), layer.forward_i64(&input, h, w));
    }

    #[test]
    fn a_network_run_in_parts_gives_what_it_gives_whole() {
        let a = IntLayer::quantize(LayerKind::Up5, true, 3, 4, &pseudo_random(300, 11, 1.0), &pseudo_random(4, 12, 1.0)).unwrap();
        let b = IntLayer::quantize(LayerKind::Pointwise, false, 4, 6, &pseudo_random(24, 13, 1.0), &pseudo_random(6, 14, 1.0)).unwrap();
        let net = IntNet::new(vec![a, b]).unwrap();
        let (h, w) = (3, 5);
        let z: Vec<i16> = (0..3 * h * w).map(|i| (i % 7) as i16 - 3).collect();
        let whole = net.forward(&z, h, w);
        let plane = 4 * h * w;
        let parts_of = |ranges: &[(usize, usize)]| ranges.iter().map(|&(a, b)| a..b).collect::<Vec<_>>();
        for ranges in [&[(3, 6)][..], &[(0, 2)], &[(2, 5)], &[(0, 6)], &[(3, 4), (4, 6)], &[(0, 1), (2, 3), (5, 6)], &[]] {
            let parts = parts_of(ranges);
            let (rest, early) = net.forward_overlapped(&z, h, w, &parts, |i, outputs| (i, outputs.to_vec()));
            for (i, part) in parts.iter().enumerate() {
                assert_eq!(early[i], (i, whole[part.start * plane..part.end * plane].to_vec()), "{parts:?}: what part {i} saw");
            }
            let in_parts = |o: &usize| parts.iter().any(|p| p.contains(o));
            let others: Vec<i32> = whole.chunks_exact(plane).enumerate().filter(|(o, _)| !in_parts(o)).flat_map(|(_, v)| v.iter().copied()).collect();
            assert_eq!(rest, others, "{parts:?}: the other outputs");
        }
    }

    proptest::proptest! {
        /// Random networks of both kinds of layer on sparse hyper-latents (whole channels of
        /// zeros, as in real pictures): the fast path gives the reference's bits.
        #[test]
        fn random_networks_on_sparse_inputs_give_the_reference_bits(
            seed in 0u32..1000,
            (channels, hidden, outputs) in (1usize..6, 1usize..7, 1usize..6),
            (h, w) in (1usize..4, 1usize..5),
            zero_channels in proptest::collection::vec(proptest::bool::ANY, 6),
            scale in 0.01f32..4.0,
        ) {
            let up = IntLayer::quantize(LayerKind::Up5, true, channels, hidden, &pseudo_random(channels * hidden * 25, seed, scale), &pseudo_random(hidden, seed + 1, 1.0)).unwrap();
            let head = IntLayer::quantize(LayerKind::Pointwise, false, hidden, outputs, &pseudo_random(hidden * outputs, seed + 2, scale), &pseudo_random(outputs, seed + 3, 1.0)).unwrap();
            let net = IntNet::new(vec![up, head]).unwrap();
            let z: Vec<i16> = (0..channels * h * w)
                .map(|i| if zero_channels[i / (h * w)] { 0 } else { (((i as u32).wrapping_mul(2_654_435_761) ^ seed) >> 20) as i16 % 41 - 20 })
                .collect();
            proptest::prop_assert_eq!(net.forward(&z, h, w), net.forward_reference(&z, h, w));
        }
    }

    #[test]
    fn serialization_round_trips_and_truncation_is_refused() {
        let a = IntLayer::quantize(LayerKind::Up5, true, 2, 3, &pseudo_random(150, 3, 1.0), &pseudo_random(3, 4, 1.0)).unwrap();
        let b = IntLayer::quantize(LayerKind::Pointwise, false, 3, 4, &pseudo_random(12, 5, 1.0), &pseudo_random(4, 6, 1.0)).unwrap();
        let net = IntNet::new(vec![a, b]).unwrap();
        let bytes = net.to_bytes();
        assert_eq!(IntNet::from_bytes(&bytes).unwrap(), net);
        for cut in [0, 3, 8, 20, bytes.len() - 1] {
            assert!(IntNet::from_bytes(&bytes[..cut]).is_err());
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(IntNet::from_bytes(&longer).is_err());
        assert_eq!(net.upsampling(), 2);
        assert_eq!(net.forward(&[1, -2, 3, 4, 0, 1, 2, 3], 2, 2).len(), 4 * 4 * 4);
        // Version 1 (weights as i32) still reads, to the same network.
        assert_eq!(IntNet::from_bytes(&widened(&net)).unwrap(), net);
        // A weight beyond 16 bits is refused when quantizing and when parsing version 1.
        assert!(IntLayer::quantize(LayerKind::Pointwise, false, 1, 1, &[40_000.0], &[0.0]).is_err());
        let mut wide = widened(&net);
        wide[8 + 12..8 + 16].copy_from_slice(&40_000i32.to_le_bytes());
        assert!(IntNet::from_bytes(&wide).is_err());
    }

    /// `net` written as version 1: the same layout with `i32` weights.
    fn widened(net: &IntNet) -> Vec<u8> {
        net.to_bytes_of_version(VERSION_WIDE_WEIGHTS)
    }
}
