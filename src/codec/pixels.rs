//! Conversions between 8-bit pictures and the planar float layout the model takes:
//! edge-replicated padding to a multiple of the model's downsampling, and cropping back.

use std::ops::Range;

/// An 8-bit picture with 1 (gray) or 3 (RGB) interleaved channels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pixels {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// 1 or 3.
    pub channels: usize,
    /// `height * width * channels` samples, row by row.
    pub samples: Vec<u8>,
}

/// Rounds `n` up to a multiple of `m`.
pub fn round_up(n: usize, m: usize) -> usize {
    n.div_ceil(m) * m
}

/// Planar RGB floats in `0..1`, `[3][padded_h][padded_w]`, where the padded size is a multiple
/// of `multiple`; borders are filled by repeating the last row and column. Gray pictures are
/// replicated into the three channels.
pub fn to_padded_planes(p: &Pixels, multiple: usize) -> (Vec<f32>, usize, usize) {
    let (ph, pw) = (round_up(p.height, multiple), round_up(p.width, multiple));
    (padded_region(p, 0..ph, 0..pw), ph, pw)
}

/// Planar RGB floats in `0..1`, `[3][rows][cols]`, of a region of the picture extended by
/// repeating its last row and column (as [`to_padded_planes`] pads it); gray pictures are
/// replicated into the three channels.
pub fn padded_region(p: &Pixels, rows: Range<usize>, cols: Range<usize>) -> Vec<f32> {
    use rayon::prelude::*;
    let mut out = vec![0.0; 3 * rows.len() * cols.len()];
    // Row by row over the threads: row i of the output is channel i / rows, picture row
    // rows.start + i % rows.
    out.par_chunks_mut(cols.len().max(1)).enumerate().for_each(|(i, row)| {
        let (c, y) = (i / rows.len(), rows.start + i % rows.len());
        let source_channel = if p.channels == 1 { 0 } else { c };
        let sy = y.min(p.height - 1);
        for (v, x) in row.iter_mut().zip(cols.clone()) {
            *v = f32::from(p.samples[(sy * p.width + x.min(p.width - 1)) * p.channels + source_channel]) / 255.0;
        }
    });
    out
}

/// The sum of squared differences of two pictures' samples (same size).
pub fn squared_error(a: &Pixels, b: &Pixels) -> i64 {
    use rayon::prelude::*;
    a.samples
        .par_chunks(1 << 16)
        .zip(b.samples.par_chunks(1 << 16))
        .map(|(a, b)| a.iter().zip(b).map(|(&x, &y)| (i64::from(x) - i64::from(y)).pow(2)).sum::<i64>())
        .sum()
}

/// Converts a float in `0..1` to an 8-bit sample (rounded, clamped).
pub fn to_u8(v: f32) -> u8 {
    (v * 255.0).round().clamp(0.0, 255.0) as u8
}

/// Crops one padded gray plane `[ph][pw]` back to `width x height` 8-bit gray.
pub fn gray_from_padded_plane(plane: &[f32], pw: usize, width: usize, height: usize) -> Pixels {
    let samples = (0..height).flat_map(|y| plane[y * pw..y * pw + width].iter().map(|&v| to_u8(v))).collect();
    Pixels { width, height, channels: 1, samples }
}

/// Crops planar RGB floats `[3][ph][pw]` back to `width x height`, rounds and clamps to 8 bits;
/// with `channels == 1` the three planes are averaged into one gray channel.
pub fn from_padded_planes(planes: &[f32], ph: usize, pw: usize, width: usize, height: usize, channels: usize) -> Pixels {
    let mut out = Pixels { width, height, channels, samples: vec![0; width * height * channels] };
    write_planes(planes, ph, pw, (0, 0), 0..height, 0..width, &mut out);
    out
}

/// Writes rows `rows` and columns `cols` of the picture `out` from planar RGB floats
/// `[3][ph][pw]` whose top-left corner is the picture's pixel `origin` (row, column): rounded
/// and clamped to 8 bits; with one channel the three planes are averaged into gray.
pub fn write_planes(planes: &[f32], ph: usize, pw: usize, origin: (usize, usize), rows: Range<usize>, cols: Range<usize>, out: &mut Pixels) {
    use rayon::prelude::*;
    let plane = ph * pw;
    let (width, channels) = (out.width, out.channels);
    let picture_rows = &mut out.samples[rows.start * width * channels..rows.end * width * channels];
    picture_rows.par_chunks_mut((width * channels).max(1)).zip(rows).for_each(|(row, y)| {
        for x in cols.clone() {
            let at = |c: usize| planes[c * plane + (y - origin.0) * pw + (x - origin.1)];
            let pixel = &mut row[x * channels..][..channels];
            if channels == 1 {
                pixel[0] = to_u8((at(0) + at(1) + at(2)) / 3.0);
            } else {
                for (c, sample) in pixel.iter_mut().enumerate() {
                    *sample = to_u8(at(c));
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padding_replicates_edges_and_cropping_restores_the_picture() {
        let p = Pixels { width: 3, height: 2, channels: 3, samples: (0..18).map(|v| v as u8 * 10).collect() };
        let (planes, ph, pw) = to_padded_planes(&p, 16);
        assert_eq!((ph, pw), (16, 16));
        // Last column repeats beyond the picture.
        assert_eq!(planes[15], planes[2]);
        // Last row repeats below.
        assert_eq!(planes[15 * 16], planes[16]);
        assert_eq!(from_padded_planes(&planes, ph, pw, 3, 2, 3), p);
    }

    #[test]
    fn gray_pictures_round_trip_through_three_planes() {
        let p = Pixels { width: 2, height: 2, channels: 1, samples: vec![0, 64, 128, 255] };
        let (planes, ph, pw) = to_padded_planes(&p, 16);
        assert_eq!(from_padded_planes(&planes, ph, pw, 2, 2, 1), p);
    }

    #[test]
    fn a_region_is_the_same_part_of_the_padded_planes() {
        let p = Pixels { width: 37, height: 21, channels: 3, samples: (0..37 * 21 * 3).map(|v| (v * 7 % 251) as u8).collect() };
        let (planes, ph, pw) = to_padded_planes(&p, 16);
        let (rows, cols) = (5..32, 10..48);
        let region = padded_region(&p, rows.clone(), cols.clone());
        for c in 0..3 {
            for (i, y) in rows.clone().enumerate() {
                for (j, x) in cols.clone().enumerate() {
                    assert_eq!(region[(c * rows.len() + i) * cols.len() + j], planes[(c * ph + y) * pw + x]);
                }
            }
        }
    }
}
