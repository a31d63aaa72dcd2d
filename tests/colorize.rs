//! Colourisation: training learns colours that luma predicts, the built-in network colours a
//! photo better than gray does, and `aec colorize` as a user runs it.

use std::path::Path;
use std::process::{Command, Output};

use aec::codec::colorize::{Colorizer, colour_error, gray_of};
use aec::train::colorize::ColorizeTrainConfig;
use burn::prelude::Device;
use image::{DynamicImage, RgbImage};

fn aec(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_aec")).args(args).output().expect("aec runs")
}

fn s(p: &Path) -> &str {
    p.to_str().expect("temporary paths are UTF-8")
}

/// A landscape whose colour follows its brightness: bright blue sky over dark green grass,
/// the horizon at a height that depends on `seed`.
fn landscape(seed: u32) -> DynamicImage {
    let horizon = 20 + seed * 7 % 24;
    DynamicImage::ImageRgb8(RgbImage::from_fn(64, 64, |x, y| {
        let wobble = ((x * 13 + y * 7 + seed) % 11) as u8;
        if y < horizon { image::Rgb([110 + wobble, 170 + wobble, 250]) } else { image::Rgb([40, 110 + wobble, 30 + wobble]) }
    }))
}

#[test]
fn training_learns_colours_that_brightness_predicts() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("photos");
    std::fs::create_dir(&data).unwrap();
    for i in 0..4 {
        landscape(i).save(data.join(format!("p{i}.png"))).unwrap();
    }
    let out = dir.path().join("model/colorize.bpk");
    let config = ColorizeTrainConfig::new().with_steps(150).with_batch(4).with_patch(32).with_lr(3e-3);
    let logs = aec::train::colorize::train(&config, &data, &out, &burn::prelude::Device::flex(), false).unwrap();
    assert!(logs.last().unwrap().chroma_mse < logs[0].chroma_mse, "{logs:?}");
    for file in ["colorize.bpk", "colorize.json", "colorize-loss.csv", "colorize-loss.svg"] {
        assert!(dir.path().join("model").join(file).is_file(), "{file}");
    }
    let net = Colorizer::from_file(&out, Device::flex()).unwrap();
    let photo = landscape(9);
    let error = colour_error(&photo, &net.colorize(&photo).unwrap()).unwrap();
    assert!(error.chroma_mse < 0.5 * error.gray_chroma_mse, "{error:?}");
    assert!(error.psnr > error.gray_psnr, "{error:?}");
}

#[test]
fn the_built_in_network_colours_photos_better_than_gray() {
    let net = aec::codec::registry::builtin_colorizer().unwrap();
    for photo in ["tests/fixtures/kodim23.png", "tests/fixtures/chelsea.png"] {
        let photo = image::open(photo).unwrap();
        let coloured = net.colorize(&photo).unwrap();
        assert_eq!(coloured.dimensions(), (photo.width(), photo.height()));
        let error = colour_error(&photo, &coloured).unwrap();
        assert!(error.chroma_mse < error.gray_chroma_mse, "{error:?}");
    }
    // A gray input gives the same colours as its colour original: only luma is used.
    let photo = image::open("tests/fixtures/chelsea.png").unwrap();
    let gray = DynamicImage::ImageLuma8(gray_of(&photo));
    assert_eq!(net.colorize(&gray).unwrap(), net.colorize(&photo).unwrap());
}

#[test]
fn aec_colorize_colours_a_picture_and_measures_a_folder() {
    let dir = tempfile::tempdir().unwrap();
    let gray = dir.path().join("gray.png");
    DynamicImage::ImageLuma8(gray_of(&landscape(3))).save(&gray).unwrap();
    let colour = dir.path().join("colour.png");
    let out = aec(&["colorize", s(&gray), "-o", s(&colour)]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let back = image::open(&colour).unwrap();
    assert_eq!((back.width(), back.height(), back.color()), (64, 64, image::ColorType::Rgb8));
    assert_eq!(aec(&["colorize", s(&gray), "-o", s(&colour)]).status.code(), Some(5), "no overwrite without --force");

    let photos = dir.path().join("photos");
    std::fs::create_dir(&photos).unwrap();
    for i in 0..2 {
        landscape(i).save(photos.join(format!("p{i}.png"))).unwrap();
    }
    let strip = dir.path().join("before-after.png");
    let out = aec(&["colorize", "--eval", s(&photos), "--before-after", s(&strip)]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("p0.png") && table.contains("mean of 2 photos"), "{table}");
    let strip = image::open(&strip).unwrap();
    assert_eq!((strip.width(), strip.height()), (3 * 64 + 8, 64));
}
