//! Training of aec's models (the only place that uses autodiff).
//!
//! [`factorized`] trains the photographic codec with the rate–distortion loss
//! `λ·255²·MSE + bpp`; checkpoints go to a `NAME.train/` folder beside the model file so that
//! `--resume` picks up where a run stopped. [`digits`] trains the tutorial autoencoders on
//! MNIST.

pub mod checkpoint;
pub mod colorize;
pub mod data;
pub mod digits;
pub mod factorized;
pub mod hyperprior;
pub mod run;
pub mod schedule;

/// Prints a line above a progress bar, or on stderr when the bar is not drawn (no terminal),
/// so that logs of background runs keep it.
fn report_line(bar: &indicatif::ProgressBar, line: String) {
    if bar.is_hidden() {
        eprintln!("{line}");
    } else {
        bar.println(line);
    }
}
