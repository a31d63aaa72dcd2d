//! Image-quality metrics on 8-bit images: PSNR (and MS-SSIM).

/// PSNR in dB of a mean squared error measured on the 0..255 scale
/// (`f64::INFINITY` when the error is zero).
pub fn psnr_from_mse(mse: f64) -> f64 {
    if mse <= 0.0 { f64::INFINITY } else { 10.0 * (255.0 * 255.0 / mse).log10() }
}

/// Mean squared error between two equally long 8-bit sample buffers.
///
/// # Panics
/// If the buffers differ in length (a programming error, not a data error).
pub fn mse(a: &[u8], b: &[u8]) -> f64 {
    assert_eq!(a.len(), b.len(), "mse of buffers of different lengths");
    if a.is_empty() {
        return 0.0;
    }
    let sum: f64 = a.iter().zip(b).map(|(&x, &y)| (f64::from(x) - f64::from(y)).powi(2)).sum();
    sum / a.len() as f64
}

/// PSNR in dB between two equally long 8-bit sample buffers.
pub fn psnr(a: &[u8], b: &[u8]) -> f64 {
    psnr_from_mse(mse(a, b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_images_have_infinite_psnr() {
        assert_eq!(psnr(&[1, 2, 3], &[1, 2, 3]), f64::INFINITY);
    }

    #[test]
    fn an_offset_of_one_gives_48_13_db() {
        let a = vec![100u8; 64];
        let b = vec![101u8; 64];
        assert!((psnr(&a, &b) - 48.1308).abs() < 1e-3);
    }
}
