use faer::{Mat, Par};
use nearopt::eigen::two_stage_eigenvalues;
use rand::{Rng, SeedableRng};
use std::time::Instant;
fn best<F: FnMut()>(reps: usize, mut f: F) -> f64 {
    let mut b = 1e9;
    for _ in 0..reps {
        let t = Instant::now();
        f();
        b = f64::min(b, t.elapsed().as_secs_f64());
    }
    b
}
fn main() {
    for &n in &[120usize, 240, 420, 930, 1500] {
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
        for par in [Par::Seq, Par::rayon(2)] {
            let tf = best(reps, || {
                let _ = faer::linalg::evd::self_adjoint_evd_scratch::<f64>(
                    n,
                    faer::linalg::evd::ComputeEigenvectors::No,
                    par,
                    Default::default(),
                );
                let mut s = faer::diag::Diag::<f64>::zeros(n);
                let mut buf =
                    faer::dyn_stack::MemBuffer::new(faer::linalg::evd::self_adjoint_evd_scratch::<
                        f64,
                    >(
                        n,
                        faer::linalg::evd::ComputeEigenvectors::No,
                        par,
                        Default::default(),
                    ));
                faer::linalg::evd::self_adjoint_evd(
                    a.as_ref(),
                    s.as_mut(),
                    None,
                    par,
                    faer::dyn_stack::MemStack::new(&mut buf),
                    Default::default(),
                )
                .unwrap();
            });
            let mut line = format!(
                "n={n} {:?}: faer {:.2} ms",
                if par == Par::Seq { "seq" } else { "par2" },
                tf * 1e3
            );
            let t1 = best(reps, || {
                nearopt::eigen::one_stage_eigenvalues(a.as_ref(), par).unwrap();
            });
            line += &format!("  one-stage {:.2}", t1 * 1e3);
            for b in [4usize, 8, 12, 16, 24, 32] {
                let t = best(reps, || {
                    two_stage_eigenvalues(a.as_ref(), Some(b), par).unwrap();
                });
                line += &format!("  b{b} {:.2}", t * 1e3);
            }
            println!("{line}");
        }
    }
}
