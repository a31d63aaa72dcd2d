//! `aec eval-features`: how useful an encoder's codes are as features. k-nearest-neighbour
//! classification of the MNIST test digits (codes of the training digits as the reference set)
//! against the same on the raw pixels, and a 2-D map of the codes (their first two principal
//! components).

use burn::prelude::*;

use crate::error::{Error, Result};

/// Test rows whose distances to every reference row are computed at once (bounds memory to
/// `CHUNK x references` floats).
const CHUNK: usize = 500;

/// Feature vectors of one dimension, row after row, with a class label per row.
#[derive(Debug, Clone)]
pub struct LabelledFeatures {
    /// Values per row.
    pub dim: usize,
    /// `rows x dim` values.
    pub values: Vec<f32>,
    /// One label per row.
    pub labels: Vec<u8>,
}

impl LabelledFeatures {
    /// Number of rows.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there is no row.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    fn check(&self) -> Result<()> {
        if self.dim == 0 || self.values.len() != self.dim * self.len() {
            return Err(Error::InvalidArgument(format!("{} values for {} rows of {}", self.values.len(), self.len(), self.dim)));
        }
        Ok(())
    }
}

/// The `k` nearest reference rows (Euclidean distance) of each query row: `(row, squared
/// distance)` nearest first.
fn nearest(reference: &LabelledFeatures, query: &[f32], dim: usize, k: usize, device: &Device) -> Vec<Vec<(usize, f32)>> {
    let n = reference.len();
    let refs = Tensor::<2>::from_data(TensorData::new(reference.values.clone(), [n, dim]), device);
    let ref_norms = refs.clone().square().sum_dim(1).reshape([1, n]);
    let refs_t = refs.transpose();
    let mut out = Vec::with_capacity(query.len() / dim);
    for chunk in query.chunks(CHUNK * dim) {
        let rows = chunk.len() / dim;
        let q = Tensor::<2>::from_data(TensorData::new(chunk.to_vec(), [rows, dim]), device);
        let q_norms = q.clone().square().sum_dim(1);
        // |q - r|² = |q|² - 2 q·r + |r|²
        let d: Vec<f32> = (q.matmul(refs_t.clone()) * (-2.0) + ref_norms.clone() + q_norms).into_data().try_to_vec().expect("f32 tensor");
        out.extend(d.chunks_exact(n).map(|row| smallest(row, k)));
    }
    out
}

/// Indices and values of the `k` smallest values of a row, smallest first.
fn smallest(row: &[f32], k: usize) -> Vec<(usize, f32)> {
    let mut best: Vec<(usize, f32)> = Vec::with_capacity(k + 1);
    for (i, &d) in row.iter().enumerate() {
        if best.len() < k || d < best[best.len() - 1].1 {
            let at = best.partition_point(|&(_, b)| b <= d);
            best.insert(at, (i, d));
            best.truncate(k);
        }
    }
    best
}

/// The majority label among neighbours (nearest first); a tie goes to the tied label whose
/// first neighbour is nearest.
fn vote(neighbours: &[(usize, f32)], labels: &[u8]) -> u8 {
    let mut counts = [0usize; 256];
    for &(i, _) in neighbours {
        counts[usize::from(labels[i])] += 1;
    }
    let top = counts.iter().copied().max().unwrap_or(0);
    neighbours.iter().map(|&(i, _)| labels[i]).find(|&l| counts[usize::from(l)] == top).unwrap_or(0)
}

/// Fraction of `test` rows whose label the majority of their `k` nearest `reference` rows
/// carries.
///
/// # Errors
/// [`Error::InvalidArgument`] for empty sets, `k == 0` or rows of different dimensions.
pub fn knn_accuracy(reference: &LabelledFeatures, test: &LabelledFeatures, k: usize, device: &Device) -> Result<f64> {
    reference.check()?;
    test.check()?;
    if reference.dim != test.dim || k == 0 || k > reference.len() || test.is_empty() {
        return Err(Error::InvalidArgument(format!("k-NN needs k in 1..={} and rows of one dimension ({} vs {})", reference.len(), reference.dim, test.dim)));
    }
    let found = nearest(reference, &test.values, test.dim, k, device);
    let right = found.iter().zip(&test.labels).filter(|(n, label)| vote(n, &reference.labels) == **label).count();
    Ok(right as f64 / test.len() as f64)
}

/// The first two principal components of the rows (power iteration on the covariance, with
/// deflation), and each row projected on them.
///
/// # Errors
/// [`Error::InvalidArgument`] for fewer than two rows.
pub fn pca_2d(features: &LabelledFeatures) -> Result<Vec<(f64, f64)>> {
    features.check()?;
    let (n, dim) = (features.len(), features.dim);
    if n < 2 {
        return Err(Error::InvalidArgument("a map needs at least two rows".into()));
    }
    let rows = || features.values.chunks_exact(dim);
    let mut mean = vec![0f64; dim];
    for row in rows() {
        mean.iter_mut().zip(row).for_each(|(m, &v)| *m += f64::from(v) / n as f64);
    }
    let mut cov = vec![0f64; dim * dim];
    for row in rows() {
        let c: Vec<f64> = row.iter().zip(&mean).map(|(&v, m)| f64::from(v) - m).collect();
        for i in 0..dim {
            for j in 0..dim {
                cov[i * dim + j] += c[i] * c[j] / (n - 1) as f64;
            }
        }
    }
    let first = top_eigenvector(&cov, dim);
    let lambda: f64 = (0..dim).map(|i| first[i] * (0..dim).map(|j| cov[i * dim + j] * first[j]).sum::<f64>()).sum();
    for i in 0..dim {
        for j in 0..dim {
            cov[i * dim + j] -= lambda * first[i] * first[j];
        }
    }
    let second = top_eigenvector(&cov, dim);
    let project = |row: &[f32], axis: &[f64]| row.iter().zip(&mean).zip(axis).map(|((&v, m), a)| (f64::from(v) - m) * a).sum::<f64>();
    Ok(rows().map(|row| (project(row, &first), project(row, &second))).collect())
}

/// Unit eigenvector of the largest eigenvalue of a symmetric positive semi-definite matrix.
fn top_eigenvector(matrix: &[f64], dim: usize) -> Vec<f64> {
    let mut v: Vec<f64> = (0..dim).map(|i| 1.0 + (i as f64 * 0.618).fract()).collect();
    for _ in 0..500 {
        let w: Vec<f64> = (0..dim).map(|i| (0..dim).map(|j| matrix[i * dim + j] * v[j]).sum()).collect();
        let norm = w.iter().map(|x| x * x).sum::<f64>().sqrt();
        if norm == 0.0 {
            break;
        }
        v = w.into_iter().map(|x| x / norm).collect();
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(dim: usize, rows: &[(&[f32], u8)]) -> LabelledFeatures {
        LabelledFeatures { dim, values: rows.iter().flat_map(|r| r.0.iter().copied()).collect(), labels: rows.iter().map(|r| r.1).collect() }
    }

    #[test]
    fn knn_finds_the_nearest_labels() {
        let device = Device::flex();
        let reference = set(2, &[(&[0.0, 0.0], 0), (&[0.1, 0.0], 0), (&[5.0, 5.0], 1), (&[5.1, 5.0], 1), (&[5.0, 5.2], 1)]);
        let test = set(2, &[(&[0.2, 0.1], 0), (&[4.0, 4.0], 1), (&[4.0, 4.0], 0)]);
        let accuracy = knn_accuracy(&reference, &test, 1, &device).unwrap();
        assert!((accuracy - 2.0 / 3.0).abs() < 1e-12, "{accuracy}");
        // With k = 5 every query sees three 1s and two 0s.
        let accuracy = knn_accuracy(&reference, &test, 5, &device).unwrap();
        assert!((accuracy - 1.0 / 3.0).abs() < 1e-12, "{accuracy}");
        assert!(knn_accuracy(&reference, &test, 6, &device).is_err());
    }

    #[test]
    fn ties_go_to_the_nearest() {
        let labels = [3, 7, 7, 3];
        assert_eq!(vote(&[(3, 0.1), (1, 0.2), (2, 0.3), (0, 0.4)], &labels), 3);
        assert_eq!(smallest(&[5.0, 1.0, 3.0, 0.5, 9.0], 3), vec![(3, 0.5), (1, 1.0), (2, 3.0)]);
    }

    #[test]
    fn pca_finds_the_main_axes() {
        // Points spread along (1, 1, 0) a lot and along (1, -1, 0) a little.
        let rows: Vec<[f32; 3]> = (-10..=10).flat_map(|i| [-1.0f32, 1.0].map(|s| [i as f32 + 0.3 * s, i as f32 - 0.3 * s, 0.0])).collect();
        let features = LabelledFeatures { dim: 3, values: rows.iter().flatten().copied().collect(), labels: vec![0; rows.len()] };
        let map = pca_2d(&features).unwrap();
        let along = map.iter().map(|p| p.0.abs()).fold(0.0, f64::max);
        let across = map.iter().map(|p| p.1.abs()).fold(0.0, f64::max);
        assert!((along - 10.0 * 2f64.sqrt()).abs() < 1e-6, "{along}");
        assert!((across - 0.3 * 2f64.sqrt()).abs() < 1e-6, "{across}");
    }
}
