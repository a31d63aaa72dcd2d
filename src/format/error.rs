//! Errors of the container layer.

/// Why a byte string is not a valid `.aec` file (or cannot be written as one).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FormatError {
    /// The data does not start with the `.aec` magic bytes.
    #[error("not an .aec file (bad magic bytes)")]
    BadMagic,
    /// The format version is not one this reader understands.
    #[error("unsupported .aec format version {0} (this build reads versions 1 and 2)")]
    UnsupportedVersion(u16),
    /// The data ends before the structure it announces.
    #[error("truncated: {0}")]
    Truncated(&'static str),
    /// The data goes on after the end of the file's structure.
    #[error("{0} trailing bytes after the payload")]
    TrailingBytes(usize),
    /// The checksum does not match: the file is corrupted.
    #[error("checksum mismatch (stored {stored:08x}, computed {computed:08x}): the file is corrupted")]
    ChecksumMismatch {
        /// Checksum stored in the file.
        stored: u32,
        /// Checksum of the bytes read.
        computed: u32,
    },
    /// A header field has a value this format does not allow.
    #[error("invalid header field {field}: {value}")]
    InvalidField {
        /// Name of the field.
        field: &'static str,
        /// The offending value.
        value: u64,
    },
    /// Fields of a file disagree with each other or with the model that made it.
    #[error("{what} is {found}, but the file's picture and model need {expected}")]
    Mismatch {
        /// What disagrees.
        what: &'static str,
        /// What the file says.
        found: String,
        /// What it must be.
        expected: String,
    },
    /// A declared size exceeds the reader's limits.
    #[error("{what} of {value} exceeds the limit of {limit}")]
    LimitExceeded {
        /// What was too large.
        what: &'static str,
        /// Declared value.
        value: u64,
        /// The configured limit.
        limit: u64,
    },
    /// A payload section does not decompress to the size the header implies.
    #[error("corrupt payload: {0}")]
    CorruptPayload(String),
}
