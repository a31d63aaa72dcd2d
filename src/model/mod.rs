//! Neural networks of aec, written with burn: tensors in, tensors out. This module knows
//! nothing of files, containers or pixels on disk.

pub mod colorize;
pub mod digits;
pub mod entropy;
pub mod factorized;
pub mod gdn;
pub mod hyperprior;
pub mod narrow;
pub mod vae;

pub use digits::{DigitArch, DigitModelConfig, DigitNet};
pub use entropy::EntropyBottleneck;
pub use factorized::{DOWNSAMPLING, FactorizedConfig, FactorizedModel, ForwardOutput};
pub use hyperprior::{HyperpriorConfig, HyperpriorModel};
pub use vae::{VAE_LATENT, VariationalAutoencoder};

use burn::module::Param;
use burn::prelude::*;

/// A trained parameter followed, along its first dimension, by the entries of `fresh` beyond
/// its own: a parameter of its own (no history; gradients on when it lives on an autodiff
/// device).
pub(crate) fn widened<const D: usize>(trained: Tensor<D>, fresh: Tensor<D>) -> Param<Tensor<D>> {
    let (old, new) = (trained.dims()[0], fresh.dims()[0]);
    Param::from_tensor(Tensor::cat(vec![trained, fresh.narrow(0, old, new - old)], 0).detach())
}
