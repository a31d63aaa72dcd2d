//! The variational autoencoder of the tutorials, for 28x28 gray digits (Kingma & Welling 2014):
//!
//! - encoder 784-512-256 (ReLU), then two heads giving the mean `μ` and the log-variance
//!   `ln σ²` of a diagonal Gaussian posterior over a [`VAE_LATENT`]-value code;
//! - decoder `VAE_LATENT`-256-512-784 (ReLU), Bernoulli logits out;
//! - prior: the standard normal. The training loss is the negative evidence lower bound
//!   (ELBO) per digit in nats: the reconstruction's binary cross-entropy summed over the 784
//!   pixels plus the KL divergence of the posterior from the prior.
//!
//! The noise of the reparameterisation trick is passed in, so that callers decide where it
//! comes from (a seeded generator makes sampling and training repeatable).

use burn::nn::{Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::activation::{log_sigmoid, relu};

use super::digits::DIGIT_SIDE;

/// Values in the VAE's code (the dimension of its latent space).
pub const VAE_LATENT: usize = 16;
const HIDDEN: [usize; 3] = [DIGIT_SIDE * DIGIT_SIDE, 512, 256];

/// The two parts of the negative ELBO of each digit of a batch, in nats.
#[derive(Debug)]
pub struct NegativeElbo {
    /// `[batch]`: binary cross-entropy of the reconstruction, summed over the pixels.
    pub reconstruction: Tensor<1>,
    /// `[batch]`: KL divergence of the posterior from the standard normal prior.
    pub kl: Tensor<1>,
}

impl NegativeElbo {
    /// The mean over the batch of reconstruction + KL: the training loss.
    pub fn mean(&self) -> Tensor<1> {
        (self.reconstruction.clone() + self.kl.clone()).mean()
    }
}

/// The variational autoencoder.
#[derive(Module, Debug)]
pub struct VariationalAutoencoder {
    encoder: Vec<Linear>,
    mean: Linear,
    log_variance: Linear,
    decoder: Vec<Linear>,
}

impl VariationalAutoencoder {
    /// A freshly initialised network.
    pub fn new(device: &Device) -> Self {
        let layer = |pair: &[usize]| LinearConfig::new(pair[0], pair[1]).init(device);
        let last = HIDDEN[HIDDEN.len() - 1];
        let mut widths: Vec<usize> = vec![VAE_LATENT];
        widths.extend(HIDDEN.iter().rev());
        Self {
            encoder: HIDDEN.windows(2).map(layer).collect(),
            mean: LinearConfig::new(last, VAE_LATENT).init(device),
            log_variance: LinearConfig::new(last, VAE_LATENT).init(device),
            decoder: widths.windows(2).map(layer).collect(),
        }
    }

    /// Mean and log-variance `[batch, VAE_LATENT]` of the posterior of digits `[batch, 1, 28, 28]`.
    pub fn posterior(&self, digits: Tensor<4>) -> (Tensor<2>, Tensor<2>) {
        let [batch, _, h, w] = digits.dims();
        let x = self.encoder.iter().fold(digits.reshape([batch, h * w]), |x, layer| relu(layer.forward(x)));
        (self.mean.forward(x.clone()), self.log_variance.forward(x))
    }

    /// The code of a batch of digits: the posterior mean, `[batch, VAE_LATENT, 1, 1]`.
    pub fn encode(&self, digits: Tensor<4>) -> Tensor<4> {
        let (mean, _) = self.posterior(digits);
        let [batch, latent] = mean.dims();
        mean.reshape([batch, latent, 1, 1])
    }

    /// Bernoulli logits `[batch, 1, 28, 28]` of the digits of codes `[batch, VAE_LATENT, 1, 1]`.
    pub fn decode(&self, code: Tensor<4>) -> Tensor<4> {
        let [batch, latent, _, _] = code.dims();
        let last = self.decoder.len() - 1;
        let x = self.decoder.iter().enumerate().fold(code.reshape([batch, latent]), |x, (i, layer)| {
            let x = layer.forward(x);
            if i < last { relu(x) } else { x }
        });
        x.reshape([batch, 1, DIGIT_SIDE, DIGIT_SIDE])
    }

    /// The negative ELBO of target digits given inputs (the same digits, or noisy ones), with
    /// one sample `z = μ + σ·ε` of the posterior, `noise` being `ε` (`[batch, VAE_LATENT]`,
    /// standard normal; zeros give the posterior mean).
    pub fn negative_elbo(&self, inputs: Tensor<4>, targets: Tensor<4>, noise: Tensor<2>) -> NegativeElbo {
        let (mean, log_variance) = self.posterior(inputs);
        let [batch, latent] = mean.dims();
        let z = mean.clone() + (log_variance.clone() * 0.5).exp() * noise;
        let logits = self.decode(z.reshape([batch, latent, 1, 1])).reshape([batch, DIGIT_SIDE * DIGIT_SIDE]);
        let targets = targets.reshape([batch, DIGIT_SIDE * DIGIT_SIDE]);
        // -(t·ln σ(x) + (1 - t)·ln σ(-x)) = (1 - t)·x - ln σ(x)
        let reconstruction = (targets.neg().add_scalar(1.0) * logits.clone() - log_sigmoid(logits)).sum_dim(1);
        let kl = (mean.square() + log_variance.clone().exp() - log_variance).sub_scalar(1.0).sum_dim(1) * 0.5;
        NegativeElbo { reconstruction: reconstruction.reshape([batch]), kl: kl.reshape([batch]) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_and_elbo_parts() {
        let device = Device::flex();
        let net = VariationalAutoencoder::new(&device);
        let digits = Tensor::<4>::full([3, 1, 28, 28], 0.5, &device);
        assert_eq!(net.encode(digits.clone()).dims(), [3, VAE_LATENT, 1, 1]);
        assert_eq!(net.decode(Tensor::<4>::zeros([2, VAE_LATENT, 1, 1], &device)).dims(), [2, 1, 28, 28]);
        let elbo = net.negative_elbo(digits.clone(), digits, Tensor::<2>::zeros([3, VAE_LATENT], &device));
        let kl: Vec<f32> = elbo.kl.into_data().try_to_vec().unwrap();
        let rec: Vec<f32> = elbo.reconstruction.into_data().try_to_vec().unwrap();
        assert_eq!((kl.len(), rec.len()), (3, 3));
        // KL of a Gaussian from N(0, 1) is never negative; the cross-entropy of a target of
        // 0.5 is at least 784·ln 2.
        assert!(kl.iter().all(|&k| k >= -1e-4), "{kl:?}");
        assert!(rec.iter().all(|&r| r >= 784.0 * std::f32::consts::LN_2 - 1e-2), "{rec:?}");
    }

    #[test]
    fn kl_matches_its_closed_form() {
        // With zero weights in the heads, μ = bias and ln σ² = bias: set them and compare.
        let device = Device::flex();
        let mut net = VariationalAutoencoder::new(&device);
        let zero_head = |lin: &Linear, bias: f32| {
            let w = Tensor::<2>::zeros(lin.weight.dims(), &device);
            let b = Tensor::<1>::full([VAE_LATENT], bias, &device);
            Linear { weight: burn::module::Param::from_tensor(w), bias: Some(burn::module::Param::from_tensor(b)) }
        };
        net.mean = zero_head(&net.mean, 0.5);
        net.log_variance = zero_head(&net.log_variance, -1.0);
        let digits = Tensor::<4>::zeros([1, 1, 28, 28], &device);
        let kl = net.negative_elbo(digits.clone(), digits, Tensor::<2>::zeros([1, VAE_LATENT], &device)).kl;
        let expected = 0.5 * VAE_LATENT as f64 * (0.25 + (-1.0f64).exp() - (-1.0) - 1.0);
        let got = f64::from(kl.into_scalar::<f32>());
        assert!((got - expected).abs() < 1e-4, "{got} vs {expected}");
    }
}
