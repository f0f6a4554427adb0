//! The theory laws against simulated teachers (`teacher::sample_teacher`, exact eigenvalues).
//!
//! Eigenvalues of one matrix are not independent (they repel, and all Hessian eigenvalues of one
//! network share `‖W2‖²`), so the Kolmogorov–Smirnov p-values are computed from *one* eigenvalue per
//! network, picked uniformly at random: those are i.i.d. draws of the finite-size one-point law.
//! A correct law is rejected at level 1e-3 with probability 1e-3 (plus the finite-size bias,
//! negligible at the sizes used: see `finite_sizes_deviate_as_expected` for where it is not).

use nearopt::hessian::DenseMatrix;
use nearopt::spectrum::symmetric_eigenvalues;
use nearopt::teacher::{sample_teacher, WeightDistribution};
use nearopt::theory::agreement::ks_test;
use nearopt::theory::{Law, LinearSpectrumLaw, MarchenkoPastur, ScaledChiSquare, Shifted};
use nearopt::{Activation, PopulationHessian};
use rand::Rng;
use std::f64::consts::PI;

const SEED: u64 = 2024;

/// One linear teacher (stream `id`): `(‖W2‖², the N_i eigenvalues of W1ᵀW1 ascending)`.
fn blocks(ni: usize, nh: usize, id: u64) -> (f64, Vec<f64>) {
    let net = sample_teacher(
        Activation::Linear,
        ni,
        nh,
        WeightDistribution::Normal,
        SEED,
        id,
    )
    .unwrap();
    let w1 = net.w1();
    let mut g = DenseMatrix::zeros(ni, ni);
    for n in 0..ni {
        for q in n..ni {
            let s: f64 = (0..nh).map(|m| w1[m * ni + n] * w1[m * ni + q]).sum();
            g.set(n, q, s);
            g.set(q, n, s);
        }
    }
    let w2sq = net.w2().iter().map(|v| v * v).sum();
    (w2sq, symmetric_eigenvalues(&g).unwrap())
}

/// Per network: a random nonzero eigenvalue of W1W1ᵀ, ‖W2‖², a random Hessian eigenvalue
/// `‖W2‖² + μ` among the `N_i` nonzero ones, and the per-network means of μ² (nonzero μ) and of
/// (‖W2‖² + μ)² (all `N_i`).
struct Draws {
    mp: Vec<f64>,
    chi: Vec<f64>,
    lin: Vec<f64>,
    mp_sq: Vec<f64>,
    lin_sq: Vec<f64>,
}

fn draw(ni: usize, nh: usize, networks: usize) -> Draws {
    let mut pick = nearopt::rng::stream(SEED, u64::MAX);
    let k = ni.min(nh);
    let mut d = Draws {
        mp: vec![],
        chi: vec![],
        lin: vec![],
        mp_sq: vec![],
        lin_sq: vec![],
    };
    for i in 0..networks {
        let (w, e) = blocks(ni, nh, i as u64);
        let nonzero = &e[ni - k..];
        d.mp.push(nonzero[pick.random_range(0..k)]);
        d.chi.push(w);
        d.lin.push(w + e[pick.random_range(0..ni)]);
        d.mp_sq
            .push(nonzero.iter().map(|x| x * x).sum::<f64>() / k as f64);
        d.lin_sq
            .push(e.iter().map(|x| (x + w) * (x + w)).sum::<f64>() / ni as f64);
    }
    d
}

fn mean_and_se(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (n - 1.0);
    (m, (var / n).sqrt())
}

/// The paper's Eq. 15 exactly as printed: `σ² = 1/N_i`, `λ = N_h/N_i`.
struct PrintedEq15 {
    lambda: f64,
    sigma2: f64,
}

impl Law for PrintedEq15 {
    fn pdf(&self, x: f64) -> f64 {
        let (lm, lp) = self.support();
        if x <= lm || x >= lp {
            return 0.0;
        }
        let l = self.lambda;
        let factor = if l <= 1.0 { 1.0 } else { l };
        ((lp - x) * (x - lm)).sqrt() / (2.0 * PI * self.sigma2 * l * x) * factor
    }
    fn cdf(&self, x: f64) -> f64 {
        let (lm, lp) = self.support();
        if x <= lm {
            return 0.0;
        }
        let hi = x.min(lp);
        let n = 20_000;
        let h = (hi - lm) / n as f64;
        (0..n)
            .map(|i| self.pdf(lm + (i as f64 + 0.5) * h) * h)
            .sum::<f64>()
            .min(1.0)
    }
    fn support(&self) -> (f64, f64) {
        let s = self.lambda.sqrt();
        (
            self.sigma2 * (1.0 - s).powi(2),
            self.sigma2 * (1.0 + s).powi(2),
        )
    }
    fn mean(&self) -> f64 {
        self.sigma2 * self.lambda.max(1.0)
    }
}

#[test]
fn marchenko_pastur_and_chi_square_match_simulated_teachers() {
    for (ni, nh) in [(30, 60), (60, 30)] {
        let d = draw(ni, nh, 800);
        let mp = MarchenkoPastur::new(ni, nh).unwrap();
        let ks = ks_test(&d.mp, &mp);
        println!("{ni}x{nh} MP: {ks:?}");
        assert!(
            ks.p_value > 1e-3,
            "{ni}x{nh}: corrected Eq. 15 rejected: {ks:?}"
        );
        // The printed Eq. 15 (σ² = 1/N_i) puts the eigenvalues N_i times too low: rejected outright.
        let printed = PrintedEq15 {
            lambda: nh as f64 / ni as f64,
            sigma2: 1.0 / ni as f64,
        };
        let bad = ks_test(&d.mp, &printed);
        println!("{ni}x{nh} printed Eq. 15: {bad:?}");
        assert!(
            bad.distance > 0.9,
            "{ni}x{nh}: printed Eq. 15 not rejected: {bad:?}"
        );
        // ... while with σ² = 1 the printed formula is the corrected one.
        let fixed = PrintedEq15 {
            lambda: nh as f64 / ni as f64,
            sigma2: 1.0,
        };
        for x in [0.2, 0.7, 1.5, 3.0] {
            assert!((fixed.pdf(x) - mp.pdf(x)).abs() < 1e-12 * (1.0 + mp.pdf(x)));
        }
        // ‖W2‖² ~ χ²_{N_h}/N_h (Section 3.1), not σ²χ²_{N_h} with σ² = 1 (App. A.1 read literally).
        let chi = ScaledChiSquare::new(nh).unwrap();
        let ks = ks_test(&d.chi, &chi);
        println!("{ni}x{nh} chi-square: {ks:?}");
        assert!(ks.p_value > 1e-3, "{ni}x{nh}: χ²/N_h rejected: {ks:?}");
        let unscaled: Vec<f64> = d.chi.iter().map(|w| w * nh as f64).collect();
        assert!(ks_test(&unscaled, &chi).distance > 0.99);
        // The linear-network law: convolution (N_i ≤ N_h) or mixture (N_i > N_h).
        let lin = LinearSpectrumLaw::new(ni, nh).unwrap();
        let ks = ks_test(&d.lin, &lin);
        println!("{ni}x{nh} linear law: {ks:?}");
        assert!(
            ks.p_value > 1e-3,
            "{ni}x{nh}: linear-network law rejected: {ks:?}"
        );
        // Power: the law shifted by 0.3 (a fraction of the eigenvalue spread) is rejected.
        let shifted = Shifted {
            inner: lin,
            shift: 0.3,
        };
        assert!(
            ks_test(&d.lin, &shifted).p_value < 1e-6,
            "{ni}x{nh}: shifted law not rejected"
        );
    }
}

#[test]
fn hessian_eigenvalues_of_the_linear_network_are_the_block_sums() {
    // App. A.3: the nonzero eigenvalues of the exact Hessian are ‖W2‖² + μ_k, μ_k the N_i
    // eigenvalues of W1ᵀW1; the other D − N_i vanish.
    for (ni, nh, id) in [(4, 7, 1u64), (7, 4, 2), (5, 5, 3)] {
        let net = sample_teacher(
            Activation::Linear,
            ni,
            nh,
            WeightDistribution::Normal,
            SEED,
            id,
        )
        .unwrap();
        let h = PopulationHessian::at_optimum(&net).dense().unwrap();
        let eigs = symmetric_eigenvalues(&h).unwrap();
        let (w, mu) = blocks(ni, nh, id);
        let top = &eigs[eigs.len() - ni..];
        for (a, b) in top.iter().zip(mu.iter().map(|m| m + w)) {
            assert!((a - b).abs() < 1e-10 * (1.0 + b), "{ni}x{nh}: {a} vs {b}");
        }
        let max = eigs[eigs.len() - 1];
        assert!(
            eigs[..eigs.len() - ni]
                .iter()
                .all(|e| e.abs() < 1e-12 * max),
            "{ni}x{nh}: extra nonzero eigenvalues"
        );
    }
}

#[test]
fn finite_sizes_deviate_as_expected() {
    // Exact finite-size moments (Wishart): for G (N_h×N_i) standard normal,
    // E tr((GGᵀ)²) = N_h N_i (N_i + N_h + 1), so with W1 = G/√N_i the mean square of the nonzero
    // eigenvalues of W1W1ᵀ is N_h (N_i + N_h + 1) / (N_i min(N_i, N_h)), whereas the limit law has
    // max(1, y)(1 + y): they differ by max(1, y)/N_i.
    for (ni, nh) in [(3, 3), (2, 5), (5, 2)] {
        let d = draw(ni, nh, 4000);
        let (nif, nhf) = (ni as f64, nh as f64);
        let k = ni.min(nh) as f64;
        let limit = MarchenkoPastur::new(ni, nh).unwrap().second_moment();
        let exact = nhf * (nif + nhf + 1.0) / (nif * k);
        assert!((exact - limit - (nhf / nif).max(1.0) / nif).abs() < 1e-12);
        let (m, se) = mean_and_se(&d.mp_sq);
        assert!(
            (m - exact).abs() < 4.0 * se,
            "{ni}x{nh}: E λ² = {m} ± {se}, exact finite {exact}"
        );
        assert!(
            (m - limit).abs() > 4.0 * se,
            "{ni}x{nh}: finite size not distinguishable from the limit {limit}"
        );
        // Linear network: E (λ₂+μ)² over the N_i eigenvalues, exact at finite size:
        // 1 + 2/N_h + 2 N_h/N_i + N_h (N_i + N_h + 1)/N_i²; the law has y(1+y) in place of the last.
        let exact = 1.0 + 2.0 / nhf + 2.0 * nhf / nif + nhf * (nif + nhf + 1.0) / (nif * nif);
        let (m, se) = mean_and_se(&d.lin_sq);
        assert!(
            (m - exact).abs() < 4.0 * se,
            "{ni}x{nh}: linear E λ² = {m} ± {se}, exact {exact}"
        );
        // Whole distribution: with 4000 draws the small-size law is distinguishable from the limit.
        let ks = ks_test(&d.mp, &MarchenkoPastur::new(ni, nh).unwrap());
        println!("{ni}x{nh}: E λ² {m} ± {se} (exact finite {exact}); small-size MP {ks:?}");
        assert!(
            ks.p_value < 1e-4,
            "{ni}x{nh}: small size indistinguishable from the MP limit: {ks:?}"
        );
    }
}
