//! How the built-in models' weights are stored in the binary: a compact *weight pack* that
//! build.rs writes from the trained `f32` burnpack files, and that the loaders expand back into
//! the tensors of a burnpack before burn loads them into a model.
//!
//! Two precisions (build.rs chooses one per tensor):
//! - **exact**: the weight's `f16` value, bit for bit (what a decoder's transform needs: the
//!   pictures of existing files must not move).
//! - **coarse**: a signed integer code of `bits` bits per weight, with one scale per slice along
//!   the tensor's first axis (`weight ≈ code · scale`, the scale making the slice's largest
//!   weight the largest code). For weights that only shape new files (an encoder's transforms):
//!   a file written with them decodes like any other.
//!
//! Either way a weight becomes a 16-bit *symbol* that grows with its magnitude, the sign as its
//! lowest bit (a code `c` as `2c` or `−2c − 1`; an `f16` as its magnitude bits, shifted left
//! once, and its sign bit). Each symbol is cut into a *token*, its high bits (the tensor's
//! `shift` chosen so that every token fits a byte), which zstd compresses well (most weights
//! are small), and its low `shift` bits, which are close to random and are stored as they are,
//! packed. Against two byte planes in one zstd frame this saved 7% of the codes and 1% of the
//! `f16` weights (0.36 MB of the built-in models).
//!
//! Layout (integers little-endian): `b"AECW"`, a `u32` format version (2), a `u32` length `n`,
//! `n` bytes of JSON describing every tensor (name, type, shape, parameter id, coding, scales as
//! `f32` bit patterns, shift, where its token frame starts and how long it is, where its packed
//! low bits start and how long they are), then the frames and low bits. This file is shared
//! with build.rs (`#[path]`), so it depends on nothing else in aec.

use burn_pack::{Bytes, DType, Reader, Shape, Tensor};
use rayon::prelude::*;
use serde_json::{Value, json};

/// First bytes of a weight pack.
const MAGIC: &[u8; 4] = b"AECW";
/// The layout this module writes and reads.
const VERSION: u32 = 2;
/// zstd level of the frames (decoding speed does not depend on it).
const LEVEL: i32 = 19;
/// The largest tensor a pack may declare, in bytes (a bound checked before allocating).
const MAX_TENSOR_BYTES: usize = 1 << 30;

/// How precisely a tensor is kept.
#[cfg_attr(not(test), allow(dead_code))] // build.rs packs; aec only unpacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precision {
    /// Its `f16` value, bit for bit.
    Exact,
    /// A signed code of this many bits (2 to 16) times a scale per slice along the first axis.
    Coarse(u32),
}

/// Packs `tensors` (`f32` tensors become `f16` or codes as `precision` says; other types are
/// kept as they are).
///
/// # Errors
/// A message if a float tensor holds a value beyond half precision or a non-finite value, or a
/// precision is out of range.
#[cfg_attr(not(test), allow(dead_code))] // build.rs packs; aec only unpacks.
pub fn pack(tensors: Vec<Tensor>, precision: impl Fn(&str) -> Precision) -> Result<Vec<u8>, String> {
    let mut data = Vec::new();
    let mut described = Vec::new();
    for tensor in tensors {
        let (name, dtype, shape, param_id, bytes) = tensor.into_parts().map_err(|e| format!("{e:?}"))?;
        // (coding, (shift, tokens, low bits), scales); other types than f32 as their bytes.
        let (coding, (shift, tokens, low_bits), scales) = match dtype {
            DType::F32 => {
                let values: Vec<f32> = bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
                if let Some(v) = values.iter().find(|v| !v.is_finite() || v.abs() > 65504.0) {
                    return Err(format!("{name} holds {v}, beyond half precision"));
                }
                match precision(&name) {
                    Precision::Exact => {
                        let symbols: Vec<u16> = values.iter().map(|&v| half_symbol(half::f16::from_f32(v).to_bits())).collect();
                        ("exact", split(&symbols), Vec::new())
                    }
                    Precision::Coarse(bits) => {
                        let slices = if shape.num_dims() >= 2 { shape.as_slice()[0] } else { 1 };
                        let (codes, scales) = quantize(&values, slices, bits)?;
                        ("coarse", split(&codes.into_iter().map(code_symbol).collect::<Vec<_>>()), scales)
                    }
                }
            }
            _ => ("raw", (0, bytes.to_vec(), Vec::new()), Vec::new()),
        };
        let frame = zstd::bulk::compress(&tokens, LEVEL).map_err(|e| format!("{name}: {e}"))?;
        let frame_at = data.len();
        data.extend_from_slice(&frame);
        let low_at = data.len();
        data.extend_from_slice(&low_bits);
        described.push(json!({
            "name": name,
            "dtype": dtype,
            "shape": shape.as_slice(),
            "param_id": param_id,
            "coding": coding,
            "scales": scales.iter().map(|s: &f32| s.to_bits()).collect::<Vec<_>>(),
            "shift": shift,
            "frame": [frame_at, frame.len()],
            "tokens": tokens.len(),
            "low_bits": [low_at, low_bits.len()],
        }));
    }
    let header = serde_json::to_vec(&json!({ "tensors": described })).map_err(|e| e.to_string())?;
    let mut out = Vec::with_capacity(12 + header.len() + data.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(&u32::try_from(header.len()).map_err(|_| "a descriptor over 4 GiB")?.to_le_bytes());
    out.extend_from_slice(&header);
    out.extend_from_slice(&data);
    Ok(out)
}

/// Packs a burnpack file's tensors but those whose name `skip` picks.
///
/// # Errors
/// A message if the file cannot be read or [`pack`] refuses a tensor.
#[allow(dead_code)] // build.rs packs; aec only unpacks.
pub fn pack_file(path: &std::path::Path, skip: impl Fn(&str) -> bool, precision: impl Fn(&str) -> Precision) -> Result<Vec<u8>, String> {
    let reader = Reader::from_file_exact(path).map_err(|e| format!("{}: {e:?}", path.display()))?;
    let tensors = reader.into_tensors().map_err(|e| format!("{}: {e:?}", path.display()))?;
    pack(tensors.into_iter().filter(|t| !skip(&t.name)).collect(), precision)
}

/// A weight pack's tensor codes: `bits`-bit codes and one scale per slice along the first axis.
fn quantize(values: &[f32], slices: usize, bits: u32) -> Result<(Vec<i16>, Vec<f32>), String> {
    if !(2..=16).contains(&bits) {
        return Err(format!("{bits} bits per code"));
    }
    let largest = ((1i32 << (bits - 1)) - 1) as f32;
    let slices = slices.max(1);
    let per_slice = values.len() / slices;
    let mut codes = Vec::with_capacity(values.len());
    let mut scales = Vec::with_capacity(slices);
    for slice in values.chunks(per_slice.max(1)) {
        let peak = slice.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        let scale = if peak > 0.0 { peak / largest } else { 1.0 };
        scales.push(scale);
        codes.extend(slice.iter().map(|&v| (v / scale).round().clamp(-largest, largest) as i16));
    }
    Ok((codes, scales))
}

/// An `f16`'s symbol: its magnitude bits shifted left once, its sign bit lowest.
fn half_symbol(bits: u16) -> u16 {
    (bits & 0x7fff) << 1 | bits >> 15
}

/// The `f16` bits of a [`half_symbol`].
fn half_of(symbol: u16) -> u16 {
    symbol >> 1 | (symbol & 1) << 15
}

/// A code's symbol: `2c` for `c ≥ 0`, `−2c − 1` below (codes have at most 16 bits).
fn code_symbol(code: i16) -> u16 {
    ((code << 1) ^ (code >> 15)) as u16
}

/// The code of a [`code_symbol`].
fn code_of(symbol: u16) -> i16 {
    (symbol >> 1) as i16 ^ -((symbol & 1) as i16)
}

/// Cuts symbols into byte tokens (their high bits) and their low `shift` bits, packed least
/// significant first: the smallest shift that makes every token fit a byte.
fn split(symbols: &[u16]) -> (u32, Vec<u8>, Vec<u8>) {
    let largest = symbols.iter().copied().max().unwrap_or(0);
    let shift = (16 - largest.leading_zeros()).saturating_sub(8);
    let tokens = symbols.iter().map(|&s| (s >> shift) as u8).collect();
    let mut low_bits = Vec::with_capacity((symbols.len() * shift as usize).div_ceil(8));
    let (mut word, mut filled) = (0u64, 0u32);
    for &symbol in symbols {
        word |= u64::from(symbol & ((1 << shift) - 1)) << filled;
        filled += shift;
        while filled >= 8 {
            low_bits.push(word as u8);
            word >>= 8;
            filled -= 8;
        }
    }
    if filled > 0 {
        low_bits.push(word as u8);
    }
    (shift, tokens, low_bits)
}

/// The symbols that [`split`] cut into `tokens` and `low_bits`.
fn join(tokens: &[u8], low_bits: &[u8], shift: u32) -> Result<Vec<u16>, String> {
    if shift > 8 || low_bits.len() != (tokens.len() * shift as usize).div_ceil(8) {
        return Err("low bits disagree with the tokens".into());
    }
    let mut bytes = low_bits.iter();
    let (mut word, mut filled) = (0u64, 0u32);
    let mask = (1u64 << shift) - 1;
    Ok(tokens
        .iter()
        .map(|&token| {
            while filled < shift {
                word |= u64::from(*bytes.next().unwrap_or(&0)) << filled;
                filled += 8;
            }
            let low = (word & mask) as u16;
            word >>= shift;
            filled -= shift;
            u16::from(token) << shift | low
        })
        .collect())
}

/// 16-bit values as their low bytes, then their high bytes.
fn planes(values: &[u16]) -> Vec<u8> {
    values.iter().map(|v| *v as u8).chain(values.iter().map(|v| (v >> 8) as u8)).collect()
}

/// The 16-bit values that [`planes`] wrote.
fn from_planes(bytes: &[u8]) -> Vec<u16> {
    let (low, high) = bytes.split_at(bytes.len() / 2);
    low.iter().zip(high).map(|(&l, &h)| u16::from_le_bytes([l, h])).collect()
}

/// The tensors of a weight pack whose name `wanted` picks (exact ones in `f16`, coarse ones as
/// `code · scale` in `f32`), decoded in parallel.
///
/// # Errors
/// A message if the pack is malformed (a build problem: packs are written by build.rs).
pub fn unpack(pack: &[u8], wanted: impl Fn(&str) -> bool) -> Result<Vec<Tensor>, String> {
    let bad = |what: &str| format!("weight pack: {what}");
    if pack.len() < 12 || &pack[..4] != MAGIC {
        return Err(bad("not a weight pack"));
    }
    let word = |at: usize| u32::from_le_bytes([pack[at], pack[at + 1], pack[at + 2], pack[at + 3]]);
    if word(4) != VERSION {
        return Err(bad("unknown version"));
    }
    let header_end = 12usize.checked_add(word(8) as usize).filter(|&end| end <= pack.len()).ok_or_else(|| bad("truncated descriptor"))?;
    let header: Value = serde_json::from_slice(&pack[12..header_end]).map_err(|e| bad(&e.to_string()))?;
    let data = &pack[header_end..];
    let described = header["tensors"].as_array().ok_or_else(|| bad("no tensor list"))?;
    let wanted: Vec<&Value> = described.iter().filter(|d| d["name"].as_str().is_some_and(&wanted)).collect();
    wanted.into_par_iter().map(|described| unpack_tensor(described, data).map_err(|e| bad(&format!("{}: {e}", described["name"])))).collect()
}

/// One described tensor of a pack, decoded.
fn unpack_tensor(described: &Value, data: &[u8]) -> Result<Tensor, String> {
    let name = described["name"].as_str().unwrap_or_default().to_string();
    let dtype: DType = serde_json::from_value(described["dtype"].clone()).map_err(|e| e.to_string())?;
    let dims: Vec<usize> = serde_json::from_value(described["shape"].clone()).map_err(|e| e.to_string())?;
    let param_id: Option<u64> = serde_json::from_value(described["param_id"].clone()).map_err(|e| e.to_string())?;
    let scales: Vec<u32> = serde_json::from_value(described["scales"].clone()).map_err(|e| e.to_string())?;
    let shift: u32 = serde_json::from_value(described["shift"].clone()).map_err(|e| e.to_string())?;
    let slice = |field: &str| -> Result<&[u8], String> {
        let [start, len]: [usize; 2] = serde_json::from_value(described[field].clone()).map_err(|e| e.to_string())?;
        start.checked_add(len).and_then(|end| data.get(start..end)).ok_or_else(|| format!("{field} out of range"))
    };
    let size = described["tokens"].as_u64().and_then(|b| usize::try_from(b).ok()).filter(|&b| b <= MAX_TENSOR_BYTES).ok_or("no size, or too large")?;
    let tokens = zstd::bulk::decompress(slice("frame")?, size).map_err(|e| e.to_string())?;
    if tokens.len() != size {
        return Err("frame of the wrong size".into());
    }
    let count = dims.iter().try_fold(1usize, |n, &d| n.checked_mul(d)).ok_or("shape too large")?;
    let coding = described["coding"].as_str().unwrap_or_default();
    if coding != "raw" && size != count {
        return Err("tokens disagree with the shape".into());
    }
    let symbols = || join(&tokens, slice("low_bits")?, shift);
    // Burnpack data is little-endian, as are the machines aec runs on: `from_elems` keeps
    // the values' bytes as they are.
    let (dtype, bytes) = match coding {
        "raw" => (dtype, Bytes::from_bytes_vec(tokens)),
        "exact" => (DType::F16, Bytes::from_elems(symbols()?.into_iter().map(half_of).collect::<Vec<u16>>())),
        "coarse" => {
            if scales.is_empty() || count % scales.len() != 0 {
                return Err("codes and scales disagree with the shape".into());
            }
            let symbols = symbols()?;
            let mut values = Vec::with_capacity(count);
            for (symbols, &scale) in symbols.chunks((count / scales.len()).max(1)).zip(&scales) {
                let scale = f32::from_bits(scale);
                values.extend(symbols.iter().map(|&s| f32::from(code_of(s)) * scale));
            }
            (DType::F32, Bytes::from_elems(values))
        }
        _ => return Err(format!("unknown coding {coding:?}")),
    };
    Ok(Tensor::new(name, dtype, Shape::from(dims), param_id, bytes))
}

/// Compresses a file embedded as it is (a hyperprior's integer hyper-synthesis, entropy
/// tables: arrays of 16-, 32- and 64-bit integers): its bytes as 16-bit words, low bytes apart
/// from high bytes (an odd last byte after them), in one zstd frame. 1.54 MB of integer
/// hyper-synthesis become 1.19 MB (plain zstd: 1.32 MB).
#[cfg_attr(not(test), allow(dead_code))] // build.rs packs; aec only unpacks.
pub fn pack_bytes(bytes: &[u8]) -> Result<Vec<u8>, String> {
    let (words, tail) = bytes.split_at(bytes.len() & !1);
    let mut planed = planes(&words.chunks_exact(2).map(|w| u16::from_le_bytes([w[0], w[1]])).collect::<Vec<_>>());
    planed.extend_from_slice(tail);
    // Integer weights have few repeats: zstd's fastest level often makes the smaller frame
    // (and decodes it about three times as fast), so the smaller of the two is kept.
    let compress = |level| zstd::bulk::compress(&planed, level).map_err(|e| e.to_string());
    let (fast, best) = (compress(1)?, compress(LEVEL)?);
    Ok(if fast.len() <= best.len() { fast } else { best })
}

/// The bytes that [`pack_bytes`] compressed.
///
/// # Errors
/// A message if the frame is damaged or does not declare a size of at most
/// [`MAX_TENSOR_BYTES`] (a build problem: build.rs writes these frames).
pub fn unpack_bytes(packed: &[u8]) -> Result<Vec<u8>, String> {
    let size = zstd::zstd_safe::get_frame_content_size(packed)
        .ok()
        .flatten()
        .and_then(|n| usize::try_from(n).ok())
        .filter(|&n| n <= MAX_TENSOR_BYTES)
        .ok_or("packed file: no size, or too large")?;
    let planed = zstd::bulk::decompress(packed, size).map_err(|e| format!("packed file: {e}"))?;
    let (words, tail) = planed.split_at(planed.len() & !1);
    Ok(from_planes(words).into_iter().flat_map(u16::to_le_bytes).chain(tail.iter().copied()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tensor(name: &str, dims: Vec<usize>, values: &[f32]) -> Tensor {
        let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        Tensor::new(name.into(), DType::F32, Shape::from(dims), Some(7), Bytes::from_bytes_vec(bytes))
    }

    fn values(n: usize, seed: u32) -> Vec<f32> {
        (0..n).map(|i| ((i as u32).wrapping_mul(2_654_435_761).wrapping_add(seed) % 20_001) as f32 / 10_000.0 - 1.0).collect()
    }

    fn read_back(tensors: Vec<Tensor>) -> Vec<(String, DType, Vec<usize>, Vec<f32>)> {
        tensors
            .into_iter()
            .map(|t| {
                let (name, dtype, shape, _, bytes) = t.into_parts().expect("parts");
                let values = match dtype {
                    DType::F16 => bytes.chunks_exact(2).map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32()).collect(),
                    _ => bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect(),
                };
                (name, dtype, shape.to_vec(), values)
            })
            .collect()
    }

    #[test]
    fn exact_tensors_come_back_as_their_half_precision_values_and_coarse_ones_within_half_a_step() {
        let (a, b) = (values(6 * 5 * 3, 1), values(4 * 9, 2));
        let pack = pack(vec![tensor("dec.w", vec![6, 5, 3], &a), tensor("enc.w", vec![4, 9], &b)], |name| {
            if name.starts_with("enc") { Precision::Coarse(8) } else { Precision::Exact }
        })
        .expect("packs");
        let back = read_back(unpack(&pack, |_| true).expect("unpacks"));
        assert_eq!(back.len(), 2);
        let (name, dtype, dims, got) = &back[0];
        assert_eq!((name.as_str(), *dtype, dims.as_slice()), ("dec.w", DType::F16, &[6, 5, 3][..]));
        assert!(got.iter().zip(&a).all(|(g, v)| *g == half::f16::from_f32(*v).to_f32()));
        let (_, dtype, dims, got) = &back[1];
        assert_eq!((*dtype, dims.as_slice()), (DType::F32, &[4, 9][..]));
        for (g, v) in got.chunks(9).zip(b.chunks(9)) {
            let step = v.iter().fold(0.0f32, |m, x| m.max(x.abs())) / 127.0;
            assert!(g.iter().zip(v).all(|(g, v)| (g - v).abs() <= step * 0.501), "{g:?} for {v:?}");
            assert!(g.iter().all(|g| (g / step - (g / step).round()).abs() < 1e-3), "{g:?}: whole steps");
        }
    }

    #[test]
    fn symbols_keep_every_value_and_grow_with_its_magnitude() {
        for bits in (0..=u16::MAX).step_by(7).chain([0x8000, 0x7fff, 0xffff]) {
            assert_eq!(half_of(half_symbol(bits)), bits);
        }
        for code in [0i16, 1, -1, 2, -2, 511, -511, i16::MAX, -i16::MAX, i16::MIN] {
            assert_eq!(code_of(code_symbol(code)), code);
        }
        assert_eq!([0, 1, -1, 2, -2].map(code_symbol), [0, 2, 1, 4, 3]);
        assert!(half_symbol(half::f16::from_f32(0.5).to_bits()) > half_symbol(half::f16::from_f32(-0.25).to_bits()));
    }

    #[test]
    fn tokens_and_low_bits_join_back_into_the_symbols() {
        for largest in [0u16, 1, 255, 256, 1023, 40_000, u16::MAX] {
            let symbols: Vec<u16> = (0..1001u32).map(|i| (i.wrapping_mul(2_654_435_761) % (u32::from(largest) + 1)) as u16).chain([largest]).collect();
            let (shift, tokens, low_bits) = split(&symbols);
            assert!(tokens.len() == symbols.len() && shift <= 8, "{largest}");
            assert_eq!(shift, (16 - largest.leading_zeros()).saturating_sub(8), "the smallest shift for {largest}");
            assert_eq!(join(&tokens, &low_bits, shift).expect("joins"), symbols, "{largest}");
            if shift > 0 {
                assert!(join(&tokens, &low_bits[1..], shift).is_err(), "low bits cut short");
            }
        }
    }

    #[test]
    fn packed_files_come_back_byte_for_byte() {
        for len in [0usize, 1, 2, 3, 1001] {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
            let packed = pack_bytes(&bytes).expect("packs");
            assert_eq!(unpack_bytes(&packed).expect("unpacks"), bytes, "{len} bytes");
            if len > 0 {
                assert!(unpack_bytes(&packed[..packed.len() - 1]).is_err(), "a truncated frame");
            }
        }
        assert!(unpack_bytes(b"not zstd").is_err());
    }

    #[test]
    fn unpack_keeps_only_the_wanted_tensors_and_refuses_damage() {
        let pack = pack(vec![tensor("a", vec![3], &[1.0, 2.0, 3.0]), tensor("b", vec![2], &[4.0, 5.0])], |name| {
            if name == "a" { Precision::Exact } else { Precision::Coarse(12) }
        })
        .expect("packs");
        let back = read_back(unpack(&pack, |name| name == "b").expect("unpacks"));
        assert_eq!(back.len(), 1);
        assert!(back[0].3.iter().zip([4.0, 5.0]).all(|(g, v)| (g - v).abs() <= 5.0 / 2047.0 / 2.0), "{:?}", back[0].3);
        assert_eq!(read_back(unpack(&pack, |name| name == "a").expect("unpacks"))[0].3, vec![1.0, 2.0, 3.0]);
        assert!(unpack(&pack[..pack.len() - 3], |_| true).is_err(), "a truncated frame");
        assert!(unpack(&pack[..20], |_| true).is_err(), "a truncated descriptor");
        let mut other = pack.clone();
        other[4] = 3;
        assert!(unpack(&other, |_| true).is_err(), "another version");
        for cut in 0..pack.len().min(200) {
            let _ = unpack(&pack[..cut], |_| true);
        }
    }

    #[test]
    fn built_in_decoders_keep_the_half_precision_of_their_trained_weights() {
        let packs: [(&str, &[u8]); 2] = [
            ("default", include_bytes!(concat!(env!("OUT_DIR"), "/packed/default.awp"))),
            ("hyper-ext", include_bytes!(concat!(env!("OUT_DIR"), "/packed/hyper-ext.awp"))),
        ];
        for (name, pack) in packs {
            let trained = Reader::from_file_exact(format!("models/{name}.bpk")).expect("the trained file").into_tensors().expect("tensors");
            let unpacked = unpack(pack, |tensor| tensor.starts_with("synthesis.")).expect("unpacks");
            let trained: Vec<_> = trained.into_iter().filter(|t| t.name.starts_with("synthesis.")).collect();
            assert!(!unpacked.is_empty() && unpacked.len() == trained.len(), "{name}");
            for (ours, theirs) in read_back(unpacked).into_iter().zip(trained) {
                let (tensor, dtype, dims, values) = ours;
                let (name, _, shape, _, bytes) = theirs.into_parts().expect("parts");
                assert_eq!((tensor.as_str(), dtype, dims.as_slice()), (name.as_str(), DType::F16, shape.as_slice()));
                let expected = bytes.chunks_exact(4).map(|b| half::f16::from_f32(f32::from_le_bytes([b[0], b[1], b[2], b[3]])).to_f32());
                assert!(values.iter().copied().eq(expected), "{name}");
            }
        }
    }
}
