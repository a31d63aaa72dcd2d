//! One command over many files: `aec compress a.png b.jpg -o out/`, `aec decompress *.aec -o
//! back/`. Each file is done in turn (each one keeps both cores busy), a bad file is reported
//! and the rest go on, a progress bar runs and a summary ends it; the exit code is that of the
//! first failure.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Result;

/// Where a command writes: `-o FILE`; `-o DIR/` (an existing folder, or a path ending in `/`)
/// for `DIR/NAME.EXT`; without `-o`, `NAME.EXT` beside the input (standard output for `-`).
pub fn output_path(input: &Path, output: Option<&Path>, extension: &str) -> Result<PathBuf> {
    match output {
        Some(dir) if is_folder(dir) => {
            if input == Path::new("-") {
                return Err(aec::Error::InvalidArgument(format!("-o {} is a folder: name the output file when reading standard input", dir.display())).into());
            }
            std::fs::create_dir_all(dir).map_err(|e| aec::Error::io(dir, e))?;
            Ok(dir.join(Path::new(input.file_name().unwrap_or_default()).with_extension(extension)))
        }
        Some(file) => Ok(file.to_path_buf()),
        None if input == Path::new("-") => Ok(PathBuf::from("-")),
        None => Ok(input.with_extension(extension)),
    }
}

fn is_folder(path: &Path) -> bool {
    path.is_dir() || path.as_os_str().to_string_lossy().ends_with('/')
}

fn file_size(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

/// Runs `one(input, output)` for every input; it returns the line to report. One input is done
/// plainly; several need `-o` to be a folder (or absent) and get a progress bar and a summary.
///
/// # Errors
/// Usage errors; with several inputs, the first failure (after all were tried).
pub fn run(inputs: &[PathBuf], output: Option<&Path>, extension: &str, one: impl Fn(&Path, &Path) -> Result<String>) -> Result<()> {
    if let [input] = inputs {
        let line = one(input, &output_path(input, output, extension)?)?;
        eprintln!("{line}");
        return Ok(());
    }
    if inputs.iter().any(|p| p == Path::new("-")) {
        return Err(aec::Error::InvalidArgument("- (standard input) cannot be one of several inputs".into()).into());
    }
    if let Some(o) = output.filter(|o| !is_folder(o)) {
        return Err(aec::Error::InvalidArgument(format!("with {} inputs, -o must be a folder (write {}/)", inputs.len(), o.display())).into());
    }
    let started = Instant::now();
    let bar = aec::progress::bar(inputs.len() as u64, true);
    let (mut done, mut bytes_in, mut bytes_out, mut failures) = (0, 0, 0, Vec::new());
    for input in inputs {
        bar.set_message(input.display().to_string());
        let result = output_path(input, output, extension).and_then(|out| one(input, &out).map(|line| (out, line)));
        match result {
            Ok((out, line)) => {
                bar.println(line);
                done += 1;
                bytes_in += file_size(input);
                bytes_out += file_size(&out);
            }
            Err(e) => {
                bar.println(format!("aec: error: {}: {}", input.display(), super::message(&e)));
                failures.push(e);
            }
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    eprintln!("{done} of {} files done: {bytes_in} bytes in, {bytes_out} bytes out, {:.1} s", inputs.len(), started.elapsed().as_secs_f64());
    match failures.len() {
        0 => Ok(()),
        n => Err(failures.swap_remove(0).context(format!("{n} of {} files failed, the first", inputs.len()))),
    }
}
