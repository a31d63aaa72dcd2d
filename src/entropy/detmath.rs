//! `exp` and the standard normal distribution function computed with IEEE-754 additions,
//! multiplications and divisions only, in a fixed order: the same bits on every machine,
//! compiler and libm. The Gaussian table bank is built from these, so that every decoder
//! derives the very same integer tables (a one-count difference would desynchronise the range
//! coder). Accuracy is about 1e-15 relative, far beyond the tables' 2^-24 resolution.

/// ln 2 split into a part with trailing zero bits (exact when multiplied by small integers)
/// and the rest (Cody & Waite). The literals are fdlibm's as published (more digits than an
/// `f64` holds; each rounds to the intended value, and the file format depends on those bits).
#[allow(clippy::excessive_precision)]
const LN2_HI: f64 = 6.931_471_803_691_238_164_90e-1;
#[allow(clippy::excessive_precision)]
const LN2_LO: f64 = 1.908_214_929_270_587_700_02e-10;
#[allow(clippy::excessive_precision, clippy::approx_constant)]
const INV_LN2: f64 = 1.442_695_040_888_963_387_00;
/// 1 / sqrt(2π).
#[allow(clippy::excessive_precision)]
const INV_SQRT_2PI: f64 = 0.398_942_280_401_432_677_94;

/// `e^x` for `-745 < x < 709`; 0 below.
pub fn exp(x: f64) -> f64 {
    if x < -745.0 {
        return 0.0;
    }
    // x = k ln2 + r, |r| <= ln2 / 2.
    let k = (x * INV_LN2 + if x < 0.0 { -0.5 } else { 0.5 }) as i64;
    let kf = k as f64;
    let r = (x - kf * LN2_HI) - kf * LN2_LO;
    // Taylor series of e^r to degree 20 (|r| <= 0.347: the last term is below 1e-27).
    let mut sum = 1.0;
    let mut term = 1.0;
    for n in 1..=20 {
        term = term * r / f64::from(n);
        sum += term;
    }
    // Multiply by 2^k in two exact steps (k may be below the normal exponent range).
    let half = k / 2;
    sum * pow2(half) * pow2(k - half)
}

/// `2^k` for `-1022 <= k <= 1023`, exactly.
fn pow2(k: i64) -> f64 {
    f64::from_bits(((k + 1023) as u64) << 52)
}

/// The standard normal distribution function `Φ(x) = P(X <= x)` for `x <= 0`.
///
/// A series (Marsaglia 2004) for `x > -3`, Laplace's continued fraction below.
pub fn normal_cdf_nonpositive(x: f64) -> f64 {
    debug_assert!(x <= 0.0);
    let density = INV_SQRT_2PI * exp(-0.5 * x * x);
    if x > -3.0 {
        // Φ(x) = 1/2 + φ(x) (x + x^3/3 + x^5/(3·5) + ...)
        let mut sum = x;
        let mut term = x;
        let x2 = x * x;
        for n in 1..=100 {
            term = term * x2 / f64::from(2 * n + 1);
            sum += term;
        }
        0.5 + density * sum
    } else {
        // Φ(x) = φ(x) / (t + 1/(t + 2/(t + 3/(t + ...)))), t = -x, evaluated from the tail.
        let t = -x;
        let mut fraction = t;
        for n in (1..=120).rev() {
            fraction = t + f64::from(n) / fraction;
        }
        density / fraction
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_matches_the_library_function() {
        for i in -7000..=7000 {
            let x = f64::from(i) / 100.0;
            let (mine, std) = (exp(x), x.exp());
            assert!(((mine - std) / std).abs() < 1e-14, "exp({x}) = {mine}, std {std}");
        }
    }

    #[test]
    fn normal_cdf_matches_known_values() {
        // Values from tables of the normal distribution (to 15 digits).
        for (x, p) in [
            (0.0, 0.5),
            (-1.0, 0.158_655_253_931_457),
            (-2.0, 0.022_750_131_948_179),
            (-3.0, 0.001_349_898_031_630_09),
            (-5.0, 2.866_515_718_791_94e-7),
            (-10.0, 7.619_853_024_160_53e-24),
        ] {
            let mine = normal_cdf_nonpositive(x);
            assert!(((mine - p) / p).abs() < 1e-12, "Φ({x}) = {mine:e}, expected {p:e}");
        }
        // Continuous where the two methods meet.
        let (a, b) = (normal_cdf_nonpositive(-2.999_999_999), normal_cdf_nonpositive(-3.0));
        assert!(((a - b) / b).abs() < 1e-8);
    }
}
