//! Generalized divisive normalization (Ballé et al. 2016), the non-linearity of the
//! factorized-prior autoencoder.
//!
//! `GDN(x)_i = x_i / sqrt(beta_i + sum_j gamma_ij * x_j^2)`; the inverse (`IGDN`, used in the
//! decoder) multiplies instead of dividing. `beta` and `gamma` are kept non-negative by storing
//! their square roots and squaring them in the forward pass.

use burn::module::Param;
use burn::prelude::*;
use burn::tensor::module::conv2d;
use burn::tensor::ops::ConvOptions;

/// Floor added to `beta` so that the denominator never reaches zero.
const BETA_FLOOR: f32 = 1e-6;

/// A GDN or inverse GDN layer over `channels` feature maps.
///
/// # Shapes
/// input and output: `[batch, channels, height, width]`
#[derive(Module, Debug)]
pub struct Gdn {
    /// Square root of the per-channel offset `beta`, shape `[channels]`.
    beta_sqrt: Param<Tensor<1>>,
    /// Square root of the cross-channel weights `gamma`, shape `[channels, channels, 1, 1]`.
    gamma_sqrt: Param<Tensor<4>>,
    /// `true` for the inverse transform (IGDN).
    inverse: bool,
}

impl Gdn {
    /// A new layer initialised as in CompressAI: `beta = 1`, `gamma = 0.1 * I` (plus a small
    /// off-diagonal value so that those weights can learn).
    pub fn new(channels: usize, inverse: bool, device: &Device) -> Self {
        let beta_sqrt = Tensor::<1>::ones([channels], device);
        let mut gamma = vec![1e-2f32; channels * channels];
        for c in 0..channels {
            gamma[c * channels + c] = 0.1f32.sqrt();
        }
        let gamma_sqrt = Tensor::<4>::from_data(TensorData::new(gamma, [channels, channels, 1, 1]), device);
        Self { beta_sqrt: Param::from_tensor(beta_sqrt), gamma_sqrt: Param::from_tensor(gamma_sqrt), inverse }
    }

    /// The effective `beta` (`[channels]`) and `gamma` (`[channels, channels]`, row `i` holding
    /// the weights of output channel `i`), as the forward pass computes them, and whether the
    /// layer is the inverse: for inference engines outside burn.
    pub fn parameters(&self) -> (Tensor<1>, Tensor<4>, bool) {
        (self.beta_sqrt.val().square().add_scalar(BETA_FLOOR), self.gamma_sqrt.val().square(), self.inverse)
    }

    /// The layer over only these channels (the weights among them as trained), as parameters
    /// of their own: for narrowing a trained network (`model::narrow`).
    pub(crate) fn narrowed(&self, channels: &[usize]) -> Self {
        use super::narrow::{kept, leaf};
        let gamma = kept(kept(self.gamma_sqrt.val(), 0, Some(channels)), 1, Some(channels));
        Self { beta_sqrt: leaf(kept(self.beta_sqrt.val(), 0, Some(channels))), gamma_sqrt: leaf(gamma), inverse: self.inverse }
    }

    /// Applies the (inverse) normalization.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let beta = self.beta_sqrt.val().square().add_scalar(BETA_FLOOR);
        let gamma = self.gamma_sqrt.val().square();
        let norm = conv2d(x.clone().square(), gamma, Some(beta), ConvOptions::new([1, 1], [0, 0], [1, 1], 1)).sqrt();
        if self.inverse { x * norm } else { x / norm }
    }
}
