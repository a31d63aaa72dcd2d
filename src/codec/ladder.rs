//! A quality scale over several photographic models: each quality level is one model (trained
//! for one rate–distortion trade-off λ) at one of its quantization steps. Low levels use a
//! model trained for small files, high levels one trained for fidelity, so the scale spans a
//! wider range of rates than the steps of one model can without losing quality. The file
//! records the model's identity, so the decoder finds the model again; models are loaded
//! only when a level or a file needs them.
//!
//! One trained model (`aec train`) makes a scale of its own: its levels are its steps.

use std::sync::OnceLock;

use burn::prelude::{Device, Tensor};
use image::DynamicImage;

use super::factorized::Analysis;
use super::registry::{BUILTIN_PHOTO, BuiltinPhoto, PHOTO_DEFAULT_QUALITY, PHOTO_RUNGS, builtin_photo_by_id};
use super::{Codec, DEFAULT_QUALITY, EncodeOptions, LevelInfo, PhotoCodec, split_picture};
use crate::error::{Error, Result};
use crate::format::{Limits, ModelId, ParsedFile};

/// A size or quality goal for [`PhotoCodec::encode_to_target`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RateTarget {
    /// At most this many bytes in the file.
    MaxBytes(u64),
    /// At most this many bits per pixel (file bytes x 8 / pixels).
    BitsPerPixel(f64),
    /// At least this PSNR in dB.
    Psnr(f64),
}

impl std::fmt::Display for RateTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::MaxBytes(n) => write!(f, "{n} bytes"),
            Self::BitsPerPixel(b) => write!(f, "{b} bits per pixel"),
            Self::Psnr(p) => write!(f, "{p} dB"),
        }
    }
}

/// One model of a scale: a built-in one is loaded on first use, on its device.
struct ScaleModel {
    builtin: Option<(&'static BuiltinPhoto, Device)>,
    codec: OnceLock<Codec>,
}

impl ScaleModel {
    fn codec(&self) -> Result<&Codec> {
        if let Some(codec) = self.codec.get() {
            return Ok(codec);
        }
        let (builtin, device) = self.builtin.as_ref().expect("models without files are loaded when the scale is made");
        let codec = builtin.load(device.clone())?;
        Ok(self.codec.get_or_init(|| codec))
    }

    fn id(&self) -> ModelId {
        match (&self.builtin, self.codec.get()) {
            (Some((builtin, _)), _) => builtin.id(),
            (None, Some(codec)) => codec.id(),
            (None, None) => unreachable!("models without files are loaded when the scale is made"),
        }
    }
}

/// One quality level: a model of the scale and the level of that model's tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Rung {
    model: usize,
    level: u8,
}

/// A quality scale over one or more photographic models (see the module documentation).
pub struct Ladder {
    models: Vec<ScaleModel>,
    rungs: Vec<Rung>,
    default_quality: u8,
}

impl std::fmt::Debug for Ladder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ladder").field("models", &self.models.len()).field("rungs", &self.rungs).finish_non_exhaustive()
    }
}

impl Ladder {
    /// The built-in scale of the models embedded in the binary, on burn's flex CPU backend.
    pub fn builtin() -> Self {
        Self::builtin_on(Device::flex())
    }

    /// The built-in scale on another burn device. Its models only decode (the binary lacks
    /// their encoders): [`Ladder::builtin_from_files`] writes files of this scale.
    pub fn builtin_on(device: Device) -> Self {
        Self::of_builtin_models(BUILTIN_PHOTO.iter().map(|b| ScaleModel { builtin: Some((b, device.clone())), codec: OnceLock::new() }).collect())
    }

    /// The built-in scale over its models' files in `folder` (`NAME.bpk` and the files beside
    /// it, as in `models/` of aec's source), which encode: the files it writes are those of
    /// the built-in scale, which decodes them.
    ///
    /// # Errors
    /// As [`Codec::from_files`].
    pub fn builtin_from_files(folder: &std::path::Path, device: Device) -> Result<Self> {
        let models = BUILTIN_PHOTO
            .iter()
            .map(|b| Ok(ScaleModel { builtin: None, codec: OnceLock::from(Codec::from_files(&folder.join(format!("{}.bpk", b.file)), device.clone())?) }))
            .collect::<Result<_>>()?;
        Ok(Self::of_builtin_models(models))
    }

    /// The built-in scale's levels over its models, in [`BUILTIN_PHOTO`]'s order.
    fn of_builtin_models(models: Vec<ScaleModel>) -> Self {
        let rungs = PHOTO_RUNGS
            .iter()
            .map(|(name, level)| Rung { model: BUILTIN_PHOTO.iter().position(|b| b.name == *name).expect("PHOTO_RUNGS names built-in models"), level: *level })
            .collect();
        Self { models, rungs, default_quality: PHOTO_DEFAULT_QUALITY }
    }

    /// The scale of one model: its quality levels are the model's own.
    pub fn single(codec: Codec) -> Self {
        let rungs = (1..=codec.max_quality()).map(|level| Rung { model: 0, level }).collect();
        let default_quality = DEFAULT_QUALITY.min(codec.max_quality());
        let model = ScaleModel { builtin: None, codec: OnceLock::from(codec) };
        Self { models: vec![model], rungs, default_quality }
    }

    /// Highest quality level.
    pub fn max_quality(&self) -> u8 {
        self.rungs.len() as u8
    }

    /// Quality level used when none is given.
    pub fn default_quality(&self) -> u8 {
        self.default_quality
    }

    /// The model and its quantization step (units of 1/256) behind a quality level.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a level outside `1..=max_quality()`; loading errors.
    pub fn level(&self, quality: u8) -> Result<(&Codec, u16)> {
        let rung = self.rung(quality)?;
        let codec = self.models[rung.model].codec()?;
        Ok((codec, codec.level(rung.level)?.step))
    }

    fn rung(&self, quality: u8) -> Result<Rung> {
        usize::from(quality)
            .checked_sub(1)
            .and_then(|i| self.rungs.get(i).copied())
            .ok_or_else(|| Error::InvalidArgument(format!("quality must be 1..={}, not {quality}", self.max_quality())))
    }

    /// Encodes at one level, running each model's encoder at most once per picture.
    fn pack(&self, analyses: &mut Analyses, picture: &DynamicImage, quality: u8, options: &EncodeOptions) -> Result<Vec<u8>> {
        let rung = self.rung(quality)?;
        let codec = self.models[rung.model].codec()?;
        let level = codec.level(rung.level)?;
        codec.pack(analyses.get(rung.model, codec, picture, &options.limits)?, quality, level, options)
    }

    /// [`PhotoCodec::encode_to_target`] for this scale (like `cwebp -size`): each model's
    /// encoder runs at most once; only quantization, entropy coding and (for a PSNR goal)
    /// decoding are repeated.
    fn encode_to_target_once(&self, picture: &DynamicImage, target: RateTarget, options: &EncodeOptions) -> Result<(Vec<u8>, u8)> {
        let mut analyses = Analyses::new(self.models.len());
        let pixels = f64::from(picture.width()) * f64::from(picture.height());
        let limit = match target {
            RateTarget::MaxBytes(n) => n as f64,
            RateTarget::BitsPerPixel(bpp) => bpp * pixels / 8.0,
            RateTarget::Psnr(goal) => {
                return self.encode_to_psnr(&mut analyses, picture, goal, options);
            }
        };
        let mut smallest = 0;
        for quality in (1..=self.max_quality()).rev() {
            let bytes = self.pack(&mut analyses, picture, quality, options)?;
            if bytes.len() as f64 <= limit {
                return Ok((bytes, quality));
            }
            smallest = bytes.len();
        }
        Err(Error::InvalidArgument(format!(
            "no quality level fits {target}: the smallest file is {smallest} bytes ({:.3} bpp) at quality 1",
            smallest as f64 * 8.0 / pixels
        )))
    }

    /// The smallest level whose decoded picture reaches `goal` dB, by bisection (fidelity
    /// grows with the level): about log2(levels) + 1 encodes and decodes instead of one per level.
    fn encode_to_psnr(&self, analyses: &mut Analyses, picture: &DynamicImage, goal: f64, options: &EncodeOptions) -> Result<(Vec<u8>, u8)> {
        let (original, _, _) = split_picture(picture);
        let mut try_level = |quality: u8| -> Result<(Vec<u8>, f64)> {
            let bytes = self.pack(analyses, picture, quality, options)?;
            let psnr = super::family::decoded_psnr(self, &original, &bytes)?;
            Ok((bytes, psnr))
        };
        let (mut low, mut high) = (1, self.max_quality());
        let (mut best_bytes, best_psnr) = try_level(high)?;
        if best_psnr < goal {
            return Err(Error::InvalidArgument(format!("no quality level reaches {goal} dB: the best gives {best_psnr:.2} dB")));
        }
        // `high` always reaches the goal; every level below `low` misses it.
        while low < high {
            let middle = low + (high - low) / 2;
            let (bytes, psnr) = try_level(middle)?;
            if psnr >= goal {
                (high, best_bytes) = (middle, bytes);
            } else {
                low = middle + 1;
            }
        }
        Ok((best_bytes, high))
    }

    /// The sizes in bytes the entropy models predict at every level; see
    /// [`Codec::estimated_sizes`].
    fn estimated_sizes_of_models(&self, picture: &DynamicImage) -> Result<Vec<f64>> {
        let mut per_model: Vec<Option<Vec<f64>>> = (0..self.models.len()).map(|_| None).collect();
        let mut sizes = Vec::with_capacity(self.rungs.len());
        for rung in &self.rungs {
            let estimates = match &mut per_model[rung.model] {
                Some(estimates) => estimates,
                slot => slot.insert(self.models[rung.model].codec()?.estimated_sizes(picture)?),
            };
            sizes.push(estimates[usize::from(rung.level) - 1]);
        }
        Ok(sizes)
    }

    /// The model of this scale that made files of identity `id`, if any (loading it).
    ///
    /// # Errors
    /// Loading errors.
    pub fn model_for(&self, id: ModelId) -> Result<Option<&Codec>> {
        self.models.iter().find(|m| m.id() == id).map(ScaleModel::codec).transpose()
    }
}

impl PhotoCodec for Ladder {
    fn family(&self) -> &'static super::registry::Family {
        &super::factorized::FAMILY
    }

    fn max_quality(&self) -> u8 {
        Ladder::max_quality(self)
    }

    fn default_quality(&self) -> u8 {
        Ladder::default_quality(self)
    }

    fn level_info(&self, quality: u8) -> Result<LevelInfo> {
        let (codec, step) = self.level(quality)?;
        let builtin = builtin_photo_by_id(codec.id());
        Ok(LevelInfo {
            model: builtin.map_or_else(|| format!("model {}", codec.id()), |b| b.name.to_string()),
            lambda: builtin.map(|b| b.lambda),
            rate: f64::from(step) / 256.0,
        })
    }

    fn decodes(&self, model: ModelId) -> bool {
        self.models.iter().any(|m| m.id() == model)
    }

    fn encode(&self, picture: &DynamicImage, options: &EncodeOptions) -> Result<Vec<u8>> {
        self.pack(&mut Analyses::new(self.models.len()), picture, options.quality, options)
    }

    fn decode_parsed(&self, file: &ParsedFile, limits: &Limits) -> Result<DynamicImage> {
        let made_by = file.model();
        match self.model_for(made_by)? {
            Some(codec) => codec.decode_parsed(file, limits),
            None => Err(Error::UnknownModel { made_by, expected: (self.models.len() == 1).then(|| self.models[0].id()) }),
        }
    }

    fn estimated_sizes(&self, picture: &DynamicImage, _residual: bool) -> Result<Vec<f64>> {
        self.estimated_sizes_of_models(picture)
    }

    fn latents(&self, picture: &DynamicImage) -> Result<Tensor<4>> {
        let (model, _) = self.level(self.default_quality())?;
        Ok(model.analyze(picture, &Limits::largest())?.latents)
    }

    fn encode_to_target(&self, picture: &DynamicImage, target: RateTarget, options: &EncodeOptions) -> Result<(Vec<u8>, u8)> {
        self.encode_to_target_once(picture, target, options)
    }
}

/// The encoder outputs of one picture, per model, computed on first use.
struct Analyses(Vec<Option<Analysis>>);

impl Analyses {
    fn new(models: usize) -> Self {
        Self((0..models).map(|_| None).collect())
    }

    fn get(&mut self, model: usize, codec: &Codec, picture: &DynamicImage, limits: &Limits) -> Result<&Analysis> {
        Ok(match &mut self.0[model] {
            Some(analysis) => analysis,
            slot => slot.insert(codec.analyze(picture, limits)?),
        })
    }
}
