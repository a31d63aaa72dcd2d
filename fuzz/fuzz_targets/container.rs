//! The container parser on arbitrary bytes: Ok or a typed error, never a panic, and a parsed
//! file serializes back to the same bytes.
#![no_main]

use aec::format::{AecFile, Limits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(file) = AecFile::parse(data, &Limits::small()) {
        assert_eq!(file.to_bytes().unwrap(), data);
    }
});
