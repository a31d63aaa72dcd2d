//! Freezing a trained entropy model into integer CDF tables (CompressAI's `update`).

use burn::prelude::*;

use super::tables::{ChannelTable, LevelTables, QuantizedTables};
use crate::error::Result;
use crate::model::EntropyBottleneck;

/// Values `-GRID..=GRID` (in quantization steps) are evaluated for every channel.
const GRID: i32 = 512;
/// Symbols with less mass than this are trimmed from both ends of a table (they go through
/// the escape instead).
const TAIL_MASS: f64 = 1e-7;

/// Tabulates the probabilities of every channel for every quantization step (in 1/256 units).
///
/// # Errors
/// Only if a table cannot be built (an internal invariant).
pub fn tabulate(entropy: &EntropyBottleneck, steps: &[u16], device: &Device) -> Result<QuantizedTables> {
    let channels = entropy.channels();
    let n = (2 * GRID + 1) as usize;
    let mut levels = Vec::with_capacity(steps.len());
    for &step_q in steps {
        let step = f32::from(step_q) / 256.0;
        let grid: Vec<f32> = (-GRID..=GRID).map(|k| k as f32 * step).collect();
        let x = Tensor::<1>::from_floats(grid.as_slice(), device).reshape([1, 1, n]).repeat_dim(0, channels);
        let masses: Vec<f32> = entropy.interval_mass(x, step).into_data().try_to_vec::<f32>().expect("f32 tensor");
        let tables = masses
            .chunks(n)
            .map(|m| {
                let m: Vec<f64> = m.iter().map(|&v| f64::from(v)).collect();
                let first = m.iter().position(|&v| v >= TAIL_MASS).unwrap_or(GRID as usize);
                let last = m.iter().rposition(|&v| v >= TAIL_MASS).unwrap_or(GRID as usize).max(first);
                let kept = &m[first..=last];
                let escape = (1.0 - kept.iter().sum::<f64>()).max(1e-9);
                ChannelTable::from_masses((first as i32 - GRID) as i16, kept, escape)
            })
            .collect::<Result<Vec<_>>>()?;
        levels.push(LevelTables { step: step_q, channels: tables });
    }
    Ok(QuantizedTables { levels })
}
