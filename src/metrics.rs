//! Image-quality metrics on 8-bit images: PSNR and MS-SSIM.
//!
//! MS-SSIM follows Wang, Simoncelli & Bovik (2003) as the learned-compression literature
//! computes it (e.g. `pytorch_msssim`): an 11x11 Gaussian window with σ = 1.5, valid
//! filtering (no padding), `K1 = 0.01`, `K2 = 0.03`, five scales with weights
//! `[0.0448, 0.2856, 0.3001, 0.2363, 0.1333]`, 2x2 average pooling between scales;
//! contrast-structure terms at the first four scales, the full SSIM at the last, each clamped
//! at zero, combined per channel and averaged over the channels.

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

const WINDOW: usize = 11;
const SIGMA: f64 = 1.5;
const SCALE_WEIGHTS: [f64; 5] = [0.0448, 0.2856, 0.3001, 0.2363, 0.1333];
const C1: f64 = (0.01 * 255.0) * (0.01 * 255.0);
const C2: f64 = (0.03 * 255.0) * (0.03 * 255.0);

/// Smallest side for which MS-SSIM is defined: the 11-pixel window must fit at the fifth scale.
pub const MS_SSIM_MIN_SIDE: usize = (WINDOW - 1) * 16 + 1;

/// One channel as floats.
#[derive(Clone)]
struct Plane {
    width: usize,
    height: usize,
    data: Vec<f64>,
}

fn gaussian_kernel() -> [f64; WINDOW] {
    let mut k = [0.0; WINDOW];
    let center = (WINDOW / 2) as f64;
    for (i, v) in k.iter_mut().enumerate() {
        *v = (-((i as f64 - center).powi(2)) / (2.0 * SIGMA * SIGMA)).exp();
    }
    let sum: f64 = k.iter().sum();
    k.map(|v| v / sum)
}

/// Separable Gaussian filtering without padding ("valid").
fn blur(p: &Plane, k: &[f64; WINDOW]) -> Plane {
    let (w, h) = (p.width - WINDOW + 1, p.height - WINDOW + 1);
    let mut rows = vec![0.0; w * p.height];
    for y in 0..p.height {
        for x in 0..w {
            rows[y * w + x] = (0..WINDOW).map(|i| k[i] * p.data[y * p.width + x + i]).sum();
        }
    }
    let mut out = vec![0.0; w * h];
    for y in 0..h {
        for x in 0..w {
            out[y * w + x] = (0..WINDOW).map(|i| k[i] * rows[(y + i) * w + x]).sum();
        }
    }
    Plane { width: w, height: h, data: out }
}

fn map(a: &Plane, b: &Plane, f: impl Fn(f64, f64) -> f64) -> Plane {
    Plane { width: a.width, height: a.height, data: a.data.iter().zip(&b.data).map(|(&x, &y)| f(x, y)).collect() }
}

/// Mean SSIM and mean contrast-structure term of one scale.
fn ssim_and_cs(x: &Plane, y: &Plane, k: &[f64; WINDOW]) -> (f64, f64) {
    let (mx, my) = (blur(x, k), blur(y, k));
    let sxx = blur(&map(x, x, |a, b| a * b), k);
    let syy = blur(&map(y, y, |a, b| a * b), k);
    let sxy = blur(&map(x, y, |a, b| a * b), k);
    let n = mx.data.len() as f64;
    let (mut ssim, mut cs) = (0.0, 0.0);
    for i in 0..mx.data.len() {
        let (ux, uy) = (mx.data[i], my.data[i]);
        let vx = sxx.data[i] - ux * ux;
        let vy = syy.data[i] - uy * uy;
        let cov = sxy.data[i] - ux * uy;
        let c = (2.0 * cov + C2) / (vx + vy + C2);
        cs += c;
        ssim += c * (2.0 * ux * uy + C1) / (ux * ux + uy * uy + C1);
    }
    (ssim / n, cs / n)
}

/// 2x2 average pooling (odd trailing rows/columns dropped).
fn downsample(p: &Plane) -> Plane {
    let (w, h) = (p.width / 2, p.height / 2);
    let mut data = Vec::with_capacity(w * h);
    for y in 0..h {
        for x in 0..w {
            let at = |dy: usize, dx: usize| p.data[(2 * y + dy) * p.width + 2 * x + dx];
            data.push((at(0, 0) + at(0, 1) + at(1, 0) + at(1, 1)) / 4.0);
        }
    }
    Plane { width: w, height: h, data }
}

/// MS-SSIM of two 8-bit images of `width x height` with `channels` interleaved channels,
/// averaged over the channels; `None` if a side is below [`MS_SSIM_MIN_SIDE`].
///
/// # Panics
/// If a buffer's length is not `width * height * channels`.
pub fn ms_ssim(a: &[u8], b: &[u8], width: usize, height: usize, channels: usize) -> Option<f64> {
    assert_eq!(a.len(), width * height * channels, "first image has the wrong size");
    assert_eq!(b.len(), width * height * channels, "second image has the wrong size");
    if width < MS_SSIM_MIN_SIDE || height < MS_SSIM_MIN_SIDE {
        return None;
    }
    let kernel = gaussian_kernel();
    let plane = |img: &[u8], c: usize| Plane { width, height, data: img.iter().skip(c).step_by(channels).map(|&v| f64::from(v)).collect() };
    let mut total = 0.0;
    for c in 0..channels {
        let (mut x, mut y) = (plane(a, c), plane(b, c));
        let mut value = 1.0;
        for (scale, weight) in SCALE_WEIGHTS.iter().enumerate() {
            let (ssim, cs) = ssim_and_cs(&x, &y, &kernel);
            let term = if scale + 1 == SCALE_WEIGHTS.len() { ssim } else { cs };
            value *= term.max(0.0).powf(*weight);
            x = downsample(&x);
            y = downsample(&y);
        }
        total += value;
    }
    Some(total / channels as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_images_have_infinite_psnr_and_ms_ssim_one() {
        assert_eq!(psnr(&[1, 2, 3], &[1, 2, 3]), f64::INFINITY);
        let img: Vec<u8> = (0..200 * 180).map(|i| (i * 7 % 251) as u8).collect();
        assert!((ms_ssim(&img, &img, 200, 180, 1).unwrap() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn ms_ssim_matches_an_independent_numpy_implementation() {
        // The same pictures and value as scripts/ms_ssim_reference.py.
        let (w, h) = (200usize, 190usize);
        let mut a = Vec::new();
        let mut b = Vec::new();
        for y in 0..h {
            for x in 0..w {
                let v = ((x * 3 + y * 5 + (x * y) % 17) % 256) as i64;
                a.push(v as u8);
                b.push((v + ((x * 13 + y * 7) % 21) as i64 - 10).clamp(0, 255) as u8);
            }
        }
        let value = ms_ssim(&a, &b, w, h, 1).unwrap();
        assert!((value - 0.993_949_008_9).abs() < 1e-9, "{value}");
    }

    #[test]
    fn an_offset_of_one_gives_48_13_db() {
        let a = vec![100u8; 64];
        let b = vec![101u8; 64];
        assert!((psnr(&a, &b) - 48.1308).abs() < 1e-3);
    }

    #[test]
    fn ms_ssim_is_undefined_below_the_minimum_size() {
        let img = vec![0u8; 100 * 100];
        assert_eq!(ms_ssim(&img, &img, 100, 100, 1), None);
    }
}
