//! Aggregation and presentation of benchmark records: mean points per codec and quality,
//! Bjøntegaard deltas, the terminal table, JSON and CSV.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use super::Record;
use super::bd::{bd_quality, bd_rate};

/// The mean over all pictures of one codec at one quality.
#[derive(Debug, Clone, Serialize)]
pub struct Point {
    /// Codec name.
    pub codec: String,
    /// Quality setting.
    pub quality: u8,
    /// Mean bits per pixel.
    pub bpp: f64,
    /// Mean PSNR in dB.
    pub psnr: f64,
    /// Mean MS-SSIM over the pictures where it is defined.
    pub ms_ssim: Option<f64>,
    /// Mean encode seconds.
    pub encode_seconds: f64,
    /// Mean decode seconds.
    pub decode_seconds: f64,
    /// Pictures averaged.
    pub images: usize,
}

/// Bjøntegaard deltas of aec against one baseline.
#[derive(Debug, Clone, Serialize)]
pub struct Delta {
    /// The baseline.
    pub anchor: String,
    /// BD-rate in PSNR, percent (negative: aec needs fewer bits).
    pub bd_rate_psnr: Option<f64>,
    /// BD-PSNR, dB (positive: aec is better).
    pub bd_psnr: Option<f64>,
    /// BD-rate in MS-SSIM, percent.
    pub bd_rate_ms_ssim: Option<f64>,
}

/// Everything `aec bench` reports.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// Mean points, codec by codec.
    pub points: Vec<Point>,
    /// aec against each lossy baseline.
    pub deltas: Vec<Delta>,
    /// Mean of (actual - estimated) / estimated size of aec files, percent.
    pub aec_size_vs_estimate: Option<f64>,
}

fn mean(values: impl Iterator<Item = f64>) -> Option<f64> {
    let (sum, n) = values.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    (n > 0).then(|| sum / n as f64)
}

/// Averages the records per codec and quality, and computes the deltas.
pub fn summarize(records: &[Record]) -> Summary {
    let mut groups: BTreeMap<(String, u8), Vec<&Record>> = BTreeMap::new();
    for r in records {
        groups.entry((r.codec.clone(), r.quality)).or_default().push(r);
    }
    let points: Vec<Point> = groups
        .into_iter()
        .map(|((codec, quality), rs)| Point {
            codec,
            quality,
            bpp: mean(rs.iter().map(|r| r.bpp)).unwrap_or(0.0),
            psnr: mean(rs.iter().map(|r| r.psnr)).unwrap_or(0.0),
            ms_ssim: mean(rs.iter().filter_map(|r| r.ms_ssim)),
            encode_seconds: mean(rs.iter().map(|r| r.encode_seconds)).unwrap_or(0.0),
            decode_seconds: mean(rs.iter().map(|r| r.decode_seconds)).unwrap_or(0.0),
            images: rs.len(),
        })
        .collect();
    let curve = |codec: &str, ms: bool| -> Vec<(f64, f64)> {
        points
            .iter()
            .filter(|p| p.codec == codec)
            .filter_map(|p| if ms { p.ms_ssim.map(|m| (p.bpp, -10.0 * (1.0 - m).log10())) } else { Some((p.bpp, p.psnr)) })
            .collect()
    };
    let aec = curve("aec", false);
    let aec_ms = curve("aec", true);
    let deltas = ["jpeg", "cjpeg", "webp"]
        .iter()
        .filter(|a| points.iter().any(|p| p.codec == **a))
        .map(|&anchor| Delta {
            anchor: anchor.to_string(),
            bd_rate_psnr: bd_rate(&curve(anchor, false), &aec),
            bd_psnr: bd_quality(&curve(anchor, false), &aec),
            bd_rate_ms_ssim: bd_rate(&curve(anchor, true), &aec_ms),
        })
        .collect();
    let aec_size_vs_estimate = mean(records.iter().filter_map(|r| r.estimated_bytes.map(|e| (r.bytes as f64 - e) / e * 100.0)));
    Summary { points, deltas, aec_size_vs_estimate }
}

/// PSNR of a codec's mean curve at `bpp`, interpolated linearly in log(bpp) between its two
/// nearest points (`None` outside the curve).
pub fn psnr_at(summary: &Summary, codec: &str, bpp: f64) -> Option<f64> {
    let mut pts: Vec<(f64, f64)> = summary.points.iter().filter(|p| p.codec == codec).map(|p| (p.bpp, p.psnr)).collect();
    pts.sort_by(|a, b| a.0.total_cmp(&b.0));
    pts.windows(2).find(|w| w[0].0 <= bpp && bpp <= w[1].0).map(|w| {
        let t = (bpp.ln() - w[0].0.ln()) / (w[1].0.ln() - w[0].0.ln()).max(f64::MIN_POSITIVE);
        w[0].1 + t * (w[1].1 - w[0].1)
    })
}

fn opt(v: Option<f64>, precision: usize) -> String {
    v.map_or_else(|| "-".to_string(), |v| format!("{v:.precision$}"))
}

/// The terminal table.
pub fn table(summary: &Summary, images: usize) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "mean over {images} pictures");
    let _ = writeln!(s, "{:<6} {:>7} {:>8} {:>8} {:>8} {:>9} {:>9}", "codec", "quality", "bpp", "PSNR", "MS-SSIM", "enc ms", "dec ms");
    for p in &summary.points {
        let _ = writeln!(
            s,
            "{:<6} {:>7} {:>8.4} {:>8} {:>8} {:>9.1} {:>9.1}",
            p.codec,
            if p.quality == 0 { "lossless".to_string() } else { p.quality.to_string() },
            p.bpp,
            if p.psnr.is_finite() { format!("{:.2}", p.psnr) } else { "inf".into() },
            opt(p.ms_ssim, 4),
            p.encode_seconds * 1000.0,
            p.decode_seconds * 1000.0
        );
    }
    let _ = writeln!(s, "\nBjøntegaard deltas of aec (negative BD-rate: fewer bits for the same quality)");
    for d in &summary.deltas {
        let _ = writeln!(
            s,
            "vs {:<6} BD-rate (PSNR) {:>8}%   BD-PSNR {:>7} dB   BD-rate (MS-SSIM) {:>8}%",
            d.anchor,
            opt(d.bd_rate_psnr, 1),
            opt(d.bd_psnr, 2),
            opt(d.bd_rate_ms_ssim, 1)
        );
    }
    if let Some(d) = summary.aec_size_vs_estimate {
        let _ = writeln!(s, "aec file size vs the entropy model's estimate (restoration filters and residual layers counted as they are): {d:+.2}% on average");
    }
    s
}

/// The records as CSV.
pub fn csv(records: &[Record]) -> String {
    let mut s = String::from("image,codec,quality,bytes,bpp,psnr,ms_ssim,encode_seconds,decode_seconds\n");
    for r in records {
        let _ = writeln!(
            s,
            "{},{},{},{},{:.6},{:.4},{},{:.6},{:.6}",
            r.image,
            r.codec,
            r.quality,
            r.bytes,
            r.bpp,
            r.psnr,
            opt(r.ms_ssim, 6),
            r.encode_seconds,
            r.decode_seconds
        );
    }
    s
}
