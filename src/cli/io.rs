//! File handling of the CLI: `-` for standard streams, no surprise overwrites, atomic writes.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

/// Reads a whole file, or standard input for `-`.
pub fn read_input(path: &Path) -> Result<Vec<u8>> {
    if path == Path::new("-") {
        let mut bytes = Vec::new();
        std::io::stdin().read_to_end(&mut bytes).context("reading standard input")?;
        return Ok(bytes);
    }
    std::fs::read(path).with_context(|| format!("reading {}", path.display()))
}

/// Reads and decodes a picture (PNG/JPEG/PPM), or one from standard input for `-`.
pub fn read_picture(path: &Path) -> Result<image::DynamicImage> {
    let bytes = read_input(path)?;
    Ok(image::load_from_memory(&bytes).map_err(|e| aec::Error::image(path, e))?)
}

/// Why the output was refused: it exists and `--force` was not given.
#[derive(Debug)]
pub struct WouldOverwrite(pub PathBuf);

impl std::fmt::Display for WouldOverwrite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} already exists (use --force to overwrite it)", self.0.display())
    }
}

impl std::error::Error for WouldOverwrite {}

/// Checks early that `path` may be written, so that no work is wasted.
pub fn check_writable(path: &Path, force: bool) -> Result<()> {
    if path != Path::new("-") && !force && path.exists() {
        return Err(WouldOverwrite(path.to_path_buf()).into());
    }
    Ok(())
}

/// Writes `bytes` to `path` (standard output for `-`) through a temporary file in the same
/// folder that is renamed into place, so that no half-written file is ever left behind.
pub fn write_output(path: &Path, bytes: &[u8], force: bool) -> Result<()> {
    if path == Path::new("-") {
        let mut out = std::io::stdout().lock();
        out.write_all(bytes).and_then(|()| out.flush()).context("writing standard output")?;
        return Ok(());
    }
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".aec-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .with_context(|| format!("creating a temporary file in {}", dir.display()))?;
    tmp.write_all(bytes).and_then(|()| tmp.as_file().sync_all()).with_context(|| format!("writing {}", path.display()))?;
    if force {
        tmp.persist(path).with_context(|| format!("writing {}", path.display()))?;
    } else if let Err(e) = tmp.persist_noclobber(path) {
        if path.exists() {
            bail!(WouldOverwrite(path.to_path_buf()));
        }
        return Err(e.error).with_context(|| format!("writing {}", path.display()));
    }
    Ok(())
}
