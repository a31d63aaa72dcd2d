//! How many bytes a second hyperprior's decoder would add to the binary if it were stored as
//! differences from a built-in one's (models/README.md, session 17): the synthesis's `f16`
//! weights and the integer hyper-synthesis's words, whole and as differences, each packed the
//! way build.rs packs files embedded as they are (`embedded::pack_bytes`).
//! `cargo run --release --example delta_sizes -- models/hyper-ext.bpk runs/hg.bpk`

#[path = "../src/codec/embedded.rs"]
#[allow(dead_code)]
mod embedded;

use std::collections::BTreeMap;
use std::path::Path;

use burn_pack::{DType, Reader};

/// A model's tensors whose name starts with `prefix`, as `f16` bit patterns.
fn halves(path: &Path, prefix: &str) -> BTreeMap<String, Vec<u16>> {
    let reader = Reader::from_file_exact(path).expect("a burnpack file");
    reader
        .into_tensors()
        .expect("tensors")
        .into_iter()
        .filter_map(|t| {
            let (name, dtype, _, _, bytes) = t.into_parts().expect("parts");
            (dtype == DType::F32 && name.starts_with(prefix))
                .then(|| (name, bytes.chunks_exact(4).map(|b| half::f16::from_f32(f32::from_le_bytes([b[0], b[1], b[2], b[3]])).to_bits()).collect()))
        })
        .collect()
}

/// The signed order of an `f16` bit pattern (negative values below positive ones).
fn order(bits: u16) -> i32 {
    if bits & 0x8000 != 0 { -i32::from(bits & 0x7fff) } else { i32::from(bits) }
}

fn packed(words: &[u16]) -> usize {
    embedded::pack_bytes(&words.iter().flat_map(|w| w.to_le_bytes()).collect::<Vec<u8>>()).expect("packs").len()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, base, other] = args.as_slice() else {
        eprintln!("usage: delta_sizes BASE.bpk OTHER.bpk (hyperpriors, each with its NAME.hsi beside it)");
        std::process::exit(2);
    };
    let (base, other) = (Path::new(base), Path::new(other));
    let (a, b) = (halves(base, "synthesis."), halves(other, "synthesis."));
    let whole: Vec<u16> = b.values().flatten().copied().collect();
    let differences: Vec<u16> = a.values().flatten().zip(b.values().flatten()).map(|(&x, &y)| (order(y) - order(x)) as u16).collect();
    println!("synthesis ({} weights): whole {} bytes, as differences {} bytes", whole.len(), packed(&whole), packed(&differences));
    let (ha, hb) = (std::fs::read(base.with_extension("hsi")).expect("base .hsi"), std::fs::read(other.with_extension("hsi")).expect("other .hsi"));
    assert_eq!(ha.len(), hb.len(), "integer hyper-syntheses of the same shape");
    let words = |bytes: &[u8]| bytes.chunks_exact(2).map(|w| u16::from_le_bytes([w[0], w[1]])).collect::<Vec<u16>>();
    let (wa, wb) = (words(&ha), words(&hb));
    let differences: Vec<u16> = wa.iter().zip(&wb).map(|(&x, &y)| y.wrapping_sub(x)).collect();
    println!("integer hyper-synthesis ({} bytes): whole {} bytes, as differences {} bytes", hb.len(), packed(&wb), packed(&differences));
}
