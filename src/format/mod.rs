//! The `.aec` container: header, payload sections, checksum and limits. Bytes and integers
//! only: this module knows nothing of neural networks or image files.
//!
//! ```
//! use aec::format::{AecFile, Limits};
//! let err = AecFile::parse(b"not an aec file", &Limits::default()).unwrap_err();
//! assert_eq!(err, aec::format::FormatError::BadMagic);
//! ```

mod container;
mod error;
mod file;
mod header;
mod limits;
mod metadata;
mod sections;
pub mod streams;

pub use container::AecFile;
pub use error::FormatError;
pub use file::ParsedFile;
pub use header::{CHECKSUM_LEN, CoderId, ColorModel, HEADER_LEN, Header, LatentShape, MAGIC, ModelId, VERSION};
pub use limits::Limits;
pub use metadata::Metadata;
pub use sections::{FIRST_ANCILLARY, HEADER_V2_LEN, HeaderV2, MAX_SECTIONS, SECTION_ENTRY_LEN, SectionFile, SectionKind, VERSION_2, version_of};
