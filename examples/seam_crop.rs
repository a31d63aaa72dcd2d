//! Cuts the same square out of two pictures of the same size and writes them side by side,
//! magnified, to look at a tile seam (README, "Large pictures"):
//! `cargo run --release --example seam_crop -- ORIGINAL DECODED X Y SIZE ZOOM OUT.png`.

use image::{GenericImage, RgbImage, imageops};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [original, decoded, x, y, size, zoom, output] = args.as_slice() else {
        return Err("usage: seam_crop ORIGINAL DECODED X Y SIZE ZOOM OUT.png".into());
    };
    let (x, y, size, zoom): (u32, u32, u32, u32) = (x.parse()?, y.parse()?, size.parse()?, zoom.parse()?);
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(4 << 30);
    let open = |path: &str| -> Result<RgbImage, Box<dyn std::error::Error>> {
        let mut reader = image::ImageReader::open(path)?.with_guessed_format()?;
        reader.limits(limits.clone());
        Ok(reader.decode()?.to_rgb8())
    };
    let side = size * zoom;
    let mut out = RgbImage::from_pixel(2 * side + 8, side, image::Rgb([255, 255, 255]));
    for (i, path) in [original, decoded].iter().enumerate() {
        let crop = imageops::crop_imm(&open(path)?, x, y, size, size).to_image();
        out.copy_from(&imageops::resize(&crop, side, side, imageops::FilterType::Nearest), i as u32 * (side + 8), 0)?;
    }
    out.save(output)?;
    Ok(())
}
