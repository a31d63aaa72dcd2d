//! Training data: a folder of photographs held in memory, sampled as random crops with random
//! flips.

use std::path::Path;

use crate::pictures::list_images;

use image::RgbImage;
use rand::Rng;

use crate::error::{Error, Result};

/// All training photographs of a folder, decoded to 8-bit RGB.
pub struct PatchSampler {
    images: Vec<RgbImage>,
    patch: usize,
}

impl PatchSampler {
    /// Loads every image of `dir` that is at least `patch` pixels in both directions.
    ///
    /// # Errors
    /// [`Error::Io`]/[`Error::Image`] if a file cannot be read, [`Error::InvalidArgument`] if
    /// no usable image is found.
    pub fn from_dir(dir: &Path, patch: usize) -> Result<Self> {
        let mut images = Vec::new();
        for path in list_images(dir)? {
            let image = image::open(&path).map_err(|e| Error::image(&path, e))?.to_rgb8();
            if image.width() as usize >= patch && image.height() as usize >= patch {
                images.push(image);
            }
        }
        if images.is_empty() {
            return Err(Error::InvalidArgument(format!("no image of at least {patch}x{patch} pixels in {}", dir.display())));
        }
        Ok(Self { images, patch })
    }

    /// Number of images held.
    pub fn len(&self) -> usize {
        self.images.len()
    }

    /// Whether no image is held (never true for a sampler built by [`Self::from_dir`]).
    pub fn is_empty(&self) -> bool {
        self.images.is_empty()
    }

    /// `count` random patches as planar RGB floats in `0..1`, laid out
    /// `[count, 3, patch, patch]`.
    pub fn sample(&self, count: usize, rng: &mut impl Rng) -> Vec<f32> {
        let p = self.patch;
        let mut out = Vec::with_capacity(count * 3 * p * p);
        for _ in 0..count {
            let image = &self.images[rng.random_range(0..self.images.len())];
            let x0 = rng.random_range(0..=image.width() as usize - p);
            let y0 = rng.random_range(0..=image.height() as usize - p);
            let (flip_x, flip_y) = (rng.random_bool(0.5), rng.random_bool(0.5));
            for c in 0..3 {
                for y in 0..p {
                    let sy = if flip_y { p - 1 - y } else { y };
                    for x in 0..p {
                        let sx = if flip_x { p - 1 - x } else { x };
                        let px = image.get_pixel((x0 + sx) as u32, (y0 + sy) as u32);
                        out.push(f32::from(px[c]) / 255.0);
                    }
                }
            }
        }
        out
    }
}
