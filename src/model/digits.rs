//! The classic autoencoders of the tutorials aec grew out of, for 28x28 gray digits:
//!
//! - `dense`: 784 -> 64 (ReLU) -> 784 (sigmoid);
//! - `deep`: 784-512-256-128-64-128-256-512-784, ReLU, sigmoid output;
//! - `conv`: two 3x3 convolutions (32 channels, ReLU) each followed by 2x2 max pooling (a 7x7x32
//!   code), then two 3x3 convolutions each followed by 2x nearest upsampling and a 3x3
//!   convolution to one channel;
//! - `denoise`: the `conv` network, trained on noisy inputs;
//! - `vae`: the variational autoencoder of [`super::vae`] (a 16-value code, its posterior mean).
//!
//! Pure tensors in and out: digits are `[batch, 1, H, W]` in `0..1` (28x28 for the dense
//! models; any multiple of 4 for the convolutional one), the decoder returns logits (apply a
//! sigmoid for pixels).

use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::interpolate::{Interpolate2d, Interpolate2dConfig, InterpolateMode};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{Linear, LinearConfig, PaddingConfig2d};
use burn::prelude::*;
use burn::tensor::activation::{relu, sigmoid};

use super::vae::{VAE_LATENT, VariationalAutoencoder};

/// Side of the digits the dense models take.
pub const DIGIT_SIDE: usize = 28;
/// How much smaller the convolutional code is than the digit, in each direction.
pub const CONV_DOWNSAMPLING: usize = 4;
const CONV_CHANNELS: usize = 32;

/// The tutorial architectures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DigitArch {
    /// 784 -> 64 -> 784.
    Dense,
    /// 784-512-256-128-64 and back.
    Deep,
    /// Convolutions and max pooling down to 7x7x32, upsampling back.
    Conv,
    /// The convolutional network trained to remove noise.
    Denoise,
    /// The variational autoencoder (784-512-256-16 and back, Gaussian posterior).
    Vae,
}

/// What inference needs of a digit model's settings file (`NAME.json`, written by training
/// with more fields, which are ignored here): the architecture, and the noise the model was
/// trained to remove.
#[derive(Config, Debug)]
pub struct DigitModelConfig {
    /// Which network.
    pub arch: DigitArch,
    /// Standard deviation of the Gaussian noise added to the training inputs (0 = clean).
    #[config(default = 0.0)]
    pub noise: f32,
}

impl DigitArch {
    /// All of them, in the order of the tutorials.
    pub const ALL: [Self; 5] = [Self::Dense, Self::Deep, Self::Conv, Self::Denoise, Self::Vae];

    /// The lower-case name used on the command line and for model files.
    pub fn name(self) -> &'static str {
        match self {
            Self::Dense => "dense",
            Self::Deep => "deep",
            Self::Conv => "conv",
            Self::Denoise => "denoise",
            Self::Vae => "vae",
        }
    }

    /// Whether the network is convolutional (any size) rather than dense (28x28 only).
    pub fn is_convolutional(self) -> bool {
        matches!(self, Self::Conv | Self::Denoise)
    }

    /// Channels of the code (for the dense models and the VAE, the values of a `C x 1 x 1` code).
    pub fn code_channels(self) -> usize {
        match self {
            Self::Dense | Self::Deep => 64,
            Self::Conv | Self::Denoise => CONV_CHANNELS,
            Self::Vae => VAE_LATENT,
        }
    }

    /// Builds a freshly initialised network.
    pub fn init(self, device: &Device) -> DigitNet {
        match self {
            Self::Dense => DigitNet::Dense(DenseAutoencoder::new(&[784, 64], device)),
            Self::Deep => DigitNet::Dense(DenseAutoencoder::new(&[784, 512, 256, 128, 64], device)),
            Self::Conv | Self::Denoise => DigitNet::Conv(ConvAutoencoder::new(device)),
            Self::Vae => DigitNet::Vae(VariationalAutoencoder::new(device)),
        }
    }
}

/// A stack of dense layers and its mirror; ReLU everywhere but on the output.
#[derive(Module, Debug)]
pub struct DenseAutoencoder {
    encoder: Vec<Linear>,
    decoder: Vec<Linear>,
}

impl DenseAutoencoder {
    fn new(widths: &[usize], device: &Device) -> Self {
        let layer = |pair: &[usize]| LinearConfig::new(pair[0], pair[1]).init(device);
        let encoder = widths.windows(2).map(layer).collect();
        let reversed: Vec<usize> = widths.iter().rev().copied().collect();
        let decoder = reversed.windows(2).map(layer).collect();
        Self { encoder, decoder }
    }

    fn encode(&self, digits: Tensor<4>) -> Tensor<4> {
        let [batch, _, h, w] = digits.dims();
        let mut x = digits.reshape([batch, h * w]);
        for layer in &self.encoder {
            x = relu(layer.forward(x));
        }
        let code = x.dims()[1];
        x.reshape([batch, code, 1, 1])
    }

    fn decode(&self, code: Tensor<4>) -> Tensor<4> {
        let [batch, channels, _, _] = code.dims();
        let mut x = code.reshape([batch, channels]);
        let last = self.decoder.len() - 1;
        for (i, layer) in self.decoder.iter().enumerate() {
            x = layer.forward(x);
            if i < last {
                x = relu(x);
            }
        }
        x.reshape([batch, 1, DIGIT_SIDE, DIGIT_SIDE])
    }
}

/// The convolutional autoencoder of the tutorial.
#[derive(Module, Debug)]
pub struct ConvAutoencoder {
    encoder: Vec<Conv2d>,
    decoder: Vec<Conv2d>,
    output: Conv2d,
    pool: MaxPool2d,
    upsample: Interpolate2d,
}

fn conv3x3(input: usize, output: usize, device: &Device) -> Conv2d {
    Conv2dConfig::new([input, output], [3, 3]).with_padding(PaddingConfig2d::Same).init(device)
}

impl ConvAutoencoder {
    fn new(device: &Device) -> Self {
        Self {
            encoder: vec![conv3x3(1, CONV_CHANNELS, device), conv3x3(CONV_CHANNELS, CONV_CHANNELS, device)],
            decoder: vec![conv3x3(CONV_CHANNELS, CONV_CHANNELS, device), conv3x3(CONV_CHANNELS, CONV_CHANNELS, device)],
            output: conv3x3(CONV_CHANNELS, 1, device),
            pool: MaxPool2dConfig::new([2, 2]).init(),
            upsample: Interpolate2dConfig::new().with_scale_factor(Some([2.0, 2.0])).with_mode(InterpolateMode::Nearest).init(),
        }
    }

    fn encode(&self, digits: Tensor<4>) -> Tensor<4> {
        self.encoder.iter().fold(digits, |x, conv| self.pool.forward(relu(conv.forward(x))))
    }

    fn decode(&self, code: Tensor<4>) -> Tensor<4> {
        let x = self.decoder.iter().fold(code, |x, conv| self.upsample.forward(relu(conv.forward(x))));
        self.output.forward(x)
    }
}

/// One of the tutorial networks.
#[derive(Module, Debug)]
pub enum DigitNet {
    /// `dense` or `deep`.
    Dense(DenseAutoencoder),
    /// `conv` or `denoise`.
    Conv(ConvAutoencoder),
    /// `vae`.
    Vae(VariationalAutoencoder),
}

impl DigitNet {
    /// The code of a batch of digits: `[batch, 64, 1, 1]` for the dense models,
    /// `[batch, 32, H/4, W/4]` for the convolutional ones (ReLU outputs, >= 0), the posterior
    /// mean `[batch, 16, 1, 1]` for the VAE.
    pub fn encode(&self, digits: Tensor<4>) -> Tensor<4> {
        match self {
            Self::Dense(net) => net.encode(digits),
            Self::Conv(net) => net.encode(digits),
            Self::Vae(net) => net.encode(digits),
        }
    }

    /// Logits of the pixels rebuilt from a code.
    pub fn decode_logits(&self, code: Tensor<4>) -> Tensor<4> {
        match self {
            Self::Dense(net) => net.decode(code),
            Self::Conv(net) => net.decode(code),
            Self::Vae(net) => net.decode(code),
        }
    }

    /// Pixels in `0..1` rebuilt from a code.
    pub fn decode(&self, code: Tensor<4>) -> Tensor<4> {
        sigmoid(self.decode_logits(code))
    }

    /// Encoder then decoder: logits of the reconstruction.
    pub fn forward_logits(&self, digits: Tensor<4>) -> Tensor<4> {
        self.decode_logits(self.encode(digits))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_have_the_tutorial_shapes() {
        let device = Device::flex();
        let digits = Tensor::<4>::zeros([2, 1, 28, 28], &device);
        for (arch, code) in [
            (DigitArch::Dense, [2, 64, 1, 1]),
            (DigitArch::Deep, [2, 64, 1, 1]),
            (DigitArch::Conv, [2, 32, 7, 7]),
            (DigitArch::Denoise, [2, 32, 7, 7]),
            (DigitArch::Vae, [2, VAE_LATENT, 1, 1]),
        ] {
            let net = arch.init(&device);
            let y = net.encode(digits.clone());
            assert_eq!(y.dims(), code, "{arch:?}");
            assert_eq!(arch.code_channels(), code[1], "{arch:?}");
            assert_eq!(net.decode(y).dims(), [2, 1, 28, 28], "{arch:?}");
        }
    }

    #[test]
    fn the_conv_model_takes_any_multiple_of_four() {
        let device = Device::flex();
        let net = DigitArch::Conv.init(&device);
        let y = net.encode(Tensor::<4>::zeros([1, 1, 12, 40], &device));
        assert_eq!(y.dims(), [1, 32, 3, 10]);
        assert_eq!(net.decode(y).dims(), [1, 1, 12, 40]);
    }
}
