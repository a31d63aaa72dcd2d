//! The MNIST digits: loading the IDX files and the noise of the denoising tutorial.

pub mod idx;

use std::path::Path;

use rand::Rng;
use rand_distr::{Distribution, Normal};

use crate::error::{Error, Result};

/// Side of an MNIST digit in pixels.
pub const SIDE: usize = 28;
/// Pixels of one digit.
pub const PIXELS: usize = SIDE * SIDE;

/// A set of 28x28 gray digits with their labels.
#[derive(Debug, Clone)]
pub struct Digits {
    /// `len() * 784` bytes, digit after digit, row by row (0 = background).
    pub pixels: Vec<u8>,
    /// The digit each picture shows, 0..=9.
    pub labels: Vec<u8>,
}

impl Digits {
    /// Number of digits.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether the set holds no digit.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The 784 bytes of digit `i`.
    pub fn digit(&self, i: usize) -> &[u8] {
        &self.pixels[i * PIXELS..(i + 1) * PIXELS]
    }

    /// Digits `range` as floats in `0..1`.
    pub fn floats(&self, range: std::ops::Range<usize>) -> Vec<f32> {
        self.pixels[range.start * PIXELS..range.end * PIXELS].iter().map(|&v| f32::from(v) / 255.0).collect()
    }

    /// The digits `start..end` as a new set.
    pub fn slice(&self, start: usize, end: usize) -> Self {
        Self { pixels: self.pixels[start * PIXELS..end * PIXELS].to_vec(), labels: self.labels[start..end].to_vec() }
    }
}

/// The training and test sets of MNIST.
#[derive(Debug, Clone)]
pub struct Mnist {
    /// 60000 training digits.
    pub train: Digits,
    /// 10000 test digits.
    pub test: Digits,
}

impl Mnist {
    /// Reads `train-images-idx3-ubyte`, `train-labels-idx1-ubyte`, `t10k-images-idx3-ubyte`
    /// and `t10k-labels-idx1-ubyte` (each optionally with `.gz`) from `dir`.
    ///
    /// # Errors
    /// [`Error::Io`] for a missing file, [`Error::Idx`] for a malformed one.
    pub fn load(dir: &Path) -> Result<Self> {
        Ok(Self { train: load_set(dir, "train")?, test: load_set(dir, "t10k")? })
    }
}

fn load_set(dir: &Path, prefix: &str) -> Result<Digits> {
    let images = read_idx(&idx_path(dir, &format!("{prefix}-images-idx3-ubyte")))?;
    let labels = read_idx(&idx_path(dir, &format!("{prefix}-labels-idx1-ubyte")))?;
    digits_of(images, Some(labels), &dir.join(prefix))
}

/// The digits of one IDX images file (`...-idx3-ubyte`, optionally `.gz`), labelled from the
/// matching `...-labels-idx1-ubyte[.gz]` beside it when there is one (the flag says whether
/// there was; without, every label is 0).
///
/// # Errors
/// [`Error::Io`] for an unreadable file, [`Error::Idx`] for a malformed one.
pub fn load_images_file(path: &Path) -> Result<(Digits, bool)> {
    let images = read_idx(path)?;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    let labels_name = name.replace("images-idx3", "labels-idx1");
    let labels_path = path.with_file_name(labels_name.trim_end_matches(".gz"));
    let labels_path = if labels_path.is_file() { labels_path } else { path.with_file_name(format!("{}.gz", labels_name.trim_end_matches(".gz"))) };
    let labels = if labels_name != name && labels_path.is_file() { Some(read_idx(&labels_path)?) } else { None };
    let has_labels = labels.is_some();
    Ok((digits_of(images, labels, path)?, has_labels))
}

/// Checks the shapes of an images array (and its labels) and makes a set of digits (labels 0
/// when there are none).
fn digits_of(images: idx::IdxArray, labels: Option<idx::IdxArray>, path: &Path) -> Result<Digits> {
    let bad = |source| Error::Idx { path: path.to_path_buf(), source };
    if images.dims.len() != 3 || images.dims[1] != SIDE || images.dims[2] != SIDE {
        return Err(bad(idx::IdxError::NotDigits(images.dims)));
    }
    let labels = match labels {
        Some(labels) if labels.dims != [images.dims[0]] => return Err(bad(idx::IdxError::LabelCount { labels: labels.dims, images: images.dims[0] })),
        Some(labels) => labels.values,
        None => vec![0; images.dims[0]],
    };
    if let Some(&label) = labels.iter().find(|&&l| l > 9) {
        return Err(bad(idx::IdxError::NotALabel(label)));
    }
    Ok(Digits { pixels: images.values, labels })
}

/// `dir/name`, or `dir/name.gz` when only that exists.
fn idx_path(dir: &Path, name: &str) -> std::path::PathBuf {
    let plain = dir.join(name);
    if plain.is_file() { plain } else { dir.join(format!("{name}.gz")) }
}

fn read_idx(path: &Path) -> Result<idx::IdxArray> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    idx::parse(&bytes).map_err(|source| Error::Idx { path: path.to_path_buf(), source })
}

/// The tutorial's corruption: adds Gaussian noise of standard deviation `sigma` to pixels in
/// `0..1` and clips the result to `0..1`.
pub fn add_noise(pixels: &[f32], sigma: f32, rng: &mut impl Rng) -> Vec<f32> {
    if sigma <= 0.0 {
        return pixels.to_vec();
    }
    let normal = Normal::new(0.0f32, sigma).expect("positive finite sigma");
    pixels.iter().map(|&p| (p + normal.sample(rng)).clamp(0.0, 1.0)).collect()
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    #[test]
    fn noise_has_the_asked_spread_and_stays_in_range() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        let clean = vec![0.5f32; 100_000];
        let noisy = add_noise(&clean, 0.1, &mut rng);
        let var = noisy.iter().map(|v| (v - 0.5) * (v - 0.5)).sum::<f32>() / noisy.len() as f32;
        assert!((var.sqrt() - 0.1).abs() < 0.002, "std {}", var.sqrt());
        let noisy = add_noise(&clean, 2.0, &mut rng);
        assert!(noisy.iter().all(|v| (0.0..=1.0).contains(v)));
        assert_eq!(add_noise(&clean, 0.0, &mut rng), clean);
    }
}
