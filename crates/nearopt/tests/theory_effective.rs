//! Effective numbers of parameters (`nearopt::theory::effective_params`) against the numerical rank
//! of the exact population Hessian at the optimum (computed independently by `PopulationHessian`).

use nearopt::spectrum::{rank, symmetric_eigenvalues, RankDecision};
use nearopt::teacher::{sample_teacher, WeightDistribution};
use nearopt::theory::effective_params::{
    binomial, linear, polynomial_bound, polynomial_bound_general, quadratic_eq14,
    quadratic_null_dimension, zero_eigenvalues_square,
};
use nearopt::{Activation, PopulationHessian};

/// Rank of the exact Hessian at the optimum for a teacher with the given activation and sizes.
fn hessian_rank(act: Activation, ni: usize, nh: usize, seed: u64) -> (usize, RankDecision) {
    let net = sample_teacher(act, ni, nh, WeightDistribution::Normal, seed, 0).unwrap();
    let h = PopulationHessian::at_optimum(&net).dense().unwrap();
    let eigs = symmetric_eigenvalues(&h).unwrap();
    // The default tolerance max|λ|·D·ε (INTERFACE.md). At N_i = N_h the smallest genuine
    // eigenvalue of the quadratic network can be as small as ~1e-6 (relative), so a looser relative
    // threshold would be wrong; the gap to the round-off eigenvalues is asserted instead.
    let d = rank(&eigs, None);
    (eigs.len(), d)
}

fn assert_clear(d: &RankDecision, what: &str) {
    // Any dropped eigenvalue must be round-off, many orders below the smallest kept one.
    assert!(d.gap_ratio() > 1e4, "{what}: unclear rank decision {d:?}");
}

#[test]
fn linear_rank_is_ni() {
    for (ni, nh) in [(1, 3), (3, 1), (4, 4), (5, 2), (2, 6)] {
        let (_, d) = hessian_rank(Activation::Linear, ni, nh, 11);
        assert_clear(&d, &format!("linear {ni}x{nh}"));
        assert_eq!(d.rank, linear(ni), "linear ni={ni} nh={nh}");
    }
}

#[test]
fn quadratic_rank_matches_eq14_for_all_small_sizes() {
    for ni in 1..=5 {
        for nh in 1..=6 {
            let (dim, d) = hessian_rank(
                Activation::Quadratic { epsilon: 1.0 },
                ni,
                nh,
                100 + (ni * 10 + nh) as u64,
            );
            assert_clear(&d, &format!("quadratic {ni}x{nh}"));
            assert_eq!(
                d.rank,
                quadratic_eq14(ni, nh),
                "quadratic ni={ni} nh={nh} (D={dim})"
            );
            // The independent derivation in docs/theory.md: N_h N_i − N_h(N_h−1)/2 + N_h below N_i.
            let derived = if nh >= ni {
                ni + ni * (ni + 1) / 2
            } else {
                nh * ni - nh * (nh - 1) / 2 + nh
            };
            assert_eq!(derived, quadratic_eq14(ni, nh));
            assert_eq!(dim - d.rank, quadratic_null_dimension(ni, nh));
            if nh <= ni {
                // The triangular numbers of Section 4.1.1 hold for every N_h ≤ N_i.
                assert_eq!(dim - d.rank, nh * (nh - 1) / 2, "quadratic ni={ni} nh={nh}");
            }
        }
    }
}

#[test]
fn square_quadratic_network_has_triangular_number_of_zero_eigenvalues() {
    for n in 1..=6 {
        let (dim, d) = hessian_rank(Activation::Quadratic { epsilon: 0.5 }, n, n, 7 + n as u64);
        assert_clear(&d, &format!("quadratic {n}x{n}"));
        assert_eq!(dim, n * (n + 1));
        assert_eq!(dim - d.rank, zero_eigenvalues_square(n), "N = {n}");
    }
}

#[test]
fn cubic_rank_never_exceeds_the_polynomial_bound_and_reaches_it_when_wide() {
    // g(x) = x + 0.5 x² + 0.3 x³ (no constant term): the bound C(Ni+3, 3) − 1.
    let act = Activation::Polynomial {
        coefficients: vec![0.0, 1.0, 0.5, 0.3],
    };
    for ni in 1..=3 {
        let bound = polynomial_bound(ni, 3);
        for nh in [1, 2, 4, 8] {
            let (dim, d) = hessian_rank(act.clone(), ni, nh, 300 + (ni * 10 + nh) as u64);
            assert_clear(&d, &format!("cubic {ni}x{nh}"));
            assert!(
                d.rank <= bound.min(dim),
                "cubic ni={ni} nh={nh}: rank {} > bound {bound}",
                d.rank
            );
            if dim >= 2 * bound {
                assert_eq!(
                    d.rank, bound,
                    "cubic ni={ni} nh={nh}: wide network should saturate the bound"
                );
            }
        }
    }
}

#[test]
fn a_constant_term_adds_the_constant_function() {
    // g(x) = 0.2 + x + 0.5 x² + 0.3 x³: wide networks reach C(Ni+3, 3).
    let act = Activation::Polynomial {
        coefficients: vec![0.2, 1.0, 0.5, 0.3],
    };
    for ni in 1..=2 {
        let bound = polynomial_bound_general(ni, 3, true);
        assert_eq!(bound, binomial(ni + 3, 3));
        let (_, d) = hessian_rank(act.clone(), ni, 12, 500 + ni as u64);
        assert_clear(&d, &format!("cubic+constant {ni}x12"));
        assert_eq!(d.rank, bound, "cubic with constant, ni={ni}");
    }
}

#[test]
fn counts_match_their_definitions() {
    // C(n, k) against Pascal's rule; the bound against the hockey-stick sum Σ_k C(Ni+k−1, k).
    for n in 0..30 {
        for k in 0..=n {
            let pascal = if k == 0 || k == n {
                1
            } else {
                binomial(n - 1, k - 1) + binomial(n - 1, k)
            };
            assert_eq!(binomial(n, k), pascal);
        }
    }
    for ni in 1..8 {
        for deg in 1..6 {
            let sum: usize = (1..=deg).map(|k| binomial(ni + k - 1, k)).sum();
            assert_eq!(polynomial_bound(ni, deg), sum);
        }
        assert_eq!(polynomial_bound(ni, 2), quadratic_eq14(ni, ni));
    }
    for n in 1..20 {
        assert_eq!(
            zero_eigenvalues_square(n),
            n * (n + 1) - quadratic_eq14(n, n)
        );
    }
}

#[test]
fn huge_sizes_saturate_instead_of_overflowing() {
    let big = usize::MAX / 2;
    assert_eq!(quadratic_eq14(big, big), usize::MAX);
    assert_eq!(zero_eigenvalues_square(big), usize::MAX);
    assert_eq!(polynomial_bound(big, 3), usize::MAX);
    assert_eq!(polynomial_bound_general(big, 3, true), usize::MAX);
    assert_eq!(binomial(200, 100), usize::MAX);
    // Exact where it fits: C(64, 32) = 1832624140942590534.
    assert_eq!(binomial(64, 32), 1_832_624_140_942_590_534);
    assert_eq!(
        quadratic_null_dimension(1 << 20, 1 << 10),
        (1 << 10) * ((1 << 10) - 1) / 2
    );
}
