//! Fixtures shared by the MNIST tests: the ten test digits of `tests/fixtures/mnist/digits.png`
//! (never trained on) and MNIST-like IDX folders made from them.
#![allow(dead_code)] // Each test file uses a part.

use std::path::Path;

use aec::mnist::SIDE;
use aec::mnist::idx::{IdxArray, to_bytes};

/// A strip of the digits 0 to 9, 28x28 each.
pub const DIGITS: &str = "tests/fixtures/mnist/digits.png";

/// The ten fixture digits, 0 to 9, as 784 bytes each.
pub fn fixture_digits() -> Vec<Vec<u8>> {
    let strip = image::open(DIGITS).unwrap().to_luma8();
    (0..10u32).map(|d| image::imageops::crop_imm(&strip, d * 28, 0, 28, 28).to_image().into_raw()).collect()
}

/// Writes an MNIST-like folder: `copies` shifted copies of the fixture digits as both the
/// training and the test set.
pub fn write_mnist(dir: &Path, copies: usize) {
    let digits = fixture_digits();
    let (mut pixels, mut labels) = (Vec::new(), Vec::new());
    for c in 0..copies {
        for (label, digit) in digits.iter().enumerate() {
            // Shift right by c % 3 pixels so that the copies differ.
            let shift = c % 3;
            for y in 0..SIDE {
                for x in 0..SIDE {
                    pixels.push(if x >= shift { digit[y * SIDE + x - shift] } else { 0 });
                }
            }
            labels.push(label as u8);
        }
    }
    let n = labels.len();
    for prefix in ["train", "t10k"] {
        let images = to_bytes(&IdxArray { dims: vec![n, SIDE, SIDE], values: pixels.clone() });
        std::fs::write(dir.join(format!("{prefix}-images-idx3-ubyte")), images).unwrap();
        let labels = to_bytes(&IdxArray { dims: vec![n], values: labels.clone() });
        std::fs::write(dir.join(format!("{prefix}-labels-idx1-ubyte")), labels).unwrap();
    }
}
