//! File handling of the CLI: `-` for standard streams, no surprise overwrites, atomic writes.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

/// Largest picture file read into memory: 1 GiB. Longer inputs (`/dev/zero`, say) are
/// refused as soon as this much has been read.
pub const MAX_PICTURE_BYTES: u64 = 1 << 30;

/// Largest `.aec` input read into memory for pictures of up to `max_pixels`: 4 bytes per
/// pixel (far above what any model writes), at least 64 MiB.
pub fn max_aec_bytes(max_pixels: u64) -> u64 {
    max_pixels.saturating_mul(4).max(64 << 20)
}

/// The picture formats aec reads, for help texts and errors.
pub const INPUT_FORMATS: &str = "PNG, JPEG, WebP, TIFF, GIF (first frame), BMP, PPM/PGM/PAM";

/// Reads a whole file, or standard input for `-`, refusing more than `max_bytes`.
pub fn read_input(path: &Path, max_bytes: u64) -> Result<Vec<u8>> {
    let reader: Box<dyn Read> = if path == Path::new("-") {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(std::fs::File::open(path).map_err(|e| aec::Error::io(path, e))?)
    };
    let mut bytes = Vec::new();
    reader.take(max_bytes.saturating_add(1)).read_to_end(&mut bytes).map_err(|e| aec::Error::io(path, e))?;
    if bytes.len() as u64 > max_bytes {
        return Err(aec::Error::TooLarge { what: "input size (bytes)", value: bytes.len() as u64, limit: max_bytes, hint: "; use --max-pixels to raise it" }.into());
    }
    Ok(bytes)
}

/// Reads and decodes a picture, or one from standard input for `-`. The size the picture's
/// header declares is checked against `max_pixels` before any pixel is decoded, and the
/// decoder's own allocations are bounded too. 16-bit samples are noted on stderr (aec codes
/// 8 bits).
pub fn read_picture(path: &Path, max_pixels: u64) -> Result<image::DynamicImage> {
    let bytes = read_input(path, MAX_PICTURE_BYTES)?;
    let unknown = |e: std::io::Error| aec::Error::image(path, image::ImageError::IoError(e));
    let reader = || image::ImageReader::new(std::io::Cursor::new(&bytes)).with_guessed_format().map_err(unknown);
    let guessed = reader()?;
    if guessed.format().is_none() {
        let why = std::io::Error::new(std::io::ErrorKind::InvalidData, format!("not a picture format aec reads ({INPUT_FORMATS})"));
        return Err(aec::Error::image(path, image::ImageError::IoError(why)).into());
    }
    let (w, h) = guessed.into_dimensions().map_err(|e| aec::Error::image(path, e))?;
    let pixels = u64::from(w) * u64::from(h);
    if pixels > max_pixels {
        return Err(aec::Error::TooLarge { what: "picture size (pixels)", value: pixels, limit: max_pixels, hint: "; use --max-pixels to raise it" }.into());
    }
    let mut limits = image::Limits::default();
    // 8 bytes per sample and 4 samples per pixel cover every format's decode buffer.
    limits.max_alloc = Some(pixels.saturating_mul(32).max(1 << 20));
    let mut decoder = reader()?;
    decoder.limits(limits);
    let picture = decoder.decode().map_err(|e| aec::Error::image(path, e))?;
    if matches!(picture.color(), image::ColorType::L16 | image::ColorType::La16 | image::ColorType::Rgb16 | image::ColorType::Rgba16 | image::ColorType::Rgb32F | image::ColorType::Rgba32F) {
        eprintln!("aec: note: {} has more than 8 bits per sample; aec codes 8 bits, the rest is rounded away", path.display());
    }
    Ok(picture)
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
    let mut builder = tempfile::Builder::new();
    builder.prefix(".aec-").suffix(".tmp");
    // Created like any new file: mode 0666 less the umask (tempfile's default is 0600).
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
    let mut tmp = builder
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
