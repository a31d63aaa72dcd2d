//! Training of the tutorial autoencoders on MNIST: Adam, mini-batches of shuffled digits,
//! MSE (dense models) or binary cross-entropy (convolutional models) per pixel or the negative
//! ELBO per digit (VAE), noisy inputs against clean targets for the denoiser, a validation pass
//! after every epoch.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use burn::config::Config;
use burn::optim::{AdamConfig, GradientsParams};
use burn::prelude::*;
use burn::tensor::activation::{log_sigmoid, sigmoid};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

use super::checkpoint::save_weights;
use super::schedule::LrSchedule;
use crate::error::{Error, Result};
use crate::mnist::{Digits, Mnist, SIDE, add_noise};
use crate::model::{DigitArch, DigitNet, VAE_LATENT};

/// Settings of a digit autoencoder's training run, saved as `NAME.json` beside the weights.
#[derive(Config, Debug)]
pub struct DigitTrainConfig {
    /// Which network.
    pub arch: DigitArch,
    /// Passes over the training digits.
    #[config(default = 20)]
    pub epochs: usize,
    /// Digits per step.
    #[config(default = 128)]
    pub batch: usize,
    /// Adam's learning rate.
    #[config(default = 1e-3)]
    pub lr: f64,
    /// If set, the learning rate decays along a cosine from `lr` to this over the second half
    /// of the run (after a 500-step warm-up); otherwise it stays at `lr`.
    #[config(default = "None")]
    pub lr_final: Option<f64>,
    /// Standard deviation of the Gaussian noise added to the inputs (0 = clean inputs).
    #[config(default = 0.0)]
    pub noise: f32,
    /// Training digits held out (the last ones) to measure the validation loss.
    #[config(default = 5000)]
    pub validation: usize,
    /// Seed of the initial weights, the shuffling and the noise.
    #[config(default = 1)]
    pub seed: u64,
    /// Weights (a `.bpk` of the same architecture family) the run starts from instead of
    /// random ones, and how many epochs they had been trained: continuing a run, or
    /// fine-tuning the conv model into a denoiser.
    #[config(default = "None")]
    pub init_from: Option<InitFrom>,
}

/// Where a digit run's starting weights came from.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct InitFrom {
    /// The weights file.
    pub path: PathBuf,
    /// Epochs those weights had been trained (for the record).
    pub epochs: usize,
}

/// The losses of one epoch.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct EpochLog {
    /// 1-based epoch number.
    pub epoch: usize,
    /// Mean training loss over the epoch's steps.
    pub train_loss: f64,
    /// Loss on the held-out digits.
    pub validation_loss: f64,
    /// Per-pixel MSE (0..1 scale) on the held-out digits.
    pub validation_mse: f64,
    /// Seconds since training started.
    pub seconds: f64,
}

/// Which loss a network is trained with.
fn uses_cross_entropy(arch: DigitArch) -> bool {
    arch.is_convolutional()
}

/// The loss's name, for the plot.
fn loss_name(arch: DigitArch) -> &'static str {
    match arch {
        DigitArch::Vae => "negative ELBO, nats per digit",
        _ if uses_cross_entropy(arch) => "cross-entropy per pixel",
        _ => "MSE per pixel",
    }
}

/// The loss of a batch: [`loss`] of the reconstruction, or for the VAE the negative ELBO with
/// one posterior sample per digit (its noise drawn from `rng`).
fn batch_loss(arch: DigitArch, net: &DigitNet, input: Tensor<4>, target: Tensor<4>, rng: &mut StdRng) -> Tensor<1> {
    match net {
        DigitNet::Vae(vae) => {
            let batch = input.dims()[0];
            let noise = TensorData::new(crate::codec::vae::standard_normal(rng, batch), [batch, VAE_LATENT]);
            let noise = Tensor::<2>::from_data(noise, &input.device());
            vae.negative_elbo(input, target, noise).mean()
        }
        _ => loss(arch, net.forward_logits(input), target),
    }
}

/// Per-pixel loss of logits against targets in `0..1`: MSE of the sigmoid for the dense
/// models, binary cross-entropy for the convolutional ones (as in the tutorials).
fn loss(arch: DigitArch, logits: Tensor<4>, targets: Tensor<4>) -> Tensor<1> {
    if uses_cross_entropy(arch) {
        // -(t·log σ(z) + (1-t)·log σ(-z)) = (1-t)·z - log σ(z)
        (targets.neg().add_scalar(1.0) * logits.clone() - log_sigmoid(logits)).mean()
    } else {
        (sigmoid(logits) - targets).square().mean()
    }
}

/// Inputs and targets of a batch: the clean digits, and the inputs with noise if asked.
fn batch_tensors(digits: &Digits, order: &[usize], noise: f32, rng: &mut StdRng, device: &Device) -> (Tensor<4>, Tensor<4>) {
    let clean: Vec<f32> = order.iter().flat_map(|&i| digits.floats(i..i + 1)).collect();
    let input = add_noise(&clean, noise, rng);
    let shape = [order.len(), 1, SIDE, SIDE];
    (Tensor::<4>::from_data(TensorData::new(input, shape), device), Tensor::<4>::from_data(TensorData::new(clean, shape), device))
}

/// Trains one network on MNIST and writes `out` (weights), `NAME.json` (settings),
/// `NAME-loss.csv` and `NAME-loss.svg` beside it. Returns the per-epoch losses.
///
/// # Errors
/// [`Error::InvalidArgument`] for bad settings, I/O and model errors.
pub fn train(config: &DigitTrainConfig, mnist: &Mnist, out: &Path, device: &Device, progress: bool) -> Result<Vec<EpochLog>> {
    if config.batch == 0 || config.epochs == 0 || config.validation >= mnist.train.len() {
        return Err(Error::InvalidArgument("--epochs and --batch must be positive, --validation below the training set".into()));
    }
    let inner = device.clone();
    let device = device.clone().autodiff();
    device.seed(config.seed);
    let mut net: DigitNet = config.arch.init(&device);
    if let Some(init) = &config.init_from {
        net = super::checkpoint::load_weights(net, &init.path)?;
    }
    let mut optimizer = AdamConfig::new().init();
    let mut rng = StdRng::seed_from_u64(config.seed);
    let split = mnist.train.len() - config.validation;
    let (train_set, validation_set) = (mnist.train.slice(0, split), mnist.train.slice(split, mnist.train.len()));
    let steps_per_epoch = split.div_ceil(config.batch);
    let bar = crate::progress::bar((steps_per_epoch * config.epochs) as u64, progress);
    let total_steps = (steps_per_epoch * config.epochs) as u64;
    let schedule = config.lr_final.map(|last| LrSchedule { peak: config.lr, last, total_steps, decay_from: 0.5 });
    let mut step = 0u64;
    let started = Instant::now();
    let mut logs = Vec::new();
    let mut order: Vec<usize> = (0..split).collect();
    for epoch in 1..=config.epochs {
        order.shuffle(&mut rng);
        let mut total = 0.0;
        for chunk in order.chunks(config.batch) {
            let (input, target) = batch_tensors(&train_set, chunk, config.noise, &mut rng, &device);
            let value = batch_loss(config.arch, &net, input, target, &mut rng);
            let grads = GradientsParams::from_grads(value.backward(), &net);
            net = optimizer.step(schedule.map_or(config.lr, |s| s.at(step)), net, grads);
            step += 1;
            let value = f64::from(value.into_scalar::<f32>());
            total += value;
            bar.inc(1);
            bar.set_message(format!("epoch {epoch}/{} loss {value:.4}", config.epochs));
        }
        let (validation_loss, validation_mse) = evaluate(config, &net.valid(), &validation_set, &mut rng, &inner);
        let log = EpochLog { epoch, train_loss: total / steps_per_epoch as f64, validation_loss, validation_mse, seconds: started.elapsed().as_secs_f64() };
        super::report_line(
            &bar,
            format!(
                "epoch {epoch}: train loss {:.5}, validation loss {:.5}, validation MSE {:.5}, {:.0} s",
                log.train_loss, log.validation_loss, log.validation_mse, log.seconds
            ),
        );
        logs.push(log);
    }
    bar.finish_and_clear();
    write_outputs(config, &net.valid(), &logs, out)?;
    Ok(logs)
}

/// Validation loss and MSE of a network on a set of digits (noisy inputs if the run has noise),
/// on the device the network is on.
fn evaluate(config: &DigitTrainConfig, net: &DigitNet, digits: &Digits, rng: &mut StdRng, device: &Device) -> (f64, f64) {
    let order: Vec<usize> = (0..digits.len()).collect();
    let (mut loss_sum, mut mse_sum) = (0.0, 0.0);
    for chunk in order.chunks(1000) {
        let (input, target) = batch_tensors(digits, chunk, config.noise, rng, device);
        let weight = chunk.len() as f64;
        let logits = net.forward_logits(input.clone());
        mse_sum += weight * f64::from((sigmoid(logits) - target.clone()).square().mean().into_scalar::<f32>());
        loss_sum += weight * f64::from(batch_loss(config.arch, net, input, target, rng).into_scalar::<f32>());
    }
    (loss_sum / digits.len() as f64, mse_sum / digits.len() as f64)
}

/// The paths of a trained digit model's files.
#[derive(Debug, Clone)]
pub struct DigitModelFiles {
    /// Weights (burnpack).
    pub weights: PathBuf,
    /// Settings of the run ([`DigitTrainConfig`] as JSON).
    pub settings: PathBuf,
    /// Per-epoch losses.
    pub loss_csv: PathBuf,
    /// Plot of the losses.
    pub loss_svg: PathBuf,
}

impl DigitModelFiles {
    /// The files that belong to the weights file `weights` (`models/mnist/conv.bpk` ->
    /// `conv.json`, `conv-loss.csv`, `conv-loss.svg`).
    pub fn for_weights(weights: &Path) -> Self {
        let stem = weights.file_stem().and_then(|s| s.to_str()).unwrap_or("model");
        let sibling = |suffix: &str| weights.with_file_name(format!("{stem}{suffix}"));
        Self { weights: weights.to_path_buf(), settings: weights.with_extension("json"), loss_csv: sibling("-loss.csv"), loss_svg: sibling("-loss.svg") }
    }
}

fn write_outputs(config: &DigitTrainConfig, net: &DigitNet, logs: &[EpochLog], out: &Path) -> Result<()> {
    let files = DigitModelFiles::for_weights(out);
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    save_weights(net, &files.weights)?;
    config.save(&files.settings).map_err(|e| Error::io(&files.settings, e))?;
    let mut csv = String::from("epoch,train_loss,validation_loss,validation_mse,seconds\n");
    for l in logs {
        csv += &format!("{},{:.6},{:.6},{:.6},{:.1}\n", l.epoch, l.train_loss, l.validation_loss, l.validation_mse, l.seconds);
    }
    let mut file = std::fs::File::create(&files.loss_csv).map_err(|e| Error::io(&files.loss_csv, e))?;
    file.write_all(csv.as_bytes()).map_err(|e| Error::io(&files.loss_csv, e))?;
    let curve =
        |label: &str, f: fn(&EpochLog) -> f64| crate::plot::Curve { label: label.to_string(), points: logs.iter().map(|l| (l.epoch as f64, f(l))).collect() };
    crate::plot::line_plot(
        &format!("mnist {} ({})", config.arch.name(), loss_name(config.arch)),
        "epoch",
        "loss",
        &[curve("training", |l| l.train_loss), curve("validation", |l| l.validation_loss)],
        true,
        &files.loss_svg,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cross_entropy_matches_its_definition() {
        let device = Device::flex();
        let z = Tensor::<4>::from_data(TensorData::new(vec![2.0f32, -1.0], [1, 1, 1, 2]), &device);
        let t = Tensor::<4>::from_data(TensorData::new(vec![0.25f32, 1.0], [1, 1, 1, 2]), &device);
        let s = |x: f64| 1.0 / (1.0 + (-x).exp());
        let expected = (-(0.25 * s(2.0).ln() + 0.75 * (1.0 - s(2.0)).ln()) - s(-1.0).ln()) / 2.0;
        let got = f64::from(loss(DigitArch::Conv, z.clone(), t.clone()).into_scalar::<f32>());
        assert!((got - expected).abs() < 1e-5, "{got} vs {expected}");
        let mse = ((s(2.0) - 0.25).powi(2) + (s(-1.0) - 1.0).powi(2)) / 2.0;
        let got = f64::from(loss(DigitArch::Dense, z, t).into_scalar::<f32>());
        assert!((got - mse).abs() < 1e-6);
    }

    #[test]
    fn model_files_sit_beside_the_weights() {
        let files = DigitModelFiles::for_weights(Path::new("models/mnist/conv.bpk"));
        assert_eq!(files.settings, Path::new("models/mnist/conv.json"));
        assert_eq!(files.loss_csv, Path::new("models/mnist/conv-loss.csv"));
    }
}
