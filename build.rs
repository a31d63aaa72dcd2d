//! Hashes the built-in models at build time, so that finding the model that made a file costs
//! nothing when aec runs (hashing the ~13 MB of built-in photo weights took ~40 ms per process).
//!
//! Writes `$OUT_DIR/model_hashes.rs`: `MODEL_HASHES`, for every `models/NAME.bpk` with a
//! `NAME.cdf` beside it (photo models: weights then tables) and every `models/mnist/NAME.bpk`
//! with a `NAME.json` (digit models: weights then settings), the key `NAME` or `mnist/NAME` and
//! the first 8 bytes (little-endian) of the SHA-256 of those files, as `codec::model_id`
//! computes them. A test checks that the two agree.

use std::fmt::Write as _;
use std::path::Path;

use sha2::{Digest, Sha256};

fn hash(files: &[&Path]) -> u64 {
    let mut hasher = Sha256::new();
    for file in files {
        println!("cargo:rerun-if-changed={}", file.display());
        hasher.update(std::fs::read(file).unwrap_or_else(|e| panic!("{}: {e}", file.display())));
    }
    let digest = hasher.finalize();
    u64::from_le_bytes(digest[..8].try_into().expect("8 bytes"))
}

fn main() {
    let mut entries = Vec::new();
    for (dir, prefix, second) in [("models", "", "cdf"), ("models/mnist", "mnist/", "json")] {
        println!("cargo:rerun-if-changed={dir}");
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("{dir}: {e}"))
            .filter_map(|entry| entry.ok()?.file_name().to_str()?.strip_suffix(".bpk").map(str::to_string))
            .filter(|name| Path::new(dir).join(format!("{name}.{second}")).exists())
            .collect();
        names.sort();
        for name in names {
            let (weights, other) = (Path::new(dir).join(format!("{name}.bpk")), Path::new(dir).join(format!("{name}.{second}")));
            entries.push((format!("{prefix}{name}"), hash(&[&weights, &other])));
        }
    }
    let mut code = String::from(
        "/// Built-in model files and the first 8 bytes of their SHA-256 (written by build.rs).\npub(crate) const MODEL_HASHES: &[(&str, u64)] = &[\n",
    );
    for (key, hash) in entries {
        writeln!(code, "    ({key:?}, {hash:#018x}),").expect("write to a String");
    }
    code.push_str("];\n");
    let out = Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("model_hashes.rs");
    std::fs::write(&out, code).unwrap_or_else(|e| panic!("{}: {e}", out.display()));
}
