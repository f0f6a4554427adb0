//! Property tests (proptest) of the parameter order and the symmetries of the Hessian:
//!
//! * θ index ↔ weight (INTERFACE.md): `θ[m·Ni + n] = W1[m][n]`, `θ[Nh·Ni + k] = W2[k]`, through
//!   `from_params`, `from_rows`, `params`, `w1_index`, `w2_index`; and semantically: component
//!   `m·Ni + n` of the output gradient is the central difference of the output when `W1[m][n]`
//!   (set through `from_rows`, not through θ) moves.
//! * Relabelling hidden units permutes the Hessian: `H' = P H Pᵀ`.
//! * Odd activations: flipping `w_m` and `a_m` together leaves the function unchanged, and the
//!   Hessian transforms by the diagonal sign matrix: `H' = S H S`.
//! * The matrix-free operator equals the dense matrix.
//!
//! Tolerances: exact equality where only data move; `1e-12 · max|H|` where the same moments are
//! recomputed in another order.

// Matrix code reads clearest with explicit indices.
#![allow(clippy::needless_range_loop)]

use nearopt::hessian::{DenseMatrix, HessianOperator};
use nearopt::{Activation, Network, PopulationHessian};
use proptest::prelude::*;

fn activation(k: usize) -> Activation {
    match k % 5 {
        0 => Activation::Linear,
        1 => Activation::Quadratic { epsilon: 0.6 },
        2 => Activation::Polynomial {
            coefficients: vec![0.1, 0.9, -0.3, 0.2],
        },
        3 => Activation::Erf,
        _ => Activation::Tanh,
    }
}

/// Odd activations: `g(−x) = −g(x)`.
fn odd_activation(k: usize) -> Activation {
    match k % 4 {
        0 => Activation::Linear,
        1 => Activation::Polynomial {
            coefficients: vec![0.0, 1.0, 0.0, -0.35],
        },
        2 => Activation::Erf,
        _ => Activation::Tanh,
    }
}

/// Shapes and weights: `Ni, Nh ∈ 1..=3`, entries in [-1.2, 1.2].
fn net_strategy() -> impl Strategy<Value = (usize, usize, Vec<f64>)> {
    (1usize..=3, 1usize..=3).prop_flat_map(|(ni, nh)| {
        (
            Just(ni),
            Just(nh),
            prop::collection::vec(-1.2f64..1.2, nh * ni + nh),
        )
    })
}

fn dense(net: &Network) -> DenseMatrix {
    PopulationHessian::at_optimum(net).dense().unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn parameter_order_follows_the_interface((ni, nh, theta) in net_strategy(), k in 0usize..5) {
        let act = activation(k);
        let net = Network::from_params(act.clone(), ni, nh, &theta).unwrap();
        for m in 0..nh {
            for n in 0..ni {
                prop_assert_eq!(net.w1_row(m)[n], theta[m * ni + n]);
                prop_assert_eq!(net.w1_index(m, n), m * ni + n);
            }
            prop_assert_eq!(net.w2()[m], theta[nh * ni + m]);
            prop_assert_eq!(net.w2_index(m), nh * ni + m);
        }
        prop_assert_eq!(net.params(), theta.clone());
        let rows: Vec<Vec<f64>> = (0..nh).map(|m| theta[m * ni..(m + 1) * ni].to_vec()).collect();
        let from_rows = Network::from_rows(act.clone(), &rows, theta[nh * ni..].to_vec()).unwrap();
        prop_assert_eq!(from_rows.params(), theta.clone());
        prop_assert_eq!(net.with_params(&theta).unwrap().params(), theta.clone());

        // Semantics: gradient component m·Ni + n is ∂y/∂W1[m][n] (moved through from_rows).
        let g = act.function();
        let x: Vec<f64> = (0..ni).map(|i| 0.7 - 0.45 * i as f64).collect();
        let mut grad = vec![0.0; net.dim()];
        net.output_gradient(g.as_ref(), &x, &mut grad);
        let h = 1e-5;
        for m in 0..nh {
            for n in 0..ni {
                let moved = |s: f64| {
                    let mut r = rows.clone();
                    r[m][n] += s;
                    Network::from_rows(act.clone(), &r, theta[nh * ni..].to_vec()).unwrap().output(&x)
                };
                let fd = (moved(h) - moved(-h)) / (2.0 * h);
                prop_assert!((fd - grad[m * ni + n]).abs() < 1e-7 * (1.0 + fd.abs()),
                    "W1[{}][{}]: fd {} vs gradient {}", m, n, fd, grad[m * ni + n]);
            }
            let mut w2 = theta[nh * ni..].to_vec();
            w2[m] += 1.0;
            let fd = Network::from_rows(act.clone(), &rows, w2).unwrap().output(&x) - net.output(&x);
            // y is linear in W2: the unit difference is the derivative exactly (up to rounding).
            prop_assert!((fd - grad[nh * ni + m]).abs() < 1e-12 * (1.0 + fd.abs()));
        }
    }

    #[test]
    fn permuting_hidden_units_permutes_the_hessian(
        (ni, nh, theta) in net_strategy(),
        k in 0usize..5,
        perm_seed in any::<u64>(),
    ) {
        let net = Network::from_params(activation(k), ni, nh, &theta).unwrap();
        // A permutation from the seed (Fisher–Yates with a fixed LCG).
        let mut perm: Vec<usize> = (0..nh).collect();
        let mut s = perm_seed;
        for i in (1..nh).rev() {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            perm.swap(i, (s >> 33) as usize % (i + 1));
        }
        let moved = net.permute_hidden(&perm).unwrap();
        // Not a permutation: refused with an error, never a panic.
        prop_assert!(net.permute_hidden(&vec![nh; nh]).is_err());
        if nh > 1 {
            prop_assert!(net.permute_hidden(&vec![0; nh]).is_err());
        }
        for m in 0..nh {
            prop_assert_eq!(moved.w1_row(m), net.w1_row(perm[m]));
            prop_assert_eq!(moved.w2()[m], net.w2()[perm[m]]);
        }
        // θ' index i corresponds to θ index map[i].
        let map: Vec<usize> = (0..nh)
            .flat_map(|m| (0..ni).map(move |n| (m, n)))
            .map(|(m, n)| perm[m] * ni + n)
            .chain((0..nh).map(|m| nh * ni + perm[m]))
            .collect();
        let (h, hp) = (dense(&net), dense(&moved));
        let tol = 1e-12 * h.max_abs();
        for i in 0..net.dim() {
            for j in 0..net.dim() {
                prop_assert!((hp.get(i, j) - h.get(map[i], map[j])).abs() <= tol,
                    "H'[{}][{}] = {} vs H[{}][{}] = {}", i, j, hp.get(i, j), map[i], map[j], h.get(map[i], map[j]));
            }
        }
    }

    #[test]
    fn sign_flip_of_a_unit_conjugates_the_hessian_for_odd_activations(
        (ni, nh, theta) in net_strategy(),
        k in 0usize..4,
        mask in 0u32..8,
    ) {
        let act = odd_activation(k);
        let net = Network::from_params(act.clone(), ni, nh, &theta).unwrap();
        let flip = |m: usize| (mask >> m) & 1 == 1;
        let mut sign = vec![1.0; net.dim()];
        for m in 0..nh {
            if flip(m) {
                for n in 0..ni {
                    sign[m * ni + n] = -1.0;
                }
                sign[nh * ni + m] = -1.0;
            }
        }
        let flipped_theta: Vec<f64> = theta.iter().zip(&sign).map(|(t, s)| t * s).collect();
        let flipped = Network::from_params(act, ni, nh, &flipped_theta).unwrap();
        // Same function.
        for t in 0..4 {
            let x: Vec<f64> = (0..ni).map(|i| ((i + 1) * (t + 2)) as f64 * 0.37 - 1.0).collect();
            let (a, b) = (net.output(&x), flipped.output(&x));
            prop_assert!((a - b).abs() <= 1e-14 * (1.0 + a.abs()), "{} vs {}", a, b);
        }
        let (h, hf) = (dense(&net), dense(&flipped));
        let tol = 1e-12 * h.max_abs();
        for i in 0..net.dim() {
            for j in 0..net.dim() {
                prop_assert!((hf.get(i, j) - sign[i] * sign[j] * h.get(i, j)).abs() <= tol);
            }
        }
    }

    #[test]
    fn matvec_equals_dense((ni, nh, theta) in net_strategy(), k in 0usize..5, v_seed in any::<u64>()) {
        let net = Network::from_params(activation(k), ni, nh, &theta).unwrap();
        let op = PopulationHessian::at_optimum(&net);
        let h = op.dense().unwrap();
        let d = net.dim();
        let mut s = v_seed;
        let v: Vec<f64> = (0..d)
            .map(|_| {
                s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                (s >> 11) as f64 / (1u64 << 53) as f64 - 0.5
            })
            .collect();
        let mut a = vec![0.0; d];
        op.matvec(&v, &mut a);
        let vnorm: f64 = v.iter().map(|x| x.abs()).sum();
        for i in 0..d {
            let b: f64 = (0..d).map(|j| h.get(i, j) * v[j]).sum();
            prop_assert!((a[i] - b).abs() <= 1e-12 * h.max_abs() * (1.0 + vnorm), "{} vs {}", a[i], b);
        }
        let td = op.to_dense().unwrap();
        prop_assert_eq!(td.rows(), d);
        for i in 0..d {
            for j in 0..d {
                prop_assert!((td.get(i, j) - h.get(i, j)).abs() <= 1e-12 * h.max_abs());
            }
        }
    }
}
