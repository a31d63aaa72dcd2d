//! Training of the photographic codec, in runs of a few steps: files written, checkpoints
//! resumed, fine-tuning from the default model's weights.

use std::path::Path;
use std::time::Duration;

use aec::codec::{Codec, EncodeOptions};
use aec::model::FactorizedConfig;
use aec::train::factorized::{FactorizedTrainConfig, RunOptions, train};
use burn::prelude::Device;

fn options(out: &Path, resume: bool, init_from: Option<&str>) -> RunOptions {
    RunOptions {
        data: "tests/fixtures".into(),
        out: out.to_path_buf(),
        resume,
        init_from: init_from.map(Into::into),
        max_time: None,
        checkpoint_every: Duration::from_secs(3600),
        device: Device::flex(),
    }
}

fn small_run(steps: u64) -> FactorizedTrainConfig {
    FactorizedTrainConfig::new(FactorizedConfig::new()).with_steps(steps).with_batch(2).with_patch(32)
}

#[test]
fn a_run_writes_a_usable_model_and_resumes_from_its_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("tiny.bpk");
    let summary = train(small_run(2), &options(&out, false, None)).unwrap();
    assert_eq!(summary.step, 2);
    assert_eq!(summary.last.map(|l| l.step), Some(2), "the last step of a plan is logged");
    for name in ["tiny.bpk", "tiny.cdf", "tiny.json", "tiny.train/state.json", "tiny.train/model.bpk", "tiny.train/optimizer.bpk", "tiny.train/loss.csv"] {
        assert!(dir.path().join(name).is_file(), "{name} missing");
    }
    // A second fresh run would overwrite the checkpoint: refused.
    assert!(matches!(train(small_run(2), &options(&out, false, None)), Err(aec::Error::InvalidArgument(_))));
    let summary = train(small_run(4), &options(&out, true, None)).unwrap();
    assert_eq!(summary.step, 4);
    let log = std::fs::read_to_string(dir.path().join("tiny.train/loss.csv")).unwrap();
    assert_eq!(log.lines().filter(|l| l.starts_with('2') || l.starts_with('4')).count(), 2, "{log}");
    // A run stopped by its time limit before its first log line has no means to report
    // (progress lines say so instead of printing zeros).
    let stopped = train(small_run(50), &RunOptions { max_time: Some(Duration::ZERO), ..options(&out, true, None) }).unwrap();
    assert_eq!((stopped.step, stopped.last), (5, None));
    assert_eq!(aec::train::run::describe_logged(stopped.last), "no loss logged yet in this run");
    let codec = Codec::from_files(&out, Device::flex()).unwrap();
    let picture = image::open("tests/fixtures/chelsea.png").unwrap();
    let decoded = codec.decode(&codec.encode(&picture, &EncodeOptions::default()).unwrap(), &aec::format::Limits::default()).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (picture.width(), picture.height()));
}

/// The version-1 default model from its files (the built-in one only decodes).
fn default_from_files() -> Codec {
    Codec::from_files(std::path::Path::new("models/default.bpk"), Device::flex()).unwrap()
}

#[test]
fn fine_tuning_starts_from_the_given_weights() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("tuned.bpk");
    // One step at a vanishing learning rate: the model is still the default one.
    train(small_run(1).with_lr(1e-12), &options(&out, false, Some("models/default.bpk"))).unwrap();
    let picture = image::open("tests/fixtures/chelsea.png").unwrap();
    let size = |codec: &Codec| codec.encode(&picture, &EncodeOptions::default()).unwrap().len() as f64;
    let (tuned, default) = (size(&Codec::from_files(&out, Device::flex()).unwrap()), size(&default_from_files()));
    assert!((tuned / default - 1.0).abs() < 0.01, "{tuned} vs {default} bytes");
    // From random weights the same run gives a very different file.
    let fresh = dir.path().join("fresh.bpk");
    train(small_run(1).with_lr(1e-12), &options(&fresh, false, None)).unwrap();
    let fresh = size(&Codec::from_files(&fresh, Device::flex()).unwrap());
    assert!((fresh / default - 1.0).abs() > 0.1, "{fresh} vs {default} bytes");
}

#[test]
fn fine_tuning_can_widen_the_latents_but_not_change_the_hidden_size() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("wide.bpk");
    // Two steps: the widened parameters are fresh leaves of the autodiff graph.
    let wide = FactorizedTrainConfig::new(FactorizedConfig::new().with_latent(128)).with_steps(2).with_batch(2).with_patch(32).with_lr(1e-12);
    train(wide, &options(&out, false, Some("models/default.bpk"))).unwrap();
    let codec = Codec::from_files(&out, Device::flex()).unwrap();
    let picture = image::open("tests/fixtures/chelsea.png").unwrap();
    let bytes = codec.encode(&picture, &EncodeOptions::default()).unwrap();
    let file = aec::format::SectionFile::parse(&bytes, &aec::format::Limits::default()).unwrap();
    assert_eq!(codec.latent_shape(file.header.width, file.header.height).channels, 128);
    assert_eq!(codec.decode(&bytes, &aec::format::Limits::default()).unwrap().width(), file.header.width);
    // The widened model starts close to the default one.
    let default = default_from_files();
    let psnr = |codec: &Codec, bytes: &[u8]| {
        let back = codec.decode(bytes, &aec::format::Limits::default()).unwrap();
        aec::metrics::psnr(picture.to_rgb8().as_raw(), back.to_rgb8().as_raw())
    };
    let default_psnr = psnr(&default, &default.encode(&picture, &EncodeOptions::default()).unwrap());
    assert!(psnr(&codec, &bytes) > default_psnr - 1.0, "{} vs {default_psnr}", psnr(&codec, &bytes));
    let other = FactorizedTrainConfig::new(FactorizedConfig::new().with_hidden(32)).with_steps(1).with_batch(2).with_patch(32);
    let err = train(other, &options(&dir.path().join("other.bpk"), false, Some("models/default.bpk"))).unwrap_err();
    assert!(matches!(err, aec::Error::InvalidArgument(_)), "{err}");
}

#[test]
fn a_resumed_hyperprior_run_trains_every_level_of_its_checkpoint() {
    use aec::model::hyperprior::HyperpriorConfig;
    use aec::train::hyperprior::{HyperTrainConfig, train as train_hyper};
    use burn::config::Config;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("hyper.bpk");
    let small = |lambdas: Vec<f64>, steps: u64| {
        let model = HyperpriorConfig::new(lambdas).with_hidden(8).with_latent(8).with_hyper_hidden(8).with_hyper_latent(4);
        HyperTrainConfig::new(model).with_steps(steps).with_batch(8).with_patch(64)
    };
    train_hyper(small(vec![0.001, 0.01, 0.1], 2), &options(&out, false, None)).unwrap();
    // Resumed with other --lambdas (as the command line's defaults would be): the checkpoint's
    // three levels are the ones trained and logged.
    let summary = train_hyper(small(vec![0.5], 4), &options(&out, true, None)).unwrap();
    assert_eq!(summary.step, 4);
    let levels = std::fs::read_to_string(dir.path().join("hyper.train/levels.csv")).unwrap();
    let resumed: Vec<&str> = levels.lines().filter(|l| l.starts_with("4,")).collect();
    assert!(resumed.iter().any(|l| l.starts_with("4,2,0.1,")), "{levels}");
    assert!(resumed.iter().all(|l| !l.contains(",0.5,")), "{levels}");
    let json = std::fs::read(dir.path().join("hyper.json")).unwrap();
    assert_eq!(HyperpriorConfig::load_binary(&json).unwrap().lambdas, vec![0.001, 0.01, 0.1]);
}

#[test]
fn a_hyperprior_run_can_start_from_a_wider_one_narrowed() {
    use aec::model::hyperprior::HyperpriorConfig;
    use aec::train::hyperprior::{HyperTrainConfig, train as train_hyper};
    use burn::config::Config;
    let dir = tempfile::tempdir().unwrap();
    let (wide, narrow) = (dir.path().join("wide.bpk"), dir.path().join("narrow.bpk"));
    let sized = |hidden: usize, synthesis: usize, hyper_hidden: usize| {
        let model = HyperpriorConfig::new(vec![0.001, 0.01])
            .with_hidden(hidden)
            .with_synthesis_hidden(Some(synthesis))
            .with_latent(8)
            .with_hyper_hidden(hyper_hidden)
            .with_hyper_latent(4);
        HyperTrainConfig::new(model).with_steps(1).with_batch(2).with_patch(64)
    };
    train_hyper(sized(8, 8, 8), &options(&wide, false, None)).unwrap();
    let wide_from = wide.to_str().unwrap();
    // The encoder kept, the decoder and the hyperprior narrowed.
    train_hyper(sized(8, 6, 4), &options(&narrow, false, Some(wide_from))).unwrap();
    let json = std::fs::read(dir.path().join("narrow.json")).unwrap();
    let written = HyperpriorConfig::load_binary(&json).unwrap();
    assert_eq!((written.hidden, written.synthesis_width(), written.hyper_hidden), (8, 6, 4));
    // The written model loads for coding, its decoder as narrow as trained.
    use aec::codec::PhotoCodec;
    use image::GenericImageView;
    let codec = aec::codec::hyper::HyperCodec::from_files(&narrow, Device::flex()).unwrap();
    let picture = image::open("tests/fixtures/kodim23.png").unwrap().crop_imm(0, 0, 128, 64);
    let bytes = codec.encode(&picture, &EncodeOptions::default()).unwrap();
    assert_eq!(codec.decode(&bytes, &aec::format::Limits::default()).unwrap().dimensions(), (128, 64));
    // Wider than the starting model: refused, nothing trained.
    let err = train_hyper(sized(8, 10, 8), &options(&dir.path().join("wider.bpk"), false, Some(wide_from))).unwrap_err();
    assert!(matches!(err, aec::Error::InvalidArgument(_)), "{err}");
}
