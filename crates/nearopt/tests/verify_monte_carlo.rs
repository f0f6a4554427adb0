//! Every closed form of the exact population Hessian against Monte Carlo, with tolerances from
//! the Monte Carlo standard error estimated from the samples themselves.
//!
//! * `H = E[J Jᵀ]` (paper Eq. 5 at the optimum): for each entry the per-sample products
//!   `J_i J_j` give the mean and the standard error `SE = sd/√n`; every entry must satisfy
//!   `|exact − mean| < z·SE` with `z = 6` (a two-sided normal tail of 2e-9 per entry: over the
//!   ~600 distinct entries checked here the chance of a false alarm is below 1.2e-6; the seeds are fixed, so
//!   the outcome is deterministic). To show the test has power, the largest SE must also be
//!   below 5 % of `max|H|`, so an error of that size could not hide.
//! * Hessian = Fisher information (Appendix D): `F = E[(y − f(x))² ∇f ∇fᵀ]` with
//!   `y ~ N(f(x), 1)`, estimated with the noise drawn here, checked the same way.

// Matrix code reads clearest with explicit indices.
#![allow(clippy::needless_range_loop)]

use nearopt::hessian::sampled::{sampled_jacobian, sampled_outer_product};
use nearopt::hessian::DenseMatrix;
use nearopt::teacher::{sample_teacher, WeightDistribution};
use nearopt::{Activation, Network, PopulationHessian};
use rand_distr::{Distribution, StandardNormal};

const Z: f64 = 6.0;

fn activations() -> Vec<Activation> {
    vec![
        Activation::Linear,
        Activation::Quadratic { epsilon: 0.8 },
        Activation::Polynomial {
            coefficients: vec![0.2, 0.9, -0.4, 0.35],
        },
        Activation::Polynomial {
            coefficients: vec![-0.1, 1.0, 0.3, -0.2, 0.06],
        },
        Activation::Erf,
        Activation::Tanh,
        Activation::Relu,
        Activation::LeakyRelu { slope: 0.2 },
        Activation::Gelu,
        Activation::Silu,
        Activation::Softplus,
        Activation::Sigmoid,
    ]
}

/// Mean and standard error of `w_s J_si J_sj` over the samples `s` (rows of `jac`).
fn mean_and_se(jac: &DenseMatrix, weights: Option<&[f64]>) -> (Vec<f64>, Vec<f64>) {
    let (n, d) = (jac.rows(), jac.cols());
    let mut s1 = vec![0.0; d * d];
    let mut s2 = vec![0.0; d * d];
    for s in 0..n {
        let row = jac.row(s);
        let w = weights.map_or(1.0, |w| w[s]);
        for i in 0..d {
            for j in i..d {
                let p = w * row[i] * row[j];
                s1[i * d + j] += p;
                s2[i * d + j] += p * p;
            }
        }
    }
    let nf = n as f64;
    let mut mean = vec![0.0; d * d];
    let mut se = vec![0.0; d * d];
    for i in 0..d {
        for j in i..d {
            let m = s1[i * d + j] / nf;
            let var = ((s2[i * d + j] / nf - m * m) * nf / (nf - 1.0)).max(0.0);
            for (a, b) in [(i, j), (j, i)] {
                mean[a * d + b] = m;
                se[a * d + b] = (var / nf).sqrt();
            }
        }
    }
    (mean, se)
}

/// `|exact − estimate| < Z·SE` on every entry (entries with zero variance must agree to
/// rounding); returns the largest `|exact − estimate|/SE`.
fn check_entries(name: &str, exact: &DenseMatrix, mean: &[f64], se: &[f64]) -> f64 {
    let d = exact.rows();
    let scale = exact.max_abs();
    let max_se = se.iter().cloned().fold(0.0, f64::max);
    assert!(
        max_se < 0.05 * scale,
        "{name}: SE {max_se} too large for max|H| = {scale}: the test would lack power"
    );
    let mut worst: f64 = 0.0;
    for i in 0..d {
        for j in 0..d {
            let (e, m, s) = (exact.get(i, j), mean[i * d + j], se[i * d + j]);
            if s == 0.0 {
                // A constant product summed over n samples rounds by up to n·ε (4e-11 at 2e5).
                assert!(
                    (e - m).abs() <= 1e-10 * scale,
                    "{name} [{i}][{j}]: {e} vs {m}"
                );
                continue;
            }
            let z = (e - m).abs() / s;
            worst = worst.max(z);
            assert!(
                z < Z,
                "{name} [{i}][{j}]: exact {e}, estimate {m} ± {s} (z = {z:.2})"
            );
        }
    }
    worst
}

fn network(act: Activation, ni: usize, nh: usize, stream: u64) -> Network {
    sample_teacher(act, ni, nh, WeightDistribution::Normal, 20261123, stream).unwrap()
}

#[test]
fn every_closed_form_matches_monte_carlo_within_standard_errors() {
    let n = 200_000;
    for (k, act) in activations().into_iter().enumerate() {
        for (ni, nh) in [(3usize, 2usize), (2, 3)] {
            let net = network(act.clone(), ni, nh, (10 * k + ni) as u64);
            let exact = PopulationHessian::at_optimum(&net).dense().unwrap();
            let jac = sampled_jacobian(&net, n, 77).unwrap();
            let (mean, se) = mean_and_se(&jac, None);
            // sampled_outer_product uses the same inputs: it must equal the mean of J Jᵀ.
            let outer = sampled_outer_product(&net, n, 77).unwrap();
            let d = net.dim();
            for i in 0..d {
                for j in 0..d {
                    let (a, b) = (outer.get(i, j), mean[i * d + j]);
                    assert!(
                        (a - b).abs() <= 1e-10 * (1.0 + b.abs()),
                        "{act:?} [{i}][{j}]"
                    );
                }
            }
            let worst = check_entries(&format!("{act:?} {ni}x{nh}"), &exact, &mean, &se);
            eprintln!("{:?} {ni}x{nh}: max z = {worst:.2}", act.name());
        }
    }
}

/// Biases change every expectation (non-centred pre-activations, `docs/biases.md`): the exact
/// Hessian with `b1` only, `b2` only and both, for every activation, against Monte Carlo.
#[test]
fn biased_networks_match_monte_carlo_within_standard_errors() {
    let n = 200_000;
    for (k, act) in activations().into_iter().enumerate() {
        for (c, (with_b1, with_b2)) in [(true, false), (false, true), (true, true)]
            .into_iter()
            .enumerate()
        {
            let (ni, nh) = (3usize, 2usize);
            let base = network(act.clone(), ni, nh, (300 + 10 * k + c) as u64);
            let b1 = with_b1.then(|| vec![0.6, -0.9]);
            let b2 = with_b2.then_some(0.35);
            let net = base.with_biases(b1, b2).unwrap();
            let exact = PopulationHessian::try_at_optimum(&net)
                .unwrap()
                .dense()
                .unwrap();
            assert_eq!(exact.rows(), net.dim());
            let jac = sampled_jacobian(&net, n, 78).unwrap();
            let (mean, se) = mean_and_se(&jac, None);
            let name = format!("{act:?} b1={with_b1} b2={with_b2}");
            let worst = check_entries(&name, &exact, &mean, &se);
            eprintln!("{name}: max z = {worst:.2}");
        }
    }
}

#[test]
fn hessian_equals_fisher_information() {
    // F = E_x E_{y~N(f,1)}[(y − f)² ∇f ∇fᵀ]: the noise e = y − f is drawn here, one per input.
    let n = 200_000;
    for (k, act) in [
        Activation::Erf,
        Activation::Quadratic { epsilon: 0.5 },
        Activation::Tanh,
    ]
    .into_iter()
    .enumerate()
    {
        let net = network(act.clone(), 3, 2, 100 + k as u64);
        let exact = PopulationHessian::at_optimum(&net).dense().unwrap();
        let jac = sampled_jacobian(&net, n, 91).unwrap();
        let mut rng = nearopt::rng::stream(91, 1 << 40);
        let e2: Vec<f64> = (0..n)
            .map(|_| {
                let e: f64 = StandardNormal.sample(&mut rng);
                e * e
            })
            .collect();
        let (mean, se) = mean_and_se(&jac, Some(&e2));
        let worst = check_entries(&format!("Fisher {act:?}"), &exact, &mean, &se);
        eprintln!("Fisher {}: max z = {worst:.2}", act.name());
    }
}
