//! Deterministic checks of the laws in `nearopt::theory`: normalisation, moments against closed
//! forms, CDF against the integrated density, monotonicity, symmetries, bad input.
//!
//! The reference integrals use adaptive Gauss–Kronrod (`quadrature::gauss_kronrod`), a different
//! method from the tanh-sinh quadrature inside the laws, split at the points where the densities
//! have edges (`a`, `b`, 0). Tolerances: the laws' quadratures converge to ~1e-12, the reference
//! integrals to ~1e-10, so 1e-8 leaves two orders of margin.

use nearopt::theory::quadrature::gauss_kronrod;
use nearopt::theory::{
    ChiSquareMpConvolution, Law, LinearSpectrumLaw, MarchenkoPastur, ScaledChiSquare,
};
use statrs::distribution::{ChiSquared, Continuous, ContinuousCDF};

/// `∫_lo^hi w(x)·pdf(x) dx`, split at `cuts` inside the interval.
fn integrate(law: &dyn Law, w: impl Fn(f64) -> f64, lo: f64, hi: f64, cuts: &[f64]) -> f64 {
    let mut pts = vec![lo];
    pts.extend(cuts.iter().copied().filter(|c| *c > lo && *c < hi));
    pts.push(hi);
    pts.sort_by(f64::total_cmp);
    pts.windows(2)
        .map(|p| gauss_kronrod(|x| w(x) * law.pdf(x), p[0], p[1], 1e-12, 1e-12, 3000).value)
        .sum()
}

/// Edges where the densities may be non-smooth.
fn cuts_for(ni: usize, nh: usize) -> Vec<f64> {
    let (a, b) = MarchenkoPastur::new(ni, nh).unwrap().edges();
    vec![0.0, a, b]
}

/// Closed-form second moment of the linear-network law (limit law; χ² part exact in N_h):
/// `E[(λ₂+μ)²]` over the `N_i` eigenvalues, `E λ₂² = 1 + 2/N_h`, `E μ = y`, `E μ² = y(1+y)`.
fn linear_second_moment(ni: usize, nh: usize) -> f64 {
    let y = nh as f64 / ni as f64;
    1.0 + 2.0 / nh as f64 + 2.0 * y + y * (1.0 + y)
}

const SIZES: [(usize, usize); 10] = [
    (1, 1),
    (3, 2),
    (2, 3),
    (10, 10),
    (10, 20),
    (20, 10),
    (50, 1),
    (1, 50),
    (100, 400),
    (10, 1000),
];

#[test]
fn scaled_chi_square_matches_statrs_and_integrates_to_one() {
    for k in [1usize, 2, 3, 7, 50, 1000] {
        let law = ScaledChiSquare::new(k).unwrap();
        let reference = ChiSquared::new(k as f64).unwrap();
        let kf = k as f64;
        for x in [1e-6, 0.01, 0.3, 0.9, 1.0, 1.1, 2.5, 7.0] {
            let p_ref = kf * reference.pdf(kf * x);
            let c_ref = reference.cdf(kf * x);
            assert!(
                (law.pdf(x) - p_ref).abs() <= 1e-10 * p_ref.max(1.0),
                "k={k} x={x}"
            );
            assert!((law.cdf(x) - c_ref).abs() <= 1e-12, "k={k} x={x}");
            assert!((law.sf(x) - (1.0 - c_ref)).abs() <= 1e-12, "k={k} x={x}");
        }
        let (lo, hi) = law.support();
        assert_eq!(lo, 0.0);
        assert!(
            law.sf(hi) < 1e-12 && law.sf(0.8 * hi) > 1e-14,
            "k={k}: support end {hi} not tight"
        );
        let mass = integrate(&law, |_| 1.0, lo, hi, &[1.0]);
        let mean = integrate(&law, |x| x, lo, hi, &[1.0]);
        let m2 = integrate(&law, |x| x * x, lo, hi, &[1.0]);
        assert!((mass - 1.0).abs() < 1e-8, "k={k}: mass {mass}");
        assert!(
            (mean - law.mean()).abs() < 1e-8 && law.mean() == 1.0,
            "k={k}: mean {mean}"
        );
        assert!(
            (m2 - (1.0 + law.variance())).abs() < 1e-7,
            "k={k}: second moment {m2}"
        );
    }
    assert_eq!(ScaledChiSquare::new(1).unwrap().pdf(0.0), f64::INFINITY);
    assert_eq!(ScaledChiSquare::new(2).unwrap().pdf(0.0), 1.0);
    assert_eq!(ScaledChiSquare::new(3).unwrap().pdf(-1.0), 0.0);
}

#[test]
fn marchenko_pastur_normalisation_moments_and_cdf() {
    for (ni, nh) in SIZES {
        let law = MarchenkoPastur::new(ni, nh).unwrap();
        let (a, b) = law.support();
        let y = nh as f64 / ni as f64;
        assert!(
            (a - (1.0 - y.sqrt()).powi(2)).abs() < 1e-15
                && (b - (1.0 + y.sqrt()).powi(2)).abs() < 1e-12
        );
        let mass = integrate(&law, |_| 1.0, a, b, &[]);
        let mean = integrate(&law, |x| x, a, b, &[]);
        let m2 = integrate(&law, |x| x * x, a, b, &[]);
        assert!((mass - 1.0).abs() < 1e-8, "{ni}x{nh}: mass {mass}");
        // Closed forms: trace of W1W1ᵀ is N_h on average over min(N_i, N_h) nonzero eigenvalues.
        assert!(
            (mean - y.max(1.0)).abs() < 1e-8 * y.max(1.0),
            "{ni}x{nh}: mean {mean}"
        );
        assert!((law.mean() - y.max(1.0)).abs() < 1e-15);
        assert!(
            (m2 - law.second_moment()).abs() < 1e-8 * law.second_moment(),
            "{ni}x{nh}: m2 {m2}"
        );
        for f in [1e-4, 0.05, 0.2, 0.5, 0.8, 0.97, 0.9999] {
            let x = a + f * (b - a);
            let c = integrate(&law, |_| 1.0, a, x, &[]);
            assert!(
                (law.cdf(x) - c).abs() < 1e-9,
                "{ni}x{nh}: cdf({x}) {} vs {c}",
                law.cdf(x)
            );
        }
        assert_eq!(law.cdf(a - 1e-9), 0.0);
        assert_eq!(law.cdf(b + 1e-9), 1.0);
    }
}

#[test]
fn marchenko_pastur_duality_fixes_the_normalisation() {
    // W1ᵀ = √y·V with V an N_i×N_h matrix of N(0, 1/N_h) entries, so the nonzero eigenvalues of the
    // N_i×N_h law are y times those of the N_h×N_i law: f_{ni,nh}(x) = f_{nh,ni}(x/y)/y.
    for (ni, nh) in [(10, 20), (7, 3), (1, 50), (40, 41)] {
        let l = MarchenkoPastur::new(ni, nh).unwrap();
        let d = MarchenkoPastur::new(nh, ni).unwrap();
        let y = nh as f64 / ni as f64;
        let (a, b) = l.edges();
        for f in [0.01, 0.3, 0.5, 0.9] {
            let x = a + f * (b - a);
            assert!(
                (l.pdf(x) - d.pdf(x / y) / y).abs() < 1e-12 * (1.0 + l.pdf(x)),
                "{ni}x{nh} pdf at {x}"
            );
            assert!(
                (l.cdf(x) - d.cdf(x / y)).abs() < 1e-12,
                "{ni}x{nh} cdf at {x}"
            );
        }
    }
}

#[test]
fn convolution_and_linear_law_normalisation_moments_and_cdf() {
    for (ni, nh) in SIZES {
        let conv = ChiSquareMpConvolution::new(ni, nh).unwrap();
        let lin = LinearSpectrumLaw::new(ni, nh).unwrap();
        let cuts = cuts_for(ni, nh);
        for (name, law) in [("C", &conv as &dyn Law), ("linear", &lin as &dyn Law)] {
            let (lo, hi) = law.support();
            let mass = integrate(law, |_| 1.0, lo, hi, &cuts);
            let mean = integrate(law, |x| x, lo, hi, &cuts);
            assert!((mass - 1.0).abs() < 1e-8, "{name} {ni}x{nh}: mass {mass}");
            assert!(
                (mean - law.mean()).abs() < 1e-7 * law.mean(),
                "{name} {ni}x{nh}: mean {mean} vs {}",
                law.mean()
            );
            // CDF against the integrated density, including points below the support.
            for f in [-0.01, 0.02, 0.1, 0.3, 0.5, 0.7, 0.95] {
                let x = lo + f * (hi - lo);
                let c = if x <= lo {
                    0.0
                } else {
                    integrate(law, |_| 1.0, lo, x, &cuts)
                };
                assert!(
                    (law.cdf(x) - c).abs() < 1e-8,
                    "{name} {ni}x{nh}: cdf({x}) = {} vs {c}",
                    law.cdf(x)
                );
            }
            assert!(
                law.cdf(hi) > 1.0 - 1e-9,
                "{name} {ni}x{nh}: cdf at support end {}",
                law.cdf(hi)
            );
            // Monotone on a fine grid.
            let mut prev = 0.0;
            for i in 0..=400 {
                let x = lo + (hi - lo) * i as f64 / 400.0;
                let c = law.cdf(x);
                assert!(
                    c >= prev - 1e-13 && (0.0..=1.0).contains(&c),
                    "{name} {ni}x{nh}: cdf not monotone at {x}"
                );
                prev = c;
            }
        }
        // Closed-form means: E = 1 + max(1, y) for C, 1 + N_h/N_i (= tr H / N_i) for the linear law.
        let y = nh as f64 / ni as f64;
        assert!((conv.mean() - (1.0 + y.max(1.0))).abs() < 1e-15);
        assert!((lin.mean() - (1.0 + y)).abs() < 1e-15);
        let (lo, hi) = lin.support();
        let m2 = integrate(&lin, |x| x * x, lo, hi, &cuts);
        let expect = linear_second_moment(ni, nh);
        assert!(
            (m2 - expect).abs() < 1e-7 * expect,
            "linear {ni}x{nh}: second moment {m2} vs {expect}"
        );
    }
}

#[test]
fn linear_law_is_the_stated_mixture() {
    // N_i > N_h: (N_i−N_h)/N_i χ² + N_h/N_i C; N_i ≤ N_h: C alone.
    for (ni, nh) in [(20, 10), (10, 20), (5, 5)] {
        let lin = LinearSpectrumLaw::new(ni, nh).unwrap();
        let conv = ChiSquareMpConvolution::new(ni, nh).unwrap();
        let chi = ScaledChiSquare::new(nh).unwrap();
        let wc = if ni > nh {
            (ni - nh) as f64 / ni as f64
        } else {
            0.0
        };
        for x in [0.3, 0.9, 1.7, 3.2] {
            let p = wc * chi.pdf(x) + (1.0 - wc) * conv.pdf(x);
            let c = wc * chi.cdf(x) + (1.0 - wc) * conv.cdf(x);
            assert!((lin.pdf(x) - p).abs() < 1e-14 && (lin.cdf(x) - c).abs() < 1e-14);
        }
    }
}

#[test]
fn convolution_upper_tail_is_consistent_with_the_cdf() {
    let conv = ChiSquareMpConvolution::new(10, 30).unwrap();
    let (_, hi) = conv.support();
    let mut prev = 1.0;
    for i in 0..50 {
        let x = conv.mean() + (hi - conv.mean()) * i as f64 / 50.0;
        let s = conv.sf(x);
        assert!(s <= prev + 1e-15, "sf not decreasing at {x}");
        assert!((s + conv.cdf(x) - 1.0).abs() < 1e-12);
        // Tail integral check: sf(x) = ∫_x^hi pdf (+ negligible beyond hi).
        if i % 10 == 0 {
            let t = integrate(&conv, |_| 1.0, x, hi, &[]);
            assert!((s - t).abs() < 1e-8, "sf({x}) = {s} vs {t}");
        }
        prev = s;
    }
}

#[test]
fn bad_sizes_are_refused_with_a_message() {
    assert!(ScaledChiSquare::new(0)
        .unwrap_err()
        .to_string()
        .contains("degree"));
    assert!(MarchenkoPastur::new(0, 3)
        .unwrap_err()
        .to_string()
        .contains("ni"));
    assert!(MarchenkoPastur::new(3, 0)
        .unwrap_err()
        .to_string()
        .contains("nh"));
    assert!(LinearSpectrumLaw::new(0, 1).is_err());
    assert!(ChiSquareMpConvolution::new(2, 0).is_err());
    assert!(nearopt::theory::UniformLaw::new(1.0, 1.0).is_err());
}

#[test]
fn extreme_arguments_do_not_panic() {
    let chi = ScaledChiSquare::new(5).unwrap();
    assert_eq!(chi.cdf(f64::INFINITY), 1.0);
    assert_eq!(chi.cdf(f64::MAX), 1.0);
    assert_eq!(chi.sf(f64::MAX), 0.0);
    assert_eq!(chi.pdf(f64::MAX), 0.0);
    assert!(chi.cdf(f64::NAN) == 0.0 && chi.pdf(f64::NAN) == 0.0);
    // Built without the validating constructor: NaN, not a panic.
    let bad = ScaledChiSquare { dof: 0 };
    assert!(bad.pdf(1.0).is_nan() && bad.cdf(1.0).is_nan() && bad.sf(1.0).is_nan());
    let bad_mp = MarchenkoPastur { ni: 0, nh: 3 };
    let _ = (bad_mp.pdf(1.0), bad_mp.cdf(1.0), bad_mp.support());
    let bad_lin = LinearSpectrumLaw { ni: 0, nh: 0 };
    let _ = (bad_lin.pdf(1.0), bad_lin.cdf(1.0), bad_lin.support());
    let lin = LinearSpectrumLaw::new(4, 9).unwrap();
    for x in [
        f64::NEG_INFINITY,
        -1e300,
        0.0,
        1e300,
        f64::INFINITY,
        f64::NAN,
    ] {
        let (p, c) = (lin.pdf(x), lin.cdf(x));
        assert!(
            p == 0.0 && (0.0..=1.0).contains(&c),
            "x={x}: pdf {p} cdf {c}"
        );
    }
}
