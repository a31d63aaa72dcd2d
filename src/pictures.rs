//! Reading pictures in every format aec accepts: the size a picture declares is checked before
//! any pixel is decoded, truncated JPEGs are refused, the EXIF orientation is applied, and the
//! ICC profile and EXIF block are handed back beside the pixels.

use std::path::{Path, PathBuf};

use image::{DynamicImage, ImageDecoder};

use crate::{Error, Result};

/// The picture formats aec reads, for help texts and errors.
pub const INPUT_FORMATS: &str = "PNG, JPEG, WebP, TIFF, GIF (first frame), BMP, PPM/PGM/PAM";

/// A decoded picture, upright, with the metadata its file held.
#[derive(Debug, Clone)]
pub struct Picture {
    /// The pixels, with the EXIF orientation already applied.
    pub image: DynamicImage,
    /// The ICC colour profile, as stored in the file.
    pub icc: Option<Vec<u8>>,
    /// The EXIF block, as stored in the file, with its orientation tag reset to "upright"
    /// (the pixels are already turned).
    pub exif: Option<Vec<u8>>,
}

impl Picture {
    /// Whether the samples had more than 8 bits (aec codes 8).
    pub fn has_wide_samples(&self) -> bool {
        use image::ColorType::*;
        matches!(self.image.color(), L16 | La16 | Rgb16 | Rgba16 | Rgb32F | Rgba32F)
    }
}

/// The size (width, height) and bytes per pixel that a picture file declares in its header,
/// read without decoding the pixels; `None` when the header cannot be read.
pub fn declared_size(bytes: &[u8]) -> Option<(u32, u32, u8)> {
    use image::ImageDecoder;
    let reader = image::ImageReader::new(std::io::Cursor::new(bytes)).with_guessed_format().ok()?;
    reader.format()?;
    let decoder = reader.into_decoder().ok()?;
    let (width, height) = decoder.dimensions();
    Some((width, height, decoder.color_type().bytes_per_pixel()))
}

/// Decodes a picture from its file bytes. `path` only names the picture in errors.
///
/// # Errors
/// [`Error::Image`] for an unknown format, a truncated JPEG or a corrupt picture;
/// [`Error::TooLarge`] when the declared size exceeds `max_pixels` (nothing that size is
/// allocated).
pub fn decode_picture(bytes: &[u8], path: &Path, max_pixels: u64) -> Result<Picture> {
    let invalid = |kind, why: String| Error::image(path, image::ImageError::IoError(std::io::Error::new(kind, why)));
    let reader = || image::ImageReader::new(std::io::Cursor::new(bytes)).with_guessed_format().map_err(|e| Error::image(path, image::ImageError::IoError(e)));
    let guessed = reader()?;
    if guessed.format().is_none() {
        return Err(invalid(std::io::ErrorKind::InvalidData, format!("not a picture format aec reads ({INPUT_FORMATS})")));
    }
    let (w, h) = guessed.into_dimensions().map_err(|e| Error::image(path, e))?;
    if w == 0 || h == 0 {
        return Err(invalid(std::io::ErrorKind::InvalidData, format!("the picture is {w}x{h}: it has no pixels")));
    }
    let pixels = u64::from(w) * u64::from(h);
    if pixels > max_pixels {
        return Err(Error::TooLarge { what: "picture size (pixels)", value: pixels, limit: max_pixels, hint: "; use --max-pixels to raise it" });
    }
    let mut reader = reader()?;
    if reader.format() == Some(image::ImageFormat::Jpeg) && !jpeg_is_complete(bytes) {
        return Err(invalid(std::io::ErrorKind::UnexpectedEof, "truncated JPEG: the end-of-image marker is missing".into()));
    }
    let mut limits = image::Limits::default();
    // 8 bytes per sample and 4 samples per pixel cover every format's decode buffer.
    limits.max_alloc = Some(pixels.saturating_mul(32).max(1 << 20));
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(|e| Error::image(path, e))?;
    let orientation = decoder.orientation().unwrap_or(image::metadata::Orientation::NoTransforms);
    let icc = decoder.icc_profile().ok().flatten().filter(|p| !p.is_empty());
    let mut exif = decoder.exif_metadata().ok().flatten().filter(|e| !e.is_empty());
    if let Some(exif) = exif.as_mut() {
        let _ = image::metadata::Orientation::remove_from_exif_chunk(exif);
    }
    let mut image = DynamicImage::from_decoder(decoder).map_err(|e| Error::image(path, e))?;
    // Pictures are coded upright: a portrait phone photo stays portrait.
    image.apply_orientation(orientation);
    Ok(Picture { image, icc, exif })
}

/// Whether JPEG bytes run to their end-of-image marker: the marker segments are walked from
/// the start of image to the first start of scan, and an end-of-image marker must follow it
/// (entropy-coded data cannot contain one: a 0xFF data byte is always followed by 0x00 or a
/// restart marker). A file cut short anywhere fails this.
pub fn jpeg_is_complete(bytes: &[u8]) -> bool {
    if !bytes.starts_with(&[0xFF, 0xD8]) {
        return false;
    }
    let mut i = 2;
    loop {
        while bytes.get(i) == Some(&0xFF) && bytes.get(i + 1) == Some(&0xFF) {
            i += 1; // fill bytes
        }
        match (bytes.get(i), bytes.get(i + 1)) {
            (Some(0xFF), Some(0xD9)) => return true,
            (Some(0xFF), Some(0x01 | 0xD0..=0xD7)) => i += 2,
            (Some(0xFF), Some(&marker)) => {
                let Some(len) = bytes.get(i + 2..i + 4).map(|l| usize::from(u16::from_be_bytes([l[0], l[1]]))) else { return false };
                i += 2 + len;
                if marker == 0xDA {
                    return bytes.get(i..).is_some_and(|scan| scan.windows(2).any(|w| w == [0xFF, 0xD9]));
                }
            }
            _ => return false,
        }
    }
}

/// File extensions of the pictures a folder is listed for (training, bench, batch commands).
const IMAGE_EXTENSIONS: [&str; 6] = ["png", "jpg", "jpeg", "ppm", "pnm", "webp"];

/// Lists the image files directly inside `dir`, sorted by name.
///
/// # Errors
/// [`Error::Io`] if the folder cannot be read.
pub fn list_images(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| Error::io(dir, e))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().and_then(|e| e.to_str()).is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str())))
        .collect();
    paths.sort();
    Ok(paths)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jpeg() -> Vec<u8> {
        let picture = DynamicImage::ImageRgb8(image::RgbImage::from_fn(40, 30, |x, y| image::Rgb([(x * 6) as u8, (y * 8) as u8, 90])));
        let mut jpeg = std::io::Cursor::new(Vec::new());
        picture.write_to(&mut jpeg, image::ImageFormat::Jpeg).unwrap();
        jpeg.into_inner()
    }

    #[test]
    fn only_whole_jpegs_are_complete() {
        let jpeg = jpeg();
        assert!(jpeg_is_complete(&jpeg));
        let mut padded = jpeg.clone();
        padded.extend_from_slice(&[0, 0, 0]);
        assert!(jpeg_is_complete(&padded), "trailing bytes after the end marker are harmless");
        for cut in [0, 1, 2, 10, jpeg.len() / 100, jpeg.len() / 2, jpeg.len() - 2, jpeg.len() - 1] {
            assert!(!jpeg_is_complete(&jpeg[..cut]), "cut at {cut} of {}", jpeg.len());
        }
    }

    #[test]
    fn sizes_are_checked_before_decoding_and_garbage_is_refused() {
        let jpeg = jpeg();
        let ok = decode_picture(&jpeg, Path::new("x.jpg"), 40 * 30).unwrap();
        assert_eq!((ok.image.width(), ok.image.height()), (40, 30));
        assert!(matches!(decode_picture(&jpeg, Path::new("x.jpg"), 40 * 30 - 1), Err(Error::TooLarge { .. })));
        assert!(matches!(decode_picture(b"not a picture", Path::new("x"), 1 << 20), Err(Error::Image { .. })));
        assert!(matches!(decode_picture(&jpeg[..jpeg.len() / 2], Path::new("x.jpg"), 1 << 20), Err(Error::Image { .. })));
        let empty = b"P7\nWIDTH 12\nHEIGHT 0\nDEPTH 3\nMAXVAL 255\nTUPLTYPE RGB\nENDHDR\n";
        assert!(matches!(decode_picture(empty, Path::new("x.pam"), 1 << 20), Err(Error::Image { .. })), "a picture of no pixels");
    }
}
