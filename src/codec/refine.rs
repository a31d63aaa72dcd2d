//! Encoder-side refinement of a hyperprior's latents (`aec compress --refine N`): starting
//! from what the analysis transform gives, `N` steps of gradient descent (Adam) on the very
//! rate–distortion loss the model was trained for, `bits / pixels + λ · 255² · MSE`, for this
//! one picture, with the decoder as it is (Campos et al. 2019, "Content adaptive optimization
//! for neural image compression"; Yang et al. 2020, "Improving inference for neural image
//! compression"). The hyper-latents, and so the means and scales, stay fixed; the distortion
//! sees the latents rounded as the file will hold them (straight-through), the rate the
//! Gaussian likelihood of the unrounded ones.
//!
//! Only the encoder changes: the files are ordinary files of the same model and decode as any
//! other. Each step runs the synthesis forwards and backwards (`infer::SynthesisGradient`).

use std::cell::Cell;
use std::sync::Arc;

use rayon::prelude::*;

use super::tiles::{Tiling, planes_region as region};

use crate::entropy::quantize::round_residual;
use crate::infer::SynthesisGradient;

/// Adam's moment decay rates.
const BETA1: f32 = 0.9;
const BETA2: f32 = 0.999;
const EPSILON: f32 = 1e-8;

/// How a picture's latents are refined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refinement {
    /// Gradient steps (0: none).
    pub steps: u32,
    /// Told of the progress after every step (none by default).
    pub progress: Option<StepReport>,
}

impl Refinement {
    /// `steps` steps.
    pub fn steps(steps: u32) -> Self {
        Self { steps, progress: None }
    }

    /// The same refinement, telling `report` `(steps done, steps in all)` after every step.
    #[must_use]
    pub fn with_progress(self, report: impl Fn(u64, u64) + Send + Sync + 'static) -> Self {
        Self { progress: Some(StepReport(Arc::new(report))), ..self }
    }
}

/// A function told `(steps done, steps in all)` after every step of a refinement: a picture
/// refined in several windows (large pictures) counts the steps of all of them; each
/// refinement counts from zero (rate control refines up to three times).
#[derive(Clone)]
pub struct StepReport(pub Arc<dyn Fn(u64, u64) + Send + Sync>);

impl std::fmt::Debug for StepReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StepReport")
    }
}

/// Every report is equal to every other: where progress is told does not change the file.
impl PartialEq for StepReport {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for StepReport {}

/// Adam's first step size (it decays linearly to zero over the steps), in latent units, at
/// λ up to [`LAMBDA_OF_SMALLEST_STEP`]; above, it grows with λ up to [`LARGEST_STEP`].
/// Chosen on three training pictures (`aec bench --refine 30`, eight levels, step sizes 0.003,
/// 0.01 and 0.03 each at every level; models/README.md): 0.003 did best up to λ ≈ 0.02, 0.01
/// at λ = 0.06, 0.03 from λ ≈ 0.16.
const SMALLEST_STEP: f32 = 0.003;
const LAMBDA_OF_SMALLEST_STEP: f64 = 0.02;
const LARGEST_STEP: f32 = 0.03;

/// Adam's first step size at a level's λ.
fn step_size(lambda: f64) -> f32 {
    (SMALLEST_STEP * (lambda / LAMBDA_OF_SMALLEST_STEP).max(1.0) as f32).min(LARGEST_STEP)
}

/// What the refinement works against: the picture (planes `[3, h, w]` of the padded size, only
/// the top-left `visible` part counting), the latents' means, scales and table indices (gained
/// units, planes `[channels, h/16, w/16]`), the inverse gain of each channel and the level's λ.
pub struct Target<'a> {
    /// The picture, padded.
    pub picture: &'a [f32],
    /// Height and width of the picture itself.
    pub visible: (usize, usize),
    /// Mean of every latent.
    pub means: &'a [f32],
    /// Scale of every latent.
    pub scales: &'a [f32],
    /// Table of every latent (what its bits are counted with).
    pub indices: &'a [u8],
    /// Inverse gain of every channel.
    pub inverse_gains: &'a [f32],
    /// The trade-off: `λ · 255² · MSE + bits per pixel`.
    pub lambda: f64,
}

/// How the latents are cut for refinement, in latent positions: tiles of 32 (512 pixels) with
/// a margin of 4 (the synthesis reaches about 2 positions, so the kept part never sees the
/// edge of its window); grids of up to 48 positions each way (768 pixels) run whole. A window
/// of 40x40 positions holds about 100 MB while it is refined.
const TILING: Tiling = Tiling { tile: 32, margin: 4, max_whole: 48 };

/// Refines gained latents `y` (planes `[channels, h, w]`) window by window ([`TILING`]) and
/// gives the residuals to code, `round(y − μ)`, each window's chosen as
/// [`refine_window`] chooses them.
///
/// # Panics
/// If the sizes do not agree with `synthesis` and each other.
pub fn refine(synthesis: &SynthesisGradient, target: &Target<'_>, y: &[f32], (h, w): (usize, usize), refinement: &Refinement, initial: Vec<f32>) -> Vec<f32> {
    let (rows, cols) = (TILING.spans(h), TILING.spans(w));
    // The visible part of each window (none for a window wholly in the padding).
    let visible_of = |run_rows: &std::ops::Range<usize>, run_cols: &std::ops::Range<usize>| {
        (
            target.visible.0.saturating_sub(16 * run_rows.start).min(16 * run_rows.len()),
            target.visible.1.saturating_sub(16 * run_cols.start).min(16 * run_cols.len()),
        )
    };
    let windows = rows
        .iter()
        .flat_map(|r| cols.iter().map(move |c| (r, c)))
        .filter(|(r, c)| visible_of(&r.run, &c.run).0 > 0 && visible_of(&r.run, &c.run).1 > 0)
        .count();
    let (done, all) = (Cell::new(0u64), u64::from(refinement.steps) * windows as u64);
    let step_done = || {
        done.set(done.get() + 1);
        if let Some(StepReport(report)) = &refinement.progress {
            report(done.get(), all);
        }
    };
    if rows.len() == 1 && cols.len() == 1 {
        return refine_window(synthesis, target, &mut y.to_vec(), (h, w), refinement.steps, initial, &step_done);
    }
    let channels = synthesis.latent_channels();
    let mut out = initial.clone();
    for row in &rows {
        for col in &cols {
            let (run_rows, run_cols) = (&row.run, &col.run);
            let visible = visible_of(run_rows, run_cols);
            if visible.0 == 0 || visible.1 == 0 {
                continue;
            }
            let latents = |values: &[f32]| region(values, channels, (h, w), run_rows.clone(), run_cols.clone());
            let picture = region(target.picture, 3, (16 * h, 16 * w), 16 * run_rows.start..16 * run_rows.end, 16 * run_cols.start..16 * run_cols.end);
            let (means, scales) = (latents(target.means), latents(target.scales));
            let indices = region(target.indices, channels, (h, w), run_rows.clone(), run_cols.clone());
            let window = Target { picture: &picture, visible, means: &means, scales: &scales, indices: &indices, ..*target };
            let chosen = refine_window(synthesis, &window, &mut latents(y), (run_rows.len(), run_cols.len()), refinement.steps, latents(&initial), &step_done);
            for c in 0..channels {
                for yy in row.keep.clone() {
                    let from = (c * run_rows.len() + yy - run_rows.start) * run_cols.len() + col.keep.start - run_cols.start;
                    let to = (c * h + yy) * w + col.keep.start;
                    out[to..to + col.keep.len()].copy_from_slice(&chosen[from..from + col.keep.len()]);
                }
            }
        }
    }
    out
}

/// Refines gained latents `y` (planes `[channels, h, w]`) and gives the residuals to code,
/// `round(y − μ)`: of the residuals met on the way (the encoder's own `initial` ones first,
/// then those of each step), those of the lowest loss, bits counted with the tables and the
/// distortion measured on the picture the decoder will make. The loss is therefore never
/// above that of `initial`.
///
/// # Panics
/// If the sizes do not agree with `synthesis` and each other.
fn refine_window(
    synthesis: &SynthesisGradient,
    target: &Target<'_>,
    y: &mut [f32],
    (h, w): (usize, usize),
    steps: u32,
    initial: Vec<f32>,
    step_done: &dyn Fn(),
) -> Vec<f32> {
    let channels = synthesis.latent_channels();
    let plane = (h * w).max(1);
    let sizes_agree = [target.means.len(), target.scales.len(), target.indices.len(), initial.len()].iter().all(|&n| n == y.len());
    assert!(y.len() == channels * h * w && sizes_agree && target.inverse_gains.len() == channels, "latent sizes");
    let (vh, vw) = target.visible;
    let pixels = (vh * vw) as f32;
    let distortion_weight = (target.lambda * 255.0 * 255.0) as f32 * 2.0 / (3.0 * pixels);
    let loss = |residuals: &[f32], picture: &[f32]| {
        let values: Vec<i16> = residuals.iter().map(|&r| r.clamp(f32::from(i16::MIN), f32::from(i16::MAX)) as i16).collect();
        let bits = crate::entropy::coding::estimated_indexed_bits(&values, target.indices);
        bits / f64::from(pixels)
            + target.lambda * 255.0 * 255.0 * squared_error(picture, target.picture, (16 * h, 16 * w), target.visible) / (3.0 * f64::from(pixels))
    };
    let residuals = |y: &[f32]| -> Vec<f32> { y.iter().zip(target.means).map(|(&v, &m)| (v - m).round()).collect() };
    let first = synthesis.forward(&decoded(&initial, target, plane), h, w);
    let mut best = (loss(&initial, &first), initial);
    let first_step = step_size(target.lambda);
    // Adam's first and second moments of every latent.
    let mut moments = vec![(0f32, 0f32); y.len()];
    for step in 1..=steps {
        let rounded = residuals(y);
        let (picture, gradient) = synthesis.gradient(&decoded(&rounded, target, plane), h, w, |picture| {
            distortion_gradient(picture, target.picture, (16 * h, 16 * w), (vh, vw), distortion_weight)
        });
        let now = loss(&rounded, &picture);
        if now < best.0 {
            best = (now, rounded);
        }
        let bias1 = 1.0 - BETA1.powi(step as i32);
        let bias2 = 1.0 - BETA2.powi(step as i32);
        let rate = first_step * (1.0 - (step - 1) as f32 / steps as f32);
        y.par_chunks_mut(plane).zip(moments.par_chunks_mut(plane)).enumerate().for_each(|(c, (y, moments))| {
            let at = c * plane;
            for (i, (y, (m1, m2))) in y.iter_mut().zip(moments).enumerate() {
                let grad = gradient[at + i] * target.inverse_gains[c] + bits_gradient(*y - target.means[at + i], target.scales[at + i]) / pixels;
                *m1 = BETA1 * *m1 + (1.0 - BETA1) * grad;
                *m2 = BETA2 * *m2 + (1.0 - BETA2) * grad * grad;
                *y -= rate * (*m1 / bias1) / ((*m2 / bias2).sqrt() + EPSILON);
            }
        });
        step_done();
    }
    if steps > 0 {
        // The last step's latents, rounded to the nearest and as the encoder rounds (towards
        // the mean where that saves enough bits).
        let economical: Vec<f32> = y.iter().zip(target.means).zip(target.indices).map(|((&v, &m), &k)| round_residual(v - m, k)).collect();
        for last in [residuals(y), economical] {
            let now = loss(&last, &synthesis.forward(&decoded(&last, target, plane), h, w));
            if now < best.0 {
                best = (now, last);
            }
        }
    }
    best.1
}

/// What the synthesis gets for residuals: `(residual + μ) · inverse gain`, a channel (plane)
/// at a time, as the decoder computes it.
fn decoded(residuals: &[f32], target: &Target<'_>, plane: usize) -> Vec<f32> {
    let mut values = vec![0f32; residuals.len()];
    values.par_chunks_mut(plane).zip(residuals.par_chunks(plane)).zip(target.means.par_chunks(plane)).zip(target.inverse_gains).for_each(
        |(((values, residuals), means), &gain)| {
            for ((value, &r), &m) in values.iter_mut().zip(residuals).zip(means) {
                *value = (r + m) * gain;
            }
        },
    );
    values
}

/// The sum of squared differences between two pictures' visible parts (of the `0..1`
/// samples, the decoded ones clamped as the decoder clamps them).
fn squared_error(decoded: &[f32], picture: &[f32], (ph, pw): (usize, usize), (vh, vw): (usize, usize)) -> f64 {
    decoded
        .chunks(pw)
        .zip(picture.chunks(pw))
        .enumerate()
        .filter(|(row, _)| row % ph < vh)
        .map(|(_, (a, b))| a[..vw].iter().zip(&b[..vw]).map(|(&a, &b)| f64::from(a.clamp(0.0, 1.0) - b).powi(2)).sum::<f64>())
        .sum()
}

/// The gradient of the distortion term with respect to the decoded picture: `weight ·
/// (decoded − picture)` on the visible pixels (`weight`: `λ · 255² · 2 / (3 · pixels)`), 0 on
/// the padding.
fn distortion_gradient(decoded: &[f32], picture: &[f32], (ph, pw): (usize, usize), (vh, vw): (usize, usize), weight: f32) -> Vec<f32> {
    assert_eq!(decoded.len(), picture.len(), "picture size");
    let mut gradient = vec![0f32; decoded.len()];
    for (row, out) in gradient.chunks_mut(pw).enumerate().filter(|(row, _)| row % ph < vh) {
        let at = row * pw;
        for x in 0..vw {
            out[x] = weight * (decoded[at + x] - picture[at + x]);
        }
    }
    gradient
}

/// Derivative of `−log2 P(r)` with respect to `r`, where `P(r)` is the mass of the unit interval
/// around `r` under a zero-mean Gaussian of scale `σ` (what the rate counts for a latent
/// `r` away from its mean); 0 where that mass is below 1e-9 (the training loss's floor).
fn bits_gradient(r: f32, sigma: f32) -> f32 {
    let (t, s) = (f64::from(r.abs()), f64::from(sigma));
    let scale = s * std::f64::consts::SQRT_2;
    let mass = 0.5 * (erfc((t - 0.5) / scale) - erfc((t + 0.5) / scale));
    if mass < 1e-9 {
        return 0.0;
    }
    let density = |x: f64| (-0.5 * (x / s) * (x / s)).exp() / (s * (2.0 * std::f64::consts::PI).sqrt());
    // dP/dt = density(t + 0.5) − density(t − 0.5), which is ≤ 0 for t ≥ 0.
    let d_mass = density(t + 0.5) - density(t - 0.5);
    (-d_mass / (mass * std::f64::consts::LN_2)) as f32 * r.signum()
}

/// The complementary error function, to a relative error below 1.2e-7 (Numerical Recipes'
/// Chebyshev fit): accurate in the tails, where `1 − erf` would cancel.
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06 + t * (0.278_868_07 + t * (-1.135_203_98 + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let value = t * poly.exp();
    if x >= 0.0 { value } else { 2.0 - value }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_step_size_grows_with_lambda_between_its_bounds() {
        assert_eq!(step_size(0.0003), SMALLEST_STEP);
        assert_eq!(step_size(0.02), SMALLEST_STEP);
        assert!((step_size(0.06) - 0.009).abs() < 1e-6);
        assert_eq!(step_size(0.6), LARGEST_STEP);
    }

    #[test]
    fn erfc_matches_known_values() {
        for (x, want) in [(0.0, 1.0), (0.5, 0.479_500_122), (1.0, 0.157_299_207), (2.0, 4.677_734_98e-3), (4.0, 1.541_725_79e-8), (-1.0, 1.842_700_79)] {
            let got = erfc(x);
            assert!(((got - want) / want).abs() < 2e-7, "erfc({x}) = {got}, not {want}");
        }
    }

    #[test]
    fn the_bits_gradient_is_the_derivative_of_the_bits() {
        let bits = |r: f64, s: f64| {
            let scale = s * std::f64::consts::SQRT_2;
            -(0.5 * (erfc((r.abs() - 0.5) / scale) - erfc((r.abs() + 0.5) / scale))).log2()
        };
        for (r, s) in [(0.3f32, 1.0f32), (-0.3, 1.0), (2.7, 0.5), (-5.0, 3.0), (0.0, 0.2), (12.0, 40.0)] {
            let h = 1e-4;
            let numeric = (bits(f64::from(r) + h, f64::from(s)) - bits(f64::from(r) - h, f64::from(s))) / (2.0 * h);
            let got = f64::from(bits_gradient(r, s));
            assert!((got - numeric).abs() < 1e-3 * numeric.abs().max(1.0), "r {r} σ {s}: {got} vs {numeric}");
            assert!(got * f64::from(r) >= 0.0, "the rate grows away from the mean");
        }
        assert_eq!(bits_gradient(40.0, 0.11), 0.0, "below the floor");
    }
}
