//! The upsampling layer of the decoder transform (a 5x5 stride-2 transposed convolution with
//! the inverse GDN that may follow it, fused block by block), and what both layer kinds share:
//! the normalization, tap rows and their products over framed maps, the bias epilogue.

use std::ops::Range;

use rayon::prelude::*;

use super::Maps;
use super::matmul::{MatRef, matmul};

/// Positions (pixels of a row, frame included, times rows) a block aims at: its buffers of
/// `positions x channels` floats then stay in the CPU's second-level cache.
pub(super) const BLOCK_POSITIONS: usize = 384;

/// Small maps are cut into at least this many blocks (when they have the rows), so that every
/// thread gets work: a layer of 32 rows in blocks of 7 left one of two cores idle a third of
/// the time. A constant, so that results do not depend on the number of threads.
const MIN_BLOCKS: usize = 8;

/// Rows of a block for maps of `rows` rows, `stride` positions each: about
/// [`BLOCK_POSITIONS`], fewer if the maps would give fewer than [`MIN_BLOCKS`] blocks.
pub(super) fn rows_per_block(rows: usize, stride: usize) -> usize {
    (BLOCK_POSITIONS / stride.max(1)).min(rows.div_ceil(MIN_BLOCKS)).max(1)
}

/// Layers with fewer outputs than this (the picture's 3 channels) compute the four phases in one
/// product over the whole 3x3 neighbourhood (zero weights where a phase has no tap): 36 taps
/// instead of 25, but a product with 4 x 3 columns runs about four times faster than four
/// with 3 columns.
pub(super) const FEW_OUTPUTS: usize = 8;

/// Input rows of the first layer of a pair computed before the second layer reads them
/// ([`Upsampling::forward_pair`]).
pub(super) const BAND_ROWS: usize = 8;

/// Kernel size of the transposed convolutions.
pub const KERNEL: usize = 5;

/// A synthesis layer as trained: its weights in burn's layout `[inputs, outputs, 5, 5]`, its
/// channels in and out, its bias and its normalization.
pub(super) type UpsamplingParts = (Vec<f32>, usize, usize, Vec<f32>, Option<Normalization>);

/// `GDN(x)_i = x_i / sqrt(beta_i + sum_j gamma_ij x_j^2)`, or its inverse (multiplying).
#[derive(Debug, Clone)]
pub struct Normalization {
    /// `[channels]`.
    pub beta: Vec<f32>,
    /// `[channels, channels]`: row `i` holds the weights of output channel `i`.
    pub gamma: Vec<f32>,
    /// Multiplies (IGDN) instead of dividing (GDN).
    pub inverse: bool,
}

impl Normalization {
    /// Normalizes `values` (`rows x channels`, dense) in place; `squares` and `norms` are
    /// scratch space.
    pub(super) fn apply(&self, values: &mut [f32], squares: &mut Vec<f32>, norms: &mut Vec<f32>) {
        let channels = self.beta.len();
        let rows = values.len() / channels;
        squares.clear();
        squares.extend(values.iter().map(|v| v * v));
        norms.resize(values.len(), 0.0);
        let gamma_t = MatRef { data: &self.gamma, offset: 0, rows: channels, cols: channels, row_stride: 1, col_stride: channels };
        matmul(norms, MatRef::dense(squares, rows, channels), gamma_t, false);
        for (row, norm) in values.chunks_exact_mut(channels).zip(norms.chunks_exact(channels)) {
            for ((v, n), b) in row.iter_mut().zip(norm).zip(&self.beta) {
                let scale = (n + b).sqrt();
                *v = if self.inverse { *v * scale } else { *v / scale };
            }
        }
    }
}

/// One row of taps of one output phase: the weights that multiply the input row `dy` (-1, 0
/// or 1 from the phase's own row) at columns `dx_first ..` (2 or 3 of them).
#[derive(Debug, Clone)]
pub(super) struct TapRow {
    /// 1 + dy: the input row, counted from the row above.
    pub(super) row: usize,
    /// 1 + the first dx: the first input column, counted from the column to the left.
    pub(super) column: usize,
    /// Input columns this row of taps reads.
    pub(super) width: usize,
    /// `[width * inputs, outputs]`, row-major: rows ordered by column, then input channel
    /// (`inputs`: the map's channels, `4 x` a layer's inputs in a stacked map; `outputs`:
    /// `4 x` a layer's outputs in a joint product).
    pub(super) weights: Vec<f32>,
}

/// The taps of one output phase `(py, px)`: outputs at rows `2m + py`, columns `2n + px`.
#[derive(Debug, Clone)]
struct Phase {
    py: usize,
    px: usize,
    rows: Vec<TapRow>,
}

/// How a layer's products are laid out.
#[derive(Debug, Clone)]
enum Plan {
    /// One product per phase (and tap row), `outputs` columns each.
    Phases(Vec<Phase>),
    /// The three tap rows of all four phases at once: `4 * outputs` columns, ordered by phase
    /// (`2 py + px`), then output channel.
    Joint(Vec<TapRow>),
}

/// The input offsets `d` (in -1..=1) that reach output phase `p` of a 5-tap stride-2 transposed
/// convolution with padding 2 (output `2m + p` reads input `m + d` through tap `p + 2 - 2d`).
fn offsets(p: usize) -> Range<isize> {
    if p == 0 { -1..2 } else { 0..2 }
}

/// The kernel tap through which input `m + d` reaches output `2m + p`.
fn tap(p: usize, d: isize) -> usize {
    (p as isize + 2 - 2 * d) as usize
}

/// A 5x5 transposed convolution of stride 2, padding 2 and output padding 1 (2x upsampling),
/// optionally followed by a normalization.
#[derive(Debug, Clone)]
pub struct Upsampling {
    inputs: usize,
    outputs: usize,
    plan: Plan,
    bias: Vec<f32>,
    normalization: Option<Normalization>,
    /// For a layer of few outputs without normalization, run second in a pair: the weights
    /// `[inputs][25 · outputs]` (columns by kernel row, column, then output) that turn each
    /// input pixel into its contributions to the 5x5 output pixels around it
    /// ([`Upsampling::forward_pair`]).
    contributions: Option<Vec<f32>>,
}

/// `values` (+)= the sum over `taps` of the rows of `maps` they read times their weights,
/// `[positions, columns]` for the `positions` positions from `start` (counted in the maps'
/// framed rows). Adds to `values` when `accumulate`, else overwrites it.
pub(super) fn products(maps: &Maps, start: usize, positions: usize, taps: &[TapRow], columns: usize, values: &mut Vec<f32>, accumulate: bool) {
    values.resize(positions * columns, 0.0);
    let inputs = maps.channels;
    for (i, tap_row) in taps.iter().enumerate() {
        let a = MatRef {
            data: &maps.data,
            offset: (start + tap_row.row * maps.stride() + tap_row.column) * inputs,
            rows: positions,
            cols: tap_row.width * inputs,
            row_stride: inputs,
            col_stride: 1,
        };
        matmul(values, a, MatRef::dense(&tap_row.weights, tap_row.width * inputs, columns), accumulate || i > 0);
    }
}

/// The tap rows of a convolution over framed maps: for each row offset `d` in `rows`, one
/// [`TapRow`] reading input row `m + d` at columns `n + columns.start ..` with the weights
/// `weight(d, dx, input channel, output column)` for `dx` in `columns`.
pub(super) fn tap_rows(
    rows: Range<isize>,
    columns: Range<isize>,
    inputs: usize,
    outputs: usize,
    weight: impl Fn(isize, isize, usize, usize) -> f32,
) -> Vec<TapRow> {
    rows.map(|d| {
        let mut weights = Vec::with_capacity(columns.len() * inputs * outputs);
        for dx in columns.clone() {
            for i in 0..inputs {
                weights.extend((0..outputs).map(|o| weight(d, dx, i, o)));
            }
        }
        TapRow { row: (1 + d) as usize, column: (1 + columns.start) as usize, width: columns.len(), weights }
    })
    .collect()
}

/// `matrix` (`rows x cols`, row by row) transposed (`cols x rows`), in cache-sized tiles: the
/// packing of a layer reads its weights along the output channels, which a trained layer's
/// layout spreads far apart.
pub(super) fn transposed(matrix: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    const TILE: usize = 32;
    assert_eq!(matrix.len(), rows * cols, "matrix size");
    let mut out = vec![0.0; matrix.len()];
    for r0 in (0..rows).step_by(TILE) {
        for c0 in (0..cols).step_by(TILE) {
            for r in r0..(r0 + TILE).min(rows) {
                for c in c0..(c0 + TILE).min(cols) {
                    out[c * rows + r] = matrix[r * cols + c];
                }
            }
        }
    }
    out
}

/// Checks a layer's sizes.
///
/// # Panics
/// If `weight`, `bias` or `normalization` do not have the sizes of a 5x5 layer from `inputs`
/// to `outputs` channels.
pub(super) fn check_sizes(weight: &[f32], inputs: usize, outputs: usize, bias: &[f32], normalization: Option<&Normalization>) {
    assert_eq!(weight.len(), inputs * outputs * KERNEL * KERNEL, "weight size");
    assert_eq!(bias.len(), outputs, "bias size");
    assert!(normalization.is_none_or(|n| n.beta.len() == outputs && n.gamma.len() == outputs * outputs), "normalization size");
}

/// Adds the bias to every group of `bias.len()` values (a position's outputs, or one phase's
/// outputs of a position in a joint product), then applies the normalization, if any.
pub(super) fn finish(values: &mut [f32], bias: &[f32], normalization: Option<&Normalization>, scratch_squares: &mut Vec<f32>, scratch_norms: &mut Vec<f32>) {
    let columns = bias.len();
    for row in values.chunks_exact_mut(columns) {
        row.iter_mut().zip(bias).for_each(|(v, b)| *v += b);
    }
    if let Some(norm) = normalization {
        norm.apply(values, scratch_squares, scratch_norms);
    }
}

/// Scratch buffers of one thread.
#[derive(Default)]
pub(super) struct Scratch {
    pub(super) values: Vec<f32>,
    pub(super) squares: Vec<f32>,
    pub(super) norms: Vec<f32>,
}

impl Upsampling {
    /// The layer from burn's weight layout `[inputs, outputs, 5, 5]` and bias `[outputs]`.
    ///
    /// # Panics
    /// If the sizes do not agree.
    pub fn new(weight: &[f32], inputs: usize, outputs: usize, bias: Vec<f32>, normalization: Option<Normalization>) -> Self {
        check_sizes(weight, inputs, outputs, &bias, normalization.as_ref());
        // `[inputs][ky][kx][outputs]`: each input channel's `[outputs][5·5]` transposed.
        let taps = KERNEL * KERNEL;
        let weight: Vec<f32> = weight.chunks_exact(outputs * taps).flat_map(|w| transposed(w, outputs, taps)).collect();
        let at = |ci: usize, co: usize, ky: usize, kx: usize| weight[((ci * KERNEL + ky) * KERNEL + kx) * outputs + co];
        let plan = if outputs < FEW_OUTPUTS && normalization.is_none() {
            // Output column j is phase q = 2 py + px, channel co: j = q * outputs + co.
            Plan::Joint(tap_rows(-1..2, -1..2, inputs, 4 * outputs, |dy, dx, ci, j| {
                let (py, px, co) = (j / outputs / 2, j / outputs % 2, j % outputs);
                let used = offsets(py).contains(&dy) && offsets(px).contains(&dx);
                if used { at(ci, co, tap(py, dy), tap(px, dx)) } else { 0.0 }
            }))
        } else {
            let phases = [(0, 0), (0, 1), (1, 0), (1, 1)].map(|(py, px)| Phase {
                py,
                px,
                rows: tap_rows(offsets(py), offsets(px), inputs, outputs, |dy, dx, ci, co| at(ci, co, tap(py, dy), tap(px, dx))),
            });
            Plan::Phases(phases.into())
        };
        let contributions = (outputs < FEW_OUTPUTS && normalization.is_none()).then(|| {
            (0..inputs).flat_map(|ci| (0..KERNEL * KERNEL).flat_map(move |k| (0..outputs).map(move |co| at(ci, co, k / KERNEL, k % KERNEL)))).collect()
        });
        Self { inputs, outputs, plan, bias, normalization, contributions }
    }

    /// Channels in and out.
    pub fn channels(&self) -> (usize, usize) {
        (self.inputs, self.outputs)
    }

    /// Runs the layer: `[inputs, h, w]` → `[outputs, 2h, 2w]`.
    ///
    /// # Panics
    /// If `input` does not have the layer's input channels.
    pub fn forward(&self, input: &Maps) -> Maps {
        let [channels, h, w] = input.dims();
        assert_eq!(channels, self.inputs, "input channels");
        let mut out = Maps::zeros(self.outputs, 2 * h, 2 * w);
        let out_row = out.stride() * self.outputs;
        self.rows_into(input, 0..h, &mut out.data[out_row..(2 * h + 1) * out_row]);
        out
    }

    /// Runs this layer and then `next` on `input` (`[inputs, h, w]` → `[next's outputs, 4h,
    /// 4w]`), band by band: this layer's output never exists whole, only a window of
    /// [`BAND_ROWS`]` · 2 + 3` of its rows (at 768x512, 3.5 MB instead of 25 MB), which stays in
    /// the CPU's caches until `next` has read it. Gives what two [`Upsampling::forward`] calls
    /// give, up to the order of float additions.
    ///
    /// # Panics
    /// If `input` does not have this layer's input channels or `next` does not take its outputs.
    pub fn forward_pair(&self, next: &Upsampling, input: &Maps) -> Maps {
        let [channels, h, w] = input.dims();
        assert_eq!(channels, self.inputs, "input channels");
        assert_eq!(next.inputs, self.outputs, "the next layer's input channels");
        let mut out = Maps::zeros(next.outputs, 4 * h, 4 * w);
        let out_row = out.stride() * next.outputs;
        // Window row j holds this layer's output row 2·start − 1 + j (as maps of 2·BAND_ROWS
        // rows: the frame row above, the band's rows, the two rows below).
        let mut window = Maps::zeros(self.outputs, 2 * BAND_ROWS, 2 * w);
        let mut contributions = Vec::new();
        let row = window.stride() * self.outputs;
        for start in (0..h).step_by(BAND_ROWS) {
            let end = (start + BAND_ROWS).min(h);
            let computed = if start == 0 {
                // Input rows 0 ..= BAND_ROWS give window rows 1 ..; row 0 is the zero frame.
                0
            } else {
                // Window rows 2·BAND_ROWS .. + 3 (output rows 2·start − 1, 2·start, 2·start + 1,
                // the last computed) move to the top; input rows start + 1 .. follow them.
                window.data.copy_within(2 * BAND_ROWS * row..(2 * BAND_ROWS + 3) * row, 0);
                1
            };
            let last = (end + 1).min(h);
            let first = start + computed;
            self.rows_into(input, first..last, &mut window.data[(2 * (first - start) + 1) * row..(2 * (last - start) + 1) * row]);
            // Below the picture's last row the window holds zeros, as a frame would.
            window.data[(2 * (last - start) + 1) * row..].fill(0.0);
            let rows = 2 * (end - start);
            let body = &mut out.data[(1 + 4 * start) * out_row..(1 + 4 * start + 2 * rows) * out_row];
            match &next.contributions {
                Some(weights) => next.rows_by_contributions(&window, rows, weights, &mut contributions, body),
                None => next.rows_into(&window, 0..rows, body),
            }
        }
        out
    }

    /// Computes the output rows `0 .. 2 · rows` of the framed maps `input` into `body` (a few
    /// outputs, no normalization) the way a transposed convolution is defined: every input
    /// pixel's contributions to the 25 output pixels around it (one product with `25 ·
    /// outputs` columns, wide enough for the matrix kernels, against 36 · `outputs` columns of
    /// which a third are zero in the joint plan), then each output pixel the sum of the
    /// contributions that reach it. `scratch` holds the contributions.
    fn rows_by_contributions(&self, input: &Maps, rows: usize, weights: &[f32], scratch: &mut Vec<f32>, body: &mut [f32]) {
        let (stride, columns, c) = (input.stride(), KERNEL * KERNEL * self.outputs, self.outputs);
        // The contributions of the input rows `-1 ..= rows` (the frame row above, the rows, the
        // row below): framed rows 0 .. rows + 2.
        let positions = (rows + 2) * stride;
        scratch.resize(positions * columns, 0.0);
        let chunk = BLOCK_POSITIONS.min(positions).max(1);
        scratch.par_chunks_mut(chunk * columns).enumerate().for_each(|(i, part)| {
            let n = part.len() / columns;
            let a = MatRef { data: &input.data, offset: i * chunk * self.inputs, rows: n, cols: self.inputs, row_stride: self.inputs, col_stride: 1 };
            matmul(part, a, MatRef::dense(weights, self.inputs, columns), false);
        });
        let contributions = &*scratch;
        let (width, span) = (input.width, KERNEL * c);
        let out_row = (2 * width + 2) * c;
        // Output row r gets kernel row ky from input row (r + 2 − ky) / 2 (framed row one more),
        // for the ky of r's parity; input column n gives output columns 2n − 2 .. 2n + 3, whose
        // `5 · outputs` values lie side by side in both (a margin of two pixels each side).
        body.par_chunks_mut(out_row).enumerate().for_each_init(Vec::new, |sums: &mut Vec<f32>, (r, out)| {
            sums.clear();
            sums.resize((2 * width + 4) * c, 0.0);
            for ky in (r % 2..KERNEL).step_by(2) {
                let row = &contributions[((r + 4 - ky) / 2 * stride + 1) * columns..];
                for n in 0..width {
                    let from = &row[n * columns + ky * span..][..span];
                    sums[2 * n * c..][..span].iter_mut().zip(from).for_each(|(s, v)| *s += v);
                }
            }
            for (pixel, sum) in out[c..(2 * width + 1) * c].chunks_exact_mut(c).zip(sums[2 * c..].chunks_exact(c)) {
                pixel.iter_mut().zip(sum).zip(&self.bias).for_each(|((p, s), b)| *p = s + b);
            }
        });
    }

    /// Computes the output rows `2 · rows` of `input` into `body` (those rows of an output
    /// buffer, frame columns included), blocks of rows spread over rayon's threads.
    fn rows_into(&self, input: &Maps, rows: Range<usize>, body: &mut [f32]) {
        let out_row = (2 * input.width + 2) * self.outputs;
        let rows_per_block = rows_per_block(rows.len(), input.stride());
        // Output rows 2m and 2m + 1 come from input row m: a block of input rows owns a band of
        // output rows, so the blocks write disjoint parts of the buffer.
        body.par_chunks_mut(2 * rows_per_block * out_row).enumerate().for_each_init(Scratch::default, |scratch, (b, band)| {
            let first = rows.start + b * rows_per_block;
            self.block(input, first..(first + rows_per_block).min(rows.end), band, scratch);
        });
    }

    /// Computes the output rows `2 * rows` into `band` (those rows of the output buffer).
    fn block(&self, input: &Maps, rows: Range<usize>, band: &mut [f32], scratch: &mut Scratch) {
        let (start, positions) = (rows.start * input.stride(), rows.len() * input.stride());
        match &self.plan {
            Plan::Phases(phases) => {
                for phase in phases {
                    products(input, start, positions, &phase.rows, self.outputs, &mut scratch.values, false);
                    let values = &mut scratch.values;
                    finish(values, &self.bias, self.normalization.as_ref(), &mut scratch.squares, &mut scratch.norms);
                    self.scatter(values, input, |p| (p, phase.py, phase.px), band);
                }
            }
            Plan::Joint(taps) => {
                products(input, start, positions, taps, 4 * self.outputs, &mut scratch.values, false);
                let values = &mut scratch.values;
                finish(values, &self.bias, None, &mut scratch.squares, &mut scratch.norms);
                for (q, (py, px)) in [(0, 0), (0, 1), (1, 0), (1, 1)].into_iter().enumerate() {
                    self.scatter(values, input, |p| (4 * p + q, py, px), band);
                }
            }
        }
    }

    /// Writes output pixels from a block's products: position `p` of the block (row `m`,
    /// column `n`) gives the `outputs` values starting at `values[outputs * row(p).0]` to output
    /// pixel `(2m + py, 2n + px)` where `(_, py, px) = row(p)`; positions in the frame columns
    /// (`n >= w`) are dropped.
    fn scatter(&self, values: &[f32], input: &Maps, row: impl Fn(usize) -> (usize, usize, usize), band: &mut [f32]) {
        let (stride, w) = (input.stride(), input.width);
        let out_stride = 2 * w + 2;
        let c = self.outputs;
        let positions = values.len() / c / if matches!(self.plan, Plan::Joint(_)) { 4 } else { 1 };
        for m in 0..positions / stride {
            for n in 0..w {
                let (r, py, px) = row(m * stride + n);
                let at = ((2 * m + py) * out_stride + 2 * n + px + 1) * c;
                band[at..at + c].copy_from_slice(&values[r * c..(r + 1) * c]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The definition: `out[co, oy, ox] = bias[co] + sum x[ci, iy, ix] w[ci, co, ky, kx]` over
    /// `oy = 2 iy - 2 + ky`, `ox = 2 ix - 2 + kx`.
    fn reference(x: &[f32], w: &[f32], bias: &[f32], (ci_n, co_n, h, wd): (usize, usize, usize, usize)) -> Vec<f32> {
        let (oh, ow) = (2 * h, 2 * wd);
        let mut out: Vec<f64> = (0..co_n * oh * ow).map(|i| f64::from(bias[i / (oh * ow)])).collect();
        for ci in 0..ci_n {
            for co in 0..co_n {
                for iy in 0..h {
                    for ix in 0..wd {
                        for ky in 0..KERNEL {
                            for kx in 0..KERNEL {
                                let (oy, ox) = ((2 * iy + ky) as isize - 2, (2 * ix + kx) as isize - 2);
                                if oy < 0 || ox < 0 || oy >= oh as isize || ox >= ow as isize {
                                    continue;
                                }
                                out[(co * oh + oy as usize) * ow + ox as usize] +=
                                    f64::from(x[(ci * h + iy) * wd + ix]) * f64::from(w[((ci * co_n + co) * KERNEL + ky) * KERNEL + kx]);
                            }
                        }
                    }
                }
            }
        }
        out.into_iter().map(|v| v as f32).collect()
    }

    fn values(n: usize, seed: usize) -> Vec<f32> {
        (0..n).map(|i| (((i * 7919 + seed * 104729) % 1000) as f32 / 500.0) - 1.0).collect()
    }

    #[test]
    fn upsampling_matches_the_transposed_convolution_definition() {
        for (ci, co, h, w) in [(3, 4, 5, 7), (5, 3, 1, 1), (2, 2, 9, 200)] {
            let (x, wt, bias) = (values(ci * h * w, 1), values(ci * co * 25, 2), values(co, 3));
            let layer = Upsampling::new(&wt, ci, co, bias.clone(), None);
            let out = layer.forward(&Maps::from_planes(&x, ci, h, w));
            assert_eq!(out.dims(), [co, 2 * h, 2 * w]);
            let expected = reference(&x, &wt, &bias, (ci, co, h, w));
            let worst = out.to_planes().iter().zip(&expected).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
            assert!(worst < 1e-4, "{ci}x{h}x{w} -> {co}: differs by {worst}");
        }
    }

    /// A layer of `ci` → `co` channels with random weights (an inverse GDN when `normalized`).
    fn layer(ci: usize, co: usize, normalized: bool, seed: usize) -> (Upsampling, Vec<f32>, Vec<f32>) {
        let (wt, bias) = (values(ci * co * 25, seed), values(co, seed + 1));
        let norm = normalized.then(|| Normalization {
            beta: values(co, seed + 2).iter().map(|v| 0.5 + v.abs()).collect(),
            gamma: values(co * co, seed + 3).iter().map(|v| 0.1 * v.abs()).collect(),
            inverse: true,
        });
        (Upsampling::new(&wt, ci, co, bias.clone(), norm), wt, bias)
    }

    #[test]
    fn a_pair_run_band_by_band_gives_what_the_two_layers_give() {
        // Heights below, at and across the band (several bands, a short last one); a second
        // layer with a normalization (the per-phase plan).
        for (h, w) in [(1, 1), (3, 5), (BAND_ROWS, 4), (BAND_ROWS + 1, 3), (2 * BAND_ROWS + 3, 6)] {
            let (first, _, _) = layer(5, 6, true, 10);
            let (second, _, _) = layer(6, 9, true, 20);
            let input = Maps::from_planes(&values(5 * h * w, 30), 5, h, w);
            let (pair, two) = (first.forward_pair(&second, &input), second.forward(&first.forward(&input)));
            assert_eq!(pair.dims(), two.dims());
            // The matrix kernels may block a product of fewer rows differently: a few units in
            // the last place.
            let worst = pair.data.iter().zip(&two.data).map(|(a, b)| (a - b).abs() / b.abs().max(1.0)).fold(0.0, f32::max);
            assert!(worst < 1e-5, "{h}x{w}: differs by {worst}");
        }
    }

    #[test]
    fn a_pair_ending_in_few_outputs_sums_contributions_as_the_definition_does() {
        for (h, w) in [(1, 2), (BAND_ROWS + 2, 5), (2 * BAND_ROWS + 1, 3)] {
            let (first, _, _) = layer(4, 6, true, 40);
            let (second, wt, bias) = layer(6, 3, false, 50);
            let input = Maps::from_planes(&values(4 * h * w, 60), 4, h, w);
            let middle = first.forward(&input);
            let expected = reference(&middle.to_planes(), &wt, &bias, (6, 3, 2 * h, 2 * w));
            let pair = first.forward_pair(&second, &input);
            assert_eq!(pair.dims(), [3, 4 * h, 4 * w]);
            let worst = pair.to_planes().iter().zip(&expected).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
            assert!(worst < 1e-4, "{h}x{w}: differs by {worst}");
            assert!(pair.data.chunks_exact(3 * (4 * w + 2)).all(|row| row[..3] == [0.0; 3] && row[row.len() - 3..] == [0.0; 3]), "the frame stays zero");
        }
    }

    #[test]
    fn upsampling_by_phases_with_inverse_gdn_matches_the_definition() {
        // 12 outputs: the per-phase plan; 190 columns: several blocks of rows.
        let (ci, co, h, w) = (9, 12, 7, 190);
        let (x, wt, bias) = (values(ci * h * w, 4), values(ci * co * 25, 5), values(co, 6));
        let beta: Vec<f32> = values(co, 7).iter().map(|v| 0.5 + v.abs()).collect();
        let gamma: Vec<f32> = values(co * co, 8).iter().map(|v| 0.1 * v.abs()).collect();
        let norm = Normalization { beta: beta.clone(), gamma: gamma.clone(), inverse: true };
        let out = Upsampling::new(&wt, ci, co, bias.clone(), Some(norm)).forward(&Maps::from_planes(&x, ci, h, w)).to_planes();
        let linear = reference(&x, &wt, &bias, (ci, co, h, w));
        let plane = 4 * h * w;
        let mut worst = 0.0f32;
        for p in 0..plane {
            for o in 0..co {
                let norm: f32 = beta[o] + (0..co).map(|j| gamma[o * co + j] * linear[j * plane + p].powi(2)).sum::<f32>();
                let expected = linear[o * plane + p] * norm.sqrt();
                worst = worst.max((out[o * plane + p] - expected).abs() / expected.abs().max(1.0));
            }
        }
        assert!(worst < 1e-4, "differs by {worst}");
    }

    #[test]
    fn normalization_divides_or_multiplies_by_the_norm() {
        let norm = Normalization { beta: vec![1.0, 0.5], gamma: vec![0.1, 0.2, 0.3, 0.4], inverse: false };
        let mut v = vec![1.0, 2.0, -3.0, 0.0];
        norm.apply(&mut v, &mut Vec::new(), &mut Vec::new());
        let expected = [1.0 / (1.0f32 + 0.1 + 0.8).sqrt(), 2.0 / (0.5f32 + 0.3 + 1.6).sqrt(), -3.0 / (1.0f32 + 0.9).sqrt(), 0.0];
        assert!(v.iter().zip(expected).all(|(a, b)| (a - b).abs() < 1e-6), "{v:?}");
        let inverse = Normalization { inverse: true, ..norm };
        let mut v = vec![1.0, 2.0];
        inverse.apply(&mut v, &mut Vec::new(), &mut Vec::new());
        assert!((v[0] - (1.9f32).sqrt()).abs() < 1e-6 && (v[1] - 2.0 * (2.4f32).sqrt()).abs() < 1e-6, "{v:?}");
    }
}
