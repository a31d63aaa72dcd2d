//! Narrowing a trained network: each hidden layer keeps its most used channels, so that a
//! network with fewer hidden channels (a faster decoder) starts from trained weights instead
//! of random ones (structured pruning; the narrow network is then fine-tuned).
//!
//! A channel's use is the mean magnitude of its activation on sample pictures times the norm
//! of the weights through which the next layer reads it: what it contributes to that layer.

use burn::module::Param;
use burn::nn::conv::{Conv2d, ConvTranspose2d};
use burn::prelude::*;

/// The indices of the `keep` largest scores, in increasing order (ties to the lower index).
pub fn most_used(scores: &[f32], keep: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
    order.truncate(keep);
    order.sort_unstable();
    order
}

/// The `width` channels of an activation that contribute most to the layer reading it: its mean
/// magnitudes times the norms of that layer's weights on each channel, the largest kept.
pub(crate) fn most_read(magnitudes: &[f32], reader_norms: &[f32], width: usize) -> Vec<usize> {
    let scores: Vec<f32> = magnitudes.iter().zip(reader_norms).map(|(m, w)| m * w).collect();
    most_used(&scores, width)
}

/// Mean magnitude of every channel of `[batch, channels, h, w]` activations.
pub(crate) fn mean_magnitudes(x: &Tensor<4>) -> Vec<f32> {
    let channels = x.dims()[1];
    x.clone().abs().mean_dims(&[0, 2, 3]).reshape([channels]).into_data().try_to_vec::<f32>().expect("f32 activations")
}

/// A convolution layer whose channels can be kept selectively.
pub(crate) trait Narrowable: Sized {
    /// The norm of the weights that read each input channel.
    fn input_norms(&self) -> Vec<f32>;
    /// The layer with only these input and output channels (`None`: all), as parameters of
    /// their own (no history).
    fn narrowed(&self, inputs: Option<&[usize]>, outputs: Option<&[usize]>) -> Self;
}

/// `tensor` restricted to `channels` along `dim` (all of them for `None`).
pub(crate) fn kept<const D: usize>(tensor: Tensor<D>, dim: usize, channels: Option<&[usize]>) -> Tensor<D> {
    let Some(channels) = channels else { return tensor };
    let indices: Vec<i64> = channels.iter().map(|&c| c as i64).collect();
    let device = tensor.device();
    tensor.select(dim, Tensor::<1, Int>::from_data(TensorData::new(indices, [channels.len()]), &device))
}

/// A parameter of its own (no history; gradients on when it lives on an autodiff device).
pub(crate) fn leaf<const D: usize>(tensor: Tensor<D>) -> Param<Tensor<D>> {
    Param::from_tensor(tensor.detach())
}

/// Norms over every dimension but `dim` of a 4-D weight tensor.
fn norms_along(weight: Tensor<4>, dim: usize) -> Vec<f32> {
    let others: Vec<usize> = (0..4).filter(|&d| d != dim).collect();
    let n = weight.dims()[dim];
    weight.square().sum_dims(&others).reshape([n]).sqrt().into_data().try_to_vec::<f32>().expect("f32 weights")
}

impl Narrowable for Conv2d {
    fn input_norms(&self) -> Vec<f32> {
        // Weights `[out, in, k, k]`.
        norms_along(self.weight.val(), 1)
    }

    fn narrowed(&self, inputs: Option<&[usize]>, outputs: Option<&[usize]>) -> Self {
        let mut layer = self.clone();
        layer.weight = leaf(kept(kept(self.weight.val(), 0, outputs), 1, inputs));
        layer.bias = self.bias.as_ref().map(|b| leaf(kept(b.val(), 0, outputs)));
        layer
    }
}

impl Narrowable for ConvTranspose2d {
    fn input_norms(&self) -> Vec<f32> {
        // Weights `[in, out, k, k]`.
        norms_along(self.weight.val(), 0)
    }

    fn narrowed(&self, inputs: Option<&[usize]>, outputs: Option<&[usize]>) -> Self {
        let mut layer = self.clone();
        layer.weight = leaf(kept(kept(self.weight.val(), 0, inputs), 1, outputs));
        layer.bias = self.bias.as_ref().map(|b| leaf(kept(b.val(), 0, outputs)));
        layer.channels = [inputs.map_or(self.channels[0], <[usize]>::len), outputs.map_or(self.channels[1], <[usize]>::len)];
        layer
    }
}

/// The channels each hidden activation of a chain of layers keeps: `magnitudes[i]` is the mean
/// magnitude of the activation after `layers[i]` (one per hidden activation, so one fewer than
/// the layers), read by `layers[i + 1]`.
pub(crate) fn kept_channels<L: Narrowable>(layers: &[L], magnitudes: &[Vec<f32>], width: usize) -> Vec<Vec<usize>> {
    assert_eq!(magnitudes.len() + 1, layers.len(), "one activation between each two layers");
    magnitudes.iter().zip(&layers[1..]).map(|(magnitude, next)| most_read(magnitude, &next.input_norms(), width)).collect()
}

/// `layers` with the hidden channels `kept`: layer `i` keeps the outputs `kept[i]` (all of them
/// where `kept` has no entry `i`) and the inputs `kept[i - 1]` (the first layer all of its own).
pub(crate) fn narrowed_chain<L: Narrowable>(layers: &[L], kept: &[Vec<usize>]) -> Vec<L> {
    (0..layers.len())
        .map(|i| {
            let inputs = i.checked_sub(1).map(|j| kept[j].as_slice());
            layers[i].narrowed(inputs, kept.get(i).map(Vec::as_slice))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_largest_scores_are_kept_in_order() {
        assert_eq!(most_used(&[0.5, 3.0, 0.1, 2.0, 2.0], 3), vec![1, 3, 4]);
        assert_eq!(most_used(&[1.0, 1.0, 1.0], 2), vec![0, 1]);
        assert_eq!(most_used(&[1.0, 2.0], 5), vec![0, 1]);
    }
}
