//! Bjøntegaard delta rate and delta PSNR (VCEG-M33): cubic fits of the two rate–distortion
//! curves, integrated over the range where they overlap.

/// Least-squares cubic fit `c0 + c1 t + c2 t^2 + c3 t^3` of `(t, v)` points.
fn cubic_fit(t: &[f64], v: &[f64]) -> Option<[f64; 4]> {
    if t.len() < 4 {
        return None;
    }
    // Normal equations A^T A c = A^T v, solved by Gaussian elimination with pivoting.
    let mut m = [[0.0f64; 5]; 4];
    for (&ti, &vi) in t.iter().zip(v) {
        let powers = [1.0, ti, ti * ti, ti * ti * ti];
        for (row, &pr) in m.iter_mut().zip(&powers) {
            for (cell, &pc) in row.iter_mut().zip(&powers) {
                *cell += pr * pc;
            }
            row[4] += pr * vi;
        }
    }
    for col in 0..4 {
        let pivot = (col..4).max_by(|&a, &b| m[a][col].abs().total_cmp(&m[b][col].abs()))?;
        m.swap(col, pivot);
        if m[col][col].abs() < 1e-12 {
            return None;
        }
        let pivot_row = m[col];
        for (r, row) in m.iter_mut().enumerate() {
            if r != col {
                let f = row[col] / pivot_row[col];
                for (cell, &p) in row[col..].iter_mut().zip(&pivot_row[col..]) {
                    *cell -= f * p;
                }
            }
        }
    }
    Some([m[0][4] / m[0][0], m[1][4] / m[1][1], m[2][4] / m[2][2], m[3][4] / m[3][3]])
}

/// Integral of the cubic from `a` to `b`.
fn integral(c: &[f64; 4], a: f64, b: f64) -> f64 {
    let antiderivative = |t: f64| c[0] * t + c[1] * t * t / 2.0 + c[2] * t.powi(3) / 3.0 + c[3] * t.powi(4) / 4.0;
    antiderivative(b) - antiderivative(a)
}

fn overlap(a: &[f64], b: &[f64]) -> Option<(f64, f64)> {
    let lo = a.iter().copied().fold(f64::INFINITY, f64::min).max(b.iter().copied().fold(f64::INFINITY, f64::min));
    let hi = a.iter().copied().fold(f64::NEG_INFINITY, f64::max).min(b.iter().copied().fold(f64::NEG_INFINITY, f64::max));
    (hi > lo).then_some((lo, hi))
}

/// Splits `(rate, quality)` points into natural-log rates and qualities.
fn log_rate(points: &[(f64, f64)]) -> (Vec<f64>, Vec<f64>) {
    points.iter().map(|&(r, q)| (r.ln(), q)).unzip()
}

/// Average rate difference, in percent, of the `test` curve against the `anchor` curve at
/// equal quality (negative: `test` needs fewer bits). Points are `(rate, quality)`; at least
/// four per curve, and the quality ranges must overlap.
pub fn bd_rate(anchor: &[(f64, f64)], test: &[(f64, f64)]) -> Option<f64> {
    let ((ra, qa), (rt, qt)) = (log_rate(anchor), log_rate(test));
    let (lo, hi) = overlap(&qa, &qt)?;
    let fa = cubic_fit(&qa, &ra)?;
    let ft = cubic_fit(&qt, &rt)?;
    let mean_diff = (integral(&ft, lo, hi) - integral(&fa, lo, hi)) / (hi - lo);
    Some((mean_diff.exp() - 1.0) * 100.0)
}

/// Average quality difference (e.g. dB of PSNR) of `test` against `anchor` at equal rate.
pub fn bd_quality(anchor: &[(f64, f64)], test: &[(f64, f64)]) -> Option<f64> {
    let ((ra, qa), (rt, qt)) = (log_rate(anchor), log_rate(test));
    let (lo, hi) = overlap(&ra, &rt)?;
    let fa = cubic_fit(&ra, &qa)?;
    let ft = cubic_fit(&rt, &qt)?;
    Some((integral(&ft, lo, hi) - integral(&fa, lo, hi)) / (hi - lo))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn curve(scale: f64, offset_db: f64) -> Vec<(f64, f64)> {
        [0.1, 0.2, 0.4, 0.8, 1.6].iter().map(|&r: &f64| (r * scale, 30.0 + 4.0 * r.log2() + offset_db)).collect()
    }

    #[test]
    fn a_curve_needing_80_percent_of_the_bits_has_a_bd_rate_of_minus_20() {
        let bd = bd_rate(&curve(1.0, 0.0), &curve(0.8, 0.0)).unwrap();
        assert!((bd + 20.0).abs() < 1e-6, "{bd}");
    }

    #[test]
    fn a_curve_one_db_higher_has_a_bd_psnr_of_one() {
        let bd = bd_quality(&curve(1.0, 0.0), &curve(1.0, 1.0)).unwrap();
        assert!((bd - 1.0).abs() < 1e-6, "{bd}");
        // 4 dB per doubling of the rate: 1 dB is a factor 2^(-1/4) of the rate.
        let rate = bd_rate(&curve(1.0, 0.0), &curve(1.0, 1.0)).unwrap();
        assert!((rate - (2f64.powf(-0.25) - 1.0) * 100.0).abs() < 1e-6, "{rate}");
    }

    #[test]
    fn curves_that_do_not_overlap_have_no_bd_rate() {
        let low: Vec<(f64, f64)> = curve(1.0, 0.0);
        let high: Vec<(f64, f64)> = curve(1.0, 100.0);
        assert_eq!(bd_rate(&low, &high), None);
    }
}
