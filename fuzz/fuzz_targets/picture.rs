//! Picture input on the compress side: arbitrary bytes (PNG, JPEG, WebP, TIFF, GIF, BMP, PNM
//! or anything else) through `aec::pictures::decode_picture` with a small pixel limit, and every
//! picture that decodes compressed by the embedded model and decoded back. Ok or a typed
//! error, never a panic, and never an allocation beyond what the limit allows.
#![no_main]

use std::path::Path;
use std::sync::OnceLock;

use aec::codec::registry::AnyCodec;
use aec::codec::EncodeOptions;
use aec::format::{CoderId, Limits};
use libfuzzer_sys::fuzz_target;

/// Pictures of up to 64x64 pixels are accepted; larger ones must be refused before decoding.
const MAX_PIXELS: u64 = 4096;

fuzz_target!(|data: &[u8]| {
    static CODEC: OnceLock<AnyCodec> = OnceLock::new();
    let Ok(picture) = aec::pictures::decode_picture(data, Path::new("fuzz"), MAX_PIXELS) else { return };
    assert!(u64::from(picture.image.width()) * u64::from(picture.image.height()) <= MAX_PIXELS);
    let codec = CODEC.get_or_init(|| AnyCodec::open("default").expect("embedded model"));
    let options = EncodeOptions { quality: 1, coder: CoderId::Range, ..EncodeOptions::default() };
    let bytes = codec.encode(&picture.image, &options).expect("a decoded picture within the limits compresses");
    let back = codec.decode(&bytes, &Limits::default()).expect("what aec writes decodes");
    assert_eq!((back.width(), back.height()), (picture.image.width(), picture.image.height()));
});
