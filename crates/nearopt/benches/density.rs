//! The fast exact product at large N against its roofline and one exact population gradient.
//!
//! `cargo bench -p nearopt --bench density` (optionally `NEAROPT_BENCH_N=500`): times
//!
//! * `product/k`: one block product of `k` vectors with [`BatchedPopulationHessian`]
//!   (reported per block; divide by `k` for the time per product),
//! * `reference_matvec`: `PopulationHessian::matvec` (the loop route it replaces),
//! * `gemm`: one `N × N × N` faer GEMM on the pool, the roofline's measured speed (a product is
//!   three such GEMMs per vector, `6 N³` flops),
//! * `gradient`: one exact population gradient (`PopulationLoss::loss_and_gradient`) at a
//!   student near the teacher.
//!
//! See `docs/performance.md` ("Large-scale spectra") for the measured figures.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, Par};
use nearopt::dynamics::PopulationLoss;
use nearopt::hessian::batched::{BatchedPopulationHessian, BlockOperator};
use nearopt::hessian::HessianOperator;
use nearopt::teacher::{sample_teacher, WeightDistribution};
use nearopt::{Activation, PopulationHessian};
use std::hint::black_box;
use std::time::Duration;

fn size() -> usize {
    std::env::var("NEAROPT_BENCH_N")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1000)
}

fn large(c: &mut Criterion) {
    let n = size();
    let net = sample_teacher(Activation::Erf, n, n, WeightDistribution::Normal, 1, 0)
        .expect("valid teacher");
    let h = PopulationHessian::at_optimum(&net);
    let fast = BatchedPopulationHessian::from_population(&net, &h);
    let d = h.dim();
    let mut g = c.benchmark_group(format!("density_n{n}"));
    g.sample_size(10).measurement_time(Duration::from_secs(8));
    for k in [1usize, 4] {
        fast.reserve(k);
        let v: Vec<f64> = (0..d * k).map(|i| (i as f64 * 0.37).sin()).collect();
        let mut out = vec![0.0; d * k];
        g.bench_function(BenchmarkId::new("product", k), |b| {
            b.iter(|| fast.apply_block(black_box(&v), &mut out))
        });
    }
    {
        let v: Vec<f64> = (0..d).map(|i| (i as f64 * 0.37).sin()).collect();
        let mut out = vec![0.0; d];
        g.bench_function("reference_matvec", |b| {
            b.iter(|| h.matvec(black_box(&v), &mut out))
        });
    }
    {
        let a = Mat::<f64>::from_fn(n, n, |i, j| ((i * 7 + j) as f64).sin());
        let bm = Mat::<f64>::from_fn(n, n, |i, j| ((i + 3 * j) as f64).cos());
        let mut cm = Mat::<f64>::zeros(n, n);
        g.bench_function("gemm", |b| {
            b.iter(|| {
                matmul(
                    cm.as_mut(),
                    Accum::Replace,
                    a.as_ref(),
                    bm.as_ref(),
                    1.0,
                    Par::rayon(0),
                )
            })
        });
    }
    {
        let loss = PopulationLoss::new(&net);
        let mut theta = net.params();
        for (i, t) in theta.iter_mut().enumerate() {
            *t += 1e-3 * (i as f64).sin();
        }
        let mut grad = vec![0.0; d];
        g.sample_size(10).measurement_time(Duration::from_secs(20));
        g.bench_function("gradient", |b| {
            b.iter(|| {
                loss.loss_and_gradient(black_box(&theta), &mut grad)
                    .unwrap()
            })
        });
    }
    g.finish();
    let _ = BlockOperator::dim(&fast);
}

criterion_group!(benches, large);
criterion_main!(benches);
