//! The version-2 container parser on arbitrary bytes: Ok or a typed error, never a panic; a
//! parsed file serializes to bytes that parse to the same file (unless it holds no section
//! the reader knows: unknown ancillary sections are skipped, and a file of none cannot be
//! written). The same bytes are tried again with their last four bytes replaced by a correct
//! CRC-32, to reach the checks behind it.
#![no_main]

use aec::format::{Limits, SectionFile};
use libfuzzer_sys::fuzz_target;

fn check(data: &[u8]) {
    if let Ok(file) = SectionFile::parse(data, &Limits::small()) {
        match file.to_bytes() {
            Ok(bytes) => assert_eq!(SectionFile::parse(&bytes, &Limits::small()).unwrap(), file),
            Err(_) => assert!(file.sections.is_empty(), "a parsed file with known sections serializes"),
        }
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
