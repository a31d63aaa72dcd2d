//! Makes a large test picture of WIDTH x HEIGHT pixels for `scripts/bench-scale.sh`: 700x460
//! crops of the given photos (those at least that large) laid side by side at their own
//! resolution, row after row, as often as needed (so the picture has a camera photo's detail
//! everywhere, unlike an upscaled one; the crop size keeps the photos' edges off aec's
//! 512-pixel tile grid):
//! `cargo run --release --example big_picture -- OUT.png 6000 4000 PHOTO...`.

use image::{GenericImage, RgbImage};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [output, width, height, photos @ ..] = args.as_slice() else {
        return Err("usage: big_picture OUT WIDTH HEIGHT PHOTO...".into());
    };
    const CROP: (u32, u32) = (700, 460);
    let mut crops = Vec::new();
    for path in photos {
        let photo = image::open(path)?.to_rgb8();
        if photo.width() >= CROP.0 && photo.height() >= CROP.1 {
            crops.push(image::imageops::crop_imm(&photo, 0, 0, CROP.0, CROP.1).to_image());
        }
    }
    if crops.is_empty() {
        return Err("give at least one photo of 700x460 pixels or more".into());
    }
    let (width, height): (u32, u32) = (width.parse()?, height.parse()?);
    let mut out = RgbImage::new(width, height);
    let mut next = 0;
    for y in (0..height).step_by(CROP.1 as usize) {
        for x in (0..width).step_by(CROP.0 as usize) {
            let crop = &crops[next % crops.len()];
            next += 1;
            let (w, h) = (CROP.0.min(width - x), CROP.1.min(height - y));
            out.copy_from(&image::imageops::crop_imm(crop, 0, 0, w, h).to_image(), x, y)?;
        }
    }
    out.save(output)?;
    Ok(())
}
