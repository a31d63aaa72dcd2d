//! The synthesis transform (latents → picture) of the photo families, packed from a trained
//! burn model.

use burn::nn::conv::ConvTranspose2d;
use burn::prelude::*;

use super::Maps;
use super::layers::{KERNEL, Normalization, Upsampling};
use crate::error::{Error, Result};
use crate::model::factorized::Synthesis as BurnSynthesis;
use crate::model::gdn::Gdn;

/// A synthesis transform ready to run: 2x upsampling layers with inverse GDN, weights packed
/// per output phase.
#[derive(Debug, Clone)]
pub struct Synthesis {
    layers: Vec<Upsampling>,
}

fn floats<const D: usize>(tensor: Tensor<D>) -> Result<Vec<f32>> {
    tensor.into_data().convert::<f32>().try_to_vec::<f32>().map_err(|e| Error::Model(format!("synthesis weights: {e:?}")))
}

fn upsampling(deconv: &ConvTranspose2d, gdn: Option<&Gdn>) -> Result<Upsampling> {
    let [inputs, outputs, kh, kw] = deconv.weight.val().dims();
    let standard = deconv.stride == [2, 2] && deconv.padding == [2, 2] && deconv.padding_out == [1, 1] && deconv.dilation == [1, 1] && deconv.groups == 1;
    if !standard || kh != KERNEL || kw != KERNEL {
        return Err(Error::Model(format!("synthesis layer {:?} is not a 5x5 stride-2 upsampling", deconv.channels)));
    }
    let bias = match &deconv.bias {
        Some(bias) => floats(bias.val())?,
        None => vec![0.0; outputs],
    };
    let normalization = match gdn {
        Some(gdn) => {
            let (beta, gamma, inverse) = gdn.parameters();
            Some(Normalization { beta: floats(beta)?, gamma: floats(gamma)?, inverse })
        }
        None => None,
    };
    if normalization.as_ref().is_some_and(|n| n.beta.len() != outputs || n.gamma.len() != outputs * outputs) {
        return Err(Error::Model("synthesis normalization does not match its convolution".into()));
    }
    Ok(Upsampling::new(&floats(deconv.weight.val())?, inputs, outputs, bias, normalization))
}

impl Synthesis {
    /// Packs the weights of a trained synthesis transform.
    pub fn from_model(model: &BurnSynthesis) -> Result<Self> {
        let layers: Vec<Upsampling> = model.layers().map(|(deconv, gdn)| upsampling(deconv, gdn)).collect::<Result<_>>()?;
        if layers.windows(2).any(|pair| pair[0].channels().1 != pair[1].channels().0) {
            return Err(Error::Model("synthesis layers do not chain".into()));
        }
        Ok(Self { layers })
    }

    /// Channels of the latents it takes.
    pub fn latent_channels(&self) -> usize {
        self.layers.first().map_or(0, |l| l.channels().0)
    }

    /// How many times larger the output is than the latents, each way.
    pub fn upsampling(&self) -> usize {
        1 << self.layers.len()
    }

    /// Runs the transform: latents `[channels, h, w]` (planes) → picture planes
    /// `[outputs, h * upsampling, w * upsampling]`.
    ///
    /// # Panics
    /// If the latents do not have [`Synthesis::latent_channels`] channels.
    pub fn forward(&self, latents: &[f32], h: usize, w: usize) -> Vec<f32> {
        self.forward_observed(latents, h, w, |_| {})
    }

    /// [`Synthesis::forward`], calling `after(layer)` after each layer (0, 1, …): for profiling.
    pub fn forward_observed(&self, latents: &[f32], h: usize, w: usize, mut after: impl FnMut(usize)) -> Vec<f32> {
        let mut maps = Maps::from_planes(latents, self.latent_channels(), h, w);
        for (i, layer) in self.layers.iter().enumerate() {
            maps = layer.forward(&maps);
            after(i);
        }
        maps.to_planes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::FactorizedConfig;

    #[test]
    fn packed_synthesis_gives_burns_results() {
        let device = Device::flex();
        let model = FactorizedConfig::new().with_hidden(8).with_latent(6).init(&device);
        let (h, w) = (3, 5);
        let latents: Vec<f32> = (0..6 * h * w).map(|i| ((i * 37 % 23) as f32 - 11.0) / 3.0).collect();
        let expected = floats(model.synthesis.forward(Tensor::<4>::from_data(TensorData::new(latents.clone(), [1, 6, h, w]), &device))).unwrap();
        let fast = Synthesis::from_model(&model.synthesis).unwrap();
        assert_eq!((fast.latent_channels(), fast.upsampling()), (6, 16));
        let out = fast.forward(&latents, h, w);
        assert_eq!(out.len(), expected.len());
        let worst = out.iter().zip(&expected).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
        assert!(worst < 1e-4, "differs from burn by {worst}");
    }
}
