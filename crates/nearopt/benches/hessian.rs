//! Criterion benchmarks of the exact population Hessian: pair moments + dense assembly, the
//! matrix-free product, eigenvalues on the pool versus one thread (N = 35 reaches the two-stage
//! path), the eigensolvers side by side, and an ensemble solved side by side. Run with `cargo bench -p nearopt --bench hessian` (see `docs/performance.md`; the
//! comparison with NumPy is `nearopt bench --numpy`).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use nearopt::hessian::HessianOperator;
use nearopt::spectrum::{ensemble_eigenvalues, symmetric_spectrum_with, SolverThreads};
use nearopt::teacher::{sample_teacher, WeightDistribution};
use nearopt::{Activation, PopulationHessian};
use std::hint::black_box;

fn teacher(act: Activation, n: usize, stream: u64) -> nearopt::Network {
    sample_teacher(act, n, n, WeightDistribution::Normal, 1, stream).expect("valid teacher")
}

fn assembly(c: &mut Criterion) {
    let mut g = c.benchmark_group("assembly");
    for n in [20, 50] {
        for act in [Activation::Erf, Activation::Quadratic { epsilon: 0.5 }] {
            let net = teacher(act.clone(), n, 0);
            g.bench_with_input(BenchmarkId::new(act.name(), n), &net, |b, net| {
                b.iter(|| {
                    PopulationHessian::at_optimum(black_box(net))
                        .dense()
                        .unwrap()
                })
            });
        }
    }
    g.finish();
}

fn matvec(c: &mut Criterion) {
    let mut g = c.benchmark_group("matvec");
    for n in [20, 50, 100] {
        let h = PopulationHessian::at_optimum(&teacher(Activation::Erf, n, 0));
        let v: Vec<f64> = (0..h.dim()).map(|i| (i as f64).sin()).collect();
        let mut out = vec![0.0; h.dim()];
        g.bench_function(BenchmarkId::new("erf", n), |b| {
            b.iter(|| h.matvec(black_box(&v), &mut out))
        });
    }
    g.finish();
}

fn eigenvalues(c: &mut Criterion) {
    let mut g = c.benchmark_group("eigenvalues");
    g.sample_size(10);
    for n in [20, 35] {
        let h = PopulationHessian::at_optimum(&teacher(Activation::Erf, n, 0))
            .dense()
            .unwrap();
        for (name, t) in [
            ("pool", SolverThreads::Pool),
            ("single", SolverThreads::Single),
        ] {
            g.bench_function(BenchmarkId::new(name, n), |b| {
                b.iter(|| symmetric_spectrum_with(black_box(&h), false, t).unwrap())
            });
        }
    }
    g.finish();
}

fn ensemble(c: &mut Criterion) {
    let nets: Vec<_> = (0..100)
        .map(|i| teacher(Activation::Erf, 20, 1000 + i))
        .collect();
    let mut g = c.benchmark_group("ensemble");
    g.sample_size(10);
    g.bench_function("100 erf N=20", |b| {
        b.iter(|| ensemble_eigenvalues(black_box(&nets)).unwrap())
    });
    g.finish();
}

/// The eigenvalue-only solvers on one population Hessian (erf, N = 50, D = 2550): faer's stock
/// self-adjoint solver, faer's one-stage tridiagonalisation + our tridiagonal QL (one thread),
/// and the two-stage reduction (pool), all in the same run.
fn eigensolvers(c: &mut Criterion) {
    let h = PopulationHessian::at_optimum(&teacher(Activation::Erf, 50, 0))
        .dense()
        .unwrap();
    let a = h.as_faer_transpose();
    let threads = rayon::current_num_threads();
    let par = if threads > 1 {
        faer::Par::rayon(threads)
    } else {
        faer::Par::Seq
    };
    let mut g = c.benchmark_group("eigensolvers D=2550");
    g.sample_size(10);
    g.bench_function("faer self_adjoint_eigenvalues", |b| {
        b.iter(|| {
            black_box(a)
                .self_adjoint_eigenvalues(faer::Side::Lower)
                .unwrap()
        })
    });
    g.bench_function("one-stage (1 thread)", |b| {
        b.iter(|| nearopt::eigen::one_stage_eigenvalues(black_box(a), faer::Par::Seq).unwrap())
    });
    g.bench_function("two-stage (pool)", |b| {
        b.iter(|| nearopt::eigen::two_stage_eigenvalues(black_box(a), None, par).unwrap())
    });
    g.finish();
}

criterion_group!(
    benches,
    assembly,
    matvec,
    eigenvalues,
    eigensolvers,
    ensemble
);
criterion_main!(benches);
