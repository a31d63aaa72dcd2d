//! The factorized entropy model ("entropy bottleneck" of Ballé et al. 2018, appendix 6.1):
//! one small, learned, monotone cumulative density per latent channel.
//!
//! For every channel `c` the network maps a scalar `x` to a logit `f_c(x)` that increases with
//! `x`; `sigmoid(f_c(x))` is the cumulative distribution. The probability of an integer latent
//! `k` (or of a noisy latent during training) is `cdf(k + 1/2) - cdf(k - 1/2)`.
//! Monotonicity comes from softplus-positive matrices and from `tanh` factors bounded
//! below by -1.

use burn::module::Param;
use burn::prelude::*;
use burn::tensor::Distribution;
use burn::tensor::activation::{sigmoid, softplus};

/// Smallest likelihood used in the rate, so that `log2` stays finite.
const LIKELIHOOD_FLOOR: f32 = 1e-9;
/// Widths of the hidden layers of each channel's density network (CompressAI's default).
const HIDDEN: [usize; 3] = [3, 3, 3];
/// Initial scale of the densities (CompressAI's `init_scale`).
const INIT_SCALE: f64 = 10.0;

/// One layer of the per-channel density networks, for all channels at once.
#[derive(Module, Debug)]
pub struct DensityLayer {
    /// Pre-softplus weights, `[channels, out, in]`.
    matrix: Param<Tensor<3>>,
    /// Biases, `[channels, out, 1]`.
    bias: Param<Tensor<3>>,
    /// Pre-tanh gates of the `x + tanh(a) * tanh(x)` non-linearity, `[channels, out, 1]`;
    /// absent on the last layer.
    factor: Option<Param<Tensor<3>>>,
}

/// Learned factorized density over `channels` latent channels.
#[derive(Module, Debug)]
pub struct EntropyBottleneck {
    layers: Vec<DensityLayer>,
}

impl EntropyBottleneck {
    /// A new model for `channels` latent channels, initialised as in CompressAI.
    pub fn new(channels: usize, device: &Device) -> Self {
        let widths: Vec<usize> = std::iter::once(1).chain(HIDDEN).chain(std::iter::once(1)).collect();
        let scale = INIT_SCALE.powf(1.0 / (HIDDEN.len() as f64 + 1.0));
        let layers = widths
            .windows(2)
            .enumerate()
            .map(|(i, w)| {
                let (fan_in, fan_out) = (w[0], w[1]);
                let init = (1.0 / scale / fan_out as f64).exp_m1().ln();
                let matrix = Tensor::<3>::full([channels, fan_out, fan_in], init as f32, device);
                let bias = Tensor::<3>::random([channels, fan_out, 1], Distribution::Uniform(-0.5, 0.5), device);
                let factor = (i < HIDDEN.len()).then(|| Param::from_tensor(Tensor::<3>::zeros([channels, fan_out, 1], device)));
                DensityLayer { matrix: Param::from_tensor(matrix), bias: Param::from_tensor(bias), factor }
            })
            .collect();
        Self { layers }
    }

    /// This model followed by the channels of `fresh` beyond this model's own (see
    /// `FactorizedModel::widen_latents`).
    pub fn widen(self, fresh: EntropyBottleneck) -> Self {
        let join = |mine: Param<Tensor<3>>, theirs: &Param<Tensor<3>>| super::widened(mine.val(), theirs.val());
        let layers = self
            .layers
            .into_iter()
            .zip(&fresh.layers)
            .map(|(mine, theirs)| DensityLayer {
                matrix: join(mine.matrix, &theirs.matrix),
                bias: join(mine.bias, &theirs.bias),
                factor: mine.factor.zip(theirs.factor.as_ref()).map(|(m, t)| join(m, t)),
            })
            .collect();
        Self { layers }
    }

    /// Number of latent channels this model describes.
    pub fn channels(&self) -> usize {
        self.layers[0].matrix.dims()[0]
    }

    /// The cumulative logit `f_c(x)` of every value.
    ///
    /// # Shapes
    /// `x`: `[channels, 1, n]` -> `[channels, 1, n]`
    pub fn cumulative_logits(&self, x: Tensor<3>) -> Tensor<3> {
        let mut logits = x;
        for layer in &self.layers {
            logits = softplus(layer.matrix.val(), 1.0).matmul(logits) + layer.bias.val();
            if let Some(factor) = &layer.factor {
                logits = logits.clone() + factor.val().tanh() * logits.tanh();
            }
        }
        logits
    }

    /// Probability mass of the interval `[x - step/2, x + step/2]` for every value.
    ///
    /// # Shapes
    /// `x`: `[channels, 1, n]` -> `[channels, 1, n]`
    pub fn interval_mass(&self, x: Tensor<3>, step: f32) -> Tensor<3> {
        let lower = self.cumulative_logits(x.clone().sub_scalar(step / 2.0));
        let upper = self.cumulative_logits(x.add_scalar(step / 2.0));
        // Evaluate on the side of the sigmoid where it is small, for precision in the tails.
        let sign = (lower.clone() + upper.clone()).sign().neg().detach();
        (sigmoid(sign.clone() * upper) - sigmoid(sign * lower)).abs()
    }

    /// The likelihood of every latent value under the model, floored at 1e-9.
    ///
    /// # Shapes
    /// `y`: `[batch, channels, height, width]` -> same shape
    pub fn likelihoods(&self, y: Tensor<4>) -> Tensor<4> {
        let [b, c, h, w] = y.dims();
        let per_channel = y.swap_dims(0, 1).reshape([c, 1, b * h * w]);
        self.interval_mass(per_channel, 1.0).clamp_min(LIKELIHOOD_FLOOR).reshape([c, b, h, w]).swap_dims(0, 1)
    }
}
