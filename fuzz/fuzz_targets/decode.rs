//! Full decoding on arbitrary bytes, under small size limits, with the default model (the
//! built-in hyperprior), the former default (`hyper-ext`), the version-1 scale of built-in factorized models, the built-in
//! `mnist-conv` digit model and the small hyperprior of the
//! format's test vectors (its integer hyper-synthesis and Gaussian bank included); a seed of
//! each kind is in `seeds/decode`.
//! Inputs whose checksum fails stop early, so the target also fixes up the checksum of
//! inputs that start like an .aec file, to reach the payload decoders.
#![no_main]

use std::sync::OnceLock;

use aec::codec::registry::AnyCodec;
use aec::format::Limits;
use libfuzzer_sys::fuzz_target;

static CODECS: OnceLock<[AnyCodec; 5]> = OnceLock::new();

/// The hyperprior that made the format's hyperprior test vectors.
const HYPER_TINY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../format-spec/vectors/models/hyper-tiny.bpk");

fuzz_target!(|data: &[u8]| {
    let codecs = CODECS.get_or_init(|| {
        [
            AnyCodec::open("default").expect("embedded model"),
            AnyCodec::open("hyper-ext").expect("the former default, which decodes its files"),
            AnyCodec::open("factorized").expect("the embedded version-1 scale"),
            AnyCodec::open("mnist-conv").expect("built-in digit model"),
            AnyCodec::from_files(std::path::Path::new(HYPER_TINY)).expect("the test vectors' hyperprior"),
        ]
    });
    let mut fixed = data.to_vec();
    if data.len() >= 4 {
        fixed.truncate(data.len() - 4);
        let crc = crc32fast::hash(&fixed);
        fixed.extend_from_slice(&crc.to_le_bytes());
    }
    for codec in codecs {
        let _ = codec.decode(data, &Limits::small());
        let _ = codec.decode(&fixed, &Limits::small());
    }
});
