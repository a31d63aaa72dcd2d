//! Prepares the built-in models at build time:
//!
//! - hashes them, so that finding the model that made a file costs nothing when aec runs
//!   (hashing the ~13 MB of built-in photo weights took ~40 ms per process);
//! - packs their weights (`$OUT_DIR/packed/NAME.awp`, see `src/codec/embedded.rs`), which the
//!   binary embeds instead of the `f32` files: what decodes keeps its half-precision value
//!   exactly (decoded pictures within the format's pixel tolerance, as before), an encoder's
//!   weights (and the colouriser's, which writes no files) become 8- or 10-bit codes, and
//!   every tensor is compressed (16.7 MB of `f16` weights became 10.5 MB).
//!
//!   A hyperprior's float hyper-synthesis is left out: its integer copy (`NAME.hsi`) runs. The
//!   tables (`NAME.cdf`) and integer hyper-syntheses are compressed as they are
//!   (`$OUT_DIR/packed/NAME.cdf.zst`, `NAME.hsi.zst`; `embedded::pack_bytes`).
//!
//! Writes `$OUT_DIR/model_hashes.rs`: `DECODE_ONLY_MODELS` ([`DECODE_ONLY`]) and `MODEL_HASHES`, for every embedded model with an
//! identity (see [`EMBEDDED`]: photo models hash `NAME.bpk` and `NAME.cdf`, hyperpriors also
//! `NAME.hsi`, digit models `NAME.bpk` and `NAME.json`), the key `NAME` or `mnist/NAME` and the
//! first 8 bytes (little-endian) of the SHA-256 of those files in that order, as
//! `codec::model_id` computes them. A test checks that the two agree.

use std::fmt::Write as _;
use std::path::Path;

use sha2::{Digest, Sha256};

/// The weight pack's format, shared with the loaders.
#[path = "src/codec/embedded.rs"]
#[allow(dead_code)]
mod embedded;

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
    ("hyper-light", HYPER),
    ("hyper-ext", HYPER),
    ("colorize", &[]),
    ("mnist/dense", DIGITS),
    ("mnist/deep", DIGITS),
    ("mnist/conv", DIGITS),
    ("mnist/denoise", DIGITS),
    ("mnist/denoise-0.25", DIGITS),
    ("mnist/vae", DIGITS),
];

/// Built-in models that only decode the files they made (former defaults, as zstd keeps only
/// the decoders of its legacy formats): their encoders ([`encoder_only`] tensors) are left out.
/// `hyper-ext`, the default of aec 0.3 to 0.7 (1.33 MB), and the version-1 scale, the default of
/// aec 0.1 and 0.2 (1.70 MB): the room for `hyper-light` under 20 MB. Their model files (`models/`) still
/// encode.
const DECODE_ONLY: &[&str] = &["hyper-ext", "default", "lambda-0.0018", "lambda-0.0483", "wide-0.08"];

/// Model files embedded compressed (`embedded::pack_bytes`): `z` or latent tables and integer
/// hyper-syntheses (0.43 + 1.54 MB of them become 0.21 + 1.19 MB).
const PACKED_AS_BYTES: &[&str] = &["cdf", "hsi"];

/// Tensors that the binary does not need: a hyperprior's float hyper-synthesis, whose exact
/// integer copy (`NAME.hsi`) is what runs.
const NOT_EMBEDDED: &str = "hyper_synthesis.";

/// Whether a tensor only shapes new files: a part of an encoder (the analysis transforms, a
/// digit model's encoder). Its weights are stored as codes ([`precision`]); every other tensor
/// of a model that writes files (what decodes existing files) keeps its `f16` value exactly.
fn encoder_only(name: &str) -> bool {
    name.split('.').any(|part| matches!(part, "analysis" | "hyper_analysis" | "encoder"))
}

/// Bits per code of a photo model's analysis transform. On the eval set (`aec bench
/// --aec-only`, the default model, 31 levels) 10 bits changed no level's PSNR by more than
/// 0.01 dB nor its size by more than 0.12%; 9 bits cost up to 0.046 dB and 0.25% at the top
/// levels, 8 bits 0.13 dB and 1.5% (models/README.md).
const ANALYSIS_BITS: u32 = 10;

/// Bits per code of a hyperprior's hyper-analysis (it only chooses the side information `z`):
/// with 8 bits no level's PSNR moved by more than 0.005 dB nor its size by more than 0.14%.
const HYPER_ANALYSIS_BITS: u32 = 8;

/// Bits per code of a digit model's encoder and of the colouriser (which writes no files):
/// with 8 bits `aec eval-mnist` moved no model's PSNR by more than 0.01 dB, and `aec colorize
/// --eval` no photo's chroma error change by more than 0.5 percentage point (mean −19.8% →
/// −19.7%).
const SMALL_MODEL_BITS: u32 = 8;

/// How precisely the tensor `tensor` of the model `model` is kept.
fn precision(model: &str, tensor: &str, writes_files: bool) -> embedded::Precision {
    if writes_files && !encoder_only(tensor) {
        return embedded::Precision::Exact;
    }
    embedded::Precision::Coarse(if !writes_files || model.starts_with("mnist/") {
        SMALL_MODEL_BITS
    } else if tensor.split('.').any(|part| part == "hyper_analysis") {
        HYPER_ANALYSIS_BITS
    } else {
        ANALYSIS_BITS
    })
}

/// Packs the burnpack file of the model `name` into the weight pack `dst` (see
/// `src/codec/embedded.rs`).
fn pack(name: &str, src: &Path, dst: &Path, writes_files: bool) {
    println!("cargo:rerun-if-changed={}", src.display());
    let decode_only = DECODE_ONLY.contains(&name);
    let left_out = |tensor: &str| tensor.starts_with(NOT_EMBEDDED) || (decode_only && encoder_only(tensor));
    let packed = embedded::pack_file(src, left_out, |tensor| precision(name, tensor, writes_files)).unwrap_or_else(|e| panic!("{}: {e}", src.display()));
    std::fs::write(dst, packed).unwrap_or_else(|e| panic!("{}: {e}", dst.display()));
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
    println!("cargo:rerun-if-changed=src/codec/embedded.rs");
    let target = |key: &str| std::env::var(key).unwrap_or_default();
    let linux_gnu = target("CARGO_CFG_TARGET_OS") == "linux" && target("CARGO_CFG_TARGET_ENV") == "gnu";
    // Relative relocations packed (DT_RELR): 180 KB less binary, still position-independent.
    // Needs glibc 2.36 (2022) to run; LLD and GNU ld 2.38 or later apply it (older GNU ld
    // ignores it).
    if linux_gnu {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
    // Identical code folded (functions that compile to the same bytes, many of them generic
    // instances, kept once): 193 KB less. Rust promises nothing about function addresses, so
    // folding all of them (not only those whose address is never taken) is sound. LLD (rustc's
    // own linker on x86_64 Linux since 1.90) and gold know the option, GNU ld does not: it is
    // given only when the linker that links the binaries accepts it.
    if linker_accepts("-Wl,--icf=all") {
        println!("cargo:rustc-link-arg-bins=-Wl,--icf=all");
    }
    let file = |name: &str, extension: &str| Path::new("models").join(format!("{name}.{extension}"));
    let mut code = String::from(
        "/// Built-in model files and the first 8 bytes of their SHA-256 (written by build.rs).\npub(crate) const MODEL_HASHES: &[(&str, u64)] = &[\n",
    );
    for (name, identity) in EMBEDDED.iter().filter(|(_, identity)| !identity.is_empty()) {
        let files: Vec<_> = identity.iter().map(|extension| file(name, extension)).collect();
        writeln!(code, "    ({name:?}, {:#018x}),", hash(&files.iter().map(|f| f.as_path()).collect::<Vec<_>>())).expect("write to a String");
    }
    code.push_str("];\n/// Built-in models without their encoders (written by build.rs).\npub(crate) const DECODE_ONLY_MODELS: &[&str] = &[\n");
    for name in DECODE_ONLY {
        writeln!(code, "    {name:?},").expect("write to a String");
    }
    code.push_str("];\n");
    let out_dir = std::path::PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let out = out_dir.join("model_hashes.rs");
    std::fs::write(&out, code).unwrap_or_else(|e| panic!("{}: {e}", out.display()));
    for (name, identity) in EMBEDDED {
        let dst = out_dir.join("packed").join(format!("{name}.awp"));
        std::fs::create_dir_all(dst.parent().expect("a folder")).unwrap_or_else(|e| panic!("{}: {e}", dst.display()));
        // A model without an identity writes no files (the colouriser): no picture of an
        // existing file depends on its weights, so all of them are codes.
        pack(name, &file(name, "bpk"), &dst, !identity.is_empty());
        for extension in identity.iter().filter(|&&extension| PACKED_AS_BYTES.contains(&extension)) {
            pack_bytes(&file(name, extension), &out_dir.join("packed").join(format!("{name}.{extension}.zst")));
        }
    }
}

/// Whether the linker that will link the binaries accepts `flag`: a program of one empty
/// `main` linked for the same target with the same linker and flags.
fn linker_accepts(flag: &str) -> bool {
    let out_dir = std::path::PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let source = out_dir.join("linker_probe.rs");
    if std::fs::write(&source, "fn main() {}\n").is_err() {
        return false;
    }
    let mut rustc = std::process::Command::new(std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into()));
    rustc.arg(&source).arg("-o").arg(out_dir.join("linker_probe")).arg(format!("-Clink-arg={flag}"));
    if let Ok(target) = std::env::var("TARGET") {
        rustc.arg("--target").arg(target);
    }
    if let Ok(linker) = std::env::var("RUSTC_LINKER") {
        rustc.arg(format!("-Clinker={linker}"));
    }
    let flags = std::env::var("CARGO_ENCODED_RUSTFLAGS").unwrap_or_default();
    rustc.args(flags.split('\x1f').filter(|f| !f.is_empty()));
    rustc.stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null()).status().is_ok_and(|status| status.success())
}

/// Compresses the file `src` into `dst` (`embedded::pack_bytes`).
fn pack_bytes(src: &Path, dst: &Path) {
    println!("cargo:rerun-if-changed={}", src.display());
    let bytes = std::fs::read(src).unwrap_or_else(|e| panic!("{}: {e}", src.display()));
    let packed = embedded::pack_bytes(&bytes).unwrap_or_else(|e| panic!("{}: {e}", src.display()));
    std::fs::write(dst, packed).unwrap_or_else(|e| panic!("{}: {e}", dst.display()));
}
