use nearopt::eigen::bulge_chasing::BandMatrix;
use std::time::Instant;
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args[1].parse().unwrap();
    let b: usize = args[2].parse().unwrap();
    let mut big = Vec::new();
    if std::env::var("BIG").is_ok() {
        big = vec![1.0f64; n * n];
        for (i, x) in big.iter_mut().enumerate() {
            *x = i as f64;
        }
    }
    if std::env::var("DROPBIG").is_ok() {
        big = Vec::new();
    }
    let band = if args.len() > 3 {
        BandMatrix::from_lower(n, b, |i, j| {
            let h = (i as u64).wrapping_mul(0x9E3779B97F4A7C15)
                ^ (j as u64).wrapping_mul(0xC2B2AE3D27D4EB4F);
            let h = h ^ (h >> 29);
            (h % 1000003) as f64 / 500001.5 - 1.0
        })
    } else {
        BandMatrix::from_lower(n, b, |i, j| (((i * 7 + j * 13) % 17) as f64 - 8.0) / 8.0)
    };
    let t = Instant::now();
    let (d, _e) = band.into_tridiagonal();
    let s = t.elapsed().as_secs_f64();
    println!(
        "{} bulge n={n} b={b}: {s:.3} s = {:.2} ns per n²b; d0 {}",
        big.len(),
        s / (n * n * b) as f64 * 1e9,
        d[0]
    );
}
