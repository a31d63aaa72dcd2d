//! Training of the colourisation network: random crops of the training photos (flipped at
//! random), luma in, the MSE of the predicted chroma against the photo's own as the loss, Adam
//! with a warm-up and a cosine decay over the second half of the run.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use burn::config::Config;
use burn::optim::{AdamConfig, GradientsParams};
use burn::prelude::*;
use rand::SeedableRng;
use rand::rngs::StdRng;

use super::checkpoint::save_weights;
use super::data::PatchSampler;
use super::run::step_bar;
use super::schedule::LrSchedule;
use crate::error::{Error, Result};
use crate::model::colorize::{COLORIZE_MULTIPLE, ColorizeNet, split_luma_chroma};

/// Steps between two lines of the loss log.
const LOG_EVERY: u64 = 50;

/// Settings of a colourisation run, saved as `NAME.json` beside the weights.
#[derive(Config, Debug)]
pub struct ColorizeTrainConfig {
    /// Steps of the run.
    #[config(default = 3000)]
    pub steps: u64,
    /// Crops per step.
    #[config(default = 16)]
    pub batch: usize,
    /// Side of the crops (a multiple of 16).
    #[config(default = 128)]
    pub patch: usize,
    /// Peak learning rate.
    #[config(default = 1e-3)]
    pub lr: f64,
    /// Seed of the weights and the crops.
    #[config(default = 1)]
    pub seed: u64,
}

/// The mean loss over the steps before `step`.
#[derive(Debug, Clone, Copy)]
pub struct ColorizeLog {
    /// Steps done.
    pub step: u64,
    /// Mean chroma MSE (Cb and Cr on the 0..1 scale) of the last [`LOG_EVERY`] steps.
    pub chroma_mse: f64,
    /// Seconds since the start.
    pub seconds: f64,
}

/// Trains the network on the photos of `data` and writes `out` (weights), `NAME.json`
/// (settings), `NAME-loss.csv` and `NAME-loss.svg` beside it.
///
/// # Errors
/// [`Error::InvalidArgument`] for bad settings or a folder without photos; I/O errors.
pub fn train(config: &ColorizeTrainConfig, data: &Path, out: &Path, device: &Device, progress: bool) -> Result<Vec<ColorizeLog>> {
    if config.batch == 0 || config.steps == 0 || config.patch == 0 || !config.patch.is_multiple_of(COLORIZE_MULTIPLE) {
        return Err(Error::InvalidArgument(format!("--steps and --batch must be positive and --patch a multiple of {COLORIZE_MULTIPLE}")));
    }
    let photos = PatchSampler::from_dir(data, config.patch)?;
    let device = device.clone().autodiff();
    device.seed(config.seed);
    let mut net = ColorizeNet::new(&device);
    let mut optimizer = AdamConfig::new().init();
    let mut rng = StdRng::seed_from_u64(config.seed);
    let schedule = LrSchedule { peak: config.lr, last: config.lr / 20.0, total_steps: config.steps, decay_from: 0.5 };
    let bar = if progress { step_bar(config.steps, 0) } else { indicatif::ProgressBar::hidden() };
    let (started, mut logs, mut sum) = (Instant::now(), Vec::new(), 0.0);
    let p = config.patch;
    for step in 0..config.steps {
        let rgb = Tensor::<4>::from_data(TensorData::new(photos.sample(config.batch, &mut rng), [config.batch, 3, p, p]), &device);
        let (luma, chroma) = split_luma_chroma(rgb);
        let loss = (net.forward(luma) - chroma).square().mean();
        let grads = GradientsParams::from_grads(loss.backward(), &net);
        net = optimizer.step(schedule.at(step), net, grads);
        sum += f64::from(loss.into_scalar::<f32>());
        bar.inc(1);
        if (step + 1) % LOG_EVERY == 0 || step + 1 == config.steps {
            let count = (step % LOG_EVERY + 1) as f64;
            let log = ColorizeLog { step: step + 1, chroma_mse: sum / count, seconds: started.elapsed().as_secs_f64() };
            bar.set_message(format!("chroma MSE {:.5}", log.chroma_mse));
            logs.push(log);
            sum = 0.0;
        }
    }
    bar.finish_and_clear();
    write_outputs(config, &net.valid(), &logs, out)?;
    Ok(logs)
}

/// `NAME-loss.csv` and `NAME-loss.svg` beside the weights `NAME.bpk`.
fn loss_files(out: &Path) -> (PathBuf, PathBuf) {
    let stem = out.file_stem().and_then(|s| s.to_str()).unwrap_or("colorize");
    (out.with_file_name(format!("{stem}-loss.csv")), out.with_file_name(format!("{stem}-loss.svg")))
}

fn write_outputs(config: &ColorizeTrainConfig, net: &ColorizeNet, logs: &[ColorizeLog], out: &Path) -> Result<()> {
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    save_weights(net, out)?;
    let settings = out.with_extension("json");
    config.save(&settings).map_err(|e| Error::io(&settings, e))?;
    let (csv_path, svg_path) = loss_files(out);
    let mut csv = String::from("step,chroma_mse,seconds\n");
    for l in logs {
        csv += &format!("{},{:.6},{:.1}\n", l.step, l.chroma_mse, l.seconds);
    }
    std::fs::File::create(&csv_path).and_then(|mut f| f.write_all(csv.as_bytes())).map_err(|e| Error::io(&csv_path, e))?;
    let curve = crate::plot::Curve { label: "training crops".into(), points: logs.iter().map(|l| (l.step as f64, l.chroma_mse)).collect() };
    crate::plot::line_plot("colorize (chroma MSE, 0..1 scale)", "step", "MSE", &[curve], true, &svg_path)
}
