//! The library's error type: one enum whose variants say who is at fault.

use std::path::{Path, PathBuf};

use crate::format::{FormatError, ModelId};

/// Result alias used throughout the library.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in aec's library.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file involved (`-` for standard input/output).
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// An input picture could not be decoded or an output picture encoded.
    #[error("{}: {source}", path.display())]
    Image {
        /// The file involved.
        path: PathBuf,
        /// The underlying error.
        source: image::ImageError,
    },
    /// The `.aec` data is malformed, truncated, corrupted or beyond the configured limits.
    #[error("invalid .aec data: {0}")]
    Format(#[from] FormatError),
    /// The file was made by another model than the one decoding it (`expected`), or by
    /// a model this build does not have (`expected` is `None`): the file is fine, the
    /// decoder needs that model's files.
    #[error("this file was made by model {made_by}, {}", match expected {
        Some(expected) => format!("but this model is {expected}"),
        None => "which is not built into this aec: pass its files with --model".to_string(),
    })]
    UnknownModel {
        /// The model recorded in the file.
        made_by: ModelId,
        /// The model that was asked to decode it, if one was.
        expected: Option<ModelId>,
    },
    /// Model weights or tables could not be loaded.
    #[error("model: {0}")]
    Model(String),
    /// An input (a picture, a file read whole) is larger than the limits allow; nothing
    /// that size was allocated.
    #[error("{what} of {value} exceeds the limit of {limit}{hint}")]
    TooLarge {
        /// What was too large.
        what: &'static str,
        /// Its size.
        value: u64,
        /// The limit.
        limit: u64,
        /// What the user can do, starting with "; " (or empty).
        hint: &'static str,
    },
    /// An MNIST IDX file is malformed, or is not a set of digits with their labels.
    #[error("{}: {source}", path.display())]
    Idx {
        /// The file involved.
        path: PathBuf,
        /// What is wrong with it.
        source: crate::mnist::idx::IdxError,
    },
    /// A parameter given by the caller is out of range.
    #[error("{0}")]
    InvalidArgument(String),
}

impl Error {
    /// An [`Error::Io`] about `path`.
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        Self::Io { path: path.to_path_buf(), source }
    }

    /// An [`Error::Image`] about `path`.
    pub fn image(path: &Path, source: image::ImageError) -> Self {
        Self::Image { path: path.to_path_buf(), source }
    }
}
