//! The container layer on its own: round trips, hostile input, corruption and truncation.

use aec::format::{AecFile, CoderId, ColorModel, FormatError, HEADER_LEN, Header, LatentShape, Limits, ModelId};
use proptest::prelude::*;

fn header(width: u32, height: u32, color: ColorModel) -> Header {
    Header {
        width,
        height,
        color,
        bit_depth: 8,
        coder: CoderId::Range,
        quality: 4,
        model: ModelId { architecture: 1, weights_hash: 0x0123_4567_89ab_cdef },
        latent: LatentShape { channels: 96, height: height.div_ceil(16) as u16, width: width.div_ceil(16) as u16 },
        quant_step: 256,
        latent_len: 0,
        alpha_len: 0,
    }
}

fn sample_file() -> Vec<u8> {
    let payload: Vec<u8> = (0..200u32).map(|i| (i * 31 % 251) as u8).collect();
    AecFile { header: header(40, 30, ColorModel::Rgba), latents: &payload, alpha: &[1, 2, 3, 4, 5] }.to_bytes().unwrap()
}

#[test]
fn a_written_file_reads_back_identically() {
    let bytes = sample_file();
    let file = AecFile::parse(&bytes, &Limits::default()).unwrap();
    assert_eq!(file.header.width, 40);
    assert_eq!(file.header.latent_len, 200);
    assert_eq!(file.alpha, &[1, 2, 3, 4, 5]);
    assert_eq!(file.to_bytes().unwrap(), bytes);
}

#[test]
fn every_single_byte_corruption_is_rejected() {
    let bytes = sample_file();
    for i in 0..bytes.len() {
        for flip in [0x01u8, 0x80, 0xff] {
            let mut bad = bytes.clone();
            bad[i] ^= flip;
            assert!(AecFile::parse(&bad, &Limits::default()).is_err(), "corrupting byte {i} with {flip:#x} was accepted");
        }
    }
}

#[test]
fn every_truncation_is_rejected() {
    let bytes = sample_file();
    for len in 0..bytes.len() {
        assert!(AecFile::parse(&bytes[..len], &Limits::default()).is_err(), "truncation to {len} bytes was accepted");
    }
}

#[test]
fn trailing_bytes_are_rejected() {
    let mut bytes = sample_file();
    bytes.push(0);
    assert_eq!(AecFile::parse(&bytes, &Limits::default()).unwrap_err(), FormatError::TrailingBytes(1));
}

#[test]
fn a_picture_beyond_the_limits_is_rejected_before_decoding() {
    let big = AecFile { header: header(20_000, 20_000, ColorModel::Rgb), latents: &[0; 8], alpha: &[] }.to_bytes().unwrap();
    let err = AecFile::parse(&big, &Limits::default()).unwrap_err();
    assert!(matches!(err, FormatError::LimitExceeded { what: "pixel count", .. }), "{err:?}");
    let err = AecFile::parse(&sample_file(), &Limits { max_pixels: 100, ..Limits::default() }).unwrap_err();
    assert!(matches!(err, FormatError::LimitExceeded { .. }), "{err:?}");
}

#[test]
fn other_versions_and_magic_are_refused_clearly() {
    let mut bytes = sample_file();
    bytes[4] = 2;
    assert_eq!(AecFile::parse(&bytes, &Limits::default()).unwrap_err(), FormatError::UnsupportedVersion(2));
    assert_eq!(AecFile::parse(b"\x89PNG\r\n\x1a\n", &Limits::default()).unwrap_err(), FormatError::BadMagic);
}

fn arb_header() -> impl Strategy<Value = Header> {
    (1u32..5000, 1u32..5000, 0u8..3, 0u8..2, any::<u8>(), any::<u32>(), any::<u64>(), 1u16..400, 1u16..400, 1u16..400, 1u16..u16::MAX).prop_map(
        |(w, h, color, coder, quality, arch, hash, c, lh, lw, step)| Header {
            width: w,
            height: h,
            color: [ColorModel::Gray, ColorModel::Rgb, ColorModel::Rgba][color as usize],
            bit_depth: 8,
            coder: [CoderId::Zstd, CoderId::Range][coder as usize],
            quality,
            model: ModelId { architecture: arch, weights_hash: hash },
            latent: LatentShape { channels: c, height: lh, width: lw },
            quant_step: step,
            latent_len: 0,
            alpha_len: 0,
        },
    )
}

proptest! {
    #[test]
    fn any_header_and_payload_round_trip(mut h in arb_header(), latents in proptest::collection::vec(any::<u8>(), 0..300), alpha in proptest::collection::vec(any::<u8>(), 1..50)) {
        let alpha: &[u8] = if h.color == ColorModel::Rgba { &alpha } else { &[] };
        let bytes = AecFile { header: h, latents: &latents, alpha }.to_bytes().unwrap();
        let limits = Limits { max_latent_values: u64::MAX, max_pixels: u64::MAX, ..Limits::default() };
        let file = AecFile::parse(&bytes, &limits).unwrap();
        h.latent_len = latents.len() as u32;
        h.alpha_len = alpha.len() as u32;
        prop_assert_eq!(file.header, h);
        prop_assert_eq!(file.latents, &latents[..]);
        prop_assert_eq!(file.alpha, alpha);
    }

    #[test]
    fn any_byte_string_parses_or_fails_cleanly(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = AecFile::parse(&bytes, &Limits::default());
    }

    #[test]
    fn any_header_bytes_with_a_valid_magic_parse_or_fail_cleanly(rest in proptest::collection::vec(any::<u8>(), 0..(HEADER_LEN + 64))) {
        let mut bytes = vec![0x8A, b'A', b'E', b'C', 1, 0, HEADER_LEN as u8, 0];
        bytes.extend(rest);
        let _ = AecFile::parse(&bytes, &Limits::default());
    }
}
