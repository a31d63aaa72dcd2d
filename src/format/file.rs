//! A parsed `.aec` file of either container version, so that a reader parses and checks the
//! bytes once and hands the result to whichever decoder the file's model asks for.

use super::container::AecFile;
use super::error::FormatError;
use super::header::{ColorModel, ModelId};
use super::limits::Limits;
use super::metadata::Metadata;
use super::sections::{SectionFile, VERSION_2, version_of};

/// A checked `.aec` file: version 1 (one fixed header and two payloads) or version 2 (a
/// section table).
#[derive(Debug, Clone)]
pub enum ParsedFile<'a> {
    /// A version-1 file (aec 0.1, and the MNIST models' files).
    V1(AecFile<'a>),
    /// A version-2 file.
    V2(SectionFile<'a>),
}

impl<'a> ParsedFile<'a> {
    /// Parses and checks `.aec` bytes of either version (magic, header, limits, checksum).
    ///
    /// # Errors
    /// As [`AecFile::parse`] and [`SectionFile::parse`].
    pub fn parse(bytes: &'a [u8], limits: &Limits) -> Result<Self, FormatError> {
        Ok(if version_of(bytes)? == VERSION_2 { Self::V2(SectionFile::parse(bytes, limits)?) } else { Self::V1(AecFile::parse(bytes, limits)?) })
    }

    /// The model that made the file.
    pub fn model(&self) -> ModelId {
        match self {
            Self::V1(file) => file.header.model,
            Self::V2(file) => file.header.model,
        }
    }

    /// The picture's width and height in pixels.
    pub fn size(&self) -> (u32, u32) {
        match self {
            Self::V1(file) => (file.header.width, file.header.height),
            Self::V2(file) => (file.header.width, file.header.height),
        }
    }

    /// The picture's colour model.
    pub fn color(&self) -> ColorModel {
        match self {
            Self::V1(file) => file.header.color,
            Self::V2(file) => file.header.color,
        }
    }

    /// The ICC profile and EXIF block the file keeps (none in a version-1 file).
    pub fn metadata(&self) -> Metadata {
        match self {
            Self::V1(_) => Metadata::default(),
            Self::V2(file) => Metadata::of(file),
        }
    }

    /// The version-2 file, or [`FormatError::UnsupportedVersion`] for a version-1 one (for
    /// families that only ever wrote version 2).
    ///
    /// # Errors
    /// As above.
    pub fn as_v2(&self) -> Result<&SectionFile<'a>, FormatError> {
        match self {
            Self::V1(_) => Err(FormatError::UnsupportedVersion(super::header::VERSION)),
            Self::V2(file) => Ok(file),
        }
    }

    /// The version-1 file, or [`FormatError::UnsupportedVersion`] for a version-2 one (for
    /// families that only ever wrote version 1).
    ///
    /// # Errors
    /// As above.
    pub fn as_v1(&self) -> Result<&AecFile<'a>, FormatError> {
        match self {
            Self::V1(file) => Ok(file),
            Self::V2(_) => Err(FormatError::UnsupportedVersion(VERSION_2)),
        }
    }
}
