//! The mean-scale hyperprior of Minnen, Ballé & Toderici (2018), without the serial context
//! model, made variable-rate by gain units (Cui et al. 2021).
//!
//! - `g_a` ([`Analysis`], shared with the factorized family): image → `y`, 16x smaller.
//! - A gain vector per rate level scales `y` channel by channel before quantization; an
//!   inverse gain vector scales the decoded latents back before `g_s`. Level `l` of the
//!   network is trained for the rate–distortion trade-off `lambdas[l]`; gains between two
//!   levels interpolate geometrically (continuous rate).
//! - `h_a` ([`HyperAnalysis`]): gained `y` → `z`, 4x smaller again; `z` is coded with the
//!   factorized [`EntropyBottleneck`].
//! - `h_s` ([`HyperSynthesis`]): `ẑ` → the mean `μ` and log-scale `ln σ` of every element of
//!   the gained `y`, which is coded as `round(y − μ)` under a Gaussian of scale `σ`.
//! - `g_s` ([`Synthesis`]): decoded latents → image.
//!
//! `h_s` uses ReLU activations and ends in a 1x1 convolution so that the integer
//! re-implementation that the codec runs (bit-exact on every machine) stays small.

use burn::config::Config;
use burn::module::Param;
use burn::nn::PaddingConfig2d;
use burn::nn::conv::{Conv2d, Conv2dConfig, ConvTranspose2d, ConvTranspose2dConfig};
use burn::prelude::*;
use burn::tensor::Distribution;
use burn::tensor::activation::relu;

use super::entropy::EntropyBottleneck;
use super::factorized::{Analysis, FactorizedConfig, FactorizedModel, Synthesis};
use super::narrow::{Narrowable, kept_channels, leaf, mean_magnitudes, most_read, narrowed_chain};

/// How much smaller the hyper-latent grid is than the image, in each direction.
pub const HYPER_DOWNSAMPLING: usize = 64;
/// Smallest scale `σ` of the Gaussian conditionals (CompressAI's lower bound).
pub const SCALE_MIN: f32 = 0.11;
/// Largest scale `σ`.
pub const SCALE_MAX: f32 = 256.0;
/// Smallest likelihood used in the rate, so that `log2` stays finite.
const LIKELIHOOD_FLOOR: f32 = 1e-9;
/// λ whose model the gains are initialised around (`gain = sqrt(λ / LAMBDA_REF)`): the
/// factorized models that a hyperprior run may start its transforms from were trained at
/// quantization step 1 for about this λ.
const LAMBDA_REF: f64 = 0.08;

/// Sizes of a mean-scale hyperprior model and the λ of each of its rate levels.
#[derive(Config, Debug, PartialEq)]
pub struct HyperpriorConfig {
    /// Rate–distortion trade-off of every level, increasing (`λ·255²·MSE + bpp`).
    pub lambdas: Vec<f64>,
    /// Channels of the hidden layers of `g_a`, and of `g_s` unless `synthesis_hidden` says.
    #[config(default = 64)]
    pub hidden: usize,
    /// Channels of the hidden layers of `g_s` when they differ from `g_a`'s (a narrower, faster
    /// decoder beside a wider encoder); settings written before it existed have none.
    #[config(default = "None")]
    pub synthesis_hidden: Option<usize>,
    /// Channels of `y`.
    #[config(default = 192)]
    pub latent: usize,
    /// Channels of the hidden layers of `h_a` and `h_s`.
    #[config(default = 128)]
    pub hyper_hidden: usize,
    /// Channels of `z`.
    #[config(default = 96)]
    pub hyper_latent: usize,
}

/// Hyper-analysis `h_a`: `y` → `z` (3x3 stride 1, 5x5 stride 2, 5x5 stride 2, ReLU between).
#[derive(Module, Debug)]
pub struct HyperAnalysis {
    convs: Vec<Conv2d>,
}

/// Hyper-synthesis `h_s`: `ẑ` → `μ` and `ln σ` (two 5x5 stride-2 transposed convolutions
/// with ReLU, then a 1x1 convolution to `2·latent` channels: means first, log-scales second).
#[derive(Module, Debug)]
pub struct HyperSynthesis {
    /// The two upsampling layers.
    pub deconvs: Vec<ConvTranspose2d>,
    /// The final 1x1 layer.
    pub head: Conv2d,
}

/// The whole model.
#[derive(Module, Debug)]
pub struct HyperpriorModel {
    /// Image → `y`.
    pub analysis: Analysis,
    /// Latents → image.
    pub synthesis: Synthesis,
    /// `y` → `z`.
    pub hyper_analysis: HyperAnalysis,
    /// `ẑ` → means and log-scales of `y`.
    pub hyper_synthesis: HyperSynthesis,
    /// Density of `z`.
    pub hyper_entropy: EntropyBottleneck,
    /// Natural logarithm of the gain of every level and channel, `[levels, latent]`.
    pub log_gain: Param<Tensor<2>>,
    /// Natural logarithm of the inverse gain of every level and channel, `[levels, latent]`.
    pub log_inv_gain: Param<Tensor<2>>,
}

/// What one training forward pass returns.
pub struct HyperForward {
    /// Reconstructed images, `[batch, 3, H, W]`.
    pub reconstruction: Tensor<4>,
    /// Likelihood of every noisy `y` element, `[batch, latent, H/16, W/16]`.
    pub y_likelihoods: Tensor<4>,
    /// Likelihood of every noisy `z` element, `[batch, hyper_latent, H/64, W/64]`.
    pub z_likelihoods: Tensor<4>,
}

fn conv(channels: [usize; 2], kernel: usize, stride: usize, device: &Device) -> Conv2d {
    let pad = kernel / 2;
    Conv2dConfig::new(channels, [kernel, kernel]).with_stride([stride, stride]).with_padding(PaddingConfig2d::Explicit(pad, pad, pad, pad)).init(device)
}

fn upsampling(channels: [usize; 2], device: &Device) -> ConvTranspose2d {
    ConvTranspose2dConfig::new(channels, [5, 5]).with_stride([2, 2]).with_padding([2, 2]).with_padding_out([1, 1]).init(device)
}

impl HyperpriorConfig {
    /// Number of rate levels.
    pub fn levels(&self) -> usize {
        self.lambdas.len()
    }

    /// The sizes of the factorized model whose transforms this model shares (its analysis
    /// transform's: see [`HyperpriorConfig::synthesis_transform`]).
    pub fn transforms(&self) -> FactorizedConfig {
        FactorizedConfig::new().with_hidden(self.hidden).with_latent(self.latent)
    }

    /// Channels of the hidden layers of `g_s`.
    pub fn synthesis_width(&self) -> usize {
        self.synthesis_hidden.unwrap_or(self.hidden)
    }

    /// The sizes of the factorized model whose synthesis transform this model's is.
    pub fn synthesis_transform(&self) -> FactorizedConfig {
        FactorizedConfig::new().with_hidden(self.synthesis_width()).with_latent(self.latent)
    }

    /// Builds a freshly initialised model; the gain of level `l` starts at
    /// `sqrt(lambdas[l] / 0.08)` on every channel, its inverse at the reciprocal.
    pub fn init(&self, device: &Device) -> HyperpriorModel {
        let FactorizedModel { analysis, mut synthesis, .. } = self.transforms().init(device);
        if self.synthesis_width() != self.hidden {
            synthesis = self.synthesis_transform().init(device).synthesis;
        }
        let (m, nh, nz) = (self.latent, self.hyper_hidden, self.hyper_latent);
        let log_gains: Vec<f32> = self.lambdas.iter().flat_map(|&lambda| std::iter::repeat_n((0.5 * (lambda / LAMBDA_REF).ln()) as f32, m)).collect();
        let log_gain = Tensor::<2>::from_data(TensorData::new(log_gains, [self.levels(), m]), device);
        HyperpriorModel {
            analysis,
            synthesis,
            hyper_analysis: HyperAnalysis { convs: vec![conv([m, nh], 3, 1, device), conv([nh, nh], 5, 2, device), conv([nh, nz], 5, 2, device)] },
            hyper_synthesis: HyperSynthesis {
                deconvs: vec![upsampling([nz, nh], device), upsampling([nh, nh], device)],
                head: conv([nh, 2 * m], 1, 1, device),
            },
            hyper_entropy: EntropyBottleneck::new(nz, device),
            log_inv_gain: Param::from_tensor(log_gain.clone().neg()),
            log_gain: Param::from_tensor(log_gain),
        }
    }
}

impl HyperAnalysis {
    /// The convolutions, in order (a ReLU between each two).
    pub fn layers(&self) -> &[Conv2d] {
        &self.convs
    }

    /// # Shapes
    /// `[batch, latent, h, w]` -> `[batch, hyper_latent, h/4, w/4]`
    pub fn forward(&self, y: Tensor<4>) -> Tensor<4> {
        let mut x = y;
        for (i, conv) in self.convs.iter().enumerate() {
            if i > 0 {
                x = relu(x);
            }
            x = conv.forward(x);
        }
        x
    }
}

impl HyperAnalysis {
    /// This transform with `hidden` channels in each hidden layer, the most used on `y` kept
    /// ([`super::narrow`]), and its output on `y` (before narrowing).
    fn narrowed(&self, y: Tensor<4>, hidden: usize) -> (Self, Tensor<4>) {
        let mut magnitudes = Vec::new();
        let mut x = y;
        for (i, conv) in self.convs.iter().enumerate() {
            if i > 0 {
                x = relu(x);
                magnitudes.push(mean_magnitudes(&x));
            }
            x = conv.forward(x);
        }
        (Self { convs: narrowed_chain(&self.convs, &kept_channels(&self.convs, &magnitudes, hidden)) }, x)
    }
}

impl HyperSynthesis {
    /// This transform with `hidden` channels in each hidden layer, the most used on `z_hat`
    /// kept ([`super::narrow`]), and its means on `z_hat` (before narrowing).
    fn narrowed(&self, z_hat: Tensor<4>, hidden: usize) -> (Self, Tensor<4>) {
        let mut magnitudes = Vec::new();
        let mut x = z_hat;
        for deconv in &self.deconvs {
            x = relu(deconv.forward(x));
            magnitudes.push(mean_magnitudes(&x));
        }
        // The last hidden activation is read by the head, the others by the next upsampling.
        let kept: Vec<Vec<usize>> = magnitudes
            .iter()
            .enumerate()
            .map(|(i, magnitude)| {
                let norms = self.deconvs.get(i + 1).map_or_else(|| self.head.input_norms(), Narrowable::input_norms);
                most_read(magnitude, &norms, hidden)
            })
            .collect();
        // The last upsampling keeps the outputs that the head reads.
        let deconvs = narrowed_chain(&self.deconvs, &kept);
        let last = kept.len() - 1;
        let latent = self.head.weight.dims()[0] / 2;
        let means = self.head.forward(x).narrow(1, 0, latent);
        (Self { deconvs, head: self.head.narrowed(Some(&kept[last]), None) }, means)
    }
}

impl HyperSynthesis {
    /// Means and log-scales of the gained `y`.
    ///
    /// # Shapes
    /// `[batch, hyper_latent, h, w]` -> two of `[batch, latent, 4h, 4w]`
    pub fn forward(&self, z_hat: Tensor<4>) -> (Tensor<4>, Tensor<4>) {
        let mut x = z_hat;
        for deconv in &self.deconvs {
            x = relu(deconv.forward(x));
        }
        let out = self.head.forward(x);
        let latent = out.dims()[1] / 2;
        (out.clone().narrow(1, 0, latent), out.narrow(1, latent, latent))
    }
}

/// Rows of `rows` (`[trained.len()][width]`, one per λ of `trained`) read at each λ of
/// `lambdas`: linear interpolation in `ln λ` between the two nearest trained λ, the end segments
/// extended beyond the trained range (a single trained row is copied).
fn relevel_rows(rows: &[f32], width: usize, trained: &[f64], lambdas: &[f64]) -> Vec<f32> {
    assert!(!trained.is_empty() && trained.windows(2).all(|w| w[0] < w[1]) && rows.len() == trained.len() * width);
    let row = |i: usize| &rows[i * width..(i + 1) * width];
    lambdas
        .iter()
        .flat_map(|&lambda| {
            if trained.len() == 1 {
                return row(0).to_vec();
            }
            let i = trained.windows(2).position(|w| lambda < w[1]).unwrap_or(trained.len() - 2);
            let t = ((lambda.ln() - trained[i].ln()) / (trained[i + 1].ln() - trained[i].ln())) as f32;
            row(i).iter().zip(row(i + 1)).map(|(&a, &b)| a + t * (b - a)).collect()
        })
        .collect()
}

/// Rounding with a straight-through gradient.
fn round_ste(x: Tensor<4>) -> Tensor<4> {
    x.clone() + (x.clone().round() - x).detach()
}

/// `σ` from the log-scale output of `h_s`, clamped to the range of the table bank.
pub fn scales_from_log(log_scale: Tensor<4>) -> Tensor<4> {
    log_scale.clamp(SCALE_MIN.ln(), SCALE_MAX.ln()).exp()
}

/// Probability of the unit interval around every value under a Gaussian of the given mean and
/// scale, floored at 1e-9.
pub fn gaussian_likelihoods(values: Tensor<4>, means: Tensor<4>, scales: Tensor<4>) -> Tensor<4> {
    let distance = (values - means).abs();
    let norm = scales.mul_scalar(std::f32::consts::SQRT_2);
    // Both ends on the negative side of the Gaussian, where erf is least cancelled.
    let upper = distance.clone().neg().add_scalar(0.5).div(norm.clone()).erf();
    let lower = distance.neg().sub_scalar(0.5).div(norm).erf();
    (upper - lower).mul_scalar(0.5).clamp_min(LIKELIHOOD_FLOOR)
}

impl HyperpriorModel {
    /// This model with the trained analysis and synthesis transforms of a factorized model of
    /// the same sizes (a warm start: only the hyperprior and the gains start from scratch).
    pub fn with_transforms_of(self, trained: FactorizedModel) -> Self {
        Self { analysis: trained.analysis, synthesis: trained.synthesis, ..self }
    }

    /// Number of rate levels.
    pub fn levels(&self) -> usize {
        self.log_gain.dims()[0]
    }

    /// This model with other rate levels: the (inverse) gains of every new level are read off
    /// the trained ones, piecewise linear in `ln λ` (extrapolated beyond the ends), so that a
    /// fine-tuning run can add levels below or above the trained range.
    ///
    /// # Panics
    /// If `trained` does not list one increasing λ per level of this model, or `lambdas` is empty.
    pub fn with_levels(self, trained: &[f64], lambdas: &[f64]) -> Self {
        let relevel = |param: Param<Tensor<2>>| {
            let tensor = param.val();
            let device = tensor.device();
            let [levels, m] = tensor.dims();
            assert_eq!(levels, trained.len(), "one λ per trained level");
            let old: Vec<f32> = tensor.into_data().try_to_vec::<f32>().expect("f32 gains");
            let new = relevel_rows(&old, m, trained, lambdas);
            Param::from_tensor(Tensor::<2>::from_data(TensorData::new(new, [lambdas.len(), m]), &device))
        };
        Self { log_gain: relevel(self.log_gain), log_inv_gain: relevel(self.log_inv_gain), ..self }
    }

    /// Per-sample gain and inverse gain vectors of the given levels, `[batch, latent, 1, 1]`.
    fn gains(&self, levels: Tensor<1, Int>) -> (Tensor<4>, Tensor<4>) {
        let [_, m] = self.log_gain.dims();
        let b = levels.dims()[0];
        let pick = |p: &Param<Tensor<2>>| p.val().select(0, levels.clone()).exp().reshape([b, m, 1, 1]);
        (pick(&self.log_gain), pick(&self.log_inv_gain))
    }

    /// This model with the hidden widths of `narrow` (at most this model's; the latent sizes
    /// the same): every hidden layer of the four transforms keeps its channels most used on
    /// `images` ([`super::narrow`]) at the middle rate level, the rest of the model as trained.
    /// A warm start for a model with a faster decoder, which is then fine-tuned.
    ///
    /// # Panics
    /// If `narrow` is wider than this model or has other latent sizes (callers check).
    pub fn narrowed(&self, narrow: &HyperpriorConfig, images: Tensor<4>) -> Self {
        let batch = images.dims()[0];
        let level = Tensor::<1, Int>::from_data(TensorData::new(vec![(self.levels() / 2) as i64; batch], [batch]), &images.device());
        let (gain, inv_gain) = self.gains(level);
        let (analysis, y) = self.analysis.narrowed(images, narrow.hidden);
        let y = y * gain;
        assert_eq!(y.dims()[1], narrow.latent, "narrowing keeps the latent channels");
        let (hyper_analysis, z) = self.hyper_analysis.narrowed(y.clone(), narrow.hyper_hidden);
        assert_eq!(z.dims()[1], narrow.hyper_latent, "narrowing keeps the hyper-latent channels");
        let (hyper_synthesis, means) = self.hyper_synthesis.narrowed(z.round(), narrow.hyper_hidden);
        let y_hat = (y - means.clone()).round() + means;
        Self {
            analysis,
            synthesis: self.synthesis.narrowed(y_hat * inv_gain, narrow.synthesis_width()),
            hyper_analysis,
            hyper_synthesis,
            hyper_entropy: self.hyper_entropy.clone(),
            log_gain: leaf(self.log_gain.val()),
            log_inv_gain: leaf(self.log_inv_gain.val()),
        }
    }

    /// Training pass with mixed quantization: the rate terms see additive uniform noise, the
    /// synthesis sees rounded latents (straight-through gradient); each image of the batch is
    /// coded at its own level.
    pub fn forward_train(&self, image: Tensor<4>, levels: Tensor<1, Int>) -> HyperForward {
        let (gain, inv_gain) = self.gains(levels);
        let y = self.analysis.forward(image) * gain;
        let z = self.hyper_analysis.forward(y.clone());
        let uniform = |t: &Tensor<4>| Tensor::random(t.shape(), Distribution::Uniform(-0.5, 0.5), &t.device());
        let z_likelihoods = self.hyper_entropy.likelihoods(z.clone() + uniform(&z));
        let (means, log_scales) = self.hyper_synthesis.forward(round_ste(z));
        let y_likelihoods = gaussian_likelihoods(y.clone() + uniform(&y), means.clone(), scales_from_log(log_scales));
        let y_hat = round_ste(y - means.clone()) + means;
        HyperForward { reconstruction: self.synthesis.forward(y_hat * inv_gain), y_likelihoods, z_likelihoods }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> HyperpriorConfig {
        HyperpriorConfig::new(vec![0.004, 0.04]).with_hidden(8).with_latent(12).with_hyper_hidden(8).with_hyper_latent(6)
    }

    #[test]
    fn a_narrowed_model_has_the_narrow_sizes_and_trains() {
        let device = Device::flex().autodiff();
        let model = small().init(&device);
        let images = Tensor::<4>::random([2, 3, 64, 64], Distribution::Uniform(0.0, 1.0), &device);
        let narrow_config = small().with_hidden(7).with_synthesis_hidden(Some(6)).with_hyper_hidden(5);
        let narrow = model.narrowed(&narrow_config, images.clone());
        assert_eq!(narrow.num_params(), narrow_config.init(&device).num_params());
        let levels = Tensor::<1, Int>::from_data(TensorData::new(vec![0i64, 1], [2]), &device);
        // Two backward passes: the kept weights are parameters of their own, not a graph's tail.
        for _ in 0..2 {
            let out = narrow.forward_train(images.clone(), levels.clone());
            let grads = (out.reconstruction.mean() + out.y_likelihoods.mean()).backward();
            assert!(narrow.hyper_synthesis.head.weight.grad(&grads).is_some() && narrow.log_gain.grad(&grads).is_some());
        }
        // At the same widths, the same model.
        let same = model.narrowed(&small(), images.clone());
        let z_hat = Tensor::<4>::random([1, 6, 2, 2], Distribution::Uniform(-4.0, 4.0), &device).round();
        assert_eq!(same.hyper_synthesis.forward(z_hat.clone()).1.into_data(), model.hyper_synthesis.forward(z_hat).1.into_data());
        assert_eq!(same.analysis.forward(images.clone()).into_data(), model.analysis.forward(images).into_data());
    }

    #[test]
    fn shapes_and_likelihoods_are_consistent() {
        let device = Device::flex();
        let model = small().init(&device);
        let image = Tensor::<4>::random([2, 3, 64, 128], Distribution::Uniform(0.0, 1.0), &device);
        let levels = Tensor::<1, Int>::from_data(TensorData::new(vec![0i64, 1], [2]), &device);
        let out = model.forward_train(image, levels);
        assert_eq!(out.reconstruction.dims(), [2, 3, 64, 128]);
        assert_eq!(out.y_likelihoods.dims(), [2, 12, 4, 8]);
        assert_eq!(out.z_likelihoods.dims(), [2, 6, 1, 2]);
        let max = out.y_likelihoods.clone().max().into_scalar::<f32>();
        let min = out.y_likelihoods.min().into_scalar::<f32>();
        assert!(max <= 1.0 && min >= LIKELIHOOD_FLOOR, "likelihoods in (0, 1]: {min}..{max}");
    }

    #[test]
    fn gaussian_likelihoods_match_the_normal_distribution() {
        let device = Device::flex();
        let t = |v: f32| Tensor::<4>::full([1, 1, 1, 1], v, &device);
        // P(|X| < 0.5) for X ~ N(0, 1) = 0.382925.
        let p = gaussian_likelihoods(t(0.0), t(0.0), t(1.0)).into_scalar::<f32>();
        assert!((p - 0.382_925).abs() < 1e-5, "{p}");
        // P(1.5 < X < 2.5) for X ~ N(0, 1) = 0.060598; the mean shifts, the sign does not matter.
        let p = gaussian_likelihoods(t(-1.0), t(1.0), t(1.0)).into_scalar::<f32>();
        assert!((p - 0.060_598).abs() < 1e-5, "{p}");
    }

    #[test]
    fn new_levels_read_the_gains_in_log_lambda() {
        // Two trained rows at λ = 1 and e²: row value = ln λ on the first channel, constant on the second.
        let rows = [0.0, 5.0, 2.0, 5.0];
        let trained = [1.0, 2f64.exp()];
        let lambdas = [(-1f64).exp(), 1.0, 1f64.exp(), 2f64.exp(), 3f64.exp()];
        let got = relevel_rows(&rows, 2, &trained, &lambdas);
        let want = [-1.0, 5.0, 0.0, 5.0, 1.0, 5.0, 2.0, 5.0, 3.0, 5.0];
        assert!(got.iter().zip(want).all(|(g, w)| (g - w).abs() < 1e-5), "{got:?}");
        let model = small().init(&Device::flex()).with_levels(&[0.004, 0.04], &[0.001, 0.004, 0.04, 0.1]);
        assert_eq!(model.levels(), 4);
    }

    #[test]
    fn every_part_gets_gradients() {
        let device = Device::flex().autodiff();
        let model = small().init(&device);
        let image = Tensor::<4>::random([2, 3, 64, 64], Distribution::Uniform(0.0, 1.0), &device);
        let levels = Tensor::<1, Int>::from_data(TensorData::new(vec![1i64, 0], [2]), &device);
        let out = model.forward_train(image.clone(), levels);
        let loss = (out.reconstruction - image).square().mean() + out.y_likelihoods.log().mean().neg() + out.z_likelihoods.log().mean().neg();
        let grads = loss.backward();
        assert!(model.log_gain.grad(&grads).is_some() && model.log_inv_gain.grad(&grads).is_some());
        assert!(model.hyper_synthesis.head.weight.grad(&grads).is_some(), "the hyper-synthesis learns through the rate");
        assert!(model.hyper_analysis.convs[0].weight.grad(&grads).is_some(), "the hyper-analysis learns through the rate");
    }
}
