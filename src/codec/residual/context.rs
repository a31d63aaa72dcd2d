//! The contexts of the residual layer's version 2 and the encoder's choice of its tables.
//!
//! A coefficient of frequency `k = 8u + v` is coded under its channel's table for `k` moved by
//! the offset of its context. The context is read from what is coded before it: the two blocks
//! beside it in the same channel (to the left and above; a block missing at the picture's edge
//! counts as all zero) — how many nonzero coefficients the two hold together, and
//! `|left[k]| + |above[k]|` — and its own block's two coefficients before it at the
//! neighbouring frequencies, `|q[k − 1]|` (if `v > 0`) plus `|q[k − 8]|` (if `u > 0`). Each of
//! the three is bucketed; the context is the bucket triple.

use super::COEFFICIENTS;
use crate::entropy::coding::indexed_bits;
use crate::entropy::gaussian::SCALES;
use crate::format::FormatError;

/// Bucket thresholds of the nonzero count of the two neighbouring blocks: 0, 1–2, 3–5, 6–10,
/// 11–20, 21 and more.
const COUNT_EDGES: [u32; 5] = [1, 3, 6, 11, 21];
/// Bucket thresholds of `|left[k]| + |above[k]|` and of `|q[k − 1]| + |q[k − 8]|`: 0, 1, 2–3,
/// 4 and more.
const MAGNITUDE_EDGES: [u32; 3] = [1, 2, 4];
/// Buckets of a magnitude.
const MAGNITUDES: usize = MAGNITUDE_EDGES.len() + 1;
/// Number of contexts.
pub const CONTEXTS: usize = (COUNT_EDGES.len() + 1) * MAGNITUDES * MAGNITUDES;
/// The encoder searches offsets in `-MAX_OFFSET..=MAX_OFFSET` (a decoder takes any `i8`).
const MAX_OFFSET: i32 = 32;
/// Rounds of the encoder's alternating search for the indices and the offsets.
const ROUNDS: usize = 4;
/// After the first round, the search looks this far from the values found.
const NEAR: i32 = 3;

/// The number of thresholds at or below `v`.
fn bucket(v: u32, edges: &[u32]) -> usize {
    edges.iter().take_while(|&&e| e <= v).count()
}

/// The smallest magnitude in the last bucket (every larger one is in it too).
const LAST_MAGNITUDE: u32 = MAGNITUDE_EDGES[MAGNITUDE_EDGES.len() - 1];

/// [`bucket`] of each magnitude up to [`LAST_MAGNITUDE`] under [`MAGNITUDE_EDGES`] (the
/// decoder's step per coefficient).
const MAGNITUDE_BUCKETS: [u8; LAST_MAGNITUDE as usize + 1] = {
    let mut buckets = [0u8; LAST_MAGNITUDE as usize + 1];
    let mut v = 0;
    while v < buckets.len() {
        let mut e = 0;
        while e < MAGNITUDE_EDGES.len() {
            buckets[v] += (MAGNITUDE_EDGES[e] <= v as u32) as u8;
            e += 1;
        }
        v += 1;
    }
    buckets
};

/// The bucket of a magnitude: [`bucket`] under [`MAGNITUDE_EDGES`].
#[inline]
fn magnitude_bucket(v: u32) -> usize {
    usize::from(MAGNITUDE_BUCKETS[v.min(LAST_MAGNITUDE) as usize])
}

/// A coded channel's tables: a bank index per frequency and an offset per context.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tables {
    /// The bank index of each frequency.
    pub base: [u8; COEFFICIENTS],
    /// What each context adds to the index (all 0 in a version-1 layer).
    pub offsets: [i8; CONTEXTS],
}

impl Tables {
    /// The bank table of frequency `k` in context `context`: `base[k] + offsets[context]`,
    /// clamped to the bank.
    pub fn index(&self, k: usize, context: usize) -> u8 {
        (i32::from(self.base[k]) + i32::from(self.offsets[context])).clamp(0, SCALES as i32 - 1) as u8
    }

    /// [`Tables::index`] of every frequency and context, `[k][context]` (what a decoder looks
    /// up per coefficient).
    pub fn indices(&self) -> Box<[[u8; CONTEXTS]; COEFFICIENTS]> {
        Box::new(std::array::from_fn(|k| std::array::from_fn(|context| self.index(k, context))))
    }
}

/// The blocks of a layer in stream order — for each row of `rows`, each of `channels`
/// channels, each of the row's `columns` blocks — as `(block, channel, left, above)`: the
/// block's place in the stream, its channel's place among the coded ones, and the places of
/// the blocks left of and above it in the same channel (`None` at the picture's edge). A
/// channel's blocks alone, row by row, are the stream of one channel.
fn stream_blocks(rows: usize, channels: usize, columns: usize) -> impl Iterator<Item = (usize, usize, Option<usize>, Option<usize>)> {
    (0..rows).flat_map(move |r| {
        (0..channels).flat_map(move |j| {
            (0..columns).map(move |b| {
                let at = (r * channels + j) * columns + b;
                (at, j, (b > 0).then(|| at - 1), (r > 0).then(|| at - channels * columns))
            })
        })
    })
}

/// The number of nonzero values of a block.
fn nonzero(block: &[i16]) -> u32 {
    block.iter().filter(|&&v| v != 0).count() as u32
}

/// What a block's two coded neighbours say of its coefficients.
struct Neighbours<'a> {
    left: &'a [i16],
    above: &'a [i16],
    count: usize,
}

/// The block that stands in for a neighbour beyond the picture.
static NONE: [i16; COEFFICIENTS] = [0; COEFFICIENTS];

impl<'a> Neighbours<'a> {
    /// The neighbours `left` and `above` (places of blocks of `blocks`, 64 values each, whose
    /// nonzero counts are `nonzero`).
    fn of(blocks: &'a [i16], nonzero: &[u32], left: Option<usize>, above: Option<usize>) -> Self {
        let block = |at: Option<usize>| at.map_or(&NONE[..], |at| &blocks[at * COEFFICIENTS..][..COEFFICIENTS]);
        let count = left.map_or(0, |at| nonzero[at]) + above.map_or(0, |at| nonzero[at]);
        Self { left: block(left), above: block(above), count: bucket(count, &COUNT_EDGES) }
    }

    /// The context of frequency `k` of `block`, whose values before `k` are known (the later
    /// ones are not read).
    fn context(&self, k: usize, block: &[i16]) -> usize {
        let magnitude = |a: i16, b: i16| magnitude_bucket(u32::from(a.unsigned_abs()) + u32::from(b.unsigned_abs()));
        let before = |step: usize, first: bool| if first { 0 } else { block[k - step] };
        let own = magnitude(before(1, k.is_multiple_of(8)), before(8, k < 8));
        (self.count * MAGNITUDES + magnitude(self.left[k], self.above[k])) * MAGNITUDES + own
    }
}

/// Visits the values of a stream of `rows` rows of `columns` blocks of `channels` channels
/// (in the order of [`stream_blocks`]), each with its frequency, its channel's place among the
/// coded ones and its context, as the values before it give: `visit(k, channel, context,
/// value)` reads the value (an encoder) or writes it (a decoder), so both read the same
/// contexts.
///
/// # Errors
/// The first error `visit` returns.
pub fn walk(
    values: &mut [i16],
    (rows, channels, columns): (usize, usize, usize),
    mut visit: impl FnMut(usize, usize, usize, &mut i16) -> Result<(), FormatError>,
) -> Result<(), FormatError> {
    let mut counts = vec![0u32; values.len() / COEFFICIENTS];
    for (at, j, left, above) in stream_blocks(rows, channels, columns) {
        let (done, block) = values.split_at_mut(at * COEFFICIENTS);
        let block = &mut block[..COEFFICIENTS];
        let neighbours = Neighbours::of(done, &counts, left, above);
        for k in 0..COEFFICIENTS {
            visit(k, j, neighbours.context(k, block), &mut block[k])?;
        }
        counts[at] = nonzero(block);
    }
    Ok(())
}

/// Values are counted exactly in `-SPAN..=SPAN`, the rare ones beyond one by one.
const SPAN: i32 = 64;
/// The values counted exactly.
const COUNTED: usize = 2 * SPAN as usize + 1;

/// The cost in bits of each value of `-SPAN..=SPAN` under each bank table.
fn value_bits() -> &'static [[f32; COUNTED]] {
    static BITS: std::sync::OnceLock<Vec<[f32; COUNTED]>> = std::sync::OnceLock::new();
    BITS.get_or_init(|| (0..SCALES).map(|k| std::array::from_fn(|i| indexed_bits((i as i32 - SPAN) as i16, k as u8) as f32)).collect())
}

/// A channel's tables as the encoder fitted them, each with the bits it codes the values in.
pub struct Fitted {
    /// Version 1's: the best index of each frequency, all offsets 0.
    pub plain: (Tables, f64),
    /// Version 2's: indices and offsets.
    pub contextual: (Tables, f64),
}

/// The tables that code a channel's values (blocks row by row, `columns` to a row) in fewest
/// bits, and those bits: each frequency's index and each context's offset, found by
/// alternately choosing the best indices for the offsets and the best offsets for the indices
/// (from version 1's best tables, all offsets 0, so never worse than those).
pub fn fit(values: &[i16], columns: usize) -> Fitted {
    let groups = COEFFICIENTS * CONTEXTS;
    // How often each value occurs in each group (frequency, context).
    let mut counts = vec![0u32; groups * COUNTED];
    let mut beyond: Vec<(usize, i16)> = Vec::new();
    let rows = values.len() / COEFFICIENTS / columns.max(1);
    walk(&mut values.to_vec(), (rows, 1, columns), |k, _, context, &mut v| {
        let group = k * CONTEXTS + context;
        match usize::try_from(i32::from(v) + SPAN).ok().filter(|&i| i < COUNTED) {
            Some(i) => counts[group * COUNTED + i] += 1,
            None => beyond.push((group, v)),
        }
        Ok(())
    })
    .expect("counting the values cannot fail");
    // cost[group][table]: the group's bits under each table.
    let bits = value_bits();
    let mut cost = vec![[0f64; SCALES]; groups];
    for (group, row) in counts.chunks_exact(COUNTED).enumerate() {
        for (i, &n) in row.iter().enumerate().filter(|(_, n)| **n > 0) {
            for (table, c) in cost[group].iter_mut().enumerate() {
                *c += f64::from(n) * f64::from(bits[table][i]);
            }
        }
    }
    for &(group, v) in &beyond {
        for (table, c) in cost[group].iter_mut().enumerate() {
            *c += indexed_bits(v, table as u8);
        }
    }
    descend(&cost)
}

/// The alternating search of [`fit`] over `cost[k·CONTEXTS + context][table]`: the first
/// round over every offset and index, the later ones within [`NEAR`] of the values found.
fn descend(cost: &[[f64; SCALES]]) -> Fitted {
    let at = |k: usize, context: usize, index: i32| cost[k * CONTEXTS + context][index.clamp(0, SCALES as i32 - 1) as usize];
    let argmin = |candidates: std::ops::RangeInclusive<i32>, total: &dyn Fn(i32) -> f64| {
        candidates.map(|c| (c, total(c))).min_by(|a, b| a.1.total_cmp(&b.1)).expect("candidates").0
    };
    let around = |value: i32, low: i32, high: i32, round: usize| if round == 0 { low..=high } else { (value - NEAR).max(low)..=(value + NEAR).min(high) };
    let mut tables = Tables { base: [0; COEFFICIENTS], offsets: [0; CONTEXTS] };
    let best_base = |tables: &Tables, k: usize, round: usize| {
        let candidates = around(i32::from(tables.base[k]), 0, SCALES as i32 - 1, round);
        argmin(candidates, &|b| (0..CONTEXTS).map(|c| at(k, c, b + i32::from(tables.offsets[c]))).sum()) as u8
    };
    for k in 0..COEFFICIENTS {
        tables.base[k] = best_base(&tables, k, 0);
    }
    let bits = |tables: &Tables| -> f64 {
        (0..COEFFICIENTS).flat_map(|k| (0..CONTEXTS).map(move |c| (k, c))).map(|(k, c)| cost[k * CONTEXTS + c][usize::from(tables.index(k, c))]).sum()
    };
    let plain = (tables, bits(&tables));
    for round in 0..ROUNDS {
        for c in 0..CONTEXTS {
            let candidates = around(i32::from(tables.offsets[c]), -MAX_OFFSET, MAX_OFFSET, round);
            tables.offsets[c] = argmin(candidates, &|o| (0..COEFFICIENTS).map(|k| at(k, c, i32::from(tables.base[k]) + o)).sum()) as i8;
        }
        for k in 0..COEFFICIENTS {
            tables.base[k] = best_base(&tables, k, round + 1);
        }
    }
    Fitted { plain, contextual: (tables, bits(&tables)) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_decoders_lookups_are_the_buckets_and_indices() {
        for v in 0..=2 * u32::from(u16::MAX) {
            assert_eq!(magnitude_bucket(v), bucket(v, &MAGNITUDE_EDGES), "magnitude {v}");
        }
        let tables = Tables { base: std::array::from_fn(|k| (k * 7 % SCALES) as u8), offsets: std::array::from_fn(|c| (c as i32 * 37 % 256 - 128) as i8) };
        let indices = tables.indices();
        for k in 0..COEFFICIENTS {
            for context in 0..CONTEXTS {
                assert_eq!(indices[k][context], tables.index(k, context));
            }
        }
    }

    #[test]
    fn the_stream_visits_each_block_once_with_its_neighbours_before_it() {
        let (rows, channels, columns) = (3, 2, 4);
        let blocks: Vec<_> = stream_blocks(rows, channels, columns).collect();
        assert_eq!(blocks.iter().map(|b| b.0).collect::<Vec<_>>(), (0..rows * channels * columns).collect::<Vec<_>>());
        // Row 1, channel 1, column 2: left is column 1, above is row 0's channel 1, column 2.
        let at = (channels + 1) * columns + 2;
        assert_eq!(blocks[at], (at, 1, Some(at - 1), Some(columns + 2)));
        assert_eq!(blocks[0], (0, 0, None, None));
        assert_eq!(blocks[columns], (columns, 1, None, None), "a channel's first block of the first row");
    }

    #[test]
    fn contexts_grow_with_the_neighbours() {
        let mut blocks = vec![0i16; 3 * COEFFICIENTS];
        blocks[3] = 5; // left block: one nonzero value at frequency 3
        blocks[COEFFICIENTS..COEFFICIENTS + 30].fill(-1); // above: 30 nonzero values
        let nonzero: Vec<u32> = blocks.chunks_exact(COEFFICIENTS).map(nonzero).collect();
        let mut own = [0i16; COEFFICIENTS];
        let none = Neighbours::of(&blocks, &nonzero, None, None);
        assert_eq!((0..COEFFICIENTS).map(|k| none.context(k, &own)).max(), Some(0));
        let both = Neighbours::of(&blocks, &nonzero, Some(0), Some(1));
        assert_eq!(both.context(3, &own), CONTEXTS - 4, "31 nonzero values, |5| + |-1| = 6");
        assert_eq!(both.context(40, &own), 5 * 16, "31 nonzero values, nothing at frequency 40");
        assert_eq!(both.context(10, &own), 5 * 16 + 4, "|0| + |-1| = 1");
        // The block's own values before k: left (k - 1) and above (k - 8), not across a row.
        own[41] = 2;
        own[33] = 1;
        assert_eq!(both.context(42, &own), 5 * 16 + 2, "|2| at k - 1 only");
        assert_eq!(both.context(41, &own), 5 * 16 + 1, "|1| at k - 8 only");
        own[47] = 9;
        assert_eq!(both.context(48, &own), 5 * 16, "k - 1 = 47 is in the row above: not read");
        own[40] = 3;
        assert_eq!(both.context(48, &own), 5 * 16 + 2, "|3| at k - 8");
        assert_eq!(both.context(49, &own), 5 * 16 + 2, "|0| at k - 1 = 48, |2| at k - 8 = 41");
    }

    #[test]
    fn tables_clamp_to_the_bank() {
        let tables = Tables { base: [60; COEFFICIENTS], offsets: std::array::from_fn(|c| if c == 0 { -100 } else { 10 }) };
        assert_eq!((tables.index(0, 0), tables.index(0, 1)), (0, SCALES as u8 - 1));
    }

    #[test]
    fn fitted_contexts_code_a_busy_and_a_quiet_half_in_fewer_bits_than_one_table_each() {
        // Blocks in 8 rows of 8: the left half busy (values up to ±6), the right half quiet.
        let columns = 8;
        let values: Vec<i16> = (0..64 * COEFFICIENTS)
            .map(|i| {
                let (block, k) = (i / COEFFICIENTS, i % COEFFICIENTS);
                let busy = block % columns < columns / 2;
                let v = ((i * 7919) % 13) as i16 - 6;
                if busy {
                    v
                } else if k == 0 && block % 3 == 0 {
                    v.signum()
                } else {
                    0
                }
            })
            .collect();
        let Fitted { plain: (plain_tables, plain_bits), contextual: (tables, bits) } = fit(&values, columns);
        let plain: f64 = (0..COEFFICIENTS)
            .map(|k| {
                (0..SCALES as u8).map(|t| values.iter().skip(k).step_by(COEFFICIENTS).map(|&v| indexed_bits(v, t)).sum::<f64>()).fold(f64::INFINITY, f64::min)
            })
            .sum();
        assert!(bits < 0.9 * plain, "{bits} bits with contexts, {plain} without");
        assert!((plain_bits - plain).abs() < 1e-3 * plain && plain_tables.offsets == [0; CONTEXTS], "version 1's best tables");
        assert!(tables.offsets.iter().any(|&o| o != 0));
        // The bits are those of coding every value under the table its context names.
        let nonzero: Vec<u32> = values.chunks_exact(COEFFICIENTS).map(nonzero).collect();
        let direct: f64 = stream_blocks(8, 1, columns)
            .map(|(at, _, left, above)| {
                let n = Neighbours::of(&values, &nonzero, left, above);
                let block = &values[at * COEFFICIENTS..][..COEFFICIENTS];
                (0..COEFFICIENTS).map(|k| indexed_bits(block[k], tables.index(k, n.context(k, block)))).sum::<f64>()
            })
            .sum();
        assert!((direct - bits).abs() < 1e-3 * bits, "{direct} vs {bits}");
    }
}
