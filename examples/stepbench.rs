use burn::prelude::*;
use burn::tensor::Distribution;
use std::time::Instant;
use aec::model::FactorizedConfig;
fn t<F: FnMut() -> f32>(name: &str, mut f: F) {
    f();
    let s = Instant::now();
    for _ in 0..10 { f(); }
    eprintln!("{name}: {:.1} ms", s.elapsed().as_secs_f64() * 100.0);
}
fn main() {
    let device = Device::flex().autodiff();
    let cfg = FactorizedConfig::new();
    let m = cfg.init(&device);
    let x = Tensor::<4>::random([8, 3, 64, 64], Distribution::Uniform(0.0, 1.0), &device);
    t("analysis fwd", || m.analysis.forward(x.clone()).sum().into_scalar::<f32>());
    let y = m.analysis.forward(x.clone()).detach();
    t("synthesis fwd", || m.synthesis.forward(y.clone()).sum().into_scalar::<f32>());
    t("entropy fwd", || m.entropy.likelihoods(y.clone()).sum().into_scalar::<f32>());
    t("analysis fwd+bwd", || { let l = m.analysis.forward(x.clone()).sum(); l.backward(); 0.0 });
    t("synthesis fwd+bwd", || { let l = m.synthesis.forward(y.clone().require_grad()).sum(); l.backward(); 0.0 });
    t("entropy fwd+bwd", || { let l = m.entropy.likelihoods(y.clone()).log().sum(); l.backward(); 0.0 });
    t("full", || { let o = m.forward_train(x.clone()); let l = (o.reconstruction - x.clone()).square().mean() + o.likelihoods.log().sum(); l.backward(); 0.0 });
}
