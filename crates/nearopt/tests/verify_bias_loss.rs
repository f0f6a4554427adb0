//! The exact population loss and gradient with biases (`docs/biases.md`), and the exact
//! population Hessian with biases as their second derivative.
//!
//! 1. Loss against Monte Carlo: `½ (y_s − y_t)²` averaged over 200 000 inputs, `|exact − mean|
//!    < 6 SE`.
//! 2. Gradient against central differences of the exact loss, `h = 1e-5`: truncation
//!    `h² |∂³L|/6 ≈ 1e-11`, rounding `≈ 1e-16 |L-terms| / h ≈ 1e-11`; tolerance `1e-7 (1 + |∇L|)`
//!    (the quadrature routes are accurate to ~1e-11 of each integrand's mass).
//! 3. At the optimum, `PopulationHessian` (b1 and/or b2) against central differences of the exact
//!    gradient (`dynamics::trajectory::population_hessian_at`, step 1e-5): tolerance
//!    `1e-6 (1 + max|H|)` (ReLU's loss is C² but not C³ at the optimum: O(h) error).

use nearopt::dynamics::loss::PopulationLoss;
use nearopt::dynamics::trajectory::finite_difference_hessian_at as population_hessian_at;
use nearopt::hessian::sampled::gaussian_inputs;
use nearopt::teacher::{sample_teacher, WeightDistribution};
use nearopt::{Activation, Network, PopulationHessian};

fn activations() -> Vec<Activation> {
    vec![
        Activation::Quadratic { epsilon: 0.6 },
        Activation::Erf,
        Activation::Tanh,
        Activation::Relu,
        Activation::LeakyRelu { slope: 0.2 },
        Activation::Gelu,
        Activation::Softplus,
    ]
}

fn teacher(act: &Activation, k: u64, b1: bool, b2: bool) -> Network {
    sample_teacher(act.clone(), 3, 2, WeightDistribution::Normal, 808, k)
        .unwrap()
        .with_biases(b1.then(|| vec![0.4, -0.7]), b2.then_some(-0.3))
        .unwrap()
}

#[test]
fn loss_matches_monte_carlo_and_gradient_matches_finite_differences() {
    for (k, act) in activations().into_iter().enumerate() {
        // Both biases at once: every gradient component (b1 and b2 included) is checked; the
        // single-bias layouts are covered by verify_monte_carlo.rs (CI time: the smooth
        // quadrature route takes ~10 ms per pair and the finite differences need 2D losses).
        for (b1, b2) in [(true, true)] {
            let t = teacher(&act, k as u64, b1, b2);
            let loss = PopulationLoss::new(&t);
            let theta: Vec<f64> = t
                .params()
                .iter()
                .enumerate()
                .map(|(i, v)| v + 0.15 * ((i * 7 % 5) as f64 - 2.0) / 2.0)
                .collect();
            let student = t.with_params(&theta).unwrap();
            let (l, grad) = {
                let mut g = vec![0.0; theta.len()];
                (loss.loss_and_gradient(&theta, &mut g).unwrap(), g)
            };
            assert!((l - loss.loss(&theta).unwrap()).abs() <= 1e-14 * (1.0 + l));
            // Monte Carlo.
            let n = 200_000;
            let x = gaussian_inputs(3, 99, 0, n);
            let (mut s1, mut s2) = (0.0, 0.0);
            for xi in x.chunks(3) {
                let r = student.output(xi) - t.output(xi);
                let v = 0.5 * r * r;
                s1 += v;
                s2 += v * v;
            }
            let mean = s1 / n as f64;
            let se = ((s2 / n as f64 - mean * mean) / (n as f64 - 1.0)).sqrt();
            assert!(
                (l - mean).abs() < 6.0 * se,
                "{act:?} b1={b1} b2={b2}: loss {l} vs MC {mean} ± {se}"
            );
            // Finite differences of the exact loss.
            let h = 1e-5;
            let gmax = grad.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            for i in 0..theta.len() {
                let mut p = theta.clone();
                p[i] += h;
                let lp = loss.loss(&p).unwrap();
                p[i] -= 2.0 * h;
                let lm = loss.loss(&p).unwrap();
                let fd = (lp - lm) / (2.0 * h);
                assert!(
                    (fd - grad[i]).abs() < 1e-7 * (1.0 + gmax),
                    "{act:?} b1={b1} b2={b2} {}: gradient {} vs FD {fd}",
                    t.layout().describe(i),
                    grad[i]
                );
            }
        }
    }
}

#[test]
fn biased_hessian_is_the_jacobian_of_the_exact_gradient_at_the_optimum() {
    for (k, act) in activations().into_iter().enumerate() {
        // Both biases (every bias row and column); b1 or b2 alone are checked against Monte
        // Carlo in verify_monte_carlo.rs.
        for (b1, b2) in [(true, true)] {
            let t = teacher(&act, 40 + k as u64, b1, b2);
            let exact = PopulationHessian::try_at_optimum(&t)
                .unwrap()
                .dense()
                .unwrap();
            let fd = population_hessian_at(&PopulationLoss::new(&t), &t.params()).unwrap();
            let tol = 1e-6 * (1.0 + exact.max_abs());
            let d = t.dim();
            for i in 0..d {
                for j in 0..d {
                    assert!(
                        (exact.get(i, j) - fd.get(i, j)).abs() < tol,
                        "{act:?} b1={b1} b2={b2} ({}, {}): exact {} vs FD {}",
                        t.layout().describe(i),
                        t.layout().describe(j),
                        exact.get(i, j),
                        fd.get(i, j)
                    );
                }
            }
        }
    }
}
