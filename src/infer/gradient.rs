//! The synthesis transform run forwards and then backwards: the gradient of a loss on the
//! picture with respect to the latents, for an encoder that refines its latents
//! (`codec::refine`). Only the encoder runs it, so it needs no more precision than the
//! transforms' `f32`.
//!
//! A 5x5 transposed convolution of stride 2 and padding 2 maps input `(m, n)` to outputs
//! `(2m + ky − 2, 2n + kx − 2)` with weight `w[ci][co][ky][kx]`; the gradient with respect to
//! its input is therefore the 5x5 convolution of stride 2 and padding 2 of the output's
//! gradient with the same weights read as `[outputs = ci][inputs = co][ky][kx]`: the encoder's
//! [`Downsampling`] layer, with burn's transposed-convolution weights as they are. The inverse
//! GDN `out_i = x_i · n_i`, `n_i = sqrt(β_i + Σ_j γ_ij x_j²)`, has the input gradient
//! `g_k · n_k + x_k · Σ_i γ_ik g_i x_i / n_i`.

use rayon::prelude::*;

use super::Maps;
use super::downsampling::{Downsampling, Layout};
use super::layers::{Normalization, Upsampling, UpsamplingParts};
use super::matmul::{MatRef, matmul};

/// Positions whose inverse-GDN gradient one task computes.
const POSITIONS_PER_TASK: usize = 256;

/// One upsampling layer for the gradient: the transposed convolution alone, its normalization
/// apart (the pass backwards needs the values between them), and the layer that takes the
/// gradient back through the convolution.
#[derive(Debug, Clone)]
struct Layer {
    convolution: Upsampling,
    normalization: Option<Normalization>,
    backwards: Downsampling,
}

/// A synthesis transform packed to give gradients with respect to its latents.
#[derive(Debug, Clone)]
pub struct SynthesisGradient {
    layers: Vec<Layer>,
}

impl SynthesisGradient {
    /// Packs layers given as burn's transposed-convolution weights `[inputs, outputs, 5, 5]`,
    /// biases and normalizations, in order.
    ///
    /// # Panics
    /// If a layer's sizes do not agree or the layers do not chain.
    pub(super) fn new(layers: Vec<UpsamplingParts>) -> Self {
        assert!(layers.windows(2).all(|pair| pair[0].2 == pair[1].1), "synthesis layers chain");
        let layers = layers
            .into_iter()
            .map(|(weight, inputs, outputs, bias, normalization)| Layer {
                convolution: Upsampling::new(&weight, inputs, outputs, bias, None),
                backwards: Downsampling::new(&weight, outputs, inputs, vec![0.0; inputs], None),
                normalization,
            })
            .collect();
        Self { layers }
    }

    /// Channels of the latents it takes.
    pub fn latent_channels(&self) -> usize {
        self.layers.first().map_or(0, |l| l.convolution.channels().0)
    }

    /// Runs the synthesis on latents `[channels, h, w]` (planes) and gives the picture
    /// (planes); the same layers as [`SynthesisGradient::gradient`], nothing kept.
    ///
    /// # Panics
    /// If the latents do not have [`SynthesisGradient::latent_channels`] channels.
    pub fn forward(&self, latents: &[f32], h: usize, w: usize) -> Vec<f32> {
        let mut maps = Maps::from_planes(latents, self.latent_channels(), h, w);
        for layer in &self.layers {
            maps = layer.convolution.forward(&maps);
            if let Some(norm) = &layer.normalization {
                normalize(norm, &mut maps);
            }
        }
        maps.to_planes()
    }

    /// Runs the synthesis on latents `[channels, h, w]` (planes), asks `output_gradient` for the
    /// loss's gradient with respect to the picture it gives (planes, the same size), and gives
    /// the picture and the gradient with respect to the latents (planes).
    ///
    /// # Panics
    /// If the latents do not have [`SynthesisGradient::latent_channels`] channels, or the
    /// gradient is not the picture's size.
    pub fn gradient(&self, latents: &[f32], h: usize, w: usize, output_gradient: impl FnOnce(&[f32]) -> Vec<f32>) -> (Vec<f32>, Vec<f32>) {
        let mut maps = Maps::from_planes(latents, self.latent_channels(), h, w);
        // The input of each normalization (none: the layer has none).
        let mut normalized = Vec::with_capacity(self.layers.len());
        for layer in &self.layers {
            let before = layer.convolution.forward(&maps);
            maps = match &layer.normalization {
                Some(norm) => {
                    let mut after = before.clone();
                    normalize(norm, &mut after);
                    normalized.push(Some(before));
                    after
                }
                None => {
                    normalized.push(None);
                    before
                }
            };
        }
        let picture = maps.to_planes();
        let [channels, ph, pw] = maps.dims();
        let gradient = output_gradient(&picture);
        assert_eq!(gradient.len(), picture.len(), "gradient size");
        let mut grad = Maps::from_planes(&gradient, channels, ph, pw);
        for (layer, before) in self.layers.iter().zip(normalized).rev() {
            if let (Some(norm), Some(before)) = (&layer.normalization, before) {
                normalization_gradient(norm, &before, &mut grad);
            }
            let input = split(&grad, layer.backwards.input_layout());
            grad = layer.backwards.forward(&input, Layout::Plain).swap_remove(0);
        }
        (picture, grad.to_planes())
    }
}

/// Applies a normalization to maps in place.
fn normalize(norm: &Normalization, maps: &mut Maps) {
    let chunk = POSITIONS_PER_TASK * maps.channels;
    maps.data.par_chunks_mut(chunk).for_each_init(|| (Vec::new(), Vec::new()), |(squares, norms), values| norm.apply(values, squares, norms));
}

/// Replaces `grad`, the gradient with respect to an inverse GDN's output, by the gradient with
/// respect to its input `before` (maps of the same size).
fn normalization_gradient(norm: &Normalization, before: &Maps, grad: &mut Maps) {
    let channels = norm.beta.len();
    let chunk = POSITIONS_PER_TASK * channels;
    grad.data.par_chunks_mut(chunk).zip(before.data.par_chunks(chunk)).for_each_init(
        || (Vec::new(), Vec::new()),
        |(norms, sums): &mut (Vec<f32>, Vec<f32>), (g, x)| {
            let rows = x.len() / channels;
            let squares: Vec<f32> = x.iter().map(|v| v * v).collect();
            norms.resize(x.len(), 0.0);
            let gamma_t = MatRef { data: &norm.gamma, offset: 0, rows: channels, cols: channels, row_stride: 1, col_stride: channels };
            matmul(norms, MatRef::dense(&squares, rows, channels), gamma_t, false);
            for (n, b) in norms.chunks_exact_mut(channels).flat_map(|row| row.iter_mut().zip(&norm.beta)) {
                *n = (*n + b).sqrt();
            }
            // t_i = g_i x_i / n_i, then sums_k = Σ_i t_i γ_ik.
            let t: Vec<f32> = g.iter().zip(x.iter()).zip(norms.iter()).map(|((g, x), n)| g * x / n).collect();
            sums.resize(x.len(), 0.0);
            matmul(sums, MatRef::dense(&t, rows, channels), MatRef::dense(&norm.gamma, channels, channels), false);
            for (((g, x), n), s) in g.iter_mut().zip(x).zip(norms.iter()).zip(sums.iter()) {
                *g = *g * n + x * s;
            }
        },
    );
}

/// Plain maps in `layout` (what a [`Downsampling`] layer reads).
fn split(maps: &Maps, layout: Layout) -> Vec<Maps> {
    let [channels, h, w] = maps.dims();
    let mut out = layout.empty(channels, h, w);
    for (k, target) in out.iter_mut().enumerate() {
        let row = target.stride() * target.channels;
        target.data[row..(h / 2 + 1) * row].par_chunks_mut(row).enumerate().for_each(|(m, dst)| {
            let start = layout.row_start(2 * m, channels, w);
            for y in [2 * m, 2 * m + 1] {
                for x in 0..w {
                    let (map, at) = layout.locate(y, x, channels, w);
                    if map == k {
                        let from = maps.index(y, x);
                        dst[at - start..at - start + channels].copy_from_slice(&maps.data[from..from + channels]);
                    }
                }
            }
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::model::FactorizedConfig;
    use burn::prelude::*;
    use burn::tensor::Distribution;

    #[test]
    fn the_latent_gradient_is_burns() {
        let device = Device::flex().autodiff();
        let model = FactorizedConfig::new().with_hidden(8).with_latent(6).init(&device);
        let packed = super::super::Synthesis::gradient_of(&model.synthesis).expect("packs");
        let (h, w) = (3, 5);
        let latents = Tensor::<4>::random([1, 6, h, w], Distribution::Uniform(-2.0, 2.0), &device).require_grad();
        let out = model.synthesis.forward(latents.clone());
        let [_, c, oh, ow] = out.dims();
        let weights = Tensor::<4>::random([1, c, oh, ow], Distribution::Uniform(-1.0, 1.0), &device);
        let loss = (out.clone() * weights.clone()).sum();
        let grads = loss.backward();
        let want: Vec<f32> = latents.grad(&grads).expect("gradient").into_data().try_to_vec().unwrap();
        let planes: Vec<f32> = latents.into_data().try_to_vec().unwrap();
        let weights: Vec<f32> = weights.into_data().try_to_vec().unwrap();
        let (picture, got) = packed.gradient(&planes, h, w, |_| weights.clone());
        let burn_picture: Vec<f32> = out.into_data().try_to_vec().unwrap();
        assert!(picture.iter().zip(&burn_picture).all(|(a, b)| (a - b).abs() < 1e-4), "the forward pass is the synthesis");
        let scale = want.iter().fold(0f32, |m, v| m.max(v.abs()));
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            assert!((g - w).abs() <= 1e-4 * scale.max(1.0), "latent {i}: {g} vs burn's {w}");
        }
    }
}
