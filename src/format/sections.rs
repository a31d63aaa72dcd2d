//! Version 2 of the `.aec` container: a fixed 40-byte header, a table of sections, the
//! section payloads in table order, and a CRC-32 of everything before it.
//!
//! | offset | size | field |
//! |---:|---:|---|
//! | 0 | 4 | magic `8A 41 45 43` |
//! | 4 | 2 | version = 2 |
//! | 6 | 2 | header length = 40 |
//! | 8 | 4 | width |
//! | 12 | 4 | height |
//! | 16 | 1 | colour model (0 gray, 1 RGB, 2 RGBA) |
//! | 17 | 1 | bit depth = 8 |
//! | 18 | 1 | coder (0 zstd, 1 range) |
//! | 19 | 1 | quality level on the encoder's scale (informative) |
//! | 20 | 4 | architecture number |
//! | 24 | 8 | weights hash |
//! | 32 | 2 | rate: the model's rate setting, units of 1/256 (meaning set by the family) |
//! | 34 | 2 | section count `n`, 1..=16 |
//! | 36 | 4 | reserved, 0 |
//! | 40 | 8·n | sections: kind `u16`, reserved `u16` = 0, length `u32` |
//!
//! Section kinds below 16 are critical (a reader that does not know one refuses the file);
//! 16 and above are ancillary (metadata: a reader may skip them). Each kind appears at most
//! once. See `format-spec/aec-v2.md`.

use byteorder::{ByteOrder, LittleEndian as LE};

use super::error::FormatError;
use super::header::{CHECKSUM_LEN, CoderId, ColorModel, MAGIC, ModelId};
use super::limits::Limits;

/// The version number of this layout.
pub const VERSION_2: u16 = 2;
/// Bytes of the fixed part of a version-2 header.
pub const HEADER_V2_LEN: usize = 40;
/// Bytes of one entry of the section table.
pub const SECTION_ENTRY_LEN: usize = 8;
/// Most sections a file may have.
pub const MAX_SECTIONS: usize = 16;
/// Kinds from this number on are ancillary.
pub const FIRST_ANCILLARY: u16 = 16;

/// The kinds of section this version defines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SectionKind {
    /// Entropy-coded hyper-latents (`z`).
    HyperLatents = 1,
    /// Entropy-coded latents (`y`).
    Latents = 2,
    /// zstd-compressed alpha plane.
    Alpha = 3,
    /// The latents' further range-coded streams (`y` split by channels, each stream decodable
    /// on its own; [`super::streams`]). The latent section holds the first.
    LatentStreams = 4,
    /// The restoration filter the decoder applies to the decoded samples (since aec 0.6;
    /// `codec::restoration` reads its payload).
    Restoration = 5,
    /// The residual layer the decoder adds last (since aec 0.6; `codec::residual` reads its
    /// payload).
    Residual = 6,
    /// ICC colour profile, as stored in the source picture (ancillary).
    Icc = 16,
    /// EXIF block, as stored in the source picture (ancillary).
    Exif = 17,
}

impl SectionKind {
    fn from_u16(v: u16) -> Option<Self> {
        Some(match v {
            1 => Self::HyperLatents,
            2 => Self::Latents,
            3 => Self::Alpha,
            4 => Self::LatentStreams,
            5 => Self::Restoration,
            6 => Self::Residual,
            16 => Self::Icc,
            17 => Self::Exif,
            _ => return None,
        })
    }
}

/// The fields of a version-2 header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeaderV2 {
    /// Image width in pixels.
    pub width: u32,
    /// Image height in pixels.
    pub height: u32,
    /// Colour model of the decoded image.
    pub color: ColorModel,
    /// Coder of the latent sections.
    pub coder: CoderId,
    /// Quality level on the encoder's scale (informative: decoders use `rate`).
    pub quality: u8,
    /// The model that made the file.
    pub model: ModelId,
    /// The model's rate setting in units of 1/256.
    pub rate: u16,
}

/// A parsed version-2 file; payloads borrow from the input bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SectionFile<'a> {
    /// The header.
    pub header: HeaderV2,
    /// Known sections in file order (unknown ancillary ones are skipped).
    pub sections: Vec<(SectionKind, &'a [u8])>,
}

impl<'a> SectionFile<'a> {
    /// The payload of a section, if present.
    pub fn section(&self, kind: SectionKind) -> Option<&'a [u8]> {
        self.sections.iter().find(|(k, _)| *k == kind).map(|(_, data)| *data)
    }

    /// Parses and checks a whole version-2 file, in this order: magic, version, header
    /// length, section count, section table (reserved fields, duplicate or unknown critical
    /// kinds), lengths against the data, checksum, then the header fields against `limits`.
    /// Allocates at most [`MAX_SECTIONS`] entries.
    ///
    /// # Errors
    /// A [`FormatError`] describing the first problem found.
    pub fn parse(bytes: &'a [u8], limits: &Limits) -> Result<Self, FormatError> {
        if bytes.len() < 8 {
            return Err(FormatError::Truncated("header"));
        }
        if bytes[0..4] != MAGIC {
            return Err(FormatError::BadMagic);
        }
        let version = LE::read_u16(&bytes[4..6]);
        if version != VERSION_2 {
            return Err(FormatError::UnsupportedVersion(version));
        }
        let header_len = LE::read_u16(&bytes[6..8]);
        if usize::from(header_len) != HEADER_V2_LEN {
            return Err(FormatError::InvalidField { field: "header length", value: header_len.into() });
        }
        let b = bytes.get(..HEADER_V2_LEN).ok_or(FormatError::Truncated("header"))?;
        let count = usize::from(LE::read_u16(&b[34..36]));
        if count == 0 || count > MAX_SECTIONS {
            return Err(FormatError::InvalidField { field: "section count", value: count as u64 });
        }
        if LE::read_u32(&b[36..40]) != 0 {
            return Err(FormatError::InvalidField { field: "reserved header bytes", value: LE::read_u32(&b[36..40]).into() });
        }
        let table_end = HEADER_V2_LEN + count * SECTION_ENTRY_LEN;
        let table = bytes.get(HEADER_V2_LEN..table_end).ok_or(FormatError::Truncated("section table"))?;
        let mut entries = Vec::with_capacity(count);
        let mut end = table_end as u64;
        for entry in table.chunks_exact(SECTION_ENTRY_LEN) {
            let (kind, reserved, len) = (LE::read_u16(&entry[0..2]), LE::read_u16(&entry[2..4]), LE::read_u32(&entry[4..8]));
            if reserved != 0 {
                return Err(FormatError::InvalidField { field: "section reserved bytes", value: reserved.into() });
            }
            if entries.iter().any(|&(k, _, _)| k == kind) {
                return Err(FormatError::InvalidField { field: "duplicate section kind", value: kind.into() });
            }
            if kind < FIRST_ANCILLARY && SectionKind::from_u16(kind).is_none() {
                return Err(FormatError::InvalidField { field: "unknown critical section kind", value: kind.into() });
            }
            entries.push((kind, end as usize, len as usize));
            end += u64::from(len);
        }
        let total = end + CHECKSUM_LEN as u64;
        if (bytes.len() as u64) < total {
            return Err(FormatError::Truncated(if (bytes.len() as u64) < end { "section payload" } else { "checksum" }));
        }
        if bytes.len() as u64 > total {
            return Err(FormatError::TrailingBytes(bytes.len() - total as usize));
        }
        let end = end as usize;
        let stored = LE::read_u32(&bytes[end..]);
        let computed = crc32fast::hash(&bytes[..end]);
        if stored != computed {
            return Err(FormatError::ChecksumMismatch { stored, computed });
        }
        let header = HeaderV2 {
            width: LE::read_u32(&b[8..12]),
            height: LE::read_u32(&b[12..16]),
            color: ColorModel::from_u8(b[16])?,
            coder: CoderId::from_u8(b[18])?,
            quality: b[19],
            model: ModelId { architecture: LE::read_u32(&b[20..24]), weights_hash: LE::read_u64(&b[24..32]) },
            rate: LE::read_u16(&b[32..34]),
        };
        if b[17] != 8 {
            return Err(FormatError::InvalidField { field: "bit depth", value: b[17].into() });
        }
        header.validate(limits)?;
        let sections = entries.into_iter().filter_map(|(kind, start, len)| SectionKind::from_u16(kind).map(|k| (k, &bytes[start..start + len]))).collect();
        Ok(Self { header, sections })
    }

    /// Serializes the file.
    ///
    /// # Errors
    /// [`FormatError::InvalidField`] for no, too many or duplicate sections;
    /// [`FormatError::LimitExceeded`] for a section of 4 GiB or more.
    pub fn to_bytes(&self) -> Result<Vec<u8>, FormatError> {
        let count = self.sections.len();
        if count == 0 || count > MAX_SECTIONS {
            return Err(FormatError::InvalidField { field: "section count", value: count as u64 });
        }
        let h = &self.header;
        let mut out = Vec::with_capacity(HEADER_V2_LEN + count * SECTION_ENTRY_LEN + self.sections.iter().map(|s| s.1.len()).sum::<usize>() + CHECKSUM_LEN);
        out.extend_from_slice(&MAGIC);
        out.extend_from_slice(&VERSION_2.to_le_bytes());
        out.extend_from_slice(&(HEADER_V2_LEN as u16).to_le_bytes());
        out.extend_from_slice(&h.width.to_le_bytes());
        out.extend_from_slice(&h.height.to_le_bytes());
        out.extend_from_slice(&[h.color as u8, 8, h.coder as u8, h.quality]);
        out.extend_from_slice(&h.model.architecture.to_le_bytes());
        out.extend_from_slice(&h.model.weights_hash.to_le_bytes());
        out.extend_from_slice(&h.rate.to_le_bytes());
        out.extend_from_slice(&(count as u16).to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
        for (i, (kind, data)) in self.sections.iter().enumerate() {
            if self.sections[..i].iter().any(|(k, _)| k == kind) {
                return Err(FormatError::InvalidField { field: "duplicate section kind", value: *kind as u64 });
            }
            let len = u32::try_from(data.len()).map_err(|_| FormatError::LimitExceeded {
                what: "section length",
                value: data.len() as u64,
                limit: u32::MAX.into(),
            })?;
            out.extend_from_slice(&(*kind as u16).to_le_bytes());
            out.extend_from_slice(&0u16.to_le_bytes());
            out.extend_from_slice(&len.to_le_bytes());
        }
        for (_, data) in &self.sections {
            out.extend_from_slice(data);
        }
        let crc = crc32fast::hash(&out);
        out.extend_from_slice(&crc.to_le_bytes());
        Ok(out)
    }
}

impl HeaderV2 {
    /// Checks the picture size against the reader's `limits`.
    ///
    /// # Errors
    /// [`FormatError::InvalidField`] or [`FormatError::LimitExceeded`].
    pub fn validate(&self, limits: &Limits) -> Result<(), FormatError> {
        super::header::check_picture_size(self.width, self.height, limits)
    }
}

/// The format version of `.aec` bytes (after checking the magic), without parsing further.
///
/// # Errors
/// [`FormatError::Truncated`] or [`FormatError::BadMagic`].
pub fn version_of(bytes: &[u8]) -> Result<u16, FormatError> {
    if bytes.len() < 6 {
        return Err(FormatError::Truncated("header"));
    }
    if bytes[0..4] != MAGIC {
        return Err(FormatError::BadMagic);
    }
    Ok(LE::read_u16(&bytes[4..6]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> SectionFile<'static> {
        SectionFile {
            header: HeaderV2 {
                width: 70,
                height: 50,
                color: ColorModel::Rgb,
                coder: CoderId::Range,
                quality: 7,
                model: ModelId { architecture: 2, weights_hash: 0x1234_5678_9abc_def0 },
                rate: 512,
            },
            sections: vec![(SectionKind::HyperLatents, b"zz"), (SectionKind::Latents, b"yyyy"), (SectionKind::Exif, b"Exif")],
        }
    }

    #[test]
    fn round_trips() {
        let bytes = sample().to_bytes().unwrap();
        assert_eq!(bytes.len(), 40 + 3 * 8 + 10 + 4);
        assert_eq!(SectionFile::parse(&bytes, &Limits::default()).unwrap(), sample());
        assert_eq!(version_of(&bytes).unwrap(), 2);
    }

    #[test]
    fn every_truncation_and_every_flipped_byte_is_refused() {
        let bytes = sample().to_bytes().unwrap();
        for cut in 0..bytes.len() {
            assert!(SectionFile::parse(&bytes[..cut], &Limits::default()).is_err(), "cut at {cut}");
        }
        for i in 0..bytes.len() {
            let mut bad = bytes.clone();
            bad[i] ^= 0x10;
            assert!(SectionFile::parse(&bad, &Limits::default()).is_err(), "flipped byte {i}");
        }
    }

    fn with_crc(mut bytes: Vec<u8>) -> Vec<u8> {
        let end = bytes.len() - 4;
        let crc = crc32fast::hash(&bytes[..end]);
        bytes[end..].copy_from_slice(&crc.to_le_bytes());
        bytes
    }

    #[test]
    fn unknown_ancillary_sections_are_skipped_and_unknown_critical_ones_refused() {
        let mut bytes = sample().to_bytes().unwrap();
        // The Exif entry is the third: kind at 40 + 16.
        bytes[56..58].copy_from_slice(&200u16.to_le_bytes());
        let renamed = with_crc(bytes.clone());
        let parsed = SectionFile::parse(&renamed, &Limits::default()).unwrap();
        assert_eq!(parsed.sections.len(), 2);
        bytes[56..58].copy_from_slice(&9u16.to_le_bytes());
        assert!(matches!(
            SectionFile::parse(&with_crc(bytes), &Limits::default()),
            Err(FormatError::InvalidField { field: "unknown critical section kind", .. })
        ));
    }

    #[test]
    fn duplicate_sections_and_huge_pictures_are_refused() {
        let mut file = sample();
        file.sections.push((SectionKind::Latents, b"x"));
        assert!(file.to_bytes().is_err());
        let mut big = sample();
        big.header.width = 1 << 20;
        let bytes = big.to_bytes().unwrap();
        assert!(matches!(SectionFile::parse(&bytes, &Limits::default()), Err(FormatError::LimitExceeded { .. })));
    }
}
