//! The MNIST IDX reader on arbitrary bytes (plain, and gzipped): Ok or a typed error, never a
//! panic, and never an allocation that the declared sizes alone would ask for.
#![no_main]

use std::io::Write;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(array) = aec::mnist::idx::parse(data) {
        assert_eq!(array.values.len(), array.dims.iter().product::<usize>());
        if !data.starts_with(&[0x1f, 0x8b]) {
            assert_eq!(aec::mnist::idx::to_bytes(&array), data);
        }
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(data).expect("in-memory gzip");
    let _ = aec::mnist::idx::parse(&gz.finish().expect("in-memory gzip"));
});
