//! Picture metadata (ICC profile, EXIF) in the ancillary sections of a version-2 file, and
//! the single-payload layout of version 1 carried in version 2 (architecture-1 files).

use super::container::AecFile;
use super::error::FormatError;
use super::header::{Header, LatentShape};
use super::limits::Limits;
use super::sections::{HeaderV2, SectionFile, SectionKind};

/// The metadata of a picture that aec keeps: ICC profile and EXIF block, byte for byte.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Metadata {
    /// The ICC colour profile.
    pub icc: Option<Vec<u8>>,
    /// The EXIF block (TIFF header onwards, as the `image` crate hands it over).
    pub exif: Option<Vec<u8>>,
}

impl Metadata {
    /// Whether there is nothing to keep.
    pub fn is_empty(&self) -> bool {
        self.icc.is_none() && self.exif.is_none()
    }

    /// The metadata sections of a parsed version-2 file.
    pub fn of(file: &SectionFile<'_>) -> Self {
        Self { icc: file.section(SectionKind::Icc).map(<[u8]>::to_vec), exif: file.section(SectionKind::Exif).map(<[u8]>::to_vec) }
    }

    /// The metadata of `.aec` bytes: empty for a version-1 file, which cannot hold any.
    ///
    /// # Errors
    /// As [`SectionFile::parse`] for a version-2 file.
    pub fn read(bytes: &[u8], limits: &Limits) -> Result<Self, FormatError> {
        if super::sections::version_of(bytes)? != super::sections::VERSION_2 {
            return Ok(Self::default());
        }
        Ok(Self::of(&SectionFile::parse(bytes, limits)?))
    }

    /// A version-2 file's bytes with its metadata sections replaced by these (the other
    /// sections kept in order, the checksum recomputed).
    ///
    /// # Errors
    /// [`FormatError::UnsupportedVersion`] for a version-1 file, and the errors of
    /// [`SectionFile::parse`] and [`SectionFile::to_bytes`].
    pub fn attach(&self, bytes: &[u8]) -> Result<Vec<u8>, FormatError> {
        let version = super::sections::version_of(bytes)?;
        if version != super::sections::VERSION_2 {
            return Err(FormatError::UnsupportedVersion(version));
        }
        let no_limits = Limits { max_dimension: u32::MAX, max_pixels: u64::MAX, max_latent_values: u64::MAX };
        let file = SectionFile::parse(bytes, &no_limits)?;
        let mut sections: Vec<(SectionKind, &[u8])> =
            file.sections.iter().copied().filter(|(k, _)| !matches!(k, SectionKind::Icc | SectionKind::Exif)).collect();
        sections.extend(self.sections());
        SectionFile { header: file.header, sections }.to_bytes()
    }

    /// The sections that hold this metadata (ICC profile first), to add to a file's table.
    pub fn sections(&self) -> impl Iterator<Item = (SectionKind, &[u8])> {
        let icc = self.icc.as_deref().map(|icc| (SectionKind::Icc, icc));
        let exif = self.exif.as_deref().map(|exif| (SectionKind::Exif, exif));
        icc.into_iter().chain(exif)
    }
}

impl AecFile<'_> {
    /// This file's content in container version 2: the header fields but the latent shape
    /// (which follows from the picture size and the model), the quantization step as the
    /// rate, the latents as section 2 and the alpha plane (RGBA only) as section 3.
    pub fn to_sections(&self) -> SectionFile<'_> {
        let h = &self.header;
        let header = HeaderV2 { width: h.width, height: h.height, color: h.color, coder: h.coder, quality: h.quality, model: h.model, rate: h.quant_step };
        let mut sections = vec![(SectionKind::Latents, self.latents)];
        if !self.alpha.is_empty() {
            sections.push((SectionKind::Alpha, self.alpha));
        }
        SectionFile { header, sections }
    }
}

impl<'a> SectionFile<'a> {
    /// The version-1 view of a single-payload version-2 file (the reverse of
    /// [`AecFile::to_sections`]), given the latent shape the model derives from the picture
    /// size. The header is checked as version 1 checks it (latent count against `limits`,
    /// alpha present exactly for RGBA pictures).
    ///
    /// # Errors
    /// [`FormatError::CorruptPayload`] without a latent section, or with a hyper-latent or a
    /// further-latent-streams section; the errors of [`Header::validate`].
    pub fn as_single_payload(&self, latent: LatentShape, limits: &Limits) -> Result<AecFile<'a>, FormatError> {
        if self.section(SectionKind::HyperLatents).is_some() {
            return Err(FormatError::CorruptPayload("a hyper-latent section in a single-payload file".into()));
        }
        if self.section(SectionKind::LatentStreams).is_some() {
            return Err(FormatError::CorruptPayload("further latent streams in a single-payload file".into()));
        }
        if self.section(SectionKind::Restoration).is_some() || self.section(SectionKind::Residual).is_some() {
            return Err(FormatError::CorruptPayload("a restoration filter or residual layer in a single-payload file".into()));
        }
        let latents = self.section(SectionKind::Latents).ok_or_else(|| FormatError::CorruptPayload("no latent section".into()))?;
        let alpha = self.section(SectionKind::Alpha).unwrap_or_default();
        let h = &self.header;
        let header = Header {
            width: h.width,
            height: h.height,
            color: h.color,
            bit_depth: 8,
            coder: h.coder,
            quality: h.quality,
            model: h.model,
            latent,
            quant_step: h.rate,
            latent_len: latents.len() as u32,
            alpha_len: alpha.len() as u32,
        };
        header.validate(limits)?;
        Ok(AecFile { header, latents, alpha })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::{CoderId, ColorModel, ModelId};

    fn v1() -> Vec<u8> {
        let header = Header {
            width: 70,
            height: 50,
            color: ColorModel::Rgba,
            bit_depth: 8,
            coder: CoderId::Range,
            quality: 4,
            model: ModelId { architecture: 1, weights_hash: 77 },
            latent: LatentShape { channels: 3, height: 4, width: 5 },
            quant_step: 300,
            latent_len: 0,
            alpha_len: 0,
        };
        AecFile { header, latents: b"latents", alpha: b"alpha" }.to_bytes().unwrap()
    }

    #[test]
    fn a_single_payload_file_survives_version_2() {
        let bytes = v1();
        let file = AecFile::parse(&bytes, &Limits::default()).unwrap();
        let v2 = file.to_sections().to_bytes().unwrap();
        let parsed = SectionFile::parse(&v2, &Limits::default()).unwrap();
        assert_eq!(parsed.as_single_payload(file.header.latent, &Limits::default()).unwrap(), file);
        let tiny = Limits { max_latent_values: 59, ..Limits::default() };
        assert!(matches!(parsed.as_single_payload(file.header.latent, &tiny), Err(FormatError::LimitExceeded { .. })));
        let no_alpha = SectionFile { header: parsed.header, sections: vec![(SectionKind::Latents, b"x")] };
        assert!(no_alpha.as_single_payload(file.header.latent, &Limits::default()).is_err(), "RGBA without alpha");
        let mut streams = parsed.clone();
        streams.sections.push((SectionKind::LatentStreams, b"\x01\0\0\0\0"));
        assert!(matches!(streams.as_single_payload(file.header.latent, &Limits::default()), Err(FormatError::CorruptPayload(_))), "further streams");
        let mut restored = parsed.clone();
        restored.sections.push((SectionKind::Restoration, b"\x01\x08\x03"));
        assert!(matches!(restored.as_single_payload(file.header.latent, &Limits::default()), Err(FormatError::CorruptPayload(_))), "restoration filter");
    }

    #[test]
    fn metadata_is_attached_replaced_and_read_back() {
        let bytes = v1();
        assert!(Metadata::read(&bytes, &Limits::default()).unwrap().is_empty());
        let meta = Metadata { icc: Some(b"icc profile".to_vec()), exif: Some(b"MM\0*exif".to_vec()) };
        assert!(matches!(meta.attach(&bytes), Err(FormatError::UnsupportedVersion(1))));
        let v2 = AecFile::parse(&bytes, &Limits::default()).unwrap().to_sections().to_bytes().unwrap();
        let with = meta.attach(&v2).unwrap();
        assert_eq!(Metadata::read(&with, &Limits::default()).unwrap(), meta);
        let other = Metadata { icc: None, exif: Some(b"II*\0".to_vec()) };
        let replaced = other.attach(&with).unwrap();
        assert_eq!(Metadata::read(&replaced, &Limits::default()).unwrap(), other);
        assert_eq!(Metadata::default().attach(&replaced).unwrap(), v2, "stripping gives the plain file back");
    }
}
