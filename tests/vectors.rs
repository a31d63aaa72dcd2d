//! The test vectors of `format-spec/vectors/`: each `.aec` file decodes with the model that
//! made it (built in, or the files in `format-spec/vectors/models/`) to pixels whose SHA-256 is
//! stored beside it (flex backend, x86-64), and the latent payload parses exactly; the
//! hyperprior vectors decode to golden latent integers on every backend and thread count.

use std::path::Path;

use aec::codec::hyper::HyperCodec;
use aec::codec::registry::AnyCodec;
use aec::format::{AecFile, Limits, SectionFile};
use burn::prelude::Device;
use sha2::{Digest, Sha256};

#[test]
fn every_vector_decodes_to_its_recorded_pixels() {
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
        let codec = codec_for(&path, &bytes);
        let decoded = codec.decode(&bytes, &Limits::default()).unwrap();
        let hex: String = Sha256::digest(decoded.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, expected, "{}", path.display());
        checked += 1;
    }
    assert!(checked >= 6, "only {checked} vectors found");
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
        if v1.starts_with("hyper-") {
            continue; // the hyperprior family never wrote version 1
        }
        let v1 = v1.trim_end_matches("-metadata");
        assert_eq!(digest(name.trim_end_matches(".sha256")), digest(v1), "{name}");
        twins += 1;
    }
    assert!(twins >= 8, "only {twins} version-2 vectors");
}

/// The model of a vector: built in, or else (hyperprior vectors, `v2-hyper-tiny-*`) the model
/// files in `format-spec/vectors/models/`.
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
            let codec = HyperCodec::from_files(&model_of(&aec_path), device.clone()).unwrap();
            for threads in [1, 2] {
                let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
                let latents = pool.install(|| codec.decode_latents(&file, &Limits::default()).unwrap());
                assert_eq!(aec::codec::hyper::latents_digest(&latents), expected, "{} on {backend} with {threads} thread(s)", aec_path.display());
            }
        }
        checked += 1;
    }
    assert!(checked >= 3, "only {checked} hyperprior vectors with golden latents");
}
