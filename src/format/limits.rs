//! Bounds that a reader enforces before it allocates anything a file merely declares.

/// Largest sizes a reader accepts. The defaults allow any photograph of up to 2^28 pixels
/// (e.g. 16384 x 16384) and refuse anything larger before allocating.
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
        Self { max_dimension: 1 << 16, max_pixels: 1 << 28, max_latent_values: 1 << 28 }
    }
}

impl Limits {
    /// Limits that only admit small images: for fuzzing and for servers that handle
    /// untrusted input.
    pub fn small() -> Self {
        Self { max_dimension: 1024, max_pixels: 1 << 18, max_latent_values: 1 << 18 }
    }
}
