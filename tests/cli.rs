//! The `aec` binary as a user runs it: round trips on a real photo, overwrite refusal, bad
//! input, standard streams, exit codes.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const PHOTO: &str = "tests/fixtures/kodim23.png";

fn aec(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_aec")).args(args).output().expect("aec runs")
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("temporary paths are UTF-8")
}

fn psnr_of(a: &Path, b: &Path) -> f64 {
    let (a, b) = (image::open(a).unwrap().to_rgb8(), image::open(b).unwrap().to_rgb8());
    aec::metrics::psnr(a.as_raw(), b.as_raw())
}

/// Saves the `w x h` crop of the fixture photo at `(x, y)` as `dir/small.png`.
fn saved_crop(dir: &Path, (x, y): (u32, u32), (w, h): (u32, u32)) -> PathBuf {
    let picture = dir.join("small.png");
    image::open(PHOTO).unwrap().crop_imm(x, y, w, h).save(&picture).unwrap();
    picture
}

fn temp() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    (dir, path)
}

#[test]
fn a_photo_round_trips_at_a_small_size_and_good_quality() {
    let (_guard, dir) = temp();
    let (packed, back) = (dir.join("photo.aec"), dir.join("back.png"));
    let out = aec(&["compress", PHOTO, "-o", path_str(&packed)]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bpp"));
    let bytes = std::fs::metadata(&packed).unwrap().len();
    let bpp = bytes as f64 * 8.0 / (768.0 * 512.0);
    assert!(bpp < 1.0, "{bpp} bits per pixel");
    let out = aec(&["decompress", path_str(&packed), "-o", path_str(&back)]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let psnr = psnr_of(Path::new(PHOTO), &back);
    assert!(psnr > 20.0, "PSNR {psnr:.2} dB");
}

#[test]
fn lower_quality_gives_a_smaller_file() {
    let (_guard, dir) = temp();
    let size = |q: &str| {
        let f = dir.join(format!("q{q}.aec"));
        assert!(aec(&["compress", PHOTO, "-o", path_str(&f), "-q", q]).status.success());
        std::fs::metadata(&f).unwrap().len()
    };
    let (low, default, high) = (size("1"), size("4"), size("7"));
    assert!(low < default && default < high, "{low} {default} {high}");
}

#[test]
fn an_existing_output_is_not_overwritten_without_force() {
    let (_guard, dir) = temp();
    let target = dir.join("exists.aec");
    std::fs::write(&target, b"precious").unwrap();
    let out = aec(&["compress", PHOTO, "-o", path_str(&target)]);
    assert_eq!(out.status.code(), Some(5));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--force"));
    assert_eq!(std::fs::read(&target).unwrap(), b"precious");
    let out = aec(&["compress", PHOTO, "-o", path_str(&target), "--force"]);
    assert!(out.status.success());
    assert_ne!(std::fs::read(&target).unwrap(), b"precious");
}

#[test]
fn a_corrupted_file_is_refused_with_exit_code_3_and_no_output() {
    let (_guard, dir) = temp();
    let packed = dir.join("photo.aec");
    assert!(aec(&["compress", PHOTO, "-o", path_str(&packed)]).status.success());
    let mut bytes = std::fs::read(&packed).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x10;
    std::fs::write(&packed, &bytes).unwrap();
    let back = dir.join("back.png");
    let out = aec(&["decompress", path_str(&packed), "-o", path_str(&back)]);
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("checksum"), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!back.exists());
}

#[test]
fn input_that_is_not_a_picture_is_refused_clearly() {
    let (_guard, dir) = temp();
    let junk = dir.join("junk.png");
    std::fs::write(&junk, b"this is not a png").unwrap();
    let out = aec(&["compress", path_str(&junk), "-o", path_str(&dir.join("x.aec"))]);
    assert_eq!(out.status.code(), Some(3));
    let out = aec(&["decompress", path_str(&junk), "-o", path_str(&dir.join("x.png"))]);
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not an .aec file"));
    let out = aec(&["compress", path_str(&dir.join("missing.png"))]);
    assert_eq!(out.status.code(), Some(1));
    assert!(!dir.join("missing.aec").exists());
}

#[test]
fn standard_streams_work_with_dash() {
    let photo = std::fs::read("tests/fixtures/chelsea.png").unwrap();
    let run = |args: &[&str], input: Vec<u8>| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_aec")).args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let writer = std::thread::spawn(move || std::io::Write::write_all(&mut stdin, &input));
        let out = child.wait_with_output().unwrap();
        writer.join().unwrap().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        out.stdout
    };
    let packed = run(&["compress", "-", "-o", "-"], photo);
    assert_eq!(&packed[..4], &aec::format::MAGIC);
    let png = run(&["decompress", "-", "-o", "-"], packed);
    let picture = image::load_from_memory(&png).unwrap();
    assert_eq!((picture.width(), picture.height()), (451, 300));
}

#[test]
fn info_describes_the_file() {
    let (_guard, dir) = temp();
    let packed = dir.join("photo.aec");
    assert!(aec(&["compress", PHOTO, "-o", path_str(&packed), "-q", "3"]).status.success());
    let out = aec(&["info", path_str(&packed)]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for expected in ["768 x 512", "quality:       3", "bits per pixel", "the built-in hyperprior", "Range"] {
        assert!(text.contains(expected), "missing {expected:?} in\n{text}");
    }
    assert!(!text.contains("residual"), "{text}");
    // A file with a residual layer: its rate setting is the network's.
    let out = aec(&["info", "format-spec/vectors/v2-default-rgb-128x96-q28-range-layers2.aec"]);
    let text = String::from_utf8_lossy(&out.stdout);
    for expected in ["quality:       28", "the network's, a residual layer codes the rest", "Restoration", "Residual"] {
        assert!(text.contains(expected), "missing {expected:?} in\n{text}");
    }
}

#[test]
fn help_shows_examples_and_bad_usage_exits_with_2() {
    let out = aec(&["--help"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("Examples:"));
    assert_eq!(aec(&["compress"]).status.code(), Some(2));
    let help = String::from_utf8_lossy(&aec(&["compress", "--help"]).stdout).into_owned();
    let model = aec::codec::hyper::HyperCodec::builtin().unwrap();
    let range = format!("1 (smallest file) to {} (best) with the default model, default {}", model.max_quality(), model.default_quality());
    assert!(help.contains(&range), "compress --help must say {range:?}:\n{help}");
    assert_eq!(aec(&["compress", PHOTO, "-q", "99", "-o", "-"]).status.code(), Some(2));
}

#[test]
fn levels_lists_the_scale_and_what_each_level_gives_a_picture() {
    let out = aec(&["levels", PHOTO]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    let rows: Vec<Vec<&str>> = text.lines().skip(1).map(|l| l.split_whitespace().collect()).collect();
    assert!(rows.len() >= 6, "{text}");
    assert_eq!(rows.iter().filter(|r| r.last() == Some(&"(default)")).count(), 1, "{text}");
    // Sizes climb with the level, and are what compress writes.
    let bytes: Vec<f64> = rows.iter().map(|r| r[4].parse().unwrap()).collect();
    assert!(bytes.windows(2).all(|w| w[0] < w[1]), "{text}");
    // So does the measured PSNR.
    let psnr: Vec<f64> = rows.iter().map(|r| r[6].parse().unwrap()).collect();
    assert!(psnr.windows(2).all(|w| w[0] < w[1]) && psnr[0] > 20.0, "{text}");
    let (_guard, dir) = temp();
    let (packed, back) = (dir.join("q2.aec"), dir.join("q2.png"));
    assert!(aec(&["compress", PHOTO, "-q", "2", "-o", path_str(&packed)]).status.success());
    let actual = std::fs::metadata(&packed).unwrap().len() as f64;
    assert_eq!(actual, bytes[1], "the size levels says");
    assert!(aec(&["decompress", path_str(&packed), "-o", path_str(&back)]).status.success());
    assert!((psnr_of(Path::new(PHOTO), &back) - psnr[1]).abs() < 0.01, "PSNR as levels says");
    // The model names it lists are accepted by --model, each with its own levels.
    let name = rows[0][1];
    let single = dir.join("single.aec");
    let out = aec(&["compress", PHOTO, "--model", name, "-q", "1", "-o", path_str(&single)]);
    assert!(out.status.success(), "--model {name}: {}", String::from_utf8_lossy(&out.stderr));
    assert!(aec(&["decompress", path_str(&single), "-o", path_str(&dir.join("single.png"))]).status.success());
}

/// A PNG that declares `width x height` pixels but holds no pixel data.
fn png_header_only(width: u32, height: u32) -> Vec<u8> {
    let mut ihdr = b"IHDR".to_vec();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend_from_slice(&13u32.to_be_bytes());
    png.extend_from_slice(&ihdr);
    png.extend_from_slice(&crc32fast::hash(&ihdr).to_be_bytes());
    // An IDAT chunk holding an empty zlib stream, so that the header is complete.
    let idat = b"IDAT\x78\x9c\x03\x00\x00\x00\x00\x01";
    png.extend_from_slice(&8u32.to_be_bytes());
    png.extend_from_slice(idat);
    png.extend_from_slice(&crc32fast::hash(idat).to_be_bytes());
    png.extend_from_slice(&[0, 0, 0, 0]);
    png.extend_from_slice(b"IEND");
    png.extend_from_slice(&crc32fast::hash(b"IEND").to_be_bytes());
    png
}

#[test]
fn a_huge_declared_picture_is_refused_before_decoding() {
    let (_guard, dir) = temp();
    let (huge, out) = (dir.join("huge.png"), dir.join("huge.aec"));
    std::fs::write(&huge, png_header_only(11_000, 11_000)).unwrap();
    let result = aec(&["compress", path_str(&huge), "-o", path_str(&out)]);
    assert_eq!(result.status.code(), Some(3), "{}", String::from_utf8_lossy(&result.stderr));
    assert!(String::from_utf8_lossy(&result.stderr).contains("--max-pixels"));
    assert!(!out.exists());
}

#[test]
fn work_beyond_the_memory_budget_is_refused_from_the_header() {
    let (_guard, dir) = temp();
    // A 6000x4000 picture needs about 96 MiB + 10 B/px = 325 MiB: within the default
    // budget of 512M, beyond 300M. The PNG holds no pixels: it is judged by its header alone.
    let (big, out) = (dir.join("big.png"), dir.join("big.aec"));
    std::fs::write(&big, png_header_only(6000, 4000)).unwrap();
    let result = aec(&["compress", path_str(&big), "--max-memory", "300M", "-o", path_str(&out)]);
    assert_eq!(result.status.code(), Some(3), "{}", String::from_utf8_lossy(&result.stderr));
    assert!(String::from_utf8_lossy(&result.stderr).contains("--max-memory"), "{}", String::from_utf8_lossy(&result.stderr));
    assert!(!out.exists());
    // Decompressing: the kodim23 file (768x512) needs about 100 MiB.
    let (packed, back) = (dir.join("photo.aec"), dir.join("back.png"));
    assert!(aec(&["compress", PHOTO, "-o", path_str(&packed)]).status.success());
    let result = aec(&["decompress", path_str(&packed), "--max-memory", "97M", "-o", path_str(&back)]);
    assert_eq!(result.status.code(), Some(3), "{}", String::from_utf8_lossy(&result.stderr));
    assert!(String::from_utf8_lossy(&result.stderr).contains("--max-memory"));
    assert!(!back.exists());
    assert!(aec(&["decompress", path_str(&packed), "--max-memory", "1G", "-o", path_str(&back)]).status.success());
    // Sizes take units; nonsense is bad usage.
    assert_eq!(aec(&["decompress", path_str(&packed), "--max-memory", "lots", "-o", "-"]).status.code(), Some(2));
}

/// A picture whose restoration filter and residual layer would need more memory than
/// `--max-memory` allows, though coding it alone fits, is coded without them, with a note.
#[test]
fn layers_beyond_the_memory_budget_are_left_out_with_a_note() {
    let (_guard, dir) = temp();
    // kodim23 (768x512): about 96 MiB + 10 B/px = 99.8 MiB to code, 9 MiB more for the layers.
    let out = dir.join("photo.aec");
    let sections = |path: &Path| {
        let bytes = std::fs::read(path).unwrap();
        let file = aec::format::SectionFile::parse(&bytes, &aec::format::Limits::default()).unwrap();
        [aec::format::SectionKind::Restoration, aec::format::SectionKind::Residual].map(|kind| file.section(kind).is_some())
    };
    let result = aec(&["compress", PHOTO, "--max-memory", "104M", "-o", path_str(&out)]);
    assert!(result.status.success(), "{}", String::from_utf8_lossy(&result.stderr));
    assert!(String::from_utf8_lossy(&result.stderr).contains("without a restoration filter and residual layer"), "{}", String::from_utf8_lossy(&result.stderr));
    assert_eq!(sections(&out), [false, false]);
    let result = aec(&["compress", PHOTO, "--max-memory", "1G", "-o", path_str(&out), "--force"]);
    assert!(!String::from_utf8_lossy(&result.stderr).contains("without a restoration filter"));
    assert!(sections(&out).contains(&true), "the default level of kodim23 has a filter or a residual layer");
}

#[test]
fn endless_input_is_refused_after_a_bounded_read() {
    let result = aec(&["info", "/dev/zero"]);
    assert_eq!(result.status.code(), Some(3), "{}", String::from_utf8_lossy(&result.stderr));
}

#[test]
fn compress_refuses_to_overwrite_its_input() {
    let (_guard, dir) = temp();
    let input = dir.join("in.png");
    std::fs::copy(PHOTO, &input).unwrap();
    let before = std::fs::read(&input).unwrap();
    let result = aec(&["compress", path_str(&input), "-o", path_str(&input), "--force"]);
    assert_eq!(result.status.code(), Some(2), "{}", String::from_utf8_lossy(&result.stderr));
    assert_eq!(std::fs::read(&input).unwrap(), before);
}

#[test]
fn outputs_are_plain_ppm_honour_the_umask_and_jpeg_quality() {
    let (_guard, dir) = temp();
    let packed = dir.join("p.aec");
    assert!(aec(&["compress", PHOTO, "-o", path_str(&packed), "-q", "3"]).status.success());
    let ppm = dir.join("back.ppm");
    assert!(aec(&["decompress", path_str(&packed), "-o", path_str(&ppm)]).status.success());
    assert!(std::fs::read(&ppm).unwrap().starts_with(b"P6\n"), "binary PPM (P6), not PAM");
    let jpeg = |q: &str| {
        let out = dir.join(format!("q{q}.jpg"));
        assert!(aec(&["decompress", path_str(&packed), "-o", path_str(&out), "--jpeg-quality", q]).status.success());
        std::fs::metadata(&out).unwrap().len()
    };
    assert!(jpeg("40") < jpeg("95"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let png = dir.join("umask.png");
        let status = Command::new("sh")
            .arg("-c")
            .arg(format!("umask 022 && exec '{}' decompress '{}' -o '{}'", env!("CARGO_BIN_EXE_aec"), path_str(&packed), path_str(&png)))
            .status()
            .unwrap();
        assert!(status.success());
        assert_eq!(std::fs::metadata(&png).unwrap().permissions().mode() & 0o777, 0o644);
    }
}

#[test]
fn webp_tiff_gif_and_bmp_pictures_are_accepted() {
    let (_guard, dir) = temp();
    let picture = image::open(PHOTO).unwrap().crop_imm(0, 0, 96, 64);
    for ext in ["webp", "tiff", "gif", "bmp"] {
        let input = dir.join(format!("in.{ext}"));
        let picture = if ext == "webp" { image::DynamicImage::ImageRgba8(picture.to_rgba8()) } else { picture.clone() };
        picture.save(&input).unwrap();
        let out = dir.join(format!("{ext}.aec"));
        let result = aec(&["compress", path_str(&input), "-o", path_str(&out)]);
        assert!(result.status.success(), "{ext}: {}", String::from_utf8_lossy(&result.stderr));
    }
    let text = dir.join("notes.txt");
    std::fs::write(&text, "not a picture").unwrap();
    let result = aec(&["compress", path_str(&text), "-o", path_str(&dir.join("t.aec"))]);
    assert!(String::from_utf8_lossy(&result.stderr).contains("WebP"), "the error lists the formats aec reads");
}

#[test]
fn errors_say_their_cause_once() {
    let (_guard, dir) = temp();
    let bad = dir.join("bad.aec");
    std::fs::write(&bad, b"\x8aAEC\x01\x00").unwrap();
    let result = aec(&["info", path_str(&bad)]);
    let text = String::from_utf8_lossy(&result.stderr);
    assert_eq!(result.status.code(), Some(3));
    assert_eq!(text.matches("truncated").count(), 1, "{text}");
}

#[test]
#[cfg(feature = "ndarray")]
fn the_backend_is_chosen_on_the_command_line() {
    let (_guard, dir) = temp();
    let packed = dir.join("photo.aec");
    assert!(aec(&["compress", PHOTO, "-o", path_str(&packed), "--backend", "ndarray"]).status.success());
    let (flex, ndarray) = (dir.join("flex.png"), dir.join("ndarray.png"));
    assert!(aec(&["decompress", path_str(&packed), "-o", path_str(&flex)]).status.success());
    assert!(aec(&["--backend", "ndarray", "decompress", path_str(&packed), "-o", path_str(&ndarray)]).status.success());
    let (a, b) = (image::open(&flex).unwrap().to_rgb8(), image::open(&ndarray).unwrap().to_rgb8());
    let worst = a.as_raw().iter().zip(b.as_raw()).map(|(x, y)| x.abs_diff(*y)).max().unwrap();
    assert!(worst <= 1, "flex and ndarray decode within one level, not {worst}");
    assert_eq!(aec(&["--backend", "gpu", "info", path_str(&packed)]).status.code(), Some(2));
}

#[test]
fn a_resumed_training_run_keeps_its_checkpoint_settings_unless_given_again() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("h.bpk");
    let out = out.to_str().unwrap();
    let sizes = ["--hidden", "8", "--latent", "8", "--hyper-hidden", "8", "--hyper-latent", "4"];
    let first = [
        &["train", "--arch", "hyper", "--data", "tests/fixtures", "--out", out, "--lambdas", "0.001,0.01,0.1"][..],
        &sizes,
        &["--steps", "2", "--batch", "2", "--patch", "64", "--lr", "1e-4", "--decay-from", "0.1"],
    ]
    .concat();
    let run = aec(&first);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    // Resumed with only a new length: the λs, rates, batch and patch stay the checkpoint's.
    let run = aec(&["train", "--arch", "hyper", "--data", "tests/fixtures", "--out", out, "--resume", "--steps", "3"]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let state: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.path().join("h.train/state.json")).unwrap()).unwrap();
    assert_eq!(state["step"], 3);
    assert_eq!(state["steps"], 3);
    assert_eq!(state["batch"], 2);
    assert_eq!(state["patch"], 64);
    assert_eq!(state["lr"], 1e-4);
    assert_eq!(state["decay_from"], 0.1);
    assert_eq!(state["model"]["lambdas"].as_array().unwrap().len(), 3);
}

#[test]
fn bench_says_which_comparison_tools_are_missing_instead_of_dropping_their_rows_silently() {
    let (_guard, dir) = temp();
    let picture = saved_crop(&dir, (0, 0), (48, 32));
    let empty = dir.join("no-tools");
    std::fs::create_dir(&empty).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_aec")).args(["bench", path_str(&picture), "--json"]).env("PATH", &empty).output().expect("aec runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stderr = String::from_utf8_lossy(&out.stderr);
    for (tool, package) in [("cjpeg", "libjpeg-turbo-progs"), ("cwebp", "webp")] {
        assert!(stderr.contains(&format!("`{tool}` is not installed")) && stderr.contains(package), "{tool}: {stderr}");
    }
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let codecs: Vec<&str> = json["records"].as_array().unwrap().iter().map(|r| r["codec"].as_str().unwrap()).collect();
    assert!(codecs.contains(&"aec") && codecs.contains(&"jpeg") && !codecs.contains(&"cjpeg") && !codecs.contains(&"webp"));
    let out = aec(&["bench", path_str(&picture), "--json", "--no-cjpeg", "--no-cwebp"]);
    assert!(out.status.success() && !String::from_utf8_lossy(&out.stderr).contains("not installed"), "left out on request: no note");
}

/// `--refine` compresses with refined latents (an ordinary file), asks for the memory it
/// needs, and is refused for models that cannot refine; `aec bench` measures chosen levels
/// with it and refuses a level the model lacks.
#[test]
fn refining_compresses_within_its_memory_and_bench_measures_chosen_levels() {
    let (_guard, dir) = temp();
    let picture = saved_crop(&dir, (100, 100), (96, 64));
    let packed = dir.join("small.aec");
    let out = aec(&["compress", path_str(&picture), "--refine", "3", "-q", "25", "-o", path_str(&packed)]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(aec(&["decompress", path_str(&packed), "-o", path_str(&dir.join("back.png"))]).status.success());
    let out = aec(&["compress", path_str(&picture), "--refine", "3", "--max-memory", "200M", "-o", path_str(&dir.join("a.aec"))]);
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("--max-memory"), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        aec(&["compress", path_str(&picture), "--max-memory", "200M", "-o", path_str(&dir.join("b.aec"))]).status.success(),
        "without --refine 200M is enough"
    );
    for model in ["models/default.bpk", "mnist-conv"] {
        let out = aec(&["compress", path_str(&picture), "--refine", "3", "--model", model, "-o", path_str(&dir.join("c.aec"))]);
        assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("hyperprior"), "{model}: {}", String::from_utf8_lossy(&out.stderr));
    }
    let out = aec(&["bench", path_str(&picture), "--json", "--aec-only", "--levels", "5,20", "--refine", "2"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let qualities: Vec<u64> = json["records"].as_array().unwrap().iter().map(|r| r["quality"].as_u64().unwrap()).collect();
    assert_eq!(qualities, [5, 20]);
    let out = aec(&["bench", path_str(&picture), "--aec-only", "--levels", "40"]);
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("--levels"), "{}", String::from_utf8_lossy(&out.stderr));
}

/// A reader of standard output that goes away (`aec decompress f.aec -o - | head -c 8`) ends
/// aec quietly with 141, as SIGPIPE ends other tools, not with an error message.
#[test]
fn a_closed_standard_output_ends_aec_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("k.aec");
    assert!(aec(&["compress", "tests/fixtures/kodim23.png", "-q", "1", "-o", path_str(&file)]).status.success());
    let mut child = Command::new(env!("CARGO_BIN_EXE_aec"))
        .args(["decompress", path_str(&file), "-o", "-"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("aec runs");
    // The reader goes away before aec has decoded the picture: its first write fails.
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(141), "{stderr}");
    assert!(!stderr.contains("error"), "{stderr}");
}

/// A rate-controlled compress reports the quality it coded at: a fraction between levels where
/// the network codes the level's own rate, the whole level above the rate where the network
/// stops and the residual layer codes the rest (the header then records the network's rate).
#[test]
fn a_rate_controlled_compress_reports_its_quality() {
    let (_guard, dir) = temp();
    let picture = saved_crop(&dir, (100, 100), (256, 192));
    let packed = dir.join("small.aec");
    let quality_for = |bpp: &str| {
        let out = aec(&["compress", path_str(&picture), "--target-bpp", bpp, "-o", path_str(&packed), "--force"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let printed = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
        let quality = printed.split("quality ").nth(1).and_then(|rest| rest.split(',').next()).expect("a quality").to_string();
        quality.parse::<f64>().expect("a number")
    };
    let low = quality_for("0.3");
    assert!(low > 1.0 && low < 19.0, "{low}");
    let high = quality_for("2.5");
    assert!(high > 19.0 && high.fract() == 0.0, "{high}: a whole level above the network's top rate");
}
