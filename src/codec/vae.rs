//! The generative side of the MNIST variational autoencoder: new digits drawn from the prior,
//! a path between two digits through the code space, and the negative ELBO of a set of digits.
//! Every random number comes from a generator seeded by the caller, so the same seed gives the
//! same digits.

use burn::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;

use super::digits::DigitCodec;
use crate::error::{Error, Result};
use crate::mnist::{Digits, PIXELS, SIDE};
use crate::model::{DigitNet, VAE_LATENT, VariationalAutoencoder};

/// Digits run through the network at once when measuring the ELBO.
const BATCH: usize = 1000;

/// The network of a VAE model, or an error naming what the model is instead.
fn vae_of(codec: &DigitCodec) -> Result<(&VariationalAutoencoder, &Device)> {
    match codec.network() {
        (DigitNet::Vae(net), device) => Ok((net, device)),
        _ => Err(Error::InvalidArgument(format!(
            "the mnist {} model is not a variational autoencoder (use mnist-vae or a model of `aec train --arch vae`)",
            codec.arch().name()
        ))),
    }
}

/// `count x VAE_LATENT` standard normal values from a generator (codes from the prior, or
/// the noise of the reparameterisation trick).
pub(crate) fn standard_normal(rng: &mut StdRng, count: usize) -> Vec<f32> {
    (0..count * VAE_LATENT).map(|_| rng.sample::<f32, _>(StandardNormal)).collect()
}

/// Digits as 784 bytes each from the VAE's decoder run on `[count, VAE_LATENT]` codes (the
/// Bernoulli means, as pictures).
fn decode(net: &VariationalAutoencoder, device: &Device, codes: Vec<f32>) -> Vec<Vec<u8>> {
    let count = codes.len() / VAE_LATENT;
    let code = Tensor::<4>::from_data(TensorData::new(codes, [count, VAE_LATENT, 1, 1]), device);
    let pixels: Vec<f32> = burn::tensor::activation::sigmoid(net.decode(code)).into_data().try_to_vec().expect("f32 tensor");
    pixels.chunks_exact(PIXELS).map(|d| d.iter().map(|&p| super::pixels::to_u8(p)).collect()).collect()
}

/// `count` new digits (784 bytes each) decoded from codes drawn from the prior N(0, I) by a
/// generator seeded with `seed`.
///
/// # Errors
/// [`Error::InvalidArgument`] if the model is not a VAE or `count` is 0.
pub fn sample(codec: &DigitCodec, count: usize, seed: u64) -> Result<Vec<Vec<u8>>> {
    let (net, device) = vae_of(codec)?;
    if count == 0 {
        return Err(Error::InvalidArgument("ask for at least one digit".into()));
    }
    Ok(decode(net, device, standard_normal(&mut StdRng::seed_from_u64(seed), count)))
}

/// `steps` digits on the straight line between the codes (posterior means) of two digits
/// (784 bytes each), both ends included.
///
/// # Errors
/// [`Error::InvalidArgument`] if the model is not a VAE, `steps < 2` or a digit is not 784 bytes.
pub fn interpolate(codec: &DigitCodec, from: &[u8], to: &[u8], steps: usize) -> Result<Vec<Vec<u8>>> {
    let (net, device) = vae_of(codec)?;
    if steps < 2 || from.len() != PIXELS || to.len() != PIXELS {
        return Err(Error::InvalidArgument(format!("interpolation takes two 28x28 digits and at least 2 steps, not {steps}")));
    }
    let pixels: Vec<f32> = from.iter().chain(to).map(|&v| f32::from(v) / 255.0).collect();
    let ends: Vec<f32> = net.encode(Tensor::<4>::from_data(TensorData::new(pixels, [2, 1, SIDE, SIDE]), device)).into_data().try_to_vec().expect("f32 tensor");
    let (a, b) = ends.split_at(VAE_LATENT);
    let codes = (0..steps)
        .flat_map(|i| {
            let t = i as f32 / (steps - 1) as f32;
            a.iter().zip(b).map(move |(&a, &b)| (1.0 - t) * a + t * b)
        })
        .collect();
    Ok(decode(net, device, codes))
}

/// The negative evidence lower bound of a set of digits, in nats per digit.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Elbo {
    /// Mean binary cross-entropy of the reconstructions, summed over a digit's pixels.
    pub reconstruction: f64,
    /// Mean KL divergence of the posteriors from the prior.
    pub kl: f64,
}

impl Elbo {
    /// Reconstruction + KL: the negative ELBO, an upper bound of `-ln p(digit)`.
    pub fn total(&self) -> f64 {
        self.reconstruction + self.kl
    }
}

/// The negative ELBO of `digits` (their pixels in `0..1` as Bernoulli targets), estimated with
/// one posterior sample per digit from a generator seeded with `seed`.
///
/// # Errors
/// [`Error::InvalidArgument`] if the model is not a VAE or the set is empty.
pub fn negative_elbo(codec: &DigitCodec, digits: &Digits, seed: u64) -> Result<Elbo> {
    let (net, device) = vae_of(codec)?;
    if digits.is_empty() {
        return Err(Error::InvalidArgument("no digits to measure the ELBO on".into()));
    }
    let mut rng = StdRng::seed_from_u64(seed);
    let (mut reconstruction, mut kl) = (0.0, 0.0);
    for start in (0..digits.len()).step_by(BATCH) {
        let end = (start + BATCH).min(digits.len());
        let count = end - start;
        let x = Tensor::<4>::from_data(TensorData::new(digits.floats(start..end), [count, 1, SIDE, SIDE]), device);
        let noise = Tensor::<2>::from_data(TensorData::new(standard_normal(&mut rng, count), [count, VAE_LATENT]), device);
        let elbo = net.negative_elbo(x.clone(), x, noise);
        reconstruction += f64::from(elbo.reconstruction.sum().into_scalar::<f32>());
        kl += f64::from(elbo.kl.sum().into_scalar::<f32>());
    }
    let n = digits.len() as f64;
    Ok(Elbo { reconstruction: reconstruction / n, kl: kl / n })
}
