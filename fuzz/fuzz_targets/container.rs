//! The container parser on arbitrary bytes: Ok or a typed error, never a panic, and a parsed
//! file serializes back to the same bytes. The same bytes are tried again with their last
//! four bytes replaced by a correct CRC-32, so that the field checks behind the checksum are
//! reached too.
#![no_main]

use aec::format::{AecFile, Limits};
use libfuzzer_sys::fuzz_target;

fn check(data: &[u8]) {
    if let Ok(file) = AecFile::parse(data, &Limits::small()) {
        assert_eq!(file.to_bytes().unwrap(), data);
    }
}

fuzz_target!(|data: &[u8]| {
    check(data);
    if data.len() >= 4 {
        let mut fixed = data[..data.len() - 4].to_vec();
        let crc = crc32fast::hash(&fixed);
        fixed.extend_from_slice(&crc.to_le_bytes());
        check(&fixed);
    }
});
