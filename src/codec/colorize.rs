//! Colourisation of gray pictures with the network of [`crate::model::colorize`]: the luma of
//! the picture (colour pictures are made gray first), padded by edge replication to a multiple
//! of 16, the predicted chroma, back to RGB. Also the measurement of how close the colours come
//! to a photo's own.

use std::path::Path;

use burn::prelude::*;
use image::{DynamicImage, RgbImage};

use super::pixels::{Pixels, to_padded_planes};
use crate::error::{Error, Result};
use crate::model::colorize::{COLORIZE_MULTIPLE, ColorizeNet};

/// The luma of an RGB pixel (JPEG's YCbCr, full range, 0..255).
fn luma(p: &image::Rgb<u8>) -> f32 {
    0.299 * f32::from(p[0]) + 0.587 * f32::from(p[1]) + 0.114 * f32::from(p[2])
}

/// Cb and Cr of an RGB pixel on the 0..1 scale, centred on 0.
fn chroma(p: &image::Rgb<u8>) -> (f32, f32) {
    let [r, g, b] = p.0.map(|v| f32::from(v) / 255.0);
    (-0.168_736 * r - 0.331_264 * g + 0.5 * b, 0.5 * r - 0.418_688 * g - 0.081_312 * b)
}

/// The gray version of a picture: its luma, rounded to 8 bits.
pub fn gray_of(picture: &DynamicImage) -> image::GrayImage {
    let rgb = picture.to_rgb8();
    image::GrayImage::from_fn(rgb.width(), rgb.height(), |x, y| image::Luma([luma(rgb.get_pixel(x, y)).round().clamp(0.0, 255.0) as u8]))
}

/// A trained colourisation network ready to run.
pub struct Colorizer {
    net: ColorizeNet,
    device: Device,
}

impl std::fmt::Debug for Colorizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Colorizer").finish_non_exhaustive()
    }
}

impl Colorizer {
    /// The network from the bytes of its weights (burnpack, as `aec train --arch colorize`
    /// writes them).
    ///
    /// # Errors
    /// [`Error::Model`] if the bytes are not this network's weights.
    pub fn from_bytes(weights: &[u8], device: Device) -> Result<Self> {
        Self::from_weights(&super::Weights::File(weights.to_vec()), device)
    }

    /// The network from its weights, built in or read from a file.
    pub(crate) fn from_weights(weights: &super::Weights, device: Device) -> Result<Self> {
        let mut net = ColorizeNet::new(&device);
        weights.load_into(&mut net, super::every_tensor)?;
        Ok(Self { net, device })
    }

    /// The network from a weights file.
    ///
    /// # Errors
    /// [`Error::Io`] or [`Error::Model`].
    pub fn from_file(weights: &Path, device: Device) -> Result<Self> {
        Self::from_bytes(&std::fs::read(weights).map_err(|e| Error::io(weights, e))?, device)
    }

    /// The picture made gray, then coloured by the network (RGB, the size of the input).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for an empty picture.
    pub fn colorize(&self, picture: &DynamicImage) -> Result<RgbImage> {
        let gray = gray_of(picture);
        let (w, h) = (gray.width() as usize, gray.height() as usize);
        if w == 0 || h == 0 {
            return Err(Error::InvalidArgument("cannot colourise an empty picture".into()));
        }
        let pixels = Pixels { width: w, height: h, channels: 1, samples: gray.as_raw().clone() };
        let (planes, ph, pw) = to_padded_planes(&pixels, COLORIZE_MULTIPLE);
        let luma = Tensor::<4>::from_data(TensorData::new(planes[..ph * pw].to_vec(), [1, 1, ph, pw]), &self.device);
        let chroma: Vec<f32> = self.net.forward(luma).into_data().try_to_vec().map_err(|e| Error::Model(format!("{e:?}")))?;
        let (cb, cr) = chroma.split_at(ph * pw);
        Ok(RgbImage::from_fn(w as u32, h as u32, |x, y| {
            let i = y as usize * pw + x as usize;
            let yv = f32::from(gray.get_pixel(x, y)[0]) / 255.0;
            let rgb = [yv + 1.402 * cr[i], yv - 0.344_136 * cb[i] - 0.714_136 * cr[i], yv + 1.772 * cb[i]];
            image::Rgb(rgb.map(|v| (v * 255.0).round().clamp(0.0, 255.0) as u8))
        }))
    }
}

/// How close a colourised picture comes to the original photo.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct ColourError {
    /// Mean squared Cb/Cr error (0..1 scale) of the gray picture (zero chroma).
    pub gray_chroma_mse: f64,
    /// Mean squared Cb/Cr error of the colourised picture.
    pub chroma_mse: f64,
    /// RGB PSNR of the gray picture against the original.
    pub gray_psnr: f64,
    /// RGB PSNR of the colourised picture against the original.
    pub psnr: f64,
}

/// Compares the gray and colourised versions of a photo with the photo.
///
/// # Errors
/// [`Error::InvalidArgument`] if the sizes differ.
pub fn colour_error(original: &DynamicImage, colourised: &RgbImage) -> Result<ColourError> {
    let original = original.to_rgb8();
    if original.dimensions() != colourised.dimensions() {
        return Err(Error::InvalidArgument("the colourised picture differs in size from the original".into()));
    }
    let gray = DynamicImage::ImageLuma8(gray_of(&DynamicImage::ImageRgb8(original.clone()))).to_rgb8();
    let (mut zero, mut err) = (0.0f64, 0.0f64);
    for (o, c) in original.pixels().zip(colourised.pixels()) {
        let ((ob, or), (cb, cr)) = (chroma(o), chroma(c));
        zero += f64::from(ob * ob + or * or);
        err += f64::from((ob - cb).powi(2) + (or - cr).powi(2));
    }
    let n = 2.0 * original.pixels().len() as f64;
    Ok(ColourError {
        gray_chroma_mse: zero / n,
        chroma_mse: err / n,
        gray_psnr: crate::metrics::psnr(original.as_raw(), gray.as_raw()),
        psnr: crate::metrics::psnr(original.as_raw(), colourised.as_raw()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_gray_picture_has_no_chroma_error_against_itself() {
        let gray = DynamicImage::ImageLuma8(image::GrayImage::from_fn(20, 10, |x, _| image::Luma([(x * 12) as u8])));
        let error = colour_error(&gray, &gray.to_rgb8()).unwrap();
        assert!(error.gray_chroma_mse < 1e-12 && error.chroma_mse < 1e-12, "{error:?}");
        let red = DynamicImage::ImageRgb8(RgbImage::from_pixel(4, 4, image::Rgb([255, 0, 0])));
        let error = colour_error(&red, &red.to_rgb8()).unwrap();
        // Cb = -0.1687, Cr = 0.5 for pure red.
        assert!((error.gray_chroma_mse - (0.168_736f64.powi(2) + 0.25) / 2.0).abs() < 1e-6, "{error:?}");
        assert!(error.chroma_mse < 1e-12);
    }
}
