//! The test vectors of `format-spec/vectors/`: each `.aec` file decodes with the built-in
//! model that made it to pixels whose SHA-256 is stored beside it (flex backend, x86-64), and the latent
//! payload parses exactly.

use aec::codec::models::AnyCodec;
use aec::format::{AecFile, Limits};
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
        AecFile::parse(&bytes, &Limits::default()).unwrap();
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
