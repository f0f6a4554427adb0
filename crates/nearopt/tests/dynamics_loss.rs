//! The exact population loss and gradient against Monte Carlo and finite differences, and the
//! finite-difference Hessian against the exact optimum Hessian.

use nearopt::dynamics::trajectory::finite_difference_hessian_at as population_hessian_at;
use nearopt::dynamics::PopulationLoss;
use nearopt::hessian::sampled::gaussian_inputs;
use nearopt::teacher::{sample_teacher, WeightDistribution};
use nearopt::{Activation, PopulationHessian};

fn activations() -> Vec<Activation> {
    vec![
        Activation::Linear,
        Activation::Quadratic { epsilon: 0.7 },
        Activation::Polynomial {
            coefficients: vec![0.1, 1.0, 0.3, -0.2],
        },
        Activation::Erf,
        Activation::Tanh,
    ]
}

/// A student at a finite distance from the teacher (loss well away from zero).
fn perturbed(theta: &[f64], scale: f64, seed: u64) -> Vec<f64> {
    let noise = nearopt::dynamics::train::initial_noise(theta.len(), scale, seed, 0);
    theta.iter().zip(noise).map(|(a, b)| a + b).collect()
}

#[test]
fn loss_matches_monte_carlo_within_standard_error() {
    for act in activations() {
        let teacher = sample_teacher(act.clone(), 4, 3, WeightDistribution::Normal, 11, 0).unwrap();
        let loss = PopulationLoss::new(&teacher);
        let theta = perturbed(&teacher.params(), 0.3, 5);
        let student = teacher.with_params(&theta).unwrap();
        let exact = loss.loss(&theta).unwrap();
        let n = 200_000;
        let x = gaussian_inputs(4, 99, 0, n);
        let v: Vec<f64> = x
            .chunks(4)
            .map(|xi| 0.5 * (student.output(xi) - teacher.output(xi)).powi(2))
            .collect();
        let mean = v.iter().sum::<f64>() / n as f64;
        let sd = (v.iter().map(|a| (a - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt();
        let se = sd / (n as f64).sqrt();
        // 5 standard errors: a false alarm has probability < 1e-6 per activation.
        assert!(
            (mean - exact).abs() < 5.0 * se,
            "{act:?}: exact {exact}, MC {mean} ± {se}"
        );
        assert!(
            exact > 1e-3,
            "{act:?}: test point too close to the optimum ({exact})"
        );
    }
}

#[test]
fn loss_vanishes_at_the_teacher() {
    for act in activations() {
        let teacher = sample_teacher(act.clone(), 5, 4, WeightDistribution::Normal, 3, 0).unwrap();
        let loss = PopulationLoss::new(&teacher);
        let l = loss.loss(&teacher.params()).unwrap();
        let g = loss.gradient(&teacher.params()).unwrap();
        // Rounding of O(1) sums only.
        assert!(l.abs() < 1e-12, "{act:?}: L(θ*) = {l}");
        assert!(g.iter().all(|v| v.abs() < 1e-12), "{act:?}: ∇L(θ*) ≠ 0");
    }
}

#[test]
fn gradient_matches_finite_differences_of_the_loss() {
    for act in activations() {
        let teacher = sample_teacher(act.clone(), 4, 3, WeightDistribution::Normal, 21, 0).unwrap();
        let loss = PopulationLoss::new(&teacher);
        let theta = perturbed(&teacher.params(), 0.3, 8);
        let g = loss.gradient(&theta).unwrap();
        let scale = g.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let h = 1e-5;
        for i in 0..theta.len() {
            let mut p = theta.clone();
            p[i] += h;
            let lp = loss.loss(&p).unwrap();
            p[i] -= 2.0 * h;
            let lm = loss.loss(&p).unwrap();
            let fd = (lp - lm) / (2.0 * h);
            // Central differences: O(h²) truncation (~1e-10) plus rounding ~1e-16/h (~1e-11);
            // tanh's quadrature moments are good to ~1e-11 relative, hence 1e-6 relative.
            assert!(
                (fd - g[i]).abs() < 1e-6 * scale.max(1.0),
                "{act:?} parameter {i}: analytic {} vs finite difference {fd}",
                g[i]
            );
        }
    }
}

#[test]
fn finite_difference_hessian_matches_exact_hessian_at_the_optimum() {
    for act in [
        Activation::Linear,
        Activation::Quadratic { epsilon: 0.5 },
        Activation::Erf,
    ] {
        let teacher = sample_teacher(act.clone(), 4, 3, WeightDistribution::Normal, 2, 0).unwrap();
        let loss = PopulationLoss::new(&teacher);
        let fd = population_hessian_at(&loss, &teacher.params()).unwrap();
        let exact = PopulationHessian::at_optimum(&teacher).dense().unwrap();
        let d = teacher.dim();
        for i in 0..d {
            for j in 0..d {
                // FD error estimate: ~1e-10 (see trajectory module docs); 1e-7 leaves margin.
                assert!(
                    (fd.get(i, j) - exact.get(i, j)).abs() < 1e-7,
                    "{act:?} H[{i},{j}]: fd {} exact {}",
                    fd.get(i, j),
                    exact.get(i, j)
                );
            }
        }
    }
}

#[test]
fn shape_and_value_errors_are_reported() {
    let teacher = sample_teacher(Activation::Erf, 3, 2, WeightDistribution::Normal, 1, 0).unwrap();
    let loss = PopulationLoss::new(&teacher);
    assert!(loss
        .loss(&[0.0; 3])
        .unwrap_err()
        .to_string()
        .contains("parameters"));
    let mut p = teacher.params();
    p[1] = f64::NAN;
    assert!(loss
        .loss(&p)
        .unwrap_err()
        .to_string()
        .contains("parameter 1"));
}
