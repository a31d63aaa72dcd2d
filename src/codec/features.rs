//! The encoder as a feature extractor: the unquantized code of each picture as a model's
//! analysis transform gives it — a digit model's 64-value (dense, deep) or 16-value (VAE) code,
//! the 32 x H/4 x W/4 maps of the convolutional digit models, a photo model's latents.

use burn::prelude::*;
use image::DynamicImage;
use npyz::WriterBuilder;

use super::digits::DigitCodec;
use super::registry::AnyCodec;
use crate::error::{Error, Result};
use crate::mnist::{Digits, SIDE};

/// Digits run through a network at once.
const DIGIT_BATCH: usize = 1000;

/// Codes of `shape[0]` pictures, each of shape `shape[1..]` (channels, height, width), in C
/// order.
#[derive(Debug, Clone, PartialEq)]
pub struct Features {
    /// `[pictures, channels, height, width]`.
    pub shape: [usize; 4],
    /// All values, picture after picture.
    pub values: Vec<f32>,
}

impl Features {
    fn from_tensor(code: Tensor<4>) -> Result<Self> {
        let shape = code.dims();
        let values = code.into_data().try_to_vec::<f32>().map_err(|e| Error::Model(format!("{e:?}")))?;
        Ok(Self { shape, values })
    }

    /// The shape without trailing 1x1 spatial axes: `[pictures, channels]` for codes that are
    /// vectors (the dense digit models, the VAE), else `[pictures, channels, height, width]`.
    pub fn array_shape(&self) -> Vec<usize> {
        match self.shape {
            [n, c, 1, 1] => vec![n, c],
            s => s.to_vec(),
        }
    }

    /// Values of one picture's code.
    pub fn per_picture(&self) -> usize {
        self.shape[1] * self.shape[2] * self.shape[3]
    }

    /// The codes of several batches as one.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when the codes differ in shape (pictures of different sizes
    /// give photo and convolutional codes of different sizes).
    pub fn concat(parts: Vec<Features>) -> Result<Self> {
        let mut parts = parts.into_iter();
        let mut all = parts.next().ok_or_else(|| Error::InvalidArgument("no pictures to encode".into()))?;
        for part in parts {
            if part.shape[1..] != all.shape[1..] {
                return Err(Error::InvalidArgument(format!(
                    "codes of shape {:?} and {:?} cannot share one array: give pictures of one size, or encode them one at a time",
                    &all.shape[1..],
                    &part.shape[1..]
                )));
            }
            all.shape[0] += part.shape[0];
            all.values.extend(part.values);
        }
        Ok(all)
    }
}

/// The code of one picture under any model: a digit model's code of the picture made gray (28x28
/// for the dense models and the VAE), a photo model's latents (the built-in scale uses its
/// default model).
///
/// # Errors
/// [`Error::InvalidArgument`] for a picture the model cannot take or beyond the limits.
pub fn encode_features(codec: &AnyCodec, picture: &DynamicImage) -> Result<Features> {
    match codec {
        AnyCodec::Digits(digits) => Features::from_tensor(digits.code_of(picture)?),
        AnyCodec::Photo(photo) => Features::from_tensor(photo.latents(picture)?),
    }
}

/// The codes of a set of MNIST digits, in batches.
///
/// # Errors
/// [`Error::InvalidArgument`] for an empty set.
pub fn digit_features(codec: &DigitCodec, digits: &Digits) -> Result<Features> {
    let batches = (0..digits.len())
        .step_by(DIGIT_BATCH)
        .map(|start| {
            let end = (start + DIGIT_BATCH).min(digits.len());
            codec.unquantized_codes(&digits.floats(start..end), end - start, SIDE, SIDE).and_then(Features::from_tensor)
        })
        .collect::<Result<Vec<_>>>()?;
    Features::concat(batches)
}

/// A NumPy `.npy` file (version 1.0, little-endian, C order) of an array.
pub fn npy<T: npyz::AutoSerialize + Copy>(shape: &[usize], values: &[T]) -> Vec<u8> {
    let shape: Vec<u64> = shape.iter().map(|&d| d as u64).collect();
    let mut out = std::io::Cursor::new(Vec::new());
    let write = |out: &mut std::io::Cursor<Vec<u8>>| -> std::io::Result<()> {
        let mut writer = npyz::WriteOptions::<T>::new().default_dtype().shape(&shape).writer(out).begin_nd()?;
        writer.extend(values.iter().copied())?;
        writer.finish()
    };
    write(&mut out).expect("writing to memory cannot fail");
    out.into_inner()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_concat_and_squeeze() {
        let a = Features { shape: [1, 4, 1, 1], values: vec![1.0; 4] };
        let b = Features { shape: [2, 4, 1, 1], values: vec![2.0; 8] };
        let all = Features::concat(vec![a, b]).unwrap();
        assert_eq!(all.shape, [3, 4, 1, 1]);
        assert_eq!(all.array_shape(), vec![3, 4]);
        assert_eq!(all.values[3..5], [1.0, 2.0]);
        let c = Features { shape: [1, 4, 2, 1], values: vec![0.0; 8] };
        assert_eq!(c.array_shape(), vec![1, 4, 2, 1]);
        assert!(Features::concat(vec![all, c]).is_err());
        assert!(Features::concat(vec![]).is_err());
    }

    #[test]
    fn npy_has_numpy_header_and_data() {
        let bytes = npy(&[2, 3], &[1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0]);
        assert_eq!(&bytes[..6], b"\x93NUMPY");
        let header_len = usize::from(u16::from_le_bytes([bytes[8], bytes[9]]));
        let header = std::str::from_utf8(&bytes[10..10 + header_len]).unwrap();
        assert!(header.contains("'descr': '<f4'") && header.contains("'shape': (2, 3, )"), "{header}");
        assert_eq!((10 + header_len) % 64, 0);
        assert_eq!(&bytes[10 + header_len..10 + header_len + 4], &1.0f32.to_le_bytes());
        assert_eq!(bytes.len(), 10 + header_len + 24);
        let labels = npy(&[3], &[7u8, 1, 9]);
        assert_eq!(&labels[labels.len() - 3..], &[7, 1, 9]);
    }
}
