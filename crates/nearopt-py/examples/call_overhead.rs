//! The Rust side of the Python call-overhead measurement (`python/README.md`): the same work as
//! `nearopt.hessian(t)` and `nearopt.hessian_operator(t).matvec(v)` — the library calls those
//! functions make — timed here without Python, for the seeded erf teachers the Python side uses
//! (`Network.sample_teacher("erf", n, n, seed=1)`, `D = n² + n`).
//!
//! `cargo run --example call_overhead -p nearopt-py -- 10 100` prints, per size, the best of
//! several wall times of the dense assembly and of one product.

use nearopt::hessian::HessianOperator;
use nearopt::teacher::{sample_teacher, WeightDistribution};
use nearopt::{Activation, PopulationHessian};
use std::time::Instant;

fn best<T>(repeats: usize, mut f: impl FnMut() -> T) -> f64 {
    (0..repeats)
        .map(|_| {
            let t0 = Instant::now();
            std::hint::black_box(f());
            t0.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

fn main() -> nearopt::Result<()> {
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    for n in if sizes.is_empty() {
        vec![10, 100]
    } else {
        sizes
    } {
        let net = sample_teacher(Activation::Erf, n, n, WeightDistribution::Normal, 1, 0)?;
        let d = net.dim();
        let repeats = if d > 3000 { 3 } else { 50 };
        let dense = best(repeats, || {
            PopulationHessian::try_at_optimum(&net).and_then(|h| h.to_dense())
        });
        let op = PopulationHessian::try_at_optimum(&net)?;
        let v = vec![1.0; d];
        let mut out = vec![0.0; d];
        let matvec = best(repeats * 20, || op.matvec(&v, &mut out));
        println!("n = {n}, D = {d}: hessian {dense:.6e} s, matvec {matvec:.6e} s");
    }
    Ok(())
}
