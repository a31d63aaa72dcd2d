//! The glue between pictures, the model and the container: picture -> padded tensor ->
//! latents -> quantized integers -> entropy-coded payload, and back.
//!
//! ```no_run
//! use aec::codec::EncodeOptions;
//! use aec::codec::registry::AnyCodec;
//! let codec = AnyCodec::open("default")?; // the built-in hyperprior
//! let picture = image::open("photo.png").unwrap();
//! let bytes = codec.encode(&picture, &EncodeOptions::default())?;
//! let decoded = codec.decode(&bytes, &aec::format::Limits::default())?;
//! # Ok::<(), aec::Error>(())
//! ```

pub mod colorize;
pub mod digits;
pub(crate) mod embedded;
pub mod factorized;
pub mod family;
pub mod features;
pub mod hyper;
pub mod ladder;
pub mod pixels;
pub mod refine;
pub mod registry;
pub mod residual;
pub mod restoration;
mod simd;
pub mod tabulate;
pub mod tiles;
pub mod vae;

pub use crate::entropy::coding as latent_coding;
pub use crate::entropy::tables;

use burn::prelude::Tensor;
use image::{DynamicImage, GrayImage, RgbImage, RgbaImage};
use sha2::{Digest, Sha256};

use self::pixels::Pixels;
use crate::error::{Error, Result};
use crate::format::{CoderId, ColorModel, Limits, Metadata, ModelId};

pub use self::factorized::{ARCH_FACTORIZED, Codec, DEFAULT_QUALITY, QUALITY_STEPS, embedded_model_id};
pub use self::family::{LevelInfo, PhotoCodec};
pub use self::ladder::{Ladder, RateTarget};

/// zstd level of the alpha plane (every family stores it losslessly the same way).
const ALPHA_ZSTD_LEVEL: i32 = 19;

/// Options of [`PhotoCodec::encode`] and of the other families' encoders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodeOptions {
    /// Quality level, 1 (smallest) to the codec's `max_quality()` (best).
    pub quality: u8,
    /// How the latents are entropy-coded.
    pub coder: CoderId,
    /// ICC profile and EXIF block kept in the file (version-2 files; empty by default).
    pub metadata: Metadata,
    /// The largest picture the encoder takes (default [`Limits::largest`]); pass the
    /// decoder's limits to make only files that decoder reads.
    pub limits: Limits,
    /// Gradient steps that refine the latents against the decoder before they are coded
    /// (hyperprior models; none by default): better quality for the bits, each step about as
    /// long as two decodes ([`refine`]). Rate control refines at most twice (after a search on
    /// plain encodes) and keeps the best file that meets its target.
    pub refinement: refine::Refinement,
    /// Fit a restoration filter to the decoded picture and store it when it pays for its
    /// bytes (hyperprior models; on by default): 0.1–0.2 dB for ~50 bytes, at the cost of a
    /// decode inside every encode ([`restoration`]).
    pub restoration: bool,
    /// Code what the decoded picture still misses as a DCT residual layer when it pays for
    /// its bytes at the level's λ (hyperprior models; on by default): the top levels gain most
    /// ([`residual`]).
    pub residual: bool,
}

impl Default for EncodeOptions {
    fn default() -> Self {
        Self {
            quality: DEFAULT_QUALITY,
            coder: CoderId::Range,
            metadata: Metadata::default(),
            limits: Limits::largest(),
            refinement: refine::Refinement::steps(0),
            restoration: true,
            residual: true,
        }
    }
}

/// A model's weights: a weight pack built into the binary, or a burnpack file's bytes.
pub(crate) enum Weights {
    /// A weight pack that build.rs wrote ([`embedded`]): decoders' tensors exact in `f16`,
    /// encoders' as 10-bit codes.
    Builtin(&'static [u8]),
    /// The bytes of a burnpack file (`f32` or `f16`), as `aec train` writes them.
    File(Vec<u8>),
}

/// Picks every tensor (for [`Weights::load_into`]).
pub(crate) fn every_tensor(_path: &str, _container: &str) -> bool {
    true
}

impl Weights {
    /// Loads the tensors that `wanted` picks (by path and container) into `module`, widening
    /// half-precision ones to the models' `f32`; the module's other tensors keep their values.
    /// A built-in pack decodes only the picked tensors.
    ///
    /// # Errors
    /// [`Error::Model`] if a picked tensor of the module is missing or does not fit, or the
    /// bytes are not weights.
    pub(crate) fn load_into<M: burn::store::ModuleSnapshot>(&self, module: &mut M, wanted: fn(&str, &str) -> bool) -> Result<()> {
        let tensors = match self {
            // The pack knows tensors by path only: the picking predicates ignore the container.
            Weights::Builtin(pack) => embedded::unpack(pack, |name| wanted(name, "")).map_err(Error::Model)?,
            Weights::File(bytes) => burn_pack::Reader::from_bytes(burn::tensor::Bytes::from_bytes_vec(bytes.to_vec()))
                .and_then(burn_pack::Reader::into_tensors)
                .map_err(|e| Error::Model(format!("reading weights: {e:?}")))?,
        };
        let filter = burn::store::PathFilter::new().with_predicate(wanted);
        let widen = Box::new(burn::store::FloatCastAdapter::to(burn::tensor::DType::F32));
        let loaded = module.apply(tensors, Some(filter), Some(widen), false);
        if let Some(error) = loaded.errors.first() {
            return Err(Error::Model(format!("loading weights: {error:?}")));
        }
        if let Some((missing, _)) = loaded.missing.iter().find(|(path, container)| wanted(path, container)) {
            return Err(Error::Model(format!("loading weights: no tensor {missing}")));
        }
        Ok(())
    }
}

/// Identifies a model by its architecture number and a hash of its files (weights, tables).
pub fn model_id(architecture: u32, files: &[&[u8]]) -> ModelId {
    let digest = files.iter().fold(Sha256::new(), |hash, file| hash.chain_update(file)).finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    ModelId { architecture, weights_hash: u64::from_le_bytes(first) }
}

/// Refuses a file made by another model than `id`.
fn check_model(made_by: ModelId, id: ModelId) -> Result<()> {
    if made_by != id {
        return Err(Error::UnknownModel { made_by, expected: Some(id) });
    }
    Ok(())
}

/// Refuses a picture beyond `limits` or of no pixels, before any work is done on it.
fn check_picture_size(width: u32, height: u32, limits: &Limits) -> Result<()> {
    let pixels = u64::from(width) * u64::from(height);
    if width == 0 || height == 0 {
        return Err(Error::InvalidArgument(format!("cannot encode a {width}x{height} picture: it has no pixels")));
    }
    let side = width.max(height);
    if side > limits.max_dimension {
        return Err(Error::TooLarge { what: "picture side (pixels)", value: side.into(), limit: limits.max_dimension.into(), hint: "" });
    }
    if pixels > limits.max_pixels {
        return Err(Error::TooLarge { what: "picture size (pixels)", value: pixels, limit: limits.max_pixels, hint: "; use --max-pixels to raise it" });
    }
    Ok(())
}

/// Rounds latents to integer multiples of `step`, saturating at the `i16` range.
pub(crate) fn quantize(latents: Tensor<4>, step: f32) -> Vec<i16> {
    let values: Vec<f32> = latents.div_scalar(step).round().into_data().try_to_vec::<f32>().expect("f32 tensor");
    values.iter().map(|v| v.clamp(f32::from(i16::MIN), f32::from(i16::MAX)) as i16).collect()
}

/// The alpha plane compressed as the container stores it.
fn compress_alpha(alpha: &[u8]) -> Vec<u8> {
    zstd::bulk::compress(alpha, ALPHA_ZSTD_LEVEL).expect("in-memory zstd cannot fail")
}

/// Splits a picture into the gray/RGB samples that go through the model and, for pictures
/// with transparency, the alpha plane stored losslessly.
pub(crate) fn split_picture(picture: &DynamicImage) -> (Pixels, ColorModel, Option<Vec<u8>>) {
    let (w, h) = (picture.width() as usize, picture.height() as usize);
    if picture.color().has_alpha() {
        let rgba = picture.to_rgba8();
        let alpha = rgba.pixels().map(|p| p[3]).collect();
        let samples = rgba.pixels().flat_map(|p| [p[0], p[1], p[2]]).collect();
        (Pixels { width: w, height: h, channels: 3, samples }, ColorModel::Rgba, Some(alpha))
    } else if picture.color().has_color() {
        (Pixels { width: w, height: h, channels: 3, samples: picture.to_rgb8().into_raw() }, ColorModel::Rgb, None)
    } else {
        (Pixels { width: w, height: h, channels: 1, samples: picture.to_luma8().into_raw() }, ColorModel::Gray, None)
    }
}

pub(crate) fn join_picture(p: Pixels, alpha: Option<Vec<u8>>) -> DynamicImage {
    let (w, h) = (p.width as u32, p.height as u32);
    match (p.channels, alpha) {
        (1, _) => DynamicImage::ImageLuma8(GrayImage::from_raw(w, h, p.samples).expect("sizes match")),
        (_, Some(alpha)) => {
            let samples = p.samples.chunks_exact(3).zip(alpha).flat_map(|(c, a)| [c[0], c[1], c[2], a]).collect();
            DynamicImage::ImageRgba8(RgbaImage::from_raw(w, h, samples).expect("sizes match"))
        }
        _ => DynamicImage::ImageRgb8(RgbImage::from_raw(w, h, p.samples).expect("sizes match")),
    }
}
