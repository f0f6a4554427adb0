//! The triangular input basis (`nearopt::hessian::rotation`): `W1 → W1 Q = L` lower-trapezoidal
//! keeps the Gram matrix and the population Hessian's spectrum (an orthogonal similarity), and the
//! product that skips `L`'s zero part equals the plain product of the rotated network's Hessian.
//! Oracles: the Gram matrix by explicit loops, the dense Hessian and its eigenvalues of the
//! original network (moments recomputed from the original `W1`), the loop product
//! `PopulationHessian::matvec` of the rotated network. (Its thread- and block-independence is
//! checked with the plain product's, in `density_batched.rs`.)

use nearopt::hessian::batched::{
    BatchedPopulationHessian, BlockOperator, SUB_ROWS, SUB_TILE, UNIT_BLOCK,
};
use nearopt::hessian::rotation::{is_lower_trapezoidal, lower_triangular_inputs};
use nearopt::hessian::{HessianOperator, PopulationHessian};
use nearopt::network::Network;
use nearopt::rng::stream;
use nearopt::spectrum::symmetric_eigenvalues;
use nearopt::teacher::{sample_teacher, WeightDistribution};
use nearopt::Activation;
use rand_distr::{Distribution, StandardNormal};

fn vectors(d: usize, k: usize, seed: u64) -> Vec<f64> {
    let mut rng = stream(seed, 9);
    (0..d * k)
        .map(|_| StandardNormal.sample(&mut rng))
        .collect()
}

fn max_diff(x: &[f64], y: &[f64]) -> f64 {
    x.iter()
        .zip(y)
        .fold(0.0, |m, (a, b)| f64::max(m, (a - b).abs()))
}

/// `W1 W1ᵀ` by explicit loops (row-major `Nh × Nh`).
fn gram(net: &Network) -> Vec<f64> {
    let (nh, ni) = (net.nh(), net.ni());
    let mut q = vec![0.0; nh * nh];
    for m in 0..nh {
        for p in 0..nh {
            q[m * nh + p] = (0..ni).map(|i| net.w1_row(m)[i] * net.w1_row(p)[i]).sum();
        }
    }
    q
}

#[test]
fn rotation_keeps_the_gram_matrix_and_zeroes_the_upper_part() {
    for (ni, nh) in [(5, 9), (9, 5), (7, 7), (1, 4), (4, 1), (70, 80)] {
        let net =
            sample_teacher(Activation::Erf, ni, nh, WeightDistribution::Normal, 4, 0).unwrap();
        let rot = lower_triangular_inputs(&net).unwrap();
        assert!(is_lower_trapezoidal(rot.w1(), nh, ni), "Ni={ni} Nh={nh}");
        assert_eq!(rot.w2(), net.w2());
        let (g, gr) = (gram(&net), gram(&rot));
        let scale = g.iter().fold(0.0, |m: f64, x| m.max(x.abs()));
        // Householder QR is backward stable: ‖L Lᵀ − W1 W1ᵀ‖ = O(n ε ‖W1‖²) with n ≤ 80 here;
        // 1e-13 is ~ 5 n ε.
        let err = max_diff(&g, &gr);
        assert!(
            err <= 1e-13 * scale,
            "Ni={ni} Nh={nh}: Gram changed by {err:e}"
        );
        // The test can fail: W1 itself is not lower-trapezoidal (for Ni, Nh > 1).
        if ni > 1 && nh > 1 {
            assert!(!is_lower_trapezoidal(net.w1(), nh, ni));
        }
    }
}

#[test]
fn rotated_network_has_the_same_hessian_spectrum() {
    let cases = [
        (Activation::Erf, 4, 6, false),
        (Activation::Tanh, 6, 3, false),
        (Activation::Quadratic { epsilon: 0.4 }, 3, 5, false),
        (Activation::Erf, 3, 4, true),
    ];
    for (act, ni, nh, biases) in cases {
        let mut net =
            sample_teacher(act.clone(), ni, nh, WeightDistribution::Normal, 6, 0).unwrap();
        if biases {
            net = net
                .with_biases(
                    Some((0..nh).map(|m| 0.3 - 0.2 * m as f64).collect()),
                    Some(0.5),
                )
                .unwrap();
        }
        let rot = lower_triangular_inputs(&net).unwrap();
        let spec = |n: &Network| {
            let mut e =
                symmetric_eigenvalues(&PopulationHessian::at_optimum(n).dense().unwrap()).unwrap();
            e.sort_by(f64::total_cmp);
            e
        };
        let (e, er) = (spec(&net), spec(&rot));
        let top = e.iter().fold(0.0, |m: f64, x| m.max(x.abs()));
        // Both dense spectra carry O(D ε ‖H‖) rounding from the eigensolver and the moments.
        let err = max_diff(&e, &er);
        assert!(
            err <= 1e-12 * top,
            "{act:?} biases {biases}: spectra differ by {err:e}"
        );
        // The test can fail: a non-orthogonal change of W1 (one input stretched by 2%) moves
        // the spectrum far beyond the tolerance.
        let mut w1 = net.w1().to_vec();
        for m in 0..nh {
            w1[m * ni] *= 1.02;
        }
        let stretched = Network::new(act.clone(), ni, nh, w1, net.w2().to_vec())
            .unwrap()
            .with_biases(net.b1().map(<[f64]>::to_vec), net.b2())
            .unwrap();
        assert!(max_diff(&e, &spec(&stretched)) > 1e3 * 1e-12 * top);
    }
}

#[test]
fn triangular_product_equals_the_rotated_reference() {
    // Several UNIT_BLOCK tiles; SUB_TILE (stage 1) and SUB_ROWS (stage 3) boundaries; Ni < Nh
    // and Ni > Nh.
    let cases = [
        (Activation::Erf, 5, UNIT_BLOCK + 23),
        (Activation::Erf, SUB_TILE + 6, SUB_TILE + 16),
        (Activation::Erf, SUB_ROWS + 30, SUB_ROWS + 2),
        (Activation::Tanh, 4, 3),
        (Activation::Quadratic { epsilon: 0.7 }, 6, 11),
        (
            Activation::Polynomial {
                coefficients: vec![0.1, 1.0, -0.5, 0.3],
            },
            4,
            7,
        ),
    ];
    for (act, ni, nh) in cases {
        let net = sample_teacher(act.clone(), ni, nh, WeightDistribution::Normal, 3, 0).unwrap();
        let h = PopulationHessian::at_optimum(&net);
        let fast = BatchedPopulationHessian::from_population_triangular(&net, &h).unwrap();
        assert!(fast.is_triangular());
        let rot = lower_triangular_inputs(&net).unwrap();
        let hr = PopulationHessian::at_optimum(&rot);
        let d = hr.dim();
        let k = 2;
        let v = vectors(d, k, 12);
        let mut out = vec![0.0; d * k];
        fast.apply_block(&v, &mut out);
        // The rotated Hessian's entries, streamed row by row (no D × D matrix): the direct
        // product Σ_j H_ij v_j and its rounding scale Σ_j |H_ij v_j|.
        let mut direct = vec![0.0; d * k];
        let mut scale = [0.0f64; 2];
        for i in 0..d {
            let mut acc = [0.0f64; 2];
            let mut abs = [0.0f64; 2];
            for jj in 0..d {
                let hij = hr.entry(i, jj);
                for j in 0..k {
                    let t = hij * v[j * d + jj];
                    acc[j] += t;
                    abs[j] += t.abs();
                }
            }
            for j in 0..k {
                direct[j * d + i] = acc[j];
                scale[j] = scale[j].max(abs[j]);
            }
        }
        for j in 0..k {
            let vj = &v[j * d..(j + 1) * d];
            let oj = &out[j * d..(j + 1) * d];
            let mut reference = vec![0.0; d];
            hr.matvec(vj, &mut reference);
            // The operator's moments are those of W1, the reference's of L (equal to O(ε)
            // relative since L Lᵀ = W1 W1ᵀ + O(ε)), and the sums are grouped differently: a few
            // hundred ulps of the scale.
            let err = max_diff(oj, &reference);
            assert!(
                err <= 1e-12 * scale[j],
                "{act:?} Ni={ni} Nh={nh}: |triangular − reference| = {err:e}, scale {:e}",
                scale[j]
            );
            let err = max_diff(oj, &direct[j * d..(j + 1) * d]);
            assert!(
                err <= 1e-12 * scale[j],
                "{act:?} Ni={ni} Nh={nh}: |triangular − entries| = {err:e}"
            );
            // The test can fail: the unrotated network's product differs at O(1).
            let mut plain = vec![0.0; d];
            h.matvec(vj, &mut plain);
            assert!(max_diff(oj, &plain) > 1e-6 * scale[j]);
        }
        // Never more flops than the dense count (equal when Ni ≤ SUB_TILE: nothing to skip).
        let dense_flops = BatchedPopulationHessian::from_population(&net, &h).flops_per_product();
        assert!(fast.flops_per_product() <= dense_flops);
    }
}
