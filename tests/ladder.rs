//! The built-in quality scale over several photographic models: every level round-trips, the
//! levels climb in size and fidelity, the header records the level, files of any built-in
//! model decode, and rate control picks across models. The binary has only the scale's
//! decoders: its files are written by the same models opened from `models/`.

use aec::codec::registry::{AnyCodec, BUILTIN_PHOTO, builtin_photo_by_id};
use aec::codec::{Codec, EncodeOptions, Ladder, PhotoCodec, RateTarget};
use aec::format::{CoderId, HeaderV2, Limits, SectionFile};
use aec::{Error, metrics};
use image::DynamicImage;

/// The built-in scale over the model files in `models/` (it encodes).
fn scale_from_files() -> Ladder {
    Ladder::builtin_from_files(std::path::Path::new("models"), burn::prelude::Device::flex()).unwrap()
}

fn photo() -> DynamicImage {
    image::open("tests/fixtures/chelsea.png").unwrap()
}

/// Encodes and decodes at every level of the built-in scale: (bytes, PSNR, header).
fn every_level(ladder: &Ladder, picture: &DynamicImage) -> Vec<(usize, f64, HeaderV2)> {
    (1..=ladder.max_quality())
        .map(|quality| {
            let bytes = ladder.encode(picture, &EncodeOptions { quality, ..EncodeOptions::default() }).unwrap();
            let decoded = ladder.decode(&bytes, &Limits::default()).unwrap();
            let psnr = metrics::psnr(picture.to_rgb8().as_raw(), decoded.to_rgb8().as_raw());
            (bytes.len(), psnr, SectionFile::parse(&bytes, &Limits::default()).unwrap().header)
        })
        .collect()
}

#[test]
fn every_level_of_the_builtin_scale_round_trips_and_climbs_in_size_and_fidelity() {
    let ladder = scale_from_files();
    assert!(ladder.max_quality() >= 6, "at least six levels");
    assert!((1..=ladder.max_quality()).contains(&ladder.default_quality()));
    let picture = photo();
    let levels = every_level(&ladder, &picture);
    let sizes: Vec<usize> = levels.iter().map(|l| l.0).collect();
    let psnrs: Vec<f64> = levels.iter().map(|l| l.1).collect();
    assert!(sizes.windows(2).all(|w| w[0] < w[1]), "sizes {sizes:?}");
    // Neighbouring levels of different models may tie in fidelity on one picture, but never
    // lose much, and the scale as a whole gains.
    assert!(psnrs.windows(2).all(|w| w[1] > w[0] - 0.2), "PSNR {psnrs:?}");
    assert!(psnrs[psnrs.len() - 1] > psnrs[0] + 3.0, "PSNR {psnrs:?}");
    for (quality, (_, _, header)) in (1..).zip(&levels) {
        assert_eq!(header.quality, quality, "the header records the level asked for");
        assert!(builtin_photo_by_id(header.model).is_some(), "level {quality} uses a built-in model");
        let (codec, step) = ladder.level(quality).unwrap();
        assert_eq!((codec.id(), step), (header.model, header.rate), "the rate field holds the quantization step");
    }
    let models: std::collections::HashSet<_> = levels.iter().map(|l| l.2.model).collect();
    assert_eq!(models.len(), BUILTIN_PHOTO.len(), "every built-in photo model has a level");
    // The built-in scale decodes every level's file, and refuses to write one.
    let builtin = Ladder::builtin();
    let bytes = ladder.encode(&picture, &EncodeOptions { quality: 3, ..EncodeOptions::default() }).unwrap();
    let psnr = metrics::psnr(picture.to_rgb8().as_raw(), builtin.decode(&bytes, &Limits::default()).unwrap().to_rgb8().as_raw());
    assert!((psnr - levels[2].1).abs() < 0.05, "{psnr} against {}", levels[2].1);
    assert!(matches!(builtin.encode(&picture, &EncodeOptions::default()), Err(Error::InvalidArgument(_))));
    for bad in [0, ladder.max_quality() + 1] {
        let err = ladder.encode(&picture, &EncodeOptions { quality: bad, ..EncodeOptions::default() }).unwrap_err();
        assert!(matches!(err, Error::InvalidArgument(_)), "{err}");
    }
}

#[test]
fn files_of_the_default_models_own_scale_decode_with_the_builtin_scale() {
    let picture = photo();
    let files = Codec::from_files(std::path::Path::new("models/default.bpk"), burn::prelude::Device::flex()).unwrap();
    let bytes = files.encode(&picture, &EncodeOptions { quality: 2, ..EncodeOptions::default() }).unwrap();
    let expected = Codec::embedded().unwrap().decode(&bytes, &Limits::default()).unwrap();
    let AnyCodec::Photo(ladder) = AnyCodec::for_file(&bytes, &Limits::default()).unwrap() else { panic!("a photo model") };
    assert_eq!(ladder.decode(&bytes, &Limits::default()).unwrap().to_rgb8().as_raw(), expected.to_rgb8().as_raw());
}

#[test]
fn files_of_other_models_are_refused_by_the_scale() {
    let ladder = Ladder::builtin();
    let bytes = scale_from_files().encode(&photo(), &EncodeOptions::default()).unwrap();
    let file = SectionFile::parse(&bytes, &Limits::default()).unwrap();
    let mut header = file.header;
    header.model.weights_hash ^= 1;
    let foreign = SectionFile { header, sections: file.sections.clone() }.to_bytes().unwrap();
    assert!(matches!(ladder.decode(&foreign, &Limits::default()), Err(Error::UnknownModel { .. })));
}

#[test]
fn rate_control_searches_across_the_models_of_the_scale() {
    let ladder = scale_from_files();
    let picture = photo();
    let pixels = f64::from(picture.width() * picture.height());
    let levels = every_level(&ladder, &picture);
    let sizes: Vec<usize> = levels.iter().map(|l| l.0).collect();
    for quality in [2u8, ladder.max_quality() - 1] {
        let budget = sizes[usize::from(quality) - 1];
        let (bytes, chosen) = ladder.encode_to_target(&picture, RateTarget::MaxBytes(budget as u64), &EncodeOptions::default()).unwrap();
        assert_eq!((bytes.len(), chosen), (budget, quality));
        let bpp = (budget as f64 + 0.5) * 8.0 / pixels;
        let (_, chosen) = ladder.encode_to_target(&picture, RateTarget::BitsPerPixel(bpp), &EncodeOptions::default()).unwrap();
        assert_eq!(chosen, quality);
    }
    let err = ladder.encode_to_target(&picture, RateTarget::MaxBytes(60), &EncodeOptions::default()).unwrap_err();
    assert!(err.to_string().contains("smallest file"), "{err}");
    // A PSNR goal just under what level 9 gives is met by level 9 or a smaller file.
    let level_9 = &levels[8];
    let (bytes, chosen) = ladder.encode_to_target(&picture, RateTarget::Psnr(level_9.1 - 0.01), &EncodeOptions::default()).unwrap();
    assert!(chosen <= 9 && levels[usize::from(chosen) - 1].1 >= level_9.1 - 0.01, "level {chosen}");
    assert_eq!(bytes.len(), levels[usize::from(chosen) - 1].0);
    let err = ladder.encode_to_target(&picture, RateTarget::Psnr(60.0), &EncodeOptions::default()).unwrap_err();
    assert!(err.to_string().contains("the best gives"), "{err}");
}

#[test]
fn every_level_range_decodes_exactly_the_latents_it_encoded() {
    // zstd stores the integer latents verbatim; the range coder must give back the same ones,
    // hence the same pixels, with every model's tables at every level.
    let ladder = scale_from_files();
    let picture = photo().crop_imm(150, 60, 160, 112);
    for quality in 1..=ladder.max_quality() {
        let decode = |coder| {
            let bytes = ladder.encode(&picture, &EncodeOptions { quality, coder, ..EncodeOptions::default() }).unwrap();
            ladder.decode(&bytes, &Limits::default()).unwrap().to_rgb8().into_raw()
        };
        assert!(decode(CoderId::Range) == decode(CoderId::Zstd), "level {quality}");
    }
}
