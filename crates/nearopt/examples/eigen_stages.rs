//! Stage times of the two-stage eigensolver on a random symmetric matrix (the bandwidth table
//! of `docs/performance.md`):
//!
//! ```text
//! cargo run --release -p nearopt --example eigen_stages -- N BANDWIDTH [THREADS=2]
//! ```
//!
//! Prints the dense → band, band → tridiagonal and tridiagonal-QL times, and the speed of one
//! faer product of the update's shape for comparison.

use faer::{Mat, Par};
use nearopt::eigen::{band_reduction, bulge_chasing, tridiagonal_eigenvalues};
use rand::{Rng, SeedableRng};
use std::time::Instant;

fn arg(args: &[String], i: usize, default: Option<usize>) -> usize {
    match args.get(i) {
        Some(s) => s.parse().unwrap_or_else(|_| {
            eprintln!("argument {i} must be a positive integer, got {s}");
            std::process::exit(2)
        }),
        None => default.unwrap_or_else(|| {
            eprintln!("usage: eigen_stages N BANDWIDTH [THREADS=2]");
            std::process::exit(2)
        }),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (n, b, threads) = (
        arg(&args, 1, None),
        arg(&args, 2, None),
        arg(&args, 3, Some(2)),
    );
    if n < 3 || b == 0 || b >= n || threads == 0 {
        eprintln!("need N ≥ 3, 1 ≤ BANDWIDTH < N, THREADS ≥ 1");
        std::process::exit(2);
    }
    let par = if threads > 1 {
        Par::rayon(threads)
    } else {
        Par::Seq
    };
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    let mut a = Mat::<f64>::zeros(n, n);
    for j in 0..n {
        for i in j..n {
            a[(i, j)] = rng.random_range(-1.0..1.0);
        }
    }
    let t = Instant::now();
    band_reduction::reduce_to_band(a.as_mut(), b, par);
    let band_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let band = bulge_chasing::BandMatrix::from_lower(n, b, |i, j| a[(i, j)]);
    let (d, e) = band.into_tridiagonal_with(threads);
    let chase_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let ev = tridiagonal_eigenvalues(&d, &e).expect("QL converges");
    let ql_s = t.elapsed().as_secs_f64();
    let x = Mat::<f64>::from_fn(n, 2 * b, |i, j| ((i * 7 + j * 3) % 11) as f64);
    let mut c = Mat::<f64>::zeros(n, n);
    let t = Instant::now();
    faer::linalg::matmul::matmul(
        c.as_mut(),
        faer::Accum::Add,
        x.as_ref(),
        x.transpose(),
        -1.0,
        par,
    );
    let gflops = 2.0 * (n * n * 2 * b) as f64 / t.elapsed().as_secs_f64() / 1e9;
    println!(
        "n={n} b={b} threads={threads}: band {band_s:.3} s, bulge chase {chase_s:.3} s, tridiagonal QL {ql_s:.3} s, total {:.3} s \
         [faer n×n×2b product: {gflops:.1} GF/s] λmax {:.6}",
        band_s + chase_s + ql_s,
        ev[n - 1]
    );
}
