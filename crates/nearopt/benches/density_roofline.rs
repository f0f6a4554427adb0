//! The product against its roofline, in one run (plain timing loop, no criterion).
//!
//! `cargo bench -p nearopt --bench density_roofline` (optionally `NEAROPT_BENCH_N=500`,
//! `NEAROPT_BENCH_REPS=5`): prints, for the erf teacher with `Ni = Nh = N`,
//!
//! * the plain faer `N × N × N` GEMM (`2 N³` flops), sequential and on the rayon pool: the
//!   achieved GEMM rate that bounds the product (it is three such GEMMs per vector, `6 N³`);
//! * one [`BatchedPopulationHessian`] product for blocks of 1, 4 and 8 vectors (time per vector),
//!   in the given input basis and in the triangular one (`hessian::rotation`, the basis
//!   `nearopt density` uses), interleaved;
//! * the AVX-512 / AVX2 runtime detection (faer 0.24 dispatches its f64 GEMM to
//!   `private-gemm-x86` with AVX-512 kernels whenever `avx512f` is detected at run time, on
//!   stable Rust, without any crate feature);
//!
//! with the minimum over `REPS` repetitions (the least disturbed by other jobs) and the load
//! average before and after. See `docs/performance.md` ("Large-scale spectra").

use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, Par};
use nearopt::hessian::batched::{BatchedPopulationHessian, BlockOperator};
use nearopt::hessian::PopulationHessian;
use nearopt::teacher::{sample_teacher, WeightDistribution};
use nearopt::Activation;
use std::hint::black_box;
use std::time::Instant;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

/// User + system CPU seconds of this process so far (`/proc/self/stat`, clock ticks of
/// 1/100 s): the load-independent cost of the work (time the process was not scheduled does
/// not count).
fn cpu_seconds() -> f64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            let rest = s.rsplit_once(')')?.1.to_owned();
            let f: Vec<&str> = rest.split_whitespace().collect();
            // Fields 14 and 15 of stat(5) are the 12th and 13th after the command name.
            let u: f64 = f.get(11)?.parse().ok()?;
            let s: f64 = f.get(12)?.parse().ok()?;
            Some((u + s) / 100.0)
        })
        .unwrap_or(f64::NAN)
}

/// Timings of `reps` runs of `f` (after one warm-up run): minimum and median wall seconds and
/// the mean CPU seconds per run.
struct Timing {
    min: f64,
    median: f64,
    cpu: f64,
}

fn time(reps: usize, mut f: impl FnMut()) -> Timing {
    f();
    let c0 = cpu_seconds();
    let mut t: Vec<f64> = (0..reps)
        .map(|_| {
            let s = Instant::now();
            f();
            s.elapsed().as_secs_f64()
        })
        .collect();
    let cpu = (cpu_seconds() - c0) / reps as f64;
    t.sort_by(f64::total_cmp);
    Timing {
        min: t[0],
        median: t[t.len() / 2],
        cpu,
    }
}

fn report(name: &str, t: &Timing, flops: f64, per: usize) {
    let k = per as f64;
    println!(
        "{name:<28} min {:8.2} ms ({:6.1} GFLOP/s)  median {:8.2} ms  CPU {:8.2} ms ({:6.1} GFLOP per CPU-s)",
        t.min / k * 1e3,
        flops / t.min * 1e-9,
        t.median / k * 1e3,
        t.cpu / k * 1e3,
        flops / t.cpu * 1e-9
    );
}

fn main() {
    let n = env("NEAROPT_BENCH_N", 1000);
    let reps = env("NEAROPT_BENCH_REPS", 5);
    let threads = rayon::current_num_threads();
    println!(
        "N = {n}, {threads} rayon threads, avx512f detected: {}, avx2+fma: {}, load before: {}",
        std::arch::is_x86_feature_detected!("avx512f"),
        std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma"),
        load()
    );
    let gemm_flops = 2.0 * (n as f64).powi(3);
    let a = Mat::<f64>::from_fn(n, n, |i, j| ((i * 7 + j) as f64).sin());
    let bm = Mat::<f64>::from_fn(n, n, |i, j| ((i + 3 * j) as f64).cos());
    let mut cm = Mat::<f64>::zeros(n, n);
    for (name, par) in [("seq", Par::Seq), ("pool", Par::rayon(0))] {
        let t = time(reps, || {
            matmul(
                cm.as_mut(),
                Accum::Replace,
                a.as_ref(),
                bm.as_ref(),
                1.0,
                par,
            )
        });
        report(&format!("gemm {n}^3 {name}"), &t, gemm_flops, 1);
    }
    // The product's own GEMM shape: N × 128 tiles, sequential, one after another.
    let t = time(reps, || {
        let mut c0 = 0;
        while c0 < n {
            let w = 128.min(n - c0);
            matmul(
                cm.as_mut().subcols_mut(c0, w),
                Accum::Replace,
                a.as_ref(),
                bm.as_ref().subcols(c0, w),
                1.0,
                Par::Seq,
            );
            c0 += w;
        }
    });
    report(&format!("gemm {n}^3 as 128-col tiles"), &t, gemm_flops, 1);
    let net = sample_teacher(Activation::Erf, n, n, WeightDistribution::Normal, 1, 0)
        .expect("valid teacher");
    let s = Instant::now();
    let ph = PopulationHessian::at_optimum(&net);
    println!(
        "operator set-up (pair moments): {:.2} s",
        s.elapsed().as_secs_f64()
    );
    let s = Instant::now();
    let tri = BatchedPopulationHessian::from_population_triangular(&net, &ph).expect("QR");
    println!(
        "triangular basis set-up (sequential QR of W1ᵀ): {:.3} s",
        s.elapsed().as_secs_f64()
    );
    let plain = BatchedPopulationHessian::from_population(&net, &ph);
    let d = BlockOperator::dim(&plain);
    println!(
        "flops per product: plain {:.3} GFLOP, triangular basis {:.3} GFLOP (ratio {:.3})",
        plain.flops_per_product() * 1e-9,
        tri.flops_per_product() * 1e-9,
        tri.flops_per_product() / plain.flops_per_product()
    );
    // Interleaved, so both see the same machine.
    for k in [1usize, 4, 8] {
        let v: Vec<f64> = (0..d * k).map(|i| (i as f64 * 0.37).sin()).collect();
        let mut out = vec![0.0; d * k];
        for (name, h) in [("product", &plain), ("triangular", &tri)] {
            h.reserve(k);
            let per = h.flops_per_product();
            let t = time(reps, || h.apply_block(black_box(&v), &mut out));
            report(
                &format!("{name} k = {k} (per vector)"),
                &t,
                per * k as f64,
                k,
            );
        }
    }
    println!("load after: {}", load());
}
