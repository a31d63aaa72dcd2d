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

/// A spinner with the elapsed time and `message`, ticking on its own, for work of unknown
/// length (`aec compress --refine`); hidden when `shown` is false.
pub fn spinner(message: String, shown: bool) -> ProgressBar {
    if !shown {
        return ProgressBar::hidden();
    }
    let spinner = ProgressBar::new_spinner();
    spinner.set_style(ProgressStyle::with_template("{spinner} {elapsed_precise} {wide_msg}").expect("static template"));
    spinner.set_message(message);
    spinner.enable_steady_tick(std::time::Duration::from_millis(200));
    spinner
}
