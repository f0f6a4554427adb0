//! Certified ranks (`nearopt::certify`) against answers derived independently here, and checks
//! that the certificate can fail.
//!
//! Known answers:
//! * linear: `y = (W2ᵀ W1) x` depends on the `Ni` numbers of `W2ᵀW1` only, and the `Ni` functions
//!   `J_(m,n) = a_m x_n` span all linear forms when some `a_m ≠ 0`: rank `Ni`.
//! * quadratic: Eq. 14 (`theory::effective_params::quadratic_eq14`, derived separately in
//!   `docs/theory.md`).
//! * erf, degenerate: every exact identity between the Jacobian's components removes exactly its
//!   own dimension: two equal (or opposite) rows of `W1` remove `Ni + 1`, a zero output weight `Ni`,
//!   a zero row of `W1` one; generic erf networks are full rank (paper Section 5).
//!
//! The exact rational Hessian (`C G Cᵀ`, monomial route) is compared with the float64 closed forms
//! of `PopulationHessian`: they share no code, and agreement to 1e-12 relative (the closed forms'
//! rounding over a few dozen operations) checks both.

use nearopt::certify::polynomial::exact_hessian;
use nearopt::certify::{certified_rank, erf::interval_hessian, interval::Fixed, RankOptions};
use nearopt::spectrum::symmetric_eigenvalues;
use nearopt::teacher::{sample_teacher, WeightDistribution};
use nearopt::theory::effective_params::quadratic_eq14;
use nearopt::{Activation, Network, PopulationHessian};
use num_traits::ToPrimitive;

fn net(act: Activation, ni: usize, nh: usize, stream: u64) -> Network {
    sample_teacher(act, ni, nh, WeightDistribution::Normal, 7, stream).unwrap()
}

fn with_rows(n: &Network, edit: impl Fn(&mut Vec<f64>, &mut Vec<f64>)) -> Network {
    let (mut w1, mut w2) = (n.w1().to_vec(), n.w2().to_vec());
    edit(&mut w1, &mut w2);
    Network::new(n.activation().clone(), n.ni(), n.nh(), w1, w2).unwrap()
}

fn quick() -> RankOptions {
    RankOptions {
        bound_kept: false,
        ..RankOptions::default()
    }
}

#[test]
fn exact_rational_hessian_matches_float64_closed_forms() {
    let acts = [
        Activation::Linear,
        Activation::Quadratic { epsilon: 0.7 },
        Activation::Polynomial {
            coefficients: vec![0.3, -1.0, 0.5, 0.25, -0.1],
        },
    ];
    for (s, act) in acts.into_iter().enumerate() {
        let n = net(act, 3, 2, s as u64);
        let exact = exact_hessian(&n).unwrap();
        let h = PopulationHessian::at_optimum(&n).dense().unwrap();
        let d = n.dim();
        let max = h.as_slice().iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let mut worst = 0.0f64;
        for i in 0..d {
            for j in 0..d {
                let e = exact[i * d + j].to_f64().unwrap();
                worst = worst.max((e - h.get(i, j)).abs());
            }
        }
        assert!(
            worst <= 1e-12 * max,
            "{}: worst {worst:e}",
            n.activation().name()
        );
        assert!(worst >= 0.0);
    }
}

#[test]
fn linear_rank_is_ni() {
    for ni in 1..=5 {
        for nh in 1..=4 {
            let n = net(Activation::Linear, ni, nh, (10 * ni + nh) as u64);
            let c = certified_rank(&n, &quick()).unwrap();
            assert!(c.certified && c.method == "exact-rational");
            assert_eq!(c.rank, ni, "{ni}x{nh}");
        }
    }
}

#[test]
fn quadratic_rank_is_eq14() {
    for ni in 1..=4 {
        for nh in 1..=5 {
            let n = net(
                Activation::Quadratic { epsilon: 0.5 },
                ni,
                nh,
                (10 * ni + nh) as u64,
            );
            let c = certified_rank(&n, &quick()).unwrap();
            assert!(c.certified);
            assert_eq!(c.rank, quadratic_eq14(ni, nh), "{ni}x{nh}");
        }
    }
}

/// A duplicate hidden unit is a rank loss float64 cannot tell from a 1-ulp perturbation of it;
/// the exact rank tells them apart (the perturbed network has a larger rank).
#[test]
fn exact_rank_catches_a_one_ulp_perturbation() {
    let base = net(Activation::Quadratic { epsilon: 0.5 }, 4, 3, 99);
    let dup = with_rows(&base, |w1, w2| {
        let r0: Vec<f64> = w1[0..4].to_vec();
        w1[4..8].copy_from_slice(&r0);
        w2[1] = 0.8;
    });
    let bumped = with_rows(&dup, |w1, _| w1[5] = f64::from_bits(w1[5].to_bits() + 1));
    let r_dup = certified_rank(&dup, &quick()).unwrap();
    let r_bumped = certified_rank(&bumped, &quick()).unwrap();
    // Merging the two equal units gives a 2-unit quadratic network: Eq. 14 at Nh = 2; the
    // perturbed one is generic again: Eq. 14 at Nh = 3.
    assert_eq!(r_dup.rank, quadratic_eq14(4, 2));
    assert_eq!(r_bumped.rank, quadratic_eq14(4, 3));
    assert!(r_bumped.rank > r_dup.rank);
    // float64 sees no difference between them.
    let f64_rank = |n: &Network| {
        let e = symmetric_eigenvalues(&PopulationHessian::at_optimum(n).dense().unwrap()).unwrap();
        nearopt::spectrum::rank(&e, None).rank
    };
    assert_eq!(f64_rank(&dup), f64_rank(&bumped));
}

#[test]
fn erf_interval_entries_enclose_the_float64_hessian() {
    let n = net(Activation::Erf, 3, 4, 5);
    let p = 120;
    let h = interval_hessian(&n, p);
    let f = PopulationHessian::at_optimum(&n).dense().unwrap();
    let ctx = Fixed { p };
    let d = n.dim();
    for i in 0..d {
        for j in 0..d {
            let mid = ctx.to_f64(&h[i * d + j]) * std::f64::consts::FRAC_2_PI;
            let r = f.get(i, j);
            assert!(
                (mid - r).abs() <= 1e-14 * (1.0 + r.abs()),
                "({i},{j}): {mid} vs {r}"
            );
            // Width: a few dozen grid units at most.
            assert!(h[i * d + j].width() < num_bigint::BigInt::from(1u64 << 12));
        }
    }
}

/// Ni = 1, Nh ≥ 5: λ_min/λ_max is far below float64's resolution, yet full rank is certified.
#[test]
fn erf_single_input_is_certified_full_rank() {
    for nh in 5..=7 {
        let n = net(Activation::Erf, 1, nh, nh as u64);
        let e = symmetric_eigenvalues(&PopulationHessian::at_optimum(&n).dense().unwrap()).unwrap();
        let max = e.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let f64_undecided = e[0].abs() / max < 10.0 * n.dim() as f64 * f64::EPSILON;
        let c = certified_rank(&n, &RankOptions::default()).unwrap();
        assert!(c.certified, "1x{nh}: {}", c.note);
        assert_eq!(c.rank, 2 * nh);
        assert_eq!(c.method, "interval-inertia");
        let kept = c.smallest_kept_lower_bound.unwrap();
        assert!(
            kept > 0.0 && kept < 1e-14 * max,
            "1x{nh}: kept bound {kept:e}"
        );
        if nh >= 6 {
            assert!(f64_undecided, "1x{nh} should be beyond float64");
        }
    }
}

/// The bracket on λ_min agrees with float64 where float64 is reliable (well conditioned).
#[test]
fn erf_kept_bound_brackets_float64_lambda_min() {
    let n = net(Activation::Erf, 4, 3, 1);
    let e = symmetric_eigenvalues(&PopulationHessian::at_optimum(&n).dense().unwrap()).unwrap();
    let c = certified_rank(&n, &RankOptions::default()).unwrap();
    assert!(c.certified && c.rank == n.dim());
    let kept = c.smallest_kept_lower_bound.unwrap();
    // float64 λ_min is accurate to ~D·ε·λ_max here, far inside the factor 4 of the bisection.
    assert!(kept <= e[0] * (1.0 + 1e-9), "{kept:e} vs {:e}", e[0]);
    assert!(kept >= e[0] / 4.0, "{kept:e} vs {:e}", e[0]);
}

#[test]
fn erf_degenerate_networks_lose_exactly_the_right_rank() {
    let (ni, nh) = (3, 4);
    let base = net(Activation::Erf, ni, nh, 3);
    let d = base.dim();
    let cases: Vec<(&str, Network, usize)> = vec![
        ("generic", base.clone(), d),
        (
            "rows 0 and 2 equal",
            with_rows(&base, |w1, _| {
                let r: Vec<f64> = w1[0..ni].to_vec();
                w1[2 * ni..3 * ni].copy_from_slice(&r);
            }),
            d - ni - 1,
        ),
        (
            "rows 1 and 3 opposite",
            with_rows(&base, |w1, _| {
                let r: Vec<f64> = w1[ni..2 * ni].iter().map(|v| -v).collect();
                w1[3 * ni..4 * ni].copy_from_slice(&r);
            }),
            d - ni - 1,
        ),
        ("w2[1] = 0", with_rows(&base, |_, w2| w2[1] = 0.0), d - ni),
        (
            "row 2 zero",
            with_rows(&base, |w1, _| w1[2 * ni..3 * ni].fill(0.0)),
            d - 1,
        ),
        (
            "rows 0 = 1 and w2[3] = 0",
            with_rows(&base, |w1, w2| {
                let r: Vec<f64> = w1[0..ni].to_vec();
                w1[ni..2 * ni].copy_from_slice(&r);
                w2[3] = 0.0;
            }),
            d - 2 * ni - 1,
        ),
    ];
    for (name, n, expected) in cases {
        let c = certified_rank(&n, &quick()).unwrap();
        assert!(c.certified, "{name}: {}", c.note);
        assert_eq!(c.rank, expected, "{name}");
    }
}

/// Too little precision: the rank is not certified, and the note says what would be needed.
#[test]
fn erf_certificate_fails_with_too_little_precision() {
    let n = net(Activation::Erf, 1, 6, 6);
    let low = RankOptions {
        start_bits: 48,
        max_bits: 48,
        bound_kept: false,
    };
    let c = certified_rank(&n, &low).unwrap();
    assert!(!c.certified);
    assert!(c.rank_lower < c.rank_upper);
    assert!(c.note.contains("more than 48 bits"), "{}", c.note);
    // A near-duplicate (1 ulp apart) is full rank in exact terms, but its smallest eigenvalue
    // is ~ulp² and 96 bits cannot separate it from zero: not certified rather than wrong.
    let base = net(Activation::Erf, 2, 3, 8);
    let near = with_rows(&base, |w1, _| {
        let r: Vec<f64> = w1[0..2].to_vec();
        w1[2..4].copy_from_slice(&r);
        w1[3] = f64::from_bits(w1[3].to_bits() + 1);
    });
    let opts = RankOptions {
        start_bits: 64,
        max_bits: 96,
        bound_kept: false,
    };
    let c = certified_rank(&near, &opts).unwrap();
    assert!(!c.certified, "{}", c.note);
    assert_eq!(c.rank_upper, near.dim());
    // With enough precision the same network is certified full rank.
    let c = certified_rank(&near, &RankOptions::default()).unwrap();
    assert!(c.certified, "{}", c.note);
    assert_eq!(c.rank, near.dim());
}

#[test]
fn tanh_is_reported_uncertified() {
    let n = net(Activation::Tanh, 2, 3, 4);
    let c = certified_rank(&n, &quick()).unwrap();
    assert!(!c.certified);
    assert_eq!(c.method, "float64");
    assert_eq!(c.rank, n.dim());
}

#[test]
fn oversized_networks_are_refused() {
    let n = net(Activation::Erf, 30, 30, 1);
    let e = certified_rank(&n, &quick()).unwrap_err().to_string();
    assert!(e.contains("limit"), "{e}");
}
