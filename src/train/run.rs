//! Pieces every photo training loop shares: the progress bar, the running means of the
//! logged metrics and the CSV loss log of a checkpoint folder.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use indicatif::ProgressBar;

use crate::error::{Error, Result};

/// Columns of `loss.csv` (read by `examples/plot_loss.rs`).
pub const LOSS_HEADER: &str = "step,lr,loss,mse,psnr,bpp,seconds";

/// A progress bar over the steps of a run, starting at `done`.
pub fn step_bar(total: u64, done: u64) -> ProgressBar {
    crate::progress::bar(total, true).with_position(done)
}

/// Averages of the metrics over the steps since the last log line.
#[derive(Default, Clone, Copy)]
pub struct Running {
    /// Steps (or samples) added.
    pub steps: u32,
    loss: f64,
    mse: f64,
    bpp: f64,
}

impl Running {
    /// Adds one step's loss, MSE (of pixels in `0..1`) and bits per pixel.
    pub fn add(&mut self, loss: f64, mse: f64, bpp: f64) {
        self.steps += 1;
        self.loss += loss;
        self.mse += mse;
        self.bpp += bpp;
    }

    /// Mean loss, MSE and bpp.
    pub fn mean(&self) -> (f64, f64, f64) {
        let n = f64::from(self.steps.max(1));
        (self.loss / n, self.mse / n, self.bpp / n)
    }
}

/// Opens a CSV log for appending, writing `header` first when the file is new.
///
/// # Errors
/// [`Error::Io`] when the file cannot be opened or written.
pub fn open_log(path: &Path, header: &str) -> Result<std::io::BufWriter<std::fs::File>> {
    let new = !path.exists();
    let file = std::fs::OpenOptions::new().create(true).append(true).open(path).map_err(|e| Error::io(path, e))?;
    let mut writer = std::io::BufWriter::new(file);
    if new {
        writeln!(writer, "{header}").map_err(|e| Error::io(path, e))?;
    }
    Ok(writer)
}

/// How a run is to be carried out (not saved with the checkpoint).
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Folder of training images.
    pub data: PathBuf,
    /// Final model file; checkpoints go to the `.train` folder beside it.
    pub out: PathBuf,
    /// Continue from the checkpoint beside `out`.
    pub resume: bool,
    /// Start a new run from these weights (a `NAME.bpk` written by a run of the same hidden
    /// size and as many or fewer latent channels, its `NAME.json` beside it) instead of
    /// random ones: fine-tuning, e.g. for another λ, or widening the latents for high rates.
    pub init_from: Option<PathBuf>,
    /// Stop (after a checkpoint) once this much time has passed.
    pub max_time: Option<Duration>,
    /// Time between checkpoints.
    pub checkpoint_every: Duration,
    /// The burn device to train on (the binary's `--backend`); autodiff is added on top.
    pub device: burn::prelude::Device,
}

/// When a run saves a checkpoint: every [`RunOptions::checkpoint_every`], at its last step, and
/// once its time ([`RunOptions::max_time`]) is up, after which it stops.
pub struct CheckpointClock {
    started: Instant,
    last: Instant,
    every: Duration,
    max_time: Option<Duration>,
}

impl CheckpointClock {
    /// A clock for a run with these options, started now.
    pub fn start(options: &RunOptions) -> Self {
        let now = Instant::now();
        Self { started: now, last: now, every: options.checkpoint_every, max_time: options.max_time }
    }

    /// Seconds since the run started.
    pub fn seconds(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }

    /// After step `step` of `steps`: runs `save` when a checkpoint is due, and tells whether
    /// the run stops there (its time is up; it has just been saved).
    ///
    /// # Errors
    /// `save`'s.
    pub fn checkpoint_if_due(&mut self, step: u64, steps: u64, save: impl FnOnce() -> Result<()>) -> Result<bool> {
        let out_of_time = self.max_time.is_some_and(|t| self.started.elapsed() >= t);
        if self.last.elapsed() >= self.every || out_of_time || step == steps {
            save()?;
            self.last = Instant::now();
        }
        Ok(out_of_time)
    }
}

/// What a finished (or stopped) run reports.
#[derive(Debug, Clone)]
pub struct TrainSummary {
    /// Steps done in total, over all resumed runs.
    pub step: u64,
    /// The means of the last logged stretch of steps; `None` if this run logged none (it
    /// stopped before its first log line).
    pub last: Option<Logged>,
}

/// The means that a log line of a run records.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Logged {
    /// The step at the end of the stretch.
    pub step: u64,
    /// Mean loss.
    pub loss: f64,
    /// PSNR of the mean squared error, dB.
    pub psnr: f64,
    /// Mean bits per pixel.
    pub bpp: f64,
}

/// How a progress line states the last logged means: those of the stretch ending at `step`,
/// or that none was logged yet (rather than zeros).
pub fn describe_logged(last: Option<Logged>) -> String {
    match last {
        Some(l) => format!("loss {:.3}, psnr {:.2} dB, {:.3} bpp (means to step {})", l.loss, l.psnr, l.bpp, l.step),
        None => "no loss logged yet in this run".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clock(every: Duration, max_time: Option<Duration>) -> CheckpointClock {
        let options = RunOptions {
            data: PathBuf::new(),
            out: PathBuf::new(),
            resume: false,
            init_from: None,
            max_time,
            checkpoint_every: every,
            device: burn::prelude::Device::flex(),
        };
        CheckpointClock::start(&options)
    }

    /// The steps after which `clock` saves over a run of `steps`, and whether it stopped.
    fn saves(mut clock: CheckpointClock, steps: u64) -> (Vec<u64>, bool) {
        let mut saved = Vec::new();
        for step in 1..=steps {
            let stop = clock
                .checkpoint_if_due(step, steps, || {
                    saved.push(step);
                    Ok(())
                })
                .unwrap();
            if stop {
                return (saved, true);
            }
        }
        (saved, false)
    }

    #[test]
    fn a_run_saves_at_its_end_at_every_interval_and_when_its_time_is_up() {
        let hour = Duration::from_secs(3600);
        assert_eq!(saves(clock(hour, None), 5), (vec![5], false), "only the last step");
        assert_eq!(saves(clock(Duration::ZERO, None), 3), (vec![1, 2, 3], false), "every step");
        assert_eq!(saves(clock(hour, Some(Duration::ZERO)), 5), (vec![1], true), "saved, then stopped");
        assert_eq!(saves(clock(hour, Some(hour)), 4), (vec![4], false), "time left");
        // A failing save is the run's error.
        let mut failing = clock(Duration::ZERO, None);
        assert!(failing.checkpoint_if_due(1, 2, || Err(Error::InvalidArgument("disk full".into()))).is_err());
    }
}
