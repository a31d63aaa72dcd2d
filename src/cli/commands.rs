//! One function per subcommand.

use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use image::{DynamicImage, ImageFormat};

use aec::baseline::Tool;
use aec::codec::digits::DigitCodec;
use aec::codec::refine::Refinement;
use aec::codec::registry::AnyCodec;
use aec::codec::{EncodeOptions, PhotoCodec, RateTarget};
use aec::format::{AecFile, CoderId, Limits, Metadata, ModelId, ParsedFile};
use aec::model::{DigitArch, FactorizedConfig, HyperpriorConfig};
use aec::pictures::Picture;
use aec::train::checkpoint::CheckpointDir;
use aec::train::digits::{DigitTrainConfig, InitFrom};
use aec::train::factorized::{FactorizedTrainConfig, RunOptions};
use aec::train::hyperprior::HyperTrainConfig;

use super::args::{ArchArg, BenchArgs, CoderArg, CompareArgs, CompressArgs, DecompressArgs, DenoiseArgs, EvalMnistArgs, InfoArgs, LevelsArgs, TrainArgs};
use super::io::{
    Extra, LAYERS_MEMORY, REFINING_MEMORY, check_memory, check_writable, max_aec_bytes, read_input, read_picture, read_picture_to_code, write_output,
};

/// The photographic codec of `--model NAME` (a built-in name or model files).
fn load_photo(model: &str) -> Result<Box<dyn PhotoCodec>> {
    match AnyCodec::open_on(model, super::device())? {
        AnyCodec::Photo(codec) => Ok(codec),
        AnyCodec::Digits(_) => Err(aec::Error::InvalidArgument("an MNIST model has no photographic quality scale: use aec eval-mnist".into()).into()),
    }
}

/// `aec compress`.
pub fn compress(args: CompressArgs) -> Result<()> {
    let any = AnyCodec::open_on(&args.model, super::device())?;
    super::batch::run(&args.inputs, args.output.as_deref(), "aec", |input, output| compress_file(&args, &any, input, output))
}

/// Compresses one picture; returns the line that reports it.
fn compress_file(args: &CompressArgs, any: &AnyCodec, input: &Path, output: &Path) -> Result<String> {
    check_writable(output, args.force)?;
    check_not_same(input, output)?;
    // A photo model loads its encoder on one core while the picture is read on the other.
    let (read, prepared) = rayon::join(
        || {
            let refining = if args.refine > 0 { REFINING_MEMORY } else { Extra::default() };
            let layers = if args.no_restoration && args.no_residual { Extra::default() } else { LAYERS_MEMORY };
            read_picture_to_code(input, args.max_pixels, args.max_memory, refining, layers)
        },
        || match any {
            AnyCodec::Photo(codec) => codec.prepare_encoder(),
            AnyCodec::Digits(_) => Ok(()),
        },
    );
    let (Picture { image: picture, icc, exif }, layers_fit) = read?;
    prepared?;
    if !layers_fit {
        eprintln!("aec: note: {} is coded without a restoration filter and residual layer: they need more memory than --max-memory allows", input.display());
    }
    super::memory::reuse_freed_memory_for(u64::from(picture.width()) * u64::from(picture.height()), args.inputs.len() == 1);
    let metadata = if args.strip { Metadata::default() } else { Metadata { icc, exif } };
    let codec = match any {
        AnyCodec::Digits(codec) => {
            if !metadata.is_empty() {
                eprintln!(
                    "aec: note: the ICC profile and EXIF data of {} are not kept: MNIST model files (container version 1) cannot hold them",
                    input.display()
                );
            }
            if args.refine > 0 {
                return Err(aec::Error::InvalidArgument("--refine needs a hyperprior model (such as the default), not an MNIST model".into()).into());
            }
            let quality = whole_quality(args.quality)?.unwrap_or(aec::codec::digits::DIGIT_DEFAULT_QUALITY);
            return compress_digit(codec, &picture, input, output, quality, args.force);
        }
        AnyCodec::Photo(codec) => codec,
    };
    let coder = match args.coder {
        CoderArg::Range => CoderId::Range,
        CoderArg::Zstd => CoderId::Zstd,
    };
    let target = match (args.target_bpp, args.max_bytes, args.target_psnr) {
        (Some(bpp), _, _) => Some(RateTarget::BitsPerPixel(bpp)),
        (_, Some(bytes), _) => Some(RateTarget::MaxBytes(bytes)),
        (_, _, Some(psnr)) => Some(RateTarget::Psnr(psnr)),
        _ => None,
    };
    let started = Instant::now();
    let (progress, report) = aec::progress::refinement_bar(input.display().to_string(), args.refine, args.refine > 0 && std::io::stderr().is_terminal());
    let refinement = Refinement::steps(args.refine).with_progress(report);
    let options = EncodeOptions {
        quality: codec.default_quality(),
        coder,
        metadata,
        limits: Limits::largest(),
        refinement,
        restoration: layers_fit && !args.no_restoration,
        residual: layers_fit && !args.no_residual,
    };
    let (encoded, quality) = match (target, args.quality) {
        (Some(target), _) => codec.encode_to_target(&picture, target, &options).map(|(bytes, q)| {
            let quality = coded_quality(codec.as_ref(), &bytes, q);
            (bytes, quality)
        })?,
        (None, Some(q)) => (codec.encode_fraction(&picture, q, &options)?, q.to_string()),
        (None, None) => (codec.encode(&picture, &options)?, options.quality.to_string()),
    };
    progress.finish_and_clear();
    let elapsed = started.elapsed();
    let metadata = options.metadata;
    write_output(output, &encoded, args.force)?;
    let pixels = f64::from(picture.width()) * f64::from(picture.height());
    Ok(format!(
        "{} ({}x{}) -> {}: {} bytes, {:.3} bpp, quality {}, {:.2} s{}",
        input.display(),
        picture.width(),
        picture.height(),
        output.display(),
        encoded.len(),
        encoded.len() as f64 * 8.0 / pixels,
        quality,
        elapsed.as_secs_f64(),
        metadata_summary(&metadata).map_or_else(String::new, |m| format!(", with {m}"))
    ))
}

/// The quality a rate-controlled file was coded at: for a variable-rate (hyperprior) model the
/// fraction between levels that its header's rate setting stands for (to 1/100; the rate
/// setting itself has steps of 3/256 of a level) where the network codes the level's own
/// rate, else the whole level.
fn coded_quality(codec: &dyn PhotoCodec, bytes: &[u8], level: u8) -> String {
    if codec.family().architecture != aec::codec::hyper::ARCH_HYPERPRIOR {
        return level.to_string();
    }
    let (Ok(file), Ok(first), Ok(second)) = (aec::format::SectionFile::parse(bytes, &Limits::largest()), codec.level_info(1), codec.level_info(2)) else {
        return level.to_string();
    };
    let quality = 1.0 + (f64::from(file.header.rate) / 256.0 - first.rate) / (second.rate - first.rate);
    // With a residual layer the network's rate stops below the top levels: the header then
    // records that rate and, as the quality, the whole level nearest the one coded.
    if quality.round() as u8 != file.header.quality {
        return file.header.quality.to_string();
    }
    format!("{quality:.2}")
}

/// "ICC profile (N bytes) and EXIF (M bytes)", or `None` for no metadata.
fn metadata_summary(metadata: &Metadata) -> Option<String> {
    let parts: Vec<String> = [("ICC profile", &metadata.icc), ("EXIF", &metadata.exif)]
        .into_iter()
        .filter_map(|(what, data)| data.as_ref().map(|d| format!("{what} ({} bytes)", d.len())))
        .collect();
    (!parts.is_empty()).then(|| parts.join(" and "))
}

/// A `--quality` that must be a whole level (every model but a variable-rate one).
fn whole_quality(quality: Option<f64>) -> Result<Option<u8>> {
    match quality {
        Some(q) if q.fract() != 0.0 || !(0.0..=255.0).contains(&q) => Err(aec::Error::InvalidArgument(format!(
            "quality {q}: this model's levels are whole numbers (`aec levels` lists them); fractions need a variable-rate (hyperprior) model"
        ))
        .into()),
        q => Ok(q.map(|q| q as u8)),
    }
}

/// Refuses to write over the input, and binary data to a terminal (as zstd does).
fn check_not_same(input: &Path, output: &Path) -> Result<()> {
    if output == Path::new("-") {
        if std::io::stdout().is_terminal() {
            return Err(aec::Error::InvalidArgument("refusing to write binary .aec data to a terminal: use -o FILE or a pipe".into()).into());
        }
        return Ok(());
    }
    let same = input != Path::new("-") && output.exists() && std::fs::canonicalize(input).ok() == std::fs::canonicalize(output).ok();
    if same {
        return Err(aec::Error::InvalidArgument(format!("the output {} is the input: choose another -o", output.display())).into());
    }
    Ok(())
}

/// `aec compress --model mnist-...`: a gray digit through a tutorial autoencoder.
fn compress_digit(codec: &DigitCodec, picture: &DynamicImage, input: &Path, output: &Path, quality: u8, force: bool) -> Result<String> {
    let encoded = codec.encode(picture, quality)?;
    write_output(output, &encoded, force)?;
    Ok(format!(
        "{} ({}x{}, gray) -> {}: {} bytes, mnist {} model, quality {quality}",
        input.display(),
        picture.width(),
        picture.height(),
        output.display(),
        encoded.len(),
        codec.arch().name()
    ))
}

pub(super) fn format_for(path: &Path) -> Result<ImageFormat> {
    if path == Path::new("-") {
        return Ok(ImageFormat::Png);
    }
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    match ext.as_str() {
        "png" => Ok(ImageFormat::Png),
        "ppm" | "pnm" | "pgm" => Ok(ImageFormat::Pnm),
        "jpg" | "jpeg" => Ok(ImageFormat::Jpeg),
        _ => Err(aec::Error::InvalidArgument(format!("cannot tell the output format of {}: use .png, .ppm/.pgm or .jpg", path.display())).into()),
    }
}

/// Encodes a picture to PNG, binary PPM/PGM (P6/P5, which every tool reads) or JPEG bytes at
/// `jpeg_quality`. Alpha cannot go into PPM or JPEG: it is dropped, with a note on stderr.
/// The ICC profile and EXIF data in `metadata` go into PNG and JPEG output; PPM cannot hold
/// them (noted on stderr).
pub(super) fn encode_picture(picture: &DynamicImage, format: ImageFormat, path: &Path, jpeg_quality: u8, metadata: &Metadata) -> Result<Vec<u8>> {
    use image::ImageEncoder;
    use image::codecs::pnm::{PnmEncoder, PnmSubtype, SampleEncoding};
    let flat = matches!(format, ImageFormat::Jpeg | ImageFormat::Pnm);
    if flat && picture.color().has_alpha() {
        eprintln!("aec: note: {} cannot hold transparency: the alpha channel is dropped (write .png to keep it)", path.display());
    }
    if format == ImageFormat::Pnm && !metadata.is_empty() {
        eprintln!("aec: note: {} cannot hold the ICC profile and EXIF data the file keeps (write .png or .jpg to keep them)", path.display());
    }
    // PNG takes the picture as it is; PPM and JPEG take gray or RGB.
    let flattened;
    let picture = match (format, picture.color().has_color()) {
        (ImageFormat::Png, _) => picture,
        (_, false) => {
            flattened = DynamicImage::ImageLuma8(picture.to_luma8());
            &flattened
        }
        (_, true) => {
            flattened = DynamicImage::ImageRgb8(picture.to_rgb8());
            &flattened
        }
    };
    let mut out = Vec::new();
    let result = match format {
        ImageFormat::Pnm => {
            let subtype = if picture.color().has_color() { PnmSubtype::Pixmap(SampleEncoding::Binary) } else { PnmSubtype::Graymap(SampleEncoding::Binary) };
            PnmEncoder::new(&mut out).with_subtype(subtype).write_image(picture.as_bytes(), picture.width(), picture.height(), picture.color().into())
        }
        ImageFormat::Jpeg => write_with_metadata(image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, jpeg_quality), picture, metadata),
        _ => write_with_metadata(image::codecs::png::PngEncoder::new(&mut out), picture, metadata),
    };
    result.map_err(|e| aec::Error::image(path, e))?;
    Ok(out)
}

/// Writes a picture through `encoder` with the ICC profile and EXIF data of `metadata` (PNG
/// and JPEG encoders take both; one that refuses them still writes the pixels).
fn write_with_metadata(mut encoder: impl image::ImageEncoder, picture: &DynamicImage, metadata: &Metadata) -> image::ImageResult<()> {
    if let Some(icc) = &metadata.icc {
        let _ = encoder.set_icc_profile(icc.clone());
    }
    if let Some(exif) = &metadata.exif {
        let _ = encoder.set_exif_metadata(exif.clone());
    }
    encoder.write_image(picture.as_bytes(), picture.width(), picture.height(), picture.color().into())
}

/// `aec decompress`.
pub fn decompress(args: DecompressArgs) -> Result<()> {
    let model = args.model.as_deref().map(|m| AnyCodec::open_on(m, super::device())).transpose()?;
    super::batch::run(&args.inputs, args.output.as_deref(), "png", |input, output| decompress_file(&args, model.as_ref(), input, output))
}

/// Decompresses one file with `model`, or else the built-in model the file names; returns the
/// line that reports it.
fn decompress_file(args: &DecompressArgs, model: Option<&AnyCodec>, input: &Path, output: &Path) -> Result<String> {
    let format = format_for(output)?;
    check_writable(output, args.force)?;
    let bytes = read_input(input, max_aec_bytes(args.max_pixels))?;
    let limits = Limits { max_pixels: args.max_pixels, max_latent_values: args.max_pixels, ..Limits::default() };
    let file = ParsedFile::parse(&bytes, &limits).map_err(aec::Error::from)?;
    let (width, height) = file.size();
    // A restoration filter and a residual layer run after the synthesis has freed its buffers:
    // they do not raise the peak (a 3.5-megapixel file: 92 MB with them, 96 MB without).
    check_memory(u64::from(width) * u64::from(height), Extra::default(), args.max_memory)?;
    super::memory::reuse_freed_memory_for(u64::from(width) * u64::from(height), args.inputs.len() == 1);
    let found;
    let codec = match model {
        Some(model) => model,
        None => {
            found = AnyCodec::for_parsed_on(&file, super::device())?;
            &found
        }
    };
    let started = Instant::now();
    let picture = codec.decode_parsed(&file, &limits)?;
    let elapsed = started.elapsed();
    let metadata = if args.strip { Metadata::default() } else { file.metadata() };
    write_output(output, &encode_picture(&picture, format, output, args.jpeg_quality, &metadata)?, args.force)?;
    Ok(format!("{} -> {} ({}x{}), {:.2} s", input.display(), output.display(), picture.width(), picture.height(), elapsed.as_secs_f64()))
}

/// `aec info`.
pub fn info(args: InfoArgs) -> Result<()> {
    let bytes = read_input(&args.input, max_aec_bytes(Limits::default().max_pixels))?;
    if aec::format::version_of(&bytes).map_err(aec::Error::from)? == aec::format::VERSION_2 {
        return info_v2(&args.input, &bytes);
    }
    let file = AecFile::parse(&bytes, &Limits::default()).map_err(aec::Error::from)?;
    let h = file.header;
    let pixels = f64::from(h.width) * f64::from(h.height);
    println!("file:          {}", args.input.display());
    println!("format:        .aec version {}", aec::format::VERSION);
    println!("size:          {} x {} ({:?}, {} bits per sample)", h.width, h.height, h.color, h.bit_depth);
    println!("bytes:         {} ({:.4} bits per pixel)", bytes.len(), bytes.len() as f64 * 8.0 / pixels);
    println!("quality:       {} (quantization step {:.3})", h.quality, f64::from(h.quant_step) / 256.0);
    println!("coder:         {:?}", h.coder);
    println!("latents:       {} x {} x {} ({} bytes)", h.latent.channels, h.latent.height, h.latent.width, h.latent_len);
    if h.alpha_len > 0 {
        println!("alpha:         {} bytes (lossless)", h.alpha_len);
    }
    println!("metadata:      none (version-1 files cannot hold any)");
    println!("model:         architecture {} weights {:016x}{}", h.model.architecture, h.model.weights_hash, model_note(h.model));
    Ok(())
}

/// What `aec info` says of the model that made a file.
fn model_note(model: ModelId) -> String {
    use aec::codec::registry::{builtin_photo_by_id, family_of};
    if let Some(arch) = aec::codec::digits::arch_of(model.architecture) {
        return format!(" (an mnist {} model)", arch.name());
    }
    if let Some(builtin) = aec::codec::registry::builtin_hyper_by_id(model) {
        return match std::ptr::eq(builtin, aec::codec::registry::default_hyper()) {
            true => format!(" (the built-in hyperprior {}, the default model)", builtin.name),
            false => format!(" (the built-in hyperprior {}, a former default model: this aec decodes its files)", builtin.name),
        };
    }
    match (builtin_photo_by_id(model), family_of(model.architecture)) {
        (Some(builtin), _) => format!(" (the built-in version-1 photo model {}, λ={}: this aec decodes its files)", builtin.name, builtin.lambda),
        (None, Some(family)) => format!(" ({}, not built in)", family.description),
        (None, None) => " (an architecture this aec does not know)".to_string(),
    }
}

/// `aec info` for a version-2 file: header and sections.
fn info_v2(input: &Path, bytes: &[u8]) -> Result<()> {
    let file = aec::format::SectionFile::parse(bytes, &Limits::default()).map_err(aec::Error::from)?;
    let h = file.header;
    let pixels = f64::from(h.width) * f64::from(h.height);
    println!("file:          {}", input.display());
    println!("format:        .aec version {}", aec::format::VERSION_2);
    println!("size:          {} x {} ({:?}, 8 bits per sample)", h.width, h.height, h.color);
    println!("bytes:         {} ({:.4} bits per pixel)", bytes.len(), bytes.len() as f64 * 8.0 / pixels);
    let rate = aec::codec::registry::family_of(h.model.architecture).map_or("rate field", |f| f.rate_meaning);
    // Above the rate where a hyperprior's network stops, a residual layer codes the rest.
    let residual = if file.section(aec::format::SectionKind::Residual).is_some() { "; the network's, a residual layer codes the rest" } else { "" };
    println!("quality:       {} ({rate}: {:.3}{residual})", h.quality, f64::from(h.rate) / 256.0);
    println!("coder:         {:?}", h.coder);
    for (kind, data) in &file.sections {
        println!("section:       {kind:?}, {} bytes", data.len());
    }
    println!("metadata:      {}", metadata_summary(&Metadata::of(&file)).as_deref().unwrap_or("none"));
    println!("model:         architecture {} weights {:016x}{}", h.model.architecture, h.model.weights_hash, model_note(h.model));
    Ok(())
}

/// The size in bytes and the PSNR of a picture coded at every level of a scale (each level
/// encoded and decoded), with a progress bar.
fn level_sizes_and_psnrs(scale: &dyn PhotoCodec, picture: &DynamicImage) -> Result<Vec<(usize, f64)>> {
    let original = aec::bench::pixels_of(picture).samples;
    let bar = aec::progress::bar(scale.max_quality().into(), true);
    bar.set_prefix("measuring PSNR ");
    let psnrs = (1..=scale.max_quality())
        .map(|quality| {
            let coded = aec::bench::aec_coded(scale, picture, &EncodeOptions { quality, ..EncodeOptions::default() })?;
            bar.inc(1);
            Ok((coded.bytes, aec::metrics::psnr(&original, &coded.decoded)))
        })
        .collect::<aec::Result<Vec<_>>>()?;
    bar.finish_and_clear();
    Ok(psnrs)
}

/// A positive number to three significant digits, without trailing zeros (0.0178, 0.0003).
fn three_digits(value: f64) -> String {
    if !(value.is_finite() && value > 0.0) {
        return value.to_string();
    }
    let decimals = (2 - value.log10().floor() as i32).clamp(0, 12) as usize;
    let text = format!("{value:.decimals$}");
    if text.contains('.') { text.trim_end_matches('0').trim_end_matches('.').to_string() } else { text }
}

/// `aec levels`.
pub fn levels(args: LevelsArgs) -> Result<()> {
    let codec = load_photo(&args.model)?;
    let picture = args.picture.as_deref().map(|p| read_picture(p, Limits::default().max_pixels)).transpose()?;
    let measured = picture.as_ref().map(|p| level_sizes_and_psnrs(codec.as_ref(), p)).transpose()?;
    let pixels = picture.as_ref().map_or(1.0, |p| f64::from(p.width()) * f64::from(p.height()));
    let rate = codec.family().rate_label;
    println!("{:>7}  {:<16} {:>8}  {rate:>5}{}", "quality", "model", "λ", if measured.is_some() { "      bytes     bpp    PSNR" } else { "" });
    for quality in 1..=codec.max_quality() {
        let info = codec.level_info(quality)?;
        let name = if Path::new(&args.model).is_file() { args.model.clone() } else { info.model };
        let lambda = info.lambda.map_or_else(|| "-".to_string(), three_digits);
        let size = match &measured {
            Some(m) => {
                let (bytes, psnr) = m[usize::from(quality) - 1];
                format!(" {bytes:>10} {:>7.4} {psnr:>7.2}", bytes as f64 * 8.0 / pixels)
            }
            None => String::new(),
        };
        let mark = if quality == codec.default_quality() { "  (default)" } else { "" };
        println!("{quality:>7}  {name:<16} {lambda:>8}  {:>5.3}{size}{mark}", info.rate);
    }
    Ok(())
}

/// `aec train`.
pub fn train(args: TrainArgs) -> Result<()> {
    let arch = match args.arch {
        ArchArg::Photo => return train_photo(args),
        ArchArg::Hyper => return train_hyper(args),
        ArchArg::Dense => DigitArch::Dense,
        ArchArg::Deep => DigitArch::Deep,
        ArchArg::Conv => DigitArch::Conv,
        ArchArg::Denoise => DigitArch::Denoise,
        ArchArg::Vae => DigitArch::Vae,
        ArchArg::Colorize => return super::colorize::train(args),
    };
    if args.export_only {
        return Err(aec::Error::InvalidArgument("--export-only is for photo models: MNIST runs write their model when they finish".into()).into());
    }
    let data = args.data.context("--data is required")?;
    let out = args.out.unwrap_or_else(|| PathBuf::from(format!("models/mnist/{}.bpk", arch.name())));
    let mnist = aec::mnist::Mnist::load(&data)?;
    let config = DigitTrainConfig::new(arch)
        .with_epochs(args.epochs)
        .with_batch(args.batch.unwrap_or(128))
        .with_lr(args.lr.unwrap_or(1e-3))
        .with_lr_final(args.lr_final)
        .with_noise(if arch == DigitArch::Denoise { args.noise } else { 0.0 })
        .with_init_from(args.init_from.map(|path| InitFrom { path, epochs: args.init_epochs }));
    eprintln!("training mnist {} on {} digits ({} held out for validation), {} epochs", arch.name(), mnist.train.len(), config.validation, config.epochs);
    let logs = aec::train::digits::train(&config, &mnist, &out, &super::device(), true)?;
    let last = logs.last().expect("at least one epoch");
    eprintln!(
        "wrote {}: validation MSE {:.5} ({:.2} dB) after {} epochs, {:.0} s",
        out.display(),
        last.validation_mse,
        aec::metrics::psnr_from_mse(last.validation_mse * 255.0 * 255.0),
        last.epoch,
        last.seconds
    );
    Ok(())
}

fn train_photo(args: TrainArgs) -> Result<()> {
    let out = args.out.context("--out is required")?;
    if args.export_only {
        let step = aec::train::factorized::export_checkpoint(&out)?;
        eprintln!("wrote {} from the checkpoint at step {step}", out.display());
        return Ok(());
    }
    let data = args.data.context("--data is required")?;
    // A resumed run continues with its checkpoint's settings, except those given again.
    let mut config = if args.resume {
        CheckpointDir::for_model(&out).load_state::<FactorizedTrainConfig>()?
    } else {
        FactorizedTrainConfig::new(FactorizedConfig::new().with_hidden(args.hidden).with_latent(args.latent))
    };
    override_with(&mut config.lambda, args.lambda);
    override_with(&mut config.lr, args.lr);
    override_with(&mut config.steps, args.steps);
    override_with(&mut config.batch, args.batch);
    override_with(&mut config.patch, args.patch);
    let options = run_options(data, out, &args.init_from, args.resume, args.max_minutes, args.checkpoint_minutes);
    let summary = aec::train::factorized::train(config, &options)?;
    eprintln!("stopped at step {}: {}; model written to {}", summary.step, aec::train::run::describe_logged(summary.last), options.out.display());
    Ok(())
}

fn train_hyper(args: TrainArgs) -> Result<()> {
    let out = args.out.context("--out is required")?;
    if args.export_only {
        let step = aec::train::hyperprior::export_checkpoint(&out, args.hsi_bits)?;
        eprintln!("wrote {} from the checkpoint at step {step}", out.display());
        return Ok(());
    }
    let data = args.data.context("--data is required")?;
    // A resumed run continues with its checkpoint's model and settings, except those given again.
    let mut config = if args.resume {
        CheckpointDir::for_model(&out).load_state::<HyperTrainConfig>()?
    } else {
        let model = HyperpriorConfig::new(args.lambdas)
            .with_hidden(args.hidden)
            .with_synthesis_hidden(args.synthesis_hidden)
            .with_latent(args.latent)
            .with_hyper_hidden(args.hyper_hidden)
            .with_hyper_latent(args.hyper_latent);
        HyperTrainConfig::new(model)
    };
    override_with(&mut config.lr, args.lr);
    override_with(&mut config.lr_final, args.lr_final);
    override_with(&mut config.steps, args.steps);
    override_with(&mut config.batch, args.batch);
    override_with(&mut config.patch, args.patch);
    override_with(&mut config.decay_from, args.decay_from);
    if args.hsi_bits.is_some() {
        config.hsi_bits = args.hsi_bits;
    }
    let summary = aec::train::hyperprior::train(config, &run_options(data, out, &args.init_from, args.resume, args.max_minutes, args.checkpoint_minutes))?;
    eprintln!("stopped at step {}: {}, averaged over the levels", summary.step, aec::train::run::describe_logged(summary.last));
    Ok(())
}

/// Replaces a setting with the value given on the command line, if any.
fn override_with<T>(setting: &mut T, given: Option<T>) {
    if let Some(value) = given {
        *setting = value;
    }
}

fn run_options(data: PathBuf, out: PathBuf, init_from: &Option<PathBuf>, resume: bool, max_minutes: Option<f64>, checkpoint_minutes: f64) -> RunOptions {
    RunOptions {
        data,
        out,
        resume,
        init_from: init_from.clone(),
        max_time: max_minutes.map(|m| Duration::from_secs_f64(m * 60.0)),
        checkpoint_every: Duration::from_secs_f64(checkpoint_minutes * 60.0),
        device: super::device(),
    }
}

/// `aec bench`.
pub fn bench(args: BenchArgs) -> Result<()> {
    for path in args.csv.iter().chain(&args.plot) {
        check_writable(path, args.force)?;
    }
    let codec = load_photo(&args.model)?;
    let pictures = aec::bench::load_pictures(&args.input)?;
    let mut tools = Vec::new();
    for (tool, left_out) in [(Tool::Cjpeg, args.no_cjpeg), (Tool::Cwebp, args.no_cwebp)] {
        if args.aec_only || left_out {
            continue;
        }
        if tool.available() {
            tools.push(tool);
        } else {
            eprintln!("note: `{}` is not installed, so the {} rows are left out (Debian: apt-get install {})", tool.command(), tool.codec(), tool.package());
        }
    }
    if let Some(&level) = args.levels.iter().find(|&&l| l == 0 || l > codec.max_quality()) {
        return Err(aec::Error::InvalidArgument(format!("--levels: {level} is not a level of this model (1 to {})", codec.max_quality())).into());
    }
    let levels = if args.levels.is_empty() { (1..=codec.max_quality()).collect() } else { args.levels.clone() };
    let options = aec::bench::BenchOptions {
        jobs: args.jobs,
        tools,
        baselines: !args.aec_only,
        progress: !args.json,
        levels,
        refinement: Refinement::steps(args.refine),
        restoration: !args.no_restoration,
        residual: !args.no_residual,
    };
    let records = aec::bench::run(codec.as_ref(), &pictures, &options)?;
    let summary = aec::bench::report::summarize(&records);
    if args.json {
        let json = serde_json::json!({ "summary": summary, "records": records });
        println!("{}", serde_json::to_string_pretty(&json)?);
    } else {
        print!("{}", aec::bench::report::table(&summary, pictures.len()));
        if args.refine > 0 {
            println!("aec file size vs the entropy model's estimate: not compared (the estimate is of the latents before --refine)");
        }
        if let Some(aec_default) = summary.points.iter().find(|p| p.codec == "aec" && p.quality == codec.default_quality()) {
            for anchor in ["jpeg", "cjpeg"] {
                if let Some(psnr) = aec::bench::report::psnr_at(&summary, anchor, aec_default.bpp) {
                    println!(
                        "aec default quality: {:.4} bpp, {:.2} dB; {anchor} at the same bpp: {psnr:.2} dB ({:+.2} dB)",
                        aec_default.bpp,
                        aec_default.psnr,
                        aec_default.psnr - psnr
                    );
                }
            }
        }
    }
    if let Some(path) = &args.csv {
        write_output(path, aec::bench::report::csv(&records).as_bytes(), args.force)?;
    }
    if let Some(path) = &args.plot {
        let title = format!("{} ({} pictures)", args.input.display(), pictures.len());
        let tmp = path.with_extension("svg.tmp");
        aec::bench::plot::rd_plot(&summary, &title, &tmp)?;
        let svg = std::fs::read(&tmp).with_context(|| format!("reading {}", tmp.display()))?;
        std::fs::remove_file(&tmp).ok();
        write_output(path, &svg, args.force)?;
    }
    Ok(())
}

/// `aec compare`.
pub fn compare(args: CompareArgs) -> Result<()> {
    if args.original == Path::new("-") && args.other == Path::new("-") {
        return Err(aec::Error::InvalidArgument("only one of the two pictures can come from standard input".into()).into());
    }
    let (a, b) = (read_picture(&args.original, args.max_pixels)?, read_picture(&args.other, args.max_pixels)?);
    if (a.width(), a.height()) == (b.width(), b.height()) {
        let (pa, pb) = (aec::bench::pixels_of(&a), aec::bench::pixels_of(&b));
        let channels = pa.channels.max(pb.channels);
        let (sa, sb) = if channels == 3 { (a.to_rgb8().into_raw(), b.to_rgb8().into_raw()) } else { (pa.samples, pb.samples) };
        let psnr = aec::metrics::psnr(&sa, &sb);
        let ms = aec::metrics::ms_ssim(&sa, &sb, pa.width, pa.height, channels);
        println!("PSNR {psnr:.2} dB, MS-SSIM {}", ms.map_or_else(|| "- (picture too small)".to_string(), |m| format!("{m:.4}")));
        Ok(())
    } else {
        Err(aec::Error::InvalidArgument(format!("the pictures differ in size: {}x{} and {}x{}", a.width(), a.height(), b.width(), b.height())).into())
    }
}

/// `aec denoise`.
pub fn denoise(args: DenoiseArgs) -> Result<()> {
    let format = format_for(&args.output)?;
    check_writable(&args.output, args.force)?;
    let codec = match AnyCodec::open_on(&args.model, super::device())? {
        AnyCodec::Digits(codec) => codec,
        AnyCodec::Photo(_) => {
            return Err(aec::Error::InvalidArgument(format!("{} is not an MNIST model", args.model)).into());
        }
    };
    let picture = read_picture(&args.input, Limits::default().max_pixels)?;
    let cleaned = codec.denoise(&picture)?;
    write_output(&args.output, &encode_picture(&cleaned, format, &args.output, 90, &Metadata::default())?, args.force)?;
    eprintln!("{} -> {} ({}x{}, mnist {} model)", args.input.display(), args.output.display(), cleaned.width(), cleaned.height(), codec.arch().name());
    Ok(())
}

/// `aec eval-mnist`.
pub fn eval_mnist(args: EvalMnistArgs) -> Result<()> {
    if let Some(grid) = &args.grid {
        check_writable(grid, args.force)?;
    }
    let mut models = Vec::new();
    for name in aec::codec::registry::builtin_names().into_iter().filter(|n| n.starts_with("mnist-")) {
        let codec = match &args.models {
            Some(dir) => DigitCodec::from_files(&dir.join(format!("{}.bpk", name.trim_start_matches("mnist-"))), super::device())?,
            None => aec::codec::registry::builtin_digits_on(name, super::device())?,
        };
        models.push((name.to_string(), codec));
    }
    let mut test = aec::mnist::Mnist::load(&args.data)?.test;
    if let Some(limit) = args.limit {
        test = test.slice(0, limit.clamp(1, test.len()));
    }
    let report = aec::bench::digits::evaluate(&models, &test, args.quality)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report.rows)?);
    } else {
        print!("{}", aec::bench::digits::table(&report.rows, test.len(), args.quality));
    }
    for (name, codec) in models.iter().filter(|(_, c)| c.arch() == DigitArch::Vae) {
        let elbo = aec::codec::vae::negative_elbo(codec, &test, 1)?;
        println!(
            "{name}: negative ELBO {:.2} nats per test digit (reconstruction {:.2} + KL {:.2}; one posterior sample per digit, seed 1)",
            elbo.total(),
            elbo.reconstruction,
            elbo.kl
        );
    }
    if let Some(path) = &args.grid {
        write_output(path, &aec::bench::digits::grid_png(&report.grid), args.force)?;
        let rows: Vec<&str> = report.grid.iter().map(|(label, _)| label.as_str()).collect();
        eprintln!("grid written to {} (rows: {})", path.display(), rows.join(" / "));
    }
    Ok(())
}
