//! Integer CDF tables of the factorized entropy model, one set per quality level.
//!
//! After training, each channel's learned density is tabulated once (see
//! [`QuantizedTables::from_masses`]) into fixed-point probabilities that sum to
//! `2^PRECISION`, every symbol at least 1. Encoder and decoder then use the very same integers
//! on every machine, so bytes decode to the same latents everywhere.
//!
//! Serialized layout (little-endian): `b"AECT"`, version `u16` = 1, levels `u16`,
//! channels `u16`; then per level: quantization step `u16` (units of 1/256), and per channel:
//! lowest value `i16`, symbol count `u16` (without the escape), then `count + 1` `u32`
//! probabilities, the last being the escape symbol.

use byteorder::{ByteOrder, LittleEndian as LE};

use crate::error::{Error, Result};

/// Bits of fixed-point precision of the probabilities.
pub const PRECISION: u32 = 24;
const MAGIC: &[u8; 4] = b"AECT";
const VERSION: u16 = 1;
/// Most symbols a channel table may have.
pub const MAX_SYMBOLS: usize = 4096;

/// The table of one channel at one quality level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelTable {
    /// The latent value of symbol 0.
    pub offset: i16,
    /// Probabilities of the `n` in-range symbols followed by the escape symbol; they sum to
    /// `2^PRECISION` and none is zero.
    pub probabilities: Vec<u32>,
}

impl ChannelTable {
    /// Number of in-range symbols (the escape excluded).
    pub fn symbols(&self) -> usize {
        self.probabilities.len() - 1
    }

    /// Builds a table from the floating-point masses of consecutive values starting at
    /// `offset`, plus the mass of everything outside them (the escape).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] if there are no masses or too many.
    pub fn from_masses(offset: i16, masses: &[f64], escape_mass: f64) -> Result<Self> {
        if masses.is_empty() || masses.len() > MAX_SYMBOLS {
            return Err(Error::InvalidArgument(format!("a channel table needs 1..={MAX_SYMBOLS} symbols")));
        }
        let all: Vec<f64> = masses.iter().copied().chain(std::iter::once(escape_mass)).map(|m| m.max(0.0)).collect();
        let total: f64 = all.iter().sum();
        let budget = (1u64 << PRECISION) - all.len() as u64;
        // One count each, the rest shared in proportion to the mass.
        let mut probabilities: Vec<u32> = all.iter().map(|m| 1 + (m / total.max(f64::MIN_POSITIVE) * budget as f64).floor() as u32).collect();
        let sum: u64 = probabilities.iter().map(|&p| u64::from(p)).sum();
        let largest = (0..probabilities.len()).max_by_key(|&i| probabilities[i]).expect("non-empty");
        let target = 1u64 << PRECISION;
        // Floors only lose counts, so the difference is added to the most likely symbol.
        probabilities[largest] += (target - sum) as u32;
        Ok(Self { offset, probabilities })
    }
}

/// Tables of every channel at one quality level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LevelTables {
    /// Quantization step in units of 1/256.
    pub step: u16,
    /// One table per latent channel.
    pub channels: Vec<ChannelTable>,
}

/// All quality levels of a model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuantizedTables {
    /// Level 1 first.
    pub levels: Vec<LevelTables>,
}

impl QuantizedTables {
    /// Serializes the tables.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&VERSION.to_le_bytes());
        out.extend_from_slice(&(self.levels.len() as u16).to_le_bytes());
        let channels = self.levels.first().map_or(0, |l| l.channels.len());
        out.extend_from_slice(&(channels as u16).to_le_bytes());
        for level in &self.levels {
            out.extend_from_slice(&level.step.to_le_bytes());
            for table in &level.channels {
                out.extend_from_slice(&table.offset.to_le_bytes());
                out.extend_from_slice(&(table.symbols() as u16).to_le_bytes());
                for p in &table.probabilities {
                    out.extend_from_slice(&p.to_le_bytes());
                }
            }
        }
        out
    }

    /// Parses and checks serialized tables.
    ///
    /// # Errors
    /// [`Error::Model`] if the bytes are truncated or a table is invalid.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let mut r = Reader { bytes, pos: 0 };
        if r.take(4)? != MAGIC {
            return Err(Error::Model("CDF tables: bad magic".into()));
        }
        let version = LE::read_u16(r.take(2)?);
        if version != VERSION {
            return Err(Error::Model(format!("CDF tables: unsupported version {version}")));
        }
        let levels = LE::read_u16(r.take(2)?);
        let channels = LE::read_u16(r.take(2)?);
        let mut out = Vec::new();
        for _ in 0..levels {
            let step = LE::read_u16(r.take(2)?);
            if step == 0 {
                return Err(Error::Model("CDF tables: zero quantization step".into()));
            }
            let mut tables = Vec::new();
            for _ in 0..channels {
                let offset = LE::read_i16(r.take(2)?);
                let count = usize::from(LE::read_u16(r.take(2)?));
                if count == 0 || count > MAX_SYMBOLS || i32::from(offset) + count as i32 > i32::from(i16::MAX) + 1 {
                    return Err(Error::Model(format!("CDF tables: bad symbol range {offset}+{count}")));
                }
                let raw = r.take((count + 1) * 4)?;
                let probabilities: Vec<u32> = raw.chunks_exact(4).map(LE::read_u32).collect();
                let sum: u64 = probabilities.iter().map(|&p| u64::from(p)).sum();
                if sum != 1 << PRECISION || probabilities.contains(&0) {
                    return Err(Error::Model("CDF tables: probabilities must be non-zero and sum to 2^24".into()));
                }
                tables.push(ChannelTable { offset, probabilities });
            }
            out.push(LevelTables { step, channels: tables });
        }
        if r.pos != bytes.len() {
            return Err(Error::Model("CDF tables: trailing bytes".into()));
        }
        Ok(Self { levels: out })
    }

    /// Number of latent channels described.
    pub fn channels(&self) -> usize {
        self.levels.first().map_or(0, |l| l.channels.len())
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.bytes.len());
        let end = end.ok_or_else(|| Error::Model("CDF tables: truncated".into()))?;
        let slice = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(slice)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_from_masses_sum_to_full_precision_without_zeros() {
        let t = ChannelTable::from_masses(-3, &[0.0, 0.1, 0.7, 0.2, 1e-12], 1e-9).unwrap();
        assert_eq!(t.probabilities.iter().map(|&p| u64::from(p)).sum::<u64>(), 1 << PRECISION);
        assert!(t.probabilities.iter().all(|&p| p > 0));
        assert_eq!(t.symbols(), 5);
    }

    #[test]
    fn tables_survive_serialization_and_reject_truncation() {
        let level = LevelTables { step: 256, channels: vec![ChannelTable::from_masses(-1, &[0.25, 0.5, 0.25], 0.0).unwrap(); 2] };
        let tables = QuantizedTables { levels: vec![level] };
        let bytes = tables.to_bytes();
        assert_eq!(QuantizedTables::from_bytes(&bytes).unwrap(), tables);
        for cut in 0..bytes.len() {
            assert!(QuantizedTables::from_bytes(&bytes[..cut]).is_err());
        }
    }
}
