//! The layering of `ARCHITECTURE.md`, checked on the sources: the container and entropy layers
//! use neither burn nor image, and nothing below the training, bench and CLI layers imports
//! them.

use std::path::{Path, PathBuf};

fn sources(dir: &str) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut todo = vec![PathBuf::from(dir)];
    while let Some(path) = todo.pop() {
        if path.is_dir() {
            todo.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    assert!(!files.is_empty(), "no sources under {dir}");
    files
}

/// The places in `files` that mention any of `forbidden`.
fn offences(files: &[PathBuf], forbidden: &[&str]) -> Vec<String> {
    files
        .iter()
        .flat_map(|path| {
            let text = std::fs::read_to_string(path).unwrap();
            forbidden.iter().filter(|f| text.contains(*f)).map(|f| format!("{} uses {f}", path.display())).collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn the_container_and_entropy_layers_know_bytes_and_integers_only() {
    let files: Vec<PathBuf> = ["src/format", "src/entropy"].iter().flat_map(|d| sources(d)).collect();
    let found = offences(&files, &["burn::", "image::", "crate::codec", "crate::model", "crate::train", "crate::bench", "crate::cli"]);
    assert!(found.is_empty(), "{found:#?}");
}

/// The inference layer runs transforms on numbers: it knows nothing of files, containers,
/// entropy coding or pictures on disk.
#[test]
fn the_inference_layer_knows_transforms_only() {
    let files = sources("src/infer");
    let found = offences(&files, &["image::", "crate::codec", "crate::format", "crate::entropy", "std::fs"]);
    assert!(found.is_empty(), "{found:#?}");
}

#[test]
fn inference_does_not_import_training_bench_or_cli() {
    let mut files: Vec<PathBuf> = ["src/codec", "src/model", "src/infer", "src/entropy", "src/format", "src/mnist"].iter().flat_map(|d| sources(d)).collect();
    files.extend(["src/pictures.rs", "src/plot.rs", "src/metrics.rs"].map(PathBuf::from));
    let found = offences(&files, &["crate::train", "crate::bench", "crate::cli", "super::super::train"]);
    assert!(found.is_empty(), "{found:#?}");
    assert!(Path::new("ARCHITECTURE.md").exists());
}
