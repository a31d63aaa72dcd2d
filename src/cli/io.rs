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

/// Reads a whole file, or standard input for `-`, refusing more than `max_bytes`.
pub fn read_input(path: &Path, max_bytes: u64) -> Result<Vec<u8>> {
    let reader: Box<dyn Read> =
        if path == Path::new("-") { Box::new(std::io::stdin().lock()) } else { Box::new(std::fs::File::open(path).map_err(|e| aec::Error::io(path, e))?) };
    let mut bytes = Vec::new();
    reader.take(max_bytes.saturating_add(1)).read_to_end(&mut bytes).map_err(|e| aec::Error::io(path, e))?;
    if bytes.len() as u64 > max_bytes {
        return Err(
            aec::Error::TooLarge { what: "input size (bytes)", value: bytes.len() as u64, limit: max_bytes, hint: "; use --max-pixels to raise it" }.into()
        );
    }
    Ok(bytes)
}

/// Reads and decodes a picture, or one from standard input for `-` (see
/// [`aec::pictures::decode_picture`]), with its metadata; 16-bit samples are noted on stderr.
pub fn read_picture_with_metadata(path: &Path, max_pixels: u64) -> Result<aec::pictures::Picture> {
    let picture = aec::pictures::decode_picture(&read_input(path, MAX_PICTURE_BYTES)?, path, max_pixels)?;
    note_wide_samples(&picture, path);
    Ok(picture)
}

/// Memory beyond coding that refining the latents takes (`aec compress --refine`): a window
/// of latents with its synthesis kept for the gradient (a compression of kodim23, 768x512,
/// peaked at 146 MB with `--refine 30` against 68 MB without), and the picture kept as
/// floats.
pub const REFINING_MEMORY: Extra = Extra { fixed: 128 << 20, per_pixel: 12 };

/// Memory beyond coding that fitting the restoration filter and the residual layer takes: the
/// picture and its decoded forms, the residual's DCT coefficients and its quantized values
/// (a 3.5-megapixel picture peaked at 182 MB with them, 111 MB without: 20 bytes a pixel).
pub const LAYERS_MEMORY: Extra = Extra { fixed: 0, per_pixel: 24 };

/// Memory that coding a picture needs beyond what [`aec::codec::tiles::memory_for`] counts.
#[derive(Debug, Clone, Copy, Default)]
pub struct Extra {
    /// Bytes whatever the picture's size.
    pub fixed: u64,
    /// Bytes per pixel.
    pub per_pixel: u64,
}

impl Extra {
    /// The memory of both.
    #[must_use]
    pub fn and(self, other: Self) -> Self {
        Self { fixed: self.fixed + other.fixed, per_pixel: self.per_pixel + other.per_pixel }
    }
}

/// Refuses to code a picture of `pixels` pixels (with `extra` memory beyond coding 8-bit
/// samples) when that needs more memory than `max_memory` bytes.
pub fn check_memory(pixels: u64, extra: Extra, max_memory: u64) -> Result<()> {
    let needed = aec::codec::tiles::memory_for(pixels, extra.per_pixel).saturating_add(extra.fixed);
    if needed > max_memory {
        return Err(aec::Error::TooLarge { what: "memory needed (bytes)", value: needed, limit: max_memory, hint: "; use --max-memory to raise it" }.into());
    }
    Ok(())
}

/// Reads a picture to compress: refused when it has more than `max_pixels` pixels or coding
/// it (with `extra` memory) needs more than `max_memory` bytes (both judged from its header,
/// before decoding). Also says whether `optional` memory beyond that fits too.
pub fn read_picture_to_code(path: &Path, max_pixels: u64, max_memory: u64, extra: Extra, optional: Extra) -> Result<(aec::pictures::Picture, bool)> {
    let bytes = read_input(path, MAX_PICTURE_BYTES)?;
    let mut optional_fits = true;
    if let Some((width, height, bytes_per_pixel)) = aec::pictures::declared_size(&bytes) {
        let pixels = u64::from(width) * u64::from(height);
        if pixels <= max_pixels {
            let wide = u64::from(bytes_per_pixel).saturating_sub(3);
            let extra = Extra { per_pixel: extra.per_pixel + wide, ..extra };
            check_memory(pixels, extra, max_memory)?;
            optional_fits = check_memory(pixels, extra.and(optional), max_memory).is_ok();
        }
    }
    let picture = aec::pictures::decode_picture(&bytes, path, max_pixels)?;
    note_wide_samples(&picture, path);
    Ok((picture, optional_fits))
}

/// Notes on stderr that samples of more than 8 bits are rounded.
fn note_wide_samples(picture: &aec::pictures::Picture, path: &Path) {
    if picture.has_wide_samples() {
        eprintln!("aec: note: {} has more than 8 bits per sample; aec codes 8 bits, the rest is rounded away", path.display());
    }
}

/// Reads and decodes a picture as [`read_picture_with_metadata`] does, for commands that
/// use the pixels alone.
pub fn read_picture(path: &Path, max_pixels: u64) -> Result<image::DynamicImage> {
    Ok(read_picture_with_metadata(path, max_pixels)?.image)
}

/// Ctrl-C (SIGINT) and SIGTERM remove the temporary file being written before the process
/// ends, so that no `.aec-*.tmp` is left beside the output; a closed standard output ends the
/// process quietly.
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
    /// SIGPIPE stays ignored (a child such as cjpeg closing its input must not kill aec); a
    /// reader of standard output that goes away, as in `aec levels | head`, ends aec quietly
    /// with 141 instead ([`exit_quietly_on_closed_stdout`]).
    pub fn install() {
        #[cfg(unix)]
        // SAFETY: `on_signal` only calls async-signal-safe functions.
        unsafe {
            libc::signal(libc::SIGINT, on_signal as *const () as libc::sighandler_t);
            libc::signal(libc::SIGTERM, on_signal as *const () as libc::sighandler_t);
        }
        exit_quietly_on_closed_stdout();
    }

    /// Ends the process quietly with 141, as SIGPIPE ends other tools, when `error` (from a
    /// write to standard output) says that its reader went away, as in `aec decompress f.aec
    /// -o - | head -c 8`.
    pub fn exit_if_stdout_closed(error: &std::io::Error) {
        if error.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(141);
        }
    }

    /// Makes the panic of `println!` on a closed standard output (its reader went away) end
    /// the process with 141, as SIGPIPE does for other tools, instead of printing a panic.
    fn exit_quietly_on_closed_stdout() {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let message = info.payload().downcast_ref::<String>().map(String::as_str).or_else(|| info.payload().downcast_ref::<&str>().copied());
            if message.is_some_and(|m| m.starts_with("failed printing to stdout") && m.contains("Broken pipe")) {
                std::process::exit(141);
            }
            default(info);
        }));
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
        let written = out.write_all(bytes).and_then(|()| out.flush());
        if let Err(e) = &written {
            signals::exit_if_stdout_closed(e);
        }
        written.context("writing standard output")?;
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
    let mut tmp = builder.tempfile_in(dir).with_context(|| format!("creating a temporary file in {}", dir.display()))?;
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
