//! Bounds that a reader enforces before it allocates anything a file merely declares.

/// Largest sizes a reader accepts, checked before anything is allocated.
///
/// The defaults admit pictures of up to 2^25 pixels (33.5 megapixels, e.g. 7000 x 4700) and
/// 2^25 latent values: decoding runs in tiles and needs about 10–12 bytes of memory per pixel
/// beyond a fixed ~90 MB, so this bounds a decode at about 500 MB whatever a file claims.
/// Raise them (up to [`Limits::largest`]) on machines with the memory for it.
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
        Self { max_dimension: 1 << 16, max_pixels: 1 << 25, max_latent_values: 1 << 25 }
    }
}

impl Limits {
    /// The largest pictures aec handles at all: 2^28 pixels (268 megapixels), sides up to
    /// 65536. The encoder refuses anything larger; a reader that accepts this much needs
    /// memory in proportion (see `README.md`).
    pub fn largest() -> Self {
        Self { max_dimension: 1 << 16, max_pixels: 1 << 28, max_latent_values: 1 << 28 }
    }

    /// Limits that only admit small images: for fuzzing and for servers that handle
    /// untrusted input.
    pub fn small() -> Self {
        Self { max_dimension: 1024, max_pixels: 1 << 18, max_latent_values: 1 << 18 }
    }
}
