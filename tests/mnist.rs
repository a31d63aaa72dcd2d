//! The tutorial autoencoders: training on IDX files, the built-in models as codecs and as a
//! denoiser, `aec train --arch`, `aec denoise`, `aec eval-mnist`, on the ten MNIST test digits
//! of `tests/fixtures/mnist/digits.png` (never trained on).

use std::process::{Command, Output};

use aec::codec::registry::{AnyCodec, builtin_digits};
use aec::format::Limits;
use aec::mnist::{Mnist, PIXELS, add_noise};
use image::{DynamicImage, GrayImage};
use rand::SeedableRng;

mod common;

use common::{DIGITS, fixture_digits, write_mnist};

fn aec(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_aec")).args(args).output().expect("aec runs")
}

fn picture(digit: &[u8]) -> DynamicImage {
    DynamicImage::ImageLuma8(GrayImage::from_raw(28, 28, digit.to_vec()).unwrap())
}

fn psnr(a: &[u8], b: &[u8]) -> f64 {
    aec::metrics::psnr(a, b)
}

#[test]
fn idx_files_load_and_training_lowers_the_validation_loss() {
    let dir = tempfile::tempdir().unwrap();
    write_mnist(dir.path(), 30);
    let mnist = Mnist::load(dir.path()).unwrap();
    assert_eq!((mnist.train.len(), mnist.test.len()), (300, 300));
    assert_eq!(mnist.train.labels[..3], [0, 1, 2]);
    let config = aec::train::digits::DigitTrainConfig::new(aec::model::DigitArch::Dense).with_epochs(4).with_batch(20).with_validation(50);
    let out = dir.path().join("models/dense.bpk");
    let logs = aec::train::digits::train(&config, &mnist, &out, &burn::prelude::Device::flex(), false).unwrap();
    assert_eq!(logs.len(), 4);
    assert!(logs[3].validation_loss < 0.7 * logs[0].validation_loss, "{logs:?}");
    for file in ["dense.bpk", "dense.json", "dense-loss.csv", "dense-loss.svg"] {
        assert!(dir.path().join("models").join(file).is_file(), "{file}");
    }
    // The written model loads as a codec and reconstructs like the last validation pass.
    let AnyCodec::Digits(codec) = AnyCodec::from_files(&out).unwrap() else { panic!("a digit model") };
    let clean = mnist.test.floats(0..10);
    let back = codec.reconstruct(&clean, 10, 28, 28).unwrap();
    let mse = back.iter().zip(&clean).map(|(a, b)| f64::from(a - b).powi(2)).sum::<f64>() / clean.len() as f64;
    assert!(mse < 2.0 * logs[3].validation_mse + 0.01, "{mse} vs {}", logs[3].validation_mse);
}

#[test]
fn every_built_in_model_codes_digits_in_a_few_bytes_and_decodes_them_well() {
    let digits = fixture_digits();
    // (model, least mean PSNR on the ten clean digits through the file)
    for (name, least_psnr) in [("mnist-dense", 18.0), ("mnist-deep", 18.0), ("mnist-conv", 24.0)] {
        let codec = builtin_digits(name).unwrap();
        let (mut total_psnr, mut total_bytes) = (0.0, 0);
        for digit in &digits {
            let file = codec.encode(&picture(digit), 4).unwrap();
            total_bytes += file.len();
            let back = AnyCodec::for_file(&file, &Limits::default()).unwrap().decode(&file, &Limits::default()).unwrap();
            assert_eq!((back.width(), back.height()), (28, 28));
            total_psnr += psnr(digit, back.to_luma8().as_raw());
        }
        let mean_psnr = total_psnr / 10.0;
        assert!(mean_psnr > least_psnr, "{name}: {mean_psnr:.2} dB");
        assert!(total_bytes / 10 < 2 * PIXELS, "{name}: {} bytes per digit", total_bytes / 10);
    }
}

#[test]
fn finer_quality_levels_give_larger_files_and_better_digits() {
    let codec = builtin_digits("mnist-dense").unwrap();
    let digit = &fixture_digits()[2];
    let at = |q: u8| {
        let file = codec.encode(&picture(digit), q).unwrap();
        let back = codec.decode(&file, &Limits::default()).unwrap();
        (file.len(), psnr(digit, back.to_luma8().as_raw()))
    };
    let ((coarse_bytes, coarse_psnr), (fine_bytes, fine_psnr)) = (at(1), at(7));
    assert!(coarse_bytes < fine_bytes, "{coarse_bytes} vs {fine_bytes}");
    assert!(coarse_psnr < fine_psnr, "{coarse_psnr} vs {fine_psnr}");
}

#[test]
fn the_dense_models_refuse_other_sizes_and_the_conv_model_takes_them() {
    let big = DynamicImage::ImageLuma8(GrayImage::new(30, 30));
    assert!(matches!(builtin_digits("mnist-dense").unwrap().encode(&big, 4), Err(aec::Error::InvalidArgument(_))));
    let strip = image::open(DIGITS).unwrap();
    let codec = builtin_digits("mnist-conv").unwrap();
    let back = codec.decode(&codec.encode(&strip, 4).unwrap(), &Limits::default()).unwrap();
    assert_eq!((back.width(), back.height()), (280, 28));
    let p = psnr(strip.to_luma8().as_raw(), back.to_luma8().as_raw());
    assert!(p > 20.0, "{p:.2} dB");
}

#[test]
fn a_file_of_one_digit_model_is_refused_by_another() {
    let digit = picture(&fixture_digits()[5]);
    let file = builtin_digits("mnist-conv").unwrap().encode(&digit, 4).unwrap();
    let other = builtin_digits("mnist-denoise").unwrap();
    assert!(matches!(other.decode(&file, &Limits::default()), Err(aec::Error::UnknownModel { .. })));
}

#[test]
fn the_denoiser_removes_most_of_the_noise() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let codec = builtin_digits("mnist-denoise").unwrap();
    let (mut noisy_psnr, mut clean_psnr) = (0.0, 0.0);
    for digit in fixture_digits() {
        let floats: Vec<f32> = digit.iter().map(|&v| f32::from(v) / 255.0).collect();
        let noisy: Vec<u8> = add_noise(&floats, 0.5, &mut rng).iter().map(|v| (v * 255.0).round() as u8).collect();
        let cleaned = codec.denoise(&picture(&noisy)).unwrap().to_luma8().into_raw();
        noisy_psnr += psnr(&digit, &noisy) / 10.0;
        clean_psnr += psnr(&digit, &cleaned) / 10.0;
    }
    assert!(clean_psnr > noisy_psnr + 8.0, "noisy {noisy_psnr:.2} dB, denoised {clean_psnr:.2} dB");
}

#[test]
fn the_cli_codes_a_digit_denoises_and_evaluates() {
    let dir = tempfile::tempdir().unwrap();
    let d = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let digit = image::imageops::crop_imm(&image::open(DIGITS).unwrap().to_luma8(), 7 * 28, 0, 28, 28).to_image();
    digit.save(d("seven.png")).unwrap();

    let out = aec(&["compress", &d("seven.png"), "--model", "mnist-conv", "-o", &d("seven.aec")]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // The decoder finds the model from the file.
    let out = aec(&["decompress", &d("seven.aec"), "-o", &d("back.png")]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(psnr(digit.as_raw(), image::open(d("back.png")).unwrap().to_luma8().as_raw()) > 20.0);
    let out = aec(&["info", &d("seven.aec")]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("mnist conv"), "{}", String::from_utf8_lossy(&out.stdout));

    let out = aec(&["denoise", &d("seven.png"), "-o", &d("clean.png")]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(image::open(d("clean.png")).unwrap().width(), 28);

    let out = aec(&["compress", "tests/fixtures/kodim23.png", "--model", "mnist-dense", "-o", &d("x.aec")]);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    let out = aec(&["compress", &d("seven.png"), "--model", "mnist-nothing", "-o", &d("y.aec")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("built in"));

    write_mnist(dir.path(), 1);
    let out = aec(&["eval-mnist", "--data", dir.path().to_str().unwrap(), "--grid", &d("grid.png")]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let table = String::from_utf8_lossy(&out.stdout);
    for row in ["mnist-dense", "mnist-deep", "mnist-conv", "mnist-denoise", "mnist-vae", "gzip -9", "JPEG q90", "mnist-vae: negative ELBO"] {
        assert!(table.contains(row), "{row} missing:\n{table}");
    }
    // 9 rows (original, dense, deep, conv, noisy, denoise, noisy, denoise-0.25, vae) of 10 digits.
    let grid = image::open(d("grid.png")).unwrap();
    assert_eq!((grid.width(), grid.height()), (10 * 88 + 4, 9 * 88 + 4));
}

/// Training runs on the device it is given (its validation pass too), not only on flex.
#[cfg(feature = "ndarray")]
#[test]
#[allow(deprecated)] // burn marks ndarray deprecated; it stays as the reference backend.
fn training_runs_on_another_backend() {
    let dir = tempfile::tempdir().unwrap();
    write_mnist(dir.path(), 10);
    let mnist = Mnist::load(dir.path()).unwrap();
    let config = aec::train::digits::DigitTrainConfig::new(aec::model::DigitArch::Dense).with_epochs(1).with_batch(20).with_validation(20);
    let logs = aec::train::digits::train(&config, &mnist, &dir.path().join("dense.bpk"), &burn::prelude::Device::ndarray(), false).unwrap();
    assert!(logs[0].validation_loss.is_finite() && logs[0].validation_loss > 0.0, "{logs:?}");
}
