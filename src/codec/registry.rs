//! The registry: the model families aec knows (one line each in [`PHOTO_FAMILIES`], by
//! architecture number), the models built into the binary, and how a model is chosen: by
//! name (`default`, `mnist-conv`, ...), by path (files written by `aec train`), or from the
//! model recorded in a file.

use std::path::Path;

use burn::prelude::Device;
use image::DynamicImage;

use super::digits::{DigitCodec, arch_of, architecture_number};
use super::{ARCH_FACTORIZED, Codec, EncodeOptions, Ladder, PhotoCodec};
use crate::error::{Error, Result};
use crate::format::{Limits, ModelId, ParsedFile};
use crate::model::DigitArch;

/// A photographic model family: its architecture number (written into every file its models
/// make; never reused) and how its models are opened.
pub struct Family {
    /// The family's name.
    pub name: &'static str,
    /// Its number in the format specification's registry.
    pub architecture: u32,
    /// What it is, in a few words (`aec info`).
    pub description: &'static str,
    /// What the rate field of its version-2 files means (`aec info`).
    pub rate_meaning: &'static str,
    /// One word for the rate parameter of a level (the column of `aec levels`).
    pub rate_label: &'static str,
    /// Whether a model's settings (the `NAME.json` that `aec train` writes beside the
    /// weights) are this family's.
    pub owns_settings: fn(&serde_json::Value) -> bool,
    /// Opens a model from its files (`NAME.bpk` and the files beside it).
    pub open_files: fn(&Path, Device) -> Result<Box<dyn PhotoCodec>>,
    /// The built-in codec that decodes this family's files of a model (one that
    /// `builtin_decodes`), if the binary has one.
    pub builtin: Option<OpenBuiltin>,
    /// Whether the built-in codec decodes files of a model, known without loading it.
    pub builtin_decodes: fn(ModelId) -> bool,
}

/// Opens the built-in codec that decodes a family's files of a model, on a device.
pub type OpenBuiltin = fn(ModelId, Device) -> Box<dyn PhotoCodec>;

impl std::fmt::Debug for Family {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Family").field("name", &self.name).field("architecture", &self.architecture).finish_non_exhaustive()
    }
}

/// Every photographic family, one line each. The tutorial digit models are not a family
/// of this kind: they have their own codec ([`DigitCodec`]) and architecture numbers 16–20.
pub static PHOTO_FAMILIES: [&Family; 2] = [&super::factorized::FAMILY, &super::hyper::FAMILY];

/// The family of an architecture number, if aec knows it.
pub fn family_of(architecture: u32) -> Option<&'static Family> {
    PHOTO_FAMILIES.iter().copied().find(|f| f.architecture == architecture)
}

/// A built-in photographic model: its name, the λ it was trained for, and its files.
pub struct BuiltinPhoto {
    /// Name, as `aec info` shows it.
    pub name: &'static str,
    /// Rate–distortion trade-off it was trained for.
    pub lambda: f64,
    /// Name of its files in `models/` (the test of its identity reads them).
    pub file: &'static str,
    /// Whether the binary has its encoder (build.rs's `DECODE_ONLY`: the version-1 models
    /// only decode the files they made).
    pub encodes: bool,
    /// The weights as a weight pack (build.rs, `embedded`).
    weights: &'static [u8],
    /// The tables, compressed (build.rs, `embedded::pack_bytes`).
    tables: &'static [u8],
    settings: &'static str,
    /// First 8 bytes of the SHA-256 of weights and tables, computed by build.rs.
    hash: u64,
}

impl std::fmt::Debug for BuiltinPhoto {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BuiltinPhoto").field("name", &self.name).field("lambda", &self.lambda).finish_non_exhaustive()
    }
}

impl BuiltinPhoto {
    /// The model's identity as written into files (a hash of its files, computed when aec was
    /// built; no weights loaded).
    pub fn id(&self) -> ModelId {
        ModelId { architecture: ARCH_FACTORIZED, weights_hash: self.hash }
    }

    /// Loads the model on a burn device.
    ///
    /// # Errors
    /// [`Error::Model`] if the embedded files are inconsistent (a build problem).
    pub fn load(&self, device: Device) -> Result<Codec> {
        let tables = super::embedded::unpack_bytes(self.tables).map_err(Error::Model)?;
        Codec::from_static(self.settings, self.weights, &tables, self.id(), (!self.encodes).then_some((self.name, self.file)), device)
    }
}

include!(concat!(env!("OUT_DIR"), "/model_hashes.rs"));

/// Whether two byte strings are equal (in a `const` context).
const fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// The hash that build.rs computed for built-in model `key` (`NAME` or `mnist/NAME`); a model
/// that build.rs did not hash stops the build.
const fn built_hash(key: &str) -> u64 {
    let mut i = 0;
    while i < MODEL_HASHES.len() {
        if same_bytes(MODEL_HASHES[i].0.as_bytes(), key.as_bytes()) {
            return MODEL_HASHES[i].1;
        }
        i += 1;
    }
    panic!("a built-in model that build.rs did not hash")
}

macro_rules! builtin_photo {
    ($name:literal, $lambda:literal, $file:literal) => {
        BuiltinPhoto {
            name: $name,
            lambda: $lambda,
            file: $file,
            encodes: !decode_only($file),
            weights: include_bytes!(concat!(env!("OUT_DIR"), "/packed/", $file, ".awp")),
            tables: include_bytes!(concat!(env!("OUT_DIR"), "/packed/", $file, ".cdf.zst")),
            settings: include_str!(concat!("../../models/", $file, ".json")),
            hash: built_hash($file),
        }
    };
}

/// The photographic models embedded in the binary, the default first (trained by
/// `aec train`, see `models/README.md`).
pub static BUILTIN_PHOTO: [BuiltinPhoto; 4] = [
    builtin_photo!("lambda-0.0067", 0.0067, "default"),
    builtin_photo!("lambda-0.0018", 0.0018, "lambda-0.0018"),
    builtin_photo!("lambda-0.0483", 0.0483, "lambda-0.0483"),
    builtin_photo!("wide-0.08", 0.08, "wide-0.08"),
];

/// The built-in quality scale: quality level `q` uses the level `PHOTO_RUNGS[q - 1].1` (a
/// quantization step, see [`super::QUALITY_STEPS`]) of the built-in model named
/// `PHOTO_RUNGS[q - 1].0`. Chosen from the eval-set rate–distortion curves of every model
/// and step (`models/README.md`), so that the levels climb in both size and fidelity.
pub const PHOTO_RUNGS: [(&str, u8); 18] = [
    ("lambda-0.0018", 1),
    ("lambda-0.0018", 2),
    ("lambda-0.0018", 3),
    ("lambda-0.0018", 4),
    ("lambda-0.0067", 1),
    ("lambda-0.0067", 2),
    ("lambda-0.0067", 3),
    ("lambda-0.0067", 4),
    ("lambda-0.0067", 5),
    ("lambda-0.0483", 1),
    ("lambda-0.0483", 2),
    ("wide-0.08", 1),
    ("wide-0.08", 2),
    ("wide-0.08", 3),
    ("wide-0.08", 4),
    ("wide-0.08", 5),
    ("wide-0.08", 6),
    ("wide-0.08", 7),
];

/// Quality level of the version-1 scale (`--model factorized`) used when none is given.
pub const PHOTO_DEFAULT_QUALITY: u8 = 8;

/// The version-1 scale's default factorized model (`lambda-0.0067`; the default model of aec
/// 0.1 and 0.2). The default model now is the hyperprior, [`default_photo_codec`].
pub fn default_photo() -> &'static BuiltinPhoto {
    &BUILTIN_PHOTO[0]
}

/// A built-in hyperprior as embedded: its weight pack without the float hyper-synthesis
/// (build.rs; a decode-only model's without its encoder either), its tables, integer
/// hyper-synthesis and settings, and the identity of its trained files.
pub struct BuiltinHyper {
    /// Its name (`aec info`), the name of its files in `models/`.
    pub name: &'static str,
    /// Whether the binary has its encoder: a former default only decodes the files it made
    /// (build.rs's `DECODE_ONLY`).
    pub encodes: bool,
    pub(crate) weights: &'static [u8],
    /// The `z` tables and the integer hyper-synthesis, compressed (build.rs,
    /// `embedded::pack_bytes`).
    pub(crate) tables: &'static [u8],
    pub(crate) hyper_synthesis: &'static [u8],
    pub(crate) settings: &'static [u8],
    /// First 8 bytes of the SHA-256 of weights, tables and integer hyper-synthesis.
    hash: u64,
}

impl std::fmt::Debug for BuiltinHyper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BuiltinHyper").field("name", &self.name).field("encodes", &self.encodes).finish_non_exhaustive()
    }
}

impl BuiltinHyper {
    /// The model's identity as written into files.
    pub fn id(&self) -> ModelId {
        ModelId { architecture: super::hyper::ARCH_HYPERPRIOR, weights_hash: self.hash }
    }
}

/// The error of encoding with a built-in model that only decodes (`name`, whose files in
/// `models/` are `file`): the way out is the default model, or the model's own files.
pub(crate) fn decode_only_error(name: &str, file: &str) -> Error {
    Error::InvalidArgument(format!(
        "the built-in model {name} only decodes the files it made (this aec has its decoder, not its encoder); compress with the default model, or give the model's files (--model models/{file}.bpk from aec's source)"
    ))
}

/// Whether build.rs left the encoder of built-in model `key` out (its `DECODE_ONLY`).
const fn decode_only(key: &str) -> bool {
    let mut i = 0;
    while i < DECODE_ONLY_MODELS.len() {
        if same_bytes(DECODE_ONLY_MODELS[i].as_bytes(), key.as_bytes()) {
            return true;
        }
        i += 1;
    }
    false
}

macro_rules! builtin_hyper {
    ($file:literal) => {
        BuiltinHyper {
            name: $file,
            encodes: !decode_only($file),
            weights: include_bytes!(concat!(env!("OUT_DIR"), "/packed/", $file, ".awp")),
            tables: include_bytes!(concat!(env!("OUT_DIR"), "/packed/", $file, ".cdf.zst")),
            hyper_synthesis: include_bytes!(concat!(env!("OUT_DIR"), "/packed/", $file, ".hsi.zst")),
            settings: include_bytes!(concat!("../../models/", $file, ".json")),
            hash: built_hash($file),
        }
    };
}

/// The built-in hyperpriors, the default model first (trained by `aec train --arch hyper`,
/// see `models/README.md`): `hyper-light`, then `hyper-ext`, the default of aec 0.3 to 0.7,
/// which only decodes the files it made.
pub static BUILTIN_HYPER: [BuiltinHyper; 2] = [builtin_hyper!("hyper-light"), builtin_hyper!("hyper-ext")];

/// The default model: the first built-in hyperprior.
pub fn default_hyper() -> &'static BuiltinHyper {
    &BUILTIN_HYPER[0]
}

/// The built-in hyperprior that made files of this identity, if any.
pub fn builtin_hyper_by_id(id: ModelId) -> Option<&'static BuiltinHyper> {
    BUILTIN_HYPER.iter().find(|b| b.id() == id)
}

/// The built-in photographic model that made files of this identity, if any.
pub fn builtin_photo_by_id(id: ModelId) -> Option<&'static BuiltinPhoto> {
    BUILTIN_PHOTO.iter().find(|b| b.id() == id)
}

/// A built-in MNIST model: its name, weights and settings.
struct BuiltinDigits {
    name: &'static str,
    arch: DigitArch,
    /// The weights as a weight pack (build.rs, `embedded`).
    weights: &'static [u8],
    settings: &'static [u8],
    /// First 8 bytes of the SHA-256 of weights and settings, computed by build.rs.
    hash: u64,
}

impl BuiltinDigits {
    /// The model's identity as written into files (a hash of its files, computed when aec was
    /// built).
    fn id(&self) -> ModelId {
        ModelId { architecture: architecture_number(self.arch), weights_hash: self.hash }
    }
}

macro_rules! builtin_digits {
    ($name:literal, $arch:expr, $file:literal) => {
        BuiltinDigits {
            name: $name,
            arch: $arch,
            weights: include_bytes!(concat!(env!("OUT_DIR"), "/packed/mnist/", $file, ".awp")),
            settings: include_bytes!(concat!("../../models/mnist/", $file, ".json")),
            hash: built_hash(concat!("mnist/", $file)),
        }
    };
}

/// The MNIST models embedded in the binary (trained by `aec train --arch ...`, see
/// `models/README.md`).
static BUILTIN_DIGITS: [BuiltinDigits; 6] = [
    builtin_digits!("mnist-dense", DigitArch::Dense, "dense"),
    builtin_digits!("mnist-deep", DigitArch::Deep, "deep"),
    builtin_digits!("mnist-conv", DigitArch::Conv, "conv"),
    builtin_digits!("mnist-denoise", DigitArch::Denoise, "denoise"),
    builtin_digits!("mnist-denoise-0.25", DigitArch::Denoise, "denoise-0.25"),
    builtin_digits!("mnist-vae", DigitArch::Vae, "vae"),
];

/// The built-in colourisation network (`aec train --arch colorize`, see `models/README.md`),
/// on the flex CPU backend.
///
/// # Errors
/// [`Error::Model`] for a build problem.
pub fn builtin_colorizer() -> Result<super::colorize::Colorizer> {
    builtin_colorizer_on(Device::flex())
}

/// [`builtin_colorizer`] on the given device.
///
/// # Errors
/// [`Error::Model`] for a build problem.
pub fn builtin_colorizer_on(device: Device) -> Result<super::colorize::Colorizer> {
    super::colorize::Colorizer::from_weights(&super::Weights::Builtin(include_bytes!(concat!(env!("OUT_DIR"), "/packed/colorize.awp"))), device)
}

/// Name of the default photographic model: the built-in hyperprior (codec v2).
pub const DEFAULT_MODEL: &str = "default";
/// Name of the version-1 quality scale over the built-in factorized models (the default
/// until aec 0.3; its files decode whatever `--model` says).
pub const FACTORIZED_SCALE: &str = "factorized";

/// Names of every built-in model, the photographic default first.
pub fn builtin_names() -> Vec<&'static str> {
    [DEFAULT_MODEL, FACTORIZED_SCALE]
        .into_iter()
        .chain(BUILTIN_HYPER.iter().map(|b| b.name))
        .chain(BUILTIN_PHOTO.iter().map(|b| b.name))
        .chain(BUILTIN_DIGITS.iter().map(|b| b.name))
        .collect()
}

/// The default photographic codec (the built-in hyperprior) on the given device.
///
/// # Errors
/// [`Error::Model`] for a build problem.
pub fn default_photo_codec(device: Device) -> Result<Box<dyn PhotoCodec>> {
    Ok(Box::new(super::hyper::HyperCodec::builtin_on(device)?))
}

/// A built-in digit model by name (`mnist-dense`, `mnist-deep`, `mnist-conv`,
/// `mnist-denoise`, `mnist-denoise-0.25`, `mnist-vae`), on the flex backend.
///
/// # Errors
/// [`Error::InvalidArgument`] for an unknown name; [`Error::Model`] for a build problem.
pub fn builtin_digits(name: &str) -> Result<DigitCodec> {
    builtin_digits_on(name, Device::flex())
}

/// [`builtin_digits`] on the given device.
///
/// # Errors
/// As [`builtin_digits`].
pub fn builtin_digits_on(name: &str, device: Device) -> Result<DigitCodec> {
    let builtin = BUILTIN_DIGITS
        .iter()
        .find(|b| b.name == name)
        .ok_or_else(|| Error::InvalidArgument(format!("no built-in model {name:?} (built in: {})", builtin_names().join(", "))))?;
    DigitCodec::from_parts(&super::Weights::Builtin(builtin.weights), builtin.settings, builtin.id(), device)
}

/// Any model aec codes with: a photographic codec of one of the registered families, or a
/// tutorial autoencoder for gray digits.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)] // One or two per process; boxing would buy nothing.
pub enum AnyCodec {
    /// A photographic codec (the built-in quality scale, or one trained model).
    Photo(Box<dyn PhotoCodec>),
    /// A tutorial autoencoder for gray digits.
    Digits(DigitCodec),
}

impl AnyCodec {
    /// A built-in model by name (`default`: the built-in hyperprior, also by its name
    /// `hyper-light`; `hyper-ext`, the former default, which only decodes; `factorized`: the
    /// version-1 quality scale over the built-in factorized models; `lambda-0.0067`,
    /// `lambda-0.0018`, `lambda-0.0483`, `wide-0.08`: one of those alone, with that model's own
    /// levels, which only decode; the MNIST models), or else the model files at that path
    /// (`NAME.bpk` with its `NAME.json`, and the family's other files).
    ///
    /// On the flex CPU backend; [`AnyCodec::open_on`] takes the device.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when it is neither a built-in name nor a file; loading errors.
    pub fn open(name_or_path: &str) -> Result<Self> {
        Self::open_on(name_or_path, Device::flex())
    }

    /// [`AnyCodec::open`] on the given device.
    ///
    /// # Errors
    /// As [`AnyCodec::open`].
    pub fn open_on(name_or_path: &str, device: Device) -> Result<Self> {
        if name_or_path == DEFAULT_MODEL {
            return Ok(Self::Photo(default_photo_codec(device)?));
        }
        if name_or_path == FACTORIZED_SCALE {
            return Ok(Self::Photo(Box::new(Ladder::builtin_on(device))));
        }
        if BUILTIN_DIGITS.iter().any(|b| b.name == name_or_path) && !Path::new(name_or_path).exists() {
            return Ok(Self::Digits(builtin_digits_on(name_or_path, device)?));
        }
        if let Some(builtin) = BUILTIN_HYPER.iter().find(|b| b.name == name_or_path).filter(|_| !Path::new(name_or_path).exists()) {
            return Ok(Self::Photo(Box::new(super::hyper::HyperCodec::of_builtin(builtin, device)?)));
        }
        if let Some(builtin) = BUILTIN_PHOTO.iter().find(|b| b.name == name_or_path).filter(|_| !Path::new(name_or_path).exists()) {
            return Ok(Self::Photo(Box::new(Ladder::single(builtin.load(device)?))));
        }
        let path = Path::new(name_or_path);
        if !path.is_file() {
            return Err(Error::InvalidArgument(format!(
                "--model {name_or_path}: no such file and no built-in model of that name (built in: {})",
                builtin_names().join(", ")
            )));
        }
        Self::from_files_on(path, device)
    }

    /// Model files written by `aec train`: a digit model if its settings name a tutorial
    /// architecture, else a model of the photographic family whose settings they are.
    ///
    /// On the flex CPU backend; [`AnyCodec::from_files_on`] takes the device.
    ///
    /// # Errors
    /// Loading errors; [`Error::Model`] for settings of no known family.
    pub fn from_files(weights: &Path) -> Result<Self> {
        Self::from_files_on(weights, Device::flex())
    }

    /// [`AnyCodec::from_files`] on the given device.
    ///
    /// # Errors
    /// As [`AnyCodec::from_files`].
    pub fn from_files_on(weights: &Path, device: Device) -> Result<Self> {
        let path = weights.with_extension("json");
        let text = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
        let settings = serde_json::from_slice::<serde_json::Value>(&text).map_err(|e| Error::Model(format!("{}: {e}", path.display())))?;
        if settings.get("arch").is_some() {
            return Ok(Self::Digits(DigitCodec::from_files(weights, device)?));
        }
        match PHOTO_FAMILIES.iter().find(|f| (f.owns_settings)(&settings)) {
            Some(family) => Ok(Self::Photo((family.open_files)(weights, device)?)),
            None => Err(Error::Model(format!("{}: settings of no model family this aec knows", path.display()))),
        }
    }

    /// The built-in model that made a file, judged by the model identity in its header.
    ///
    /// On the flex CPU backend; [`AnyCodec::for_parsed_on`] takes a file already parsed and
    /// the device.
    ///
    /// # Errors
    /// [`Error::Format`] if the file cannot be parsed; [`Error::UnknownModel`] if no
    /// built-in model made it.
    pub fn for_file(bytes: &[u8], limits: &Limits) -> Result<Self> {
        Self::for_parsed_on(&ParsedFile::parse(bytes, limits)?, Device::flex())
    }

    /// [`AnyCodec::for_parsed_on`] on the flex CPU backend.
    ///
    /// # Errors
    /// As [`AnyCodec::for_parsed_on`].
    pub fn for_parsed(file: &ParsedFile) -> Result<Self> {
        Self::for_parsed_on(file, Device::flex())
    }

    /// The built-in model that made a parsed file: the built-in digit model with that
    /// identity, or else the built-in codec of the file's family if it decodes that model.
    ///
    /// # Errors
    /// [`Error::UnknownModel`] for a family without a built-in model, or an unknown one.
    pub fn for_parsed_on(file: &ParsedFile, device: Device) -> Result<Self> {
        let model = file.model();
        let unknown = || Error::UnknownModel { made_by: model, expected: None };
        if let Some(arch) = arch_of(model.architecture) {
            let builtin = BUILTIN_DIGITS.iter().find(|b| b.arch == arch && b.id() == model).ok_or_else(unknown)?;
            return Ok(Self::Digits(builtin_digits_on(builtin.name, device)?));
        }
        let family = family_of(model.architecture).filter(|f| (f.builtin_decodes)(model)).ok_or_else(unknown)?;
        let builtin = family.builtin.ok_or_else(unknown)?;
        Ok(Self::Photo(builtin(model, device)))
    }

    /// Compresses a picture at `options.quality` of the model's scale.
    ///
    /// # Errors
    /// As [`PhotoCodec::encode`] and [`DigitCodec::encode`].
    pub fn encode(&self, picture: &DynamicImage, options: &EncodeOptions) -> Result<Vec<u8>> {
        match self {
            Self::Photo(codec) => codec.encode(picture, options),
            Self::Digits(codec) => codec.encode(picture, options.quality),
        }
    }

    /// Decodes `.aec` bytes.
    ///
    /// # Errors
    /// As [`AnyCodec::decode_parsed`], and the container's errors.
    pub fn decode(&self, bytes: &[u8], limits: &Limits) -> Result<DynamicImage> {
        self.decode_parsed(&ParsedFile::parse(bytes, limits)?, limits)
    }

    /// Decodes a parsed file.
    ///
    /// # Errors
    /// As [`PhotoCodec::decode_parsed`] and [`DigitCodec::decode_parsed`].
    pub fn decode_parsed(&self, file: &ParsedFile, limits: &Limits) -> Result<DynamicImage> {
        match self {
            Self::Photo(codec) => codec.decode_parsed(file, limits),
            Self::Digits(codec) => codec.decode_parsed(file),
        }
    }

    /// The photographic codec, if this is one.
    pub fn photo(&self) -> Option<&dyn PhotoCodec> {
        match self {
            Self::Photo(codec) => Some(codec.as_ref()),
            Self::Digits(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::model_id;

    #[test]
    fn identities_hashed_at_build_time_are_the_hashes_of_the_trained_files() {
        // The trained files are models/NAME.bpk and models/mnist/NAME.bpk (built-in "mnist-NAME").
        // The tables and integer hyper-syntheses are embedded compressed: they must come back
        // as the files.
        let original = |file: &str| std::fs::read(format!("models/{file}.bpk")).unwrap();
        let embedded = |file: &str, extension: &str, packed: &[u8]| {
            let bytes = super::super::embedded::unpack_bytes(packed).expect("unpacks");
            assert_eq!(bytes, std::fs::read(format!("models/{file}.{extension}")).unwrap(), "{file}.{extension}");
            bytes
        };
        for photo in &BUILTIN_PHOTO {
            let tables = embedded(photo.file, "cdf", photo.tables);
            assert_eq!(photo.id(), model_id(ARCH_FACTORIZED, &[&original(photo.file), &tables]), "{}", photo.name);
        }
        for hyper in &BUILTIN_HYPER {
            let (tables, hsi) = (embedded(hyper.name, "cdf", hyper.tables), embedded(hyper.name, "hsi", hyper.hyper_synthesis));
            assert_eq!(hyper.id(), model_id(super::super::hyper::ARCH_HYPERPRIOR, &[&original(hyper.name), &tables, &hsi]), "{}", hyper.name);
        }
        for digits in &BUILTIN_DIGITS {
            let file = digits.name.replacen("mnist-", "mnist/", 1);
            assert_eq!(digits.id(), model_id(architecture_number(digits.arch), &[&original(&file), digits.settings]), "{}", digits.name);
        }
    }
}
