//! A categorical decoder model that finds the symbol of a quantile through a table of buckets
//! instead of a binary search over the whole CDF: the range decoder asks this once per latent,
//! and the Gaussian bank's wide tables (hundreds of symbols) made the search most of the
//! hyperprior's `y` decoding.
//!
//! It describes exactly the distribution of constriction's contiguous categorical model built
//! from the same fixed-point probabilities (the CDF is their running sum), so a stream codes
//! to the same words and decodes to the same symbols with either.

use std::num::NonZeroU32;

use constriction::stream::model::{DecoderModel, EncoderModel, EntropyModel};

use super::range::Found;
use super::tables::PRECISION;

/// The models below implement constriction's traits for a precision of 24 bits.
const _: () = assert!(PRECISION == 24, "LookupCategorical implements EntropyModel<24>");

/// Quantiles are sorted into `2^BUCKET_BITS` buckets by their leading bits.
const BUCKET_BITS: u32 = 10;

/// A categorical distribution over symbols `0..n` with `PRECISION`-bit fixed-point
/// probabilities, for decoding.
#[derive(Debug, Clone)]
pub struct LookupCategorical {
    /// `cdf[s]`: the sum of the probabilities of the symbols before `s`; `cdf[n] = 2^PRECISION`.
    cdf: Vec<u32>,
    /// For each bucket of quantiles, the symbol its first quantile falls in.
    first: Vec<u32>,
    /// Three neighbouring symbols around the most probable one (the first of them if several
    /// are): the first of the three and the bounds of their intervals, `cdf[start..start + 4]`
    /// (the last repeated for a model of two symbols). A decoder tries them for every symbol.
    window: (usize, [u32; 4]),
}

impl LookupCategorical {
    /// The model of `probabilities` (each at least 1, summing to `2^PRECISION`).
    ///
    /// # Panics
    /// If a probability is zero or they do not sum to `2^PRECISION` (the tables are checked
    /// when built or parsed).
    pub fn new(probabilities: &[u32]) -> Self {
        assert!(probabilities.iter().all(|&p| p > 0), "zero probability");
        let mut cdf = Vec::with_capacity(probabilities.len() + 1);
        let mut sum = 0u32;
        cdf.push(0);
        for &p in probabilities {
            sum = sum.checked_add(p).expect("probabilities sum to 2^PRECISION");
            cdf.push(sum);
        }
        assert_eq!(sum, 1 << PRECISION, "probabilities sum to 2^PRECISION");
        let shift = PRECISION - BUCKET_BITS;
        let mut symbol = 0u32;
        let first = (0..1u32 << BUCKET_BITS)
            .map(|bucket| {
                while cdf[symbol as usize + 1] <= bucket << shift {
                    symbol += 1;
                }
                symbol
            })
            .collect();
        let mode = (0..probabilities.len()).fold(0, |m, s| if probabilities[s] > probabilities[m] { s } else { m });
        let start = mode.saturating_sub(1).min(probabilities.len().saturating_sub(3));
        let bound = |i: usize| cdf[(start + i).min(probabilities.len())];
        let window = (start, [bound(0), bound(1), bound(2), bound(3)]);
        Self { cdf, first, window }
    }

    /// Three neighbouring symbols around the most probable one: the first of them and the
    /// bounds of their intervals (`cumulative(start + i)` for `i` in `0..4`).
    #[inline]
    pub fn window(&self) -> (usize, [u32; 4]) {
        self.window
    }

    /// The symbol whose interval holds `quantile` (below `2^PRECISION`), its cumulative and
    /// its probability.
    #[inline]
    pub fn find(&self, quantile: u32) -> Found {
        // The bucket's first symbol, then on to the one whose interval holds the quantile
        // (quantiles are below 2^PRECISION, so the search stops before the end).
        let mut symbol = self.first[(quantile >> (PRECISION - BUCKET_BITS)) as usize] as usize;
        while self.cdf[symbol + 1] <= quantile {
            symbol += 1;
        }
        let (left, right) = (self.cdf[symbol], self.cdf[symbol + 1]);
        (symbol, left, right - left)
    }
}

impl EntropyModel<24> for LookupCategorical {
    type Symbol = usize;
    type Probability = u32;
}

impl EncoderModel<24> for LookupCategorical {
    fn left_cumulative_and_probability(&self, symbol: impl std::borrow::Borrow<usize>) -> Option<(u32, NonZeroU32)> {
        let symbol = *symbol.borrow();
        let (left, right) = (*self.cdf.get(symbol)?, *self.cdf.get(symbol + 1)?);
        Some((left, NonZeroU32::new(right - left)?))
    }
}

impl DecoderModel<24> for LookupCategorical {
    fn quantile_function(&self, quantile: u32) -> (usize, u32, NonZeroU32) {
        let (symbol, left, probability) = self.find(quantile);
        (symbol, left, NonZeroU32::new(probability).expect("probabilities are nonzero"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use constriction::stream::model::DefaultContiguousCategoricalEntropyModel;

    #[test]
    fn every_quantile_and_symbol_is_as_in_constrictions_model() {
        // A wide table, a narrow one, and one with a symbol spanning many buckets.
        let wide: Vec<u32> = {
            let mut p: Vec<u32> = (0..700u32).map(|i| 1 + (i * 7919) % 40000).collect();
            let rest = (1u32 << PRECISION) - p.iter().sum::<u32>();
            p[350] += rest;
            p
        };
        for probabilities in [wide, vec![1, (1 << PRECISION) - 2, 1], vec![1 << 23, 1 << 22, 1 << 22]] {
            let ours = LookupCategorical::new(&probabilities);
            let theirs = DefaultContiguousCategoricalEntropyModel::from_nonzero_fixed_point_probabilities(&probabilities, false).unwrap();
            let quantiles =
                (0..1u32 << PRECISION).step_by(4093).chain([0, 1, (1 << PRECISION) - 1]).chain(ours.cdf.iter().flat_map(|&c| [c.saturating_sub(1), c]));
            for q in quantiles.filter(|&q| q < 1 << PRECISION) {
                assert_eq!(ours.quantile_function(q), theirs.quantile_function(q), "quantile {q}");
            }
            for symbol in 0..=probabilities.len() {
                assert_eq!(ours.left_cumulative_and_probability(symbol), theirs.left_cumulative_and_probability(symbol), "symbol {symbol}");
            }
        }
    }
}
