//! Eigenvalues-only solvers at small sizes (the one-stage / two-stage table of
//! `docs/performance.md`): faer's stock solver, faer's one-stage tridiagonalisation + our
//! tridiagonal QL, and the two-stage reduction at several bandwidths, on one thread and on two.
//!
//! ```text
//! cargo run --release -p nearopt --example eigen_small
//! ```

use faer::{Mat, Par};
use nearopt::eigen::{one_stage_eigenvalues, two_stage_eigenvalues};
use rand::{Rng, SeedableRng};
use std::time::Instant;

fn best_ms(reps: usize, mut f: impl FnMut()) -> f64 {
    (0..reps)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64() * 1e3
        })
        .fold(f64::INFINITY, f64::min)
}

fn main() {
    for n in [120usize, 240, 420, 930, 1500] {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let mut a = Mat::<f64>::zeros(n, n);
        for j in 0..n {
            for i in j..n {
                let x: f64 = rng.random_range(-1.0..1.0);
                a[(i, j)] = x;
                a[(j, i)] = x;
            }
        }
        let reps = if n < 1000 { 20 } else { 5 };
        for (name, par) in [("1 thread ", Par::Seq), ("2 threads", Par::rayon(2))] {
            let stock = best_ms(reps, || {
                a.self_adjoint_eigenvalues(faer::Side::Lower)
                    .expect("converges");
            });
            let one = best_ms(reps, || {
                one_stage_eigenvalues(a.as_ref(), par).expect("converges");
            });
            let mut line = format!("n={n} {name}: faer stock {stock:.2} ms, one-stage {one:.2}");
            for b in [8usize, 16, 24, 32] {
                let t = best_ms(reps, || {
                    two_stage_eigenvalues(a.as_ref(), Some(b), par).expect("converges");
                });
                line += &format!(", two-stage b={b} {t:.2}");
            }
            println!("{line}");
        }
    }
}
