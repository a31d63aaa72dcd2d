//! Loops compiled for the processor's vector instructions, chosen at run time (the
//! restoration filter's decoder): a task runs as compiled for x86-64-v3 (AVX2, FMA) where the processor has it, and as
//! the build's baseline elsewhere. Only one extra version is compiled, to keep the binary
//! small. Both versions perform the same operations in the same order, so they give the same
//! integers and the same floats (Rust never fuses a multiply and an add on its own).

/// Runs `task`, compiled for AVX2 where the processor has it.
#[inline]
pub(crate) fn run<T: pulp::WithSimd>(task: T) -> T::Output {
    #[cfg(target_arch = "x86_64")]
    if let Some(simd) = pulp::x86::V3::try_new() {
        return pulp::Simd::vectorize(simd, task);
    }
    task.with_simd(pulp::Scalar::new())
}
