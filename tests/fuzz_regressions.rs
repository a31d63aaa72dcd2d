//! Replays the fuzzing seeds and any crash input kept under `tests/fuzz-regressions/` through
//! the same calls as the fuzz targets: each must parse/decode or fail with an error.

use aec::codec::models::AnyCodec;
use aec::format::{AecFile, Limits};

#[test]
fn fuzz_seeds_and_regressions_decode_or_fail_cleanly() {
    let codecs = [AnyCodec::open("default").unwrap(), AnyCodec::open("mnist-conv").unwrap()];
    let mut inputs = 0;
    for dir in ["fuzz/seeds/container", "fuzz/seeds/decode", "tests/fuzz-regressions"] {
        let Ok(entries) = std::fs::read_dir(dir) else { continue };
        for entry in entries {
            let data = std::fs::read(entry.unwrap().path()).unwrap();
            if let Ok(file) = AecFile::parse(&data, &Limits::small()) {
                assert_eq!(file.to_bytes().unwrap(), data);
            }
            for codec in &codecs {
                let _ = codec.decode(&data, &Limits::small());
            }
            inputs += 1;
        }
    }
    assert!(inputs >= 10, "only {inputs} inputs replayed");
}
