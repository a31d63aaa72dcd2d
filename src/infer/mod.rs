//! The inference layer: the photo families' analysis and synthesis transforms in plain Rust,
//! with weights packed once when a model loads, on the `gemm` crate's matrix kernels.
//!
//! burn trains the networks; coding a picture runs the analysis transform (four 5x5 stride-2
//! convolutions with GDN between them) or the synthesis transform (four 5x5 stride-2 transposed
//! convolutions with inverse GDN), and running them here instead of through burn's general
//! operators saves most of the time (see `benches/README.md`):
//!
//! - a transposed convolution of stride 2 is four ordinary convolutions, one per output phase
//!   (even/odd row, even/odd column), each with 2 or 3 taps per axis instead of 5; a strided
//!   convolution is the sum of four over the input's phases ([`downsampling`]'s notes);
//! - feature maps are stored pixel by pixel (all channels of a pixel together) inside a frame
//!   of zeros, so that the input of a tap row is a strided view of the maps: no copies, no
//!   column buffers;
//! - rows of the picture are cut into blocks small enough for the CPU's caches; each block runs
//!   the convolution, its bias and the (inverse) GDN (itself a matrix product) before the next
//!   block starts, and blocks are spread over rayon's threads.
//!
//! Results depend only on the sizes and the CPU's instruction set, not on the number of
//! threads. They differ from burn's by the order of float additions (a few units in the last
//! place), so decoded pixels agree with burn's within the format's pixel tolerance
//! (`format-spec/aec-v2.md`), not bit for bit, and an encoder may round a latent that lies
//! within a rounding error of `k + 0.5` the other way (the encoder is not normative); everything
//! that decides how the bitstream decodes stays in integer arithmetic elsewhere.

mod downsampling;
mod gradient;
mod layers;
pub mod matmul;
mod same;
mod transforms;

pub use gradient::SynthesisGradient;
pub use transforms::{Analysis, HyperAnalysis, Synthesis};

use rayon::prelude::*;

/// Feature maps of `channels` x `height` x `width`, laid out pixel by pixel (channels
/// innermost) inside a frame of zeros: one row above, one column on each side, and two rows
/// below (the second so that a strided view that starts in the last row's frame column stays
/// inside the buffer).
#[derive(Debug, Clone, PartialEq)]
pub struct Maps {
    data: Vec<f32>,
    channels: usize,
    height: usize,
    width: usize,
}

impl Maps {
    /// All-zero maps.
    pub fn zeros(channels: usize, height: usize, width: usize) -> Self {
        Self { data: vec![0.0; (height + 3) * (width + 2) * channels], channels, height, width }
    }

    /// Maps from planes (`[channels, height, width]`, row by row).
    ///
    /// # Panics
    /// If `planes` does not hold `channels * height * width` values.
    pub fn from_planes(planes: &[f32], channels: usize, height: usize, width: usize) -> Self {
        assert_eq!(planes.len(), channels * height * width, "plane size");
        let mut maps = Self::zeros(channels, height, width);
        let row = maps.stride() * channels;
        // Row by row over the threads (a first layer's 192 channels are 1 ms of scattering).
        maps.data[row..(height + 1) * row].par_chunks_mut(row.max(1)).enumerate().for_each(|(y, framed)| {
            for x in 0..width {
                for (c, v) in framed[(x + 1) * channels..][..channels].iter_mut().enumerate() {
                    *v = planes[(c * height + y) * width + x];
                }
            }
        });
        maps
    }

    /// The maps as planes (`[channels, height, width]`).
    pub fn to_planes(&self) -> Vec<f32> {
        let mut planes = vec![0.0; self.channels * self.height * self.width];
        planes.par_chunks_mut(self.width.max(1)).enumerate().for_each(|(i, row)| {
            let (c, y) = (i / self.height.max(1), i % self.height.max(1));
            for (x, v) in row.iter_mut().enumerate() {
                *v = self.data[self.index(y, x) + c];
            }
        });
        planes
    }

    /// Channels, height, width.
    pub fn dims(&self) -> [usize; 3] {
        [self.channels, self.height, self.width]
    }

    /// Index of the first channel of pixel `(y, x)`.
    fn index(&self, y: usize, x: usize) -> usize {
        ((y + 1) * self.stride() + x + 1) * self.channels
    }

    /// Pixels from one row of the buffer to the next (the width and the frame).
    fn stride(&self) -> usize {
        self.width + 2
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn planes_survive_the_framed_layout() {
        let planes: Vec<f32> = (0..2 * 3 * 5).map(|v| v as f32).collect();
        let maps = Maps::from_planes(&planes, 2, 3, 5);
        assert_eq!(maps.to_planes(), planes);
        assert_eq!(maps.data.iter().filter(|&&v| v != 0.0).count(), planes.len() - 1, "the frame is zero");
    }
}
