//! Writes the hostile files of `tests/fuzz-regressions/`: valid test vectors with one field or
//! payload changed and a fresh checksum, each a defect that aec once had or that a reader
//! could plausibly have. `tests/fuzz_regressions.rs` checks that every `refuse-*` file is
//! refused. Run from the repository root:
//! `cargo run --release --example make_regressions`.

use std::path::Path;

use aec::format::{AecFile, Limits, SectionFile, SectionKind};

/// A copy of the file at `vector` with `change` applied, its lengths and checksum rebuilt.
fn altered(vector: &str, change: impl FnOnce(&mut AecFile<'_>, &mut Vec<u8>)) -> Result<Vec<u8>, Box<dyn std::error::Error>> {
    let bytes = std::fs::read(Path::new("format-spec/vectors").join(vector))?;
    let mut file = AecFile::parse(&bytes, &Limits::default())?;
    let mut latents = file.latents.to_vec();
    change(&mut file, &mut latents);
    Ok(AecFile { latents: &latents, ..file }.to_bytes()?)
}

/// A copy of the version-2 file at `vector` with its sections replaced by `change`'s.
fn altered_v2(vector: &str, change: impl FnOnce(Vec<(SectionKind, Vec<u8>)>) -> Vec<(SectionKind, Vec<u8>)>) -> Result<Vec<u8>, Box<dyn std::error::Error>> {
    let bytes = std::fs::read(Path::new("format-spec/vectors").join(vector))?;
    let file = SectionFile::parse(&bytes, &Limits::default())?;
    let sections = change(file.sections.iter().map(|(k, d)| (*k, d.to_vec())).collect());
    Ok(SectionFile { header: file.header, sections: sections.iter().map(|(k, d)| (*k, d.as_slice())).collect() }.to_bytes()?)
}

/// `sections` with the payload of kind `kind` changed by `change`.
fn with_section(sections: Vec<(SectionKind, Vec<u8>)>, kind: SectionKind, change: impl Fn(&mut Vec<u8>)) -> Vec<(SectionKind, Vec<u8>)> {
    sections
        .into_iter()
        .map(|(k, mut d)| {
            if k == kind {
                change(&mut d);
            }
            (k, d)
        })
        .collect()
}

/// A zstd skippable frame holding `data`.
fn skippable(data: &[u8]) -> Vec<u8> {
    let mut frame = 0x184D_2A50u32.to_le_bytes().to_vec();
    frame.extend((data.len() as u32).to_le_bytes());
    frame.extend(data);
    frame
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let range = "rgb-70x50-q4-range.aec";
    let zstd = "rgb-70x50-q4-zstd.aec";
    let digits = "mnist-conv-28x28-q4-zstd.aec";
    let hyper = "v2-hyper-tiny-rgb-70x50-q3-range.aec";
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("refuse-range-empty-payload", altered(range, |_, l| l.clear())?),
        ("refuse-range-one-word-short", altered(range, |_, l| l.truncate(l.len() - 4))?),
        ("refuse-range-one-word-spare", altered(range, |_, l| l.extend([0, 0, 0, 0]))?),
        ("refuse-range-100-spare-bytes", altered(range, |_, l| l.extend([0x5A; 100]))?),
        ("refuse-range-flipped-word", altered(range, |_, l| l[4..8].iter_mut().for_each(|b| *b ^= 0xFF))?),
        (
            "refuse-range-4096x4096-empty-payload",
            altered(range, |f, l| {
                (f.header.width, f.header.height) = (4096, 4096);
                (f.header.latent.width, f.header.latent.height) = (256, 256);
                l.clear();
            })?,
        ),
        ("refuse-zstd-two-frames", altered(zstd, |_, l| *l = [l.clone(), l.clone()].concat())?),
        ("refuse-zstd-skippable-then-frame", altered(zstd, |_, l| *l = [skippable(b"hidden"), l.clone()].concat())?),
        ("refuse-zstd-frame-then-skippable", altered(zstd, |_, l| l.extend(skippable(b"hidden")))?),
        ("refuse-zstd-empty-payload", altered(zstd, |_, l| l.clear())?),
        (
            "refuse-zstd-short-frame",
            altered(zstd, |_, l| {
                let frame = zstd::bulk::compress(&[0u8; 10], 3).unwrap();
                *l = frame;
            })?,
        ),
        ("refuse-digits-two-frames", altered(digits, |_, l| *l = [l.clone(), l.clone()].concat())?),
        ("refuse-digits-wrong-code-length", altered(digits, |f, _| f.header.latent.channels += 1)?),
        ("refuse-v2-no-latent-section", altered_v2("v2-rgb-70x50-q4-range.aec", |_| vec![(SectionKind::Icc, b"profile".to_vec())])?),
        (
            "refuse-v2-hyper-latents-in-a-factorized-file",
            altered_v2("v2-rgb-70x50-q4-range.aec", |mut s| {
                s.insert(0, (SectionKind::HyperLatents, vec![0; 8]));
                s
            })?,
        ),
        ("refuse-v2-rgba-without-alpha", altered_v2("v2-rgba-24x16-q3-range.aec", |s| s.into_iter().filter(|(k, _)| *k != SectionKind::Alpha).collect())?),
        ("refuse-v2-range-one-word-spare", altered_v2("v2-rgb-70x50-q4-range.aec", |s| with_section(s, SectionKind::Latents, |d| d.extend([0, 0, 0, 0])))?),
        ("refuse-v2-hyper-y-one-word-spare", altered_v2(hyper, |s| with_section(s, SectionKind::Latents, |d| d.extend([0, 0, 0, 0])))?),
        ("refuse-v2-hyper-z-one-word-short", altered_v2(hyper, |s| with_section(s, SectionKind::HyperLatents, |d| d.truncate(d.len() - 4)))?),
        ("refuse-v2-hyper-without-hyper-latents", altered_v2(hyper, |s| s.into_iter().filter(|(k, _)| *k != SectionKind::HyperLatents).collect())?),
    ];
    let dir = Path::new("tests/fuzz-regressions");
    std::fs::create_dir_all(dir)?;
    for (name, bytes) in cases {
        std::fs::write(dir.join(format!("{name}.aec")), &bytes)?;
        println!("{name}: {} bytes", bytes.len());
    }
    Ok(())
}
