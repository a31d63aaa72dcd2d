//! Bounds that a reader enforces before it allocates anything a file merely declares.

/// Largest sizes a reader accepts, checked before anything is allocated.
///
/// The defaults admit pictures of up to 2^24 pixels (16.7 megapixels, e.g. 4096 x 4096):
/// decoding with the default model needs about 250 bytes of memory per pixel, so this bounds
/// a decode at about 4 GiB whatever a file claims. Raise `max_pixels` (up to 2^28 is
/// sensible) on machines with the memory for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest width or height, in pixels.
    pub max_dimension: u32,
    /// Largest number of pixels (width x height).
    pub max_pixels: u64,
    /// Largest number of latent values (channels x height x width).
    pub max_latent_values: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self { max_dimension: 1 << 16, max_pixels: 1 << 24, max_latent_values: 1 << 24 }
    }
}

impl Limits {
    /// Limits that only admit small images: for fuzzing and for servers that handle
    /// untrusted input.
    pub fn small() -> Self {
        Self { max_dimension: 1024, max_pixels: 1 << 18, max_latent_values: 1 << 18 }
    }
}
