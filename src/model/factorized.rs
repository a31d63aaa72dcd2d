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
        FactorizedModel {
            analysis: Analysis { convs, gdns },
            synthesis: Synthesis { deconvs, igdns },
            entropy: EntropyBottleneck::new(self.latent, device),
        }
    }
}

impl Analysis {
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

impl Synthesis {
    /// # Shapes
    /// `[batch, latent, h, w]` -> `[batch, 3, 16h, 16w]`
    pub fn forward(&self, latents: Tensor<4>) -> Tensor<4> {
        let mut x = latents;
        for (i, deconv) in self.deconvs.iter().enumerate() {
            x = deconv.forward(x);
            if let Some(igdn) = self.igdns.get(i) {
                x = igdn.forward(x);
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
}
