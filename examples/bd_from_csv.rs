//! Prints `aec bench`'s table and Bjøntegaard deltas from the CSV files of earlier runs
//! (`aec bench --csv`), merged: a row of a later file replaces the row of an earlier one for
//! the same picture, codec and quality. For adding levels measured later to a long run, e.g.
//! `cargo run --release --example bd_from_csv -- docs/eval-rd-refine30.csv more-levels.csv`.

use std::collections::BTreeMap;

use aec::bench::Record;
use aec::bench::report::{summarize, table};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let paths: Vec<String> = std::env::args().skip(1).collect();
    if paths.is_empty() {
        return Err("usage: bd_from_csv FIRST.csv [LATER.csv ...]".into());
    }
    let mut rows: BTreeMap<(String, String, u8), Record> = BTreeMap::new();
    for path in &paths {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
        for (number, line) in text.lines().enumerate().skip(1).filter(|(_, line)| !line.trim().is_empty()) {
            let record = parse(line).ok_or_else(|| format!("{path}:{}: not a record of aec bench --csv", number + 1))?;
            rows.insert((record.image.clone(), record.codec.clone(), record.quality), record);
        }
    }
    let records: Vec<Record> = rows.into_values().collect();
    let images = records.iter().map(|r| r.image.as_str()).collect::<std::collections::BTreeSet<_>>().len();
    print!("{}", table(&summarize(&records), images));
    Ok(())
}

/// One CSV row: `image,codec,quality,bytes,bpp,psnr,ms_ssim,encode_seconds,decode_seconds`.
fn parse(line: &str) -> Option<Record> {
    let fields: Vec<&str> = line.split(',').collect();
    let [image, codec, quality, bytes, bpp, psnr, ms_ssim, encode, decode] = fields.as_slice() else { return None };
    Some(Record {
        image: (*image).to_string(),
        codec: (*codec).to_string(),
        quality: quality.parse().ok()?,
        bytes: bytes.parse().ok()?,
        bpp: bpp.parse().ok()?,
        psnr: psnr.parse().ok()?,
        ms_ssim: ms_ssim.parse().ok(),
        encode_seconds: encode.parse().ok()?,
        decode_seconds: decode.parse().ok()?,
        estimated_bytes: None,
    })
}
