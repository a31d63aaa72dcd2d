//! Reading and writing whole `.aec` files: header, payload sections and trailing CRC-32.

use byteorder::{ByteOrder, LittleEndian as LE};

use super::error::FormatError;
use super::header::{CHECKSUM_LEN, HEADER_LEN, Header};
use super::limits::Limits;

/// A parsed `.aec` file whose payloads borrow from the input bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AecFile<'a> {
    /// The header.
    pub header: Header,
    /// Entropy-coded latents (coder given by the header).
    pub latents: &'a [u8],
    /// zstd-compressed alpha samples (empty unless the colour model is RGBA).
    pub alpha: &'a [u8],
}

impl<'a> AecFile<'a> {
    /// Parses and checks a whole file: magic, version, lengths, checksum, then every header
    /// field against `limits`. Allocates nothing.
    ///
    /// # Errors
    /// A [`FormatError`] describing the first problem found.
    pub fn parse(bytes: &'a [u8], limits: &Limits) -> Result<Self, FormatError> {
        let header = Header::parse(bytes)?;
        let latent_end = HEADER_LEN.checked_add(header.latent_len as usize).ok_or(FormatError::Truncated("latent payload"))?;
        let alpha_end = latent_end.checked_add(header.alpha_len as usize).ok_or(FormatError::Truncated("alpha payload"))?;
        let total = alpha_end.checked_add(CHECKSUM_LEN).ok_or(FormatError::Truncated("checksum"))?;
        if bytes.len() < total {
            return Err(FormatError::Truncated(if bytes.len() < latent_end {
                "latent payload"
            } else if bytes.len() < alpha_end {
                "alpha payload"
            } else {
                "checksum"
            }));
        }
        if bytes.len() > total {
            return Err(FormatError::TrailingBytes(bytes.len() - total));
        }
        let stored = LE::read_u32(&bytes[alpha_end..total]);
        let computed = crc32fast::hash(&bytes[..alpha_end]);
        if stored != computed {
            return Err(FormatError::ChecksumMismatch { stored, computed });
        }
        header.validate(limits)?;
        Ok(Self { header, latents: &bytes[HEADER_LEN..latent_end], alpha: &bytes[latent_end..alpha_end] })
    }

    /// Serializes the file. The header's payload lengths are taken from the payloads.
    ///
    /// # Errors
    /// [`FormatError::LimitExceeded`] if a payload is longer than 4 GiB - 1.
    pub fn to_bytes(&self) -> Result<Vec<u8>, FormatError> {
        let len32 = |what, len: usize| u32::try_from(len).map_err(|_| FormatError::LimitExceeded { what, value: len as u64, limit: u32::MAX.into() });
        let mut header = self.header;
        header.latent_len = len32("latent payload length", self.latents.len())?;
        header.alpha_len = len32("alpha payload length", self.alpha.len())?;
        let mut out = Vec::with_capacity(HEADER_LEN + self.latents.len() + self.alpha.len() + CHECKSUM_LEN);
        out.extend_from_slice(&header.to_bytes());
        out.extend_from_slice(self.latents);
        out.extend_from_slice(self.alpha);
        let crc = crc32fast::hash(&out);
        out.extend_from_slice(&crc.to_le_bytes());
        Ok(out)
    }
}
