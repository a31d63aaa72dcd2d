//! # aec — a learned lossy image codec
//!
//! A convolutional encoder turns an image into a small grid of latent values; they are
//! quantized to integers, entropy-coded and stored in a versioned, checksummed `.aec`
//! container; the matching decoder rebuilds the image from them.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod baseline;
pub mod bench;
pub mod codec;
pub mod entropy;
pub mod error;
pub mod format;
pub mod metrics;
pub mod mnist;
pub mod model;
pub mod pictures;
pub mod plot;
pub mod train;

pub use error::{Error, Result};
