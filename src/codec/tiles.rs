//! Running a family's analysis and synthesis transforms tile by tile, so that memory is bounded
//! by the tile and not by the picture.
//!
//! Both transforms are convolutional with a small receptive field (an output depends on about
//! ±30 pixels of input, or ±2 latent positions), so a tile computed with a margin of
//! [`MARGIN`] latent positions (64 pixels) on each side and then cropped to its own part gives
//! the whole-picture result (up to the order of float additions). Tiles are aligned to the
//! 16-pixel latent grid; at the picture's edges a tile sees the same edge-replicated padding and
//! the same zero padding of the convolutions as the whole picture does. A picture whose latent
//! grid fits in [`MAX_WHOLE`] positions each way is run whole, as before tiling existed.

use std::ops::Range;

use burn::prelude::*;

use super::pixels::{Pixels, from_padded_planes, padded_region, round_up, to_padded_planes, write_planes};

/// Pixels per latent position (the transforms' downsampling).
pub const SCALE: usize = 16;
/// Latent positions each tile keeps, each way.
pub const TILE: usize = 32;
/// Latent positions computed beyond a tile on each side and then dropped.
pub const MARGIN: usize = 4;
/// Grids of at most this many latent positions each way are run whole (1024 pixels).
pub const MAX_WHOLE: usize = 64;

/// Memory a photo transform needs whatever the picture's size: the networks, one tile's
/// buffers, the runtime (measured with `scripts/bench-scale.sh`: about 90 MB).
pub const FIXED_MEMORY: u64 = 96 << 20;
/// Memory per pixel while a picture is coded in tiles: its 8-bit samples, the picture being
/// built and the latents (measured at 24 megapixels: 6.5 bytes decoding, 8.3 compressing).
pub const MEMORY_PER_PIXEL: u64 = 10;

/// The memory (bytes) that coding a picture of `pixels` pixels needs, with `extra_per_pixel`
/// bytes per pixel beyond 8-bit samples (a 16-bit input picture, say).
pub fn memory_for(pixels: u64, extra_per_pixel: u64) -> u64 {
    FIXED_MEMORY.saturating_add(pixels.saturating_mul(MEMORY_PER_PIXEL + extra_per_pixel))
}

/// One tile along one axis, in latent positions: the part it keeps and the part it computes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Span {
    /// Positions the tile keeps.
    pub(crate) keep: Range<usize>,
    /// Positions it computes (the kept ones and the margin).
    pub(crate) run: Range<usize>,
}

/// How a picture is cut into tiles, in latent positions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tiling {
    /// Positions each tile keeps, each way.
    pub tile: usize,
    /// Positions computed beyond a tile on each side and then dropped.
    pub margin: usize,
    /// Axes of at most this many positions are not cut.
    pub max_whole: usize,
}

impl Tiling {
    /// The tiling that coding uses: [`TILE`], [`MARGIN`], [`MAX_WHOLE`].
    pub const DEFAULT: Tiling = Tiling { tile: TILE, margin: MARGIN, max_whole: MAX_WHOLE };

    /// The tiles of an axis of `len` latent positions.
    pub(crate) fn spans(&self, len: usize) -> Vec<Span> {
        if len <= self.max_whole {
            return vec![Span { keep: 0..len, run: 0..len }];
        }
        (0..len)
            .step_by(self.tile.max(1))
            .map(|start| {
                let end = (start + self.tile.max(1)).min(len);
                Span { keep: start..end, run: start.saturating_sub(self.margin)..(end + self.margin).min(len) }
            })
            .collect()
    }
}

/// Runs an analysis transform (16× downsampling: picture planes `[3, h, w]` → latent planes)
/// over a picture padded to a multiple of `multiple` pixels (edges replicated), tile by tile.
/// Returns the latents (`ph/16 x pw/16`) and the padded size `(ph, pw)`.
pub fn analyze(pixels: &Pixels, multiple: usize, transform: impl Fn(&[f32], usize, usize) -> Vec<f32>) -> (LatentPlanes, usize, usize) {
    analyze_with(&Tiling::DEFAULT, pixels, multiple, transform)
}

/// [`analyze`] with another tiling (to compare tiled with whole results).
pub fn analyze_with(tiling: &Tiling, pixels: &Pixels, multiple: usize, transform: impl Fn(&[f32], usize, usize) -> Vec<f32>) -> (LatentPlanes, usize, usize) {
    let (ph, pw) = (round_up(pixels.height, multiple), round_up(pixels.width, multiple));
    let (lh, lw) = (ph / SCALE, pw / SCALE);
    let (rows, cols) = (tiling.spans(lh), tiling.spans(lw));
    if rows.len() == 1 && cols.len() == 1 {
        let (planes, ph, pw) = to_padded_planes(pixels, multiple);
        let values = transform(&planes, ph, pw);
        let channels = values.len() / (lh * lw).max(1);
        return (LatentPlanes { values, channels, height: lh, width: lw }, ph, pw);
    }
    let mut latents: Vec<f32> = Vec::new();
    let mut channels = 0;
    for row in &rows {
        for col in &cols {
            let region = padded_region(pixels, row.run.start * SCALE..row.run.end * SCALE, col.run.start * SCALE..col.run.end * SCALE);
            let (th, tw) = (row.run.len(), col.run.len());
            let y = transform(&region, th * SCALE, tw * SCALE);
            let c = y.len() / (th * tw);
            if latents.is_empty() {
                channels = c;
                latents = vec![0.0; c * lh * lw];
            }
            for ch in 0..c {
                for ty in row.keep.clone() {
                    let from = ch * th * tw + (ty - row.run.start) * tw + (col.keep.start - col.run.start);
                    let to = ch * lh * lw + ty * lw + col.keep.start;
                    latents[to..to + col.keep.len()].copy_from_slice(&y[from..from + col.keep.len()]);
                }
            }
        }
    }
    (LatentPlanes { values: latents, channels, height: lh, width: lw }, ph, pw)
}

/// Latents as planes: `values` holds `channels` planes of `height` x `width`, row by row.
#[derive(Debug, Clone, PartialEq)]
pub struct LatentPlanes {
    /// The values, `[channels, height, width]`.
    pub values: Vec<f32>,
    /// Number of planes.
    pub channels: usize,
    /// Rows of each plane.
    pub height: usize,
    /// Columns of each plane.
    pub width: usize,
}

impl LatentPlanes {
    /// The latents as a tensor `[1, channels, height, width]` on `device`.
    pub fn to_tensor(&self, device: &Device) -> Tensor<4> {
        Tensor::<4>::from_data(TensorData::new(self.values.clone(), [1, self.channels, self.height, self.width]), device)
    }

    /// The part `rows` x `cols` of every plane.
    pub(crate) fn region(&self, rows: Range<usize>, cols: Range<usize>) -> LatentPlanes {
        let (height, width) = (rows.len(), cols.len());
        LatentPlanes { values: planes_region(&self.values, self.channels, (self.height, self.width), rows, cols), channels: self.channels, height, width }
    }
}

/// The part `rows` x `cols` of each of `planes` planes of `h x w` values (row by row).
pub(crate) fn planes_region<T: Copy>(values: &[T], planes: usize, (h, w): (usize, usize), rows: Range<usize>, cols: Range<usize>) -> Vec<T> {
    let mut out = Vec::with_capacity(planes * rows.len() * cols.len());
    for c in 0..planes {
        for y in rows.clone() {
            let start = (c * h + y) * w;
            out.extend_from_slice(&values[start + cols.start..start + cols.end]);
        }
    }
    out
}

/// Runs a synthesis transform (16× upsampling: latent planes → picture planes `[3, 16h,
/// 16w]`) tile by tile, into an 8-bit picture of `width` x `height` with `channels` channels
/// (1: the three output planes averaged into gray; 3: RGB).
pub fn synthesize(latents: &LatentPlanes, width: usize, height: usize, channels: usize, transform: impl Fn(&LatentPlanes) -> Vec<f32>) -> Pixels {
    synthesize_with(&Tiling::DEFAULT, latents, width, height, channels, transform)
}

/// [`synthesize`] with another tiling (to compare tiled with whole results).
pub fn synthesize_with(
    tiling: &Tiling,
    latents: &LatentPlanes,
    width: usize,
    height: usize,
    channels: usize,
    transform: impl Fn(&LatentPlanes) -> Vec<f32>,
) -> Pixels {
    let (lh, lw) = (latents.height, latents.width);
    let (rows, cols) = (tiling.spans(lh), tiling.spans(lw));
    if rows.len() == 1 && cols.len() == 1 {
        return from_padded_planes(&transform(latents), lh * SCALE, lw * SCALE, width, height, channels);
    }
    let mut out = Pixels { width, height, channels, samples: vec![0; width * height * channels] };
    for row in &rows {
        for col in &cols {
            let planes = transform(&latents.region(row.run.clone(), col.run.clone()));
            let ys = row.keep.start * SCALE..(row.keep.end * SCALE).min(height);
            let xs = col.keep.start * SCALE..(col.keep.end * SCALE).min(width);
            let origin = (row.run.start * SCALE, col.run.start * SCALE);
            write_planes(&planes, row.run.len() * SCALE, col.run.len() * SCALE, origin, ys, xs, &mut out);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiles_cover_each_axis_once_with_margins() {
        assert_eq!(Tiling::DEFAULT.spans(MAX_WHOLE), vec![Span { keep: 0..MAX_WHOLE, run: 0..MAX_WHOLE }]);
        for len in [MAX_WHOLE + 1, 100, 250, 375] {
            let tiles = Tiling::DEFAULT.spans(len);
            assert_eq!(tiles[0].keep.start, 0);
            assert_eq!(tiles.last().unwrap().keep.end, len);
            for pair in tiles.windows(2) {
                assert_eq!(pair[0].keep.end, pair[1].keep.start);
            }
            for t in &tiles {
                assert!(t.run.start <= t.keep.start && t.keep.end <= t.run.end && t.run.end <= len);
                assert!(t.keep.start - t.run.start == MARGIN.min(t.keep.start));
                assert!(t.run.end - t.keep.end == MARGIN.min(len - t.keep.end));
            }
        }
    }

    /// A photo wider than [`MAX_WHOLE`] latent positions (three column tiles): kodim23 and
    /// its mirror image side by side, 1100 x 160.
    fn wide_photo() -> Pixels {
        let photo = image::open("tests/fixtures/kodim23.png").unwrap().to_rgb8();
        let (width, height) = (1100usize, 160usize);
        let samples = (0..height)
            .flat_map(|y| (0..width).map(move |x| (x, y)))
            .flat_map(|(x, y)| {
                let sx = if x < 768 { x } else { 2 * 767 - x };
                photo.get_pixel(sx as u32, (y + 200) as u32).0
            })
            .collect();
        Pixels { width, height, channels: 3, samples }
    }

    #[test]
    fn tiled_transforms_give_the_whole_picture_results() {
        // From its files: the built-in version-1 model has no analysis transform.
        let codec = super::super::Codec::from_files(std::path::Path::new("models/default.bpk"), burn::prelude::Device::flex()).unwrap();
        let pixels = wide_photo();
        assert!(Tiling::DEFAULT.spans(round_up(pixels.width, SCALE) / SCALE).len() == 3, "the test picture is tiled");
        let encoder = crate::infer::Analysis::from_model(&codec.model().analysis).unwrap();
        let (tiled, ph, pw) = analyze(&pixels, SCALE, |x, h, w| encoder.forward(x, h, w));
        let (planes, _, _) = to_padded_planes(&pixels, SCALE);
        let whole = encoder.forward(&planes, ph, pw);
        let diff = tiled.values.iter().zip(&whole).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
        assert!(diff < 1e-3, "latents differ by up to {diff}");
        let (lh, lw) = (ph / SCALE, pw / SCALE);
        let y = LatentPlanes { values: whole.iter().map(|v| v.round()).collect(), channels: whole.len() / (lh * lw), height: lh, width: lw };
        let decoder = crate::infer::Synthesis::from_model(&codec.model().synthesis).unwrap();
        let tiled = synthesize(&y, pixels.width, pixels.height, 3, |t| decoder.forward(&t.values, t.height, t.width));
        let planes = decoder.forward(&y.values, lh, lw);
        let whole = from_padded_planes(&planes, ph, pw, pixels.width, pixels.height, 3);
        let worst = tiled.samples.iter().zip(&whole.samples).map(|(a, b)| a.abs_diff(*b)).max().unwrap();
        assert!(worst <= 1, "pixels differ by up to {worst}");
        let psnr = crate::metrics::psnr(&tiled.samples, &whole.samples);
        assert!(psnr > 70.0, "tiled against whole: {psnr} dB");
        let differing = tiled.samples.iter().zip(&whole.samples).filter(|(a, b)| a != b).count();
        eprintln!("tiled against whole: latents within {diff:.2e}, {differing} of {} samples differ (by 1), PSNR {psnr:.1} dB", whole.samples.len());
    }
}
