//! The cross moments of [`super::cross`] in closed form when both activations are polynomials
//! (linear, quadratic, polynomial of any degree, `f ≡ 1` for the output bias).
//!
//! With `z1 = μ1 + t1`, `z2 = μ2 + t2` and `(t1, t2)` centred normal with covariance
//! `(q1, c, q2)`, write `G_a(t) = g⁽ᵃ⁾(μ1 + t)` and `F_b(t) = f⁽ᵇ⁾(μ2 + t)` as polynomials in `t`
//! (Taylor shift of the coefficients, then differentiation). Every moment is then
//! `E[t1^k G_a(t1) F_b(t2)] = Σ_ij (t^k G_a)_i (F_b)_j E[t1^i t2^j]`, a finite Wick sum
//! ([`crate::gaussian::bivariate_moment`]); nothing is divided by `det Σ`, so parallel rows need
//! no special case. `A22 = E[g'' f'']` is set to 0 when the caller treats the rows as parallel
//! (its coefficient `w' w'ᵀ` then vanishes), the convention of the quadrature routes.
//! Cost: `O(deg g · deg f)` bivariate moments per component, microseconds for the paper's
//! activations.

use super::cross::CrossMoments;
use super::moments::Gauss2;
use super::polynomial::{differentiate, moment_of, taylor_shift};

/// `t · p(t)`.
fn times_t(p: &[f64]) -> Vec<f64> {
    let mut out = Vec::with_capacity(p.len() + 1);
    out.push(0.0);
    out.extend_from_slice(p);
    out
}

/// The cross moments for polynomial `g` (coefficients `gc`, the student unit) and `f`
/// (coefficients `fc`), exactly. `parallel`: the rows are treated as parallel (`A22 = 0`).
pub(super) fn polynomial_cross_moments(
    gc: &[f64],
    fc: &[f64],
    gauss: Gauss2,
    parallel: bool,
) -> CrossMoments {
    let [mu1, mu2] = gauss.mean;
    let g0 = taylor_shift(gc, mu1);
    let g1 = differentiate(&g0);
    let g2 = differentiate(&g1);
    let f0 = taylor_shift(fc, mu2);
    let f1 = differentiate(&f0);
    let f2 = differentiate(&f1);
    let (tg1, tg2) = (times_t(&g1), times_t(&g2));
    let ttg2 = times_t(&tg2);
    let m = |p: &[f64], q: &[f64]| moment_of(p, q, gauss.cov);
    CrossMoments {
        a0: m(&g2, &f0),
        a11: m(&ttg2, &f0),
        a12: m(&tg2, &f1),
        a22: if parallel { 0.0 } else { m(&g2, &f2) },
        b0: m(&g1, &f0),
        b1: m(&tg1, &f0),
        b2: m(&g1, &f1),
        c1: m(&tg2, &f0),
        c2: m(&g2, &f1),
    }
}
