//! The entropy layer alone, past any checksum and without a network: the integer
//! hyper-synthesis parser and runner, the range decoder of the Gaussian bank, and the range
//! decoder of the factorized models' tables (the embedded default model's, every level), on
//! arbitrary bytes. Ok or a typed error, never a panic; what decodes re-encodes to the same
//! payload; the integer network's fast path gives the bits of its i64 reference.
#![no_main]

use std::sync::OnceLock;

use aec::codec::Codec;
use aec::entropy::coding::{decode_indexed, decode_range, encode_indexed, encode_range};
use aec::entropy::intnet::IntNet;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // A serialized integer network: run it on a small grid of hyper-latents.
    if let Ok(net) = IntNet::from_bytes(data) {
        if net.inputs() * net.outputs() <= 1 << 16 {
            let z: Vec<i16> = (0..net.inputs() * 4).map(|i| (i as i16 % 7) - 3).collect();
            let out = net.forward(&z, 2, 2);
            assert_eq!(out.len(), net.outputs() * 4 * net.upsampling() * net.upsampling());
            // The exact f64 path (taken where no sum can reach 2^53) equals the i64 loops.
            assert_eq!(out, net.forward_reference(&z, 2, 2));
        }
    }
    // The first byte says how many symbols; the next that many bytes are their table indices;
    // the rest is the payload.
    if let Some((&count, rest)) = data.split_first() {
        let count = usize::from(count).min(rest.len());
        let (indices, payload) = rest.split_at(count);
        let indices: Vec<u8> = indices.iter().map(|k| k % 64).collect();
        if let Ok(values) = decode_indexed(payload, &indices) {
            assert_eq!(encode_indexed(&values, &indices), payload);
        }
    }
    // The factorized tables: the first byte picks a level and the plane size (1..=32 values
    // per channel), the rest is the payload.
    static CODEC: OnceLock<Codec> = OnceLock::new();
    let codec = CODEC.get_or_init(|| Codec::embedded().expect("embedded model"));
    if let Some((&pick, payload)) = data.split_first() {
        let level = codec.tables(1 + pick % codec.max_quality()).expect("a level of the model");
        let plane = 1 + usize::from(pick >> 3);
        if let Ok(values) = decode_range(payload, plane, level) {
            assert_eq!(encode_range(&values, plane, level), payload);
        }
    }
});
