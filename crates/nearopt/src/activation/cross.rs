//! Cross expectations between a student unit (activation `g`, differentiated twice) and another
//! unit (activation `f`, possibly different: a teacher's, or `f ≡ 1` for the output bias), for
//! the functional term `E[(y_s − y_t) ∇²y_s]` of the Hessian at a student (`docs/student.md`).
//!
//! With `z1 = s·x + μ1`, `t1 = s·x`, `q1 = |s|²`, `z2 = w·x + μ2`, `ρ = s·w / q1` and
//! `w' = w − ρ s` (the part of `w` orthogonal to `s`), `x ~ N(0, I)`: split
//! `x = s t1/q1 + x'` with `x' ~ N(0, P)`, `P = I − s sᵀ/q1`, independent of `t1`, and apply
//! Stein's lemma to `x'` only (`z2` depends on `x'` through `w'·x'`):
//!
//! ```text
//! E[g''(z1) f(z2) x xᵀ] = A0 P + A11 s sᵀ/q1² + A12 (s w'ᵀ + w' sᵀ)/q1 + A22 w' w'ᵀ
//! E[g'(z1) f(z2) x]     = B1 s/q1 + B2 w'
//! E[g''(z1) f(z2) x]    = C1 s/q1 + C2 w'
//! A0 = E[g'' f], A11 = E[g'' f t1²], A12 = E[g'' f' t1], A22 = E[g'' f''],
//! B0 = E[g' f],  B1 = E[g' f t1],    B2 = E[g' f'],      C1 = E[g'' f t1], C2 = E[g'' f'].
//! ```
//!
//! Nothing is divided by `det Σ`, so parallel and identical rows (the unit with itself, a
//! student unit that copies a teacher unit) need no special case. Only `g, g', g''` and
//! `f, f', f''` are integrated, never `g'''`.
//!
//! * Both polynomials ([`ActivationFn::polynomial_coefficients`], `f ≡ 1` included): exact Wick
//!   sums after a Taylor shift by the biases (`cross_closed`), any geometry.
//! * Smooth `g` and `f`, rows not parallel: tensor Gauss–Hermite rules in the whitened
//!   coordinates, accepted when two consecutive orders agree to [`QUADRATURE_REL_TOL`] of each
//!   component's `L¹` mass (`cross_fast`); otherwise, and for the cases below, the general route
//!   [`adaptive_cross_moments`]: nested adaptive quadrature ([`expect2_separable`]) of the
//!   products of `[g'', g'' t1, g'' t1², g', g' t1]` and `[f, f', f'']`.
//! * Kinked `f` (`f'` jumps by `J'_κ` at each kink `κ`): `f''` is `Σ J'_κ δ(z2 − κ)`, so
//!   `A22 = Σ_κ J'_κ φ_{z2}(κ) E[g''(z1) | z2 = κ]`, a 1-D integral.
//! * Kinked `g`: every `g''` moment is `Σ_κ J_κ φ_{z1}(κ) E[· | z1 = κ]`, 1-D integrals over
//!   `z2 | z1 = κ ~ N(μ2 + ρ (κ − μ1), |w'|²)`; with a kinked `f` too, `A22` is the bivariate
//!   density at the pair of kinks.
//!
//! The jump of `g'` at a kink is read off as `g'(κ + h) − g'(κ − h)`, `h = 1e-9 (1 + |κ|)`
//! (exact for piecewise-linear activations). Cost: one 2-D quadrature of 15 components per pair
//! (plus 1-D ones at kinks): microseconds for polynomial pairs, `Σ n²` evaluations of `f`
//! (the orders `n ∈ 16..=128` tried, from the first that resolves the scale) on the fast rule,
//! milliseconds on the adaptive route. Quadrature that does not converge is an error.

use super::cross_closed::polynomial_cross_moments;
use super::cross_fast::fast_cross_moments;
use super::moments::{Gauss2, QUADRATURE_REL_TOL};
use super::ActivationFn;
use crate::gaussian::adaptive::{expect1, expect2_separable};
use crate::gaussian::Cov2;
use crate::{Error, Result};

const INV_SQRT_2PI: f64 = 0.398_942_280_401_432_7;

/// Below this `det Σ / (q1 q2)` (an angle of about 4e-8 rad) two rows are treated as parallel:
/// the nested 2-D quadrature would see an inner variance of rounding size, whose integrand can
/// be pure rounding noise (e.g. `f' = 1 + 2z` near its zero). `q1 q2 − c²` carries rounding of
/// a few `ε q1 q2` (rows of `Ni = 1`, `[a]` and `[b]`, give `fl(a²) fl(b²) ≠ fl(ab)²`), so the
/// threshold sits just above that level; treating such rows as parallel changes the moments by
/// `O(det/(q1 q2))` ≤ 2e-15 relative. (At 1e-20, rounding-level `det` of `Ni = 1` rows took the
/// nested route: relu students were off by up to 8.5e-8 of max |λ| against
/// `tools/reference/kinked_reference.py`.)
const PARALLEL_BELOW: f64 = 8.0 * f64::EPSILON;

/// The moments for parallel rows, `z2 = μ2 + ρ t1` (`ρ = c/q1`), or `z1 = μ1` constant
/// (`q1 = 0`): 1-D integrals. A kinked `g` is handled at its kinks as in the general case.
fn parallel_moments(
    g: &dyn ActivationFn,
    f: &dyn ActivationFn,
    gauss: Gauss2,
    features: &[f64],
    what: &str,
) -> Result<CrossMoments> {
    let (q1, q2, c) = (gauss.cov.q1, gauss.cov.q2, gauss.cov.c);
    let [mu1, mu2] = gauss.mean;
    let g_kinked = !g.kinks().is_empty();
    let mut m = CrossMoments::default();
    if q1 <= 0.0 {
        // z1 = μ1, t1 = 0; z2 ~ N(μ2, q2).
        let e = expect1(
            mu2,
            q2,
            features,
            QUADRATURE_REL_TOL,
            2,
            &|z: f64, o: &mut [f64]| o.copy_from_slice(&[f.derivative(0, z), f.derivative(1, z)]),
            what,
        )?;
        let (ef, efp) = (e.values[0], e.values[1]);
        let (g1, g2) = (g.derivative(1, mu1), g.derivative(2, mu1));
        if g_kinked && g.kinks().contains(&mu1) {
            return Err(Error::Invalid(format!(
                "{what}: a student unit with zero input weights sits exactly on a kink of its \
                 activation, where g'' is not defined"
            )));
        }
        let g2 = if g_kinked { 0.0 } else { g2 };
        m.a0 = g2 * ef;
        m.c2 = g2 * efp;
        m.b0 = g1 * ef;
        m.b2 = g1 * efp;
        return Ok(m);
    }
    let rho = c / q1;
    // Breakpoints in z1: g's features and f's seen through z2 = μ2 + ρ (z1 − μ1).
    let mut feats: Vec<f64> = features.to_vec();
    if rho != 0.0 {
        feats.extend(features.iter().map(|&k| mu1 + (k - mu2) / rho));
    }
    feats.retain(|v| v.is_finite());
    feats.sort_by(f64::total_cmp);
    feats.dedup();
    let e = expect1(
        mu1,
        q1,
        &feats,
        QUADRATURE_REL_TOL,
        8,
        &|z: f64, o: &mut [f64]| {
            let t = z - mu1;
            let dg = g.derivatives(z);
            let g2 = if g_kinked { 0.0 } else { dg[2] };
            let z2 = mu2 + rho * t;
            let (fv, fp) = (f.derivative(0, z2), f.derivative(1, z2));
            o.copy_from_slice(&[
                g2 * fv,
                g2 * fv * t,
                g2 * fv * t * t,
                g2 * fp,
                g2 * fp * t,
                dg[1] * fv,
                dg[1] * fv * t,
                dg[1] * fp,
            ]);
        },
        what,
    )?;
    let v = &e.values;
    m.b0 = v[5];
    m.b1 = v[6];
    m.b2 = v[7];
    if !g_kinked {
        m.a0 = v[0];
        m.c1 = v[1];
        m.a11 = v[2];
        m.c2 = v[3];
        m.a12 = v[4];
        return Ok(m);
    }
    for (k, jump) in kink_jumps(g) {
        let t1 = k - mu1;
        let weight = jump * normal_density(k, mu1, q1);
        let z2 = mu2 + rho * t1;
        let (ef, efp) = (f.derivative(0, z2), f.derivative(1, z2));
        m.a0 += weight * ef;
        m.c1 += weight * t1 * ef;
        m.a11 += weight * t1 * t1 * ef;
        m.c2 += weight * efp;
        m.a12 += weight * t1 * efp;
    }
    Ok(m)
}

/// The expectations of the module docs for one pair (student unit 1, other unit 2).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct CrossMoments {
    /// `E[g''(z1) f(z2)]`.
    pub a0: f64,
    /// `E[g''(z1) f(z2) t1²]`.
    pub a11: f64,
    /// `E[g''(z1) f'(z2) t1]`.
    pub a12: f64,
    /// `E[g''(z1) f''(z2)]` (0 when `w' = 0` exactly: its coefficient vanishes).
    pub a22: f64,
    /// `E[g'(z1) f(z2)]`.
    pub b0: f64,
    /// `E[g'(z1) f(z2) t1]`.
    pub b1: f64,
    /// `E[g'(z1) f'(z2)]`.
    pub b2: f64,
    /// `E[g''(z1) f(z2) t1]`.
    pub c1: f64,
    /// `E[g''(z1) f'(z2)]`.
    pub c2: f64,
}

impl CrossMoments {
    /// All components, for finiteness checks.
    pub fn components(&self) -> [f64; 9] {
        [
            self.a0, self.a11, self.a12, self.a22, self.b0, self.b1, self.b2, self.c1, self.c2,
        ]
    }
    /// The name of component `i` of [`CrossMoments::components`].
    pub fn component_name(i: usize) -> &'static str {
        [
            "E[g'' f]",
            "E[g'' f t1²]",
            "E[g'' f' t1]",
            "E[g'' f'']",
            "E[g' f]",
            "E[g' f t1]",
            "E[g' f']",
            "E[g'' f t1]",
            "E[g'' f']",
        ][i]
    }
}

/// `f ≡ 1`: the output bias's "unit" (`E[g''(z) x xᵀ]` and friends).
struct One;
impl ActivationFn for One {
    fn derivative(&self, order: usize, _x: f64) -> f64 {
        if order == 0 {
            1.0
        } else {
            0.0
        }
    }
    fn polynomial_coefficients(&self) -> Option<Vec<f64>> {
        Some(vec![1.0])
    }
}

/// The jumps `g'(κ+) − g'(κ−)` at the kinks of `g`.
pub fn kink_jumps(g: &dyn ActivationFn) -> Vec<(f64, f64)> {
    g.kinks()
        .iter()
        .map(|&k| {
            let h = 1e-9 * (1.0 + k.abs());
            (k, g.derivative(1, k + h) - g.derivative(1, k - h))
        })
        .collect()
}

fn normal_density(x: f64, mean: f64, var: f64) -> f64 {
    let d = x - mean;
    INV_SQRT_2PI / var.sqrt() * (-0.5 * d * d / var).exp()
}

/// The cross moments of the module docs for `z1 = s·x + μ1` (activation `g`) and
/// `z2 = w·x + μ2` (activation `f`), given as [`Gauss2`] (`q1 = |s|²`, `q2 = |w|²`, `c = s·w`).
///
/// Routes, in order: both polynomials ([`ActivationFn::polynomial_coefficients`]): exact Wick
/// sums (`cross_closed`); both smooth and the rows not parallel: checked tensor Gauss–Hermite
/// rules (`cross_fast`), when two consecutive rules agree to [`QUADRATURE_REL_TOL`] of each
/// component's `L¹` mass; otherwise (kinked activations, parallel rows, rules that disagree)
/// [`adaptive_cross_moments`].
pub fn cross_moments(
    g: &dyn ActivationFn,
    f: &dyn ActivationFn,
    gauss: Gauss2,
) -> Result<CrossMoments> {
    cross_moments_with_route(g, f, gauss).map(|(m, _)| m)
}

/// Which route [`cross_moments`] took.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CrossRoute {
    /// Exact Wick sums (both activations polynomials).
    Closed,
    /// Checked tensor Gauss–Hermite rules.
    Fast,
    /// [`adaptive_cross_moments`].
    Adaptive,
}

/// [`cross_moments`] and the route it took (for tests and benchmarks).
pub fn cross_moments_with_route(
    g: &dyn ActivationFn,
    f: &dyn ActivationFn,
    gauss: Gauss2,
) -> Result<(CrossMoments, CrossRoute)> {
    let Cov2 { q1, q2, c } = gauss.cov;
    if [q1, q2, c, gauss.mean[0], gauss.mean[1]]
        .iter()
        .all(|v| v.is_finite())
    {
        let parallel = (q1 * q2 - c * c).max(0.0) <= PARALLEL_BELOW * q1 * q2;
        if let (Some(gc), Some(fc)) = (g.polynomial_coefficients(), f.polynomial_coefficients()) {
            let m = polynomial_cross_moments(&gc, &fc, gauss, parallel);
            return Ok((m, CrossRoute::Closed));
        }
        if !parallel && g.kinks().is_empty() && f.kinks().is_empty() {
            if let Some(m) = fast_cross_moments(g, f, gauss) {
                return Ok((m, CrossRoute::Fast));
            }
        }
    }
    adaptive_cross_moments(g, f, gauss).map(|m| (m, CrossRoute::Adaptive))
}

/// [`cross_moments`] by nested adaptive Gauss–Kronrod quadrature (and 1-D integrals at kinks
/// and for parallel rows), whatever the activations: the general route, and the reference the
/// faster routes are tested against. Quadrature that does not converge is an error.
pub fn adaptive_cross_moments(
    g: &dyn ActivationFn,
    f: &dyn ActivationFn,
    gauss: Gauss2,
) -> Result<CrossMoments> {
    let q1 = gauss.cov.q1;
    let q2 = gauss.cov.q2;
    let c = gauss.cov.c;
    let [mu1, mu2] = gauss.mean;
    let what = format!(
        "cross moments E[g''(z1) f(z2) ...] (|s|² = {q1:e}, |w|² = {q2:e}, s·w = {c:e}, biases {mu1:e}, {mu2:e})"
    );
    if ![q1, q2, c, mu1, mu2].iter().all(|v| v.is_finite()) {
        return Err(Error::Numerical(format!("{what}: overflow")));
    }
    let g_kinked = !g.kinks().is_empty();
    let f_kinked = !f.kinks().is_empty();
    let mut features: Vec<f64> = g.kinks().iter().chain(f.kinks()).copied().collect();
    if !g_kinked || !f_kinked {
        features.push(0.0);
    }
    features.sort_by(f64::total_cmp);
    features.dedup();
    // |w'|² q1 = q1 q2 − c² (exactly 0 for identical or opposite rows).
    let det = (q1 * q2 - c * c).max(0.0);
    let mut m = CrossMoments::default();
    if det <= PARALLEL_BELOW * q1 * q2 {
        // Parallel rows (the unit with itself, copies): z2 is a function of z1 (or z1 is
        // constant), so every moment is a 1-D integral; A22's coefficient w'w'ᵀ vanishes.
        return parallel_moments(g, f, gauss, &features, &what);
    }
    if !g_kinked {
        let f1 = |z: f64, o: &mut [f64]| {
            let t = z - mu1;
            let d = g.derivatives(z);
            o.copy_from_slice(&[d[2], d[2] * t, d[2] * t * t, d[1], d[1] * t]);
        };
        let f2 = |z: f64, o: &mut [f64]| {
            let d = f.derivatives(z);
            o.copy_from_slice(&[d[0], d[1], if f_kinked { 0.0 } else { d[2] }]);
        };
        let r = expect2_separable(
            gauss.mean,
            q1,
            q2,
            c,
            &features,
            QUADRATURE_REL_TOL,
            5,
            &f1,
            3,
            &f2,
            &what,
        )?;
        let v = |a: usize, b: usize| r.values[a * 3 + b];
        m.a0 = v(0, 0);
        m.c1 = v(1, 0);
        m.a11 = v(2, 0);
        m.c2 = v(0, 1);
        m.a12 = v(1, 1);
        m.a22 = v(0, 2);
        m.b0 = v(3, 0);
        m.b1 = v(4, 0);
        m.b2 = v(3, 1);
        if f_kinked {
            m.a22 = 0.0;
            if det > 0.0 && q2 > 0.0 {
                // z1 | z2 = κ ~ N(μ1 + (c/q2)(κ − μ2), det/q2).
                let var = det / q2;
                for (k, jump) in kink_jumps(f) {
                    let mean = mu1 + c / q2 * (k - mu2);
                    let e = expect1(
                        mean,
                        var,
                        &features,
                        QUADRATURE_REL_TOL,
                        1,
                        &|z: f64, o: &mut [f64]| o[0] = g.derivative(2, z),
                        &what,
                    )?;
                    m.a22 += jump * normal_density(k, mu2, q2) * e.values[0];
                }
            }
        }
        return Ok(m);
    }
    // Kinked g: the regular part (g', g' t1) by 2-D quadrature, the g'' part at the kinks.
    let f1 = |z: f64, o: &mut [f64]| {
        let gp = g.derivative(1, z);
        o.copy_from_slice(&[gp, gp * (z - mu1)]);
    };
    let f2 = |z: f64, o: &mut [f64]| o.copy_from_slice(&[f.derivative(0, z), f.derivative(1, z)]);
    let r = expect2_separable(
        gauss.mean,
        q1,
        q2,
        c,
        &features,
        QUADRATURE_REL_TOL,
        2,
        &f1,
        2,
        &f2,
        &what,
    )?;
    m.b0 = r.values[0];
    m.b2 = r.values[1];
    m.b1 = r.values[2];
    if q1 <= 0.0 {
        // z1 = μ1 is constant: g'' vanishes unless μ1 sits on a kink, where it is undefined.
        if let Some(k) = g.kinks().iter().find(|&&k| k == mu1) {
            return Err(Error::Invalid(format!(
                "{what}: a student unit with zero input weights sits exactly on the kink {k} of \
                 its activation, where g'' is not defined"
            )));
        }
        return Ok(m);
    }
    let rho = c / q1;
    let var = det / q1;
    for (k, jump) in kink_jumps(g) {
        let t1 = k - mu1;
        let weight = jump * normal_density(k, mu1, q1);
        let mean = mu2 + rho * t1;
        let e = expect1(
            mean,
            var,
            &features,
            QUADRATURE_REL_TOL,
            3,
            &|z: f64, o: &mut [f64]| {
                let d = f.derivatives(z);
                o.copy_from_slice(&[d[0], d[1], if f_kinked { 0.0 } else { d[2] }]);
            },
            &what,
        )?;
        let [ef, efp, efpp] = [e.values[0], e.values[1], e.values[2]];
        m.a0 += weight * ef;
        m.c1 += weight * t1 * ef;
        m.a11 += weight * t1 * t1 * ef;
        m.c2 += weight * efp;
        m.a12 += weight * t1 * efp;
        if det > 0.0 {
            if f_kinked {
                // Both densities: φ_{z2 | z1 = κ}(κ').
                for (k2, jump2) in kink_jumps(f) {
                    m.a22 += weight * jump2 * normal_density(k2, mean, var);
                }
            } else {
                m.a22 += weight * efpp;
            }
        }
    }
    Ok(m)
}

/// The cross moments with `f ≡ 1` (the output-bias term) for `z = s·x + μ`, `|s|² = q`: only
/// `A0 = E[g'']`, `A11 = E[g'' t²]`, `B0 = E[g']`, `B1 = E[g' t]`, `C1 = E[g'' t]` are nonzero.
pub fn unit_cross_moments(g: &dyn ActivationFn, mean: f64, q: f64) -> Result<CrossMoments> {
    cross_moments(
        g,
        &One,
        Gauss2 {
            mean: [mean, 0.0],
            cov: Cov2 {
                q1: q,
                q2: 0.0,
                c: 0.0,
            },
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activation::{Erf, Quadratic, Relu, Tanh};
    use crate::gaussian::{bivariate_moment, Cov2};

    /// Quadratic g = x + ε x², f = polynomial: every moment is a Gaussian moment, exactly.
    #[test]
    fn quadratic_pairs_match_isserlis() {
        let (eps, eta) = (0.6, -0.4);
        let g = Quadratic { epsilon: eps };
        let f = Quadratic { epsilon: eta };
        let cov = Cov2 {
            q1: 0.8,
            q2: 1.3,
            c: 0.35,
        };
        let m = cross_moments(&g, &f, Gauss2::centred(cov)).unwrap();
        let e = |i, j| bivariate_moment(i, j, cov);
        // g'' = 2ε, g' = 1 + 2ε z1, f = z2 + η z2², f' = 1 + 2η z2, f'' = 2η; t1 = z1.
        let ef = e(0, 1) + eta * e(0, 2);
        let checks = [
            (m.a0, 2.0 * eps * ef),
            (m.a11, 2.0 * eps * (e(2, 1) + eta * e(2, 2))),
            (m.a12, 2.0 * eps * (e(1, 0) + 2.0 * eta * e(1, 1))),
            (m.a22, 4.0 * eps * eta),
            (m.b0, ef + 2.0 * eps * (e(1, 1) + eta * e(1, 2))),
            (
                m.b1,
                e(1, 1) + eta * e(1, 2) + 2.0 * eps * (e(2, 1) + eta * e(2, 2)),
            ),
            (
                m.b2,
                1.0 + 2.0 * eta * e(0, 1) + 2.0 * eps * (e(1, 0) + 2.0 * eta * e(1, 1)),
            ),
            (m.c1, 2.0 * eps * (e(1, 1) + eta * e(1, 2))),
            (m.c2, 2.0 * eps * (1.0 + 2.0 * eta * e(0, 1))),
        ];
        for (i, (got, want)) in checks.iter().enumerate() {
            assert!((got - want).abs() < 1e-12, "component {i}: {got} vs {want}");
        }
    }

    /// Kinked routes on independent units (`c = 0`), where the expectations factorise:
    /// `A22 = E[g''(z1)] E[δ(z2)]`, `A0 = E[g''] E[relu(z2)]` (closed form), and for a kinked
    /// student `A0 = E[δ(z1)] E[tanh(z2)]`.
    #[test]
    fn kinked_other_unit_factorises_when_independent() {
        let cov = Cov2 {
            q1: 0.7,
            q2: 1.4,
            c: 0.0,
        };
        let mean = [0.2, -0.3];
        let m = cross_moments(&Erf, &Relu, Gauss2 { mean, cov }).unwrap();
        let u = unit_cross_moments(&Erf, mean[0], cov.q1).unwrap();
        let dens0 = normal_density(0.0, mean[1], cov.q2);
        assert!(
            (m.a22 - u.a0 * dens0).abs() < 1e-12,
            "{} vs {}",
            m.a22,
            u.a0 * dens0
        );
        // E[relu(z2)] = μ Φ(μ/σ) + σ φ(μ/σ).
        let (mu, sd) = (mean[1], cov.q2.sqrt());
        let cdf = 0.5 * (1.0 + libm::erf(mu / sd / std::f64::consts::SQRT_2));
        let er = mu * cdf + sd * normal_density(mu / sd, 0.0, 1.0);
        assert!((m.a0 - u.a0 * er).abs() < 1e-12);
        // Kinked student, smooth other unit, independent: A0 = E[δ(z1)] E[f].
        let m = cross_moments(&Relu, &Tanh, Gauss2 { mean, cov }).unwrap();
        let d0 = normal_density(0.0, mean[0], cov.q1);
        let e_tanh = crate::activation::moments::quadrature_unit_moments(&Tanh, mean[1], cov.q2)
            .unwrap()
            .m0;
        assert!(
            (m.a0 - d0 * e_tanh).abs() < 1e-12,
            "{} vs {}",
            m.a0,
            d0 * e_tanh
        );
    }
}
