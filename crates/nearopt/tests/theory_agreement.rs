//! `theory::agreement`: Kolmogorov–Smirnov test and Wasserstein-1 distance.

use nearopt::theory::agreement::{
    kolmogorov_cdf_exact, kolmogorov_sf, ks_p_value, ks_test, wasserstein1,
};
use nearopt::theory::{quantile, Law, MarchenkoPastur, ScaledChiSquare, Shifted, UniformLaw};
use rand::Rng;
use rand_distr::{ChiSquared, Distribution};

fn uniform_samples(n: usize, seed: u64, stream: u64) -> Vec<f64> {
    let mut rng = nearopt::rng::stream(seed, stream);
    (0..n).map(|_| rng.random::<f64>()).collect()
}

/// `sup |F_n − F|` by brute force: evaluated just before and at every jump, and on a grid.
fn brute_ks(samples: &[f64], law: &dyn Law) -> f64 {
    let n = samples.len() as f64;
    let ecdf = |x: f64| samples.iter().filter(|s| **s <= x).count() as f64 / n;
    let mut d = 0.0f64;
    for &s in samples {
        let before = s - 1e-12 * (1.0 + s.abs());
        d = d
            .max((ecdf(s) - law.cdf(s)).abs())
            .max((ecdf(before) - law.cdf(before)).abs());
    }
    d
}

/// `∫ |F_n − F|` by the midpoint rule on a fine grid over `[lo, hi]` (covering samples and law).
fn brute_w1(samples: &[f64], law: &dyn Law, lo: f64, hi: f64, cells: usize) -> f64 {
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len() as f64;
    let h = (hi - lo) / cells as f64;
    let mut idx = 0;
    let mut total = 0.0;
    for i in 0..cells {
        let x = lo + (i as f64 + 0.5) * h;
        while idx < sorted.len() && sorted[idx] <= x {
            idx += 1;
        }
        total += (idx as f64 / n - law.cdf(x)).abs() * h;
    }
    total
}

#[test]
fn kolmogorov_survival_matches_tables() {
    // Critical values of the Kolmogorov distribution (Smirnov 1948 tables):
    // Q(1.2238) = 0.10, Q(1.3581) = 0.05, Q(1.6276) = 0.01, Q(1.9495) = 0.001; Q(0.5) = 0.9639.
    for (lambda, q) in [
        (1.2238, 0.10),
        (1.3581, 0.05),
        (1.6276, 0.01),
        (1.9495, 0.001),
        (0.5, 0.96394),
    ] {
        // The tabulated λ have 4 digits: |dQ/dλ| ≤ 1.1 there, so Q is known to ~1e-4.
        assert!(
            (kolmogorov_sf(lambda) - q).abs() < 1e-4,
            "Q({lambda}) = {}",
            kolmogorov_sf(lambda)
        );
    }
    // The two series agree where they meet, and Q decreases from 1 to 0.
    assert!((kolmogorov_sf(1.0 - 1e-12) - kolmogorov_sf(1.0)).abs() < 1e-10);
    let mut prev = 1.0;
    for i in 0..300 {
        let q = kolmogorov_sf(i as f64 * 0.01);
        assert!(q <= prev + 1e-15 && (0.0..=1.0).contains(&q));
        prev = q;
    }
    assert_eq!(kolmogorov_sf(0.0), 1.0);
    assert!(kolmogorov_sf(3.0) < 1e-7);
}

#[test]
fn exact_finite_n_distribution() {
    // n = 1: D_1 = max(U, 1 − U), so P(D_1 < d) = 2d − 1 on [1/2, 1].
    for d in [0.55, 0.7, 0.95] {
        let c = kolmogorov_cdf_exact(1, d).unwrap();
        assert!((c - (2.0 * d - 1.0)).abs() < 1e-12, "d={d}: {c}");
    }
    // n = 2, by integration over the order statistics (independent): P(D_2 < d) for d ≥ 1/2 is
    // the area of {u1 < u2 : u1 < d, u2 > 1 − d, u2 − 1/2 < d, 1/2 − u1 < d, ...} × 2; brute force.
    for d in [0.3, 0.5, 0.6, 0.8] {
        let cells = 2000;
        let mut inside = 0usize;
        for i in 0..cells {
            for j in 0..cells {
                let u1 = (i as f64 + 0.5) / cells as f64;
                let u2 = (j as f64 + 0.5) / cells as f64;
                let (a, b) = if u1 < u2 { (u1, u2) } else { (u2, u1) };
                let dn = (0.5 - a).max(a).max(1.0 - b).max(b - 0.5);
                if dn < d {
                    inside += 1;
                }
            }
        }
        let brute = inside as f64 / (cells * cells) as f64;
        let c = kolmogorov_cdf_exact(2, d).unwrap();
        assert!((c - brute).abs() < 2e-3, "n=2 d={d}: {c} vs {brute}");
    }
    // Massey (1951) critical values for n = 10: P(D_10 ≥ d) = 0.20, 0.10, 0.05, 0.01 at
    // d = 0.322, 0.368, 0.409, 0.490 (three digits: |dP/dd| ≤ ~4 there, so ±0.004 in P).
    for (d, p) in [(0.322, 0.20), (0.368, 0.10), (0.409, 0.05), (0.490, 0.01)] {
        assert!(
            (ks_p_value(10, d) - p).abs() < 4e-3 + 0.05 * p,
            "n=10 d={d}: {}",
            ks_p_value(10, d)
        );
    }
    assert_eq!(kolmogorov_cdf_exact(0, 0.5), None);
    assert_eq!(kolmogorov_cdf_exact(5, f64::NAN), None);
    assert_eq!(kolmogorov_cdf_exact(5, 1.0), Some(1.0));
    assert_eq!(ks_p_value(5, 1.0), 0.0);
    assert!(ks_p_value(5, f64::NAN).is_nan());
    // Large n: exact and Stephens' approximation agree to about a percent.
    for (n, d) in [(500usize, 0.04), (1500, 0.03)] {
        let exact = 1.0 - kolmogorov_cdf_exact(n, d).unwrap();
        let sn = (n as f64).sqrt();
        let approx = kolmogorov_sf((sn + 0.12 + 0.11 / sn) * d);
        assert!(
            (exact - approx).abs() < 0.01 * exact + 1e-4,
            "n={n} d={d}: {exact} vs {approx}"
        );
    }
}

#[test]
fn ks_distance_is_the_supremum() {
    let u = UniformLaw::new(0.0, 1.0).unwrap();
    assert!((ks_test(&[0.5], &u).distance - 0.5).abs() < 1e-15);
    assert!((ks_test(&[0.1, 0.2], &u).distance - 0.8).abs() < 1e-15);
    // NaN and infinities are dropped.
    let r = ks_test(&[0.5, f64::NAN, f64::INFINITY], &u);
    assert_eq!(r.n, 1);
    assert_eq!(ks_test(&[], &u).n, 0);
    let chi = ScaledChiSquare::new(4).unwrap();
    let mut rng = nearopt::rng::stream(3, 0);
    let dist = ChiSquared::new(4.0).unwrap();
    let xs: Vec<f64> = (0..300).map(|_| dist.sample(&mut rng) / 4.0).collect();
    let d = ks_test(&xs, &chi).distance;
    assert!((d - brute_ks(&xs, &chi)).abs() < 1e-9, "{d}");
}

#[test]
fn ks_p_values_are_calibrated() {
    // Under the null the p-value is ~uniform: the fraction below 0.05 and the mean p are checked
    // against binomial / uniform standard errors (4σ), for n = 50 and the small n = 8.
    let u = UniformLaw::new(0.0, 1.0).unwrap();
    let reps = 600usize;
    for n in [8usize, 50] {
        let ps: Vec<f64> = (0..reps)
            .map(|r| ks_test(&uniform_samples(n, 17, r as u64), &u).p_value)
            .collect();
        let frac = ps.iter().filter(|p| **p < 0.05).count() as f64 / reps as f64;
        let mean = ps.iter().sum::<f64>() / reps as f64;
        let se_frac = (0.05 * 0.95 / reps as f64).sqrt();
        let se_mean = (1.0 / 12.0 / reps as f64).sqrt();
        assert!(
            (frac - 0.05).abs() < 4.0 * se_frac,
            "n={n}: fraction of p < 0.05 is {frac}"
        );
        assert!((mean - 0.5).abs() < 4.0 * se_mean, "n={n}: mean p {mean}");
    }
    // Power: χ²₁₀/10 samples against the χ²₅/5 law.
    let mut rng = nearopt::rng::stream(5, 1);
    let dist = ChiSquared::new(10.0).unwrap();
    let xs: Vec<f64> = (0..2000).map(|_| dist.sample(&mut rng) / 10.0).collect();
    assert!(ks_test(&xs, &ScaledChiSquare::new(5).unwrap()).p_value < 1e-6);
    assert!(ks_test(&xs, &ScaledChiSquare::new(10).unwrap()).p_value > 1e-3);
}

#[test]
fn wasserstein_exact_cases() {
    let u = UniformLaw::new(0.0, 1.0).unwrap();
    // One atom at x against U(0,1): ∫_0^x t dt + ∫_x^1 (1 − t) dt = x²/2 + (1−x)²/2.
    for x in [0.0, 0.3, 0.5, 0.9] {
        let w = wasserstein1(&[x], &u);
        assert!(
            (w - (x * x / 2.0 + (1.0 - x) * (1.0 - x) / 2.0)).abs() < 1e-10,
            "x={x}: {w}"
        );
    }
    // An atom outside the support: W1 = distance to the mean.
    assert!((wasserstein1(&[3.0], &u) - 2.5).abs() < 1e-10);
    assert!((wasserstein1(&[-2.0], &u) - 2.5).abs() < 1e-10);
    assert_eq!(wasserstein1(&[], &u), 0.0);
    // Random samples against the brute-force midpoint integral (error ≤ n jumps × cell + smooth).
    let chi = ScaledChiSquare::new(3).unwrap();
    let mut rng = nearopt::rng::stream(8, 0);
    let dist = ChiSquared::new(5.0).unwrap();
    let xs: Vec<f64> = (0..25).map(|_| dist.sample(&mut rng) / 5.0).collect();
    let (_, hi) = chi.support();
    let w = wasserstein1(&xs, &chi);
    let b = brute_w1(&xs, &chi, 0.0, hi.max(10.0), 400_000);
    assert!((w - b).abs() < 2e-4, "{w} vs {b}");
}

#[test]
fn wasserstein_of_large_samples_matches_brute_force() {
    // 3000 samples: most pieces take the piecewise-linear route. Brute force: midpoint rule with
    // 10⁶ cells; its error is at most one cell width per jump of F_n weighted by 1/n (≤ 1 cell
    // width in total, ~1e-5) plus the smooth midpoint error (negligible).
    let chi = ScaledChiSquare::new(3).unwrap();
    let mut rng = nearopt::rng::stream(9, 0);
    let dist = ChiSquared::new(3.0).unwrap();
    let xs: Vec<f64> = (0..3000).map(|_| dist.sample(&mut rng) / 3.0).collect();
    let (_, hi) = chi.support();
    let top = hi.max(xs.iter().cloned().fold(0.0, f64::max)) + 1.0;
    let w = wasserstein1(&xs, &chi);
    let b = brute_w1(&xs, &chi, 0.0, top, 1_000_000);
    assert!((w - b).abs() < 5e-5, "{w} vs {b}");
}

#[test]
fn wasserstein_of_own_samples_is_small_and_of_a_shift_is_the_shift() {
    // Samples drawn from the law itself by inversion. For a law on [a, b],
    // E W1 ≤ ∫ √(F(1−F)/n) dx (Cauchy–Schwarz), and W1 moves by ≤ (b−a)/n when one sample
    // changes, so P(W1 > E W1 + t) ≤ exp(−2nt²/(b−a)²) (McDiarmid): t for probability 1e-6.
    let n = 400;
    let mp = MarchenkoPastur::new(20, 30).unwrap();
    let (a, b) = mp.support();
    let u = uniform_samples(n, 23, 0);
    let xs: Vec<f64> = u.iter().map(|p| quantile(&mp, *p)).collect();
    let w = wasserstein1(&xs, &mp);
    let bound_mean = nearopt::theory::quadrature::gauss_kronrod(
        |x| (mp.cdf(x) * (1.0 - mp.cdf(x)) / n as f64).sqrt(),
        a,
        b,
        1e-8,
        1e-8,
        200,
    )
    .value;
    let t = (b - a) * ((1e6f64).ln() / (2.0 * n as f64)).sqrt();
    assert!(w <= bound_mean + t, "W1 {w} above {bound_mean} + {t}");
    // Shift δ: |W1(F_n, F_δ) − δ| ≤ W1(F_n, F) (triangle inequality, W1(F, F_δ) = δ), and
    // W1 ≥ |mean difference|.
    for delta in [0.05, 0.5, 2.0] {
        let shifted = Shifted {
            inner: mp,
            shift: delta,
        };
        let ws = wasserstein1(&xs, &shifted);
        assert!((ws - delta).abs() <= w + 1e-9, "δ={delta}: {ws} vs own {w}");
        let mean_gap = (xs.iter().sum::<f64>() / n as f64 - shifted.mean()).abs();
        assert!(
            ws >= mean_gap - 1e-9,
            "δ={delta}: {ws} below mean gap {mean_gap}"
        );
    }
}
