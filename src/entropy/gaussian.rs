//! The fixed bank of Gaussian CDF tables of the hyperprior family: [`SCALES`] tables of zero
//! mean and scales log-spaced from 0.11 to 256, each an integer [`ChannelTable`] with an
//! escape symbol. Built with the deterministic arithmetic of [`super::detmath`], so that every
//! machine derives the same integers (the format specification repeats the construction).
//!
//! A symbol's table is chosen from the integer log-scale that the integer hyper-synthesis
//! gives (`ln σ` in units of 2^-[`LOG_SCALE_BITS`]) by integer thresholds: no float is
//! involved in the choice.

use std::sync::OnceLock;

use super::detmath::{exp, normal_cdf_nonpositive};
use super::tables::ChannelTable;

/// Number of tables in the bank.
pub const SCALES: usize = 64;
/// Fractional bits of the integer log-scales and means.
pub const LOG_SCALE_BITS: u32 = 12;
/// `ln 0.11`, the log of the smallest scale.
const LN_SCALE_MIN: f64 = -2.207_274_913_189_720_7;
/// `ln(256 / 0.11)`, the span of the log-scales.
const LN_SCALE_SPAN: f64 = 7.752_452_357_669_283;
/// A table covers `±TAIL_SIGMAS·σ` around the mean (at least ±1); the rest is the escape.
const TAIL_SIGMAS: f64 = 5.0;
/// Smallest probability mass given to the escape symbol.
const ESCAPE_FLOOR: f64 = 1e-7;

/// Scale `σ_k` of table `k`: `0.11 · (256/0.11)^(k/63)`.
pub fn scale(k: usize) -> f64 {
    exp(LN_SCALE_MIN + LN_SCALE_SPAN * k as f64 / (SCALES - 1) as f64)
}

/// The integer thresholds between neighbouring tables: table `k` is used for log-scales `v`
/// (units of 2^-12) with `THRESHOLDS[k-1] <= v < THRESHOLDS[k]`, the midpoints of the
/// log-scales rounded to integers.
pub fn thresholds() -> &'static [i32; SCALES - 1] {
    static THRESHOLDS: OnceLock<[i32; SCALES - 1]> = OnceLock::new();
    THRESHOLDS.get_or_init(|| {
        let unit = f64::from(1u32 << LOG_SCALE_BITS);
        std::array::from_fn(|j| {
            let midpoint = LN_SCALE_MIN + LN_SCALE_SPAN * (j as f64 + 0.5) / (SCALES - 1) as f64;
            (midpoint * unit).round() as i32
        })
    })
}

/// The table index of an integer log-scale: the number of thresholds at or below it. Read from
/// a table of every log-scale between the first and the last threshold (31.8 KB, built on
/// first use; a decoder asks for one index per latent, and the search over the thresholds
/// took about twice as long).
pub fn table_index(log_scale: i32) -> u8 {
    table_indexer()(log_scale)
}

/// [`table_index`] as a function that has looked its table up once (for a loop over many
/// log-scales).
pub fn table_indexer() -> impl Fn(i32) -> u8 + Copy {
    static INDICES: OnceLock<Vec<u8>> = OnceLock::new();
    let t = thresholds();
    let first = t[0];
    let indices = INDICES.get_or_init(|| (first..=t[SCALES - 2]).map(|v| t.partition_point(|&t| t <= v) as u8).collect()).as_slice();
    move |log_scale| match usize::try_from(i64::from(log_scale) - i64::from(first)) {
        Err(_) => 0,
        Ok(i) => indices.get(i).copied().unwrap_or((SCALES - 1) as u8),
    }
}

/// The integer table of a zero-mean Gaussian of scale `σ`, discretised to integers:
/// symbol `i` is the value `i - half`, `half = max(1, ceil(5σ))`; the mass of each is
/// `Φ((k + ½)/σ) − Φ((k − ½)/σ)`, the escape takes the two tails (at least 1e-7).
pub fn table_for_scale(sigma: f64) -> ChannelTable {
    let half = ((TAIL_SIGMAS * sigma).ceil() as i64).max(1);
    // tail[j] = Φ(-(j + ½)/σ); the mass of ±k is tail[k-1] - tail[k] = Φ(-(k - ½)/σ) - Φ(-(k + ½)/σ)
    // (k - ½ and (k - 1) + ½ are the same f64), that of 0 is 1 - 2·tail[0]. Each boundary is
    // evaluated once.
    let tail: Vec<f64> = (0..=half).map(|j| normal_cdf_nonpositive(-(j as f64 + 0.5) / sigma)).collect();
    let mass = |k: i64| {
        let k = k.unsigned_abs() as usize;
        if k == 0 { 1.0 - 2.0 * tail[0] } else { tail[k - 1] - tail[k] }
    };
    let masses: Vec<f64> = (-half..=half).map(mass).collect();
    let escape = (2.0 * tail[half as usize]).max(ESCAPE_FLOOR);
    ChannelTable::from_masses(-half as i16, &masses, escape).expect("at most 2563 symbols")
}

/// Table `k` of the bank (`k < SCALES`), built on first use: a picture needs only the scales
/// its latents have, and the wide tables cost the most to build.
///
/// # Panics
/// If `k >= SCALES`.
pub fn bank_table(k: usize) -> &'static ChannelTable {
    static TABLES: [OnceLock<ChannelTable>; SCALES] = [const { OnceLock::new() }; SCALES];
    TABLES[k].get_or_init(|| table_for_scale(scale(k)))
}

/// The whole bank.
pub fn bank() -> Vec<&'static ChannelTable> {
    (0..SCALES).map(bank_table).collect()
}

#[cfg(test)]
mod tests {
    use sha2::{Digest, Sha256};

    use super::*;

    #[test]
    fn scales_span_the_bank() {
        assert!((scale(0) - 0.11).abs() < 1e-12 && (scale(SCALES - 1) - 256.0).abs() < 1e-9);
        assert!(thresholds().windows(2).all(|w| w[0] < w[1]));
        // A log-scale right at a table's own scale picks that table.
        for k in 0..SCALES {
            let v = (scale(k).ln() * 4096.0).round() as i32;
            assert_eq!(usize::from(table_index(v)), k);
        }
        assert_eq!(table_index(i32::MIN), 0);
        // The table gives what the search over the thresholds gives, everywhere.
        let (first, last) = (thresholds()[0], thresholds()[SCALES - 2]);
        for v in (first - 3000..=last + 3000).chain([i32::MIN + 1, -1, 0, 1, i32::MAX - 1]) {
            assert_eq!(usize::from(table_index(v)), thresholds().partition_point(|&t| t <= v), "log-scale {v}");
        }
        assert_eq!(usize::from(table_index(i32::MAX)), SCALES - 1);
    }

    #[test]
    fn tables_are_the_discretised_gaussian() {
        let table = table_for_scale(1.0);
        assert_eq!(table.offset, -5);
        let full = f64::from(1u32 << super::super::tables::PRECISION);
        let p0 = f64::from(table.probabilities[5]) / full;
        assert!((p0 - 0.382_925).abs() < 1e-5, "{p0}");
        assert_eq!(table.probabilities[4], table.probabilities[6], "symmetric");
    }

    /// The bank's bytes are part of the format: this digest may never change (a change would
    /// make every hyperprior file undecodable).
    #[test]
    fn the_bank_is_frozen() {
        let mut hash = Sha256::new();
        for table in bank() {
            hash.update(table.offset.to_le_bytes());
            for p in &table.probabilities {
                hash.update(p.to_le_bytes());
            }
        }
        let digest: String = hash.finalize().iter().take(8).map(|b| format!("{b:02x}")).collect();
        assert_eq!(digest, "2608f1fcdbc94a93");
    }
}
