//! The subcommands for the other uses of an autoencoder: codes as features (`encode`,
//! `eval-features`) and new digits from the variational autoencoder (`sample`).

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use image::DynamicImage;

use aec::bench::features::{LabelledFeatures, knn_accuracy, pca_2d};
use aec::codec::digits::DigitCodec;
use aec::codec::features::{Features, digit_features, encode_features, npy};
use aec::codec::registry::{AnyCodec, builtin_digits_on};
use aec::mnist::{Digits, Mnist};

use super::args::{EncodeArgs, EvalFeaturesArgs, SampleArgs};
use super::commands::{encode_picture, format_for};
use super::io::{check_writable, read_picture, write_output};

/// Built-in models whose codes `eval-features` measures.
const FEATURE_MODELS: [&str; 4] = ["mnist-dense", "mnist-deep", "mnist-vae", "mnist-conv"];
/// Test digits drawn on the `eval-features` map (more make a heavy SVG and hide nothing).
const MAP_POINTS: usize = 2000;
/// Digits per row of a `sample` grid.
const GRID_COLUMNS: usize = 8;

/// Whether a path names an MNIST IDX images file.
fn is_idx_images(path: &Path) -> bool {
    path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.contains("idx3-ubyte"))
}

/// A built-in or trained MNIST model, or a usage error naming what `--model` is instead.
fn digit_model(name: &str, what: &str) -> Result<DigitCodec> {
    match AnyCodec::open_on(name, super::device())? {
        AnyCodec::Digits(codec) => Ok(codec),
        AnyCodec::Photo(_) => Err(aec::Error::InvalidArgument(format!("{what} needs an MNIST model, and {name} is a photo model")).into()),
    }
}

/// The codes of every input, their names and their labels (MNIST files with labels).
struct Encoded {
    features: Vec<Features>,
    names: Vec<String>,
    labels: Vec<Option<u8>>,
}

impl Encoded {
    fn add_digits(&mut self, codec: &AnyCodec, path: &Path) -> Result<()> {
        let AnyCodec::Digits(model) = codec else {
            return Err(aec::Error::InvalidArgument(format!("{} holds MNIST digits: use an MNIST model (--model mnist-dense, ...)", path.display())).into());
        };
        let (digits, labelled) = aec::mnist::load_images_file(path)?;
        self.features.push(digit_features(model, &digits)?);
        self.names.extend((0..digits.len()).map(|i| format!("{}#{i}", path.display())));
        self.labels.extend(digits.labels.iter().map(|&l| labelled.then_some(l)));
        Ok(())
    }

    fn add_picture(&mut self, codec: &AnyCodec, path: &Path, max_pixels: u64) -> Result<()> {
        let picture = read_picture(path, max_pixels)?;
        self.features.push(encode_features(codec, &picture).with_context(|| path.display().to_string())?);
        self.names.push(path.display().to_string());
        self.labels.push(None);
        Ok(())
    }
}

/// CSV of codes: a header, then per picture its name, label and values.
fn codes_csv(features: &Features, names: &[String], labels: &[Option<u8>]) -> String {
    let per = features.per_picture();
    let mut csv = String::from("name,label");
    (0..per).for_each(|i| csv += &format!(",v{i}"));
    csv.push('\n');
    for ((name, label), values) in names.iter().zip(labels).zip(features.values.chunks_exact(per)) {
        csv += &format!("\"{}\",{}", name.replace('"', "\"\""), label.map(|l| l.to_string()).unwrap_or_default());
        values.iter().for_each(|v| csv += &format!(",{v}"));
        csv.push('\n');
    }
    csv
}

/// `OUT-labels.npy` beside `OUT.npy`.
fn labels_path(output: &Path) -> PathBuf {
    let stem = output.file_stem().and_then(|s| s.to_str()).unwrap_or("codes");
    output.with_file_name(format!("{stem}-labels.npy"))
}

/// `aec encode`.
pub fn encode(args: EncodeArgs) -> Result<()> {
    check_writable(&args.output, args.force)?;
    let codec = AnyCodec::open_on(&args.model, super::device())?;
    let started = Instant::now();
    let mut encoded = Encoded { features: Vec::new(), names: Vec::new(), labels: Vec::new() };
    for input in &args.inputs {
        if is_idx_images(input) {
            encoded.add_digits(&codec, input)?;
        } else if input.is_dir() {
            let files = aec::pictures::list_images(input)?;
            if files.is_empty() {
                return Err(aec::Error::InvalidArgument(format!("{}: no pictures in this folder", input.display())).into());
            }
            files.iter().try_for_each(|f| encoded.add_picture(&codec, f, args.max_pixels))?;
        } else {
            encoded.add_picture(&codec, input, args.max_pixels)?;
        }
    }
    let features = Features::concat(encoded.features)?;
    let all_labelled = encoded.labels.iter().all(Option::is_some);
    if args.csv {
        write_output(&args.output, codes_csv(&features, &encoded.names, &encoded.labels).as_bytes(), args.force)?;
    } else {
        write_output(&args.output, &npy(&features.array_shape(), &features.values), args.force)?;
        if all_labelled && args.output != Path::new("-") {
            let labels: Vec<u8> = encoded.labels.iter().flatten().copied().collect();
            let path = labels_path(&args.output);
            write_output(&path, &npy(&[labels.len()], &labels), args.force)?;
            eprintln!("labels -> {}", path.display());
        }
    }
    eprintln!(
        "{} codes of shape {:?} -> {} ({:.1} s)",
        features.shape[0],
        &features.array_shape()[1..],
        args.output.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Raw pixels in `0..1` as features.
fn pixel_features(digits: &Digits) -> LabelledFeatures {
    LabelledFeatures { dim: aec::mnist::PIXELS, values: digits.floats(0..digits.len()), labels: digits.labels.clone() }
}

fn labelled(features: Features, digits: &Digits) -> LabelledFeatures {
    LabelledFeatures { dim: features.per_picture(), values: features.values, labels: digits.labels.clone() }
}

/// `aec eval-features`.
pub fn eval_features(args: EvalFeaturesArgs) -> Result<()> {
    if let Some(map) = &args.map {
        check_writable(map, args.force)?;
    }
    let mnist = Mnist::load(&args.data)?;
    let test = match args.limit {
        Some(limit) => mnist.test.slice(0, limit.clamp(1, mnist.test.len())),
        None => mnist.test.clone(),
    };
    let device = super::device();
    let pixels = knn_accuracy(&pixel_features(&mnist.train), &pixel_features(&test), args.k, &device)?;
    println!("k-nearest-neighbour classification of {} MNIST test digits, k = {}, the {} training digits as neighbours", test.len(), args.k, mnist.train.len());
    println!("{:<14} {:>10} {:>10} {:>11}", "features", "dimensions", "accuracy", "vs pixels");
    println!("{:<14} {:>10} {:>9.2}% {:>11}", "pixels", aec::mnist::PIXELS, 100.0 * pixels, "");
    for name in FEATURE_MODELS {
        let codec = builtin_digits_on(name, super::device())?;
        let train = labelled(digit_features(&codec, &mnist.train)?, &mnist.train);
        let dim = train.dim;
        let accuracy = knn_accuracy(&train, &labelled(digit_features(&codec, &test)?, &test), args.k, &device)?;
        println!("{name:<14} {dim:>10} {:>9.2}% {:>+8.2} pt", 100.0 * accuracy, 100.0 * (accuracy - pixels));
    }
    if let Some(map) = &args.map {
        let codec = digit_model(&args.map_model, "--map-model")?;
        let shown = test.slice(0, test.len().min(MAP_POINTS));
        let points = pca_2d(&labelled(digit_features(&codec, &shown)?, &shown))?;
        let title = format!("{} codes of {} MNIST test digits: first two principal components", args.map_model, shown.len());
        let svg = aec::plot::scatter_plot(&title, "principal component 1", "principal component 2", &points, &shown.labels)?;
        write_output(map, svg.as_bytes(), args.force)?;
        eprintln!("map written to {}", map.display());
    }
    Ok(())
}

/// `aec sample`.
pub fn sample(args: SampleArgs) -> Result<()> {
    let format = format_for(&args.output)?;
    check_writable(&args.output, args.force)?;
    let codec = digit_model(&args.model, "aec sample")?;
    let digits = match (&args.between, &args.data) {
        (Some(ends), Some(data)) => {
            let test = Mnist::load(data)?.test;
            let &[i, j] = ends.as_slice() else {
                return Err(aec::Error::InvalidArgument(format!("--between takes two test digits I,J, not {} numbers", ends.len())).into());
            };
            if i.max(j) >= test.len() {
                return Err(aec::Error::InvalidArgument(format!("--between takes test digits 0..{}, not {i},{j}", test.len())).into());
            }
            aec::codec::vae::interpolate(&codec, test.digit(i), test.digit(j), args.steps)?
        }
        _ => aec::codec::vae::sample(&codec, args.count, args.seed)?,
    };
    let columns = if args.between.is_some() { digits.len() } else { GRID_COLUMNS };
    let rows: Vec<(String, Vec<Vec<u8>>)> = digits.chunks(columns).map(|row| (String::new(), row.to_vec())).collect();
    let picture = DynamicImage::ImageLuma8(aec::bench::digits::grid_picture(&rows));
    write_output(&args.output, &encode_picture(&picture, format, &args.output, 90, &aec::format::Metadata::default())?, args.force)?;
    eprintln!("{} digits -> {}", digits.len(), args.output.display());
    Ok(())
}
