//! The seam between photographic model families and their users (the command line, rate
//! control, the bench, features): [`PhotoCodec`], implemented once per family (the
//! factorized prior's quality scale over several models, [`super::Ladder`]; the
//! variable-rate hyperprior, [`super::hyper::HyperCodec`]). A family is opened through the
//! registry ([`super::registry`]); everything above the registry sees only this trait.

use burn::prelude::Tensor;
use image::DynamicImage;

use super::ladder::RateTarget;
use super::pixels::Pixels;
use super::registry::Family;
use super::{EncodeOptions, split_picture};
use crate::error::{Error, Result};
use crate::format::{Limits, ModelId, ParsedFile};

/// What a quality level of a [`PhotoCodec`] is made of, for `aec levels`.
#[derive(Debug, Clone, PartialEq)]
pub struct LevelInfo {
    /// The model behind the level (a built-in model's name, or the family's name).
    pub model: String,
    /// The λ the model was trained for, when one λ describes it.
    pub lambda: Option<f64>,
    /// The family's rate parameter of the level: a quantization step, or a rate setting
    /// between trained levels.
    pub rate: f64,
}

/// A photographic codec of one family with quality levels `1..=max_quality()`, size and
/// fidelity growing with the level.
pub trait PhotoCodec: Send + Sync + std::fmt::Debug {
    /// The family this codec belongs to (its registry entry).
    fn family(&self) -> &'static Family;

    /// Highest quality level.
    fn max_quality(&self) -> u8;

    /// Level used when none is given.
    fn default_quality(&self) -> u8;

    /// What level `quality` is made of.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a level outside `1..=max_quality()`.
    fn level_info(&self, quality: u8) -> Result<LevelInfo>;

    /// Whether files made by `model` are this codec's to decode.
    fn decodes(&self, model: ModelId) -> bool;

    /// Loads now what encoding needs and would otherwise load on the first encode, so that a
    /// caller can do it while reading the picture (families that load everything when they
    /// open do nothing).
    ///
    /// # Errors
    /// Model errors (weights that lack an encoder's tensors).
    fn prepare_encoder(&self) -> Result<()> {
        Ok(())
    }

    /// Compresses a picture at `options.quality`, keeping `options.metadata`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a bad level; [`Error::TooLarge`] or
    /// [`Error::InvalidArgument`] for a picture beyond `options.limits`; model errors.
    fn encode(&self, picture: &DynamicImage, options: &EncodeOptions) -> Result<Vec<u8>>;

    /// Compresses a picture at a quality that may lie between two levels (continuous
    /// quality); `options.quality` is ignored. Families without continuous quality take
    /// whole levels only.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a fraction this family cannot code, and as
    /// [`PhotoCodec::encode`].
    fn encode_fraction(&self, picture: &DynamicImage, quality: f64, options: &EncodeOptions) -> Result<Vec<u8>> {
        if quality.fract() != 0.0 || !(1.0..=f64::from(self.max_quality())).contains(&quality) {
            return Err(Error::InvalidArgument(format!(
                "quality {quality}: the levels of this {} model are whole numbers 1 to {} (`aec levels` lists them); fractions need a hyperprior model",
                self.family().name,
                self.max_quality()
            )));
        }
        self.encode(picture, &EncodeOptions { quality: quality as u8, ..options.clone() })
    }

    /// Decodes a parsed file made by a model of this codec.
    ///
    /// # Errors
    /// [`Error::Format`] for malformed data, [`Error::UnknownModel`] for other models' files.
    fn decode_parsed(&self, file: &ParsedFile, limits: &Limits) -> Result<DynamicImage>;

    /// Decodes `.aec` bytes made by a model of this codec.
    ///
    /// # Errors
    /// As [`PhotoCodec::decode_parsed`], and the container's errors.
    fn decode(&self, bytes: &[u8], limits: &Limits) -> Result<DynamicImage> {
        self.decode_parsed(&ParsedFile::parse(bytes, limits)?, limits)
    }

    /// The sizes in bytes the entropy model predicts at every level (index 0 is level 1), of
    /// files without a restoration filter or residual layer (their bytes are known exactly),
    /// for encodes that may (`residual`) or may not code a residual layer (a hyperprior's
    /// network codes its top levels at a lower rate where one is coded).
    ///
    /// # Errors
    /// As [`PhotoCodec::encode`].
    fn estimated_sizes(&self, picture: &DynamicImage, residual: bool) -> Result<Vec<f64>>;

    /// The analysis transform's (unquantized) latents `[1, C, H, W]` of a picture at the
    /// default level (the codes `aec encode` exports as features).
    ///
    /// # Errors
    /// As [`PhotoCodec::encode`].
    fn latents(&self, picture: &DynamicImage) -> Result<Tensor<4>>;

    /// Compresses a picture at the level that meets `target`: the best level that fits a
    /// size target, or the smallest level that reaches a PSNR, found by bisection. The
    /// metadata of `options` counts towards a size target.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when no level meets the target.
    fn encode_to_target(&self, picture: &DynamicImage, target: RateTarget, options: &EncodeOptions) -> Result<(Vec<u8>, u8)> {
        let meets = target_check(self, picture, target);
        let (bytes, quality) = bisect_for_target(1, u16::from(self.max_quality()), target, |quality| {
            let bytes = self.encode(picture, &EncodeOptions { quality: quality as u8, ..options.clone() })?;
            let measured = meets(&bytes)?;
            Ok((bytes, measured))
        })?;
        Ok((bytes, quality as u8))
    }
}

/// How a file measures against a rate target.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Measured {
    /// Whether it meets the target.
    pub meets: bool,
    /// What it gives, in the target's own terms ("2723 bytes", "0.055 bits per pixel",
    /// "35.81 dB"): what an error says when no level meets the target.
    pub gives: String,
}

/// How a file measures against `target` for `picture` (a PSNR target decodes the file with
/// `codec`).
pub(crate) fn target_check<'a>(codec: &'a (impl PhotoCodec + ?Sized), picture: &DynamicImage, target: RateTarget) -> impl Fn(&[u8]) -> Result<Measured> + 'a {
    let pixels = f64::from(picture.width()) * f64::from(picture.height());
    let original = matches!(target, RateTarget::Psnr(_)).then(|| split_picture(picture).0);
    move |bytes: &[u8]| meets_target(target, bytes.len(), pixels, || decoded_psnr(codec, original.as_ref().expect("kept for a PSNR target"), bytes))
}

/// How a file of `bytes` bytes for a picture of `pixels` pixels measures against `target`;
/// `psnr` gives the PSNR its picture decodes to, asked for a PSNR target only.
pub(crate) fn meets_target(target: RateTarget, bytes: usize, pixels: f64, psnr: impl FnOnce() -> Result<f64>) -> Result<Measured> {
    Ok(match target {
        RateTarget::MaxBytes(n) => Measured { meets: bytes as u64 <= n, gives: format!("{bytes} bytes") },
        RateTarget::BitsPerPixel(bpp) => {
            let bits = bytes as f64 * 8.0;
            Measured { meets: bits <= bpp * pixels, gives: format!("{:.4} bits per pixel", bits / pixels) }
        }
        RateTarget::Psnr(goal) => {
            let psnr = psnr()?;
            Measured { meets: psnr >= goal, gives: format!("{psnr:.2} dB") }
        }
    })
}

/// The PSNR of the picture that the file `bytes` decodes to (with `codec`) against `original`.
pub(crate) fn decoded_psnr(codec: &(impl PhotoCodec + ?Sized), original: &Pixels, bytes: &[u8]) -> Result<f64> {
    let (decoded, _, _) = split_picture(&codec.decode(bytes, &Limits::largest())?);
    Ok(crate::metrics::psnr(&original.samples, &decoded.samples))
}

/// The best setting in `low..=high` for `target` (settings grow in size and fidelity): the
/// highest that meets a size target, or the lowest that reaches a PSNR, found by bisection.
/// `attempt` codes at a setting and measures the file against the target.
///
/// # Errors
/// [`Error::InvalidArgument`] when even the extreme setting misses the target (saying what
/// that setting gives); `attempt`'s.
pub(crate) fn bisect_for_target(
    mut low: u16,
    mut high: u16,
    target: RateTarget,
    mut attempt: impl FnMut(u16) -> Result<(Vec<u8>, Measured)>,
) -> Result<(Vec<u8>, u16)> {
    // Size goals are met by low settings, PSNR goals by high ones: bisect for the boundary.
    let wants_high = matches!(target, RateTarget::Psnr(_));
    let edge = if wants_high { high } else { low };
    let (mut best, measured) = attempt(edge)?;
    if !measured.meets {
        let which = if wants_high { "highest" } else { "lowest" };
        return Err(Error::InvalidArgument(format!("no quality level meets {target}: the {which} level gives {}", measured.gives)));
    }
    let mut best_setting = edge;
    while low < high {
        let middle = if wants_high { low + (high - low) / 2 } else { low + (high - low).div_ceil(2) };
        let (bytes, measured) = attempt(middle)?;
        match (measured.meets, wants_high) {
            (true, true) => (high, best, best_setting) = (middle, bytes, middle),
            (false, true) => low = middle + 1,
            (true, false) => (low, best, best_setting) = (middle, bytes, middle),
            (false, false) => high = middle - 1,
        }
    }
    Ok((best, best_setting))
}
