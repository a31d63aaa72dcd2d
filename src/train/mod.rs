//! Training of aec's models (the only place that uses autodiff).
//!
//! [`factorized`] trains the photographic codec with the rate–distortion loss
//! `λ·255²·MSE + bpp`; checkpoints go to a `NAME.train/` folder beside the model file so that
//! `--resume` picks up where a run stopped.

pub mod checkpoint;
pub mod data;
pub mod factorized;
pub mod schedule;
