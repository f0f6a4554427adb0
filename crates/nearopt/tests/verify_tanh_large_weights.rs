//! The exact tanh Hessian for weights from 1e-3 to 1e3 (issue 8: at |w| = 30 the old
//! Gauss–Hermite/trapezoid route gave an indefinite matrix, at 1e6 λ_min ≈ −λ_max).
//!
//! 1. Pair moments against an independent quadrature written here: the trapezoid rule after the
//!    substitution `u = sinh(t)/s` (`t` uniform), which packs nodes at the scale `1/s` of the
//!    step of `tanh(s u)` and spreads them out in the Gaussian tails; the inner variable `v` is
//!    treated the same way around its own feature `v* = −l21 u / l22`. The trapezoid rule of an
//!    analytic integrand in `t` converges exponentially; step 0.02 on `t ∈ [−asinh(12 s),
//!    asinh(12 s)]` (about 1000 nodes per dimension). Checked: halving the step changes the
//!    reference by less than 1e-12 of the integrands' mass. Tolerance `1e-9` of that mass.
//! 2. The Hessian of a 2-input, 2-unit tanh network with rows scaled by `s` against Monte Carlo
//!    (per-entry standard errors, `z < 6`) and positive semi-definite (λ_min ≥ −1e-12 λ_max).

use nearopt::activation::Gauss2;
use nearopt::gaussian::Cov2;
use nearopt::hessian::sampled::sampled_jacobian;
use nearopt::{Activation, Network, PopulationHessian};

const SCALES: [f64; 7] = [1e-3, 0.1, 1.0, 30.0, 100.0, 300.0, 1e3];

fn d(x: f64) -> [f64; 4] {
    // tanh and its derivatives, sech² without cancellation.
    let t = x.tanh();
    let c = x.cosh();
    let s = if x.abs() < 300.0 { 1.0 / (c * c) } else { 0.0 };
    [t, s, -2.0 * t * s, (6.0 * t * t - 2.0) * s]
}

/// Nodes and weights of `∫ f(u) φ(u) du` by the sinh substitution around `centre` with width `w`.
fn sinh_rule(centre: f64, w: f64, h: f64) -> Vec<(f64, f64)> {
    let t_lo = ((-12.0 - centre) / w).asinh();
    let t_hi = ((12.0 - centre) / w).asinh();
    let n = ((t_hi - t_lo) / h).ceil() as i64;
    let h = (t_hi - t_lo) / n as f64;
    (0..=n)
        .map(|i| {
            let t = t_lo + i as f64 * h;
            let u = centre + w * t.sinh();
            let end = if i == 0 || i == n { 0.5 } else { 1.0 };
            let weight =
                end * h * w * t.cosh() * (-0.5 * u * u).exp() / (2.0 * std::f64::consts::PI).sqrt();
            (u, weight)
        })
        .collect()
}

/// `[K00, K11, K20, K02, K22, K31, K13]` and the L¹ masses, by the sinh-trapezoid rule.
fn reference(cov: Cov2, h: f64) -> ([f64; 7], [f64; 7]) {
    let s1 = cov.q1.sqrt();
    let l21 = cov.c / s1;
    let l22 = (cov.q2 - l21 * l21).max(0.0).sqrt();
    let mut acc = [0.0; 7];
    let mut mass = [0.0; 7];
    for (u, wu) in sinh_rule(0.0, 1.0 / s1.max(1.0), h) {
        let a = d(s1 * u);
        let centre = -l21 * u / l22;
        for (v, wv) in sinh_rule(centre, 1.0 / l22.max(1.0), h) {
            let b = d(l21 * u + l22 * v);
            let p = [
                a[0] * b[0],
                a[1] * b[1],
                a[2] * b[0],
                a[0] * b[2],
                a[2] * b[2],
                a[3] * b[1],
                a[1] * b[3],
            ];
            for k in 0..7 {
                acc[k] += wu * wv * p[k];
                mass[k] += wu * wv * p[k].abs();
            }
        }
    }
    (acc, mass)
}

fn rows(s: f64) -> (Vec<f64>, Vec<f64>) {
    (vec![0.8 * s, -0.35 * s, 0.3 * s, 0.9 * s], vec![0.7, -1.1])
}

#[test]
fn tanh_moments_match_an_independent_quadrature_from_1e_minus3_to_1e3() {
    let g = Activation::Tanh.function();
    for s in SCALES {
        let (w1, _) = rows(s);
        let (u, v) = (&w1[0..2], &w1[2..4]);
        for (a, b) in [(u, u), (u, v), (v, v)] {
            let cov = Cov2::of(a, b);
            if cov.q1 * cov.q2 - cov.c * cov.c <= 1e-12 * cov.q1 * cov.q2 {
                // A unit with itself: l22 = 0, checked through the Hessian below.
                continue;
            }
            let m = g.moments(Gauss2::centred(cov)).unwrap().pair;
            let got = [m.k00, m.k11, m.k20, m.k02, m.k22, m.k31, m.k13];
            let (want, mass) = reference(cov, 0.02);
            let (finer, _) = reference(cov, 0.01);
            for k in 0..7 {
                assert!(
                    (want[k] - finer[k]).abs() <= 1e-12 * mass[k] + 1e-300,
                    "reference not converged at s = {s}, moment {k}"
                );
                assert!(
                    (got[k] - want[k]).abs() <= 1e-9 * mass[k] + 1e-300,
                    "s = {s} {cov:?} moment {k}: library {} vs reference {} (mass {:.2e})",
                    got[k],
                    want[k],
                    mass[k]
                );
            }
        }
    }
}

#[test]
fn tanh_hessian_is_psd_and_matches_monte_carlo_from_1e_minus3_to_1e3() {
    let n = 200_000;
    for s in SCALES {
        let (w1, w2) = rows(s);
        let net = Network::new(Activation::Tanh, 2, 2, w1, w2).unwrap();
        let exact = PopulationHessian::try_at_optimum(&net)
            .unwrap()
            .dense()
            .unwrap();
        let ev = nearopt::spectrum::symmetric_eigenvalues(&exact).unwrap();
        let dim = ev.len();
        assert!(
            ev[0] >= -1e-12 * ev[dim - 1],
            "s = {s}: indefinite, λ = {ev:?}"
        );
        let jac = sampled_jacobian(&net, n, 5).unwrap();
        let dd = jac.cols();
        let mut worst: f64 = 0.0;
        for i in 0..dd {
            for j in i..dd {
                let (mut s1, mut s2) = (0.0, 0.0);
                for r in 0..n {
                    let p = jac.get(r, i) * jac.get(r, j);
                    s1 += p;
                    s2 += p * p;
                }
                let nf = n as f64;
                let mean = s1 / nf;
                let se = ((s2 / nf - mean * mean).max(0.0) / (nf - 1.0)).sqrt();
                let e = exact.get(i, j);
                if se == 0.0 {
                    assert!((e - mean).abs() <= 1e-10 * exact.max_abs());
                    continue;
                }
                let z = (e - mean).abs() / se;
                worst = worst.max(z);
                assert!(
                    z < 6.0,
                    "s = {s} [{i}][{j}]: exact {e} vs {mean} ± {se} (z = {z:.1})"
                );
            }
        }
        eprintln!("s = {s}: λ = {:?}, max z = {worst:.2}", ev);
    }
}
