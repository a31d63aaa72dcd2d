//! Colourisation: a small convolutional network that predicts the chroma of a photo from its
//! luma. Four 3x3 convolutions of stride 2 (32, 64, 64, 96 channels, ReLU) take the luma to
//! 1/16 of its size, two dilated 3x3 convolutions there widen the view (a receptive field of
//! about 100 pixels: enough to tell sky from grass), two upsampling stages (nearest 2x, then a 3x3
//! convolution) come back to 1/4, a 1x1 convolution gives Cb and Cr, and bilinear 4x upsampling
//! gives them at full size (chroma is smooth; JPEG keeps it at half size).
//!
//! Luma and chroma are JPEG's YCbCr on `0..1` samples, chroma centred on 0 (`−0.5..0.5`).
//! Pictures must be a multiple of [`COLORIZE_MULTIPLE`] in each direction.

use burn::nn::PaddingConfig2d;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::interpolate::{Interpolate2d, Interpolate2dConfig, InterpolateMode};
use burn::prelude::*;
use burn::tensor::activation::relu;

/// Pictures given to the network are a multiple of this in each direction.
pub const COLORIZE_MULTIPLE: usize = 16;

fn conv(input: usize, output: usize, stride: usize, dilation: usize, device: &Device) -> Conv2d {
    Conv2dConfig::new([input, output], [3, 3])
        .with_stride([stride, stride])
        .with_dilation([dilation, dilation])
        .with_padding(PaddingConfig2d::Explicit(dilation, dilation, dilation, dilation))
        .init(device)
}

fn upsample(factor: f32, mode: InterpolateMode) -> Interpolate2d {
    Interpolate2dConfig::new().with_scale_factor(Some([factor, factor])).with_mode(mode).init()
}

/// The colourisation network.
#[derive(Module, Debug)]
pub struct ColorizeNet {
    down: Vec<Conv2d>,
    context: Vec<Conv2d>,
    up: Vec<Conv2d>,
    head: Conv2d,
    double: Interpolate2d,
    to_full: Interpolate2d,
}

impl ColorizeNet {
    /// A freshly initialised network.
    pub fn new(device: &Device) -> Self {
        Self {
            down: vec![conv(1, 32, 2, 1, device), conv(32, 64, 2, 1, device), conv(64, 64, 2, 1, device), conv(64, 96, 2, 1, device)],
            context: vec![conv(96, 96, 1, 2, device), conv(96, 96, 1, 2, device)],
            up: vec![conv(96, 64, 1, 1, device), conv(64, 32, 1, 1, device)],
            head: Conv2dConfig::new([32, 2], [1, 1]).init(device),
            double: upsample(2.0, InterpolateMode::Nearest),
            to_full: upsample(4.0, InterpolateMode::Linear),
        }
    }

    /// Chroma `[batch, 2, H, W]` (Cb, Cr, centred) predicted from luma `[batch, 1, H, W]` in
    /// `0..1`, H and W multiples of [`COLORIZE_MULTIPLE`].
    pub fn forward(&self, luma: Tensor<4>) -> Tensor<4> {
        let x = self.down.iter().fold(luma.sub_scalar(0.5), |x, c| relu(c.forward(x)));
        let x = self.context.iter().fold(x, |x, c| relu(c.forward(x)));
        let x = self.up.iter().fold(x, |x, c| relu(c.forward(self.double.forward(x))));
        self.to_full.forward(self.head.forward(x))
    }
}

/// Luma `[batch, 1, H, W]` and chroma `[batch, 2, H, W]` of planar RGB `[batch, 3, H, W]` in
/// `0..1` (JPEG's full-range YCbCr, chroma centred on 0).
pub fn split_luma_chroma(rgb: Tensor<4>) -> (Tensor<4>, Tensor<4>) {
    let [batch, _, h, w] = rgb.dims();
    let channel = |i: usize| rgb.clone().slice([0..batch, i..i + 1, 0..h, 0..w]);
    let (r, g, b) = (channel(0), channel(1), channel(2));
    let y = r.clone() * 0.299 + g.clone() * 0.587 + b.clone() * 0.114;
    let cb = r.clone() * -0.168_736 + g.clone() * -0.331_264 + b.clone() * 0.5;
    let cr = r * 0.5 + g * -0.418_688 + b * -0.081_312;
    (y, Tensor::cat(vec![cb, cr], 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chroma_comes_out_at_the_size_of_the_luma() {
        let device = Device::flex();
        let net = ColorizeNet::new(&device);
        for (h, w) in [(16, 16), (48, 80)] {
            let out = net.forward(Tensor::<4>::zeros([2, 1, h, w], &device));
            assert_eq!(out.dims(), [2, 2, h, w]);
        }
    }

    #[test]
    fn gray_has_no_chroma_and_colours_have_the_jpeg_signs() {
        let device = Device::flex();
        // Pixels: gray 0.5, pure blue, pure red.
        let rgb = vec![0.5f32, 0.0, 1.0, 0.5, 0.0, 0.0, 0.5, 1.0, 0.0];
        let rgb = Tensor::<4>::from_data(TensorData::new(rgb, [1, 3, 1, 3]), &device);
        let (y, c) = split_luma_chroma(rgb);
        let y: Vec<f32> = y.into_data().try_to_vec().unwrap();
        let c: Vec<f32> = c.into_data().try_to_vec().unwrap();
        assert!((y[0] - 0.5).abs() < 1e-5 && (y[1] - 0.114).abs() < 1e-5 && (y[2] - 0.299).abs() < 1e-5, "{y:?}");
        // Cb of gray, blue, red; then Cr of the same.
        assert!(c[0].abs() < 1e-5 && (c[1] - 0.5).abs() < 1e-5 && c[2] < 0.0, "{c:?}");
        assert!(c[3].abs() < 1e-5 && c[4] < 0.0 && (c[5] - 0.5).abs() < 1e-5, "{c:?}");
    }
}
