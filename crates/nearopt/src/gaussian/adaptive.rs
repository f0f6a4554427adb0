//! Adaptive Gauss–Kronrod quadrature of Gaussian expectations, 1-D and nested 2-D, with an error
//! estimate that sharp integrands cannot fool.
//!
//! Pre-activations are written in standard coordinates, `z1 = μ1 + s1 u`,
//! `z2 = μ2 + l21 u + l22 v` (`u, v ~ N(0, 1)` independent, `[s1 0; l21 l22]` the Cholesky factor
//! of the covariance). The integral over `u ∈ [−L, L]` (and, for each outer node, over `v`) is
//! computed by globally adaptive bisection with the 15-point Kronrod rule and its embedded
//! 7-point Gauss rule (QUADPACK's `qk15`): on each interval the error estimate is QUADPACK's
//! scaling of `|K15 − G7|` per component, and the worst interval is bisected until, for every component `k`,
//! `Σ err_k ≤ rel_tol · ∫|f_k|` (the `L¹` mass, so components that cancel to small values are
//! held to the accuracy their terms allow).
//!
//! What keeps the estimate honest is where the intervals start. An activation varies on the unit
//! scale of `z` near its features (its kinks; `z = 0` for smooth ones), i.e. on the scale `1/s1`
//! in `u`: with `|w| = 10³` tanh is a step of width `10⁻³`, which a fixed rule on `[−L, L]` never
//! sees (both rules agree on a wrong value; the bug of issue 8). The initial breakpoints are
//! therefore placed at every feature `u* = (f − μ1)/s1` and at `u* ± {1, 4, 16}/s1`, and the
//! same for the features of `z2` seen through the inner integral (scale `max(1, l22)/|l21|` in
//! `u`) and in `v` (scale `1/l22`). Every interval then contains either a feature region at a
//! resolved scale or a part where the integrand is smooth on the scale of the interval, which is
//! the situation in which `|K15 − G7|` bounds the error. Kinks sit exactly on breakpoints, so
//! the rule only ever sees smooth pieces. Quadrature that does not converge within
//! [`MAX_INTERVALS`] intervals is an error, never a silently wrong number.
//!
//! Truncation: `[−L, L]` with `L = 12`; the Gaussian mass outside is `2Φ(−12) ≈ 4e-33`, times at
//! most a polynomial in `L` for the activations offered.

use crate::{Error, Result};

/// Half-width of the integration range in standard coordinates.
pub const L: f64 = 12.0;
/// Most intervals one adaptive 1-D integral may use before it gives up.
pub const MAX_INTERVALS: usize = 2000;
/// Breakpoint offsets around a feature, in units of the feature's width.
const OFFSETS: [f64; 7] = [-16.0, -4.0, -1.0, 0.0, 1.0, 4.0, 16.0];

/// Kronrod nodes (positive half, descending, last = 0) of QUADPACK's `qk15`.
const XGK: [f64; 8] = [
    0.991_455_371_120_812_6,
    0.949_107_912_342_758_5,
    0.864_864_423_359_769_1,
    0.741_531_185_599_394_4,
    0.586_087_235_467_691_1,
    0.405_845_151_377_397_2,
    0.207_784_955_007_898_5,
    0.0,
];
/// Kronrod weights.
const WGK: [f64; 8] = [
    0.022_935_322_010_529_22,
    0.063_092_092_629_978_55,
    0.104_790_010_322_250_18,
    0.140_653_259_715_525_92,
    0.169_004_726_639_267_9,
    0.190_350_578_064_785_4,
    0.204_432_940_075_298_9,
    0.209_482_141_084_727_83,
];
/// Gauss weights of the nodes `XGK[1], XGK[3], XGK[5], XGK[7]`.
const WG: [f64; 4] = [
    0.129_484_966_168_869_7,
    0.279_705_391_489_276_7,
    0.381_830_050_505_118_9,
    0.417_959_183_673_469_4,
];

const INV_SQRT_2PI: f64 = 0.398_942_280_401_432_7;

fn phi(u: f64) -> f64 {
    INV_SQRT_2PI * (-0.5 * u * u).exp()
}

/// The outcome of an adaptive integral: per component value, error estimate and `L¹` mass.
#[derive(Clone, Debug)]
pub struct Adaptive {
    /// `∫ f_k`.
    pub values: Vec<f64>,
    /// `Σ |K15 − G7|` over the final intervals (plus any propagated inner error).
    pub errors: Vec<f64>,
    /// `∫ |f_k|` (the scale the tolerance is relative to).
    pub mass: Vec<f64>,
    /// Intervals used.
    pub intervals: usize,
}

struct Piece {
    a: f64,
    b: f64,
    val: Vec<f64>,
    err: Vec<f64>,
    abs: Vec<f64>,
}

/// One `qk15` application on `[a, b]`; `f(x, out_value, out_extra_error)`.
fn qk15(f: &mut Integrand<'_>, k: usize, a: f64, b: f64) -> Piece {
    let c = 0.5 * (a + b);
    let h = 0.5 * (b - a);
    let mut val = vec![0.0; k];
    let mut gauss = vec![0.0; k];
    let mut err = vec![0.0; k];
    let mut abs = vec![0.0; k];
    // The 15 integrand values (node-major), kept for QUADPACK's `resasc`.
    let mut fv = vec![0.0; 15 * k];
    let mut fe = vec![0.0; k];
    let mut fm = vec![0.0; k];
    let mut weights = [0.0; 15];
    let mut n = 0;
    for (j, (&x, &wk)) in XGK.iter().zip(&WGK).enumerate() {
        let wg = if j % 2 == 1 { WG[j / 2] } else { 0.0 };
        let signs: &[f64] = if x == 0.0 { &[0.0] } else { &[-1.0, 1.0] };
        for &sgn in signs {
            let row = &mut fv[n * k..(n + 1) * k];
            fe.iter_mut().for_each(|v| *v = 0.0);
            fm.iter_mut().for_each(|v| *v = f64::NAN);
            f(c + sgn * h * x, row, &mut fe, &mut fm);
            for i in 0..k {
                val[i] += wk * row[i];
                gauss[i] += wg * row[i];
                // The integrand's own |f| unless it reports a larger mass (an inner integral
                // reports ∫|f|, not |∫f|).
                abs[i] += wk * if fm[i].is_nan() { row[i].abs() } else { fm[i] };
                err[i] += wk * fe[i];
            }
            weights[n] = wk;
            n += 1;
        }
    }
    for i in 0..k {
        // QUADPACK's qk15 estimate: |K − G| scaled by resasc = ∫|f − mean f|, never below
        // 50 ε ∫|f| (rounding); plus the propagated error of an inner integral.
        let mean = 0.5 * val[i];
        let resasc: f64 = (0..15)
            .map(|j| weights[j] * (fv[j * k + i] - mean).abs())
            .sum::<f64>()
            * h;
        let mut e = ((val[i] - gauss[i]) * h).abs();
        if resasc != 0.0 && e != 0.0 {
            e = resasc * (200.0 * e / resasc).powf(1.5).min(1.0);
        }
        e = e.max(50.0 * f64::EPSILON * abs[i] * h);
        val[i] *= h;
        abs[i] *= h;
        err[i] = err[i] * h + e;
    }
    Piece {
        a,
        b,
        val,
        err,
        abs,
    }
}

/// An integrand `f(x, value, extra_error, mass)`: writes the `k` values, an error bound of each
/// (e.g. of an inner integral; left zero when exact) and optionally its `L¹` mass (left NaN:
/// `|value|`).
pub type Integrand<'a> = dyn FnMut(f64, &mut [f64], &mut [f64], &mut [f64]) + 'a;

/// `∫_{breaks[0]}^{breaks[last]} f` for a `k`-component integrand, adaptive (see module docs). `breaks` must be sorted with at least two entries.
pub fn integrate(
    f: &mut Integrand<'_>,
    k: usize,
    breaks: &[f64],
    rel_tol: f64,
    what: &str,
) -> Result<Adaptive> {
    let mut pieces: Vec<Piece> = breaks
        .windows(2)
        .filter(|w| w[1] > w[0])
        .map(|w| qk15(f, k, w[0], w[1]))
        .collect();
    loop {
        let mut tot_err = vec![0.0; k];
        let mut tot_abs = vec![0.0; k];
        for p in &pieces {
            for i in 0..k {
                tot_err[i] += p.err[i];
                tot_abs[i] += p.abs[i];
            }
        }
        if let Some(i) = (0..k).find(|&i| !(tot_err[i].is_finite() && tot_abs[i].is_finite())) {
            return Err(Error::Numerical(format!(
                "{what}: the integrand of component {i} is not finite (overflow)"
            )));
        }
        let ok = (0..k).all(|i| tot_err[i] <= rel_tol * tot_abs[i] + f64::MIN_POSITIVE);
        if ok {
            let mut values = vec![0.0; k];
            for p in &pieces {
                for (v, pv) in values.iter_mut().zip(&p.val) {
                    *v += pv;
                }
            }
            return Ok(Adaptive {
                values,
                errors: tot_err,
                mass: tot_abs,
                intervals: pieces.len(),
            });
        }
        if pieces.len() >= MAX_INTERVALS {
            let (i, rel) = (0..k)
                .map(|i| (i, tot_err[i] / tot_abs[i].max(f64::MIN_POSITIVE)))
                .fold((0, 0.0), |m, x| if x.1 > m.1 { x } else { m });
            return Err(Error::Numerical(format!(
                "{what}: adaptive quadrature did not reach the relative accuracy {rel_tol:.0e} \
                 within {MAX_INTERVALS} intervals (component {i}: estimated error {rel:.1e} of its mass)"
            )));
        }
        // Bisect the interval contributing most to the worst relative error.
        let worst = (0..pieces.len())
            .max_by(|&x, &y| {
                let score = |p: &Piece| {
                    (0..k)
                        .map(|i| p.err[i] / (tot_abs[i] + f64::MIN_POSITIVE))
                        .fold(0.0f64, f64::max)
                };
                score(&pieces[x]).total_cmp(&score(&pieces[y]))
            })
            .expect("at least one interval");
        let p = pieces.swap_remove(worst);
        let mid = 0.5 * (p.a + p.b);
        if !(mid > p.a && mid < p.b) {
            return Err(Error::Numerical(format!(
                "{what}: adaptive quadrature cannot subdivide [{}, {}] further",
                p.a, p.b
            )));
        }
        pieces.push(qk15(f, k, p.a, mid));
        pieces.push(qk15(f, k, mid, p.b));
    }
}

/// Sorted breakpoints in `[−L, L]`: the ends, the Gaussian's own scale (`0, ±2, ±5`), and
/// `centre_f ± OFFSETS · width` for each feature centre `(centre, width)`.
pub fn breakpoints(features: &[(f64, f64)]) -> Vec<f64> {
    let mut b = vec![-L, -5.0, -2.0, 0.0, 2.0, 5.0, L];
    for &(c, w) in features {
        if !(c.is_finite() && w.is_finite() && w > 0.0) {
            continue;
        }
        for o in OFFSETS {
            let x = c + o * w;
            if x > -L && x < L {
                b.push(x);
            }
        }
    }
    b.sort_by(f64::total_cmp);
    b.dedup_by(|x, y| (*x - *y).abs() <= 1e-14 * L);
    b
}

/// `E[f(z)]` for `z ~ N(mean, var)`, `f` with `k` components; `features` are the points of `z`
/// where `f` changes on the unit scale (kinks, or 0 for smooth activations).
pub fn expect1(
    mean: f64,
    var: f64,
    features: &[f64],
    rel_tol: f64,
    k: usize,
    f: &dyn Fn(f64, &mut [f64]),
    what: &str,
) -> Result<Adaptive> {
    let s = var.max(0.0).sqrt();
    if !(s.is_finite() && mean.is_finite()) {
        return Err(Error::Numerical(format!(
            "{what}: the pre-activation's mean {mean:e} or variance {var:e} overflows"
        )));
    }
    if s == 0.0 {
        let mut v = vec![0.0; k];
        f(mean, &mut v);
        return Ok(Adaptive {
            mass: v.iter().map(|x| x.abs()).collect(),
            errors: vec![0.0; k],
            values: v,
            intervals: 0,
        });
    }
    let feats: Vec<(f64, f64)> = features
        .iter()
        .map(|&c| ((c - mean) / s, 1.0 / s))
        .collect();
    let mut g = |u: f64, out: &mut [f64], _e: &mut [f64], _m: &mut [f64]| {
        f(mean + s * u, out);
        let w = phi(u);
        out.iter_mut().for_each(|v| *v *= w);
    };
    integrate(&mut g, k, &breakpoints(&feats), rel_tol, what)
}

/// `E[f1_a(z1) f2_b(z2)]` for all `a < A`, `b < B` (row-major `A × B` in the result), with
/// `(z1, z2)` jointly normal: means `mean`, variances `q1, q2`, covariance `c`. Nested adaptive
/// quadrature (module docs): the inner integral over `v` for each outer node `u` carries its
/// error estimate into the outer one.
#[allow(clippy::too_many_arguments)]
pub fn expect2_separable(
    mean: [f64; 2],
    q1: f64,
    q2: f64,
    c: f64,
    features: &[f64],
    rel_tol: f64,
    na: usize,
    f1: &dyn Fn(f64, &mut [f64]),
    nb: usize,
    f2: &dyn Fn(f64, &mut [f64]),
    what: &str,
) -> Result<Adaptive> {
    let s1 = q1.max(0.0).sqrt();
    let (l21, l22) = if s1 > 0.0 {
        let l21 = c / s1;
        (l21, (q2 - l21 * l21).max(0.0).sqrt())
    } else {
        (0.0, q2.max(0.0).sqrt())
    };
    if ![s1, l21, l22, mean[0], mean[1]]
        .iter()
        .all(|v| v.is_finite())
    {
        return Err(Error::Numerical(format!(
            "{what}: the covariance of the pre-activations (|w|² = {q1:e}, {q2:e}, w·w' = {c:e}) \
             or their means overflow"
        )));
    }
    // Outer breakpoints: z1's features at scale 1/s1, z2's (through l21 u) at max(1, l22)/|l21|.
    let mut outer_feats = Vec::new();
    for &f in features {
        if s1 > 0.0 {
            outer_feats.push(((f - mean[0]) / s1, 1.0 / s1));
        }
        if l21 != 0.0 {
            outer_feats.push(((f - mean[1]) / l21, l22.max(1.0) / l21.abs()));
        }
    }
    let outer_breaks = breakpoints(&outer_feats);
    let nab = na * nb;
    let mut inner_err: Option<Error> = None;
    let mut outer = |u: f64, out: &mut [f64], err: &mut [f64], mass: &mut [f64]| {
        if inner_err.is_some() {
            return;
        }
        let mut a_vals = vec![0.0; na];
        f1(mean[0] + s1 * u, &mut a_vals);
        let centre = mean[1] + l21 * u;
        let (h, herr, hmass) = if l22 == 0.0 {
            let mut v = vec![0.0; nb];
            f2(centre, &mut v);
            let m = v.iter().map(|x| x.abs()).collect();
            (v, vec![0.0; nb], m)
        } else {
            let feats: Vec<(f64, f64)> = features
                .iter()
                .map(|&f| ((f - centre) / l22, 1.0 / l22))
                .collect();
            let mut g = |v: f64, o: &mut [f64], _e: &mut [f64], _m: &mut [f64]| {
                f2(centre + l22 * v, o);
                let w = phi(v);
                o.iter_mut().for_each(|x| *x *= w);
            };
            // The inner integrals are held to a quarter of the tolerance: their error enters
            // the outer estimate.
            match integrate(&mut g, nb, &breakpoints(&feats), 0.25 * rel_tol, what) {
                Ok(r) => (r.values, r.errors, r.mass),
                Err(e) => {
                    inner_err = Some(e);
                    return;
                }
            }
        };
        let w = phi(u);
        for a in 0..na {
            for b in 0..nb {
                out[a * nb + b] = w * a_vals[a] * h[b];
                err[a * nb + b] = w * a_vals[a].abs() * herr[b];
                mass[a * nb + b] = w * a_vals[a].abs() * hmass[b];
            }
        }
    };
    let r = integrate(&mut outer, nab, &outer_breaks, rel_tol, what);
    if let Some(e) = inner_err {
        return Err(e);
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gaussian::{bivariate_moment, Cov2};

    #[test]
    fn polynomial_moments_are_exact() {
        let (q1, q2, c) = (0.7, 1.3, -0.4);
        let f = |z: f64, o: &mut [f64]| {
            for (i, v) in o.iter_mut().enumerate() {
                *v = z.powi(i as i32);
            }
        };
        let r =
            expect2_separable([0.0, 0.0], q1, q2, c, &[0.0], 1e-12, 6, &f, 6, &f, "test").unwrap();
        for i in 0..6 {
            for j in 0..6 {
                let exact = bivariate_moment(i, j, Cov2 { q1, q2, c });
                let got = r.values[i * 6 + j];
                assert!((got - exact).abs() < 1e-13 * (1.0 + exact.abs()), "{i},{j}");
            }
        }
    }

    /// A step of width 1e-4 at z = 0.3 under a variance of 1e6: E[tanh((z − 0.3)·1e4)] for
    /// z ~ N(0, 1e6) against the closed form 1 − 2Φ((0.3 − 0)/1e3) (the step is sharp enough
    /// that its width changes the answer by below 1e-12).
    #[test]
    fn sharp_features_are_resolved() {
        let s = 1e3;
        let f = |z: f64, o: &mut [f64]| o[0] = ((z - 0.3) * 1e4).tanh();
        let r = expect1(0.0, s * s, &[0.3], 1e-12, 1, &f, "step").unwrap();
        let phi_c = 0.5 * (1.0 + libm::erf(0.3 / s / std::f64::consts::SQRT_2));
        let exact = 1.0 - 2.0 * phi_c;
        assert!(
            (r.values[0] - exact).abs() < 1e-12,
            "{} vs {exact}",
            r.values[0]
        );
        // Without the feature the same rule is fooled (both rules see a constant on [0, 2]):
        // this is why the breakpoints exist, and what the test above would catch.
        match expect1(0.0, s * s, &[], 1e-12, 1, &f, "step") {
            Ok(r) => assert!((r.values[0] - exact).abs() > 1e-6, "{}", r.values[0]),
            Err(e) => assert!(e.to_string().contains("step")),
        }
    }

    #[test]
    fn overflow_is_an_error() {
        let f = |z: f64, o: &mut [f64]| o[0] = z;
        let e = expect2_separable(
            [0.0, 0.0],
            f64::INFINITY,
            1.0,
            0.0,
            &[0.0],
            1e-12,
            1,
            &f,
            1,
            &f,
            "K00",
        )
        .unwrap_err();
        assert!(e.to_string().contains("overflow"), "{e}");
    }
}
