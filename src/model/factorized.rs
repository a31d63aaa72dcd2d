//! The factorized-prior autoencoder of Ballé et al. (2017/2018): an analysis transform of four
//! 5x5 stride-2 convolutions with GDN (16x downsampling), the mirrored synthesis transform with
//! transposed convolutions and inverse GDN, and a factorized entropy model of the latents.
//!
//! Pure tensors in and out: images are `[batch, 3, H, W]` in `0..1`, with `H` and `W`
//! multiples of [`DOWNSAMPLING`].

use burn::config::Config;
use burn::nn::PaddingConfig2d;
use burn::nn::conv::{Conv2d, Conv2dConfig, ConvTranspose2d, ConvTranspose2dConfig};
use burn::prelude::*;
use burn::tensor::Distribution;

use super::entropy::EntropyBottleneck;
use super::gdn::Gdn;
use super::narrow::{kept_channels, mean_magnitudes, narrowed_chain};
use super::widened;

/// How much smaller the latent grid is than the image, in each direction.
pub const DOWNSAMPLING: usize = 16;
const KERNEL: usize = 5;

/// Sizes of a factorized-prior model.
#[derive(Config, Debug, PartialEq)]
pub struct FactorizedConfig {
    /// Channels of the hidden layers (`N` in the papers).
    #[config(default = 64)]
    pub hidden: usize,
    /// Channels of the latent representation (`M`).
    #[config(default = 96)]
    pub latent: usize,
}

/// Encoder: image to latents.
#[derive(Module, Debug)]
pub struct Analysis {
    convs: Vec<Conv2d>,
    gdns: Vec<Gdn>,
}

/// Decoder: latents to image.
#[derive(Module, Debug)]
pub struct Synthesis {
    deconvs: Vec<ConvTranspose2d>,
    igdns: Vec<Gdn>,
}

/// The whole model: transforms plus entropy model.
#[derive(Module, Debug)]
pub struct FactorizedModel {
    /// Image -> latents.
    pub analysis: Analysis,
    /// Latents -> image.
    pub synthesis: Synthesis,
    /// Density of the latents, used for the rate term and for entropy coding.
    pub entropy: EntropyBottleneck,
}

/// What one training forward pass returns.
pub struct ForwardOutput {
    /// Reconstructed images, `[batch, 3, H, W]`.
    pub reconstruction: Tensor<4>,
    /// Likelihood of every noisy latent, `[batch, latent, H/16, W/16]`.
    pub likelihoods: Tensor<4>,
}

fn layer_channels(config: &FactorizedConfig) -> [(usize, usize); 4] {
    let (n, m) = (config.hidden, config.latent);
    [(3, n), (n, n), (n, n), (n, m)]
}

impl FactorizedConfig {
    /// Builds a freshly initialised model.
    pub fn init(&self, device: &Device) -> FactorizedModel {
        let channels = layer_channels(self);
        let convs = channels
            .iter()
            .map(|&(i, o)| {
                Conv2dConfig::new([i, o], [KERNEL, KERNEL])
                    .with_stride([2, 2])
                    .with_padding(PaddingConfig2d::Explicit(KERNEL / 2, KERNEL / 2, KERNEL / 2, KERNEL / 2))
                    .init(device)
            })
            .collect();
        let gdns = channels[..3].iter().map(|&(_, o)| Gdn::new(o, false, device)).collect();
        let deconvs = channels
            .iter()
            .rev()
            .map(|&(o, i)| {
                ConvTranspose2dConfig::new([i, o], [KERNEL, KERNEL])
                    .with_stride([2, 2])
                    .with_padding([KERNEL / 2, KERNEL / 2])
                    .with_padding_out([1, 1])
                    .init(device)
            })
            .collect();
        let igdns = channels[..3].iter().rev().map(|&(_, o)| Gdn::new(o, true, device)).collect();
        FactorizedModel { analysis: Analysis { convs, gdns }, synthesis: Synthesis { deconvs, igdns }, entropy: EntropyBottleneck::new(self.latent, device) }
    }
}

impl Analysis {
    /// The layers in order: each convolution with the GDN after it, if any.
    pub fn layers(&self) -> impl Iterator<Item = (&Conv2d, Option<&Gdn>)> {
        self.convs.iter().enumerate().map(|(i, conv)| (conv, self.gdns.get(i)))
    }

    /// # Shapes
    /// `[batch, 3, H, W]` -> `[batch, latent, H/16, W/16]`
    pub fn forward(&self, image: Tensor<4>) -> Tensor<4> {
        let mut x = image;
        for (i, conv) in self.convs.iter().enumerate() {
            x = conv.forward(x);
            if let Some(gdn) = self.gdns.get(i) {
                x = gdn.forward(x);
            }
        }
        x
    }
}

impl Analysis {
    /// This transform with `hidden` channels in each hidden layer, the most used on `image`
    /// kept ([`super::narrow`]), and its output on `image` (before narrowing).
    pub fn narrowed(&self, image: Tensor<4>, hidden: usize) -> (Self, Tensor<4>) {
        let mut magnitudes = Vec::new();
        let mut x = image;
        for (conv, gdn) in self.layers() {
            x = conv.forward(x);
            if let Some(gdn) = gdn {
                x = gdn.forward(x);
                magnitudes.push(mean_magnitudes(&x));
            }
        }
        let kept = kept_channels(&self.convs, &magnitudes, hidden);
        let gdns = self.gdns.iter().zip(&kept).map(|(gdn, channels)| gdn.narrowed(channels)).collect();
        (Self { convs: narrowed_chain(&self.convs, &kept), gdns }, x)
    }
}

impl Synthesis {
    /// This transform with `hidden` channels in each hidden layer, the most used on `latents`
    /// kept ([`super::narrow`]).
    pub fn narrowed(&self, latents: Tensor<4>, hidden: usize) -> Self {
        let mut magnitudes = Vec::new();
        self.forward_observed(latents, |layer, x| {
            if layer.starts_with("igdn") {
                magnitudes.push(mean_magnitudes(x));
            }
        });
        let kept = kept_channels(&self.deconvs, &magnitudes, hidden);
        let igdns = self.igdns.iter().zip(&kept).map(|(igdn, channels)| igdn.narrowed(channels)).collect();
        Self { deconvs: narrowed_chain(&self.deconvs, &kept), igdns }
    }

    /// The layers in order: each transposed convolution with the inverse GDN after it, if any.
    pub fn layers(&self) -> impl Iterator<Item = (&ConvTranspose2d, Option<&Gdn>)> {
        self.deconvs.iter().enumerate().map(|(i, deconv)| (deconv, self.igdns.get(i)))
    }

    /// # Shapes
    /// `[batch, latent, h, w]` -> `[batch, 3, 16h, 16w]`
    pub fn forward(&self, latents: Tensor<4>) -> Tensor<4> {
        self.forward_observed(latents, |_, _| {})
    }

    /// [`Synthesis::forward`], calling `after(layer, output)` after each layer (`"deconv 1"`,
    /// `"igdn 1"`, …): for profiling (burn's CPU backends run each operation when called).
    pub fn forward_observed(&self, latents: Tensor<4>, mut after: impl FnMut(String, &Tensor<4>)) -> Tensor<4> {
        let mut x = latents;
        for (i, deconv) in self.deconvs.iter().enumerate() {
            x = deconv.forward(x);
            after(format!("deconv {}", i + 1), &x);
            if let Some(igdn) = self.igdns.get(i) {
                x = igdn.forward(x);
                after(format!("igdn {}", i + 1), &x);
            }
        }
        x
    }
}

impl FactorizedModel {
    /// Training pass: additive uniform noise stands in for rounding, so that the rate term
    /// is differentiable.
    pub fn forward_train(&self, image: Tensor<4>) -> ForwardOutput {
        let y = self.analysis.forward(image);
        let noise = Tensor::random(y.shape(), Distribution::Uniform(-0.5, 0.5), &y.device());
        let y_noisy = y + noise;
        let likelihoods = self.entropy.likelihoods(y_noisy.clone());
        ForwardOutput { reconstruction: self.synthesis.forward(y_noisy), likelihoods }
    }

    /// Number of latent channels.
    pub fn latent_channels(&self) -> usize {
        self.entropy.channels()
    }

    /// This model with more latent channels: the layers that touch the latents (the last
    /// encoder convolution, the first decoder convolution, the entropy model) get the extra
    /// channels of `fresh`, a newly initialised model of the wider size, while every trained
    /// weight stays. The decoder weights of the new channels start at a tenth of their
    /// initial size, so the widened model starts close to this one and learns to use them.
    ///
    /// # Panics
    /// If `fresh` has other hidden sizes or fewer latent channels (callers check the configs).
    pub fn widen_latents(self, fresh: FactorizedModel) -> FactorizedModel {
        let (old, new) = (self.latent_channels(), fresh.latent_channels());
        assert!(old <= new, "widening {old} latent channels to {new}");
        let Self { analysis: Analysis { mut convs, gdns }, synthesis: Synthesis { mut deconvs, igdns }, entropy } = self;
        let (fresh_conv, fresh_deconv) = (&fresh.analysis.convs[convs.len() - 1], &fresh.synthesis.deconvs[0]);
        let last = convs.last_mut().expect("four layers");
        last.weight = widened(last.weight.val(), fresh_conv.weight.val());
        if let (Some(bias), Some(fresh_bias)) = (last.bias.as_mut(), fresh_conv.bias.as_ref()) {
            *bias = widened(bias.val(), fresh_bias.val());
        }
        let first = &mut deconvs[0];
        first.weight = widened(first.weight.val(), fresh_deconv.weight.val().mul_scalar(0.1));
        FactorizedModel { analysis: Analysis { convs, gdns }, synthesis: Synthesis { deconvs, igdns }, entropy: entropy.widen(fresh.entropy) }
    }
}

#[cfg(test)]
mod tests {
    use burn::module::Param;

    use super::*;

    #[test]
    fn widening_keeps_the_trained_channels_and_adds_new_ones() {
        let device = Device::flex();
        let (narrow, wide) = (FactorizedConfig::new().with_hidden(8).with_latent(4), FactorizedConfig::new().with_hidden(8).with_latent(6));
        let model = narrow.init(&device);
        let image = Tensor::<4>::random([1, 3, 32, 32], Distribution::Uniform(0.0, 1.0), &device);
        let before = model.analysis.forward(image.clone());
        let likelihoods_before = model.entropy.likelihoods(before.clone());
        let widened = model.widen_latents(wide.init(&device));
        assert_eq!(widened.latent_channels(), 6);
        let after = widened.analysis.forward(image);
        assert_eq!(after.dims(), [1, 6, 2, 2]);
        let same = |a: Tensor<4>, b: Tensor<4>| a.sub(b).abs().max().into_scalar::<f32>() < 1e-5;
        assert!(same(after.clone().narrow(1, 0, 4), before), "the trained channels are unchanged");
        assert!(same(widened.entropy.likelihoods(after.clone()).narrow(1, 0, 4), likelihoods_before));
        assert_eq!(widened.synthesis.forward(after).dims(), [1, 3, 32, 32]);
    }

    #[test]
    fn narrowing_drops_the_channels_the_next_layer_reads_least() {
        let device = Device::flex();
        let mut synthesis = FactorizedConfig::new().with_hidden(8).with_latent(4).init(&device).synthesis;
        // The second layer never reads channel 3 of the first hidden activation.
        let mut mask = vec![1.0f32; 8 * 8 * 25];
        mask[3 * 8 * 25..4 * 8 * 25].fill(0.0);
        let weight = synthesis.deconvs[1].weight.val() * Tensor::<4>::from_data(TensorData::new(mask, [8, 8, 5, 5]), &device);
        synthesis.deconvs[1].weight = Param::from_tensor(weight);
        let latents = Tensor::<4>::random([2, 4, 4, 4], Distribution::Uniform(-3.0, 3.0), &device);

        let narrow = synthesis.narrowed(latents.clone(), 7);
        let widths: Vec<[usize; 4]> = narrow.deconvs.iter().map(|d| d.weight.dims()).collect();
        assert_eq!(widths, vec![[4, 7, 5, 5], [7, 7, 5, 5], [7, 7, 5, 5], [7, 3, 5, 5]]);
        assert_eq!(narrow.forward(latents.clone()).dims(), [2, 3, 64, 64]);
        let others = [0usize, 1, 2, 4, 5, 6, 7];
        let expected = super::super::narrow::kept(synthesis.deconvs[0].weight.val(), 1, Some(&others));
        assert_eq!(narrow.deconvs[0].weight.val().into_data(), expected.into_data(), "the first layer's outputs but channel 3");

        // At the same width, the same network.
        let same = synthesis.narrowed(latents.clone(), 8);
        assert_eq!(same.forward(latents.clone()).into_data(), synthesis.forward(latents).into_data());
    }

    #[test]
    fn widened_parameters_train() {
        let device = Device::flex().autodiff();
        let (narrow, wide) = (FactorizedConfig::new().with_hidden(8).with_latent(4), FactorizedConfig::new().with_hidden(8).with_latent(6));
        let widened = narrow.init(&device).widen_latents(wide.init(&device));
        let last = &widened.analysis.convs[3];
        assert!(last.weight.val().is_require_grad() && widened.synthesis.deconvs[0].weight.val().is_require_grad());
        let image = Tensor::<4>::random([1, 3, 32, 32], Distribution::Uniform(0.0, 1.0), &device);
        // Two backward passes: the widened parameters are leaves, not the tail of a graph.
        for _ in 0..2 {
            let out = widened.forward_train(image.clone());
            let grads = (out.reconstruction.mean() + out.likelihoods.mean()).backward();
            assert!(last.weight.grad(&grads).is_some(), "the widened encoder layer gets gradients");
        }
    }
}
