//! Pictures as users hand them to `aec`: phone photos with an EXIF orientation, truncated
//! JPEGs, output folders, `compare` on standard input, digit pictures too large to decode.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn aec(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_aec")).args(args).output().expect("aec runs")
}

fn s(p: &Path) -> &str {
    p.to_str().expect("temporary paths are UTF-8")
}

fn temp() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    (dir, path)
}

/// A 64x32 JPEG, landscape as stored, bright on its left half.
fn landscape_jpeg() -> Vec<u8> {
    let picture = image::RgbImage::from_fn(64, 32, |x, _| if x < 32 { image::Rgb([240, 240, 240]) } else { image::Rgb([20, 20, 20]) });
    let mut jpeg = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(picture).write_to(&mut jpeg, image::ImageFormat::Jpeg).unwrap();
    jpeg.into_inner()
}

/// The JPEG with an EXIF segment saying "rotate 90° clockwise to display" (orientation 6), as
/// a phone writes for a portrait photo.
fn with_orientation_6(jpeg: &[u8]) -> Vec<u8> {
    let mut tiff = Vec::new();
    tiff.extend_from_slice(b"II*\0");
    tiff.extend_from_slice(&8u32.to_le_bytes()); // first IFD
    tiff.extend_from_slice(&1u16.to_le_bytes()); // one entry
    tiff.extend_from_slice(&0x0112u16.to_le_bytes()); // Orientation
    tiff.extend_from_slice(&3u16.to_le_bytes()); // SHORT
    tiff.extend_from_slice(&1u32.to_le_bytes()); // one value
    tiff.extend_from_slice(&[6, 0, 0, 0]); // 6, padded
    tiff.extend_from_slice(&0u32.to_le_bytes()); // no next IFD
    let mut segment = b"Exif\0\0".to_vec();
    segment.extend_from_slice(&tiff);
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&((segment.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(&segment);
    out.extend_from_slice(&jpeg[2..]);
    out
}

#[test]
fn a_portrait_phone_photo_stays_portrait() {
    let (_guard, dir) = temp();
    let photo = dir.join("phone.jpg");
    std::fs::write(&photo, with_orientation_6(&landscape_jpeg())).unwrap();
    let (packed, back) = (dir.join("phone.aec"), dir.join("back.png"));
    let out = aec(&["compress", s(&photo), "-o", s(&packed)]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("with EXIF"), "the EXIF data is kept");
    assert!(aec(&["decompress", s(&packed), "-o", s(&back)]).status.success());
    let (picture, _, exif) = read_back(&back);
    let back = picture.to_luma8();
    assert_eq!(back.dimensions(), (32, 64), "rotated upright");
    // Rotating 90° clockwise puts the stored left (bright) half on top.
    let (top, bottom) = (back.get_pixel(16, 8)[0], back.get_pixel(16, 56)[0]);
    assert!(top > 150 && bottom < 100, "top {top}, bottom {bottom}");
    let exif = exif.expect("the EXIF data is written back");
    assert_eq!(image::metadata::Orientation::from_exif_chunk(&exif), Some(image::metadata::Orientation::NoTransforms), "no viewer turns it twice");
}

/// A picture file's pixels, ICC profile and EXIF block.
fn read_back(path: &Path) -> (image::DynamicImage, Option<Vec<u8>>, Option<Vec<u8>>) {
    use image::ImageDecoder;
    let mut decoder = image::ImageReader::open(path).unwrap().with_guessed_format().unwrap().into_decoder().unwrap();
    let (icc, exif) = (decoder.icc_profile().unwrap(), decoder.exif_metadata().unwrap());
    (image::DynamicImage::from_decoder(decoder).unwrap(), icc, exif)
}

#[test]
fn icc_profiles_and_exif_data_are_kept_unless_stripped() {
    use image::ImageEncoder;
    let (_guard, dir) = temp();
    let icc = b"not a real ICC profile, but bytes to keep".to_vec();
    let exif = b"MM\0*\0\0\0\x08\0\0\0\0\0\0".to_vec();
    let picture = image::RgbImage::from_fn(40, 24, |x, y| image::Rgb([(x * 6) as u8, (y * 9) as u8, 120]));
    let mut png = Vec::new();
    let mut encoder = image::codecs::png::PngEncoder::new(&mut png);
    encoder.set_icc_profile(icc.clone()).unwrap();
    encoder.set_exif_metadata(exif.clone()).unwrap();
    encoder.write_image(picture.as_raw(), 40, 24, image::ExtendedColorType::Rgb8).unwrap();
    let input = dir.join("in.png");
    std::fs::write(&input, &png).unwrap();
    let (kept, stripped) = (dir.join("kept.aec"), dir.join("stripped.aec"));
    assert!(aec(&["compress", s(&input), "-o", s(&kept)]).status.success());
    assert!(aec(&["compress", s(&input), "-o", s(&stripped), "--strip"]).status.success());
    let info = String::from_utf8_lossy(&aec(&["info", s(&kept)]).stdout).into_owned();
    assert!(info.contains("metadata:      ICC profile (41 bytes) and EXIF (14 bytes)"), "{info}");
    let info = String::from_utf8_lossy(&aec(&["info", s(&stripped)]).stdout).into_owned();
    assert!(info.contains("metadata:      none"), "{info}");
    assert_eq!(std::fs::metadata(&kept).unwrap().len(), std::fs::metadata(&stripped).unwrap().len() + 16 + 41 + 14);
    for out in ["back.png", "back.jpg"] {
        let back = dir.join(out);
        assert!(aec(&["decompress", s(&kept), "-o", s(&back)]).status.success());
        let (picture, back_icc, back_exif) = read_back(&back);
        assert_eq!(picture.width(), 40);
        assert_eq!((back_icc.as_ref(), back_exif.as_ref()), (Some(&icc), Some(&exif)), "{out}");
    }
    let (plain, nothing) = (dir.join("plain.png"), dir.join("nothing.png"));
    assert!(aec(&["decompress", s(&kept), "-o", s(&plain), "--strip"]).status.success());
    assert!(aec(&["decompress", s(&stripped), "-o", s(&nothing)]).status.success());
    for path in [plain, nothing] {
        let (_, icc, exif) = read_back(&path);
        assert_eq!((icc, exif), (None, None));
    }
}

#[test]
fn a_truncated_jpeg_is_refused() {
    let (_guard, dir) = temp();
    let jpeg = landscape_jpeg();
    for keep in [jpeg.len() / 100, jpeg.len() / 2, jpeg.len() - 2] {
        let cut = dir.join("cut.jpg");
        std::fs::write(&cut, &jpeg[..keep.max(3)]).unwrap();
        let out = aec(&["compress", s(&cut), "-o", s(&dir.join("cut.aec"))]);
        assert_eq!(out.status.code(), Some(3), "kept {keep}: {}", String::from_utf8_lossy(&out.stderr));
        assert!(!dir.join("cut.aec").exists());
    }
    let whole = dir.join("whole.jpg");
    std::fs::write(&whole, &jpeg).unwrap();
    assert!(aec(&["compress", s(&whole), "-o", s(&dir.join("whole.aec"))]).status.success());
}

#[test]
fn output_folders_take_the_input_name() {
    let (_guard, dir) = temp();
    let photo = dir.join("shot.jpg");
    std::fs::write(&photo, landscape_jpeg()).unwrap();
    let packed = dir.join("packed/");
    let out = aec(&["compress", s(&photo), "-o", s(&packed)]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(dir.join("packed/shot.aec").is_file());
    let out = aec(&["decompress", s(&dir.join("packed/shot.aec")), "-o", s(&dir)]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(dir.join("shot.png").is_file());
    let from_stdin = Command::new(env!("CARGO_BIN_EXE_aec")).args(["compress", "-", "-o", s(&packed)]).stdin(Stdio::null()).output().unwrap();
    assert_eq!(from_stdin.status.code(), Some(2), "standard input has no name to give the file");
}

#[test]
fn compare_reads_standard_input() {
    let (_guard, dir) = temp();
    let photo = dir.join("a.jpg");
    std::fs::write(&photo, landscape_jpeg()).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_aec")).args(["compare", s(&photo), "-"]).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(&landscape_jpeg()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let line = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(line.starts_with("PSNR inf dB"), "the same picture twice: {line}");
    assert_eq!(aec(&["compare", "-", "-"]).status.code(), Some(2));
}

#[test]
fn the_encoder_never_writes_what_the_decoder_refuses() {
    // 4100x4100 is within the picture limit (2^25 pixels) but the conv model's code would have
    // 32 x 1025 x 1025 > 2^25 values: refused before any work, as a usage error.
    let (_guard, dir) = temp();
    let big = dir.join("big.png");
    image::GrayImage::new(4100, 4100).save(&big).unwrap();
    let out = aec(&["compress", s(&big), "--model", "mnist-conv", "-o", s(&dir.join("big.aec"))]);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("code values"));
    assert!(!dir.join("big.aec").exists());
}

#[test]
fn many_pictures_at_once_and_one_bad_file_does_not_stop_the_rest() {
    let (_guard, dir) = temp();
    let (good, bad) = (dir.join("good.jpg"), dir.join("bad.jpg"));
    std::fs::write(&good, landscape_jpeg()).unwrap();
    std::fs::write(&bad, b"not a picture").unwrap();
    let photo = "tests/fixtures/kodim23.png";
    let packed = dir.join("packed");
    let out = aec(&["compress", s(&good), s(&bad), photo, "-o", &format!("{}/", s(&packed))]);
    assert_eq!(out.status.code(), Some(3), "the bad file's exit code");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("bad.jpg") && stderr.contains("2 of 3 files done"), "{stderr}");
    assert!(packed.join("good.aec").is_file() && packed.join("kodim23.aec").is_file() && !packed.join("bad.aec").exists());

    let back = dir.join("back");
    let inputs = [packed.join("good.aec"), packed.join("kodim23.aec")];
    let out = aec(&["decompress", s(&inputs[0]), s(&inputs[1]), "-o", s(&back)]);
    assert_eq!(out.status.code(), Some(2), "several inputs need -o to be a folder (DIR/): {}", String::from_utf8_lossy(&out.stderr));
    let out = aec(&["decompress", s(&inputs[0]), s(&inputs[1]), "-o", &format!("{}/", s(&back))]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(image::open(back.join("kodim23.png")).unwrap().width(), 768);
    assert_eq!(image::open(back.join("good.png")).unwrap().width(), 64);
}

#[test]
fn a_terminated_run_leaves_no_temporary_file() {
    let (_guard, dir) = temp();
    let photos: Vec<PathBuf> = (0..40).map(|i| dir.join(format!("p{i}.png"))).collect();
    for p in &photos {
        std::fs::copy("tests/fixtures/kodim23.png", p).unwrap();
    }
    let out = dir.join("out");
    let mut args: Vec<&str> = vec!["compress"];
    args.extend(photos.iter().map(|p| s(p)));
    let target = format!("{}/", s(&out));
    args.extend(["-o", &target]);
    let child = Command::new(env!("CARGO_BIN_EXE_aec")).args(&args).stderr(Stdio::null()).spawn().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    assert!(Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap().success());
    let status = child.wait_with_output().unwrap().status;
    assert_eq!(status.code(), Some(128 + 15), "ended by its SIGTERM handler");
    let left: Vec<_> =
        std::fs::read_dir(&out).unwrap().filter_map(|e| e.ok()).map(|e| e.file_name()).filter(|n| n.to_string_lossy().ends_with(".tmp")).collect();
    assert!(left.is_empty(), "{left:?}");
}
