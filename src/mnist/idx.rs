//! A reader of the IDX files that MNIST ships in (optionally gzipped).
//!
//! An IDX file is a 4-byte magic (`0 0 TYPE NDIMS`), `NDIMS` big-endian `u32` sizes, then the
//! values row-major. Only unsigned bytes (`TYPE = 0x08`) occur in MNIST, and only they are read.
//! Every size is checked against [`MAX_VALUES`] and against the data actually present before
//! anything is allocated from it.

use std::io::Read;

use byteorder::{BigEndian, ByteOrder};

/// The most values an IDX file may hold (MNIST's training images hold 47 million).
pub const MAX_VALUES: u64 = 1 << 28;
/// The most dimensions an IDX file may declare.
pub const MAX_DIMS: usize = 4;
/// Type code of unsigned bytes.
const TYPE_U8: u8 = 0x08;
/// The two bytes that start a gzip stream.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Why an IDX file was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum IdxError {
    /// The file is shorter than its header or than the values it declares.
    #[error("truncated IDX data: {needed} bytes needed, {present} present")]
    Truncated {
        /// Bytes the header implies.
        needed: u64,
        /// Bytes there are.
        present: u64,
    },
    /// The magic number is not `0 0 TYPE NDIMS`.
    #[error("not an IDX file (magic {0:02x?})")]
    BadMagic([u8; 4]),
    /// A value type other than unsigned bytes.
    #[error("IDX value type {0:#04x} is not supported (only unsigned bytes, 0x08)")]
    UnsupportedType(u8),
    /// Zero or too many dimensions, a zero size, or more values than [`MAX_VALUES`].
    #[error("IDX sizes {0:?} are out of bounds")]
    BadSizes(Vec<u32>),
    /// Bytes after the declared values.
    #[error("{0} unexpected bytes after the IDX values")]
    TrailingBytes(u64),
    /// The gzip stream is corrupt.
    #[error("gzip: {0}")]
    Gzip(String),
    /// An images file whose array is not `[n, 28, 28]`.
    #[error("images of shape {0:?}, not [n, 28, 28]")]
    NotDigits(Vec<usize>),
    /// A labels file whose array does not hold one label per image.
    #[error("labels of shape {labels:?} for {images} images")]
    LabelCount {
        /// The labels' shape.
        labels: Vec<usize>,
        /// The number of images.
        images: usize,
    },
    /// A label above 9.
    #[error("label {0} is not a digit")]
    NotALabel(u8),
}

/// An array of unsigned bytes read from an IDX file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdxArray {
    /// Sizes of the dimensions, outermost first (e.g. `[60000, 28, 28]`).
    pub dims: Vec<usize>,
    /// The values, row-major.
    pub values: Vec<u8>,
}

/// Parses IDX bytes, gunzipping them first if they start with the gzip magic.
///
/// # Errors
/// An [`IdxError`] for anything malformed; never panics.
pub fn parse(bytes: &[u8]) -> Result<IdxArray, IdxError> {
    if bytes.starts_with(&GZIP_MAGIC) {
        // The largest valid file: header plus MAX_VALUES; one byte more reveals trailing data.
        let cap = 4 + 4 * MAX_DIMS as u64 + MAX_VALUES + 1;
        let mut raw = Vec::new();
        flate2::read::GzDecoder::new(bytes).take(cap).read_to_end(&mut raw).map_err(|e| IdxError::Gzip(e.to_string()))?;
        parse_raw(&raw)
    } else {
        parse_raw(bytes)
    }
}

fn parse_raw(bytes: &[u8]) -> Result<IdxArray, IdxError> {
    let present = bytes.len() as u64;
    let magic: [u8; 4] = bytes.get(..4).and_then(|m| m.try_into().ok()).ok_or(IdxError::Truncated { needed: 4, present })?;
    if magic[0] != 0 || magic[1] != 0 {
        return Err(IdxError::BadMagic(magic));
    }
    if magic[2] != TYPE_U8 {
        return Err(IdxError::UnsupportedType(magic[2]));
    }
    let ndims = usize::from(magic[3]);
    let header_len = 4 + 4 * ndims;
    let size_bytes = bytes.get(4..header_len).ok_or(IdxError::Truncated { needed: header_len as u64, present })?;
    let sizes: Vec<u32> = size_bytes.chunks_exact(4).map(BigEndian::read_u32).collect();
    let count = sizes.iter().try_fold(1u64, |acc, &d| acc.checked_mul(u64::from(d)).filter(|&n| n <= MAX_VALUES));
    let count = match count {
        Some(n) if (1..=MAX_DIMS).contains(&ndims) && n > 0 => n,
        _ => return Err(IdxError::BadSizes(sizes)),
    };
    let needed = header_len as u64 + count;
    if present < needed {
        return Err(IdxError::Truncated { needed, present });
    }
    if present > needed {
        return Err(IdxError::TrailingBytes(present - needed));
    }
    Ok(IdxArray { dims: sizes.iter().map(|&d| d as usize).collect(), values: bytes[header_len..].to_vec() })
}

/// Writes an array in the IDX format (uncompressed): the inverse of [`parse`].
pub fn to_bytes(array: &IdxArray) -> Vec<u8> {
    let mut out = vec![0, 0, TYPE_U8, array.dims.len() as u8];
    for &d in &array.dims {
        out.extend_from_slice(&(d as u32).to_be_bytes());
    }
    out.extend_from_slice(&array.values);
    out
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use proptest::prelude::*;

    use super::*;

    fn sample() -> IdxArray {
        IdxArray { dims: vec![2, 3, 2], values: (0..12).collect() }
    }

    #[test]
    fn round_trips_plain_and_gzipped() {
        let bytes = to_bytes(&sample());
        assert_eq!(parse(&bytes).unwrap(), sample());
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&bytes).unwrap();
        assert_eq!(parse(&gz.finish().unwrap()).unwrap(), sample());
    }

    #[test]
    fn refuses_what_does_not_fit() {
        let bytes = to_bytes(&sample());
        assert_eq!(parse(&bytes[..bytes.len() - 1]), Err(IdxError::Truncated { needed: 28, present: 27 }));
        assert_eq!(parse(&[bytes.as_slice(), &[9]].concat()), Err(IdxError::TrailingBytes(1)));
        assert_eq!(parse(&[0, 0, 0x0d, 1, 0, 0, 0, 1, 0, 0, 0, 0]), Err(IdxError::UnsupportedType(0x0d)));
        assert_eq!(parse(&[1, 0, 8, 1]), Err(IdxError::BadMagic([1, 0, 8, 1])));
        assert_eq!(parse(&[0, 0, 8, 0]), Err(IdxError::BadSizes(vec![])));
        // 65536^2 values: declared, never allocated.
        assert_eq!(parse(&[0, 0, 8, 2, 0, 1, 0, 0, 0, 1, 0, 0]), Err(IdxError::BadSizes(vec![65536, 65536])));
        assert_eq!(parse(&[0, 0, 8, 1, 0, 0, 0, 0]), Err(IdxError::BadSizes(vec![0])));
        assert!(matches!(parse(&[0x1f, 0x8b, 8, 0, 1, 2]), Err(IdxError::Gzip(_))));
    }

    proptest! {
        #[test]
        fn any_bytes_parse_or_fail_cleanly(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = parse(&bytes);
        }

        #[test]
        fn any_header_after_a_valid_magic_parses_or_fails_cleanly(dims in proptest::collection::vec(any::<u32>(), 0..6), tail in proptest::collection::vec(any::<u8>(), 0..32)) {
            let mut bytes = vec![0, 0, 8, dims.len() as u8];
            for d in &dims {
                bytes.extend_from_slice(&d.to_be_bytes());
            }
            bytes.extend_from_slice(&tail);
            if let Ok(array) = parse(&bytes) {
                prop_assert_eq!(array.values.len(), array.dims.iter().product::<usize>());
            }
        }
    }
}
