use burn::prelude::*;
use burn::tensor::Distribution;
use burn::nn::conv::{Conv2dConfig, ConvTranspose2dConfig};
use burn::nn::PaddingConfig2d;
use std::time::Instant;
use aec::model::gdn::Gdn;
fn t<F: FnMut() -> f32>(name: &str, mut f: F) {
    f();
    let s = Instant::now();
    for _ in 0..10 { f(); }
    eprintln!("{name}: {:.1} ms", s.elapsed().as_secs_f64() * 100.0);
}
fn main() {
    for dev in [Device::flex(), Device::flex().autodiff()] {
    let device = dev;
    for (cin, cout, hw) in [(3usize, 64usize, 64usize), (64, 64, 32), (64, 64, 16), (64, 96, 8)] {
        let c = Conv2dConfig::new([cin, cout], [5, 5]).with_stride([2, 2]).with_padding(PaddingConfig2d::Explicit(2, 2, 2, 2)).init(&device);
        let x = Tensor::<4>::random([8, cin, hw, hw], Distribution::Uniform(0.0, 1.0), &device);
        t(&format!("conv {cin}->{cout} @{hw}"), || c.forward(x.clone()).sum().into_scalar::<f32>());
        let ct = ConvTranspose2dConfig::new([cout, cin], [5, 5]).with_stride([2, 2]).with_padding([2, 2]).with_padding_out([1, 1]).init(&device);
        let y = Tensor::<4>::random([8, cout, hw / 2, hw / 2], Distribution::Uniform(0.0, 1.0), &device);
        t(&format!("convT {cout}->{cin} @{}", hw / 2), || ct.forward(y.clone()).sum().into_scalar::<f32>());
    }
    let g = Gdn::new(64, false, &device);
    let x = Tensor::<4>::random([8, 64, 32, 32], Distribution::Uniform(0.0, 1.0), &device);
    t("gdn 64@32", || g.forward(x.clone()).sum().into_scalar::<f32>());
    }
}
