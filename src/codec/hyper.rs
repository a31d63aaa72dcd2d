//! The hyperprior family (codec v2): picture → `g_a` → gain → `h_a` → `ẑ` (factorized
//! tables) → integer `h_s` → means and table indices → `round(y − μ)` (Gaussian bank) →
//! container v2 sections; and back through the inverse gain and `g_s`.
//!
//! Everything that decides a probability (the `z` tables, the integer hyper-synthesis, the
//! table bank) is integer data loaded from the model's files, so a file decodes to the same
//! latents on every machine; the float parts (`g_a`, `h_a`, gains, `g_s`) only move pixels.

use std::ops::Range;
use std::path::Path;
use std::sync::OnceLock;

use burn::prelude::*;
use image::DynamicImage;
use rayon::prelude::*;

use super::pixels::{self, Pixels};
use super::refine::{self, Refinement};
use super::residual::{self, Residual};
use super::restoration::{self, Restoration};
use super::tables::{LevelTables, QuantizedTables};
use super::tiles;
use super::tiles::{LatentPlanes, Tiling};
use super::{
    EncodeOptions, LevelInfo, PhotoCodec, RateTarget, Weights, check_model, check_picture_size, compress_alpha, join_picture, model_id, split_picture,
};
use crate::entropy::coding::{self, decode_indexed_from, encode_indexed};
use crate::entropy::gaussian::{LOG_SCALE_BITS, table_index, table_indexer};
use crate::entropy::intnet::{IntLayer, IntNet, LayerKind};
use crate::entropy::lookup::LookupCategorical;
use crate::entropy::quantize::round_residual;
use crate::error::{Error, Result};
use crate::format::streams::{Stream, join_streams, split_streams, stream_channels};
use crate::format::{CoderId, ColorModel, FormatError, HeaderV2, Limits, ModelId, ParsedFile, SectionFile, SectionKind};
use crate::infer::{Analysis, HyperAnalysis, Synthesis, SynthesisGradient};
use crate::model::hyperprior::{HYPER_DOWNSAMPLING, HyperpriorConfig, HyperpriorModel, SCALE_MAX, SCALE_MIN};

/// Architecture number of the hyperprior family in the container's model registry.
pub const ARCH_HYPERPRIOR: u32 = 2;
/// The hyperprior family in the registry; the binary's built-in hyperprior (the default model)
/// decodes its files.
pub static FAMILY: super::registry::Family = super::registry::Family {
    name: "hyperprior",
    architecture: ARCH_HYPERPRIOR,
    description: "a mean-scale hyperprior",
    rate_meaning: "rate setting, in trained levels",
    rate_label: "rate",
    owns_settings: |settings| settings.get("lambdas").is_some(),
    open_files: |weights, device| Ok(Box::new(HyperCodec::from_files(weights, device)?)),
    builtin: Some(|model, device| {
        let builtin = super::registry::builtin_hyper_by_id(model).unwrap_or_else(super::registry::default_hyper);
        Box::new(HyperCodec::of_builtin(builtin, device).expect("the embedded hyperprior loads (a build problem otherwise)"))
    }),
    builtin_decodes: |model| super::registry::builtin_hyper_by_id(model).is_some(),
};
/// λ of the default quality level (about 0.6 bpp on photographs).
const DEFAULT_LAMBDA: f64 = 0.02;
/// Quality levels between two trained rate levels, plus one (3: each trained level and two
/// interpolated ones between neighbours).
const LEVELS_PER_TRAINED: usize = 3;
/// Quality levels above the top trained level, their gains extrapolated from the top two
/// trained levels (the same formula as the interpolation, `f` beyond 1): the scale reaches
/// past the largest λ trained, at a falling return (format-spec, "Rate and quality").
const EXTRAPOLATED_LEVELS: usize = 2;
/// How far inside a size target, as a fraction of it, rate control with a refinement aims its
/// second refined encode ([`HyperCodec::refine_for_target`]).
const TARGET_MARGIN_BYTES: f64 = 0.01;
/// How far above a PSNR target, in dB, rate control with a refinement aims its second refined
/// encode.
const TARGET_MARGIN_DB: f64 = 0.05;
/// The quantization step of the `z` tables (units of 1/256): `z` is rounded to integers.
const Z_STEP: u16 = 256;
/// Streams that the encoder splits the latents `y` into with the range coder (since aec 0.5;
/// `format::streams`): a decoder decodes them at once, one per core of a 2-core machine.
const Y_STREAMS: usize = 2;
/// Where a residual layer is coded, the network's rate stops rising at the rate whose λ is
/// this (the built-in model's trained level 6, quality 19); above it only the layers' λ rises.
/// On the eval set the residual layer's bits buy more than the network's top levels do there
/// (BD-rate against cjpeg −40.0% → −40.5…−40.7% for a stop anywhere from quality 16 to 20;
/// on 12 training photos −28.7% → −30.0%).
const NETWORK_TOP_LAMBDA: f64 = 0.029;

/// A trained hyperprior ready to encode and decode pictures.
pub struct HyperCodec {
    /// The weights, kept so that the encoder's parts load on first use.
    weights: Weights,
    /// The parts only encoding needs, loaded on first use: a decoder never pays for them.
    encoder: OnceLock<EncoderParts>,
    /// The name of the built-in model when the binary has only its decoder (a former
    /// default, see `registry::BUILTIN_HYPER`): encoding is refused.
    decode_only: Option<&'static str>,
    /// The synthesis transform packed for decoding, loaded on first use (while the first
    /// file's latents are entropy-decoded): an encoder never pays for it.
    decoder: OnceLock<Synthesis>,
    /// The synthesis transform packed for gradients (an encoder refining its latents),
    /// loaded on first use.
    gradient: OnceLock<SynthesisGradient>,
    config: HyperpriorConfig,
    /// `ln` of the gain of every trained level and channel, `[levels][latent]`.
    log_gains: Vec<f32>,
    log_inv_gains: Vec<f32>,
    z_tables: LevelTables,
    /// The decoding models of `z_tables`, built once.
    z_models: Vec<LookupCategorical>,
    hyper_synthesis: IntNet,
    id: ModelId,
    device: Device,
}

/// The analysis and hyper-analysis transforms of a model, packed.
struct EncoderParts {
    analysis: Analysis,
    hyper_analysis: HyperAnalysis,
}

/// How `h_a` is cut on large pictures, in positions of `y`: tiles of 64 with a margin of 8
/// (its receptive field reaches 7 positions: 1 + 2 + 4), all multiples of 4 so that the tiles
/// of `z` (4x smaller) line up. A grid of at most 64 positions each way runs whole.
const HYPER_ANALYSIS_TILING: Tiling = Tiling { tile: 64, margin: 8, max_whole: 64 };

/// `h_a` over gained latents `y` (`H` and `W` multiples of 4), tile by tile on large pictures
/// so that its working memory is bounded by the tile: `z`, `[hyper_latent, H/4, W/4]`. The
/// encoder alone runs it: the decoder reads `ẑ` from the file.
fn hyper_analysis_tiled(h_a: &HyperAnalysis, y: &LatentPlanes) -> LatentPlanes {
    let (rows, cols) = (HYPER_ANALYSIS_TILING.spans(y.height), HYPER_ANALYSIS_TILING.spans(y.width));
    let (zh, zw) = (y.height / 4, y.width / 4);
    let mut z = LatentPlanes { values: Vec::new(), channels: 0, height: zh, width: zw };
    for row in &rows {
        for col in &cols {
            let tile = h_a.forward(&y.region(row.run.clone(), col.run.clone()).values, row.run.len(), col.run.len());
            let (th, tw) = (row.run.len() / 4, col.run.len() / 4);
            if z.values.is_empty() {
                z.channels = tile.len() / (th * tw).max(1);
                z.values = vec![0.0; z.channels * zh * zw];
            }
            let (keep_rows, keep_cols) = (row.keep.start / 4..row.keep.end / 4, col.keep.start / 4..col.keep.end / 4);
            let (skip_row, skip_col) = ((row.keep.start - row.run.start) / 4, (col.keep.start - col.run.start) / 4);
            for c in 0..z.channels {
                for (i, zy) in keep_rows.clone().enumerate() {
                    let from = (c * th + skip_row + i) * tw + skip_col;
                    let to = (c * zh + zy) * zw + keep_cols.start;
                    z.values[to..to + keep_cols.len()].copy_from_slice(&tile[from..from + keep_cols.len()]);
                }
            }
        }
    }
    z
}

/// Whether a tensor (path, container) is one every coding needs: the gains.
fn gain_tensor(path: &str, _: &str) -> bool {
    path == "log_gain" || path == "log_inv_gain"
}

/// Whether a tensor is one only a decoder needs: the synthesis transform.
fn decoder_tensor(path: &str, _: &str) -> bool {
    path.starts_with("synthesis.")
}

/// Whether a tensor is one of the analysis transform (only an encoder needs it).
fn analysis_tensor(path: &str, _: &str) -> bool {
    path.starts_with("analysis.")
}

/// Whether a tensor is one of the hyper-analysis (only an encoder needs it).
fn hyper_analysis_tensor(path: &str, _: &str) -> bool {
    path.starts_with("hyper_analysis.")
}

/// Loads the tensors of `config`'s model that `wanted` picks from a weights file, refusing a
/// file that lacks any of them; the others keep their initial values.
fn load_parts(config: &HyperpriorConfig, weights: &Weights, wanted: fn(&str, &str) -> bool, device: &Device) -> Result<HyperpriorModel> {
    let mut model = config.init(device);
    weights.load_into(&mut model, wanted)?;
    Ok(model)
}

impl std::fmt::Debug for HyperCodec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HyperCodec").field("id", &self.id).field("config", &self.config).finish_non_exhaustive()
    }
}

/// The integer copy of a trained model's hyper-synthesis, its weights quantized to `bits`
/// significant bits (16 for every model before `hyper-light`; see `IntLayer::quantize_to`).
///
/// # Errors
/// [`Error::Model`] if a weight is not finite or `bits` is out of range.
pub fn integer_hyper_synthesis(model: &HyperpriorModel, bits: u32) -> Result<IntNet> {
    let floats = |t: Tensor<4>| t.into_data().try_to_vec::<f32>().map_err(|e| Error::Model(format!("{e:?}")));
    let bias = |b: &Option<burn::module::Param<Tensor<1>>>, n: usize| -> Result<Vec<f32>> {
        match b {
            Some(b) => b.val().into_data().try_to_vec::<f32>().map_err(|e| Error::Model(format!("{e:?}"))),
            None => Ok(vec![0.0; n]),
        }
    };
    let mut layers = Vec::new();
    for deconv in &model.hyper_synthesis.deconvs {
        // burn stores transposed convolutions as [in][out][ky][kx]; the integer layer wants
        // [out][in][ky][kx].
        let [inputs, outputs, _, _] = deconv.weight.dims();
        let weights = floats(deconv.weight.val().swap_dims(0, 1))?;
        layers.push(IntLayer::quantize_to(LayerKind::Up5, true, inputs, outputs, &weights, &bias(&deconv.bias, outputs)?, bits)?);
    }
    let head = &model.hyper_synthesis.head;
    let [outputs, inputs, _, _] = head.weight.dims();
    layers.push(IntLayer::quantize_to(LayerKind::Pointwise, false, inputs, outputs, &floats(head.weight.val())?, &bias(&head.bias, outputs)?, bits)?);
    IntNet::new(layers)
}

/// The `z` tables of a trained model (one table per channel, step 1).
///
/// # Errors
/// As [`super::tabulate::tabulate`].
pub fn z_tables(model: &HyperpriorModel) -> Result<QuantizedTables> {
    super::tabulate::tabulate(&model.hyper_entropy, &[Z_STEP], &Device::flex())
}

/// What an analysed picture's file needs besides its latents `y`.
struct Analysed {
    /// The padded picture size.
    ph: usize,
    pw: usize,
    width: u32,
    height: u32,
    color: ColorModel,
    /// The alpha section's payload, if the picture has alpha.
    alpha: Option<Vec<u8>>,
    /// The picture as the analysis transform saw it (padded planes), kept when the latents
    /// are to be refined.
    planes: Option<Vec<f32>>,
    /// The picture's colour samples, kept when a restoration filter is to be fitted to them.
    original: Option<Pixels>,
}

/// The payloads of a file's restoration filter and residual layer, where it has them.
type Layers = (Option<Vec<u8>>, Option<Vec<u8>>);

/// What the encoder computed for one picture at one rate.
struct Coded {
    z: Vec<i16>,
    y: Vec<i16>,
    /// The means `μ` of `y` (units of 2^-LOG_SCALE_BITS).
    means: Vec<i32>,
    indices: Vec<u8>,
    z_plane: usize,
}

impl HyperCodec {
    /// A model from files written by `aec train --arch hyper`: `NAME.bpk` (weights),
    /// `NAME.json` (sizes and λs), `NAME.cdf` (`z` tables) and `NAME.hsi` (integer
    /// hyper-synthesis) side by side.
    ///
    /// # Errors
    /// [`Error::Io`] or [`Error::Model`].
    pub fn from_files(weights: &Path, device: Device) -> Result<Self> {
        let read = |p: &Path| std::fs::read(p).map_err(|e| Error::io(p, e));
        let weight_bytes = read(weights)?;
        let settings = read(&weights.with_extension("json"))?;
        let tables = read(&weights.with_extension("cdf"))?;
        let hsi = read(&weights.with_extension("hsi"))?;
        let id = model_id(ARCH_HYPERPRIOR, &[&weight_bytes, &tables, &hsi]);
        Self::from_parts(&settings, Weights::File(weight_bytes), &tables, &hsi, id, device)
    }

    /// The hyperprior built into the binary (the default model), on burn's flex CPU backend.
    ///
    /// # Errors
    /// [`Error::Model`] if the embedded files are inconsistent (a build problem).
    pub fn builtin() -> Result<Self> {
        Self::builtin_on(Device::flex())
    }

    /// [`HyperCodec::builtin`] on the given device.
    ///
    /// # Errors
    /// As [`HyperCodec::builtin`].
    pub fn builtin_on(device: Device) -> Result<Self> {
        Self::of_builtin(super::registry::default_hyper(), device)
    }

    /// A built-in hyperprior (the default, or a former default that only decodes) on the
    /// given device.
    ///
    /// # Errors
    /// As [`HyperCodec::builtin`].
    pub fn of_builtin(builtin: &'static super::registry::BuiltinHyper, device: Device) -> Result<Self> {
        let unpack = |packed| super::embedded::unpack_bytes(packed).map_err(Error::Model);
        let (tables, hsi) = rayon::join(|| unpack(builtin.tables), || unpack(builtin.hyper_synthesis));
        let mut codec = Self::from_parts(builtin.settings, Weights::Builtin(builtin.weights), &tables?, &hsi?, builtin.id(), device)?;
        codec.decode_only = (!builtin.encodes).then_some(builtin.name);
        Ok(codec)
    }

    /// A model from its settings, weights, `z` tables and integer hyper-synthesis, with the
    /// identity of its trained files. Only the gains and the entropy model load now; the
    /// encoder's and the decoder's transforms load on first use. The float hyper-synthesis is
    /// never loaded (the built-in copy lacks it): the integer one in `hsi` is what runs.
    fn from_parts(settings: &[u8], weights: Weights, tables: &[u8], hsi: &[u8], id: ModelId, device: Device) -> Result<Self> {
        use burn::config::Config;
        let config = HyperpriorConfig::load_binary(settings).map_err(|e| Error::Model(format!("model settings: {e}")))?;
        check_sizes(&config)?;
        // The integer hyper-synthesis is parsed on one core while the other loads the network.
        let (model, hyper_synthesis) = rayon::join(|| load_parts(&config, &weights, gain_tensor, &device), || IntNet::from_bytes(hsi));
        let (model, hyper_synthesis) = (model?, hyper_synthesis?);
        let tables = QuantizedTables::from_bytes(tables)?;
        let z_tables = tables
            .levels
            .into_iter()
            .next()
            .filter(|l| l.channels.len() == config.hyper_latent && l.step == Z_STEP)
            .ok_or_else(|| Error::Model("z tables do not match the model".into()))?;
        if hyper_synthesis.inputs() != config.hyper_latent || hyper_synthesis.outputs() != 2 * config.latent || hyper_synthesis.upsampling() != 4 {
            return Err(Error::Model("integer hyper-synthesis does not match the model".into()));
        }
        let gains = |p: &burn::module::Param<Tensor<2>>| p.val().into_data().try_to_vec::<f32>().map_err(|e| Error::Model(format!("{e:?}")));
        Ok(Self {
            log_gains: gains(&model.log_gain)?,
            log_inv_gains: gains(&model.log_inv_gain)?,
            decoder: OnceLock::new(),
            gradient: OnceLock::new(),
            weights,
            encoder: OnceLock::new(),
            decode_only: None,
            config,
            z_models: coding::decoding_models(&z_tables),
            z_tables,
            hyper_synthesis,
            id,
            device,
        })
    }

    /// The model's identity as written into files.
    pub fn id(&self) -> ModelId {
        self.id
    }

    /// The sizes and λs of the model.
    pub fn config(&self) -> &HyperpriorConfig {
        &self.config
    }

    /// Number of quality levels: three per gap between trained levels, plus one, plus
    /// [`EXTRAPOLATED_LEVELS`] beyond the top trained level.
    pub fn max_quality(&self) -> u8 {
        (LEVELS_PER_TRAINED * (self.config.levels() - 1) + 1 + EXTRAPOLATED_LEVELS) as u8
    }

    /// The level used when none is given: the one whose λ (interpolated like its gains,
    /// geometrically between trained levels) is nearest [`DEFAULT_LAMBDA`], never an
    /// extrapolated one.
    pub fn default_quality(&self) -> u8 {
        let distance = |q: u8| self.rate_of(q).map_or(f64::INFINITY, |rate| (self.lambda_at(rate) / DEFAULT_LAMBDA).ln().abs());
        (1..=self.max_quality() - EXTRAPOLATED_LEVELS as u8).min_by(|&a, &b| distance(a).total_cmp(&distance(b))).unwrap_or(1)
    }

    /// The λ that a rate setting stands for: geometric interpolation between the λ of the two
    /// neighbouring trained levels (extrapolation from the top two beyond the last), as the
    /// gains are interpolated.
    pub fn lambda_at(&self, rate: u16) -> f64 {
        let (i, j, f) = self.neighbours(rate);
        let lambdas = &self.config.lambdas;
        lambdas[i] * (lambdas[j] / lambdas[i]).powf(f)
    }

    /// The rate setting the network codes a level of rate setting `rate` at: `rate` itself,
    /// or, where a residual layer is coded (`layered`), at most the rate whose λ is
    /// [`NETWORK_TOP_LAMBDA`] (the layers then code the rest, at the level's λ); a model whose
    /// trained λs do not span it keeps its rates.
    pub fn network_rate(&self, rate: u16, layered: bool) -> u16 {
        let lambdas = &self.config.lambdas;
        // The trained levels i and i + 1 around the λ (none: a model trained only above or
        // only below it keeps its rates), and how far between them it lies.
        let Some(i) = lambdas.iter().rposition(|&l| l <= NETWORK_TOP_LAMBDA).filter(|&i| layered && i + 1 < lambdas.len()) else {
            return rate;
        };
        let f = (NETWORK_TOP_LAMBDA / lambdas[i]).ln() / (lambdas[i + 1] / lambdas[i]).ln();
        rate.min((256.0 * (i as f64 + f)).floor() as u16)
    }

    /// The trained levels `i` and `j` around a rate setting and how far it lies from `i`
    /// towards `j` (exact: a rate setting is a multiple of 1/256 of a level); beyond the top
    /// trained level, the top two and a distance above 1.
    fn neighbours(&self, rate: u16) -> (usize, usize, f64) {
        let levels = self.config.levels();
        let t = f64::from(rate) / 256.0;
        let i = (t.floor() as usize).min(levels.saturating_sub(2));
        (i, (i + 1).min(levels - 1), t - i as f64)
    }

    /// The packed analysis and synthesis transforms (for tools that run them directly, such
    /// as the tiling check `examples/tile_check.rs`).
    ///
    /// # Errors
    /// [`Error::Model`] if the analysis transform's weights do not load.
    pub fn transforms(&self) -> Result<(&Analysis, &Synthesis)> {
        Ok((&self.encoder()?.analysis, self.decoder()?))
    }

    /// The identity of the built-in hyperprior, without loading it.
    pub fn builtin_id() -> ModelId {
        super::registry::default_hyper().id()
    }

    /// The rate setting of a quality level that may be fractional (continuous quality): level
    /// `q` has rate `ceil(256·(q − 1)/3)`, exact in `f64` for whole levels.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] outside `1..=max_quality()`.
    pub fn rate_of_fraction(&self, quality: f64) -> Result<u16> {
        if !(1.0..=f64::from(self.max_quality())).contains(&quality) {
            return Err(Error::InvalidArgument(format!("quality must be 1..={}, not {quality}", self.max_quality())));
        }
        Ok((256.0 * (quality - 1.0) / LEVELS_PER_TRAINED as f64).ceil() as u16)
    }

    /// The rate setting (units of 1/256 of a trained level) of a quality level (1-based).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a level outside `1..=max_quality()`.
    pub fn rate_of(&self, quality: u8) -> Result<u16> {
        self.rate_of_fraction(f64::from(quality))
    }

    /// Largest valid rate setting: that of the top quality level, an extrapolated one.
    fn max_rate(&self) -> u16 {
        ((self.config.levels() - 1) * 256 + (256 * EXTRAPOLATED_LEVELS).div_ceil(LEVELS_PER_TRAINED)) as u16
    }

    /// Gain (or inverse gain) vector at a rate setting: geometric interpolation between the
    /// two neighbouring trained levels (extrapolation beyond the top one).
    fn gain_at(&self, log_gains: &[f32], rate: u16) -> Vec<f32> {
        let m = self.config.latent;
        let (i, j, f) = self.neighbours(rate);
        let f = f as f32; // exact, as in f64
        let (a, b) = (&log_gains[i * m..(i + 1) * m], &log_gains[j * m..(j + 1) * m]);
        a.iter().zip(b).map(|(&a, &b)| ((1.0 - f) * a + f * b).exp()).collect()
    }

    /// The encoder's transforms, loaded on first use.
    fn encoder(&self) -> Result<&EncoderParts> {
        if let Some(parts) = self.encoder.get() {
            return Ok(parts);
        }
        if let Some(name) = self.decode_only {
            // A built-in hyperprior's files are named after it.
            return Err(super::registry::decode_only_error(name, name));
        }
        // The two transforms load and pack on two threads.
        let load = |wanted| load_parts(&self.config, &self.weights, wanted, &self.device);
        let (analysis, hyper_analysis) = rayon::join(
            || load(analysis_tensor).and_then(|model| Analysis::from_model(&model.analysis)),
            || load(hyper_analysis_tensor).and_then(|model| HyperAnalysis::from_model(&model.hyper_analysis)),
        );
        let parts = EncoderParts { analysis: analysis?, hyper_analysis: hyper_analysis? };
        Ok(self.encoder.get_or_init(|| parts))
    }

    /// The synthesis transform, loaded on first use.
    fn decoder(&self) -> Result<&Synthesis> {
        self.packed_synthesis(&self.decoder, Synthesis::from_model)
    }

    /// The synthesis transform packed for gradients, loaded on first use.
    fn synthesis_gradient(&self) -> Result<&SynthesisGradient> {
        self.packed_synthesis(&self.gradient, Synthesis::gradient_of)
    }

    /// What `pack` makes of the trained synthesis transform, made on first use and kept in `cell`.
    fn packed_synthesis<'a, T>(&self, cell: &'a OnceLock<T>, pack: fn(&crate::model::factorized::Synthesis) -> Result<T>) -> Result<&'a T> {
        if let Some(packed) = cell.get() {
            return Ok(packed);
        }
        let model = load_parts(&self.config, &self.weights, decoder_tensor, &self.device)?;
        let packed = pack(&model.synthesis)?;
        Ok(cell.get_or_init(|| packed))
    }

    /// Runs the analysis transform `g_a`, tile by tile, on a picture padded to a multiple of 64
    /// (once per picture, whatever the rate); returns `y` and the padded size.
    fn analyze(&self, pixels: &Pixels) -> Result<(LatentPlanes, usize, usize)> {
        let encoder = &self.encoder()?.analysis;
        Ok(tiles::analyze(pixels, HYPER_DOWNSAMPLING, |x, h, w| encoder.forward(x, h, w)))
    }

    /// Codes analysed latents `y` (of a picture padded to `ph x pw`) at a rate setting,
    /// refining them first against `refining`'s picture (padded planes, visible size) if given.
    fn code(&self, mut y: LatentPlanes, ph: usize, pw: usize, rate: u16, refining: Option<(&Refinement, &[f32], (usize, usize))>) -> Result<Coded> {
        let gains = self.gain_at(&self.log_gains, rate);
        let plane = y.height * y.width;
        for (values, gain) in y.values.chunks_mut(plane.max(1)).zip(&gains) {
            values.iter_mut().for_each(|v| *v *= gain);
        }
        let z = hyper_analysis_tiled(&self.encoder()?.hyper_analysis, &y);
        let z = to_i16(z.values.iter().map(|v| v.round_ties_even()).collect());
        let y = y.values;
        let (zh, zw) = (ph / HYPER_DOWNSAMPLING, pw / HYPER_DOWNSAMPLING);
        let params = self.hyper_synthesis.forward(&z, zh, zw);
        let plane = 16 * zh * zw;
        let (means, log_scales) = params.split_at(self.config.latent * plane);
        let unit = f32::from(1u16 << LOG_SCALE_BITS);
        let indices: Vec<u8> = log_scales.par_iter().map(|&s| table_index(s)).collect();
        let rounded: Vec<f32> = y.par_iter().zip(means).zip(&indices).map(|((&v, &m), &k)| round_residual(v - m as f32 / unit, k)).collect();
        let q = match refining {
            Some((refinement, picture, visible)) if refinement.steps > 0 => {
                let means: Vec<f32> = means.iter().map(|&m| m as f32 / unit).collect();
                let scales: Vec<f32> = log_scales.iter().map(|&s| (s as f32 / unit).exp().clamp(SCALE_MIN, SCALE_MAX)).collect();
                let inverse_gains = self.gain_at(&self.log_inv_gains, rate);
                let target = refine::Target {
                    picture,
                    visible,
                    means: &means,
                    scales: &scales,
                    indices: &indices,
                    inverse_gains: &inverse_gains,
                    lambda: self.lambda_at(rate),
                };
                refine::refine(self.synthesis_gradient()?, &target, &y, (ph / 16, pw / 16), refinement, rounded)
            }
            _ => rounded,
        };
        Ok(Coded { z, y: to_i16(q), means: means.to_vec(), indices, z_plane: zh * zw })
    }

    /// Compresses a picture at any rate setting up to that of the top quality level,
    /// `256·(levels − 1) + 171` (continuous quality);
    /// `quality` is recorded in the header for information; coder, metadata and limits are
    /// those of `options`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a rate beyond the top quality level, [`Error::TooLarge`]
    /// for a picture beyond the limits.
    pub fn encode_at_rate(&self, picture: &DynamicImage, rate: u16, quality: u8, options: &EncodeOptions) -> Result<Vec<u8>> {
        if rate > self.max_rate() {
            return Err(Error::InvalidArgument(format!("rate setting must be 0..={}, not {rate}", self.max_rate())));
        }
        let (y, analysed) = self.analysed(picture, options)?;
        self.pack(y, &analysed, rate, quality, options)
    }

    /// Rate control with a refinement (a refined encode costs ~75 plain ones): the rate settings
    /// are searched on plain encodes (`search`, which found `plain` and its rate), then the
    /// latents are refined at most twice (`refine_at` gives the refined file at a rate): at the
    /// rate found, and at the rate a second plain search finds for the target moved by what
    /// refining changed there (refining adds a few percent of bits and up to half a dB, so at
    /// the rate found a size target is usually missed). Of the files that meet the target the
    /// best is kept: the highest PSNR for a size target, the smallest file for a PSNR target
    /// (the plain file if no refined one does better).
    fn refine_for_target(
        &self,
        picture: &DynamicImage,
        target: RateTarget,
        plain: (Vec<u8>, u16),
        search: impl Fn(RateTarget) -> Result<(Vec<u8>, u16)>,
        refine_at: impl Fn(u16) -> Result<Vec<u8>>,
    ) -> Result<(Vec<u8>, u16)> {
        let original = split_picture(picture).0;
        let pixels = f64::from(picture.width()) * f64::from(picture.height());
        // A file, its PSNR (each file decoded once) and whether it meets the target.
        let judged = |bytes: Vec<u8>| -> Result<(f64, Vec<u8>, bool)> {
            let psnr = super::family::decoded_psnr(self, &original, &bytes)?;
            let meets = super::family::meets_target(target, bytes.len(), pixels, || Ok(psnr))?.meets;
            Ok((psnr, bytes, meets))
        };
        let (plain_psnr, plain_bytes, _) = judged(plain.0)?;
        let (probe_psnr, probe, probe_meets) = judged(refine_at(plain.1)?)?;
        // The target moved by what refining changed, and a little further in (refining does not
        // change every rate alike): 1% fewer bytes, 0.05 dB more.
        let shrink = plain_bytes.len() as f64 / probe.len() as f64 * (1.0 - TARGET_MARGIN_BYTES);
        let moved = match target {
            RateTarget::MaxBytes(n) => RateTarget::MaxBytes((n as f64 * shrink).floor() as u64),
            RateTarget::BitsPerPixel(bpp) => RateTarget::BitsPerPixel(bpp * shrink),
            RateTarget::Psnr(goal) => RateTarget::Psnr(goal - (probe_psnr - plain_psnr) + TARGET_MARGIN_DB),
        };
        let mut candidates = vec![(plain_psnr, plain_bytes, plain.1)];
        if probe_meets {
            candidates.push((probe_psnr, probe, plain.1));
        }
        match search(moved) {
            Ok((_, rate)) if rate != plain.1 => {
                let (psnr, bytes, meets) = judged(refine_at(rate)?)?;
                if meets {
                    candidates.push((psnr, bytes, rate));
                }
            }
            // A moved target that no rate meets leaves the files above.
            Ok(_) | Err(Error::InvalidArgument(_)) => {}
            Err(other) => return Err(other),
        }
        let best = match target {
            RateTarget::Psnr(_) => candidates.into_iter().min_by_key(|c| c.1.len()),
            _ => candidates.into_iter().max_by(|a, b| a.0.total_cmp(&b.0)),
        };
        let (_, bytes, rate) = best.expect("the plain file is a candidate");
        Ok((bytes, rate))
    }

    /// Checks a picture against `limits` and runs the analysis transform on it (once, for any
    /// number of rates): `y` before any gain, and the rest of what a file needs.
    /// The padded picture is kept when `options` refine the latents, the picture itself when
    /// they ask for a restoration filter.
    fn analysed(&self, picture: &DynamicImage, options: &EncodeOptions) -> Result<(LatentPlanes, Analysed)> {
        let (width, height) = (picture.width(), picture.height());
        check_picture_size(width, height, &options.limits)?;
        let (pixels, color, alpha) = split_picture(picture);
        let (y, ph, pw) = self.analyze(&pixels)?;
        let planes = (options.refinement.steps > 0).then(|| pixels::to_padded_planes(&pixels, HYPER_DOWNSAMPLING).0);
        // 3 bytes a pixel, not needed while coding unless a filter is fitted.
        let original = (options.restoration || options.residual).then_some(pixels);
        Ok((y, Analysed { ph, pw, width, height, color, alpha: alpha.as_deref().map(compress_alpha), planes, original }))
    }

    /// The file of an analysed picture (its latents `y`, taken so that a single encode holds
    /// them once) at a rate setting (`quality` recorded for information).
    fn pack(&self, y: LatentPlanes, analysed: &Analysed, rate: u16, quality: u8, options: &EncodeOptions) -> Result<Vec<u8>> {
        let coder = options.coder;
        let refining = analysed.planes.as_deref().map(|planes| (&options.refinement, planes, (analysed.height as usize, analysed.width as usize)));
        let layered = options.residual && analysed.original.as_ref().is_some_and(|o| residual::applies(o.width, o.height, o.channels));
        let (lambda, rate) = (self.lambda_at(rate), self.network_rate(rate, layered));
        let coded = self.code(y, analysed.ph, analysed.pw, rate, refining)?;
        let (z_payload, y_streams) = match coder {
            CoderId::Zstd => (coding::encode_zstd(&coded.z), vec![(0, coding::encode_zstd(&coded.y))]),
            CoderId::Range => {
                let plane = coded.y.len() / self.config.latent;
                // Streams that take about as long to decode: a symbol costs about as much time
                // as three bits (kodim23: ~9 ns a symbol and ~3 ns a bit).
                let costs: Vec<f64> = (0..self.config.latent)
                    .into_par_iter()
                    .map(|c| {
                        plane as f64 + coding::estimated_indexed_bits(&coded.y[c * plane..(c + 1) * plane], &coded.indices[c * plane..(c + 1) * plane]) / 3.0
                    })
                    .collect();
                let firsts = coding::balanced_split(&costs, Y_STREAMS);
                let streams = stream_channels(&firsts, self.config.latent)
                    .into_par_iter()
                    .map(|c| encode_indexed(&coded.y[c.start * plane..c.end * plane], &coded.indices[c.start * plane..c.end * plane]))
                    .collect::<Vec<_>>();
                (coding::encode_range(&coded.z, coded.z_plane, &self.z_tables), firsts.into_iter().zip(streams).collect::<Vec<_>>())
            }
        };
        let further = (y_streams.len() > 1).then(|| join_streams(&y_streams.iter().map(|(first, s)| (*first, s.as_slice())).collect::<Vec<_>>()));
        let mut sections = vec![(SectionKind::HyperLatents, z_payload.as_slice()), (SectionKind::Latents, y_streams[0].1.as_slice())];
        if let Some(further) = &further {
            sections.push((SectionKind::LatentStreams, further.as_slice()));
        }
        if let Some(a) = &analysed.alpha {
            sections.push((SectionKind::Alpha, a.as_slice()));
        }
        let (restoration, residual) = match &analysed.original {
            Some(original) => self.layers_for(original, &coded, rate, lambda, options)?,
            None => (None, None),
        };
        if let Some(r) = &restoration {
            sections.push((SectionKind::Restoration, r.as_slice()));
        }
        if let Some(r) = &residual {
            sections.push((SectionKind::Residual, r.as_slice()));
        }
        sections.extend(options.metadata.sections());
        let header = HeaderV2 { width: analysed.width, height: analysed.height, color: analysed.color, coder, quality, model: self.id, rate };
        Ok(SectionFile { header, sections }.to_bytes()?)
    }

    /// The payloads of the restoration filter and the residual layer for a picture coded as
    /// `coded` at a rate setting, each if `options` ask for it and it pays for its section at
    /// `lambda`, the level's (the network's rate may be lower). The encoder decodes the latents
    /// as a decoder will, then fits the filter, then the layer to the filtered picture. Weights without the synthesis transform (an
    /// encoder's only) make files without either.
    fn layers_for(&self, original: &Pixels, coded: &Coded, rate: u16, lambda: f64, options: &EncodeOptions) -> Result<Layers> {
        let decoder = match self.decoder() {
            Ok(decoder) => decoder,
            Err(Error::Model(_)) => return Ok((None, None)),
            Err(other) => return Err(other),
        };
        let mut picture = self.synthesize_with(decoder, &coded.y, &coded.means, rate, (original.width, original.height), original.channels);
        let entry = crate::format::SECTION_ENTRY_LEN;
        let filter = options.restoration.then(|| restoration::fit(original, &picture, lambda, entry)).flatten().map(|fitted| {
            picture = fitted.picture;
            fitted.filter.to_bytes()
        });
        let layer = options.residual.then(|| residual::fit(original, &picture, lambda, entry)).flatten().map(|fitted| fitted.payload);
        Ok((filter, layer))
    }

    /// The whole quality level nearest a rate setting (what a file records for information).
    fn quality_of_rate(&self, rate: u16) -> u8 {
        (1.0 + f64::from(rate) * LEVELS_PER_TRAINED as f64 / 256.0).round().clamp(1.0, f64::from(self.max_quality())) as u8
    }

    /// The analysis transform's latents `y` of a picture (before any gain), `[1, C, H/16, W/16]`
    /// of the picture padded to a multiple of 64.
    ///
    /// # Errors
    /// [`Error::TooLarge`] for a picture beyond `limits`.
    fn latents_within(&self, picture: &DynamicImage, limits: &Limits) -> Result<Tensor<4>> {
        check_picture_size(picture.width(), picture.height(), limits)?;
        let (pixels, _, _) = split_picture(picture);
        Ok(self.analyze(&pixels)?.0.to_tensor(&self.device))
    }

    /// The size in bytes the entropy model predicts for a picture at a quality level, coded
    /// without a restoration filter or residual layer (`--no-restoration --no-residual`).
    ///
    /// # Errors
    /// As [`HyperCodec::encode_at_rate`].
    pub fn estimated_size(&self, picture: &DynamicImage, quality: u8) -> Result<f64> {
        Ok(self.estimated_sizes_at(picture, &[self.rate_of(quality)?], false)?[0])
    }

    /// The predicted sizes at these rate settings, each coded at the network's rate for it
    /// ([`HyperCodec::network_rate`]) by encodes that may code a residual layer (`residual`)
    /// or not; the analysis transform runs once for all.
    fn estimated_sizes_at(&self, picture: &DynamicImage, rates: &[u16], residual: bool) -> Result<Vec<f64>> {
        let (pixels, _, alpha) = split_picture(picture);
        let layered = residual && residual::applies(pixels.width, pixels.height, pixels.channels);
        let (y, ph, pw) = self.analyze(&pixels)?;
        let alpha = alpha.map_or(0, |a| compress_alpha(&a).len() + crate::format::SECTION_ENTRY_LEN);
        // With several latent streams: the kind-4 section's entry and head, and about a word of
        // range-coder flush per further stream.
        let further = Y_STREAMS.min(self.config.latent) - 1;
        let streams = if further > 0 { crate::format::SECTION_ENTRY_LEN + crate::format::streams::section_head_len(further) + 4 * further } else { 0 };
        let overhead = (crate::format::HEADER_V2_LEN + 16 + crate::format::CHECKSUM_LEN + alpha + streams) as f64;
        rates
            .iter()
            .map(|&rate| {
                let coded = self.code(y.clone(), ph, pw, self.network_rate(rate, layered), None)?;
                let bits = coding::estimated_bits(&coded.z, coded.z_plane, &self.z_tables) + coding::estimated_indexed_bits(&coded.y, &coded.indices);
                Ok(bits / 8.0 + overhead)
            })
            .collect()
    }

    /// The decoded integer latents of a parsed file: `ẑ` and `round(y − μ)`, channel by
    /// channel (exact on every machine: the format's test vectors keep a digest of them).
    ///
    /// # Errors
    /// As [`PhotoCodec::decode_parsed`].
    pub fn decode_latents(&self, file: &SectionFile, limits: &Limits) -> Result<(Vec<i16>, Vec<i16>, Vec<i32>)> {
        let h = &file.header;
        // The sections are checked before the rate (the format's order of checks).
        file.section(SectionKind::HyperLatents).ok_or_else(|| missing_section("hyper-latent"))?;
        let y_payload = file.section(SectionKind::Latents).ok_or_else(|| missing_section("latent"))?;
        if h.rate > self.max_rate() {
            return Err(Error::Format(FormatError::InvalidField { field: "rate", value: h.rate.into() }));
        }
        let (zh, zw) = hyper_latent_grid(h);
        let count = self.config.latent * 16 * zh * zw;
        if count as u64 > limits.max_latent_values {
            return Err(Error::Format(FormatError::LimitExceeded { what: "latent value count", value: count as u64, limit: limits.max_latent_values }));
        }
        let further = file.section(SectionKind::LatentStreams);
        let streams = match h.coder {
            CoderId::Zstd if further.is_some() => return Err(Error::Format(FormatError::CorruptPayload("further latent streams with the zstd coder".into()))),
            _ => split_streams(y_payload, further)?,
        };
        if streams.last().is_some_and(|&(first, _)| first >= self.config.latent) {
            return Err(Error::Format(FormatError::CorruptPayload("a latent stream beyond the latent channels".into())));
        }
        let z = self.decode_hyper_latents(file)?;
        let (means, y) = match h.coder {
            CoderId::Zstd => {
                let mut params = self.hyper_synthesis.forward(&z, zh, zw);
                params.truncate(count);
                (params, coding::decode_zstd(y_payload, count))
            }
            // The range decoder needs only the log-scales (outputs `latent ..`): each stream is
            // decoded as soon as its channels' log-scales are computed, while the means (the
            // other outputs) and the other streams' log-scales are computed.
            CoderId::Range => {
                let latent = self.config.latent;
                let firsts: Vec<usize> = streams.iter().map(|s| s.0).collect();
                let parts: Vec<Range<usize>> = stream_channels(&firsts, latent).into_iter().map(|c| latent + c.start..latent + c.end).collect();
                let (means, decoded) = self.hyper_synthesis.forward_overlapped(&z, zh, zw, &parts, |i, log_scales| decode_stream(streams[i].1, log_scales));
                (means, decoded.into_iter().collect::<std::result::Result<Vec<_>, _>>().map(|parts| parts.concat()))
            }
        };
        Ok((z, y?, means))
    }

    /// `ẑ` of a parsed file: its hyper-latent section decoded (with the file's coder), channel
    /// by channel.
    ///
    /// # Errors
    /// [`Error::Format`] if the section is missing or does not decode to exactly the values
    /// the header's size implies.
    pub fn decode_hyper_latents(&self, file: &SectionFile) -> Result<Vec<i16>> {
        let payload = file.section(SectionKind::HyperLatents).ok_or_else(|| missing_section("hyper-latent"))?;
        let (zh, zw) = hyper_latent_grid(&file.header);
        Ok(match file.header.coder {
            CoderId::Zstd => coding::decode_zstd(payload, self.config.hyper_latent * zh * zw)?,
            CoderId::Range => coding::decode_range_with(payload, zh * zw, &self.z_tables, &self.z_models)?,
        })
    }

    /// The integer hyper-synthesis: `ẑ` in, the means then the log-scales of `y` out.
    pub fn hyper_synthesis(&self) -> &IntNet {
        &self.hyper_synthesis
    }

    /// Decodes a parsed file that this model made (its identity checked by the caller).
    fn decode_file(&self, file: &SectionFile, limits: &Limits) -> Result<DynamicImage> {
        let h = &file.header;
        // The first decode loads the synthesis on one core while the other decodes the latents.
        let (decoder, latents) = rayon::join(|| self.decoder(), || self.decode_latents(file, limits));
        let (decoder, (_, q, means)) = (decoder?, latents?);
        if h.color != ColorModel::Rgba && file.section(SectionKind::Alpha).is_some() {
            return Err(Error::Format(FormatError::CorruptPayload("an alpha section in a picture without alpha".into())));
        }
        let alpha = match h.color {
            ColorModel::Rgba => {
                let payload = file.section(SectionKind::Alpha).ok_or_else(|| Error::Format(FormatError::CorruptPayload("no alpha section".into())))?;
                Some(coding::decompress_exact(payload, h.width as usize * h.height as usize)?)
            }
            _ => None,
        };
        let channels = if h.color == ColorModel::Gray { 1 } else { 3 };
        let restoration = file.section(SectionKind::Restoration).map(|payload| Restoration::parse(payload, channels)).transpose()?;
        let residual = file.section(SectionKind::Residual).map(|payload| Residual::parse(payload, channels)).transpose()?;
        let (width, height) = (h.width as usize, h.height as usize);
        // The residual layer's range decoding needs only the picture's size and runs on one
        // core: it runs beside the synthesis and the filter, which keep the other core busy.
        let (coefficients, mut pixels) = rayon::join(
            || residual.as_ref().map(|layer| layer.decode(width, height)).transpose(),
            || {
                let mut pixels = self.synthesize_with(decoder, &q, &means, h.rate, (width, height), channels);
                if let Some(filter) = &restoration {
                    filter.apply(&mut pixels);
                }
                pixels
            },
        );
        if let Some(coefficients) = coefficients? {
            coefficients.add_to(&mut pixels);
        }
        Ok(join_picture(pixels, alpha))
    }

    /// The picture (`width x height`, 1 or 3 channels) that `decoder` makes of decoded latents:
    /// symbols `q` and means `μ`, as from [`HyperCodec::decode_latents`], at a rate setting.
    fn synthesize_with(&self, decoder: &Synthesis, q: &[i16], means: &[i32], rate: u16, (width, height): (usize, usize), channels: usize) -> Pixels {
        let (ph, pw) = (pixels::round_up(height, HYPER_DOWNSAMPLING), pixels::round_up(width, HYPER_DOWNSAMPLING));
        let unit = f32::from(1u16 << LOG_SCALE_BITS);
        let inverse_gains = self.gain_at(&self.log_inv_gains, rate);
        let plane = ((ph / 16) * (pw / 16)).max(1);
        debug_assert!(q.len() == means.len() && q.len() == inverse_gains.len() * plane, "latent sizes");
        // ŷ = (q + μ) · inverse gain, a channel (plane) at a time.
        let mut values = vec![0f32; q.len()];
        values.par_chunks_mut(plane).zip(q.par_chunks(plane)).zip(means.par_chunks(plane)).zip(&inverse_gains).for_each(|(((values, q), means), &gain)| {
            for ((value, &v), &m) in values.iter_mut().zip(q).zip(means) {
                *value = (f32::from(v) + m as f32 / unit) * gain;
            }
        });
        let y = LatentPlanes { values, channels: self.config.latent, height: ph / 16, width: pw / 16 };
        tiles::synthesize(&y, width, height, channels, |t| decoder.forward(&t.values, t.height, t.width))
    }
}

impl PhotoCodec for HyperCodec {
    fn family(&self) -> &'static super::registry::Family {
        &FAMILY
    }

    fn max_quality(&self) -> u8 {
        HyperCodec::max_quality(self)
    }

    fn default_quality(&self) -> u8 {
        HyperCodec::default_quality(self)
    }

    fn level_info(&self, quality: u8) -> Result<LevelInfo> {
        let rate = self.rate_of(quality)?;
        let model = match super::registry::builtin_hyper_by_id(self.id) {
            Some(_) if self.id == Self::builtin_id() => super::registry::DEFAULT_MODEL,
            Some(builtin) => builtin.name,
            None => FAMILY.name,
        };
        Ok(LevelInfo { model: model.into(), lambda: Some(self.lambda_at(rate)), rate: f64::from(rate) / 256.0 })
    }

    fn decodes(&self, model: ModelId) -> bool {
        model == self.id
    }

    fn prepare_encoder(&self) -> Result<()> {
        self.encoder().map(|_| ())
    }

    fn encode(&self, picture: &DynamicImage, options: &EncodeOptions) -> Result<Vec<u8>> {
        self.encode_at_rate(picture, self.rate_of(options.quality)?, options.quality, options)
    }

    /// Bisects over the rate settings (1/256 of a trained level), not only the whole levels,
    /// with the analysis transform run once: a size target is met more closely, and sooner.
    /// With a refinement, see [`HyperCodec::refine_for_target`].
    fn encode_to_target(&self, picture: &DynamicImage, target: RateTarget, options: &EncodeOptions) -> Result<(Vec<u8>, u8)> {
        let (y, analysed) = self.analysed(picture, options)?;
        let plain = EncodeOptions { refinement: Refinement::steps(0), ..options.clone() };
        let search = |target: RateTarget| {
            let meets = super::family::target_check(self, picture, target);
            super::family::bisect_for_target(0, self.max_rate(), target, |rate| {
                let bytes = self.pack(y.clone(), &analysed, rate, self.quality_of_rate(rate), &plain)?;
                let measured = meets(&bytes)?;
                Ok((bytes, measured))
            })
        };
        let refine_at = |rate: u16| self.pack(y.clone(), &analysed, rate, self.quality_of_rate(rate), options);
        let (bytes, rate) = match search(target) {
            Err(Error::InvalidArgument(missed)) if options.refinement.steps > 0 => {
                // No plain file meets the target: a refined one at the extreme rate may.
                let extreme = if matches!(target, RateTarget::Psnr(_)) { self.max_rate() } else { 0 };
                let refined = refine_at(extreme)?;
                let measured = super::family::target_check(self, picture, target)(&refined)?;
                return if measured.meets {
                    Ok((refined, self.quality_of_rate(extreme)))
                } else {
                    Err(Error::InvalidArgument(format!("{missed}; refined, it gives {}", measured.gives)))
                };
            }
            found => found?,
        };
        if options.refinement.steps == 0 {
            return Ok((bytes, self.quality_of_rate(rate)));
        }
        let (bytes, rate) = self.refine_for_target(picture, target, (bytes, rate), search, refine_at)?;
        Ok((bytes, self.quality_of_rate(rate)))
    }

    fn encode_fraction(&self, picture: &DynamicImage, quality: f64, options: &EncodeOptions) -> Result<Vec<u8>> {
        let rate = self.rate_of_fraction(quality)?;
        self.encode_at_rate(picture, rate, self.quality_of_rate(rate), options)
    }

    fn decode_parsed(&self, file: &ParsedFile, limits: &Limits) -> Result<DynamicImage> {
        check_model(file.model(), self.id)?;
        self.decode_file(file.as_v2()?, limits)
    }

    fn estimated_sizes(&self, picture: &DynamicImage, residual: bool) -> Result<Vec<f64>> {
        let rates = (1..=self.max_quality()).map(|q| self.rate_of(q)).collect::<Result<Vec<_>>>()?;
        self.estimated_sizes_at(picture, &rates, residual)
    }

    fn latents(&self, picture: &DynamicImage) -> Result<Tensor<4>> {
        self.latents_within(picture, &Limits::largest())
    }
}

/// The size `(height, width)` of a file's hyper-latent grid: its picture padded to a multiple
/// of [`HYPER_DOWNSAMPLING`], divided by it.
fn hyper_latent_grid(h: &HeaderV2) -> (usize, usize) {
    (pixels::round_up(h.height as usize, HYPER_DOWNSAMPLING) / HYPER_DOWNSAMPLING, pixels::round_up(h.width as usize, HYPER_DOWNSAMPLING) / HYPER_DOWNSAMPLING)
}

/// The error of a file without its `what` section.
fn missing_section(what: &str) -> Error {
    Error::Format(FormatError::CorruptPayload(format!("no {what} section")))
}

/// `round(y − μ)` from a file's range-coded latent streams (`format::streams`; one stream in
/// files before aec 0.5): each value decoded under the bank table of its log-scale (the
/// integer hyper-synthesis's second half of outputs, `channels` planes), the streams at once.
/// A decode interleaves this with the hyper-synthesis ([`HyperCodec::decode_latents`]); this
/// form times the z and y coding alone (`cargo bench`, `examples/profile_hyper.rs`).
///
/// # Errors
/// [`FormatError::CorruptPayload`] if a stream is not exactly the encoder's words for the
/// values of its channels.
///
/// # Panics
/// If the streams' first channels do not increase from 0 below `channels` (checked when the
/// file is read).
pub fn decode_residuals(streams: &[Stream<'_>], log_scales: &[i32], channels: usize) -> std::result::Result<Vec<i16>, FormatError> {
    let plane = log_scales.len() / channels.max(1);
    let firsts: Vec<usize> = streams.iter().map(|s| s.0).collect();
    let parts = stream_channels(&firsts, channels)
        .into_par_iter()
        .zip(streams)
        .map(|(c, &(_, payload))| decode_stream(payload, &log_scales[c.start * plane..c.end * plane]))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    Ok(parts.concat())
}

/// Decodes one range-coded stream of `y` (the residuals of its channels) under the
/// log-scales of those channels.
///
/// # Errors
/// As [`decode_indexed_from`].
fn decode_stream(payload: &[u8], log_scales: &[i32]) -> std::result::Result<Vec<i16>, FormatError> {
    let index = table_indexer();
    decode_indexed_from(payload, log_scales.iter().map(|&s| index(s)))
}

/// The digest of a file's decoded integers that the format's hyperprior test vectors keep
/// (`NAME.latents.sha256`, see `format-spec/aec-v2.md`): SHA-256 of `ẑ` (i16), then `q` (i16),
/// then `μ` (i32), each little-endian in decoding order, as lowercase hex.
pub fn latents_digest((z, q, means): &(Vec<i16>, Vec<i16>, Vec<i32>)) -> String {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    z.iter().chain(q).for_each(|v| hash.update(v.to_le_bytes()));
    means.iter().for_each(|v| hash.update(v.to_le_bytes()));
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Refuses model settings that would make a network of absurd size, or whose λs are not
/// positive and increasing (a hostile settings file).
fn check_sizes(config: &HyperpriorConfig) -> Result<()> {
    let ok = |n: usize| (1..=1024).contains(&n);
    let lambdas_ok = config.lambdas.iter().all(|l| l.is_finite() && *l > 0.0) && config.lambdas.windows(2).all(|w| w[0] < w[1]);
    if !(ok(config.hidden)
        && ok(config.synthesis_width())
        && ok(config.latent)
        && ok(config.hyper_hidden)
        && ok(config.hyper_latent)
        && (2..=64).contains(&config.levels())
        && lambdas_ok)
    {
        return Err(Error::Model(format!("model settings out of range: {config:?}")));
    }
    Ok(())
}

/// Rounded floats to `i16`, saturating.
fn to_i16(values: Vec<f32>) -> Vec<i16> {
    values.iter().map(|v| v.clamp(f32::from(i16::MIN), f32::from(i16::MAX)) as i16).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tiled_hyper_analysis_is_the_whole_one() {
        let device = Device::flex();
        let config = HyperpriorConfig::new(vec![0.01, 0.1]).with_hidden(8).with_latent(12).with_hyper_hidden(8).with_hyper_latent(6);
        let model = config.init(&device);
        let h_a = HyperAnalysis::from_model(&model.hyper_analysis).unwrap();
        // 136 x 200 positions: three tiles down, four across (and a short last one each way).
        let (h, w) = (136, 200);
        let values: Vec<f32> = (0..12 * h * w).map(|i| ((i * 7919 % 1000) as f32 / 125.0) - 4.0).collect();
        let whole = h_a.forward(&values, h, w);
        let tiled = hyper_analysis_tiled(&h_a, &LatentPlanes { values, channels: 12, height: h, width: w });
        assert_eq!((tiled.channels, tiled.height, tiled.width), (6, 34, 50));
        let largest = whole.iter().zip(&tiled.values).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
        assert!(largest < 1e-4, "tiled h_a differs from whole by {largest}");
    }
}
