//! Conversions between 8-bit pictures and the planar float layout the model takes:
//! edge-replicated padding to a multiple of the model's downsampling, and cropping back.

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
    let mut out = Vec::with_capacity(3 * ph * pw);
    for c in 0..3 {
        let source_channel = if p.channels == 1 { 0 } else { c };
        for y in 0..ph {
            let sy = y.min(p.height - 1);
            for x in 0..pw {
                let sx = x.min(p.width - 1);
                out.push(f32::from(p.samples[(sy * p.width + sx) * p.channels + source_channel]) / 255.0);
            }
        }
    }
    (out, ph, pw)
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
    let plane = ph * pw;
    let mut samples = Vec::with_capacity(width * height * channels);
    for y in 0..height {
        for x in 0..width {
            let at = |c: usize| planes[c * plane + y * pw + x];
            if channels == 1 {
                samples.push(to_u8((at(0) + at(1) + at(2)) / 3.0));
            } else {
                samples.extend((0..3).map(|c| to_u8(at(c))));
            }
        }
    }
    Pixels { width, height, channels, samples }
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
}
