//! The other uses of an autoencoder: codes as features (`encode_features`, `aec encode`,
//! k-NN, `aec eval-features`) and the variational autoencoder (training, `aec sample`,
//! interpolation, ELBO), on the fixture digits and IDX folders made from them.

use std::process::{Command, Output};

use aec::bench::features::{LabelledFeatures, knn_accuracy};
use aec::codec::features::{Features, digit_features, encode_features};
use aec::codec::registry::{AnyCodec, builtin_digits};
use aec::codec::vae;
use aec::mnist::{Digits, Mnist};
use burn::prelude::Device;
use image::{DynamicImage, GrayImage};

mod common;

use common::{fixture_digits, write_mnist};

fn aec(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_aec")).args(args).output().expect("aec runs")
}

fn picture(digit: &[u8]) -> DynamicImage {
    DynamicImage::ImageLuma8(GrayImage::from_raw(28, 28, digit.to_vec()).unwrap())
}

fn fixture_set() -> Digits {
    let digits = fixture_digits();
    Digits { pixels: digits.concat(), labels: (0..10).collect() }
}

/// The shape in the header of a `.npy` file.
fn npy_shape(bytes: &[u8]) -> String {
    assert_eq!(&bytes[..6], b"\x93NUMPY");
    let len = usize::from(u16::from_le_bytes([bytes[8], bytes[9]]));
    let header = std::str::from_utf8(&bytes[10..10 + len]).unwrap();
    let start = header.find("'shape': (").unwrap() + 10;
    let dims: Vec<&str> = header[start..start + header[start..].find(')').unwrap()].split(',').map(str::trim).filter(|d| !d.is_empty()).collect();
    dims.join(", ")
}

#[test]
fn one_picture_and_a_batch_give_the_same_codes() {
    let codec = builtin_digits("mnist-deep").unwrap();
    let set = fixture_set();
    let batch = digit_features(&codec, &set).unwrap();
    assert_eq!(batch.shape, [10, 64, 1, 1]);
    let one = encode_features(&AnyCodec::Digits(builtin_digits("mnist-deep").unwrap()), &picture(set.digit(3))).unwrap();
    assert_eq!(one.array_shape(), vec![1, 64]);
    for (a, b) in one.values.iter().zip(&batch.values[3 * 64..4 * 64]) {
        assert!((a - b).abs() < 1e-4, "{a} vs {b}");
    }
    let vae = digit_features(&builtin_digits("mnist-vae").unwrap(), &set).unwrap();
    assert_eq!(vae.array_shape(), vec![10, aec::model::VAE_LATENT]);
}

#[test]
fn photo_codes_are_the_latent_grid() {
    let photo = image::open("tests/fixtures/kodim23.png").unwrap();
    let (w, h) = (photo.width() as usize, photo.height() as usize);
    let codes = encode_features(&AnyCodec::open("default").unwrap(), &photo).unwrap();
    assert_eq!(codes.shape[2..], [h.div_ceil(16), w.div_ceil(16)]);
    assert!(codes.values.iter().any(|&v| v.abs() > 0.5), "latents of a photo are not all near zero");
}

#[test]
fn codes_of_shifted_copies_find_the_right_digit() {
    let dir = tempfile::tempdir().unwrap();
    write_mnist(dir.path(), 6);
    let reference = Mnist::load(dir.path()).unwrap().train;
    let test = fixture_set();
    let device = Device::flex();
    for name in ["mnist-dense", "mnist-deep", "mnist-vae"] {
        let codec = builtin_digits(name).unwrap();
        let features = |digits: &Digits| {
            let f: Features = digit_features(&codec, digits).unwrap();
            LabelledFeatures { dim: f.per_picture(), values: f.values, labels: digits.labels.clone() }
        };
        let accuracy = knn_accuracy(&features(&reference), &features(&test), 1, &device).unwrap();
        assert_eq!(accuracy, 1.0, "{name}");
    }
}

#[test]
fn aec_encode_writes_npy_labels_and_csv() {
    let dir = tempfile::tempdir().unwrap();
    write_mnist(dir.path(), 3);
    let images = dir.path().join("t10k-images-idx3-ubyte");
    let npy = dir.path().join("codes.npy");
    let out = aec(&["encode", images.to_str().unwrap(), "--model", "mnist-dense", "-o", npy.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let bytes = std::fs::read(&npy).unwrap();
    assert_eq!(npy_shape(&bytes), "30, 64");
    assert!(bytes.len() > 30 * 64 * 4);
    let labels = std::fs::read(dir.path().join("codes-labels.npy")).unwrap();
    assert_eq!(npy_shape(&labels), "30");
    assert_eq!(labels[labels.len() - 30..labels.len() - 27], [0, 1, 2]);
    // Not overwritten without --force.
    let again = aec(&["encode", images.to_str().unwrap(), "--model", "mnist-dense", "-o", npy.to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(5));

    let strip = dir.path().join("digit.png");
    picture(&fixture_digits()[4]).save(&strip).unwrap();
    let csv = dir.path().join("codes.csv");
    let out = aec(&["encode", strip.to_str().unwrap(), strip.to_str().unwrap(), "--model", "mnist-vae", "--csv", "-o", csv.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = std::fs::read_to_string(&csv).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0].split(',').count(), 2 + aec::model::VAE_LATENT);
    assert_eq!(lines[1].split(',').skip(1).collect::<Vec<_>>(), lines[2].split(',').skip(1).collect::<Vec<_>>());
}

#[test]
fn aec_encode_refuses_what_cannot_share_an_array() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.png"), dir.path().join("b.png"));
    DynamicImage::new_rgb8(64, 48).save(&a).unwrap();
    DynamicImage::new_rgb8(96, 48).save(&b).unwrap();
    let out = aec(&["encode", a.to_str().unwrap(), b.to_str().unwrap(), "-o", dir.path().join("x.npy").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("one size"));
    write_mnist(dir.path(), 1);
    let images = dir.path().join("train-images-idx3-ubyte");
    let out = aec(&["encode", images.to_str().unwrap(), "-o", dir.path().join("y.npy").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "an IDX file needs an MNIST model");
    // A corrupt IDX file is bad input (exit 3), not bad usage.
    let bytes = std::fs::read(&images).unwrap();
    std::fs::write(&images, &bytes[..bytes.len() - 1]).unwrap();
    let out = aec(&["encode", images.to_str().unwrap(), "--model", "mnist-dense", "-o", dir.path().join("z.npy").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("truncated IDX data"));
    assert!(!dir.path().join("x.npy").exists() && !dir.path().join("y.npy").exists() && !dir.path().join("z.npy").exists());
}

#[test]
fn aec_eval_features_prints_accuracies_and_draws_the_map() {
    let dir = tempfile::tempdir().unwrap();
    write_mnist(dir.path(), 5);
    let map = dir.path().join("map.svg");
    let out = aec(&["eval-features", "--data", dir.path().to_str().unwrap(), "--map", map.to_str().unwrap(), "--k", "1"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let table = String::from_utf8_lossy(&out.stdout);
    for row in ["pixels", "mnist-dense", "mnist-deep", "mnist-vae", "mnist-conv"] {
        // The test set is the training set here: the nearest neighbour is the digit itself.
        assert!(table.lines().any(|l| l.starts_with(row) && l.contains("100.00%")), "{row}: {table}");
    }
    let svg = std::fs::read_to_string(&map).unwrap();
    assert!(svg.starts_with("<svg") && svg.matches("<circle").count() >= 50, "{} circles", svg.matches("<circle").count());
}

#[test]
fn vae_training_lowers_the_negative_elbo() {
    let dir = tempfile::tempdir().unwrap();
    write_mnist(dir.path(), 30);
    let mnist = Mnist::load(dir.path()).unwrap();
    let config = aec::train::digits::DigitTrainConfig::new(aec::model::DigitArch::Vae).with_epochs(4).with_batch(20).with_validation(50);
    // The same start with a learning rate too small to move: the untrained network's ELBO.
    let frozen =
        aec::train::digits::train(&config.clone().with_epochs(1).with_lr(1e-12), &mnist, &dir.path().join("frozen.bpk"), &burn::prelude::Device::flex(), false)
            .unwrap();
    let out = dir.path().join("vae.bpk");
    let logs = aec::train::digits::train(&config, &mnist, &out, &burn::prelude::Device::flex(), false).unwrap();
    assert!(logs[3].validation_loss < logs[0].validation_loss, "{logs:?}");
    assert!(logs[3].validation_loss < 0.5 * frozen[0].validation_loss, "{logs:?} vs untrained {frozen:?}");
    let AnyCodec::Digits(codec) = AnyCodec::from_files(&out).unwrap() else { panic!("a digit model") };
    let elbo = vae::negative_elbo(&codec, &mnist.test, 1).unwrap();
    assert!(elbo.kl > 0.0 && elbo.reconstruction > 0.0, "{elbo:?}");
    assert!((elbo.total() - logs[3].validation_loss).abs() < 0.25 * logs[3].validation_loss, "{elbo:?} vs {logs:?}");
}

#[test]
fn the_built_in_vae_explains_the_fixture_digits() {
    let codec = builtin_digits("mnist-vae").unwrap();
    let elbo = vae::negative_elbo(&codec, &fixture_set(), 1).unwrap();
    // models/README.md: 99 nats per digit on the test set; an untrained network gives > 500.
    assert!(elbo.total() < 140.0 && elbo.kl > 5.0, "{elbo:?}");
    assert_eq!(vae::negative_elbo(&codec, &fixture_set(), 1).unwrap().total(), elbo.total(), "seeded");
}

#[test]
fn sampling_is_deterministic_for_a_seed() {
    let codec = builtin_digits("mnist-vae").unwrap();
    let a = vae::sample(&codec, 6, 3).unwrap();
    assert_eq!(a, vae::sample(&codec, 6, 3).unwrap());
    assert_ne!(a, vae::sample(&codec, 6, 4).unwrap());
    assert!(a.iter().all(|d| d.len() == 784));
    // Digits: mostly dark background with some bright strokes.
    for d in &a {
        let bright = d.iter().filter(|&&v| v > 128).count();
        assert!((30..400).contains(&bright), "{bright} bright pixels");
    }
    assert!(matches!(vae::sample(&builtin_digits("mnist-dense").unwrap(), 4, 1), Err(aec::Error::InvalidArgument(_))));
}

#[test]
fn interpolation_walks_from_one_digit_to_the_other() {
    let codec = builtin_digits("mnist-vae").unwrap();
    let digits = fixture_digits();
    let walk = vae::interpolate(&codec, &digits[1], &digits[0], 5).unwrap();
    assert_eq!(walk.len(), 5);
    let distance = |a: &[u8], b: &[u8]| a.iter().zip(b).map(|(&x, &y)| (f64::from(x) - f64::from(y)).powi(2)).sum::<f64>();
    assert!(distance(&walk[0], &digits[1]) < distance(&walk[0], &digits[0]));
    assert!(distance(&walk[4], &digits[0]) < distance(&walk[4], &digits[1]));
}

#[test]
fn aec_sample_writes_a_grid_and_a_walk() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.png"), dir.path().join("b.png"));
    for path in [&a, &b] {
        let out = aec(&["sample", "-n", "16", "--seed", "9", "-o", path.to_str().unwrap()]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap(), "same seed, same picture");
    let grid = image::open(&a).unwrap();
    assert!(grid.width() > grid.height() && grid.height() > 2 * 28, "8 columns, 2 rows: {}x{}", grid.width(), grid.height());
    assert_eq!(aec(&["sample", "-o", a.to_str().unwrap()]).status.code(), Some(5));
    write_mnist(dir.path(), 1);
    let walk = dir.path().join("walk.png");
    let out = aec(&["sample", "--between", "3,8", "--steps", "6", "--data", dir.path().to_str().unwrap(), "-o", walk.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let strip = image::open(&walk).unwrap();
    assert!(strip.width() > 5 * strip.height(), "one row of 6: {}x{}", strip.width(), strip.height());
    let out = aec(&["sample", "--between", "3,80", "--data", dir.path().to_str().unwrap(), "-o", dir.path().join("x.png").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(aec(&["sample", "--model", "mnist-conv", "-o", dir.path().join("y.png").to_str().unwrap()]).status.code(), Some(2));
}
