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
//! use aec::codec::registry::AnyCodec;
//! use aec::codec::{EncodeOptions, RateTarget};
//! use aec::format::{Limits, Metadata, ParsedFile};
//!
//! let any = AnyCodec::open("default")?; // the built-in models (or a path to trained ones), flex CPU backend
//! let codec = any.photo().expect("a photographic model");
//! let picture = image::DynamicImage::ImageRgb8(image::RgbImage::from_fn(96, 64, |x, y| image::Rgb([x as u8 * 2, y as u8 * 3, 128])));
//! // An ICC profile or EXIF block travels in the file's metadata sections.
//! let metadata = Metadata { icc: Some(b"profile".to_vec()), exif: None };
//! let bytes = codec.encode(&picture, &EncodeOptions { quality: codec.default_quality(), metadata, ..Default::default() })?;
//! let file = ParsedFile::parse(&bytes, &Limits::default())?; // refuses hostile sizes before allocating
//! let back = AnyCodec::for_parsed(&file)?.decode_parsed(&file, &Limits::default())?;
//! assert_eq!((back.width(), back.height()), (96, 64));
//! assert_eq!(file.metadata().icc.as_deref(), Some(&b"profile"[..]));
//! let (small, quality) = codec.encode_to_target(&picture, RateTarget::BitsPerPixel(0.25), &EncodeOptions::default())?;
//! assert!(small.len() * 8 <= 96 * 64 / 4 && quality >= 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
// One call into the `gemm` crate (`infer::matmul`) is the only unsafe code; it allows it there.
#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod baseline;
pub mod bench;
pub mod codec;
pub mod entropy;
pub mod error;
pub mod format;
pub mod infer;
pub mod metrics;
pub mod mnist;
pub mod model;
pub mod pictures;
pub mod plot;
pub mod progress;
pub mod train;

pub use error::{Error, Result};
