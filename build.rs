//! Prepares the built-in models at build time:
//!
//! - hashes them, so that finding the model that made a file costs nothing when aec runs
//!   (hashing the ~13 MB of built-in photo weights took ~40 ms per process);
//! - writes their weights in half precision (`$OUT_DIR/half/NAME.bpk`, every `f32` tensor as
//!   `f16`), which the binary embeds instead of the `f32` files: half the size, and decoded
//!   pictures within the format's pixel tolerance (the loaders widen them back to `f32`).
//!
//!   A hyperprior's float hyper-synthesis is left out: its integer copy (`NAME.hsi`, embedded
//!   as it is) runs.
//!
//! Writes `$OUT_DIR/model_hashes.rs`: `MODEL_HASHES`, for every embedded model with an
//! identity (see [`EMBEDDED`]: photo models hash `NAME.bpk` and `NAME.cdf`, hyperpriors also
//! `NAME.hsi`, digit models `NAME.bpk` and `NAME.json`), the key `NAME` or `mnist/NAME` and the
//! first 8 bytes (little-endian) of the SHA-256 of those files in that order, as
//! `codec::model_id` computes them. A test checks that the two agree.

use std::fmt::Write as _;
use std::path::Path;

use burn_pack::{Bytes, DType, Reader, Tensor, Writer};
use sha2::{Digest, Sha256};

/// Files whose SHA-256 is a factorized photo model's identity (weights, then tables).
const PHOTO: &[&str] = &["bpk", "cdf"];
/// Files whose SHA-256 is a hyperprior's identity (weights, `z` tables, integer hyper-synthesis).
const HYPER: &[&str] = &["bpk", "cdf", "hsi"];
/// Files whose SHA-256 is a digit model's identity (weights, then settings).
const DIGITS: &[&str] = &["bpk", "json"];

/// The models the binary embeds (`models/NAME.*`; the registry's built-in models: a name
/// missing here is a compile error there) and the files of each identity (the colouriser has
/// none: it writes no files).
const EMBEDDED: &[(&str, &[&str])] = &[
    ("default", PHOTO),
    ("lambda-0.0018", PHOTO),
    ("lambda-0.0483", PHOTO),
    ("wide-0.08", PHOTO),
    ("hyper-ext", HYPER),
    ("colorize", &[]),
    ("mnist/dense", DIGITS),
    ("mnist/deep", DIGITS),
    ("mnist/conv", DIGITS),
    ("mnist/denoise", DIGITS),
    ("mnist/denoise-0.25", DIGITS),
    ("mnist/vae", DIGITS),
];

/// Tensors that the binary does not need: a hyperprior's float hyper-synthesis, whose exact
/// integer copy (`NAME.hsi`) is what runs.
const NOT_EMBEDDED: &str = "hyper_synthesis.";

/// Rewrites the burnpack file `src` into `dst` with every `f32` tensor in `f16`, leaving out
/// the tensors under [`NOT_EMBEDDED`].
fn halve(src: &Path, dst: &Path) {
    println!("cargo:rerun-if-changed={}", src.display());
    let reader = Reader::from_file_exact(src).unwrap_or_else(|e| panic!("{}: {e:?}", src.display()));
    let metadata = reader.metadata().clone();
    let tensors: Vec<Tensor> = reader
        .into_tensors()
        .unwrap_or_else(|e| panic!("{}: {e:?}", src.display()))
        .into_iter()
        .filter(|tensor| !tensor.name.starts_with(NOT_EMBEDDED))
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
    let file = |name: &str, extension: &str| Path::new("models").join(format!("{name}.{extension}"));
    let mut code = String::from(
        "/// Built-in model files and the first 8 bytes of their SHA-256 (written by build.rs).\npub(crate) const MODEL_HASHES: &[(&str, u64)] = &[\n",
    );
    for (name, identity) in EMBEDDED.iter().filter(|(_, identity)| !identity.is_empty()) {
        let files: Vec<_> = identity.iter().map(|extension| file(name, extension)).collect();
        writeln!(code, "    ({name:?}, {:#018x}),", hash(&files.iter().map(|f| f.as_path()).collect::<Vec<_>>())).expect("write to a String");
    }
    code.push_str("];\n");
    let out_dir = std::path::PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let out = out_dir.join("model_hashes.rs");
    std::fs::write(&out, code).unwrap_or_else(|e| panic!("{}: {e}", out.display()));
    for (name, _) in EMBEDDED {
        let dst = out_dir.join("half").join(format!("{name}.bpk"));
        std::fs::create_dir_all(dst.parent().expect("a folder")).unwrap_or_else(|e| panic!("{}: {e}", dst.display()));
        halve(&file(name, "bpk"), &dst);
    }
}
