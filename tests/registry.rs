//! The family seam: the registry opens every family by name, by path or from a file, and
//! everything above it works through `PhotoCodec` alone.

use aec::Error;
use aec::codec::registry::{AnyCodec, PHOTO_FAMILIES, family_of};
use aec::codec::{EncodeOptions, RateTarget};
use aec::format::{Limits, Metadata, ParsedFile};
use aec::model::hyperprior::HyperpriorConfig;
use burn::prelude::Device;
use image::DynamicImage;

fn photo() -> DynamicImage {
    image::open("tests/fixtures/chelsea.png").unwrap().crop_imm(0, 0, 120, 80)
}

#[test]
fn every_family_has_a_number_of_its_own() {
    let mut numbers: Vec<u32> = PHOTO_FAMILIES.iter().map(|f| f.architecture).collect();
    numbers.sort_unstable();
    numbers.dedup();
    assert_eq!(numbers.len(), PHOTO_FAMILIES.len());
    assert_eq!(family_of(1).map(|f| f.name), Some("factorized"));
    assert_eq!(family_of(2).map(|f| f.name), Some("hyperprior"));
    assert!(family_of(999).is_none());
}

#[test]
fn files_name_the_model_that_decodes_them() {
    // The default model is the built-in hyperprior; the version-1 scale stays built in as a
    // decoder (its files are written by its models' files).
    for (name, family, encoder) in [("default", "hyperprior", "default"), ("factorized", "factorized", "models/default.bpk")] {
        let any = AnyCodec::open(name).unwrap();
        let codec = any.photo().unwrap();
        assert_eq!(codec.family().name, family);
        let bytes = AnyCodec::open(encoder).unwrap().photo().unwrap().encode(&photo(), &EncodeOptions::default()).unwrap();
        let file = ParsedFile::parse(&bytes, &Limits::default()).unwrap();
        assert!(codec.decodes(file.model()));
        let found = AnyCodec::for_parsed(&file).unwrap();
        assert_eq!(found.photo().unwrap().family().name, family);
        assert_eq!(found.decode_parsed(&file, &Limits::default()).unwrap().width(), 120);
        // A level says what it is made of: a built-in model, its λ and its rate parameter.
        let info = codec.level_info(codec.default_quality()).unwrap();
        assert!(info.lambda.is_some() && info.rate > 0.0, "{info:?}");
        assert!(codec.level_info(0).is_err() && codec.level_info(codec.max_quality() + 1).is_err());
    }
}

/// The former default (`hyper-ext`, aec 0.3 to 0.7, whose files are the `v2-default-*`
/// vectors) is built in as a decoder: its files find it, and it refuses to write new ones.
#[test]
fn the_former_default_decodes_its_files_and_refuses_to_encode() {
    let bytes = std::fs::read("format-spec/vectors/v2-default-rgb-70x50-q33-range.aec").unwrap();
    let file = ParsedFile::parse(&bytes, &Limits::default()).unwrap();
    let found = AnyCodec::for_parsed(&file).unwrap();
    let codec = found.photo().unwrap();
    assert_eq!(codec.level_info(17).unwrap().model, "hyper-ext");
    assert!(!AnyCodec::open("default").unwrap().photo().unwrap().decodes(file.model()), "the default model is another");
    let former = AnyCodec::open("hyper-ext").unwrap();
    assert_eq!(former.decode_parsed(&file, &Limits::default()).unwrap().width(), 70);
    let err = former.encode(&photo(), &EncodeOptions::default()).unwrap_err();
    assert!(matches!(&err, aec::Error::InvalidArgument(m) if m.contains("only decodes")), "{err}");
    assert!(AnyCodec::open("hyper-light").unwrap().encode(&photo(), &EncodeOptions::default()).is_ok(), "the default by its name");
}

#[test]
fn a_trained_hyperprior_opens_by_path_and_its_files_need_it() {
    let dir = tempfile::tempdir().unwrap();
    let config = HyperpriorConfig::new(vec![0.004, 0.02]).with_hidden(8).with_latent(16).with_hyper_hidden(8).with_hyper_latent(8);
    let model = config.init(&Device::flex());
    let path = dir.path().join("tiny.bpk");
    aec::train::hyperprior::export(&model, &config, aec::entropy::intnet::WEIGHT_BITS, &path).unwrap();
    let any = AnyCodec::from_files(&path).unwrap();
    let codec = any.photo().expect("a photographic family");
    assert_eq!(codec.family().name, "hyperprior");
    let bytes = codec.encode_fraction(&photo(), 1.5, &EncodeOptions::default()).unwrap();
    let file = ParsedFile::parse(&bytes, &Limits::default()).unwrap();
    // Not the built-in hyperprior: the registry says which model the file needs.
    match AnyCodec::for_parsed(&file) {
        Err(Error::UnknownModel { made_by, expected: None }) => assert_eq!(made_by, file.model()),
        other => panic!("expected UnknownModel, got {other:?}"),
    }
    assert_eq!(any.decode_parsed(&file, &Limits::default()).unwrap().height(), 80);
    // The built-in hyperprior refuses it, naming both models; the version-1 scale refuses it.
    let builtin = AnyCodec::open("default").unwrap();
    let expected = Some(aec::codec::hyper::HyperCodec::builtin_id());
    assert!(matches!(builtin.decode_parsed(&file, &Limits::default()), Err(Error::UnknownModel { expected: e, .. }) if e == expected));
    let scale = AnyCodec::open("factorized").unwrap();
    assert!(matches!(scale.decode_parsed(&file, &Limits::default()), Err(Error::UnknownModel { expected: None, .. })));
    // Settings of no known family are refused as a model problem.
    std::fs::write(path.with_extension("json"), br#"{"something": 1}"#).unwrap();
    assert!(matches!(AnyCodec::from_files(&path), Err(Error::Model(_))));
}

#[test]
fn metadata_is_written_once_and_counts_towards_a_size_target() {
    let any = AnyCodec::open("default").unwrap();
    let codec = any.photo().unwrap();
    let metadata = Metadata { icc: Some(vec![7; 3000]), exif: Some(b"MM\0*\0\0\0\x08\0\0\0\0\0\0".to_vec()) };
    let options = EncodeOptions { metadata: metadata.clone(), ..EncodeOptions::default() };
    let plain = codec.encode(&photo(), &EncodeOptions::default()).unwrap();
    let tagged = codec.encode(&photo(), &options).unwrap();
    assert_eq!(tagged, metadata.attach(&plain).unwrap(), "the same bytes as attaching afterwards");
    assert_eq!(ParsedFile::parse(&tagged, &Limits::default()).unwrap().metadata(), metadata);
    let budget = 3600;
    let (bytes, _) = codec.encode_to_target(&photo(), RateTarget::MaxBytes(budget), &options).unwrap();
    assert!(bytes.len() as u64 <= budget, "{} bytes for a budget of {budget}", bytes.len());
}

#[test]
fn the_encoder_takes_the_callers_limits() {
    let any = AnyCodec::open("default").unwrap();
    let codec = any.photo().unwrap();
    let small = Limits { max_pixels: 1000, ..Limits::default() };
    let err = codec.encode(&photo(), &EncodeOptions { limits: small, ..EncodeOptions::default() }).unwrap_err();
    assert!(matches!(err, Error::TooLarge { value: 9600, limit: 1000, .. }), "{err:?}");
}
