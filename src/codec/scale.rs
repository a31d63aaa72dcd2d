//! The seam between photographic model families and their users (the command line, rate
//! control, the bench): a quality scale that encodes, decodes and predicts sizes. The
//! factorized family's scale over several models ([`super::Ladder`]) and the variable-rate
//! hyperprior ([`super::hyper::HyperCodec`]) both implement it.

use image::DynamicImage;

use super::ladder::RateTarget;
use super::{EncodeOptions, split_picture};
use crate::error::{Error, Result};
use crate::format::{CoderId, Limits};

/// A photographic codec with quality levels `1..=max_quality()`, size and fidelity growing
/// with the level.
pub trait QualityScale {
    /// Highest quality level.
    fn max_quality(&self) -> u8;

    /// Level used when none is given.
    fn default_quality(&self) -> u8;

    /// Compresses a picture at `options.quality`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a bad level or picture; model errors.
    fn encode(&self, picture: &DynamicImage, options: &EncodeOptions) -> Result<Vec<u8>>;

    /// Decodes `.aec` bytes made by a model of this scale.
    ///
    /// # Errors
    /// [`Error::Format`] for malformed data, [`Error::UnknownModel`] for other models' files.
    fn decode(&self, bytes: &[u8], limits: &Limits) -> Result<DynamicImage>;

    /// The sizes in bytes the entropy model predicts at every level (index 0 is level 1).
    ///
    /// # Errors
    /// As [`QualityScale::encode`].
    fn estimated_sizes(&self, picture: &DynamicImage) -> Result<Vec<f64>>;

    /// Compresses a picture at the level that meets `target`: the best level that fits a
    /// size target, or the smallest level that reaches a PSNR, found by bisection.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when no level meets the target.
    fn encode_to_target(&self, picture: &DynamicImage, target: RateTarget, coder: CoderId) -> Result<(Vec<u8>, u8)> {
        let pixels = f64::from(picture.width()) * f64::from(picture.height());
        let (original, _, _) = split_picture(picture);
        let encode = |quality| self.encode(picture, &EncodeOptions { quality, coder });
        let meets = |bytes: &[u8]| -> Result<bool> {
            Ok(match target {
                RateTarget::MaxBytes(n) => bytes.len() as u64 <= n,
                RateTarget::BitsPerPixel(bpp) => bytes.len() as f64 * 8.0 <= bpp * pixels,
                RateTarget::Psnr(goal) => {
                    let (decoded, _, _) = split_picture(&self.decode(bytes, &Limits::largest())?);
                    crate::metrics::psnr(&original.samples, &decoded.samples) >= goal
                }
            })
        };
        // Size goals are met by low levels, PSNR goals by high ones: bisect for the boundary.
        let wants_high = matches!(target, RateTarget::Psnr(_));
        let (mut low, mut high) = (1u8, self.max_quality());
        let edge = if wants_high { high } else { low };
        let mut best = encode(edge)?;
        if !meets(&best)? {
            return Err(Error::InvalidArgument(format!("no quality level meets {target}: quality {edge} gives {} bytes", best.len())));
        }
        let mut best_level = edge;
        while low < high {
            let middle = if wants_high { low + (high - low) / 2 } else { low + (high - low).div_ceil(2) };
            let bytes = encode(middle)?;
            match (meets(&bytes)?, wants_high) {
                (true, true) => (high, best, best_level) = (middle, bytes, middle),
                (false, true) => low = middle + 1,
                (true, false) => (low, best, best_level) = (middle, bytes, middle),
                (false, false) => high = middle - 1,
            }
        }
        Ok((best, best_level))
    }
}

impl QualityScale for super::Ladder {
    fn max_quality(&self) -> u8 {
        super::Ladder::max_quality(self)
    }
    fn default_quality(&self) -> u8 {
        super::Ladder::default_quality(self)
    }
    fn encode(&self, picture: &DynamicImage, options: &EncodeOptions) -> Result<Vec<u8>> {
        super::Ladder::encode(self, picture, options)
    }
    fn decode(&self, bytes: &[u8], limits: &Limits) -> Result<DynamicImage> {
        super::Ladder::decode(self, bytes, limits)
    }
    fn estimated_sizes(&self, picture: &DynamicImage) -> Result<Vec<f64>> {
        super::Ladder::estimated_sizes(self, picture)
    }
    fn encode_to_target(&self, picture: &DynamicImage, target: RateTarget, coder: CoderId) -> Result<(Vec<u8>, u8)> {
        super::Ladder::encode_to_target(self, picture, target, coder)
    }
}

impl QualityScale for super::hyper::HyperCodec {
    fn max_quality(&self) -> u8 {
        super::hyper::HyperCodec::max_quality(self)
    }
    fn default_quality(&self) -> u8 {
        super::hyper::HyperCodec::default_quality(self)
    }
    fn encode(&self, picture: &DynamicImage, options: &EncodeOptions) -> Result<Vec<u8>> {
        self.encode_level(picture, options.quality, options.coder, &Limits::largest())
    }
    fn decode(&self, bytes: &[u8], limits: &Limits) -> Result<DynamicImage> {
        super::hyper::HyperCodec::decode(self, bytes, limits)
    }
    fn estimated_sizes(&self, picture: &DynamicImage) -> Result<Vec<f64>> {
        super::hyper::HyperCodec::estimated_sizes(self, picture)
    }
}
