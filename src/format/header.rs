//! The fixed-size header of a version-1 `.aec` file.

use byteorder::{ByteOrder, LittleEndian as LE};

use super::error::FormatError;
use super::limits::Limits;

/// The first four bytes of every `.aec` file.
pub const MAGIC: [u8; 4] = [0x8A, b'A', b'E', b'C'];
/// The format version this module reads and writes.
pub const VERSION: u16 = 1;
/// Size of the version-1 header in bytes.
pub const HEADER_LEN: usize = 48;
/// Size of the trailing CRC-32.
pub const CHECKSUM_LEN: usize = 4;

/// How the pixels of the image are organised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColorModel {
    /// One channel.
    Gray = 0,
    /// Red, green, blue.
    Rgb = 1,
    /// RGB plus an alpha channel stored losslessly.
    Rgba = 2,
}

impl ColorModel {
    pub(super) fn from_u8(v: u8) -> Result<Self, FormatError> {
        match v {
            0 => Ok(Self::Gray),
            1 => Ok(Self::Rgb),
            2 => Ok(Self::Rgba),
            _ => Err(FormatError::InvalidField { field: "color model", value: v.into() }),
        }
    }

    /// Channels per pixel of the decoded image.
    pub fn channels(self) -> usize {
        match self {
            Self::Gray => 1,
            Self::Rgb => 3,
            Self::Rgba => 4,
        }
    }
}

/// How the latent payload is entropy-coded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CoderId {
    /// Little-endian `i16` latents, channel by channel, compressed with zstd.
    Zstd = 0,
    /// Range coding with the model's integer CDF tables.
    Range = 1,
}

impl CoderId {
    pub(super) fn from_u8(v: u8) -> Result<Self, FormatError> {
        match v {
            0 => Ok(Self::Zstd),
            1 => Ok(Self::Range),
            _ => Err(FormatError::InvalidField { field: "coder id", value: v.into() }),
        }
    }
}

/// Identifies the model that made a file: a registry number that is never reused, plus a
/// hash of the weights and tables, so that a decoder refuses files of a model it lacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ModelId {
    /// Architecture number (see the format specification's registry).
    pub architecture: u32,
    /// First 8 bytes of the SHA-256 of the model's weights and tables, little-endian.
    pub weights_hash: u64,
}

impl std::fmt::Display for ModelId {
    /// `architecture/hash` in hex, as `aec info` and error messages show it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:08x}/{:016x}", self.architecture, self.weights_hash)
    }
}

/// Shape of the latent grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LatentShape {
    /// Number of channels.
    pub channels: u16,
    /// Rows.
    pub height: u16,
    /// Columns.
    pub width: u16,
}

impl LatentShape {
    /// Number of latent values.
    pub fn len(&self) -> u64 {
        u64::from(self.channels) * u64::from(self.height) * u64::from(self.width)
    }

    /// Whether the grid holds no value.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl std::fmt::Display for LatentShape {
    /// `channels x height x width`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} x {} x {}", self.channels, self.height, self.width)
    }
}

/// Every field of a version-1 header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Image width in pixels (at least 1).
    pub width: u32,
    /// Image height in pixels (at least 1).
    pub height: u32,
    /// Colour model of the decoded image.
    pub color: ColorModel,
    /// Bits per sample; version 1 allows only 8.
    pub bit_depth: u8,
    /// Coder of the latent payload.
    pub coder: CoderId,
    /// Quality level the file was encoded at (meaning set by the model).
    pub quality: u8,
    /// The model that made the file.
    pub model: ModelId,
    /// Shape of the latent grid.
    pub latent: LatentShape,
    /// Quantization step of the latents in units of 1/256 (256 = step 1.0); at least 1.
    pub quant_step: u16,
    /// Bytes of the latent payload.
    pub latent_len: u32,
    /// Bytes of the (zstd-compressed) alpha payload; 0 unless the colour model is RGBA.
    pub alpha_len: u32,
}

impl Header {
    /// Serializes the header into its 48 bytes.
    pub fn to_bytes(&self) -> [u8; HEADER_LEN] {
        let mut b = [0u8; HEADER_LEN];
        b[0..4].copy_from_slice(&MAGIC);
        LE::write_u16(&mut b[4..6], VERSION);
        LE::write_u16(&mut b[6..8], HEADER_LEN as u16);
        LE::write_u32(&mut b[8..12], self.width);
        LE::write_u32(&mut b[12..16], self.height);
        b[16] = self.color as u8;
        b[17] = self.bit_depth;
        b[18] = self.coder as u8;
        b[19] = self.quality;
        LE::write_u32(&mut b[20..24], self.model.architecture);
        LE::write_u64(&mut b[24..32], self.model.weights_hash);
        LE::write_u16(&mut b[32..34], self.latent.channels);
        LE::write_u16(&mut b[34..36], self.latent.height);
        LE::write_u16(&mut b[36..38], self.latent.width);
        LE::write_u16(&mut b[38..40], self.quant_step);
        LE::write_u32(&mut b[40..44], self.latent_len);
        LE::write_u32(&mut b[44..48], self.alpha_len);
        b
    }

    /// Reads the header at the start of `bytes`, checking magic, version and header length
    /// only; [`Header::validate`] checks the fields.
    ///
    /// # Errors
    /// [`FormatError::Truncated`], [`FormatError::BadMagic`],
    /// [`FormatError::UnsupportedVersion`], or [`FormatError::InvalidField`] for the header
    /// length and enumerations.
    pub fn parse(bytes: &[u8]) -> Result<Self, FormatError> {
        if bytes.len() < 8 {
            return Err(FormatError::Truncated("header"));
        }
        if bytes[0..4] != MAGIC {
            return Err(FormatError::BadMagic);
        }
        let version = LE::read_u16(&bytes[4..6]);
        if version != VERSION {
            return Err(FormatError::UnsupportedVersion(version));
        }
        let header_len = LE::read_u16(&bytes[6..8]);
        if usize::from(header_len) != HEADER_LEN {
            return Err(FormatError::InvalidField { field: "header length", value: header_len.into() });
        }
        let b = bytes.get(..HEADER_LEN).ok_or(FormatError::Truncated("header"))?;
        Ok(Self {
            width: LE::read_u32(&b[8..12]),
            height: LE::read_u32(&b[12..16]),
            color: ColorModel::from_u8(b[16])?,
            bit_depth: b[17],
            coder: CoderId::from_u8(b[18])?,
            quality: b[19],
            model: ModelId { architecture: LE::read_u32(&b[20..24]), weights_hash: LE::read_u64(&b[24..32]) },
            latent: LatentShape { channels: LE::read_u16(&b[32..34]), height: LE::read_u16(&b[34..36]), width: LE::read_u16(&b[36..38]) },
            quant_step: LE::read_u16(&b[38..40]),
            latent_len: LE::read_u32(&b[40..44]),
            alpha_len: LE::read_u32(&b[44..48]),
        })
    }

    /// Checks every field against the format's rules and the reader's `limits`.
    ///
    /// # Errors
    /// [`FormatError::InvalidField`] or [`FormatError::LimitExceeded`].
    pub fn validate(&self, limits: &Limits) -> Result<(), FormatError> {
        let invalid = |field, value: u64| Err(FormatError::InvalidField { field, value });
        let over = |what, value: u64, limit: u64| Err(FormatError::LimitExceeded { what, value, limit });
        check_picture_size(self.width, self.height, limits)?;
        if self.bit_depth != 8 {
            return invalid("bit depth", self.bit_depth.into());
        }
        if self.latent.is_empty() {
            return invalid("latent shape", 0);
        }
        if self.latent.len() > limits.max_latent_values {
            return over("latent value count", self.latent.len(), limits.max_latent_values);
        }
        if self.quant_step == 0 {
            return invalid("quantization step", 0);
        }
        if (self.color == ColorModel::Rgba) != (self.alpha_len > 0) {
            return invalid("alpha length", self.alpha_len.into());
        }
        Ok(())
    }
}

/// Checks a declared picture size: neither side zero, both within the limits.
///
/// # Errors
/// [`FormatError::InvalidField`] or [`FormatError::LimitExceeded`].
pub(super) fn check_picture_size(width: u32, height: u32, limits: &Limits) -> Result<(), FormatError> {
    let over = |what, value: u64, limit: u64| Err(FormatError::LimitExceeded { what, value, limit });
    if width == 0 {
        return Err(FormatError::InvalidField { field: "width", value: 0 });
    }
    if height == 0 {
        return Err(FormatError::InvalidField { field: "height", value: 0 });
    }
    if width > limits.max_dimension {
        return over("width", width.into(), limits.max_dimension.into());
    }
    if height > limits.max_dimension {
        return over("height", height.into(), limits.max_dimension.into());
    }
    let pixels = u64::from(width) * u64::from(height);
    if pixels > limits.max_pixels {
        return over("pixel count", pixels, limits.max_pixels);
    }
    Ok(())
}
