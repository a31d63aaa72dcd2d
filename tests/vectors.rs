//! The test vectors of `format-spec/vectors/`: each `.aec` file decodes with the model that
//! made it (built in, or the files in `format-spec/vectors/models/`) to its reference picture
//! `NAME.png` within the format's pixel tolerance (every sample within 1, PSNR against the
//! reference at least 60 dB), the reference being the picture whose SHA-256 the vector has
//! carried since it was written; the latent payload parses exactly; the hyperprior vectors
//! decode to golden latent integers on every backend and thread count.

use std::path::Path;

use aec::codec::hyper::HyperCodec;
use aec::codec::registry::AnyCodec;
use aec::format::{AecFile, Limits, SectionFile};
use burn::prelude::Device;
use sha2::{Digest, Sha256};

/// The format's pixel tolerance (`format-spec/aec-v2.md`, "Pixels"): the largest difference
/// of one 8-bit sample from the reference decoder's.
const MAX_SAMPLE_DIFFERENCE: u8 = 1;
/// The lowest PSNR (dB) of a decoded picture against the reference decoder's.
const MIN_PSNR_AGAINST_REFERENCE: f64 = 60.0;

fn hex_digest(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn every_vector_decodes_to_its_reference_picture_within_the_tolerance() {
    let mut checked = 0;
    for entry in std::fs::read_dir("format-spec/vectors").unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "aec") {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        if aec::format::version_of(&bytes).unwrap() == aec::format::VERSION_2 {
            SectionFile::parse(&bytes, &Limits::default()).unwrap();
        } else {
            AecFile::parse(&bytes, &Limits::default()).unwrap();
        }
        let expected = std::fs::read_to_string(path.with_extension("sha256")).unwrap();
        let expected = expected.split_whitespace().next().unwrap();
        let reference = image::open(path.with_extension("png")).unwrap();
        assert_eq!(hex_digest(reference.as_bytes()), expected, "{}: the reference picture is not the one the digest pins", path.display());
        let codec = codec_for(&path, &bytes);
        let decoded = codec.decode(&bytes, &Limits::default()).unwrap();
        assert_eq!((decoded.width(), decoded.height(), decoded.color()), (reference.width(), reference.height(), reference.color()), "{}", path.display());
        let (ours, theirs) = (decoded.as_bytes(), reference.as_bytes());
        let worst = ours.iter().zip(theirs).map(|(a, b)| a.abs_diff(*b)).max().unwrap();
        let psnr = aec::metrics::psnr(ours, theirs);
        let differing = ours.iter().zip(theirs).filter(|(a, b)| a != b).count();
        eprintln!("{}: {differing} of {} samples differ from the reference, by up to {worst}", path.display(), ours.len());
        assert!(
            worst <= MAX_SAMPLE_DIFFERENCE && psnr >= MIN_PSNR_AGAINST_REFERENCE,
            "{}: samples differ by up to {worst}, PSNR {psnr:.1} dB against the reference",
            path.display()
        );
        checked += 1;
    }
    assert!(checked >= 24, "only {checked} vectors found");
}

/// The photo files of aec 0.1 (container version 1) and the same latents in container
/// version 2 decode to the same pixels.
#[test]
fn version_2_vectors_hold_the_pictures_of_their_version_1_twins() {
    let digest = |name: &str| std::fs::read_to_string(format!("format-spec/vectors/{name}.sha256")).unwrap().split_whitespace().next().unwrap().to_string();
    let mut twins = 0;
    for entry in std::fs::read_dir("format-spec/vectors").unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        let Some(v1) = name.strip_prefix("v2-").and_then(|n| n.strip_suffix(".sha256")) else { continue };
        if v1.starts_with("hyper-") || v1.starts_with("default-") {
            continue; // the hyperprior family never wrote version 1
        }
        let v1 = v1.trim_end_matches("-metadata");
        assert_eq!(digest(name.trim_end_matches(".sha256")), digest(v1), "{name}");
        twins += 1;
    }
    assert!(twins >= 8, "only {twins} version-2 vectors");
}

/// The model of a vector: built in (the default hyperprior's vectors are `v2-default-*`), or
/// else (`v2-hyper-tiny-*`) the model files in `format-spec/vectors/models/`.
fn codec_for(path: &Path, bytes: &[u8]) -> AnyCodec {
    match AnyCodec::for_file(bytes, &Limits::default()) {
        Ok(codec) => codec,
        Err(aec::Error::UnknownModel { .. }) => AnyCodec::from_files(&model_of(path)).unwrap(),
        Err(e) => panic!("{}: {e}", path.display()),
    }
}

fn model_of(path: &Path) -> std::path::PathBuf {
    let name = path.file_name().unwrap().to_string_lossy();
    assert!(name.starts_with("v2-hyper-tiny-"), "{name}: no built-in model and no model files named");
    Path::new("format-spec/vectors/models/hyper-tiny.bpk").to_path_buf()
}

#[test]
#[allow(deprecated)] // burn marks ndarray deprecated; it stays as the reference backend.
fn hyperprior_vectors_decode_to_their_golden_latents_on_every_backend_and_thread_count() {
    let mut devices = vec![("flex", Device::flex())];
    #[cfg(feature = "ndarray")]
    devices.push(("ndarray", Device::ndarray()));
    let mut checked = 0;
    for entry in std::fs::read_dir("format-spec/vectors").unwrap() {
        let path = entry.unwrap().path();
        let Some(golden) = path.to_str().and_then(|p| p.strip_suffix(".latents.sha256")).map(str::to_string) else { continue };
        let aec_path = Path::new(&format!("{golden}.aec")).to_path_buf();
        let bytes = std::fs::read(&aec_path).unwrap();
        let expected = std::fs::read_to_string(&path).unwrap().split_whitespace().next().unwrap().to_string();
        let file = SectionFile::parse(&bytes, &Limits::default()).unwrap();
        for (backend, device) in &devices {
            let codec = match aec::codec::registry::builtin_hyper_by_id(file.header.model) {
                Some(builtin) => HyperCodec::of_builtin(builtin, device.clone()).unwrap(),
                None => HyperCodec::from_files(&model_of(&aec_path), device.clone()).unwrap(),
            };
            for threads in [1, 2] {
                let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
                let latents = pool.install(|| codec.decode_latents(&file, &Limits::default()).unwrap());
                assert_eq!(aec::codec::hyper::latents_digest(&latents), expected, "{} on {backend} with {threads} thread(s)", aec_path.display());
            }
        }
        checked += 1;
    }
    assert!(checked >= 7, "only {checked} hyperprior vectors with golden latents");
}
