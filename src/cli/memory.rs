//! How the process's allocator treats freed memory while a picture is coded.
//!
//! Coding a picture allocates a few buffers of several megabytes, one after another (a layer's
//! output, the integer hyper-synthesis's sums). glibc hands blocks above its mmap threshold back
//! to the kernel when they are freed, so the next buffer faults in fresh zeroed pages: about a
//! tenth of a 768x512 decode. For pictures of up to [`REUSE_UP_TO_PIXELS`] the thresholds are
//! raised so that freed blocks stay in the heap for the next buffer; bigger pictures keep
//! glibc's defaults, which hold their peak memory lowest (benches/README.md: raised thresholds
//! took the 6000x4000 compress from 466 to 530 MB).

/// The largest picture (pixels) for which freed memory is kept for reuse: 4 megapixels.
pub const REUSE_UP_TO_PIXELS: u64 = 1 << 22;
/// Blocks below this size come from the heap and are reused once freed.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MMAP_THRESHOLD: libc::c_int = 16 << 20;
/// Free memory at the top of the heap kept rather than returned to the kernel.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const TRIM_THRESHOLD: libc::c_int = 64 << 20;

/// Keeps freed memory for reuse from now on if the one picture this process codes has at
/// most [`REUSE_UP_TO_PIXELS`] pixels (glibc on Linux; elsewhere nothing changes). The setting
/// stays for the rest of the process and cannot be undone (glibc's dynamic threshold, which
/// large pictures need, does not come back), so a batch of several pictures (`only_picture`
/// false) keeps the defaults.
pub fn reuse_freed_memory_for(pixels: u64, only_picture: bool) {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if only_picture && pixels <= REUSE_UP_TO_PIXELS {
        #[allow(unsafe_code)]
        // SAFETY: `mallopt` only changes two tuning parameters of glibc's allocator, which takes
        // its own lock; no memory is touched and any value is valid for these parameters.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
            libc::mallopt(libc::M_TRIM_THRESHOLD, TRIM_THRESHOLD);
        }
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    let _ = (pixels, only_picture);
}
