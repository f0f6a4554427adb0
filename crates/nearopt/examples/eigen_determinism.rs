use faer::{Mat, Par};
use rand::{Rng, SeedableRng};
fn main() {
    for &n in &[300usize, 800, 1500, 2100, 3000] {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(n as u64);
        let mut a = Mat::<f64>::zeros(n, n);
        for j in 0..n {
            for i in j..n {
                let x: f64 = rng.random_range(-1.0..1.0);
                a[(i, j)] = x;
                a[(j, i)] = x;
            }
        }
        let h = |e: &[f64]| e.iter().fold(0u64, |h, x| h.rotate_left(5) ^ x.to_bits());
        let o1 = nearopt::eigen::one_stage_eigenvalues(a.as_ref(), Par::Seq).unwrap();
        let o2 = nearopt::eigen::one_stage_eigenvalues(a.as_ref(), Par::rayon(2)).unwrap();
        let t1 = nearopt::eigen::two_stage_eigenvalues(a.as_ref(), None, Par::Seq).unwrap();
        let t2 = nearopt::eigen::two_stage_eigenvalues(a.as_ref(), None, Par::rayon(2)).unwrap();
        println!(
            "n={n}: one-stage seq==par {}  two-stage seq==par {}",
            h(&o1) == h(&o2),
            h(&t1) == h(&t2)
        );
    }
}
