//! The `aec` binary's command-line arguments (clap derive).
//!
//! A crate of its own so that the dist build can optimise this code for size (clap's derived
//! builders are ~0.3 MB of code at `opt-level = 3`); it depends on clap alone, so the few
//! defaults it shares with the library are constants here, checked against the library's by a
//! test of the binary.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// The default of `--max-pixels`: `aec::format::Limits::default().max_pixels`.
pub const DEFAULT_MAX_PIXELS: u64 = 1 << 25;
/// The default quality of the digit models: `aec::codec::digits::DIGIT_DEFAULT_QUALITY`.
pub const DIGIT_DEFAULT_QUALITY: u8 = 4;

/// A learned lossy image codec.
#[derive(Parser)]
#[command(name = "aec", version, about, long_about = None, after_help = "\
Examples:
  aec compress photo.png                  # writes photo.aec
  aec compress photo.png -o small.aec -q 2
  aec decompress small.aec -o back.png
  aec info small.aec
  aec levels photo.png                    # what each -q gives this photo
  cat photo.png | aec compress - -o - > photo.aec
  aec train --data ../shared/datasets/train --out models/mine.bpk --steps 20000
  aec compress digit.png --model mnist-conv -o digit.aec
  aec denoise noisy-digit.png -o clean.png
  aec eval-mnist --data ../shared/datasets/mnist --grid grid.png
  aec encode digit.png --model mnist-deep -o code.npy
  aec sample -n 64 -o new-digits.png")]
pub struct Cli {
    /// The burn backend for the networks that burn runs: training, the MNIST models, the
    /// colouriser and the hyperprior's hyper-analysis. The photo transforms always run on aec's
    /// own inference layer, whatever the backend.
    #[arg(long, global = true, value_enum, default_value_t = BackendArg::Flex)]
    pub backend: BackendArg,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The burn backends this build can run the networks on.
#[derive(Clone, Copy, ValueEnum)]
pub enum BackendArg {
    /// burn's flex CPU backend (pure Rust, SIMD, both cores).
    Flex,
    /// burn's ndarray CPU backend (built with `--features ndarray`): the reference that
    /// the tests compare flex with.
    #[cfg(feature = "ndarray")]
    Ndarray,
    /// burn's Vulkan GPU backend (built with `--features vulkan`): for `aec train` on a GPU;
    /// wgpu's best adapter (a discrete GPU first; `CUBECL_WGPU_DEFAULT_DEVICE` picks another).
    #[cfg(feature = "vulkan")]
    Vulkan,
}

/// The subcommands.
#[derive(Subcommand)]
pub enum Command {
    /// Compress a PNG/JPEG/PPM picture into an .aec file.
    Compress(CompressArgs),
    /// Decompress an .aec file into PNG, PPM or JPEG (by the output's extension).
    Decompress(DecompressArgs),
    /// Show the header of an .aec file: size, colour model, quality, bits per pixel, model.
    Info(InfoArgs),
    /// List the photographic quality levels: model, λ, rate setting (or quantization step),
    /// and with a picture the size and PSNR each level gives it.
    Levels(LevelsArgs),
    /// Train a model on a folder of images (checkpoints and --resume included).
    Train(TrainArgs),
    /// Compare aec with JPEG, WebP, PNG, gzip and zstd on a folder of pictures.
    Bench(BenchArgs),
    /// PSNR and MS-SSIM between two pictures of the same size.
    Compare(CompareArgs),
    /// Remove noise from a gray digit with the MNIST denoising autoencoder.
    Denoise(DenoiseArgs),
    /// Measure the MNIST autoencoders on the test digits against gzip, PNG and JPEG.
    EvalMnist(EvalMnistArgs),
    /// Write the encoder's codes (features) of pictures or MNIST digits as .npy or CSV.
    Encode(EncodeArgs),
    /// Measure codes as features: k-nearest-neighbour accuracy on MNIST, and a 2-D map.
    EvalFeatures(EvalFeaturesArgs),
    /// Draw new digits with the MNIST variational autoencoder, or morph one digit into another.
    Sample(SampleArgs),
    /// Colour a gray picture (a colour one is made gray first) with the colourisation network.
    Colorize(ColorizeArgs),
}

/// `aec colorize`.
#[derive(Args)]
#[command(
    after_help = "Examples:\n  aec colorize gray.png -o colour.png\n  aec colorize --eval ../shared/datasets/eval            # chroma error against the photos' own colours\n  aec colorize --eval ../shared/datasets/eval --before-after docs/colorize-before-after.png --force"
)]
pub struct ColorizeArgs {
    /// The picture to colour (PNG, JPEG, ...), or - for standard input.
    #[arg(required_unless_present = "eval")]
    pub input: Option<PathBuf>,
    /// Output picture (.png, .ppm or .jpg), or - for PNG on standard output.
    #[arg(short, long, required_unless_present = "eval")]
    pub output: Option<PathBuf>,
    /// Instead: make every photo of this folder gray, colour it, and measure the chroma error
    /// and PSNR against the photo, beside those of the gray picture.
    #[arg(long, conflicts_with_all = ["input", "output"])]
    pub eval: Option<PathBuf>,
    /// With --eval: also write gray | colourised | original of the first photo, side by side.
    #[arg(long, requires = "eval")]
    pub before_after: Option<PathBuf>,
    /// Weights written by `aec train --arch colorize` [default: the built-in network].
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Largest picture accepted, in pixels.
    #[arg(long, default_value_t = DEFAULT_MAX_PIXELS)]
    pub max_pixels: u64,
    /// Overwrite the output if it exists.
    #[arg(short, long)]
    pub force: bool,
}

/// `aec encode`.
#[derive(Args)]
#[command(after_help = "\
Output: float32 codes, one per picture, as a NumPy .npy array of shape [N, C] for the codes that
are vectors (mnist-dense, mnist-deep: C = 64; mnist-vae: C = 16, the posterior mean) or
[N, C, H, W] for maps (mnist-conv: 32 x H/4 x W/4; photo models: the latents, C x H/16 x W/16
of the picture padded to a multiple of 16, 64 for the hyperprior). With --csv: a header line,
then one line per picture: its name, its label (MNIST) and the values in C order. For an MNIST
images file whose labels file lies beside it, the labels go to OUT-labels.npy as well.

Examples:
  aec encode digit.png --model mnist-deep -o code.npy
  aec encode ../shared/datasets/mnist/t10k-images-idx3-ubyte.gz --model mnist-dense -o test.npy
  aec encode a.png b.png --model mnist-vae -o codes.csv --csv
  aec encode photos/ -o latents.npy              # photos of one size, built-in photo model")]
pub struct EncodeArgs {
    /// Pictures, folders of pictures, or MNIST IDX images files (NAME-idx3-ubyte[.gz]).
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// Output file (.npy, or CSV with --csv).
    #[arg(short, long)]
    pub output: PathBuf,
    /// Write CSV instead of .npy.
    #[arg(long)]
    pub csv: bool,
    /// A built-in model (default, mnist-dense, mnist-deep, mnist-conv, mnist-vae, ...) or model
    /// files written by `aec train`.
    #[arg(long, default_value = "default")]
    pub model: String,
    /// Largest picture accepted, in pixels.
    #[arg(long, default_value_t = DEFAULT_MAX_PIXELS)]
    pub max_pixels: u64,
    /// Overwrite the output if it exists.
    #[arg(short, long)]
    pub force: bool,
}

/// `aec eval-features`.
#[derive(Args)]
#[command(
    after_help = "Examples:\n  aec eval-features --data ../shared/datasets/mnist\n  aec eval-features --data ../shared/datasets/mnist --map docs/mnist-codes-pca.svg --force\n  aec eval-features --data ../shared/datasets/mnist --limit 1000 --k 3"
)]
pub struct EvalFeaturesArgs {
    /// Folder of the MNIST IDX files (the 60000 training digits are the neighbours, the test
    /// digits are classified).
    #[arg(long)]
    pub data: PathBuf,
    /// Neighbours that vote.
    #[arg(long, default_value_t = 5)]
    pub k: usize,
    /// Classify only the first N test digits.
    #[arg(long)]
    pub limit: Option<usize>,
    /// Draw the codes of the first 2000 test digits (first two principal components, coloured
    /// by digit) into this SVG.
    #[arg(long)]
    pub map: Option<PathBuf>,
    /// The built-in model whose codes --map draws.
    #[arg(long, default_value = "mnist-deep")]
    pub map_model: String,
    /// Overwrite --map if it exists.
    #[arg(short, long)]
    pub force: bool,
}

/// `aec sample`.
#[derive(Args)]
#[command(
    after_help = "Examples:\n  aec sample -n 64 -o grid.png                      # 64 new digits from the prior\n  aec sample -n 64 --seed 7 -o grid.png --force\n  aec sample --between 0,1 --data ../shared/datasets/mnist -o morph.png   # test digit 0 to test digit 1"
)]
pub struct SampleArgs {
    /// Output picture (.png, .ppm or .jpg), or - for PNG on standard output.
    #[arg(short, long)]
    pub output: PathBuf,
    /// The variational autoencoder: mnist-vae or a model of `aec train --arch vae`.
    #[arg(long, default_value = "mnist-vae")]
    pub model: String,
    /// How many digits to draw (in rows of up to 8).
    #[arg(short = 'n', long, default_value_t = 64)]
    pub count: usize,
    /// Seed of the codes drawn from the prior: the same seed gives the same digits.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Instead of sampling, walk in code space from test digit I to test digit J (indices in
    /// the MNIST test set of --data).
    #[arg(long, value_delimiter = ',', requires = "data", value_name = "I,J")]
    pub between: Option<Vec<usize>>,
    /// Folder of the MNIST IDX files (for --between).
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Digits on the walk of --between, both ends included.
    #[arg(long, default_value_t = 10)]
    pub steps: usize,
    /// Overwrite the output if it exists.
    #[arg(short, long)]
    pub force: bool,
}

/// `aec denoise`.
#[derive(Args)]
#[command(after_help = "Examples:\n  aec denoise noisy-digit.png -o clean.png\n  aec denoise noisy.png --model mnist-denoise-0.25 -o clean.png")]
pub struct DenoiseArgs {
    /// Noisy gray picture (PNG/JPEG/PPM; colour is converted to gray), or - for standard input.
    pub input: PathBuf,
    /// Output picture (.png, .ppm or .jpg), or - for PNG on standard output.
    #[arg(short, long)]
    pub output: PathBuf,
    /// A built-in MNIST model (mnist-denoise for noise of σ=0.5, mnist-denoise-0.25 for
    /// σ=0.25) or a model written by `aec train --arch denoise`.
    #[arg(long, default_value = "mnist-denoise")]
    pub model: String,
    /// Overwrite the output if it exists.
    #[arg(short, long)]
    pub force: bool,
}

/// `aec eval-mnist`.
#[derive(Args)]
#[command(
    after_help = "Examples:\n  aec eval-mnist --data ../shared/datasets/mnist\n  aec eval-mnist --data ../shared/datasets/mnist --grid docs/mnist-grid.png --force\n  aec eval-mnist --data ../shared/datasets/mnist --models models/mnist --limit 1000"
)]
pub struct EvalMnistArgs {
    /// Folder of the MNIST IDX files (t10k-images-idx3-ubyte[.gz] and labels are used).
    #[arg(long)]
    pub data: PathBuf,
    /// Folder of models written by `aec train --arch ...` (dense.bpk, deep.bpk, conv.bpk,
    /// denoise.bpk, denoise-0.25.bpk, vae.bpk) [default: the built-in models].
    #[arg(long)]
    pub models: Option<PathBuf>,
    /// Use only the first N test digits.
    #[arg(long)]
    pub limit: Option<usize>,
    /// Quality level (1..7) the models' files are made at.
    #[arg(short, long, default_value_t = DIGIT_DEFAULT_QUALITY)]
    pub quality: u8,
    /// Save a grid of originals, noisy inputs and reconstructions to this PNG.
    #[arg(long)]
    pub grid: Option<PathBuf>,
    /// Print the rows as JSON instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Overwrite --grid if it exists.
    #[arg(short, long)]
    pub force: bool,
}

/// `aec bench`.
#[derive(Args)]
#[command(
    after_help = "Examples:\n  aec bench tests/fixtures\n  aec bench ../shared/datasets/eval --jobs 2 --csv eval.csv --plot eval.svg\n  aec bench photos/ --json > results.json\n  aec bench photos/ --aec-only --levels 5,11,17 --refine 30"
)]
pub struct BenchArgs {
    /// A folder of PNG/JPEG/PPM/WebP pictures, or one picture.
    pub input: PathBuf,
    /// Pictures measured at once.
    #[arg(short, long, default_value_t = 1)]
    pub jobs: usize,
    /// Print the summary and every record as JSON instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Also write every record to this CSV file.
    #[arg(long)]
    pub csv: Option<PathBuf>,
    /// Also draw the rate–distortion curves into this SVG file.
    #[arg(long)]
    pub plot: Option<PathBuf>,
    /// Leave out libjpeg-turbo's cjpeg even when it is installed.
    #[arg(long)]
    pub no_cjpeg: bool,
    /// Leave out libwebp's cwebp even when it is installed.
    #[arg(long)]
    pub no_cwebp: bool,
    /// Measure aec alone (no JPEG, WebP or lossless baselines): quicker, to compare models.
    #[arg(long)]
    pub aec_only: bool,
    /// The default photo model or one written by `aec train` (its NAME.bpk; the version-1
    /// models' files are in models/ of aec's source: the built-in ones only decode).
    #[arg(long, default_value = "default")]
    pub model: String,
    /// Measure only these aec quality levels (comma-separated, e.g. 1,5,9) instead of all.
    #[arg(long, value_delimiter = ',', value_name = "LEVELS")]
    pub levels: Vec<u8>,
    /// Refine aec's latents with this many gradient steps (as `aec compress --refine`).
    #[arg(long, default_value_t = 0, value_name = "STEPS")]
    pub refine: u32,
    /// Code aec's files without a restoration filter (as `aec compress --no-restoration`).
    #[arg(long)]
    pub no_restoration: bool,
    /// Code aec's files without a residual layer (as `aec compress --no-residual`).
    #[arg(long)]
    pub no_residual: bool,
    /// Overwrite --csv/--plot outputs that exist.
    #[arg(short, long)]
    pub force: bool,
}

/// `aec compare`.
#[derive(Args)]
pub struct CompareArgs {
    /// The original picture (or - for standard input).
    pub original: PathBuf,
    /// The picture to compare with it (or - for standard input).
    pub other: PathBuf,
    /// Refuse pictures of more pixels than this (checked from each picture's header).
    #[arg(long, default_value_t = DEFAULT_MAX_PIXELS)]
    pub max_pixels: u64,
}

/// Latent coders selectable on the command line.
#[derive(Clone, Copy, ValueEnum)]
pub enum CoderArg {
    /// Range coding with the model's learned probability tables (default, smaller).
    Range,
    /// zstd of the raw latents (the baseline).
    Zstd,
}

/// `aec compress`.
#[derive(Args)]
#[command(
    after_help = "Examples:\n  aec compress photo.png\n  aec compress photo.png -o photo.aec -q 6 --force\n  aec compress photo.png --target-bpp 0.25\n  aec compress photo.png --max-bytes 20000\n  aec compress photo.png --refine 30      # slower encode, better quality per bit\n  aec compress a.png b.jpg photos/*.png -o packed/\n  aec compress phone.jpg --strip          # without its ICC profile and EXIF data\n  aec compress digit.png --model mnist-conv -o digit.aec"
)]
pub struct CompressArgs {
    /// Input pictures (PNG, JPEG, WebP, TIFF, GIF, BMP, PPM/PGM), or - for standard input.
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// Output file, DIR/ for DIR/NAME.aec (required with several inputs, or each goes beside
    /// its input), or - for standard output [default: the input with .aec].
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Quality level: 1 (smallest file) to 33 (best) with the default model, default 17;
    /// other models have their own range and default (`aec levels` lists them). A
    /// variable-rate (hyperprior) model such as the default also takes fractions, e.g. 7.5
    /// (continuous quality).
    #[arg(short, long)]
    pub quality: Option<f64>,
    /// How the latents are coded.
    #[arg(long, value_enum, default_value_t = CoderArg::Range)]
    pub coder: CoderArg,
    /// Pick the best quality whose file has at most this many bits per pixel.
    #[arg(long, conflicts_with_all = ["quality", "max_bytes", "target_psnr"])]
    pub target_bpp: Option<f64>,
    /// Pick the best quality whose file has at most this many bytes.
    #[arg(long, conflicts_with_all = ["quality", "target_psnr"])]
    pub max_bytes: Option<u64>,
    /// Pick the smallest file whose PSNR reaches this many dB.
    #[arg(long, conflicts_with = "quality")]
    pub target_psnr: Option<f64>,
    /// Refine the latents with this many gradient steps against the decoder before coding
    /// them (hyperprior models such as the default): better quality for the bits (30 steps on
    /// the eval set: BD-rate -37.6% against cjpeg instead of -36.6%, -1.0% against WebP instead
    /// of +1.5%; up to 0.55 dB more at the top levels), but each step takes about as long as two decodes (a 768x512 picture: ~0.2 s on
    /// two cores) and it needs ~130 MB more memory. The files decode as any other. With
    /// --max-bytes, --target-bpp or --target-psnr the level is searched without refining, then
    /// refined at most twice, and the best file that meets the target kept.
    #[arg(long, default_value_t = 0, value_name = "STEPS")]
    pub refine: u32,
    /// Do not fit a restoration filter. By default a hyperprior encoder decodes its own file,
    /// fits a small filter (a 7x7 diamond per channel, ~50 bytes) that brings the decoded
    /// picture closer to the original and stores it when it pays for its bytes: 0.1-0.2 dB
    /// better for the same size, at the cost of about a decode's time and 12 bytes a pixel of
    /// memory in the encoder.
    #[arg(long)]
    pub no_restoration: bool,
    /// Do not code a residual layer. By default a hyperprior encoder codes what its decoded
    /// (and filtered) picture still misses as 8x8 DCT blocks, JPEG-like, when that pays for its
    /// bytes at the level's λ: the top levels, where the model flattens out, gain most.
    #[arg(long)]
    pub no_residual: bool,
    /// A built-in model (default: the mean-scale hyperprior; mnist-dense, mnist-deep,
    /// mnist-conv, mnist-denoise, mnist-denoise-0.25, mnist-vae) or a model written by `aec
    /// train` (NAME.bpk with NAME.json, and NAME.cdf for photo models, beside it). The MNIST
    /// models code gray digits. The version-1 models (factorized, lambda-0.0067, ...) are built
    /// in as decoders only since aec 0.8: to write their files, give their files
    /// (models/default.bpk of aec's source is lambda-0.0067).
    #[arg(long, default_value = "default")]
    pub model: String,
    /// Refuse pictures of more pixels than this (checked from the picture's header, before
    /// decoding it). Large pictures are coded in tiles: about 12 bytes of memory per pixel
    /// beyond ~90 MB (24 megapixels: under 300 MB); aec takes up to 2^28 pixels. A file of
    /// more pixels than the default needs the same --max-pixels to decompress.
    #[arg(long, default_value_t = DEFAULT_MAX_PIXELS)]
    pub max_pixels: u64,
    /// Refuse pictures whose coding needs more memory than this (judged from the picture's
    /// header: about 90 MB plus 10 bytes per pixel, more for 16-bit pictures), e.g. 2G.
    #[arg(long, default_value = "512M", value_parser = parse_bytes)]
    pub max_memory: u64,
    /// Drop the picture's ICC profile and EXIF data instead of keeping them in the file
    /// (they are kept by default, and written back by `aec decompress`).
    #[arg(long)]
    pub strip: bool,
    /// Overwrite the output if it exists.
    #[arg(short, long)]
    pub force: bool,
}

/// `aec decompress`.
#[derive(Args)]
#[command(
    after_help = "Examples:\n  aec decompress photo.aec            # writes photo.png\n  aec decompress photo.aec -o photo.ppm\n  aec decompress packed/*.aec -o back/"
)]
pub struct DecompressArgs {
    /// Input .aec files, or - for standard input.
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// Output picture (.png, .ppm or .jpg), DIR/ for DIR/NAME.png (with several inputs, or each
    /// goes beside its input), or - for PNG on standard output [default: the input with .png].
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// The model the file was made with: a path to files written by `aec train`
    /// [default: the built-in model named by the file].
    #[arg(long)]
    pub model: Option<String>,
    /// Refuse pictures of more pixels than this (decoding runs in tiles and needs about 10
    /// bytes of memory per pixel beyond ~90 MB; up to 2^28 pixels).
    #[arg(long, default_value_t = DEFAULT_MAX_PIXELS)]
    pub max_pixels: u64,
    /// Refuse files whose decoding needs more memory than this (judged from the header: about
    /// 90 MB plus 10 bytes per pixel), e.g. 2G.
    #[arg(long, default_value = "512M", value_parser = parse_bytes)]
    pub max_memory: u64,
    /// Quality of JPEG output, 1-100.
    #[arg(long, default_value_t = 90, value_parser = clap::value_parser!(u8).range(1..=100))]
    pub jpeg_quality: u8,
    /// Do not write the ICC profile and EXIF data the file holds into the picture (they go
    /// into PNG and JPEG output by default; PPM cannot hold them).
    #[arg(long)]
    pub strip: bool,
    /// Overwrite the output if it exists.
    #[arg(short, long)]
    pub force: bool,
}

/// `aec info`.
#[derive(Args)]
pub struct InfoArgs {
    /// The .aec file, or - for standard input.
    pub input: PathBuf,
}

/// `aec levels`.
#[derive(Args)]
#[command(
    after_help = "Examples:\n  aec levels\n  aec levels photo.png\n  aec levels --model factorized              # the version-1 scale's levels\n  aec levels photo.png --model models/mine.bpk"
)]
pub struct LevelsArgs {
    /// A picture: also print the size in bytes, the bits per pixel and the PSNR it gets at each
    /// level (every level is coded and decoded as compress would; nothing is written).
    pub picture: Option<PathBuf>,
    /// A built-in photo model (default, factorized, lambda-0.0018, ...) or one written by
    /// `aec train` (its NAME.bpk). With a picture, a model that writes files (the built-in
    /// version-1 models only decode: give their files, e.g. models/default.bpk).
    #[arg(long, default_value = "default")]
    pub model: String,
}

/// Model families `aec train` builds.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ArchArg {
    /// The photographic codec (factorized prior), trained on a folder of photos.
    Photo,
    /// The variable-rate mean-scale hyperprior (codec v2), trained on a folder of photos.
    Hyper,
    /// MNIST: 784 -> 64 -> 784 dense autoencoder.
    Dense,
    /// MNIST: 784-512-256-128-64 and back.
    Deep,
    /// MNIST: convolutional autoencoder with a 7x7x32 code.
    Conv,
    /// MNIST: the convolutional autoencoder trained on noisy digits (--noise).
    Denoise,
    /// MNIST: variational autoencoder (784-512-256-16 and back), loss = negative ELBO.
    Vae,
    /// Colourisation of gray photos (luma in, chroma out), trained on a folder of photos.
    Colorize,
}

/// `aec train`.
#[derive(Args)]
#[command(
    after_help = "Examples:\n  aec train --data ../shared/datasets/train --out models/mine.bpk --steps 20000\n  aec train --data ../shared/datasets/train --out models/mine.bpk --steps 40000 --resume\n  aec train --out models/mine.bpk --export-only\n  aec train --data ../shared/datasets/train --out models/q8.bpk --init-from models/default.bpk --lambda 0.05 --lr 1e-4 --steps 10000\n  aec train --arch hyper --data ../shared/datasets/train --out models/h.bpk --init-from models/hyper-ext.bpk --lambdas 0.001,0.01,0.1 --lr 1e-4 --steps 5000 --batch 4 --patch 256\n  aec train --arch dense --data ../shared/datasets/mnist          # writes models/mnist/dense.bpk\n  aec train --arch denoise --noise 0.25 --data ../shared/datasets/mnist --out models/mnist/denoise-0.25.bpk"
)]
pub struct TrainArgs {
    /// What to train.
    #[arg(long, value_enum, default_value_t = ArchArg::Photo)]
    pub arch: ArchArg,
    /// Folder of training images (PNG/JPEG/PPM/WebP), or for the MNIST models the folder of the
    /// MNIST IDX files.
    #[arg(long, required_unless_present = "export_only")]
    pub data: Option<PathBuf>,
    /// Model file to write (NAME.bpk; NAME.cdf and NAME.json are written beside it and
    /// checkpoints go to NAME.train/) [MNIST models: default models/mnist/ARCH.bpk].
    #[arg(long, required_if_eq("arch", "photo"))]
    pub out: Option<PathBuf>,
    /// MNIST models: passes over the training digits.
    #[arg(long, default_value_t = 20)]
    pub epochs: usize,
    /// MNIST denoiser: standard deviation of the noise added to the inputs.
    #[arg(long, default_value_t = 0.5)]
    pub noise: f32,
    /// MNIST: decay the learning rate along a cosine to this over the second half of the run
    /// [default: constant rate]. Hyperprior: the rate at the last step [default: 1e-5; with
    /// --resume, the checkpoint's].
    #[arg(long)]
    pub lr_final: Option<f64>,
    /// MNIST with --init-from: how many epochs the starting weights had been trained (recorded
    /// in the model's settings).
    #[arg(long, default_value_t = 0, requires = "init_from")]
    pub init_epochs: usize,
    /// Continue the run whose checkpoint is in NAME.train/.
    #[arg(long)]
    pub resume: bool,
    /// Start from the weights of this model (NAME.bpk of the same sizes or MNIST architecture
    /// family) instead of random ones: fine-tune a factorized model for another --lambda, a
    /// hyperprior for other --lambdas (the new levels' gains read off the trained ones) or for
    /// fewer --hidden / --synthesis-hidden / --hyper-hidden channels (each hidden layer keeps its channels most used
    /// on training crops: a warm start for a faster decoder), or continue an MNIST run.
    #[arg(long, conflicts_with = "resume")]
    pub init_from: Option<PathBuf>,
    /// Only write the model files from the last checkpoint, without training.
    #[arg(long)]
    pub export_only: bool,
    /// Total steps of the run [default: 100000; with --resume, the checkpoint's].
    #[arg(long)]
    pub steps: Option<u64>,
    /// Rate–distortion trade-off λ (loss = λ·255²·MSE + bits per pixel) [default: 0.0067; with
    /// --resume, the checkpoint's].
    #[arg(long)]
    pub lambda: Option<f64>,
    /// Peak learning rate [default: 5e-4 for photo models, 3e-4 for a hyperprior, 1e-3 for MNIST;
    /// with --resume, the checkpoint's].
    #[arg(long)]
    pub lr: Option<f64>,
    /// Patches (photos) or digits (MNIST) per step [default: 8 for photos, 128 for MNIST; with
    /// --resume, the checkpoint's].
    #[arg(long)]
    pub batch: Option<usize>,
    /// Patch side in pixels (multiple of 16; of 64 for a hyperprior) [default: 64, 256 for a
    /// hyperprior; with --resume, the checkpoint's].
    #[arg(long)]
    pub patch: Option<usize>,
    /// Hidden channels.
    #[arg(long, default_value_t = 64)]
    pub hidden: usize,
    /// Latent channels.
    #[arg(long, default_value_t = 96)]
    pub latent: usize,
    /// Stop after this many minutes (with a checkpoint).
    #[arg(long)]
    pub max_minutes: Option<f64>,
    /// Minutes between checkpoints.
    #[arg(long, default_value_t = 5.0)]
    pub checkpoint_minutes: f64,
    /// Hyperprior: the fraction of the run (0..1) after which the learning rate decays along a
    /// cosine to --lr-final [default: 0.7; with --resume, the checkpoint's].
    #[arg(long)]
    pub decay_from: Option<f64>,
    /// Hyperprior: the λ of every rate level, increasing, comma-separated (with --init-from a
    /// hyperprior of other λ, the new levels' gains are read off its trained ones).
    #[arg(long, value_delimiter = ',', default_values_t = [0.0016, 0.0033, 0.0068, 0.014, 0.029, 0.06, 0.125, 0.26])]
    pub lambdas: Vec<f64>,
    /// Hyperprior: hidden channels of the synthesis transform (the decoder), when they differ
    /// from --hidden (then the analysis transform's): a narrower, faster decoder.
    #[arg(long)]
    pub synthesis_hidden: Option<usize>,
    /// Hyperprior: hidden channels of the hyper-analysis and hyper-synthesis.
    #[arg(long, default_value_t = 128)]
    pub hyper_hidden: usize,
    /// Hyperprior: channels of the hyper-latents z.
    #[arg(long, default_value_t = 96)]
    pub hyper_latent: usize,
    /// Hyperprior: significant bits (2 to 16) of the exported integer hyper-synthesis's
    /// weights (NAME.hsi): each bit is about 1/16 of that file. A new run's default is 16;
    /// a resumed run or --export-only keeps its checkpoint's unless given.
    #[arg(long, value_parser = clap::value_parser!(u32).range(2..=16))]
    pub hsi_bits: Option<u32>,
}

/// Parses a byte count with an optional unit: `512M`, `2G`, `300000k`, `1000000` (units are
/// powers of 1024).
pub fn parse_bytes(text: &str) -> std::result::Result<u64, String> {
    let text = text.trim();
    let (digits, shift) = match text.char_indices().last() {
        Some((i, unit)) if unit.is_ascii_alphabetic() => match unit.to_ascii_uppercase() {
            'K' => (&text[..i], 10),
            'M' => (&text[..i], 20),
            'G' => (&text[..i], 30),
            'T' => (&text[..i], 40),
            _ => return Err(format!("{text:?}: the unit must be K, M, G or T")),
        },
        _ => (text, 0),
    };
    let value: u64 = digits.parse().map_err(|_| format!("{text:?} is not a size such as 512M or 2G"))?;
    value.checked_mul(1 << shift).ok_or_else(|| format!("{text:?} is too large"))
}
