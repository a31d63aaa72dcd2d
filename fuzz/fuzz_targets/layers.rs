//! The layers after a hyperprior's synthesis, past any checksum and without a network: the
//! restoration filter's parser (`Restoration::parse`, then the filter run on a small picture)
//! and the residual layer's (`Residual::parse`, its coefficients' range decoding with their
//! contexts, then the residual added to a picture). Input: a byte whose low bit picks the
//! channel count (3 or 1), a byte each for the picture's width and height (1 to 128), then the
//! section's payload, given to both parsers. Ok or a typed error, never a panic; a filter that
//! parses serializes to a payload that parses to the same filter.
#![no_main]

use aec::codec::pixels::Pixels;
use aec::codec::residual::Residual;
use aec::codec::restoration::Restoration;
use libfuzzer_sys::fuzz_target;

/// The side of the pictures tried: 1 to 128 pixels.
fn side(byte: u8) -> usize {
    1 + usize::from(byte % 128)
}

fuzz_target!(|data: &[u8]| {
    let [flags, width, height, payload @ ..] = data else { return };
    let channels = if flags & 1 == 1 { 3 } else { 1 };
    let (width, height) = (side(*width), side(*height));
    // A picture of every sample value, the same for every input.
    let picture = Pixels { width, height, channels, samples: (0..width * height * channels).map(|i| (i * 37 % 256) as u8).collect() };
    if let Ok(filter) = Restoration::parse(payload, channels) {
        assert_eq!(Restoration::parse(&filter.to_bytes(), channels).as_ref(), Ok(&filter));
        let mut filtered = picture.clone();
        filter.apply(&mut filtered);
        assert_eq!(filtered.samples.len(), picture.samples.len());
    }
    if let Ok(layer) = Residual::parse(payload, channels) {
        if let Ok(coefficients) = layer.decode(width, height) {
            let mut with_residual = picture.clone();
            coefficients.add_to(&mut with_residual);
            assert_eq!(with_residual.samples.len(), picture.samples.len());
        }
    }
});
