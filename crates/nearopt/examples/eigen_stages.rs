use faer::{Mat, Par};
use nearopt::eigen::{band_reduction, bulge_chasing, tridiagonal_eigenvalues};
use rand::{Rng, SeedableRng};
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args[1].parse().unwrap();
    let b: usize = args[2].parse().unwrap();
    let threads: usize = args.get(3).map(|s| s.parse().unwrap()).unwrap_or(2);
    let par = if threads > 1 {
        Par::rayon(threads)
    } else {
        Par::Seq
    };
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    let mut a = Mat::<f64>::zeros(n, n);
    for j in 0..n {
        for i in j..n {
            let x: f64 = rng.random_range(-1.0..1.0);
            a[(i, j)] = x;
            a[(j, i)] = x;
        }
    }
    let t = Instant::now();
    band_reduction::reduce_to_band(a.as_mut(), b, par);
    let t1 = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let band = bulge_chasing::BandMatrix::from_lower(n, b, |i, j| a[(i, j)]);
    let tcopy = t.elapsed().as_secs_f64();
    let (d, e) = band.into_tridiagonal_with(threads);
    println!("copy {tcopy:.3}");
    let t2 = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let ev = tridiagonal_eigenvalues(&d, &e).unwrap();
    let t3 = t.elapsed().as_secs_f64();
    // gemm speed reference
    let m = n;
    let x = Mat::<f64>::from_fn(m, 2 * b, |i, j| ((i * 7 + j * 3) % 11) as f64);
    let mut c = Mat::<f64>::zeros(m, m);
    let t = Instant::now();
    faer::linalg::matmul::matmul(
        c.as_mut(),
        faer::Accum::Add,
        x.as_ref(),
        x.transpose(),
        -1.0,
        par,
    );
    let tg = t.elapsed().as_secs_f64();
    println!("n={n} b={b} t={threads}: band {t1:.3}  bulge {t2:.3}  tridiag {t3:.3}  total {:.3}   [gemm m×m×2b {:.1} GF/s] λmax {:.4}", t1+t2+t3, 2.0*(m*m*2*b) as f64/tg/1e9, ev[n-1]);
}
