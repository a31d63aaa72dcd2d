//! The factorized-prior family (architecture 1): picture → analysis transform → latents
//! rounded to multiples of a quantization step → range-coded with one fixed table per channel
//! → container (version 2 since aec 0.2, version 1 before; both decode) → synthesis
//! transform. [`Codec`] is one trained model with its steps as levels;
//! [`super::Ladder`] makes a quality scale over several.
//!
//! ```no_run
//! use aec::codec::{Codec, EncodeOptions};
//! // A version-1 model from its files (the built-in ones only decode: `Codec::embedded`).
//! let codec = Codec::from_files(std::path::Path::new("models/default.bpk"), burn::prelude::Device::flex())?;
//! let picture = image::open("photo.png").unwrap();
//! let bytes = codec.encode(&picture, &EncodeOptions::default())?;
//! let decoded = Codec::embedded()?.decode(&bytes, &aec::format::Limits::default())?;
//! # Ok::<(), aec::Error>(())
//! ```

use std::path::Path;

use burn::prelude::*;
use image::DynamicImage;

use super::pixels::{self, Pixels};
use super::tables::{LevelTables, QuantizedTables};
use super::tiles::LatentPlanes;
use super::{
    EncodeOptions, Weights, check_model, check_picture_size, compress_alpha, join_picture, latent_coding, model_id, quantize, registry, split_picture, tiles,
};
use crate::error::{Error, Result};
use crate::format::{AecFile, CoderId, ColorModel, Header, LatentShape, Limits, ModelId, ParsedFile};
use crate::infer::{Analysis as PackedAnalysis, Synthesis};
use crate::model::{DOWNSAMPLING, FactorizedConfig, FactorizedModel};

/// Architecture number of the factorized-prior model in the container's model registry.
/// Never reuse a number for another architecture.
pub const ARCH_FACTORIZED: u32 = 1;
/// The factorized family in the registry: models are opened as a scale of their own levels;
/// the binary's built-in scale decodes their files.
pub static FAMILY: registry::Family = registry::Family {
    name: "factorized",
    architecture: ARCH_FACTORIZED,
    description: "a factorized prior",
    rate_meaning: "quantization step",
    rate_label: "step",
    owns_settings,
    open_files: |weights, device| Ok(Box::new(super::Ladder::single(Codec::from_files(weights, device)?))),
    builtin: Some(|_, device| Box::new(super::Ladder::builtin_on(device))),
    builtin_decodes: |model| registry::builtin_photo_by_id(model).is_some(),
};

/// Picks the tensors that decoding needs (all but the analysis transform's).
fn decoding_tensor(path: &str, _container: &str) -> bool {
    !path.starts_with("analysis.")
}

/// Whether model settings are a factorized model's (`{"hidden": .., "latent": ..}`).
fn owns_settings(settings: &serde_json::Value) -> bool {
    settings.get("hidden").is_some() && settings.get("latent").is_some() && settings.get("lambdas").is_none()
}

/// Level of a single model's own scale used when none is given: the quantization step the
/// model was trained for. (The built-in scale of several models has its own default, see
/// [`Ladder::default_quality`].)
pub const DEFAULT_QUALITY: u8 = 4;
/// Quantization steps (units of 1/256) of quality levels 1, 2, ...: a coarser step spends
/// fewer bits. Level 4 is the step the model was trained for.
pub const QUALITY_STEPS: [u16; 7] = [512, 410, 320, 256, 205, 164, 128];

/// The encoder's output for one picture, before quantization.
pub(crate) struct Analysis {
    pixels: Pixels,
    color: ColorModel,
    alpha: Option<Vec<u8>>,
    pub(crate) latents: Tensor<4>,
    latent_height: usize,
    latent_width: usize,
}

/// A trained model ready to encode and decode pictures.
pub struct Codec {
    model: FactorizedModel,
    /// The analysis transform packed for encoding; none for a built-in model that only
    /// decodes (its name and the name of its files).
    encoder: std::result::Result<PackedAnalysis, (&'static str, &'static str)>,
    /// The synthesis transform packed for decoding.
    decoder: Synthesis,
    tables: QuantizedTables,
    id: ModelId,
    device: Device,
}

impl std::fmt::Debug for Codec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Codec").field("id", &self.id).finish_non_exhaustive()
    }
}

/// The identity of the version-1 scale's default factorized model (`lambda-0.0067`), without
/// loading its weights.
pub fn embedded_model_id() -> ModelId {
    registry::default_photo().id()
}

impl Codec {
    /// The version-1 scale's default factorized model (`lambda-0.0067`, the default model of
    /// aec 0.1 and 0.2; today's default is the hyperprior), on burn's flex CPU backend: a decoder
    /// only (its encoder is not in the binary; [`Codec::from_files`] with its files encodes).
    ///
    /// # Errors
    /// [`Error::Model`] if the embedded files are inconsistent (a build problem).
    pub fn embedded() -> Result<Self> {
        Self::embedded_on(Device::flex())
    }

    /// [`Codec::embedded`] on another burn device (e.g. `Device::ndarray()`).
    ///
    /// # Errors
    /// As [`Codec::embedded`].
    pub fn embedded_on(device: Device) -> Result<Self> {
        registry::default_photo().load(device)
    }

    /// A model from files embedded in the binary (a weight pack, see build.rs), with the
    /// identity of its original files.
    /// `decode_only` names a model whose encoder the binary lacks (build.rs leaves it out), and
    /// its files.
    pub(crate) fn from_static(
        settings: &str,
        weights: &'static [u8],
        tables: &[u8],
        id: ModelId,
        decode_only: Option<(&'static str, &'static str)>,
        device: Device,
    ) -> Result<Self> {
        Self::from_parts(parse_config(settings)?, &Weights::Builtin(weights), id, tables, decode_only, device)
    }

    /// A model from files written by `aec train`: `NAME.bpk` (weights), `NAME.cdf` (tables)
    /// and `NAME.json` (sizes) side by side.
    ///
    /// # Errors
    /// [`Error::Io`] or [`Error::Model`].
    pub fn from_files(weights: &Path, device: Device) -> Result<Self> {
        let read = |p: &Path| std::fs::read(p).map_err(|e| Error::io(p, e));
        let weight_bytes = read(weights)?;
        let tables = read(&weights.with_extension("cdf"))?;
        let config_path = weights.with_extension("json");
        let config_text = String::from_utf8(read(&config_path)?).map_err(|_| Error::Model("model settings are not UTF-8".into()))?;
        let config = parse_config(&config_text)?;
        let id = model_id(ARCH_FACTORIZED, &[&weight_bytes, &tables]);
        Self::from_parts(config, &Weights::File(weight_bytes), id, &tables, None, device)
    }

    fn from_parts(
        config: FactorizedConfig,
        weights: &Weights,
        id: ModelId,
        tables: &[u8],
        decode_only: Option<(&'static str, &'static str)>,
        device: Device,
    ) -> Result<Self> {
        let mut model = config.init(&device);
        weights.load_into(&mut model, if decode_only.is_some() { decoding_tensor } else { super::every_tensor })?;
        let parsed = QuantizedTables::from_bytes(tables)?;
        if parsed.channels() != config.latent || parsed.levels.is_empty() {
            return Err(Error::Model("CDF tables do not match the model".into()));
        }
        Ok(Self {
            encoder: match decode_only {
                Some(names) => Err(names),
                None => Ok(PackedAnalysis::from_model(&model.analysis)?),
            },
            decoder: Synthesis::from_model(&model.synthesis)?,
            model: model.valid(),
            tables: parsed,
            id,
            device,
        })
    }

    /// The model's identity as written into files.
    pub fn id(&self) -> ModelId {
        self.id
    }

    /// Highest quality level.
    pub fn max_quality(&self) -> u8 {
        self.tables.levels.len() as u8
    }

    /// The integer CDF tables of a quality level (1-based).
    pub fn tables(&self, quality: u8) -> Option<&LevelTables> {
        usize::from(quality).checked_sub(1).and_then(|i| self.tables.levels.get(i))
    }

    /// The table set of a quantization step (units of 1/256), as a decoder finds it.
    pub fn tables_for_step(&self, step: u16) -> Option<&LevelTables> {
        self.tables.levels.iter().find(|level| level.step == step)
    }

    pub(crate) fn level(&self, quality: u8) -> Result<&LevelTables> {
        self.tables(quality).ok_or_else(|| Error::InvalidArgument(format!("quality must be 1..={}, not {quality}", self.max_quality())))
    }

    /// Compresses a picture into `.aec` bytes.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a bad quality level or an empty picture,
    /// [`Error::TooLarge`] for one beyond `options.limits`.
    pub fn encode(&self, picture: &DynamicImage, options: &EncodeOptions) -> Result<Vec<u8>> {
        let level = self.level(options.quality)?;
        self.pack(&self.analyze(picture, &options.limits)?, options.quality, level, options)
    }

    /// The sizes in bytes the entropy model predicts for a picture at every quality level
    /// (index 0 is level 1): the ideal code length of its latents under the model's tables
    /// plus the container's overhead (header, checksum, alpha). The range-coded file comes
    /// within a few bytes of it. The encoder runs once for all levels.
    ///
    /// # Errors
    /// As [`Codec::encode`].
    pub fn estimated_sizes(&self, picture: &DynamicImage) -> Result<Vec<f64>> {
        let analysis = self.analyze(picture, &Limits::largest())?;
        let plane = analysis.latent_height * analysis.latent_width;
        let alpha = analysis.alpha.as_ref().map_or(0, |a| compress_alpha(a).len());
        let sections = if analysis.alpha.is_some() { 2 } else { 1 };
        let overhead = (crate::format::HEADER_V2_LEN + sections * crate::format::SECTION_ENTRY_LEN + crate::format::CHECKSUM_LEN + alpha) as f64;
        Ok(self
            .tables
            .levels
            .iter()
            .map(|level| latent_coding::estimated_bits(&quantize_level(&analysis.latents, level), plane, level) / 8.0 + overhead)
            .collect())
    }

    /// Runs the encoder (analysis transform) on a picture within `limits`.
    pub(crate) fn analyze(&self, picture: &DynamicImage, limits: &Limits) -> Result<Analysis> {
        check_picture_size(picture.width(), picture.height(), limits)?;
        let (pixels, color, alpha) = split_picture(picture);
        let encoder = self.encoder.as_ref().map_err(|&(name, file)| registry::decode_only_error(name, file))?;
        let (latents, ph, pw) = tiles::analyze(&pixels, DOWNSAMPLING, |x, h, w| encoder.forward(x, h, w));
        Ok(Analysis { pixels, color, alpha, latents: latents.to_tensor(&self.device), latent_height: ph / DOWNSAMPLING, latent_width: pw / DOWNSAMPLING })
    }

    /// Quantizes and entropy-codes analysed latents with the tables of one of this model's
    /// levels; `quality` is the level recorded in the header (the caller's quality scale);
    /// the coder and metadata are those of `options`.
    pub(crate) fn pack(&self, analysis: &Analysis, quality: u8, level: &LevelTables, options: &EncodeOptions) -> Result<Vec<u8>> {
        if options.refinement.steps > 0 {
            return Err(Error::InvalidArgument(
                "refining the latents needs a hyperprior model (such as the default); the version-1 scale's factorized models cannot".into(),
            ));
        }
        let coder = options.coder;
        let latents = quantize_level(&analysis.latents, level);
        let shape = LatentShape { channels: self.tables.channels() as u16, height: analysis.latent_height as u16, width: analysis.latent_width as u16 };
        let plane = analysis.latent_height * analysis.latent_width;
        let payload = match coder {
            CoderId::Zstd => latent_coding::encode_zstd(&latents),
            CoderId::Range => latent_coding::encode_range(&latents, plane, level),
        };
        let alpha_payload = analysis.alpha.as_deref().map(compress_alpha).unwrap_or_default();
        let header = Header {
            width: analysis.pixels.width as u32,
            height: analysis.pixels.height as u32,
            color: analysis.color,
            bit_depth: 8,
            coder,
            quality,
            model: self.id,
            latent: shape,
            quant_step: level.step,
            latent_len: 0,
            alpha_len: 0,
        };
        let file = AecFile { header, latents: &payload, alpha: &alpha_payload };
        let mut sections = file.to_sections();
        sections.sections.extend(options.metadata.sections());
        Ok(sections.to_bytes()?)
    }

    /// Decodes `.aec` bytes into a picture (gray, RGB or RGBA as stored).
    ///
    /// # Errors
    /// [`Error::Format`] for malformed or corrupted data or data beyond `limits`;
    /// [`Error::UnknownModel`] for a file made by another model.
    pub fn decode(&self, bytes: &[u8], limits: &Limits) -> Result<DynamicImage> {
        self.decode_parsed(&ParsedFile::parse(bytes, limits)?, limits)
    }

    /// Decodes a parsed file (either container version) that this model made.
    ///
    /// # Errors
    /// As [`Codec::decode`].
    pub fn decode_parsed(&self, file: &ParsedFile, limits: &Limits) -> Result<DynamicImage> {
        check_model(file.model(), self.id)?;
        let single = match file {
            ParsedFile::V1(file) => file.clone(),
            ParsedFile::V2(file) => file.as_single_payload(self.latent_shape(file.header.width, file.header.height), limits)?,
        };
        self.decode_file(&single)
    }

    /// The network (to profile it, or to use its transforms directly). A built-in model that
    /// only decodes has an untrained analysis transform: open its files to use that.
    pub fn model(&self) -> &FactorizedModel {
        &self.model
    }

    /// The latent shape of a picture of `width` x `height` pixels.
    pub fn latent_shape(&self, width: u32, height: u32) -> LatentShape {
        let side = |pixels: u32| (pixels::round_up(pixels as usize, DOWNSAMPLING) / DOWNSAMPLING) as u16;
        LatentShape { channels: self.tables.channels() as u16, height: side(height), width: side(width) }
    }

    /// Decodes a file in the version-1 layout that this model made (its identity checked by
    /// the caller).
    fn decode_file(&self, file: &AecFile) -> Result<DynamicImage> {
        let header = file.header;
        let invalid = |field, value: u64| Error::Format(crate::format::FormatError::InvalidField { field, value });
        let latent = header.latent;
        if usize::from(latent.channels) != self.tables.channels() {
            return Err(invalid("latent channels", latent.channels.into()));
        }
        let expected = self.latent_shape(header.width, header.height);
        if latent != expected {
            return Err(Error::Format(crate::format::FormatError::Mismatch {
                what: "the latent shape",
                found: latent.to_string(),
                expected: expected.to_string(),
            }));
        }
        let plane = usize::from(latent.height) * usize::from(latent.width);
        let count = plane * usize::from(latent.channels);
        let latents = match header.coder {
            CoderId::Zstd => latent_coding::decode_zstd(file.latents, count)?,
            CoderId::Range => {
                let level = self.tables_for_step(header.quant_step).ok_or_else(|| invalid("quantization step", header.quant_step.into()))?;
                latent_coding::decode_range(file.latents, plane, level)?
            }
        };
        let alpha = match header.color {
            ColorModel::Rgba => Some(latent_coding::decompress_exact(file.alpha, header.width as usize * header.height as usize)?),
            _ => None,
        };
        let step = f32::from(header.quant_step) / 256.0;
        let values: Vec<f32> = latents.iter().map(|&v| f32::from(v) * step).collect();
        let y = LatentPlanes { values, channels: usize::from(latent.channels), height: usize::from(latent.height), width: usize::from(latent.width) };
        let channels = if header.color == ColorModel::Gray { 1 } else { 3 };
        let pixels = tiles::synthesize(&y, header.width as usize, header.height as usize, channels, |t| self.decoder.forward(&t.values, t.height, t.width));
        Ok(join_picture(pixels, alpha))
    }
}

/// Rounds latents to integer multiples of the level's quantization step.
fn quantize_level(latents: &Tensor<4>, level: &LevelTables) -> Vec<i16> {
    quantize(latents.clone(), f32::from(level.step) / 256.0)
}

/// Parses a factorized model's settings, refusing sizes no real model has (a hostile settings
/// file must not make aec allocate a network of terabytes).
fn parse_config(text: &str) -> Result<FactorizedConfig> {
    use burn::config::Config;
    let config = FactorizedConfig::load_binary(text.as_bytes()).map_err(|e| Error::Model(format!("model settings: {e}")))?;
    if !(1..=1024).contains(&config.hidden) || !(1..=1024).contains(&config.latent) {
        return Err(Error::Model(format!("model settings out of range: {config:?} (1 to 1024 channels)")));
    }
    Ok(config)
}
