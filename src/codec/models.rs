//! The models built into aec and how a model is chosen: by name (`default`, `mnist-conv`, ...),
//! by path (files written by `aec train`), or from the model number recorded in a file.

use std::path::Path;

use burn::prelude::Device;
use image::DynamicImage;

use super::digits::{DigitCodec, arch_of, architecture_number};
use super::{Aligned, Codec, EncodeOptions};
use crate::error::{Error, Result};
use crate::format::{AecFile, Limits};
use crate::model::DigitArch;

/// A built-in MNIST model: its name, weights and settings.
struct BuiltinDigits {
    name: &'static str,
    arch: DigitArch,
    weights: &'static Aligned<[u8]>,
    settings: &'static [u8],
}

macro_rules! builtin_digits {
    ($name:literal, $arch:expr, $file:literal) => {
        BuiltinDigits {
            name: $name,
            arch: $arch,
            weights: &Aligned(*include_bytes!(concat!("../../models/mnist/", $file, ".bpk"))),
            settings: include_bytes!(concat!("../../models/mnist/", $file, ".json")),
        }
    };
}

/// The MNIST models embedded in the binary (trained by `aec train --arch ...`, see
/// `models/README.md`).
static BUILTIN_DIGITS: [BuiltinDigits; 5] = [
    builtin_digits!("mnist-dense", DigitArch::Dense, "dense"),
    builtin_digits!("mnist-deep", DigitArch::Deep, "deep"),
    builtin_digits!("mnist-conv", DigitArch::Conv, "conv"),
    builtin_digits!("mnist-denoise", DigitArch::Denoise, "denoise"),
    builtin_digits!("mnist-denoise-0.25", DigitArch::Denoise, "denoise-0.25"),
];

/// Name of the embedded photographic model.
pub const DEFAULT_MODEL: &str = "default";

/// Names of every built-in model, the photographic default first.
pub fn builtin_names() -> Vec<&'static str> {
    std::iter::once(DEFAULT_MODEL).chain(BUILTIN_DIGITS.iter().map(|b| b.name)).collect()
}

/// A built-in digit model by name (`mnist-dense`, `mnist-deep`, `mnist-conv`,
/// `mnist-denoise`, `mnist-denoise-0.25`), on the flex backend.
///
/// # Errors
/// [`Error::InvalidArgument`] for an unknown name; [`Error::Model`] for a build problem.
pub fn builtin_digits(name: &str) -> Result<DigitCodec> {
    let builtin = BUILTIN_DIGITS
        .iter()
        .find(|b| b.name == name)
        .ok_or_else(|| Error::InvalidArgument(format!("no built-in model {name:?} (built in: {})", builtin_names().join(", "))))?;
    DigitCodec::from_bytes(&builtin.weights.0, builtin.settings, Device::flex())
}

/// Either kind of model aec codes with.
#[derive(Debug)]
pub enum AnyCodec {
    /// The photographic codec.
    Photo(Codec),
    /// A tutorial autoencoder for gray digits.
    Digits(DigitCodec),
}

impl AnyCodec {
    /// A built-in model by name, or else the model files at that path (`NAME.bpk` with its
    /// `NAME.json`, and `NAME.cdf` for a photographic model).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when it is neither a built-in name nor a file; loading errors.
    pub fn open(name_or_path: &str) -> Result<Self> {
        if name_or_path == DEFAULT_MODEL {
            return Ok(Self::Photo(Codec::embedded()?));
        }
        if BUILTIN_DIGITS.iter().any(|b| b.name == name_or_path) && !Path::new(name_or_path).exists() {
            return Ok(Self::Digits(builtin_digits(name_or_path)?));
        }
        let path = Path::new(name_or_path);
        if !path.is_file() {
            return Err(Error::InvalidArgument(format!(
                "--model {name_or_path}: no such file and no built-in model of that name (built in: {})",
                builtin_names().join(", ")
            )));
        }
        Self::from_files(path)
    }

    /// Model files written by `aec train`: a digit model if its settings name a tutorial
    /// architecture, else a photographic model.
    ///
    /// # Errors
    /// Loading errors.
    pub fn from_files(weights: &Path) -> Result<Self> {
        let settings = weights.with_extension("json");
        let text = std::fs::read(&settings).map_err(|e| Error::io(&settings, e))?;
        let is_digits = serde_json::from_slice::<serde_json::Value>(&text).is_ok_and(|v| v.get("arch").is_some());
        Ok(if is_digits { Self::Digits(DigitCodec::from_files(weights, Device::flex())?) } else { Self::Photo(Codec::from_files(weights, Device::flex())?) })
    }

    /// The built-in model that made a file, judged by the model identity in its header: the
    /// built-in digit model with that identity, or else the photographic default (whose
    /// decoder refuses files of other models with [`Error::UnknownModel`]).
    ///
    /// # Errors
    /// [`Error::Format`] if the header cannot be read.
    pub fn for_file(bytes: &[u8], limits: &Limits) -> Result<Self> {
        let header = AecFile::parse(bytes, limits)?.header;
        let made_it = |b: &&BuiltinDigits| {
            arch_of(header.model.architecture) == Some(b.arch) && super::model_id(architecture_number(b.arch), &[&b.weights.0, b.settings]) == header.model
        };
        match BUILTIN_DIGITS.iter().find(made_it) {
            Some(builtin) => Ok(Self::Digits(builtin_digits(builtin.name)?)),
            None => Ok(Self::Photo(Codec::embedded()?)),
        }
    }

    /// Compresses a picture; `quality` defaults to the model's default level.
    ///
    /// # Errors
    /// As [`Codec::encode`] and [`DigitCodec::encode`].
    pub fn encode(&self, picture: &DynamicImage, options: &EncodeOptions) -> Result<Vec<u8>> {
        match self {
            Self::Photo(codec) => codec.encode(picture, options),
            Self::Digits(codec) => codec.encode(picture, options.quality),
        }
    }

    /// Decodes `.aec` bytes.
    ///
    /// # Errors
    /// As [`Codec::decode`] and [`DigitCodec::decode`].
    pub fn decode(&self, bytes: &[u8], limits: &Limits) -> Result<DynamicImage> {
        match self {
            Self::Photo(codec) => codec.decode(bytes, limits),
            Self::Digits(codec) => codec.decode(bytes, limits),
        }
    }
}
