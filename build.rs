//! Prepares the built-in models at build time:
//!
//! - hashes them, so that finding the model that made a file costs nothing when aec runs
//!   (hashing the ~13 MB of built-in photo weights took ~40 ms per process);
//! - writes their weights in half precision (`$OUT_DIR/half/NAME.bpk`, every `f32` tensor as
//!   `f16`), which the binary embeds instead of the `f32` files: half the size, and decoded
//!   pictures within the format's pixel tolerance (the loaders widen them back to `f32`).
//!
//! Writes `$OUT_DIR/model_hashes.rs`: `MODEL_HASHES`, for every embedded photo model
//! `models/NAME.bpk` (with its `NAME.cdf`: weights then tables) and digit model
//! `models/mnist/NAME.bpk` (with its `NAME.json`: weights then settings), the key `NAME` or
//! `mnist/NAME` and the first 8 bytes (little-endian) of the SHA-256 of those files, as
//! `codec::model_id` computes them. A test checks that the two agree.

use std::fmt::Write as _;
use std::path::Path;

use burn_pack::{Bytes, DType, Reader, Tensor, Writer};
use sha2::{Digest, Sha256};

/// The weights the binary embeds (the registry's built-in models; a name missing here is a
/// compile error there).
const EMBEDDED: &[&str] = &[
    "default",
    "lambda-0.0018",
    "lambda-0.0483",
    "wide-0.08",
    "colorize",
    "mnist/dense",
    "mnist/deep",
    "mnist/conv",
    "mnist/denoise",
    "mnist/denoise-0.25",
    "mnist/vae",
];

/// Rewrites the burnpack file `src` into `dst` with every `f32` tensor in `f16`.
fn halve(src: &Path, dst: &Path) {
    println!("cargo:rerun-if-changed={}", src.display());
    let reader = Reader::from_file_exact(src).unwrap_or_else(|e| panic!("{}: {e:?}", src.display()));
    let metadata = reader.metadata().clone();
    let tensors: Vec<Tensor> = reader
        .into_tensors()
        .unwrap_or_else(|e| panic!("{}: {e:?}", src.display()))
        .into_iter()
        .map(|tensor| {
            let (name, dtype, shape, id, bytes) = tensor.into_parts().unwrap_or_else(|e| panic!("{}: {e:?}", src.display()));
            if dtype != DType::F32 {
                return Tensor::new(name, dtype, shape, id, bytes);
            }
            let half: Vec<u8> = bytes
                .chunks_exact(4)
                .flat_map(|b| {
                    let v = f32::from_le_bytes(b.try_into().expect("4 bytes"));
                    assert!(v.abs() <= 65504.0, "{}: {name} holds {v}, beyond half precision", src.display());
                    half::f16::from_f32(v).to_le_bytes()
                })
                .collect();
            Tensor::new(name, DType::F16, shape, id, Bytes::from_bytes_vec(half))
        })
        .collect();
    let mut writer = Writer::new(tensors).auto_extension(false).overwrite(true);
    for (key, value) in &metadata {
        writer = writer.with_metadata(key, value);
    }
    writer.write_to_file(dst).unwrap_or_else(|e| panic!("{}: {e:?}", dst.display()));
}

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
    // The identity of a photo model hashes its weights and tables, that of a digit model its
    // weights and settings; the colouriser has none (it writes no files).
    let mut entries = Vec::new();
    for name in EMBEDDED {
        let second = if name.starts_with("mnist/") { "json" } else { "cdf" };
        let (weights, other) = (Path::new("models").join(format!("{name}.bpk")), Path::new("models").join(format!("{name}.{second}")));
        if other.exists() {
            entries.push((name.to_string(), hash(&[&weights, &other])));
        }
    }
    let mut code = String::from(
        "/// Built-in model files and the first 8 bytes of their SHA-256 (written by build.rs).\npub(crate) const MODEL_HASHES: &[(&str, u64)] = &[\n",
    );
    for (key, hash) in entries {
        writeln!(code, "    ({key:?}, {hash:#018x}),").expect("write to a String");
    }
    code.push_str("];\n");
    let out_dir = std::path::PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let out = out_dir.join("model_hashes.rs");
    std::fs::write(&out, code).unwrap_or_else(|e| panic!("{}: {e}", out.display()));
    for name in EMBEDDED {
        let dst = out_dir.join("half").join(format!("{name}.bpk"));
        std::fs::create_dir_all(dst.parent().expect("a folder")).unwrap_or_else(|e| panic!("{}: {e}", dst.display()));
        halve(&Path::new("models").join(format!("{name}.bpk")), &dst);
    }
}
