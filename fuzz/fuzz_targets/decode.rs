//! Full decoding with the embedded model on arbitrary bytes, under small size limits.
//! Inputs whose checksum fails stop early, so the target also fixes up the checksum of
//! inputs that start like an .aec file, to reach the payload decoders.
#![no_main]

use std::sync::OnceLock;

use aec::codec::Codec;
use aec::format::Limits;
use libfuzzer_sys::fuzz_target;

static CODEC: OnceLock<Codec> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let codec = CODEC.get_or_init(|| Codec::embedded().expect("embedded model"));
    let _ = codec.decode(data, &Limits::small());
    if data.len() >= 4 {
        let mut fixed = data[..data.len() - 4].to_vec();
        let crc = crc32fast::hash(&fixed);
        fixed.extend_from_slice(&crc.to_le_bytes());
        let _ = codec.decode(&fixed, &Limits::small());
    }
});
