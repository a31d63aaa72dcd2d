//! Neural networks of aec, written with burn: tensors in, tensors out. This module knows
//! nothing of files, containers or pixels on disk.

pub mod colorize;
pub mod digits;
pub mod entropy;
pub mod factorized;
pub mod gdn;
pub mod hyperprior;
pub mod vae;

pub use digits::{DigitArch, DigitNet};
pub use entropy::EntropyBottleneck;
pub use factorized::{DOWNSAMPLING, FactorizedConfig, FactorizedModel, ForwardOutput};
pub use hyperprior::{HyperpriorConfig, HyperpriorModel};
pub use vae::{VAE_LATENT, VariationalAutoencoder};
