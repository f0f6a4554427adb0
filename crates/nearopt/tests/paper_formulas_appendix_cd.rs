//! Every displayed formula of the paper's Appendix C (the error-function Hessian: Eqs. 16–18 and
//! each integral identity, derivative and substitution of their derivation) and Appendix D (the
//! Fisher information), checked numerically against computations that share no code with it
//! (`docs/derivations.md` §6).
//!
//! References, written here or in `paper_formulas_support`: trapezoid quadrature on wide
//! intervals (integrands analytic and Gaussian-decaying: error far below the 1e-12 tolerances),
//! tensor Gauss–Hermite rules, Gauss–Jordan inverse/determinant, central differences, Monte Carlo
//! with standard errors (5 SE), and the library's exact Hessian where a formula is a Hessian block.
//! `erf` is the support module's series (statrs' erf is only ~1e-11 accurate).
//!
//! Notation as in the appendix: `W_m` is row m of W1 (a row vector), `q_m = W_m W_mᵀ`,
//! `c = W_m W_pᵀ`; for Eq. 17's derivation `Σ = [[q_k, c], [c, q_j]]` and `Σ⁻¹ = [[A, F], [F, B]]`.

#![allow(clippy::needless_range_loop)]

mod paper_formulas_support;

use nearopt::Activation;
use paper_formulas_support::*;
use std::f64::consts::PI;

const Z: f64 = 5.0;

fn g(x: f64) -> f64 {
    erf(x / 2f64.sqrt())
}
fn g1(x: f64) -> f64 {
    (2.0 / PI).sqrt() * (-x * x / 2.0).exp()
}
fn g2(x: f64) -> f64 {
    -x * g1(x)
}

fn outer(u: &[f64], v: &[f64]) -> Mat {
    u.iter()
        .map(|a| v.iter().map(|b| a * b).collect())
        .collect()
}

fn add(a: &Mat, b: &Mat, s: f64) -> Mat {
    a.iter()
        .zip(b)
        .map(|(r, t)| r.iter().zip(t).map(|(x, y)| x + s * y).collect())
        .collect()
}

fn scale(a: &Mat, s: f64) -> Mat {
    a.iter()
        .map(|r| r.iter().map(|x| s * x).collect())
        .collect()
}

/// The printed Σ of Eq. 16 (Sherman–Morrison expansion of `(I + W_mᵀW_m + W_pᵀW_p)⁻¹`).
fn printed_sigma(wm: &[f64], wp: &[f64]) -> Mat {
    let n = wm.len();
    let (qm, qp, c) = (dot(wm, wm), dot(wp, wp), dot(wm, wp));
    let pm = scale(&outer(wm, wm), 1.0 / (1.0 + qm));
    let pp = scale(&outer(wp, wp), 1.0 / (1.0 + qp));
    let cross = add(&outer(wm, wp), &outer(wp, wm), 1.0);
    let num = add(&scale(&add(&pm, &pp, 1.0), c * c), &cross, -c);
    let den = (1.0 + qp) * (1.0 + qm) - c * c;
    let s = add(&add(&identity(n), &pm, -1.0), &pp, -1.0);
    add(&s, &num, -1.0 / den)
}

/// The printed `det(I + A^{mp}) = 1 + q_m + q_p + q_m q_p − c²`.
fn printed_det(wm: &[f64], wp: &[f64]) -> f64 {
    let (qm, qp, c) = (dot(wm, wm), dot(wp, wp), dot(wm, wp));
    1.0 + qm + qp + qm * qp - c * c
}

/// Eqs. 16–18 as printed, assembled into the full Hessian (parameter order of INTERFACE.md).
fn eq16_17_18(t: &Net) -> Mat {
    let (ni, nh) = (t.ni(), t.nh());
    let d = t.dim();
    let w = &t.w1;
    let mut h = vec![vec![0.0; d]; d];
    for a in 0..d {
        for b in 0..d {
            h[a][b] = match (a < nh * ni, b < nh * ni) {
                (true, true) => {
                    let (m, n, p, q) = (a / ni, a % ni, b / ni, b % ni);
                    let s = printed_sigma(&w[m], &w[p]);
                    2.0 * t.w2[m] * t.w2[p] / (PI * printed_det(&w[m], &w[p]).sqrt()) * s[n][q]
                }
                (false, false) => {
                    let (k, j) = (a - nh * ni, b - nh * ni);
                    let (qk, qj, c) = (dot(&w[k], &w[k]), dot(&w[j], &w[j]), dot(&w[j], &w[k]));
                    2.0 / PI * (c / (1.0 + qk + qj + qk * qj - c * c).sqrt()).atan()
                }
                (w1a, _) => {
                    let (w1i, k) = if w1a {
                        (a, b - nh * ni)
                    } else {
                        (b, a - nh * ni)
                    };
                    let (m, n) = (w1i / ni, w1i % ni);
                    let (qm, qk, c) = (dot(&w[m], &w[m]), dot(&w[k], &w[k]), dot(&w[k], &w[m]));
                    2.0 / (PI * (1.0 + qm).sqrt()) * t.w2[m] * (w[k][n] - c * w[m][n] / (1.0 + qm))
                        / (1.0 + qk - c * c / (1.0 + qm)).sqrt()
                }
            };
        }
    }
    h
}

/// Eqs. 16, 17, 18 (the final forms, with the printed Σ and determinant) against the library's
/// exact Hessian (1e-13 relative) and Monte Carlo `E[JJᵀ]` (40 000 inputs, 5 SE), shapes 3×2 and
/// 2×3 (all pairs, m = p included).
#[test]
fn eq16_eq17_eq18_against_the_exact_and_monte_carlo_hessian() {
    for (ni, nh) in [(3, 2), (2, 3)] {
        let t = Net::random(ni, nh, 301 + ni as u64);
        let eq = eq16_17_18(&t);
        let lib = library_hessian(&t, Activation::Erf);
        let scale = lib.iter().flatten().fold(0.0f64, |m, v| m.max(v.abs()));
        let diff = max_abs_diff(&eq, &lib);
        assert!(diff < 1e-13 * scale, "{ni}×{nh}: {diff}");
        let (mean, se) = mc_outer(&t, &g, &g1, 40000, 302);
        let z = worst_z(&mean, &flatten(&eq), &se);
        println!("{ni}×{nh}: Eqs. 16–18 vs library {diff:.1e}, vs MC worst z {z:.2}");
        assert!(z < Z);
    }
}

/// Upper-left block, first display: `H = W2m W2p E[g'g' x_n x_q] + W2m δ_pm E[g''(z_m) x_n x_q]`.
/// The second term must carry `(y − y*)` (Eq. 4) and so vanishes at the optimum for any g. For
/// erf it is zero anyway: `E[g''(z_m) x_n x_q] = −Σ_k W_mk E[g'(z_m) x_k x_n x_q] = 0` (both by
/// Monte Carlo, 5 SE, and the odd symmetry). For the quadratic activation `E[g'' x_n x_q] = 2ε δ_nq`
/// and the printed display would add `2ε W2m δ_pm δ_nq` to the Hessian: Monte Carlo rejects it.
#[test]
fn upper_left_expectation_and_its_second_term() {
    let (ni, nh) = (3, 2);
    let t = Net::random(ni, nh, 311);
    let mut r = rng(312);
    let mut acc = MeanSe::new(2 * ni * ni);
    for _ in 0..40000 {
        let x = normals(&mut r, ni);
        let z = dot(&t.w1[0], &x);
        let mut row = Vec::new();
        for n in 0..ni {
            for q in 0..ni {
                row.push(g2(z) * x[n] * x[q]);
                row.push(
                    -(0..ni)
                        .map(|k| t.w1[0][k] * g1(z) * x[k] * x[n] * x[q])
                        .sum::<f64>(),
                );
            }
        }
        acc.add(&row);
    }
    let z0 = worst_z(&acc.mean(), &vec![0.0; 2 * ni * ni], &acc.se());
    assert!(z0 < Z, "erf: E[g'' x_n x_q] not zero (z = {z0})");
    // quadratic: the printed display's second term is visible and wrong
    let e = 1.0;
    let lib = library_hessian(&t, Activation::Quadratic { epsilon: e });
    let mut printed = lib.clone();
    for m in 0..nh {
        for n in 0..ni {
            printed[m * ni + n][m * ni + n] += t.w2[m] * 2.0 * e;
        }
    }
    let (mean, se) = mc_outer(&t, &|x| x + e * x * x, &|x| 1.0 + 2.0 * e * x, 40000, 313);
    assert!(worst_z(&mean, &flatten(&lib), &se) < Z);
    let zp = worst_z(&mean, &flatten(&printed), &se);
    println!("quadratic: printed upper-left display off by z = {zp:.0}");
    assert!(zp > 20.0);
}

/// `g'(z_m) g'(z_p) = (2/π) exp(−½ Σ_kl A^{mp}_kl x_k x_l)`, `A^{mp}_kl = W_mk W_ml + W_pk W_pl`,
/// pointwise (1e-15).
#[test]
fn product_of_derivatives_is_an_unnormalised_gaussian() {
    let t = Net::random(4, 2, 321);
    let a = add(&outer(&t.w1[0], &t.w1[0]), &outer(&t.w1[1], &t.w1[1]), 1.0);
    let mut r = rng(322);
    for _ in 0..20 {
        let x = normals(&mut r, 4);
        let lhs = g1(dot(&t.w1[0], &x)) * g1(dot(&t.w1[1], &x));
        let quad: f64 = (0..4)
            .map(|k| (0..4).map(|l| a[k][l] * x[k] * x[l]).sum::<f64>())
            .sum();
        assert!((lhs - 2.0 / PI * (-0.5 * quad).exp()).abs() < 1e-15);
    }
}

/// `E[g'(z_m)g'(z_p) x_n x_q] = (2/π)√det Σ ∫ N(x; 0, Σ) x_n x_q dx = 2/(π √det Σ⁻¹) [Σ]_nq` with
/// `Σ⁻¹ = I + A^{mp}`: the left side by a tensor Gauss–Hermite rule under N(0, I) (Ni = 2, 60
/// nodes), the middle by Gauss–Hermite under N(0, Σ), the right side with the Gauss–Jordan
/// inverse and determinant; all to 1e-12. Also Monte Carlo for Ni = 3 (5 SE).
#[test]
fn second_moments_of_the_modified_gaussian() {
    let t = Net::random(2, 2, 331);
    let (wm, wp) = (&t.w1[0], &t.w1[1]);
    let sinv = add(&add(&identity(2), &outer(wm, wm), 1.0), &outer(wp, wp), 1.0);
    let (sigma, det_sinv) = inverse_det(&sinv);
    for n in 0..2 {
        for q in 0..2 {
            let lhs = expect_bivariate(
                1.0,
                0.0,
                1.0,
                |x1, x2| {
                    let x = [x1, x2];
                    g1(dot(wm, &x)) * g1(dot(wp, &x)) * x[n] * x[q]
                },
                60,
            );
            let det_sigma = 1.0 / det_sinv;
            let middle = 2.0 / PI
                * det_sigma.sqrt()
                * expect_bivariate(
                    sigma[0][0],
                    sigma[0][1],
                    sigma[1][1],
                    |x1, x2| [x1, x2][n] * [x1, x2][q],
                    20,
                );
            let rhs = 2.0 / (PI * det_sinv.sqrt()) * sigma[n][q];
            assert!(
                (lhs - rhs).abs() < 1e-12 && (middle - rhs).abs() < 1e-12,
                "{lhs} {middle} {rhs}"
            );
        }
    }
    let t = Net::random(3, 2, 332);
    let (wm, wp) = (&t.w1[0], &t.w1[1]);
    let sinv = add(&add(&identity(3), &outer(wm, wm), 1.0), &outer(wp, wp), 1.0);
    let (sigma, det_sinv) = inverse_det(&sinv);
    let mut r = rng(333);
    let mut acc = MeanSe::new(9);
    for _ in 0..40000 {
        let x = normals(&mut r, 3);
        let f = g1(dot(wm, &x)) * g1(dot(wp, &x));
        let row: Vec<f64> = (0..9).map(|i| f * x[i / 3] * x[i % 3]).collect();
        acc.add(&row);
    }
    let rhs: Vec<f64> = (0..9)
        .map(|i| 2.0 / (PI * det_sinv.sqrt()) * sigma[i / 3][i % 3])
        .collect();
    assert!(worst_z(&acc.mean(), &rhs, &acc.se()) < Z);
}

/// The Sherman–Morrison formula and the matrix determinant lemma on a random SPD 4×4 matrix and
/// random u, v (Gauss–Jordan, 1e-12).
#[test]
fn sherman_morrison_and_determinant_lemma() {
    let mut r = rng(341);
    let m: Mat = (0..4).map(|_| normals(&mut r, 4)).collect();
    let a = add(&matmul(&m, &transpose(&m)), &identity(4), 1.0);
    let (u, v) = (normals(&mut r, 4), normals(&mut r, 4));
    let (ainv, adet) = inverse_det(&a);
    let (lhs, ldet) = inverse_det(&add(&a, &outer(&u, &v), 1.0));
    let ainv_u: Vec<f64> = (0..4).map(|i| dot(&ainv[i], &u)).collect();
    let vt_ainv: Vec<f64> = (0..4)
        .map(|j| (0..4).map(|i| v[i] * ainv[i][j]).sum())
        .collect();
    let den = 1.0 + dot(&v, &ainv_u);
    let rhs = add(&ainv, &outer(&ainv_u, &vt_ainv), -1.0 / den);
    assert!(max_abs_diff(&lhs, &rhs) < 1e-12);
    assert!((ldet - den * adet).abs() < 1e-12 * ldet.abs());
}

/// `det(I + A^{mp})` and the printed Σ (the Sherman–Morrison expansion) against Gauss–Jordan on
/// `I + W_mᵀW_m + W_pᵀW_p`, Ni = 4, for m ≠ p and m = p (1e-13).
#[test]
fn determinant_and_inverse_of_the_modified_precision() {
    let t = Net::random(4, 3, 351);
    for (m, p) in [(0, 1), (1, 2), (2, 2)] {
        let (wm, wp) = (&t.w1[m], &t.w1[p]);
        let sinv = add(&add(&identity(4), &outer(wm, wm), 1.0), &outer(wp, wp), 1.0);
        let (inv, det) = inverse_det(&sinv);
        assert!((printed_det(wm, wp) - det).abs() < 1e-13 * det);
        assert!(max_abs_diff(&printed_sigma(wm, wp), &inv) < 1e-13);
    }
}

/// Lower-right block: `E[h_k h_j] = E_z[g(z_k)g(z_j)]` with `z = (W_k; W_j) x ~ N(0, AAᵀ)`,
/// `AAᵀ = [[Σ W_ki², Σ W_ki W_ji], [·, Σ W_ji²]]`: the sample covariance of z over 40 000 inputs
/// (5 SE), and the printed 2-D integral `∫∫ (2π)⁻¹ det Σ^{−1/2} erf erf e^{−½ zᵀΣ⁻¹z}` by a 2-D
/// trapezoid rule (h = 0.04 on ±12 sd) against Monte Carlo of `g(z_k)g(z_j)` (5 SE) and against
/// Eq. 17 (1e-11).
#[test]
fn lower_right_bivariate_gaussian_and_its_integral() {
    let t = Net::random(3, 2, 361);
    let (wk, wj) = (&t.w1[0], &t.w1[1]);
    let (qk, qj, c) = (dot(wk, wk), dot(wj, wj), dot(wk, wj));
    let mut r = rng(362);
    let mut acc = MeanSe::new(4);
    for _ in 0..40000 {
        let x = normals(&mut r, 3);
        let (zk, zj) = (dot(wk, &x), dot(wj, &x));
        acc.add(&[zk * zk, zk * zj, zj * zj, g(zk) * g(zj)]);
    }
    let (mean, se) = (acc.mean(), acc.se());
    assert!(worst_z(&mean[..3], &[qk, c, qj], &se[..3]) < Z);
    let det = qk * qj - c * c;
    let (ia, if_, ib) = (qj / det, -c / det, qk / det);
    let lk = 12.0 * qk.sqrt();
    let lj = 12.0 * qj.sqrt();
    let n = 600;
    let hk = 2.0 * lk / n as f64;
    let hj = 2.0 * lj / n as f64;
    let gk: Vec<f64> = (0..=n).map(|i| g(-lk + i as f64 * hk)).collect();
    let gj: Vec<f64> = (0..=n).map(|i| g(-lj + i as f64 * hj)).collect();
    let mut s = 0.0;
    for i in 0..=n {
        let zk = -lk + i as f64 * hk;
        for l in 0..=n {
            let zj = -lj + l as f64 * hj;
            let wgt =
                if i == 0 || i == n { 0.5 } else { 1.0 } * if l == 0 || l == n { 0.5 } else { 1.0 };
            s += wgt
                * gk[i]
                * gj[l]
                * (-0.5 * (ia * zk * zk + 2.0 * if_ * zk * zj + ib * zj * zj)).exp();
        }
    }
    let integral = s * hk * hj / (2.0 * PI * det.sqrt());
    let eq17 = 2.0 / PI * (c / (1.0 + qk + qj + qk * qj - c * c).sqrt()).atan();
    println!(
        "E[g g]: integral {integral:.14}, Eq. 17 {eq17:.14}, MC {} ± {}",
        mean[3], se[3]
    );
    assert!((integral - eq17).abs() < 1e-11);
    assert!((mean[3] - integral).abs() < Z * se[3]);
}

/// `∫ erf(ax + b) N(x; μ, σ²) dx = erf((aμ + b)/√(1 + 2a²σ²))` for several (a, b, μ, σ), by the
/// trapezoid rule on μ ± 14σ (h = σ/50; 1e-13).
#[test]
fn erf_gaussian_integral_identity() {
    for &(a, b, mu, s) in &[
        (0.7, 0.0, 0.3, 1.0),
        (-1.3, 0.4, -0.8, 0.5),
        (2.0, -1.0, 0.2, 1.7),
        (0.1, 0.3, 2.0, 0.3),
    ] {
        let lhs = trapezoid(
            |x| {
                erf(a * x + b) * (-(x - mu) * (x - mu) / (2.0 * s * s)).exp()
                    / (2.0 * PI * s * s).sqrt()
            },
            mu - 14.0 * s,
            mu + 14.0 * s,
            1400,
        );
        let rhs = erf((a * mu + b) / (1.0 + 2.0 * a * a * s * s).sqrt());
        assert!(
            (lhs - rhs).abs() < 1e-13,
            "({a},{b},{mu},{s}): {lhs} vs {rhs}"
        );
    }
}

/// The covariance, precision `Σ⁻¹ = [[A, F], [F, B]]` and Eq. 17's value for a test network.
fn test_pair() -> (f64, f64, f64, f64, f64, f64, f64) {
    let t = Net::random(3, 2, 371);
    let (qk, qj, c) = (
        dot(&t.w1[0], &t.w1[0]),
        dot(&t.w1[1], &t.w1[1]),
        dot(&t.w1[0], &t.w1[1]),
    );
    let det = qk * qj - c * c;
    let eq17 = 2.0 / PI * (c / (1.0 + qk + qj + qk * qj - c * c).sqrt()).atan();
    (qk, qj, c, qj / det, -c / det, qk / det, eq17)
}

/// Completing the square: `∫ dz_k erf(z_k/√2) e^{−½(A z_k² + 2F z_j z_k)} = e^{F² z_j²/(2A)} √(2π/A)
/// erf(−F z_j / (√2 √(A + A²)))`, at several z_j, by the trapezoid rule (1e-12 relative).
#[test]
fn completing_the_square_in_z_k() {
    let (_, _, _, a, f, _, _) = test_pair();
    for &zj in &[-2.0, -0.5, 0.3, 1.7] {
        let centre = -f * zj / a;
        let w = 14.0 / a.sqrt();
        let lhs = trapezoid(
            |zk| g(zk) * (-0.5 * (a * zk * zk + 2.0 * f * zj * zk)).exp(),
            centre - w,
            centre + w,
            2000,
        );
        let rhs = (f * f * zj * zj / (2.0 * a)).exp()
            * (2.0 * PI / a).sqrt()
            * erf(-f * zj / (2f64.sqrt() * (a + a * a).sqrt()));
        assert!(
            (lhs - rhs).abs() < 1e-12 * rhs.abs().max(1e-3),
            "z_j = {zj}: {lhs} vs {rhs}"
        );
    }
}

/// "All that is left to calculate": the printed integrand has the exponent `F²/(2A) z_j² − (F/2)
/// z_j`; the correct one (from the previous step) is `F²/(2A) z_j² − (B/2) z_j²`. The corrected
/// integral equals Eq. 17 (trapezoid, 1e-11); the printed integrand grows like `e^{+F² z_j²/(2A)}`
/// and is not integrable (it exceeds 1 at |z_j| = 30, where the corrected one is < 1e-30).
#[test]
fn remaining_z_j_integral_printed_exponent_is_wrong() {
    let (qk, qj, c, a, f, b, eq17) = test_pair();
    let det_sigma = qk * qj - c * c;
    let pref = (2.0 * PI).powf(-0.5) / det_sigma.sqrt() / a.sqrt();
    let inner = |zj: f64| g(zj) * erf(-f / (a + a * a).sqrt() * zj / 2f64.sqrt());
    let corrected = |zj: f64| pref * inner(zj) * ((f * f / (2.0 * a) - b / 2.0) * zj * zj).exp();
    let printed = |zj: f64| pref * inner(zj) * (f * f / (2.0 * a) * zj * zj - f / 2.0 * zj).exp();
    let w = 14.0 / (b - f * f / a).sqrt();
    let val = trapezoid(corrected, -w, w, 4000);
    println!("remaining integral {val:.14} vs Eq. 17 {eq17:.14}");
    assert!((val - eq17).abs() < 1e-11);
    assert!(printed(30.0).abs() > 1.0 && printed(-30.0).abs() > 1.0);
    assert!(corrected(30.0).abs() < 1e-30);
}

/// `I(a) = ∫ erf(x) erf(ax) e^{−b²x²} dx` by the trapezoid rule.
fn i_of(a: f64, b: f64) -> f64 {
    let w = 12.0 / b;
    trapezoid(
        |x| erf(x) * erf(a * x) * (-b * b * x * x).exp(),
        -w,
        w,
        6000,
    )
}

/// Feynman's trick: `dI/da = ∫ erf(x) (2/√π) x e^{−a²x²} e^{−b²x²} dx` (quadrature of the right
/// side against a central difference of the quadrature of I, h = 1e-4: truncation ≈ 1e-9; tol
/// 1e-8). The printed closed form `dI/da = 1/((a²+b²)^{3/2} √(1/(a²+b²) + 1))` is missing a factor
/// `2/√π`: the quadrature equals `(2/√π)/(s√(1+s))`, `s = a² + b²` (1e-12), the printed form is
/// `√π/2` of it.
#[test]
fn feynman_derivative_and_its_closed_form() {
    for &(a, b) in &[(0.4, 0.8), (-1.1, 1.3), (2.0, 0.6)] {
        let w = 12.0 / b;
        let di = trapezoid(
            |x| erf(x) * 2.0 / PI.sqrt() * x * (-a * a * x * x).exp() * (-b * b * x * x).exp(),
            -w,
            w,
            6000,
        );
        let h = 1e-4;
        let fd = (i_of(a + h, b) - i_of(a - h, b)) / (2.0 * h);
        assert!((di - fd).abs() < 1e-8, "({a},{b}): {di} vs FD {fd}");
        let s = a * a + b * b;
        let printed = 1.0 / (s.powf(1.5) * (1.0 / s + 1.0).sqrt());
        let corrected = 2.0 / PI.sqrt() / (s * (1.0 + s).sqrt());
        assert!(
            (di - corrected).abs() < 1e-12,
            "({a},{b}): {di} vs {corrected}"
        );
        assert!((printed / di - PI.sqrt() / 2.0).abs() < 1e-10);
    }
}

/// The printed `I(a)` (with `I(0) = 0`) against quadrature of its definition (1e-12), for a of
/// both signs; it equals `∫_0^a` of the corrected dI/da (Simpson, 1e-12) and not of the printed
/// one; and it simplifies to `(2/(√π b)) atan(a / (b √(1 + a² + b²)))`.
#[test]
fn closed_form_of_i_of_a() {
    let printed_i = |a: f64, b: f64| {
        let s = a * a + b * b;
        -2.0 * (s / (s + 1.0)).sqrt()
            * (1.0 / s + 1.0).sqrt()
            * (-a * (s + 1.0).sqrt() / b + a * a / b + b).atan()
            / (PI.sqrt() * b)
            + 2.0 * (1.0 / (b * b) + 1.0).sqrt() * (b * b / (b * b + 1.0)).sqrt() * b.atan()
                / (PI.sqrt() * b)
    };
    for &(a, b) in &[(0.4, 0.8), (-1.1, 1.3), (2.0, 0.6), (0.0, 0.9)] {
        let q = i_of(a, b);
        let p = printed_i(a, b);
        assert!(
            (p - q).abs() < 1e-12,
            "({a},{b}): printed {p} vs quadrature {q}"
        );
        let simple = 2.0 / (PI.sqrt() * b) * (a / (b * (1.0 + a * a + b * b).sqrt())).atan();
        assert!((simple - q).abs() < 1e-12);
        if a != 0.0 {
            let from_corrected = simpson(
                |u| 2.0 / PI.sqrt() / ((u * u + b * b) * (1.0 + u * u + b * b).sqrt()),
                0.0,
                a,
                2000,
            );
            let from_printed = simpson(
                |u| {
                    let s = u * u + b * b;
                    1.0 / (s.powf(1.5) * (1.0 / s + 1.0).sqrt())
                },
                0.0,
                a,
                2000,
            );
            assert!((from_corrected - q).abs() < 1e-12);
            assert!((from_printed - q).abs() > 1e-2 * q.abs());
        }
    }
}

/// The substitution `x = z_j/√2` and the choice `a = −F/√(A + A²)`, `b² = 1/(A det Σ)`:
/// `b² = (AB − F²)/A > 0` (for 200 random pairs), the rewritten integral `∫ dx √2 (2π)^{−1/2}
/// det Σ^{−1/2} erf(x) e^{−(AB−F²)x²/A} A^{−1/2} erf(a x)` equals Eq. 17 (trapezoid, 1e-11), and so
/// does `√2 (2π)^{−1/2} det Σ^{−1/2} A^{−1/2} I(a)` with the closed-form I.
#[test]
fn substitution_and_parameters_a_b() {
    let (qk, qj, c, a_, f, b_, eq17) = test_pair();
    let det_sigma = qk * qj - c * c;
    let a = -f / (a_ + a_ * a_).sqrt();
    let b2 = 1.0 / (a_ * det_sigma);
    assert!((b2 - (a_ * b_ - f * f) / a_).abs() < 1e-12 * b2);
    let pref = 2f64.sqrt() * (2.0 * PI).powf(-0.5) / det_sigma.sqrt() / a_.sqrt();
    let w = 12.0 / b2.sqrt();
    let val = trapezoid(
        |x| pref * erf(x) * (-(a_ * b_ - f * f) / a_ * x * x).exp() * erf(a * x),
        -w,
        w,
        6000,
    );
    assert!((val - eq17).abs() < 1e-11, "{val} vs {eq17}");
    let b = b2.sqrt();
    let i_closed = 2.0 / (PI.sqrt() * b) * (a / (b * (1.0 + a * a + b * b).sqrt())).atan();
    assert!((pref * i_closed - eq17).abs() < 1e-12);
    for s in 0..200 {
        let t = Net::random(3, 2, 40_000 + s);
        let (qk, qj, c) = (
            dot(&t.w1[0], &t.w1[0]),
            dot(&t.w1[1], &t.w1[1]),
            dot(&t.w1[0], &t.w1[1]),
        );
        let det = qk * qj - c * c;
        let (a_, f, b_) = (qj / det, -c / det, qk / det);
        assert!((a_ * b_ - f * f) / a_ > 0.0);
    }
}

/// `E[g(z_k)g(z_j)] = (2/π) atan(F / √((AB − F²)(AB + A + B − F² + 1)))` as printed has the wrong
/// sign: with `a = −F/√(A+A²)` the result is `atan(−F/…)`. The corrected form equals Eq. 17 and
/// the 2-D quadrature of `lower_right_bivariate_gaussian_and_its_integral` (here: Gauss–Hermite,
/// 1e-12); the printed one is its negative (F = −c/det Σ has the opposite sign of the covariance).
#[test]
fn intermediate_arctan_form_has_a_sign_error() {
    let (qk, qj, c, a, f, b, eq17) = test_pair();
    let gh = expect_bivariate(qk, c, qj, |u, v| g(u) * g(v), 80);
    let core = ((a * b - f * f) * (a * b + a + b - f * f + 1.0)).sqrt();
    let printed = 2.0 / PI * (f / core).atan();
    let corrected = 2.0 / PI * (-f / core).atan();
    println!("E[gg]: GH {gh:.15}, corrected {corrected:.15}, printed {printed:.15}");
    assert!((corrected - gh).abs() < 1e-12 && (corrected - eq17).abs() < 1e-13);
    assert!((printed + gh).abs() < 1e-12 && gh.abs() > 0.05);
}

/// Upper-right block: `W2m E[g(z_k) g'(z_m) x_n] = W2m √(2/π) (1/√det Σ⁻¹) E_x̃[g(z_k) x_n]` with
/// `x̃ ~ N(0, (I + W_mᵀW_m)⁻¹)`: both sides by tensor Gauss–Hermite (Ni = 2, 60 nodes; 1e-12).
/// The covariance of `(z_k, x_n)` under x̃, printed as `[[W_kW_kᵀ, W_kn], [W_kn, 1]] −
/// 1/(1+W_mW_mᵀ) [[(W_mW_kᵀ)², W_kW_mᵀW_mn], [·, W_mn²]]`, against `M(I + A^m)⁻¹Mᵀ` (Gauss–Jordan,
/// 1e-14). And `E[x_n erf(z_k/√2)] = √(2/π) σ_zx/√(1 + σ_zz)` by Gauss–Hermite on the bivariate
/// Gaussian (1e-13).
#[test]
fn upper_right_block_steps() {
    let t = Net::random(2, 2, 381);
    let (wm, wk) = (&t.w1[0], &t.w1[1]);
    let sinv = add(&identity(2), &outer(wm, wm), 1.0);
    let (sig, det_sinv) = inverse_det(&sinv);
    let qm = dot(wm, wm);
    for n in 0..2 {
        let lhs = expect_bivariate(
            1.0,
            0.0,
            1.0,
            |x1, x2| {
                let x = [x1, x2];
                g(dot(wk, &x)) * g1(dot(wm, &x)) * x[n]
            },
            60,
        );
        let tilde = expect_bivariate(
            sig[0][0],
            sig[0][1],
            sig[1][1],
            |x1, x2| g(dot(wk, &[x1, x2])) * [x1, x2][n],
            60,
        );
        let rhs = (2.0 / PI).sqrt() / det_sinv.sqrt() * tilde;
        assert!((lhs - rhs).abs() < 1e-12, "n = {n}: {lhs} vs {rhs}");
        // covariance of (z_k, x_n) under x̃
        let c = dot(wm, wk);
        let printed = [
            [
                dot(wk, wk) - c * c / (1.0 + qm),
                wk[n] - c * wm[n] / (1.0 + qm),
            ],
            [
                wk[n] - c * wm[n] / (1.0 + qm),
                1.0 - wm[n] * wm[n] / (1.0 + qm),
            ],
        ];
        let mrows = [
            wk.clone(),
            (0..2)
                .map(|i| if i == n { 1.0 } else { 0.0 })
                .collect::<Vec<f64>>(),
        ];
        for i in 0..2 {
            for j in 0..2 {
                let v: f64 = (0..2)
                    .map(|a| {
                        (0..2)
                            .map(|b| mrows[i][a] * sig[a][b] * mrows[j][b])
                            .sum::<f64>()
                    })
                    .sum();
                assert!((v - printed[i][j]).abs() < 1e-14);
            }
        }
        let (szz, szx, sxx) = (printed[0][0], printed[0][1], printed[1][1]);
        let e = expect_bivariate(szz, szx, sxx, |z, x| x * g(z), 60);
        assert!((e - (2.0 / PI).sqrt() * szx / (1.0 + szz).sqrt()).abs() < 1e-13);
        assert!((e - tilde).abs() < 1e-12);
    }
}

/// Appendix D. Eq. 20 is a normalised density in y (trapezoid, 1e-13) with
/// `∇_θ log p = (y − f) ∇_θ f` (central differences, h = 1e-5, 1e-8); the Fisher matrix of Eq. 19,
/// `F = E_(x,y)[(y − f)² ∇f ∇fᵀ]` with `y ~ p(y|x; θ*)`, and its y-average `E_x[∇f ∇fᵀ]`, both by
/// Monte Carlo (40 000 draws, 5 SE), equal the library's exact Hessian at the optimum (erf, 3×2).
#[test]
fn appendix_d_fisher_information() {
    let t = Net::random(3, 2, 391);
    let d = t.dim();
    let mut r = rng(392);
    let x = normals(&mut r, 3);
    let f = t.output(&g, &x);
    let norm = trapezoid(
        |y| (-(y - f) * (y - f) / 2.0).exp() / (2.0 * PI).sqrt(),
        f - 14.0,
        f + 14.0,
        2000,
    );
    assert!((norm - 1.0).abs() < 1e-13);
    let y = f + 0.7;
    let th = t.params();
    let jac = t.jacobian(&g, &g1, &x);
    for i in 0..d {
        let logp = |p: &[f64]| {
            let fy = Net::from_params(3, 2, p).output(&g, &x);
            -0.5 * (2.0 * PI).ln() - 0.5 * (y - fy) * (y - fy)
        };
        let (mut p, mut q) = (th.clone(), th.clone());
        p[i] += 1e-5;
        q[i] -= 1e-5;
        let fd = (logp(&p) - logp(&q)) / 2e-5;
        assert!((fd - (y - f) * jac[i]).abs() < 1e-8);
    }
    let lib = library_hessian(&t, Activation::Erf);
    let mut acc = MeanSe::new(2 * d * d);
    let mut row = vec![0.0; 2 * d * d];
    for _ in 0..40000 {
        let x = normals(&mut r, 3);
        let eps = normal(&mut r); // y − f ~ N(0, 1)
        let j = t.jacobian(&g, &g1, &x);
        for a in 0..d {
            for b in 0..d {
                row[a * d + b] = eps * eps * j[a] * j[b];
                row[d * d + a * d + b] = j[a] * j[b];
            }
        }
        acc.add(&row);
    }
    let (mean, se) = (acc.mean(), acc.se());
    let h = flatten(&lib);
    assert!(worst_z(&mean[..d * d], &h, &se[..d * d]) < Z);
    assert!(worst_z(&mean[d * d..], &h, &se[d * d..]) < Z);
}
