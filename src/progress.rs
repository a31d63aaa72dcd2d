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
