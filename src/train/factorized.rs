//! The training loop of the photographic codec: random crops, additive-noise quantization,
//! loss `λ·255²·MSE + bpp`, Adam, periodic checkpoints, a CSV loss log and a progress bar.

use std::io::Write;
use std::path::Path;

use burn::config::Config;
use burn::grad_clipping::GradientClippingConfig;
use burn::optim::{AdamConfig, GradientsParams};
use burn::prelude::*;
use rand::SeedableRng;
use rand::rngs::StdRng;

use super::checkpoint::{CheckpointDir, load_weights, save_weights};

/// `fresh` replaced by the trained weights of `NAME.bpk`: as they are for a model of the same
/// sizes, or widened to more latent channels (the extra ones from `fresh`).
fn init_from(fresh: FactorizedModel, sizes: &FactorizedConfig, weights: &Path, device: &Device) -> Result<FactorizedModel> {
    let settings = weights.with_extension("json");
    let text = std::fs::read(&settings).map_err(|e| Error::io(&settings, e))?;
    let from = FactorizedConfig::load_binary(&text).map_err(|e| Error::Model(format!("{}: {e}", settings.display())))?;
    if from == *sizes {
        return load_weights(fresh, weights);
    }
    if from.hidden != sizes.hidden || from.latent > sizes.latent {
        return Err(Error::InvalidArgument(format!(
            "--init-from {}: a model of {} hidden / {} latent channels cannot start one of {} / {} (same hidden size, as many or more latent channels)",
            weights.display(),
            from.hidden,
            from.latent,
            sizes.hidden,
            sizes.latent
        )));
    }
    Ok(load_weights(from.init(device), weights)?.widen_latents(fresh))
}
use super::data::PatchSampler;
use super::run::{CheckpointClock, LOSS_HEADER, Logged, Running, open_log, step_bar};
pub use super::run::{RunOptions, TrainSummary};
use super::schedule::LrSchedule;
use crate::error::{Error, Result};
use crate::metrics::psnr_from_mse;
use crate::model::{FactorizedConfig, FactorizedModel};

/// Settings of a training run, saved beside the checkpoint so that `--resume` continues the
/// same run.
#[derive(Config, Debug)]
pub struct FactorizedTrainConfig {
    /// Model sizes.
    pub model: FactorizedConfig,
    /// Rate–distortion trade-off λ in `λ·255²·MSE + bpp`.
    #[config(default = 0.0067)]
    pub lambda: f64,
    /// Peak learning rate.
    #[config(default = 5e-4)]
    pub lr: f64,
    /// Learning rate at the last step.
    #[config(default = 1e-5)]
    pub lr_final: f64,
    /// Total number of steps of the run.
    #[config(default = 100_000)]
    pub steps: u64,
    /// Fraction of the run after which the learning rate decays.
    #[config(default = 0.6)]
    pub decay_from: f64,
    /// Patches per step.
    #[config(default = 8)]
    pub batch: usize,
    /// Side of the square training patches, in pixels (a multiple of 16).
    #[config(default = 64)]
    pub patch: usize,
    /// Seed of the random crops and of the initial weights.
    #[config(default = 1)]
    pub seed: u64,
    /// Steps done so far.
    #[config(default = 0)]
    pub step: u64,
}

/// Trains (or resumes training of) a factorized-prior model.
///
/// # Errors
/// Any I/O, image or model-loading error; [`Error::InvalidArgument`] for bad settings.
pub fn train(mut config: FactorizedTrainConfig, options: &RunOptions) -> Result<TrainSummary> {
    let checkpoint = CheckpointDir::for_model(&options.out);
    let device = options.device.clone().autodiff();
    let mut model: FactorizedModel;
    let mut optimizer = AdamConfig::new().with_grad_clipping(Some(GradientClippingConfig::Norm(1.0))).init();
    if options.resume {
        let saved: FactorizedTrainConfig = checkpoint.load_state()?;
        if saved.model != config.model {
            return Err(Error::InvalidArgument(format!("--resume: the checkpoint is a {:?} model, not {:?}", saved.model, config.model)));
        }
        config.step = saved.step;
        model = load_weights(saved.model.init(&device), &checkpoint.weights())?;
        optimizer = checkpoint.load_optimizer(optimizer)?;
    } else {
        checkpoint.refuse_existing()?;
        device.seed(config.seed);
        model = config.model.init(&device);
        if let Some(weights) = &options.init_from {
            model = init_from(model, &config.model, weights, &device)?;
        }
    }
    if !config.patch.is_multiple_of(crate::model::DOWNSAMPLING) || config.patch == 0 {
        return Err(Error::InvalidArgument("--patch must be a positive multiple of 16".into()));
    }
    checkpoint.create()?;
    let sampler = PatchSampler::from_dir(&options.data, config.patch)?;
    eprintln!(
        "training {:?} on {} images of {}, λ={}, {} patches of {}x{} per step, step {} of {}",
        config.model,
        sampler.len(),
        options.data.display(),
        config.lambda,
        config.batch,
        config.patch,
        config.patch,
        config.step,
        config.steps
    );

    let schedule = LrSchedule { peak: config.lr, last: config.lr_final, total_steps: config.steps, decay_from: config.decay_from };
    let mut rng = StdRng::seed_from_u64(config.seed.wrapping_add(config.step.wrapping_mul(7919)));
    let mut log = open_log(&checkpoint.log(), LOSS_HEADER)?;
    let progress = step_bar(config.steps, config.step);

    let (b, p) = (config.batch, config.patch);
    let pixels = (b * p * p) as f64;
    let distortion_weight = config.lambda * 255.0 * 255.0;
    let mut clock = CheckpointClock::start(options);
    let mut running = Running::default();
    let mut last = None;

    while config.step < config.steps {
        let lr = schedule.at(config.step);
        let batch = Tensor::<4>::from_data(TensorData::new(sampler.sample(b, &mut rng), [b, 3, p, p]), &device);
        let out = model.forward_train(batch.clone());
        let mse = (out.reconstruction - batch).square().mean();
        let bpp = out.likelihoods.log().sum().div_scalar(-(pixels * std::f64::consts::LN_2));
        let loss = mse.clone().mul_scalar(distortion_weight) + bpp.clone();
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optimizer.step(lr, model, grads);
        config.step += 1;

        running.add(f64::from(loss.into_scalar::<f32>()), f64::from(mse.into_scalar::<f32>()), f64::from(bpp.into_scalar::<f32>()));
        if running.steps == 100 || config.step == config.steps {
            let (loss, mse, bpp) = running.mean();
            let psnr = psnr_from_mse(mse * 255.0 * 255.0);
            last = Some(Logged { step: config.step, loss, psnr, bpp });
            writeln!(log, "{},{lr:.3e},{loss:.5},{mse:.6},{:.3},{bpp:.4},{:.1}", config.step, psnr, clock.seconds())
                .map_err(|e| Error::io(&checkpoint.log(), e))?;
            progress.set_message(format!("loss {loss:.3} psnr {psnr:.2} bpp {bpp:.3} lr {lr:.1e}"));
            running = Running::default();
        }
        progress.set_position(config.step);

        let stop = clock.checkpoint_if_due(config.step, config.steps, || {
            checkpoint.save_run(&model, &optimizer, &config)?;
            log.flush().map_err(|e| Error::io(&checkpoint.log(), e))?;
            super::report_line(&progress, format!("checkpoint at step {}: {}", config.step, super::run::describe_logged(last)));
            Ok(())
        })?;
        if stop {
            break;
        }
    }
    progress.finish();
    // The tables are computed on the CPU, whatever device trained the model.
    export(&model.valid().to_device(&Device::flex()), &config.model, &options.out)?;
    Ok(TrainSummary { step: config.step, last })
}

/// Writes the checkpoint of the run beside `out` as a usable model (`--export-only`): weights,
/// tables and settings, without training further.
///
/// # Errors
/// [`Error::InvalidArgument`] if there is no checkpoint; I/O and model errors.
pub fn export_checkpoint(out: &Path) -> Result<u64> {
    let checkpoint = CheckpointDir::for_model(out);
    let saved: FactorizedTrainConfig = checkpoint.load_state()?;
    let device = Device::flex();
    let model = load_weights(saved.model.init(&device), &checkpoint.weights())?;
    export(&model, &saved.model, out)?;
    Ok(saved.step)
}

/// Writes a trained model as the three files a [`crate::codec::Codec`] loads: `NAME.bpk`
/// (weights), `NAME.cdf` (integer CDF tables of every quality level) and `NAME.json` (sizes).
///
/// # Errors
/// I/O and model errors.
pub fn export(model: &FactorizedModel, config: &FactorizedConfig, out: &Path) -> Result<()> {
    let device = Device::flex();
    let tables = crate::codec::tabulate::tabulate(&model.entropy, &crate::codec::QUALITY_STEPS, &device)?;
    save_weights(model, out)?;
    let cdf = out.with_extension("cdf");
    std::fs::write(&cdf, tables.to_bytes()).map_err(|e| Error::io(&cdf, e))?;
    let json = out.with_extension("json");
    config.save(&json).map_err(|e| Error::io(&json, e))
}
