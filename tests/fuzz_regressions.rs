//! Replays the fuzzing seeds and the files kept under `tests/fuzz-regressions/` through the
//! same calls as the fuzz targets: seeds must decode; `refuse-*` files (hostile files, see
//! `examples/make_regressions.rs` and the folder's README) must be refused with the default
//! limits; any other file kept there (a crash input) must parse, decode or fail with an error.

use std::path::PathBuf;

use aec::codec::registry::AnyCodec;
use aec::format::{AecFile, Limits, SectionFile};

fn files(dir: &str) -> Vec<PathBuf> {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{dir} is missing: {e}"));
    let mut files: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|e| e == "aec")).collect();
    files.sort();
    assert!(!files.is_empty(), "{dir} holds no .aec file");
    files
}

/// The decoders of the `decode` target: the default model (the built-in hyperprior), the
/// former default (`hyper-ext`), the version-1 scale, `mnist-conv`, and the hyperprior of the format's test vectors.
fn codecs() -> [AnyCodec; 5] {
    [
        AnyCodec::open("default").unwrap(),
        AnyCodec::open("hyper-ext").unwrap(),
        AnyCodec::open("factorized").unwrap(),
        AnyCodec::open("mnist-conv").unwrap(),
        AnyCodec::from_files(std::path::Path::new("format-spec/vectors/models/hyper-tiny.bpk")).unwrap(),
    ]
}

#[test]
fn fuzz_seeds_decode() {
    let codecs = codecs();
    for path in files("fuzz/seeds/container") {
        let data = std::fs::read(&path).unwrap();
        assert_eq!(AecFile::parse(&data, &Limits::small()).unwrap().to_bytes().unwrap(), data);
    }
    for path in files("fuzz/seeds/sections") {
        let data = std::fs::read(&path).unwrap();
        assert_eq!(SectionFile::parse(&data, &Limits::small()).unwrap().to_bytes().unwrap(), data);
    }
    for path in files("fuzz/seeds/decode") {
        let data = std::fs::read(&path).unwrap();
        assert!(codecs.iter().any(|c| c.decode(&data, &Limits::default()).is_ok()), "{} does not decode", path.display());
    }
}

/// Crash inputs of the `picture` target (any file here that is not `.aec`): read as
/// `aec compress` reads pictures; what decodes must compress and decode back.
#[test]
fn picture_crash_inputs_are_read_or_refused_cleanly() {
    let codec = AnyCodec::open("default").unwrap();
    let mut checked = 0;
    for entry in std::fs::read_dir("tests/fuzz-regressions").unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "aec" || e == "md") {
            continue;
        }
        let data = std::fs::read(&path).unwrap();
        if let Ok(picture) = aec::pictures::decode_picture(&data, &path, 4096) {
            let bytes = codec.encode(&picture.image, &aec::codec::EncodeOptions::default()).unwrap();
            assert_eq!(codec.decode(&bytes, &Limits::default()).unwrap().width(), picture.image.width());
        }
        checked += 1;
    }
    assert!(checked >= 1, "no picture crash input kept");
}

#[test]
fn hostile_files_and_crash_inputs_are_refused_cleanly() {
    let codecs = codecs();
    let paths = files("tests/fuzz-regressions");
    let hostile = paths.iter().filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("refuse-")).count();
    assert!(hostile >= 10, "only {hostile} refuse-* files");
    for path in paths {
        let data = std::fs::read(&path).unwrap();
        let must_refuse = path.file_name().unwrap().to_string_lossy().starts_with("refuse-");
        // The container checks of the `container` and `sections` targets.
        if let Ok(file) = AecFile::parse(&data, &Limits::small()) {
            assert_eq!(file.to_bytes().unwrap(), data);
        }
        if let Ok(file) = SectionFile::parse(&data, &Limits::small()) {
            match file.to_bytes() {
                Ok(bytes) => assert_eq!(SectionFile::parse(&bytes, &Limits::small()).unwrap(), file),
                Err(_) => assert!(file.sections.is_empty(), "{}", path.display()),
            }
        }
        for codec in &codecs {
            let limits = if must_refuse { Limits::default() } else { Limits::small() };
            let result = codec.decode(&data, &limits);
            if must_refuse {
                assert!(result.is_err(), "{} was decoded", path.display());
            }
        }
    }
}
