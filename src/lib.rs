//! # aec — a learned lossy image codec
//!
//! A convolutional encoder turns an image into a small grid of latent values; they are
//! quantized to integers, entropy-coded and stored in a versioned, checksummed `.aec`
//! container; the matching decoder rebuilds the image from them.
//!
//! Pictures come and go as `image::DynamicImage` (add `image = "0.25"` beside `aec` in your
//! `Cargo.toml`):
//!
//! ```
//! use aec::codec::{EncodeOptions, Ladder, RateTarget};
//! use aec::format::{CoderId, Limits, Metadata};
//!
//! let codec = Ladder::builtin(); // the built-in models, flex CPU backend
//! let picture = image::DynamicImage::ImageRgb8(image::RgbImage::from_fn(96, 64, |x, y| image::Rgb([x as u8 * 2, y as u8 * 3, 128])));
//! let bytes = codec.encode(&picture, &EncodeOptions { quality: codec.default_quality(), ..Default::default() })?;
//! let back = codec.decode(&bytes, &Limits::default())?; // refuses hostile sizes before allocating
//! assert_eq!((back.width(), back.height()), (96, 64));
//! let (small, quality) = codec.encode_to_target(&picture, RateTarget::BitsPerPixel(0.25), CoderId::Range)?;
//! assert!(small.len() * 8 <= 96 * 64 / 4 && quality >= 1);
//! // An ICC profile or EXIF block travels in the file's metadata sections.
//! let tagged = Metadata { icc: Some(b"profile".to_vec()), exif: None }.attach(&bytes)?;
//! assert_eq!(Metadata::read(&tagged, &Limits::default())?.icc.as_deref(), Some(&b"profile"[..]));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
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
