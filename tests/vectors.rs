//! The test vectors of `format-spec/vectors/`: each `.aec` file decodes with the built-in
//! model that made it to pixels whose SHA-256 is stored beside it (flex backend, x86-64), and the latent
//! payload parses exactly.

use aec::codec::registry::AnyCodec;
use aec::format::{AecFile, Limits, SectionFile};
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
        let codec = AnyCodec::for_file(&bytes, &Limits::default()).unwrap();
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
        let v1 = v1.trim_end_matches("-metadata");
        assert_eq!(digest(name.trim_end_matches(".sha256")), digest(v1), "{name}");
        twins += 1;
    }
    assert!(twins >= 8, "only {twins} version-2 vectors");
}
