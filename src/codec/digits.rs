//! The tutorial autoencoders as codecs for gray digits: picture -> code of the network ->
//! integers (a uniform quantization step per quality level) -> zstd -> `.aec` container.
//!
//! The dense models take 28x28 digits only; the convolutional ones take any size, padded to a
//! multiple of 4 by edge replication and cropped after decoding. Colour pictures are converted
//! to gray (the networks see one channel) and transparency is dropped.

use std::path::Path;

use burn::config::Config;
use burn::prelude::*;
use image::{DynamicImage, GrayImage};

use super::latent_coding;
use super::pixels::{Pixels, gray_from_padded_plane, round_up, to_padded_planes};
use crate::error::{Error, Result};
use crate::format::{AecFile, CoderId, ColorModel, FormatError, Header, LatentShape, Limits, ModelId, ParsedFile};
use crate::model::digits::{CONV_DOWNSAMPLING, DIGIT_SIDE};
use crate::model::{DigitArch, DigitNet};

/// Quantization steps (units of 1/256) of quality levels 1, 2, ... of the digit codecs.
pub const DIGIT_QUALITY_STEPS: [u16; 7] = [256, 128, 64, 32, 16, 8, 4];
/// Quality level of the digit codecs when none is given.
pub const DIGIT_DEFAULT_QUALITY: u8 = 4;

/// Architecture number of a digit model in the container's registry (never reused).
pub fn architecture_number(arch: DigitArch) -> u32 {
    match arch {
        DigitArch::Dense => 16,
        DigitArch::Deep => 17,
        DigitArch::Conv => 18,
        DigitArch::Denoise => 19,
        DigitArch::Vae => 20,
    }
}

/// The digit architecture of a registry number, if it is one.
pub fn arch_of(architecture: u32) -> Option<DigitArch> {
    DigitArch::ALL.into_iter().find(|&a| architecture_number(a) == architecture)
}

/// A trained digit autoencoder ready to encode, decode and denoise.
pub struct DigitCodec {
    net: DigitNet,
    settings: crate::model::DigitModelConfig,
    id: ModelId,
    device: Device,
}

impl std::fmt::Debug for DigitCodec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DigitCodec").field("arch", &self.settings.arch).field("id", &self.id).finish_non_exhaustive()
    }
}

impl DigitCodec {
    /// A model written by `aec train --arch ...`: `NAME.bpk` with `NAME.json` beside it.
    ///
    /// # Errors
    /// [`Error::Io`] or [`Error::Model`].
    pub fn from_files(weights: &Path, device: Device) -> Result<Self> {
        let read = |p: &Path| std::fs::read(p).map_err(|e| Error::io(p, e));
        let bytes = read(weights)?;
        let settings = read(&weights.with_extension("json"))?;
        Self::from_bytes(&bytes, &settings, device)
    }

    /// A model from the bytes of its weights (burnpack) and settings (JSON).
    ///
    /// # Errors
    /// [`Error::Model`] if they do not fit together.
    pub fn from_bytes(weights: &[u8], settings: &[u8], device: Device) -> Result<Self> {
        let config = crate::model::DigitModelConfig::load_binary(settings).map_err(|e| Error::Model(format!("digit model settings: {e}")))?;
        let id = super::model_id(architecture_number(config.arch), &[weights, settings]);
        Self::from_parts(&super::Weights::File(weights.to_vec()), settings, id, device)
    }

    /// A model from its weights and settings, with a known identity (the built-in models:
    /// their embedded weights are a packed copy of the files the identity hashes).
    pub(crate) fn from_parts(weights: &super::Weights, settings: &[u8], id: ModelId, device: Device) -> Result<Self> {
        let config = crate::model::DigitModelConfig::load_binary(settings).map_err(|e| Error::Model(format!("digit model settings: {e}")))?;
        let mut net = config.arch.init(&device);
        weights.load_into(&mut net, super::every_tensor)?;
        Ok(Self { net, settings: config, id, device })
    }

    /// Which tutorial network this is.
    pub fn arch(&self) -> DigitArch {
        self.settings.arch
    }

    /// The settings it was trained with that inference uses (architecture, noise level).
    pub fn settings(&self) -> &crate::model::DigitModelConfig {
        &self.settings
    }

    /// The model's identity as written into files.
    pub fn id(&self) -> ModelId {
        self.id
    }

    /// The network and the device it runs on (for the generative uses of [`super::vae`]).
    pub(crate) fn network(&self) -> (&DigitNet, &Device) {
        (&self.net, &self.device)
    }

    /// Highest quality level.
    pub fn max_quality(&self) -> u8 {
        DIGIT_QUALITY_STEPS.len() as u8
    }

    /// Runs the network on a batch of `count` gray pictures of `height x width` pixels in
    /// `0..1` (the denoiser removes noise, the others reconstruct), without quantization.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] if the size does not suit the network.
    pub fn reconstruct(&self, pixels: &[f32], count: usize, height: usize, width: usize) -> Result<Vec<f32>> {
        let code = self.unquantized_codes(pixels, count, height, width)?;
        Ok(self.decode_tensor(code))
    }

    /// Quantized codes of a batch of `count` gray pictures (`height` and `width` already
    /// suited to the network): one `Vec` per picture, plus the code's shape.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a bad quality level or size.
    pub fn quantized_codes(&self, pixels: &[f32], count: usize, height: usize, width: usize, quality: u8) -> Result<(Vec<Vec<i16>>, LatentShape)> {
        let step = step_of(quality)?;
        Ok(split_codes(self.unquantized_codes(pixels, count, height, width)?, step))
    }

    /// Both [`Self::reconstruct`] and [`Self::quantized_codes`] of a batch, from one run of
    /// the encoder.
    ///
    /// # Errors
    /// As [`Self::quantized_codes`].
    pub fn reconstruct_and_quantize(
        &self,
        pixels: &[f32],
        count: usize,
        height: usize,
        width: usize,
        quality: u8,
    ) -> Result<(Vec<f32>, Vec<Vec<i16>>, LatentShape)> {
        let step = step_of(quality)?;
        let code = self.unquantized_codes(pixels, count, height, width)?;
        let (codes, shape) = split_codes(code.clone(), step);
        Ok((self.decode_tensor(code), codes, shape))
    }

    /// Pictures in `0..1` rebuilt from a batch of quantized codes of one shape.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] if a code does not have the shape's length.
    pub fn decode_codes(&self, codes: &[Vec<i16>], shape: LatentShape, step: f32) -> Result<Vec<f32>> {
        if codes.iter().any(|c| c.len() as u64 != shape.len()) {
            return Err(Error::InvalidArgument(format!("codes do not all have the {} values of {shape:?}", shape.len())));
        }
        let values: Vec<f32> = codes.iter().flatten().map(|&v| f32::from(v) * step).collect();
        let dims = [codes.len(), usize::from(shape.channels), usize::from(shape.height), usize::from(shape.width)];
        Ok(self.decode_tensor(Tensor::<4>::from_data(TensorData::new(values, dims), &self.device)))
    }

    /// The `.aec` file of one quantized code.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a bad quality level; container errors (sizes beyond the
    /// format).
    pub fn pack(&self, code: &[i16], shape: LatentShape, width: usize, height: usize, quality: u8) -> Result<Vec<u8>> {
        let quant_step = quality_step(quality)?;
        let payload = latent_coding::encode_zstd(code);
        let header = Header {
            width: width as u32,
            height: height as u32,
            color: ColorModel::Gray,
            bit_depth: 8,
            coder: CoderId::Zstd,
            quality,
            model: self.id,
            latent: shape,
            quant_step,
            latent_len: 0,
            alpha_len: 0,
        };
        Ok(AecFile { header, latents: &payload, alpha: &[] }.to_bytes()?)
    }

    /// Compresses a picture (converted to gray) into `.aec` bytes.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a bad quality level or a size the network cannot take.
    pub fn encode(&self, picture: &DynamicImage, quality: u8) -> Result<Vec<u8>> {
        let gray = gray_pixels(picture);
        let (planes, ph, pw) = self.padded(&gray)?;
        let (codes, shape) = self.quantized_codes(&planes, 1, ph, pw, quality)?;
        self.pack(&codes[0], shape, gray.width, gray.height, quality)
    }

    /// Decodes `.aec` bytes made by this model into a gray picture.
    ///
    /// # Errors
    /// [`Error::Format`] for malformed data, [`Error::UnknownModel`] for another model's file.
    pub fn decode(&self, bytes: &[u8], limits: &Limits) -> Result<DynamicImage> {
        self.decode_parsed(&ParsedFile::parse(bytes, limits)?)
    }

    /// Decodes a parsed file made by this model (digit files are container version 1).
    ///
    /// # Errors
    /// As [`DigitCodec::decode`].
    pub fn decode_parsed(&self, file: &ParsedFile) -> Result<DynamicImage> {
        super::check_model(file.model(), self.id)?;
        let file = file.as_v1()?;
        let h = file.header;
        let invalid = |field, value: u64| Error::Format(FormatError::InvalidField { field, value });
        if quality_step(h.quality).map_err(|_| invalid("quality", h.quality.into()))? != h.quant_step {
            return Err(invalid("quantization step", h.quant_step.into()));
        }
        let step = f32::from(h.quant_step) / 256.0;
        if h.coder != CoderId::Zstd {
            return Err(invalid("coder of a digit file", h.coder as u64));
        }
        if h.color != ColorModel::Gray {
            return Err(invalid("colour model of a digit file", h.color as u64));
        }
        let (width, height) = (h.width as usize, h.height as usize);
        let (ph, pw) = self.padded_size(height, width).map_err(|_| {
            Error::Format(FormatError::Mismatch {
                what: "the picture size",
                found: format!("{width}x{height}"),
                expected: "a size this digit model takes".into(),
            })
        })?;
        let expected = self.code_shape(ph, pw);
        if h.latent != expected {
            return Err(Error::Format(crate::format::FormatError::Mismatch {
                what: "the code shape",
                found: h.latent.to_string(),
                expected: expected.to_string(),
            }));
        }
        let code = latent_coding::decode_zstd(file.latents, expected.len() as usize)?;
        let planes = self.decode_codes(&[code], expected, step)?;
        Ok(gray_picture(&planes, pw, width, height))
    }

    /// Removes noise from a gray picture (meant for the `denoise` model; any model works, as a
    /// plain reconstruction). Returns the gray picture the network outputs, unquantized.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a size the network cannot take.
    pub fn denoise(&self, picture: &DynamicImage) -> Result<DynamicImage> {
        let gray = gray_pixels(picture);
        let (planes, ph, pw) = self.padded(&gray)?;
        let out = self.reconstruct(&planes, 1, ph, pw)?;
        Ok(gray_picture(&out, pw, gray.width, gray.height))
    }

    /// The encoder's (unquantized) code `[count, C, H, W]` of a batch of `count` gray pictures
    /// in `0..1` of a size the network takes.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a size the network cannot take.
    pub fn unquantized_codes(&self, pixels: &[f32], count: usize, height: usize, width: usize) -> Result<Tensor<4>> {
        self.check_size(height, width)?;
        if pixels.len() != count * height * width {
            return Err(Error::InvalidArgument(format!("{} pixels given for {count} pictures of {width}x{height}", pixels.len())));
        }
        Ok(self.net.encode(Tensor::<4>::from_data(TensorData::new(pixels.to_vec(), [count, 1, height, width]), &self.device)))
    }

    /// The encoder's (unquantized) code `[1, C, H, W]` of a picture (made gray, padded as for
    /// compression).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a size the network cannot take.
    pub fn code_of(&self, picture: &DynamicImage) -> Result<Tensor<4>> {
        let (planes, ph, pw) = self.padded(&gray_pixels(picture))?;
        self.unquantized_codes(&planes, 1, ph, pw)
    }

    /// Pixels in `0..1` decoded from a batch of (dequantized) codes.
    fn decode_tensor(&self, code: Tensor<4>) -> Vec<f32> {
        self.net.decode(code).into_data().try_to_vec::<f32>().expect("f32 tensor")
    }

    /// The size the network is run at for a `height x width` picture.
    fn padded_size(&self, height: usize, width: usize) -> Result<(usize, usize)> {
        let limits = Limits::default();
        if width == 0
            || height == 0
            || width as u64 * height as u64 > limits.max_pixels
            || width > limits.max_dimension as usize
            || height > limits.max_dimension as usize
        {
            return Err(Error::InvalidArgument(format!("cannot encode a {width}x{height} picture")));
        }
        if self.arch().is_convolutional() {
            let (ph, pw) = (round_up(height, CONV_DOWNSAMPLING), round_up(width, CONV_DOWNSAMPLING));
            // Never write a file that a decoder with the default limits refuses.
            let values = self.code_shape(ph, pw).len();
            if values > limits.max_latent_values {
                return Err(Error::InvalidArgument(format!(
                    "a {width}x{height} picture gives {values} code values, over the {} a decoder accepts by default",
                    limits.max_latent_values
                )));
            }
            Ok((ph, pw))
        } else if (width, height) == (DIGIT_SIDE, DIGIT_SIDE) {
            Ok((height, width))
        } else {
            Err(Error::InvalidArgument(format!(
                "the mnist {} model takes 28x28 digits, not {width}x{height} (the convolutional models take any size)",
                self.arch().name()
            )))
        }
    }

    fn check_size(&self, height: usize, width: usize) -> Result<()> {
        match self.padded_size(height, width)? {
            (ph, pw) if (ph, pw) == (height, width) => Ok(()),
            _ => Err(Error::InvalidArgument(format!("{width}x{height} is not a multiple of {CONV_DOWNSAMPLING}"))),
        }
    }

    fn code_shape(&self, ph: usize, pw: usize) -> LatentShape {
        if self.arch().is_convolutional() {
            LatentShape { channels: 32, height: (ph / CONV_DOWNSAMPLING) as u16, width: (pw / CONV_DOWNSAMPLING) as u16 }
        } else {
            LatentShape { channels: self.arch().code_channels() as u16, height: 1, width: 1 }
        }
    }

    /// One padded plane in `0..1` of a gray picture.
    fn padded(&self, gray: &Pixels) -> Result<(Vec<f32>, usize, usize)> {
        let (ph, pw) = self.padded_size(gray.height, gray.width)?;
        let (planes, _, _) = to_padded_planes(gray, if self.arch().is_convolutional() { CONV_DOWNSAMPLING } else { 1 });
        Ok((planes[..ph * pw].to_vec(), ph, pw))
    }
}

/// The quantization step of a digit quality level, in units of 1/256 (as the header stores it).
///
/// # Errors
/// [`Error::InvalidArgument`] for a level outside 1..=7.
pub fn quality_step(quality: u8) -> Result<u16> {
    usize::from(quality)
        .checked_sub(1)
        .and_then(|i| DIGIT_QUALITY_STEPS.get(i))
        .copied()
        .ok_or_else(|| Error::InvalidArgument(format!("quality must be 1..={}, not {quality}", DIGIT_QUALITY_STEPS.len())))
}

/// The quantization step of a digit quality level.
fn step_of(quality: u8) -> Result<f32> {
    quality_step(quality).map(|units| f32::from(units) / 256.0)
}

/// One `Vec` of quantized values per picture of a batch of codes, and the code's shape.
fn split_codes(code: Tensor<4>, step: f32) -> (Vec<Vec<i16>>, LatentShape) {
    let [_, c, h, w] = code.dims();
    let values = super::quantize(code, step);
    (values.chunks_exact(c * h * w).map(<[i16]>::to_vec).collect(), LatentShape { channels: c as u16, height: h as u16, width: w as u16 })
}

/// The gray samples of a picture (colour converted, alpha dropped).
fn gray_pixels(picture: &DynamicImage) -> Pixels {
    Pixels { width: picture.width() as usize, height: picture.height() as usize, channels: 1, samples: picture.to_luma8().into_raw() }
}

/// A gray picture cropped from one padded plane in `0..1`.
fn gray_picture(plane: &[f32], pw: usize, width: usize, height: usize) -> DynamicImage {
    let pixels = gray_from_padded_plane(plane, pw, width, height);
    DynamicImage::ImageLuma8(GrayImage::from_raw(width as u32, height as u32, pixels.samples).expect("sizes match"))
}
