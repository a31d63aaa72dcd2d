//! The analysis (picture → latents) and synthesis (latents → picture) transforms of the photo
//! families, packed from a trained burn model.

use burn::nn::PaddingConfig2d;
use burn::nn::conv::{Conv2d, ConvTranspose2d};
use burn::prelude::*;

use super::Maps;
use super::downsampling::{Downsampling, Layout, arrange};
use super::gradient::SynthesisGradient;
use super::layers::{KERNEL, Normalization, Upsampling, UpsamplingParts};
use super::same::SameSize;
use crate::error::{Error, Result};
use crate::model::factorized::{Analysis as BurnAnalysis, Synthesis as BurnSynthesis};
use crate::model::gdn::Gdn;
use crate::model::hyperprior::HyperAnalysis as BurnHyperAnalysis;

/// A synthesis transform ready to run: 2x upsampling layers with inverse GDN, weights packed
/// per output phase.
#[derive(Debug, Clone)]
pub struct Synthesis {
    layers: Vec<Upsampling>,
}

/// Weights smaller than this in magnitude (`sqrt` of the smallest normal `f32`, about 1.1e-19)
/// are set to zero when a transform is packed. A kept weight times an activation of at least
/// this magnitude is a normal number; the dropped ones give subnormal products with ordinary
/// activations (1e-30 · 1e-9), and on many x86 processors every subnormal product or sum takes
/// a slow microcode path: a trained model's `f32` file (about 11,000 such weights in
/// `hyper-ext.bpk`) took 0.83 s to decompress 768x512 on an Intel Xeon, 0.18 s once they were
/// dropped. They change no output measurably; the built-in models' `f16` weights have none
/// (`f16` rounds anything below 3e-8 to zero).
const NEGLIGIBLE_WEIGHT: f32 = 1.084_202_2e-19;

/// A tensor's values as `f32`, weights below [`NEGLIGIBLE_WEIGHT`] set to zero.
fn floats<const D: usize>(tensor: Tensor<D>) -> Result<Vec<f32>> {
    let mut values = tensor.into_data().convert::<f32>().try_to_vec::<f32>().map_err(|e| Error::Model(format!("synthesis weights: {e:?}")))?;
    flush_negligible(&mut values);
    Ok(values)
}

/// Sets values below [`NEGLIGIBLE_WEIGHT`] in magnitude to zero (keeping their sign).
fn flush_negligible(values: &mut [f32]) {
    for v in values.iter_mut().filter(|v| v.abs() < NEGLIGIBLE_WEIGHT) {
        *v = 0.0f32.copysign(*v);
    }
}

fn normalization(gdn: Option<&Gdn>, outputs: usize) -> Result<Option<Normalization>> {
    let Some(gdn) = gdn else { return Ok(None) };
    let (beta, gamma, inverse) = gdn.parameters();
    let n = Normalization { beta: floats(beta)?, gamma: floats(gamma)?, inverse };
    if n.beta.len() != outputs || n.gamma.len() != outputs * outputs {
        return Err(Error::Model("a normalization does not match its convolution".into()));
    }
    Ok(Some(n))
}

fn bias(bias: Option<&burn::module::Param<Tensor<1>>>, outputs: usize) -> Result<Vec<f32>> {
    bias.map_or(Ok(vec![0.0; outputs]), |b| floats(b.val()))
}

fn downsampling(conv: &Conv2d, gdn: Option<&Gdn>) -> Result<Downsampling> {
    let [outputs, inputs, kh, kw] = conv.weight.val().dims();
    let standard = conv.stride == [2, 2] && matches!(conv.padding, PaddingConfig2d::Explicit(2, 2, 2, 2)) && conv.dilation == [1, 1] && conv.groups == 1;
    if !standard || kh != KERNEL || kw != KERNEL {
        return Err(Error::Model(format!("analysis layer {inputs} -> {outputs} is not a 5x5 stride-2 downsampling")));
    }
    Ok(Downsampling::new(&floats(conv.weight.val())?, inputs, outputs, bias(conv.bias.as_ref(), outputs)?, normalization(gdn, outputs)?))
}

/// A trained synthesis layer's parts, checked to be a 5x5 stride-2 upsampling.
fn upsampling_parts(deconv: &ConvTranspose2d, gdn: Option<&Gdn>) -> Result<UpsamplingParts> {
    let [inputs, outputs, kh, kw] = deconv.weight.val().dims();
    let standard = deconv.stride == [2, 2] && deconv.padding == [2, 2] && deconv.padding_out == [1, 1] && deconv.dilation == [1, 1] && deconv.groups == 1;
    if !standard || kh != KERNEL || kw != KERNEL {
        return Err(Error::Model(format!("synthesis layer {:?} is not a 5x5 stride-2 upsampling", deconv.channels)));
    }
    Ok((floats(deconv.weight.val())?, inputs, outputs, bias(deconv.bias.as_ref(), outputs)?, normalization(gdn, outputs)?))
}

fn upsampling(deconv: &ConvTranspose2d, gdn: Option<&Gdn>) -> Result<Upsampling> {
    let (weight, inputs, outputs, bias, normalization) = upsampling_parts(deconv, gdn)?;
    Ok(Upsampling::new(&weight, inputs, outputs, bias, normalization))
}

/// Refuses layers (their channels in and out, in order) whose outputs do not feed the next
/// layer's inputs.
fn check_chain(channels: impl Iterator<Item = (usize, usize)>, transform: &str) -> Result<()> {
    let channels: Vec<(usize, usize)> = channels.collect();
    if channels.windows(2).any(|pair| pair[0].1 != pair[1].0) {
        return Err(Error::Model(format!("{transform} layers do not chain")));
    }
    Ok(())
}

/// Runs downsampling layers on planes `[channels, h, w]` (`h` and `w` multiples of
/// 2^layers), each writing its output in the layout the next one reads; gives planes (the
/// planes themselves when there are no layers).
fn downsample(layers: &[Downsampling], planes: &[f32], h: usize, w: usize) -> Vec<f32> {
    let Some(first) = layers.first() else { return planes.to_vec() };
    let mut maps = arrange(planes, first.channels().0, h, w, first.input_layout());
    for (i, layer) in layers.iter().enumerate() {
        let next = layers.get(i + 1).map_or(Layout::Plain, Downsampling::input_layout);
        maps = layer.forward(&maps, next);
    }
    maps[0].to_planes()
}

/// An analysis transform ready to run: 2x downsampling layers with GDN.
#[derive(Debug, Clone)]
pub struct Analysis {
    layers: Vec<Downsampling>,
}

impl Analysis {
    /// Packs the weights of a trained analysis transform.
    pub fn from_model(model: &BurnAnalysis) -> Result<Self> {
        let layers: Vec<Downsampling> = model.layers().map(|(conv, gdn)| downsampling(conv, gdn)).collect::<Result<_>>()?;
        check_chain(layers.iter().map(Downsampling::channels), "analysis")?;
        Ok(Self { layers })
    }

    /// Channels of the latents it gives.
    pub fn latent_channels(&self) -> usize {
        self.layers.last().map_or(0, |l| l.channels().1)
    }

    /// Runs the transform: picture planes `[inputs, h, w]` (`h` and `w` multiples of
    /// 2^layers) → latent planes `[latent_channels, h / 2^layers, w / 2^layers]`.
    ///
    /// # Panics
    /// If the planes do not have the first layer's channels or the size is not a multiple.
    pub fn forward(&self, planes: &[f32], h: usize, w: usize) -> Vec<f32> {
        downsample(&self.layers, planes, h, w)
    }
}

/// The hyperprior's hyper-analysis `h_a` ready to run: a 3x3 convolution of stride 1, then
/// 5x5 convolutions of stride 2, ReLU between each two (latents `y` → hyper-latents `z`).
#[derive(Debug, Clone)]
pub struct HyperAnalysis {
    first: SameSize,
    layers: Vec<Downsampling>,
}

impl HyperAnalysis {
    /// Packs the weights of a trained hyper-analysis.
    pub fn from_model(model: &BurnHyperAnalysis) -> Result<Self> {
        let [first, rest @ ..] = model.layers() else { return Err(Error::Model("the hyper-analysis has no layers".into())) };
        if rest.is_empty() {
            // Its first layer's ReLU is fused; a hyper-analysis of that layer alone has none.
            return Err(Error::Model("a hyper-analysis of one layer".into()));
        }
        let [outputs, inputs, kh, kw] = first.weight.val().dims();
        let same = first.stride == [1, 1] && matches!(first.padding, PaddingConfig2d::Explicit(1, 1, 1, 1)) && first.dilation == [1, 1] && first.groups == 1;
        if !same || kh != 3 || kw != 3 {
            return Err(Error::Model(format!("hyper-analysis layer {inputs} -> {outputs} is not a 3x3 stride-1 convolution")));
        }
        let first = SameSize::new(&floats(first.weight.val())?, inputs, outputs, bias(first.bias.as_ref(), outputs)?);
        let layers: Vec<Downsampling> = rest
            .iter()
            .enumerate()
            .map(|(i, conv)| downsampling(conv, None).map(|layer| if i + 1 < rest.len() { layer.rectified() } else { layer }))
            .collect::<Result<_>>()?;
        check_chain(std::iter::once(first.channels()).chain(layers.iter().map(Downsampling::channels)), "hyper-analysis")?;
        Ok(Self { first, layers })
    }

    /// Runs the transform: latents `[inputs, h, w]` (`h` and `w` multiples of 2^layers) →
    /// hyper-latents `[outputs, h / 2^layers, w / 2^layers]` (the stride-2 layers').
    ///
    /// # Panics
    /// If the planes do not have the first layer's channels or the size is not a multiple.
    pub fn forward(&self, planes: &[f32], h: usize, w: usize) -> Vec<f32> {
        let (inputs, _) = self.first.channels();
        let first = self.first.forward(&Maps::from_planes(planes, inputs, h, w)).to_planes();
        downsample(&self.layers, &first, h, w)
    }
}

impl Synthesis {
    /// Packs the weights of a trained synthesis transform.
    pub fn from_model(model: &BurnSynthesis) -> Result<Self> {
        let layers: Vec<Upsampling> = model.layers().map(|(deconv, gdn)| upsampling(deconv, gdn)).collect::<Result<_>>()?;
        check_chain(layers.iter().map(Upsampling::channels), "synthesis")?;
        Ok(Self { layers })
    }

    /// Packs the weights of a trained synthesis transform to give gradients with respect to its
    /// latents (an encoder refining them).
    ///
    /// # Errors
    /// [`Error::Model`] as [`Synthesis::from_model`].
    pub fn gradient_of(model: &BurnSynthesis) -> Result<SynthesisGradient> {
        let layers: Vec<UpsamplingParts> = model.layers().map(|(deconv, gdn)| upsampling_parts(deconv, gdn)).collect::<Result<_>>()?;
        check_chain(layers.iter().map(|l| (l.1, l.2)), "synthesis")?;
        Ok(SynthesisGradient::new(layers))
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

    /// [`Synthesis::forward`], calling `after(stage)` after each stage (`"upsampling 1"`, …;
    /// the last two layers run as one stage, band by band): for profiling.
    pub fn forward_observed(&self, latents: &[f32], h: usize, w: usize, mut after: impl FnMut(&str)) -> Vec<f32> {
        let mut maps = Maps::from_planes(latents, self.latent_channels(), h, w);
        let single = self.layers.len().saturating_sub(2);
        for (i, layer) in self.layers[..single].iter().enumerate() {
            maps = layer.forward(&maps);
            after(&format!("upsampling {}", i + 1));
        }
        match &self.layers[single..] {
            [first, second] => {
                maps = first.forward_pair(second, &maps);
                after(&format!("upsampling {} and {}, band by band", single + 1, single + 2));
            }
            [only] => {
                maps = only.forward(&maps);
                after(&format!("upsampling {}", single + 1));
            }
            _ => {}
        }
        maps.to_planes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::FactorizedConfig;

    #[test]
    fn packed_analysis_gives_burns_results() {
        let device = Device::flex();
        let model = FactorizedConfig::new().with_hidden(8).with_latent(6).init(&device);
        let (h, w) = (32, 48);
        let picture: Vec<f32> = (0..3 * h * w).map(|i| (i * 31 % 256) as f32 / 255.0).collect();
        let expected = floats(model.analysis.forward(Tensor::<4>::from_data(TensorData::new(picture.clone(), [1, 3, h, w]), &device))).unwrap();
        let fast = Analysis::from_model(&model.analysis).unwrap();
        assert_eq!(fast.latent_channels(), 6);
        let out = fast.forward(&picture, h, w);
        assert_eq!(out.len(), expected.len());
        let worst = out.iter().zip(&expected).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
        assert!(worst < 1e-4, "differs from burn by {worst}");
    }

    #[test]
    fn packed_hyper_analysis_gives_burns_results() {
        let device = Device::flex();
        let config = crate::model::hyperprior::HyperpriorConfig::new(vec![0.01, 0.1]).with_hidden(8).with_latent(12).with_hyper_hidden(10).with_hyper_latent(6);
        let model = config.init(&device);
        let (h, w) = (12, 20);
        let y: Vec<f32> = (0..12 * h * w).map(|i| ((i * 37 % 23) as f32 - 11.0) / 3.0).collect();
        let expected = floats(model.hyper_analysis.forward(Tensor::<4>::from_data(TensorData::new(y.clone(), [1, 12, h, w]), &device))).unwrap();
        let fast = HyperAnalysis::from_model(&model.hyper_analysis).unwrap();
        let out = fast.forward(&y, h, w);
        assert_eq!(out.len(), 6 * (h / 4) * (w / 4));
        let worst = out.iter().zip(&expected).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
        assert!(worst < 1e-4, "differs from burn by {worst}");
    }

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

    #[test]
    fn negligible_weights_become_zero_and_the_rest_stay() {
        let mut values = vec![1e-19, -1e-20, 1e-38, -1e-40, 0.0, 1.2e-19, -3e-8, 0.5, -2.0];
        flush_negligible(&mut values);
        assert_eq!(values, [0.0, -0.0, 0.0, -0.0, 0.0, 1.2e-19, -3e-8, 0.5, -2.0]);
        assert!(values[1].is_sign_negative() && values[3].is_sign_negative());
        // A kept weight times an activation of at least the same magnitude is a normal number.
        assert!((NEGLIGIBLE_WEIGHT * NEGLIGIBLE_WEIGHT).is_normal());
        assert!((NEGLIGIBLE_WEIGHT * 0.9 * NEGLIGIBLE_WEIGHT).is_subnormal());
    }
}
