//! The one progress-bar style of aec's long work (training, benches, batches), on stderr.

use indicatif::{ProgressBar, ProgressStyle};

/// A progress bar of `len` steps in aec's style (elapsed time, bar, count, rate, message), or a
/// hidden one when `shown` is false (tests, `--json` output).
pub fn bar(len: u64, shown: bool) -> ProgressBar {
    let bar = if shown { ProgressBar::new(len) } else { ProgressBar::hidden() };
    bar.set_style(
        ProgressStyle::with_template("{prefix}{elapsed_precise} [{bar:30}] {pos}/{len} {per_sec} {wide_msg}").expect("static template").progress_chars("=> "),
    );
    bar
}

/// The progress bar of `aec compress --refine` (`steps` to a refinement, `what` in its message;
/// hidden when `shown` is false) and the report that moves it (for
/// `Refinement::with_progress`): a refinement that starts again from zero (rate control refines
/// up to three times) is shown as the next pass. The bar ticks on its own, as rate control
/// searches with plain encodes before it refines.
pub fn refinement_bar(what: String, steps: u32, shown: bool) -> (ProgressBar, impl Fn(u64, u64) + Send + Sync + 'static) {
    use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
    let progress = bar(u64::from(steps), shown);
    progress.set_message(format!("refining the latents of {what}"));
    if shown {
        progress.enable_steady_tick(std::time::Duration::from_millis(200));
    }
    let (shown_bar, pass, last) = (progress.clone(), AtomicU64::new(1), AtomicU64::new(0));
    let report = move |done: u64, all: u64| {
        if done <= last.swap(done, Relaxed) {
            shown_bar.set_message(format!("pass {}: refining the latents of {what}", pass.fetch_add(1, Relaxed) + 1));
        }
        shown_bar.set_length(all);
        shown_bar.set_position(done);
    };
    (progress, report)
}
