//! Structural checks of the exact population Hessian: operator = dense, symmetry, PSD, the
//! linear spectrum of Appendix A.3, and agreement with the sampled Hessian.

use nearopt::hessian::sampled::{
    sampled_hessian, sampled_outer_eigenvalues, sampled_outer_product,
};
use nearopt::hessian::{HessianOperator, PopulationHessian};
use nearopt::spectrum::{rank, symmetric_eigenvalues};
use nearopt::teacher::{sample_teacher, WeightDistribution};
use nearopt::Activation;

fn activations() -> Vec<Activation> {
    vec![
        Activation::Linear,
        Activation::Quadratic { epsilon: 1.0 },
        Activation::Polynomial {
            coefficients: vec![0.1, 1.0, -0.5, 0.3],
        },
        Activation::Erf,
        Activation::Tanh,
        Activation::Relu,
        Activation::LeakyRelu { slope: 0.1 },
        Activation::Gelu,
        Activation::Silu,
        Activation::Softplus,
        Activation::Sigmoid,
    ]
}

#[test]
fn matvec_equals_dense_and_matrix_is_symmetric_psd() {
    let biases = [
        (None, None),
        (Some(vec![0.3, -0.5, 0.8]), None),
        (None, Some(-0.4)),
        (Some(vec![-0.2, 0.9, 0.1]), Some(0.7)),
    ];
    for act in activations() {
        for (b1, b2) in biases.clone() {
            let net = sample_teacher(act.clone(), 4, 3, WeightDistribution::Normal, 5, 0)
                .unwrap()
                .with_biases(b1, b2)
                .unwrap();
            let h = PopulationHessian::at_optimum(&net);
            let dense = h.dense().unwrap();
            assert!(dense.asymmetry() < 1e-14 * dense.max_abs(), "{act:?}");
            let d = h.dim();
            let v: Vec<f64> = (0..d).map(|i| ((i * 7 + 3) % 11) as f64 - 5.0).collect();
            let mut a = vec![0.0; d];
            let mut b = vec![0.0; d];
            h.matvec(&v, &mut a);
            dense.matvec(&v, &mut b);
            for i in 0..d {
                assert!(
                    (a[i] - b[i]).abs() < 1e-12 * dense.max_abs() * 10.0,
                    "{act:?} {i}"
                );
            }
            let ev = symmetric_eigenvalues(&dense).unwrap();
            assert!(ev[0] > -1e-12 * ev[d - 1], "{act:?} not PSD: {}", ev[0]);
        }
    }
}

#[test]
fn linear_spectrum_is_norm_w2_plus_gram_eigenvalues() {
    for (ni, nh) in [(3usize, 5usize), (6, 2), (4, 4)] {
        let net =
            sample_teacher(Activation::Linear, ni, nh, WeightDistribution::Normal, 9, 1).unwrap();
        let ev =
            symmetric_eigenvalues(&PopulationHessian::at_optimum(&net).dense().unwrap()).unwrap();
        let r = rank(&ev, None);
        assert_eq!(r.rank, ni);
        // eig(W1ᵀ W1) (Ni×Ni) + |W2|².
        let w1 = net.w1();
        let mut g = nearopt::hessian::DenseMatrix::zeros(ni, ni);
        for a in 0..ni {
            for b in 0..ni {
                g.set(a, b, (0..nh).map(|m| w1[m * ni + a] * w1[m * ni + b]).sum());
            }
        }
        let w2n: f64 = net.w2().iter().map(|x| x * x).sum();
        let expected: Vec<f64> = symmetric_eigenvalues(&g)
            .unwrap()
            .iter()
            .map(|x| x + w2n)
            .collect();
        let top = &ev[ev.len() - ni..];
        for (a, b) in top.iter().zip(&expected) {
            assert!((a - b).abs() < 1e-12 * expected[ni - 1], "{a} vs {b}");
        }
    }
}

#[test]
fn population_matches_sampled_outer_product_within_monte_carlo_error() {
    let n = 40_000;
    for act in activations() {
        let net = sample_teacher(act.clone(), 3, 2, WeightDistribution::Normal, 21, 0).unwrap();
        let exact = PopulationHessian::at_optimum(&net).dense().unwrap();
        let est = sampled_outer_product(&net, n, 3).unwrap();
        // Entry-wise standard error from a second independent estimate's spread is overkill here:
        // bound the per-entry standard deviation by sqrt(E[(J_i J_j)^2]) estimated from a pilot.
        let pilot = sampled_outer_product(&net, n, 4).unwrap();
        let d = net.dim();
        for i in 0..d {
            for j in 0..d {
                let diff = (exact.get(i, j) - est.get(i, j)).abs();
                let spread = (pilot.get(i, j) - est.get(i, j)).abs();
                let scale = 6.0 * (exact.get(i, i) * exact.get(j, j)).sqrt().max(1e-3) * 3.0
                    / (n as f64).sqrt();
                assert!(
                    diff < scale.max(3.0 * spread),
                    "{act:?} ({i},{j}): exact {} sampled {}",
                    exact.get(i, j),
                    est.get(i, j)
                );
            }
        }
        // At the optimum the functional term vanishes: full sampled Hessian = outer product.
        let full = sampled_hessian(&net, &net, 512, 5).unwrap();
        let outer = sampled_outer_product(&net, 512, 5).unwrap();
        assert_eq!(full, outer);
        // NTK route and direct route agree.
        let ev1 = sampled_outer_eigenvalues(&net, 5, 6).unwrap();
        let ev2 = symmetric_eigenvalues(&sampled_outer_product(&net, 5, 6).unwrap()).unwrap();
        for (a, b) in ev1.iter().zip(&ev2) {
            assert!((a - b).abs() < 1e-12 * ev2[ev2.len() - 1].max(1.0));
        }
    }
}
