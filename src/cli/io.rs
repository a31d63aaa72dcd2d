//! File handling of the CLI: `-` for standard streams, no surprise overwrites, atomic writes.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use image::ImageDecoder;

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
/// decoder's own allocations are bounded too; a truncated JPEG is refused. The EXIF
/// orientation is applied; 16-bit samples and metadata that aec drops are noted on stderr.
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
    let mut reader = reader()?;
    if reader.format() == Some(image::ImageFormat::Jpeg) && !jpeg_is_complete(&bytes) {
        let why = std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "truncated JPEG: the end-of-image marker is missing");
        return Err(aec::Error::image(path, image::ImageError::IoError(why)).into());
    }
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(|e| aec::Error::image(path, e))?;
    let orientation = decoder.orientation().unwrap_or(image::metadata::Orientation::NoTransforms);
    let dropped: Vec<&str> = [("an ICC profile", decoder.icc_profile()), ("EXIF data", decoder.exif_metadata())]
        .into_iter()
        .filter_map(|(what, found)| matches!(found, Ok(Some(_))).then_some(what))
        .collect();
    let mut picture = image::DynamicImage::from_decoder(decoder).map_err(|e| aec::Error::image(path, e))?;
    // Pictures are coded upright: a portrait phone photo stays portrait.
    picture.apply_orientation(orientation);
    if !dropped.is_empty() {
        eprintln!("aec: note: {} holds {}, which aec does not keep (the EXIF orientation is applied to the pixels)", path.display(), dropped.join(" and "));
    }
    if matches!(picture.color(), image::ColorType::L16 | image::ColorType::La16 | image::ColorType::Rgb16 | image::ColorType::Rgba16 | image::ColorType::Rgb32F | image::ColorType::Rgba32F) {
        eprintln!("aec: note: {} has more than 8 bits per sample; aec codes 8 bits, the rest is rounded away", path.display());
    }
    Ok(picture)
}

/// Whether JPEG bytes run to their end-of-image marker: the marker segments are walked from
/// the start of image to the first start of scan, and an end-of-image marker must follow it
/// (entropy-coded data cannot contain one: a 0xFF data byte is always followed by 0x00 or a
/// restart marker). A file cut short anywhere fails this.
pub fn jpeg_is_complete(bytes: &[u8]) -> bool {
    if !bytes.starts_with(&[0xFF, 0xD8]) {
        return false;
    }
    let mut i = 2;
    loop {
        while bytes.get(i) == Some(&0xFF) && bytes.get(i + 1) == Some(&0xFF) {
            i += 1; // fill bytes
        }
        match (bytes.get(i), bytes.get(i + 1)) {
            (Some(0xFF), Some(0xD9)) => return true,
            (Some(0xFF), Some(0x01 | 0xD0..=0xD7)) => i += 2,
            (Some(0xFF), Some(&marker)) => {
                let Some(len) = bytes.get(i + 2..i + 4).map(|l| usize::from(u16::from_be_bytes([l[0], l[1]]))) else { return false };
                i += 2 + len;
                if marker == 0xDA {
                    return bytes.get(i..).is_some_and(|scan| scan.windows(2).any(|w| w == [0xFF, 0xD9]));
                }
            }
            _ => return false,
        }
    }
}

/// Ctrl-C (SIGINT) and SIGTERM remove the temporary file being written before the process
/// ends, so that no `.aec-*.tmp` is left beside the output.
pub mod signals {
    use std::ffi::CString;
    use std::path::Path;
    use std::sync::atomic::{AtomicPtr, Ordering};

    /// The temporary file being written, as a C string for `unlink` (null when none).
    static TEMP_FILE: AtomicPtr<libc::c_char> = AtomicPtr::new(std::ptr::null_mut());

    extern "C" fn on_signal(signal: libc::c_int) {
        let path = TEMP_FILE.swap(std::ptr::null_mut(), Ordering::SeqCst);
        // SAFETY: unlink and _exit are async-signal-safe; `path` is a NUL-terminated string
        // leaked by `TempFileGuard::new` and never freed while registered.
        unsafe {
            if !path.is_null() {
                libc::unlink(path);
            }
            libc::_exit(128 + signal);
        }
    }

    /// Installs the handler for SIGINT and SIGTERM (exit code 128 + the signal, as shells do).
    pub fn install() {
        #[cfg(unix)]
        // SAFETY: `on_signal` only calls async-signal-safe functions.
        unsafe {
            libc::signal(libc::SIGINT, on_signal as *const () as libc::sighandler_t);
            libc::signal(libc::SIGTERM, on_signal as *const () as libc::sighandler_t);
        }
    }

    /// Registers a temporary file for removal on a signal while it lives.
    pub struct TempFileGuard;

    impl TempFileGuard {
        /// Registers `path` (replacing any earlier registration).
        pub fn new(path: &Path) -> Self {
            use std::os::unix::ffi::OsStrExt;
            if let Ok(c) = CString::new(path.as_os_str().as_bytes()) {
                free(TEMP_FILE.swap(c.into_raw(), Ordering::SeqCst));
            }
            Self
        }
    }

    impl Drop for TempFileGuard {
        fn drop(&mut self) {
            free(TEMP_FILE.swap(std::ptr::null_mut(), Ordering::SeqCst));
        }
    }

    fn free(path: *mut libc::c_char) {
        if !path.is_null() {
            // SAFETY: every non-null pointer stored comes from `CString::into_raw`, and the
            // swap handed it to us alone.
            drop(unsafe { CString::from_raw(path) });
        }
    }
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
    let _cleanup = signals::TempFileGuard::new(tmp.path());
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_whole_jpegs_are_complete() {
        let picture = image::DynamicImage::ImageRgb8(image::RgbImage::from_fn(40, 30, |x, y| image::Rgb([(x * 6) as u8, (y * 8) as u8, 90])));
        let mut jpeg = std::io::Cursor::new(Vec::new());
        picture.write_to(&mut jpeg, image::ImageFormat::Jpeg).unwrap();
        let jpeg = jpeg.into_inner();
        assert!(jpeg_is_complete(&jpeg));
        let mut padded = jpeg.clone();
        padded.extend_from_slice(&[0, 0, 0]);
        assert!(jpeg_is_complete(&padded), "trailing bytes after the end marker are harmless");
        for cut in [0, 1, 2, 10, jpeg.len() / 100, jpeg.len() / 2, jpeg.len() - 2, jpeg.len() - 1] {
            assert!(!jpeg_is_complete(&jpeg[..cut]), "cut at {cut} of {}", jpeg.len());
        }
    }
}
