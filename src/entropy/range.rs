//! The range decoder of the format (format-spec, "The range coder"): 64-bit state, 32-bit
//! words, 24-bit probabilities. Encoding is constriction's `DefaultRangeEncoder`, whose words
//! the specification describes; this decoder reads them and checks the payload's exactness
//! (that it is exactly the words the encoder writes for the decoded symbols) from its own
//! state when the last symbol is decoded, instead of coding every symbol again. (Whether the
//! symbols are the ones the encoder uses for the decoded values, e.g. no escape for a value a
//! table covers, is the caller's check: `entropy::coding`.)
//!
//! Why the end state decides exactness. Let `D` be the payload read as a number, minus the
//! encoder's `lower`, aligned with the 64-bit window of the current two words (the words
//! beyond the window being its fraction). Every decoded symbol checks that its quantile is
//! below `2^24`, so `0 ≤ D < range` holds throughout and the window's difference
//! `point − lower` never wraps: it is `D`'s integer part, exactly. The encoder, sealing
//! after the last symbol, writes the digits of `lower + 2^32 − 1` up to the window's first
//! word (carries included), then one `0` word if the top word of `lower + range` equals that
//! last word. So the payload is exactly the encoder's output if and only if (a) its word
//! count is the words read into the window so far, less one, plus that optional `0` word,
//! and (b) `point − lower` equals `(−lower) mod 2^32`, the amount rounding `lower` up to a
//! whole word adds (with no words beyond the window, as (a) ensures). No symbol gives no
//! words. Tests check this against coding every decoded symbol again.

use super::lookup::LookupCategorical;
use super::tables::PRECISION;
use crate::format::FormatError;

/// Bits of a word.
const WORD_BITS: u32 = 32;

/// A symbol found for a quantile: the symbol, its cumulative (the sum of the probabilities of
/// the symbols before it) and its probability, all in `PRECISION` bits.
pub type Found = (usize, u32, u32);

/// Decodes symbols from a range-coded payload of little-endian 32-bit words.
#[derive(Debug)]
pub struct RangeDecoder<'a> {
    payload: &'a [u8],
    /// Index of the next word to read into the window (words past the end read as 0).
    next: usize,
    lower: u64,
    range: u64,
    point: u64,
}

impl<'a> RangeDecoder<'a> {
    /// A decoder at the start of `payload`.
    ///
    /// # Errors
    /// [`FormatError::CorruptPayload`] if the payload is empty or not a whole number of words.
    pub fn new(payload: &'a [u8]) -> Result<Self, FormatError> {
        if !payload.len().is_multiple_of(4) {
            return Err(FormatError::CorruptPayload("range-coded payload is not a whole number of words".into()));
        }
        if payload.is_empty() {
            return Err(FormatError::CorruptPayload("empty range-coded payload".into()));
        }
        let mut decoder = Self { payload, next: 0, lower: 0, range: u64::MAX, point: 0 };
        decoder.point = u64::from(decoder.read_word()) << WORD_BITS | u64::from(decoder.read_word());
        Ok(decoder)
    }

    fn read_word(&mut self) -> u32 {
        let at = self.next * 4;
        self.next += 1;
        match self.payload.get(at..at + 4) {
            Some(b) => u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
            None => 0,
        }
    }

    /// Decodes one symbol of the distribution that `quantile_function` describes (it returns
    /// the symbol whose interval holds a quantile below `2^24`, with that interval).
    ///
    /// # Errors
    /// [`FormatError::CorruptPayload`] if the payload does not describe a quantile.
    #[inline]
    pub fn decode(&mut self, quantile_function: impl FnOnce(u32) -> Found) -> Result<usize, FormatError> {
        let scale = self.range >> PRECISION;
        let quantile = (self.point.wrapping_sub(self.lower)) / scale;
        if quantile >= 1 << PRECISION {
            return Err(FormatError::CorruptPayload("range decoder failed".into()));
        }
        let (symbol, cumulative, probability) = quantile_function(quantile as u32);
        self.lower = self.lower.wrapping_add(scale * u64::from(cumulative));
        self.range = scale * u64::from(probability);
        self.renormalize();
        Ok(symbol)
    }

    /// Decodes one symbol of `model`. Tries the three symbols around its most probable one
    /// first, without a division: a quantile `⌊d / scale⌋` lies in `[c, c')` exactly when
    /// `c·scale ≤ d < c'·scale` (integers), so the symbol and the state are those
    /// [`Self::decode`] gives.
    ///
    /// # Errors
    /// As [`Self::decode`].
    #[inline]
    pub fn decode_lookup(&mut self, model: &LookupCategorical) -> Result<usize, FormatError> {
        let (start, bounds) = model.window();
        let scale = self.range >> PRECISION;
        let offset = self.point.wrapping_sub(self.lower);
        let b = bounds.map(|c| scale * u64::from(c));
        if (b[0]..b[3]).contains(&offset) {
            let i = usize::from(offset >= b[1]) + usize::from(offset >= b[2]);
            self.lower = self.lower.wrapping_add(b[i]);
            self.range = b[i + 1] - b[i];
            self.renormalize();
            return Ok(start + i);
        }
        self.decode(|quantile| model.find(quantile))
    }

    /// Shifts a word into the window when the range has shrunk below `2^32`.
    #[inline]
    fn renormalize(&mut self) {
        if self.range < 1 << (64 - WORD_BITS) {
            self.lower <<= WORD_BITS;
            self.range <<= WORD_BITS;
            self.point = self.point << WORD_BITS | u64::from(self.read_word());
        }
    }

    /// Ends decoding: checks that the payload is exactly the encoder's words for the symbols
    /// decoded (see the module's documentation).
    ///
    /// # Errors
    /// [`FormatError::CorruptPayload`] for missing, spare or altered words.
    pub fn finish(self) -> Result<(), FormatError> {
        let words = self.payload.len() / 4;
        let exact = if self.range == u64::MAX {
            // No symbol decoded: the encoder writes nothing (and `new` refused an empty payload).
            false
        } else {
            let sealed = self.lower.wrapping_add((1 << WORD_BITS) - 1) >> WORD_BITS;
            let zero_word = self.lower.wrapping_add(self.range) >> WORD_BITS == sealed;
            let rounding_up = u64::from((self.lower as u32).wrapping_neg());
            words + 1 == self.next + usize::from(zero_word) && self.point.wrapping_sub(self.lower) == rounding_up
        };
        if exact {
            Ok(())
        } else {
            Err(FormatError::CorruptPayload("range-coded payload is not exactly the encoder's output (missing, spare or altered words)".into()))
        }
    }
}

/// The quantile function of a raw 16-bit value after an escape symbol: constriction's
/// uniform model over `2^16` symbols, 256 quantiles each.
#[inline]
pub fn escape_quantile(quantile: u32) -> Found {
    let symbol = quantile >> (PRECISION - 16);
    (symbol as usize, symbol << (PRECISION - 16), 1 << (PRECISION - 16))
}

#[cfg(test)]
mod tests {
    use super::*;
    use constriction::stream::Encode;
    use constriction::stream::model::{DecoderModel, DefaultUniformModel, EncoderModel};
    use constriction::stream::queue::DefaultRangeEncoder;

    #[test]
    fn the_escape_model_is_constrictions_uniform_model() {
        let theirs = DefaultUniformModel::new(1 << 16);
        for quantile in (0..1u32 << PRECISION).step_by(97).chain([0, 255, 256, (1 << PRECISION) - 1]) {
            let (symbol, left, p) = DecoderModel::<24>::quantile_function(&theirs, quantile);
            assert_eq!(escape_quantile(quantile), (symbol, left, p.get()), "quantile {quantile}");
        }
        for symbol in [0usize, 1, 77, 65535] {
            let (left, p) = EncoderModel::<24>::left_cumulative_and_probability(&theirs, symbol).unwrap();
            assert_eq!(escape_quantile(left), (symbol, left, p.get()));
        }
    }

    /// A small skewed distribution over 5 symbols and its quantile function.
    const PROBABILITIES: [u32; 5] = [1, 3 << 20, (1 << 24) - (3 << 20) - (1 << 22) - 2, 1 << 22, 1];

    fn quantile_function(quantile: u32) -> Found {
        let mut cumulative = 0;
        for (symbol, &p) in PROBABILITIES.iter().enumerate() {
            if quantile < cumulative + p {
                return (symbol, cumulative, p);
            }
            cumulative += p;
        }
        unreachable!("quantiles are below 2^24")
    }

    fn encode(symbols: &[usize]) -> Vec<u8> {
        let model =
            constriction::stream::model::DefaultContiguousCategoricalEntropyModel::from_nonzero_fixed_point_probabilities(PROBABILITIES, false).unwrap();
        let mut encoder = DefaultRangeEncoder::new();
        for &s in symbols {
            encoder.encode_symbol(s, &model).unwrap();
        }
        encoder.into_compressed().unwrap().iter().flat_map(|w| w.to_le_bytes()).collect()
    }

    /// Decodes `count` symbols; `Ok` only if the end check accepts the payload.
    fn decode(payload: &[u8], count: usize) -> Result<Vec<usize>, FormatError> {
        let mut decoder = RangeDecoder::new(payload)?;
        let symbols = (0..count).map(|_| decoder.decode(quantile_function)).collect::<Result<Vec<_>, _>>()?;
        decoder.finish()?;
        Ok(symbols)
    }

    /// The check the end state replaces: decode, then code the symbols again.
    fn decode_by_coding_again(payload: &[u8], count: usize) -> Option<Vec<usize>> {
        let mut decoder = RangeDecoder::new(payload).ok()?;
        let symbols = (0..count).map(|_| decoder.decode(quantile_function)).collect::<Result<Vec<_>, _>>().ok()?;
        (encode(&symbols) == payload).then_some(symbols)
    }

    fn symbols(count: usize, seed: u64) -> Vec<usize> {
        let mut state = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        (0..count)
            .map(|_| {
                state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
                // Mostly the likely symbols, now and then the improbable ones (long carries).
                match (state >> 33) % 64 {
                    0 => 0,
                    1 => 4,
                    r => 1 + (r as usize % 3),
                }
            })
            .collect()
    }

    #[test]
    fn payloads_decode_and_pass_the_end_check() {
        for (count, seed) in (1..200).map(|c| (c, c as u64)).chain([(5000, 1), (5000, 2)]) {
            let symbols = symbols(count, seed);
            let payload = encode(&symbols);
            assert_eq!(decode(&payload, count).expect("decodes"), symbols, "{count} symbols, seed {seed}");
        }
    }

    #[test]
    fn the_end_check_refuses_exactly_what_coding_again_refuses() {
        let mut refused = 0;
        for (count, seed) in (1..120).map(|c| (c, 7 * c as u64)) {
            let payload = encode(&symbols(count, seed));
            let words = payload.len() / 4;
            let mut variants: Vec<Vec<u8>> = Vec::new();
            // Every bit of the last two words and a few of the first, flipped.
            for bit in (0..payload.len() * 8).filter(|&b| b >= payload.len().saturating_sub(8) * 8 || b % 13 == 0) {
                let mut v = payload.clone();
                v[bit / 8] ^= 1 << (bit % 8);
                variants.push(v);
            }
            // Spare words (zero and not), a missing word, the last word one more or one less.
            for spare in [0u32, 1, u32::MAX] {
                variants.push(payload.iter().copied().chain(spare.to_le_bytes()).collect());
            }
            variants.push(payload[..payload.len() - 4].to_vec());
            for delta in [1u32, u32::MAX] {
                let mut v = payload.clone();
                let last = u32::from_le_bytes(v[v.len() - 4..].try_into().unwrap()).wrapping_add(delta);
                v.splice(words * 4 - 4.., last.to_le_bytes());
                variants.push(v);
            }
            for v in variants.into_iter().filter(|v| !v.is_empty()) {
                let ours = decode(&v, count).ok();
                assert_eq!(ours, decode_by_coding_again(&v, count), "{count} symbols, payload {v:?}");
                refused += usize::from(ours.is_none());
            }
        }
        assert!(refused > 1000, "the variants are mostly refused ({refused})");
    }

    #[test]
    fn trying_the_symbols_around_the_most_probable_first_changes_nothing() {
        let skewed = LookupCategorical::new(&PROBABILITIES);
        assert_eq!(skewed.window(), (1, [1, 1 + (3 << 20), (1 << 24) - (1 << 22) - 1, (1 << 24) - 1]));
        // Two symbols (the window's last bound repeated), and a wide table whose most probable
        // symbol is in the middle.
        let two = LookupCategorical::new(&[3 << 22, 1 << 22]);
        assert_eq!(two.window(), (0, [0, 3 << 22, 1 << 24, 1 << 24]));
        let mut wide: Vec<u32> = (0..41u32).map(|i| 1000 + 20 * (20 - i.abs_diff(20)).pow(3)).collect();
        wide[20] += (1 << 24) - wide.iter().sum::<u32>();
        let wide = LookupCategorical::new(&wide);
        let valid = (1..60).map(|count| encode(&symbols(count, count as u64)));
        let random =
            (0..60u32).map(|seed| (0..4 * (1 + seed % 9)).map(|i| (i.wrapping_mul(2_654_435_761).wrapping_add(seed * 977) >> 13) as u8).collect::<Vec<u8>>());
        for payload in valid.chain(random) {
            for model in [&skewed, &two, &wide] {
                let (mut direct, mut first) = (RangeDecoder::new(&payload).unwrap(), RangeDecoder::new(&payload).unwrap());
                for _ in 0..300 {
                    let (a, b) = (direct.decode(|q| model.find(q)), first.decode_lookup(model));
                    assert_eq!(a.is_ok(), b.is_ok(), "{payload:?}");
                    assert_eq!((direct.lower, direct.range, direct.point, direct.next), (first.lower, first.range, first.point, first.next));
                    if a.is_err() {
                        break;
                    }
                    assert_eq!(a.unwrap(), b.unwrap());
                }
            }
        }
    }

    #[test]
    fn malformed_payloads_are_refused_without_panicking() {
        assert!(RangeDecoder::new(&[]).is_err());
        assert!(RangeDecoder::new(&[1, 2, 3]).is_err());
        for payload in [vec![0xff; 4], vec![0xff; 64], vec![0; 8], vec![0x80, 0, 0, 0]] {
            for count in [0, 1, 3, 100] {
                let _ = decode(&payload, count);
            }
        }
        assert!(decode(&[0; 8], 0).is_err(), "no symbol, no words");
    }
}
