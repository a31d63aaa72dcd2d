//! The training loop of the variable-rate mean-scale hyperprior: random crops, each coded at a
//! random rate level, mixed quantization, loss `mean over the batch of λ_level·255²·MSE + bpp`,
//! Adam, periodic checkpoints, CSV logs (overall and per level) and a progress bar.

use std::io::Write;
use std::path::Path;

use burn::config::Config;
use burn::grad_clipping::GradientClippingConfig;
use burn::optim::{AdamConfig, GradientsParams};
use burn::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::checkpoint::{CheckpointDir, load_weights, save_weights};
use super::data::PatchSampler;
use super::run::{CheckpointClock, LOSS_HEADER, Logged, RunOptions, Running, TrainSummary, open_log, step_bar};
use super::schedule::LrSchedule;
use crate::entropy::intnet::WEIGHT_BITS;
use crate::error::{Error, Result};
use crate::metrics::psnr_from_mse;
use crate::model::factorized::FactorizedConfig;
use crate::model::hyperprior::{HYPER_DOWNSAMPLING, HyperpriorConfig, HyperpriorModel};

/// Columns of `levels.csv`: the running means of every level at every log line.
const LEVELS_HEADER: &str = "step,level,lambda,psnr,bpp";
/// Steps between log lines.
const LOG_EVERY: u32 = 50;
/// Training crops on which a wider model's channels are scored when it is narrowed.
const NARROWING_SAMPLES: usize = 8;

/// Settings of a hyperprior training run, saved beside the checkpoint so that `--resume`
/// continues the same run. Batch and patch size may change between resumed runs (a
/// curriculum); the model may not.
#[derive(Config, Debug)]
pub struct HyperTrainConfig {
    /// Model sizes and the λ of every level.
    pub model: HyperpriorConfig,
    /// Peak learning rate.
    #[config(default = 3e-4)]
    pub lr: f64,
    /// Learning rate at the last step.
    #[config(default = 1e-5)]
    pub lr_final: f64,
    /// Total number of steps of the run.
    #[config(default = 100_000)]
    pub steps: u64,
    /// Fraction of the run after which the learning rate decays.
    #[config(default = 0.7)]
    pub decay_from: f64,
    /// Patches per step.
    #[config(default = 8)]
    pub batch: usize,
    /// Side of the square training patches, in pixels (a multiple of 64).
    #[config(default = 256)]
    pub patch: usize,
    /// Seed of the random crops, levels and initial weights.
    #[config(default = 1)]
    pub seed: u64,
    /// Significant bits of the exported integer hyper-synthesis's weights (`NAME.hsi`); none
    /// (checkpoints written before it existed) means 16, as for every model before
    /// `hyper-light` (models/README.md measures what fewer cost).
    #[config(default = "None")]
    pub hsi_bits: Option<u32>,
    /// Steps done so far.
    #[config(default = 0)]
    pub step: u64,
}

/// The starting model of a new run: random, or with `init_from`'s weights — a hyperprior of
/// the same sizes (fine-tuning; with other λ its gains are read off the trained levels) or of
/// wider hidden layers (narrowed: each keeps its channels most used on the pictures `sample`
/// gives), or a factorized model of the same transform sizes whose trained analysis and
/// synthesis transforms are kept (a warm start).
fn initial_model(config: &HyperpriorConfig, init_from: Option<&Path>, device: &Device, sample: impl FnOnce() -> Tensor<4>) -> Result<HyperpriorModel> {
    let fresh = config.init(device);
    let Some(weights) = init_from else { return Ok(fresh) };
    let settings = weights.with_extension("json");
    let text = std::fs::read(&settings).map_err(|e| Error::io(&settings, e))?;
    if let Ok(from) = HyperpriorConfig::load_binary(&text) {
        let same_latents = from.latent == config.latent && from.hyper_latent == config.hyper_latent;
        let widths = |c: &HyperpriorConfig| [c.hidden, c.synthesis_width(), c.hyper_hidden];
        if !same_latents || widths(&from).iter().zip(widths(config)).any(|(&have, want)| have < want) {
            return Err(Error::InvalidArgument(format!(
                "--init-from {}: a hyperprior of other sizes ({from:?}); it must have the same latent sizes and at least the hidden widths of this model",
                weights.display()
            )));
        }
        let mut trained = load_weights(from.init(device), weights)?;
        if widths(&from) != widths(config) {
            trained = trained.narrowed(config, sample());
        }
        return Ok(if from.lambdas == config.lambdas { trained } else { trained.with_levels(&from.lambdas, &config.lambdas) });
    }
    let from = FactorizedConfig::load_binary(&text).map_err(|e| Error::Model(format!("{}: {e}", settings.display())))?;
    if from != config.transforms() || config.synthesis_width() != config.hidden {
        return Err(Error::InvalidArgument(format!(
            "--init-from {}: its transforms have {} hidden / {} latent channels, this model {} / {} (and {} in the synthesis)",
            weights.display(),
            from.hidden,
            from.latent,
            config.hidden,
            config.latent,
            config.synthesis_width()
        )));
    }
    Ok(fresh.with_transforms_of(load_weights(from.init(device), weights)?))
}

/// Trains (or resumes training of) a variable-rate hyperprior model.
///
/// # Errors
/// Any I/O, image or model-loading error; [`Error::InvalidArgument`] for bad settings.
pub fn train(mut config: HyperTrainConfig, options: &RunOptions) -> Result<TrainSummary> {
    if config.patch == 0 || !config.patch.is_multiple_of(HYPER_DOWNSAMPLING) {
        return Err(Error::InvalidArgument("--patch must be a positive multiple of 64 for a hyperprior".into()));
    }
    if config.model.levels() == 0 || config.model.lambdas.windows(2).any(|w| w[0] >= w[1]) {
        return Err(Error::InvalidArgument("--lambdas must be one or more increasing values".into()));
    }
    let checkpoint = CheckpointDir::for_model(&options.out);
    let device = options.device.clone().autodiff();
    let mut optimizer = AdamConfig::new().with_grad_clipping(Some(GradientClippingConfig::Norm(1.0))).init();
    let sampler = PatchSampler::from_dir(&options.data, config.patch)?;
    let mut model = if options.resume {
        let saved: HyperTrainConfig = checkpoint.load_state()?;
        config.model = saved.model;
        config.step = saved.step;
        optimizer = checkpoint.load_optimizer(optimizer)?;
        load_weights(config.model.init(&device), &checkpoint.weights())?
    } else {
        checkpoint.refuse_existing()?;
        device.seed(config.seed);
        let mut rng = StdRng::seed_from_u64(config.seed);
        let (count, patch) = (NARROWING_SAMPLES, config.patch);
        let sample = || Tensor::<4>::from_data(TensorData::new(sampler.sample(count, &mut rng), [count, 3, patch, patch]), &device);
        initial_model(&config.model, options.init_from.as_deref(), &device, sample)?
    };
    // The levels of the model trained: on --resume the checkpoint's, not --lambdas.
    let levels = config.model.levels();
    checkpoint.create()?;
    eprintln!(
        "training hyperprior {:?} on {} images of {}, {} patches of {}x{} per step, step {} of {}",
        config.model,
        sampler.len(),
        options.data.display(),
        config.batch,
        config.patch,
        config.patch,
        config.step,
        config.steps
    );

    let schedule = LrSchedule { peak: config.lr, last: config.lr_final, total_steps: config.steps, decay_from: config.decay_from };
    let mut rng = StdRng::seed_from_u64(config.seed.wrapping_add(config.step.wrapping_mul(7919)));
    let mut log = open_log(&checkpoint.log(), LOSS_HEADER)?;
    let levels_path = checkpoint.path().join("levels.csv");
    let mut levels_log = open_log(&levels_path, LEVELS_HEADER)?;
    let progress = step_bar(config.steps, config.step);

    let (b, p) = (config.batch, config.patch);
    let pixels = (p * p) as f64;
    let mut clock = CheckpointClock::start(options);
    let mut running = Running::default();
    let mut per_level = vec![Running::default(); levels];
    let mut last = None;

    while config.step < config.steps {
        let lr = schedule.at(config.step);
        let batch = Tensor::<4>::from_data(TensorData::new(sampler.sample(b, &mut rng), [b, 3, p, p]), &device);
        let picked: Vec<usize> = (0..b).map(|_| rng.random_range(0..levels)).collect();
        let level_ids = Tensor::<1, Int>::from_data(TensorData::new(picked.iter().map(|&l| l as i64).collect::<Vec<_>>(), [b]), &device);
        let weights: Vec<f32> = picked.iter().map(|&l| (config.model.lambdas[l] * 255.0 * 255.0) as f32).collect();
        let distortion_weight = Tensor::<1>::from_data(TensorData::new(weights, [b]), &device);

        let out = model.forward_train(batch.clone(), level_ids);
        let mse = (out.reconstruction - batch).square().mean_dims(&[1, 2, 3]).reshape([b]);
        let bits = |lik: Tensor<4>| lik.log().sum_dims(&[1, 2, 3]).reshape([b]);
        let bpp = (bits(out.y_likelihoods) + bits(out.z_likelihoods)).div_scalar(-(pixels * std::f64::consts::LN_2));
        let loss = (mse.clone() * distortion_weight + bpp.clone()).mean();
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optimizer.step(lr, model, grads);
        config.step += 1;

        let mse: Vec<f32> = mse.into_data().try_to_vec::<f32>().map_err(|e| Error::Model(format!("{e:?}")))?;
        let bpp: Vec<f32> = bpp.into_data().try_to_vec::<f32>().map_err(|e| Error::Model(format!("{e:?}")))?;
        let (mean_mse, mean_bpp) = (mse.iter().sum::<f32>() / b as f32, bpp.iter().sum::<f32>() / b as f32);
        running.add(f64::from(loss.into_scalar::<f32>()), f64::from(mean_mse), f64::from(mean_bpp));
        for ((&level, &m), &r) in picked.iter().zip(&mse).zip(&bpp) {
            per_level[level].add(0.0, f64::from(m), f64::from(r));
        }
        if running.steps == LOG_EVERY || config.step == config.steps {
            let (loss, mse, bpp) = running.mean();
            let psnr = psnr_from_mse(mse * 255.0 * 255.0);
            last = Some(Logged { step: config.step, loss, psnr, bpp });
            let seconds = clock.seconds();
            writeln!(log, "{},{lr:.3e},{loss:.5},{mse:.6},{psnr:.3},{bpp:.4},{seconds:.1}", config.step).map_err(|e| Error::io(&checkpoint.log(), e))?;
            for (level, stats) in per_level.iter().enumerate().filter(|(_, s)| s.steps > 0) {
                let (_, mse, bpp) = stats.mean();
                let psnr = psnr_from_mse(mse * 255.0 * 255.0);
                writeln!(levels_log, "{},{level},{},{psnr:.3},{bpp:.4}", config.step, config.model.lambdas[level]).map_err(|e| Error::io(&levels_path, e))?;
            }
            progress.set_message(format!("loss {loss:.3} psnr {psnr:.2} bpp {bpp:.3} lr {lr:.1e}"));
            running = Running::default();
            per_level.iter_mut().for_each(|s| *s = Running::default());
        }
        progress.set_position(config.step);

        let stop = clock.checkpoint_if_due(config.step, config.steps, || {
            checkpoint.save_run(&model, &optimizer, &config)?;
            log.flush().map_err(|e| Error::io(&checkpoint.log(), e))?;
            levels_log.flush().map_err(|e| Error::io(&levels_path, e))?;
            super::report_line(&progress, format!("checkpoint at step {}: {}", config.step, super::run::describe_logged(last)));
            Ok(())
        })?;
        if stop {
            break;
        }
    }
    progress.finish();
    // The model files are computed on the CPU (the integer hyper-synthesis, the z tables),
    // whatever device trained the model.
    export(&model.valid().to_device(&Device::flex()), &config.model, config.hsi_bits.unwrap_or(WEIGHT_BITS), &options.out)?;
    Ok(TrainSummary { step: config.step, last })
}

/// Writes the checkpoint of the run beside `out` as a model file, without training further:
/// its integer hyper-synthesis to `hsi_bits` bits where given, else to the run's.
///
/// # Errors
/// [`Error::InvalidArgument`] if there is no checkpoint; I/O and model errors.
pub fn export_checkpoint(out: &Path, hsi_bits: Option<u32>) -> Result<u64> {
    let checkpoint = CheckpointDir::for_model(out);
    let saved: HyperTrainConfig = checkpoint.load_state()?;
    let model = load_weights(saved.model.init(&Device::flex()), &checkpoint.weights())?;
    export(&model, &saved.model, hsi_bits.or(saved.hsi_bits).unwrap_or(WEIGHT_BITS), out)?;
    Ok(saved.step)
}

/// Writes a trained hyperprior as the four files a [`crate::codec::hyper::HyperCodec`] loads:
/// `NAME.bpk` (weights), `NAME.json` (sizes and λs), `NAME.cdf` (integer tables of `z`) and
/// `NAME.hsi` (the integer hyper-synthesis, its weights to `hsi_bits` significant bits).
///
/// # Errors
/// I/O and model errors.
pub fn export(model: &HyperpriorModel, config: &HyperpriorConfig, hsi_bits: u32, out: &Path) -> Result<()> {
    save_weights(model, out)?;
    let write = |extension: &str, bytes: Vec<u8>| {
        let path = out.with_extension(extension);
        std::fs::write(&path, bytes).map_err(|e| Error::io(&path, e))
    };
    write("cdf", crate::codec::hyper::z_tables(model)?.to_bytes())?;
    write("hsi", crate::codec::hyper::integer_hyper_synthesis(model, hsi_bits)?.to_bytes())?;
    let json = out.with_extension("json");
    config.save(&json).map_err(|e| Error::io(&json, e))
}
