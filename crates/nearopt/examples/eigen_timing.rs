use faer::{Mat, Par};
use nearopt::eigen::two_stage_eigenvalues;
use rand::{Rng, SeedableRng};
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args[1].parse().unwrap();
    let b: Option<usize> = args.get(2).and_then(|s| s.parse().ok());
    let threads: usize = args.get(3).map(|s| s.parse().unwrap()).unwrap_or(2);
    let faer_too = args.get(4).map(|s| s == "faer").unwrap_or(false);
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
    let e = two_stage_eigenvalues(a.as_ref(), b, par).unwrap();
    let t2 = t.elapsed().as_secs_f64();
    let h = e.iter().fold(0u64, |h, x| h.rotate_left(5) ^ x.to_bits());
    println!(
        "two-stage n={n} b={b:?} threads={threads}: {t2:.3} s  (λmax {:.6}) hash {h:x}",
        e[n - 1]
    );
    if faer_too {
        let t = Instant::now();
        let f = a.self_adjoint_eigenvalues(faer::Side::Lower).unwrap();
        let tf = t.elapsed().as_secs_f64();
        let mut f: Vec<f64> = f.into_iter().collect();
        f.sort_by(f64::total_cmp);
        let gap = e
            .iter()
            .zip(&f)
            .fold(0.0f64, |m, (x, y)| m.max((x - y).abs()));
        println!("faer: {tf:.3} s; max gap {gap:.2e}");
    }
}
#[allow(dead_code)]
fn unused() {}
