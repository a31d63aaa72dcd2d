//! The entropy layer: integers in, bytes out. Integer CDF tables (per channel for the
//! factorized prior, a fixed Gaussian bank for the hyperprior), range and zstd coding, and the
//! integer hyper-synthesis that decides each symbol's table. Nothing here uses burn or image:
//! everything that decides a probability is deterministic integer (or fixed-order IEEE)
//! arithmetic, the same on every machine.

pub mod coding;
pub mod detmath;
pub mod gaussian;
pub mod intnet;
pub mod lookup;
pub mod quantize;
pub mod range;
pub mod tables;
