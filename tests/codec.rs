//! The library's codec with the embedded model: colour models, odd sizes, coders, quality
//! levels, foreign models, hostile bytes, and the cross-backend check.

use aec::codec::{Codec, EncodeOptions, PhotoCodec};
use aec::format::{AecFile, CoderId, Limits};
use aec::{Error, metrics};
use image::{DynamicImage, GrayImage, RgbImage, RgbaImage};

/// The version-1 scale's default model from its files (the built-in one only decodes): the
/// same identity, so the built-in decoder decodes what it writes.
fn codec() -> Codec {
    codec_on(burn::prelude::Device::flex())
}

fn codec_on(device: burn::prelude::Device) -> Codec {
    let codec = Codec::from_files(std::path::Path::new("models/default.bpk"), device).expect("the model files load");
    assert_eq!(codec.id(), aec::codec::embedded_model_id());
    codec
}

#[test]
fn the_builtin_version_1_model_decodes_what_its_files_encode_and_refuses_to_encode() {
    let builtin = Codec::embedded().unwrap();
    let picture = DynamicImage::ImageRgb8(synthetic(64, 48));
    let bytes = codec().encode(&picture, &EncodeOptions::default()).unwrap();
    let decoded = builtin.decode(&bytes, &Limits::default()).unwrap().to_rgb8();
    assert!(metrics::psnr(picture.to_rgb8().as_raw(), decoded.as_raw()) > 25.0);
    let err = builtin.encode(&picture, &EncodeOptions::default()).unwrap_err();
    assert!(matches!(&err, Error::InvalidArgument(m) if m.contains("only decodes") && m.contains("models/default.bpk")), "{err}");
}

/// A smooth synthetic photo-like picture of any size.
fn synthetic(width: u32, height: u32) -> RgbImage {
    RgbImage::from_fn(width, height, |x, y| {
        let (fx, fy) = (x as f32 / width as f32, y as f32 / height as f32);
        image::Rgb([(255.0 * fx) as u8, (255.0 * fy) as u8, (128.0 + 100.0 * (6.0 * fx + 4.0 * fy).sin()) as u8])
    })
}

fn photo() -> DynamicImage {
    image::open("tests/fixtures/chelsea.png").unwrap()
}

#[test]
fn odd_sizes_gray_and_rgba_pictures_come_back_with_their_shape() {
    let codec = codec();
    let rgb = synthetic(37, 21);
    let gray = DynamicImage::ImageLuma8(DynamicImage::ImageRgb8(synthetic(50, 17)).to_luma8());
    let alpha = RgbaImage::from_fn(19, 33, |x, y| image::Rgba([x as u8 * 10, y as u8 * 5, 100, (x * y % 256) as u8]));
    for picture in [DynamicImage::ImageRgb8(rgb), gray, DynamicImage::ImageRgba8(alpha.clone())] {
        let bytes = codec.encode(&picture, &EncodeOptions::default()).unwrap();
        let back = codec.decode(&bytes, &Limits::default()).unwrap();
        assert_eq!((back.width(), back.height()), (picture.width(), picture.height()));
        assert_eq!(back.color().channel_count(), picture.color().channel_count());
    }
    // Alpha is kept losslessly.
    let bytes = codec.encode(&DynamicImage::ImageRgba8(alpha.clone()), &EncodeOptions::default()).unwrap();
    let back = codec.decode(&bytes, &Limits::default()).unwrap().to_rgba8();
    assert!(back.pixels().zip(alpha.pixels()).all(|(a, b)| a[3] == b[3]));
}

#[test]
fn a_gray_photo_keeps_a_sensible_quality() {
    let codec = codec();
    let gray = DynamicImage::ImageLuma8(photo().to_luma8());
    let bytes = codec.encode(&gray, &EncodeOptions::default()).unwrap();
    let back = codec.decode(&bytes, &Limits::default()).unwrap();
    let psnr = metrics::psnr(gray.to_luma8().as_raw(), back.to_luma8().as_raw());
    assert!(psnr > 20.0, "{psnr}");
}

#[test]
fn zstd_and_range_coders_carry_the_same_latents() {
    let codec = codec();
    let picture = photo();
    let range = codec.encode(&picture, &EncodeOptions::default()).unwrap();
    let zstd = codec.encode(&picture, &EncodeOptions { coder: CoderId::Zstd, ..EncodeOptions::default() }).unwrap();
    assert!(range.len() < zstd.len(), "range {} vs zstd {}", range.len(), zstd.len());
    let a = codec.decode(&range, &Limits::default()).unwrap();
    let b = codec.decode(&zstd, &Limits::default()).unwrap();
    assert_eq!(a.to_rgb8().as_raw(), b.to_rgb8().as_raw());
}

#[test]
fn every_quality_level_decodes_and_higher_levels_spend_more_bits() {
    let codec = codec();
    let picture = photo();
    let sizes: Vec<usize> = (1..=codec.max_quality())
        .map(|quality| {
            let bytes = codec.encode(&picture, &EncodeOptions { quality, ..EncodeOptions::default() }).unwrap();
            codec.decode(&bytes, &Limits::default()).unwrap();
            bytes.len()
        })
        .collect();
    assert!(sizes.windows(2).all(|w| w[0] < w[1]), "{sizes:?}");
    for bad in [0, codec.max_quality() + 1] {
        let err = codec.encode(&picture, &EncodeOptions { quality: bad, ..EncodeOptions::default() }).unwrap_err();
        assert!(matches!(err, Error::InvalidArgument(_)), "{err}");
    }
}

/// A version-2 file of `codec` in version 1, as aec 0.1 wrote it (same latents).
fn version_1(codec: &Codec, bytes: &[u8]) -> Vec<u8> {
    let file = aec::format::SectionFile::parse(bytes, &Limits::default()).unwrap();
    let shape = codec.latent_shape(file.header.width, file.header.height);
    file.as_single_payload(shape, &Limits::default()).unwrap().to_bytes().unwrap()
}

/// Rewrites a field of a valid version-1 file and fixes its checksum, as a forger would.
fn with_header(bytes: &[u8], change: impl FnOnce(&mut aec::format::Header)) -> Vec<u8> {
    let file = AecFile::parse(bytes, &Limits::default()).unwrap();
    let mut header = file.header;
    change(&mut header);
    AecFile { header, latents: file.latents, alpha: file.alpha }.to_bytes().unwrap()
}

#[test]
fn files_of_another_model_or_with_inconsistent_fields_are_refused() {
    let codec = codec();
    let bytes = version_1(&codec, &codec.encode(&DynamicImage::ImageRgb8(synthetic(40, 40)), &EncodeOptions::default()).unwrap());
    let foreign = with_header(&bytes, |h| h.model.weights_hash ^= 1);
    assert!(matches!(codec.decode(&foreign, &Limits::default()), Err(Error::UnknownModel { .. })));
    type Forgery = Box<dyn Fn(&mut aec::format::Header)>;
    let cases: Vec<Forgery> =
        vec![Box::new(|h| h.latent.channels += 1), Box::new(|h| h.latent.width += 1), Box::new(|h| h.width += 16), Box::new(|h| h.quant_step += 1)];
    for change in cases {
        let forged = with_header(&bytes, change);
        assert!(matches!(codec.decode(&forged, &Limits::default()), Err(Error::Format(_))));
    }
    // The quality level is the encoder's label; the step picks the tables.
    let relabelled = with_header(&bytes, |h| h.quality = 99);
    let (a, b) = (codec.decode(&bytes, &Limits::default()).unwrap(), codec.decode(&relabelled, &Limits::default()).unwrap());
    assert_eq!(a.to_rgb8().as_raw(), b.to_rgb8().as_raw());
}

#[test]
fn any_payload_bytes_decode_or_fail_without_panicking() {
    let codec = codec();
    let bytes = version_1(&codec, &codec.encode(&DynamicImage::ImageRgb8(synthetic(48, 32)), &EncodeOptions::default()).unwrap());
    let file = AecFile::parse(&bytes, &Limits::default()).unwrap();
    let mut state = 0x2545_f491_4f6c_dd1du64;
    for round in 0..200 {
        let mut payload = file.latents.to_vec();
        for _ in 0..1 + round % 8 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let i = (state as usize) % payload.len();
            payload[i] = (state >> 32) as u8;
        }
        if round % 10 == 0 {
            payload.truncate(payload.len() - 4);
        }
        let forged = AecFile { header: file.header, latents: &payload, alpha: &[] }.to_bytes().unwrap();
        let _ = codec.decode(&forged, &Limits::default());
    }
    let gray = DynamicImage::ImageLuma8(GrayImage::new(3, 3));
    assert!(codec.decode(&codec.encode(&gray, &EncodeOptions::default()).unwrap(), &Limits::default()).is_ok());
}

#[test]
fn the_limits_refuse_large_pictures_before_decoding() {
    let codec = codec();
    let bytes = codec.encode(&photo(), &EncodeOptions::default()).unwrap();
    let err = codec.decode(&bytes, &Limits { max_pixels: 1000, ..Limits::default() }).unwrap_err();
    assert!(matches!(err, Error::Format(aec::format::FormatError::LimitExceeded { .. })), "{err}");
}

#[cfg(feature = "ndarray")]
#[test]
#[allow(deprecated)] // burn marks ndarray deprecated; it stays as the reference backend.
fn flex_and_ndarray_backends_decode_the_same_picture() {
    let flex = codec();
    let ndarray = codec_on(burn::prelude::Device::ndarray());
    let bytes = flex.encode(&DynamicImage::ImageRgb8(synthetic(64, 48)), &EncodeOptions::default()).unwrap();
    let a = flex.decode(&bytes, &Limits::default()).unwrap().to_rgb8();
    let b = ndarray.decode(&bytes, &Limits::default()).unwrap().to_rgb8();
    let max_diff = a.as_raw().iter().zip(b.as_raw()).map(|(x, y)| x.abs_diff(*y)).max().unwrap();
    assert!(max_diff <= 1, "pixels differ by up to {max_diff}");
}

#[test]
fn rate_control_picks_the_best_level_within_the_target() {
    use aec::codec::{Ladder, RateTarget};
    let codec = Ladder::single(codec());
    let picture = photo();
    let pixels = f64::from(picture.width() * picture.height());
    let sizes: Vec<usize> =
        (1..=codec.max_quality()).map(|quality| codec.encode(&picture, &EncodeOptions { quality, ..EncodeOptions::default() }).unwrap().len()).collect();
    // A budget just above level 3's size must give level 3.
    let budget = sizes[2] as u64 + 1;
    let (bytes, quality) = codec.encode_to_target(&picture, RateTarget::MaxBytes(budget), &EncodeOptions::default()).unwrap();
    assert_eq!((bytes.len(), quality), (sizes[2], 3));
    let bpp = (sizes[4] as f64 + 1.0) * 8.0 / pixels;
    let (_, quality) = codec.encode_to_target(&picture, RateTarget::BitsPerPixel(bpp), &EncodeOptions::default()).unwrap();
    assert_eq!(quality, 5);
    let err = codec.encode_to_target(&picture, RateTarget::MaxBytes(10), &EncodeOptions::default()).unwrap_err();
    assert!(err.to_string().contains("smallest file"), "{err}");
    // A PSNR goal below what level 1 gives is met by level 1.
    let (_, quality) = codec.encode_to_target(&picture, RateTarget::Psnr(5.0), &EncodeOptions::default()).unwrap();
    assert_eq!(quality, 1);
    assert!(codec.encode_to_target(&picture, RateTarget::Psnr(99.0), &EncodeOptions::default()).is_err());
}

#[test]
fn the_file_size_matches_the_entropy_models_estimate() {
    let codec = codec();
    let picture = photo();
    let estimates = codec.estimated_sizes(&picture).unwrap();
    assert_eq!(estimates.len(), usize::from(codec.max_quality()));
    for quality in [1, 4, 7] {
        let actual = codec.encode(&picture, &EncodeOptions { quality, ..EncodeOptions::default() }).unwrap().len() as f64;
        let estimate = estimates[usize::from(quality) - 1];
        assert!((actual - estimate).abs() / estimate < 0.01, "quality {quality}: {actual} bytes, estimated {estimate:.0}");
    }
}

#[test]
fn a_hostile_settings_file_is_refused_before_building_a_network() {
    let dir = tempfile::tempdir().unwrap();
    let weights = dir.path().join("m.bpk");
    std::fs::copy("models/default.bpk", &weights).unwrap();
    std::fs::copy("models/default.cdf", weights.with_extension("cdf")).unwrap();
    std::fs::write(weights.with_extension("json"), r#"{"hidden":1000000,"latent":96}"#).unwrap();
    assert!(matches!(Codec::from_files(&weights, burn::prelude::Device::flex()), Err(Error::Model(_))));
}
