//! A fast route for the cross moments of [`super::cross`] when both activations are smooth:
//! tensor Gauss–Hermite quadrature in the whitened coordinates, checked by a second rule.
//!
//! With `z1 = μ1 + s1 u`, `z2 = μ2 + l21 u + l22 v` (`u, v ~ N(0, 1)` independent, `[s1 0; l21
//! l22]` the Cholesky factor of the covariance), every moment is `E[G_a(u) F_b(u, v)]` with
//! `G = [g'', g'' t1, g'' t1², g', g' t1]` and `F = [f, f', f'']`; the tensor rule with `n` nodes
//! per dimension costs `n` evaluations of `g` and `n²` of `f`, and no allocation.
//!
//! Error control: the rules of [`ORDERS`] are applied in turn, from the first with at least
//! `n_min` nodes, and a result is accepted when two consecutive rules agree, for every
//! component `k`, to `QUADRATURE_REL_TOL · ∫|G_a F_b|` (the `L¹` mass, computed by the same
//! rule, so components that vanish by symmetry or cancel are held to the accuracy their terms
//! allow, as in [`crate::gaussian::adaptive`]). The difference of two consecutive rules
//! estimates the error of the coarser one; the finer one is returned. A fixed rule can be fooled
//! only by a feature narrower than its node spacing, which both rules then miss alike: smooth
//! activations vary on the unit scale of `z` around `z = 0` (the assumption the adaptive route
//! makes too), i.e. on the scale `1/√q` of the whitened coordinates at distance `|μ|/√q` from
//! the origin, so `n_min` is chosen to put nodes at spacing at most that scale there
//! (Gauss–Hermite nodes near `u` are spaced about `π/√(n − u²/4)`).
//!
//! Gauss–Hermite converges slowly for activations with poles near the real axis (tanh:
//! `iπ/2`; measured for tanh at `q ≈ 1`: 1e-7 of the mass at 64 nodes, 1e-11 at 128). When the
//! orders up to 48 disagree, trapezoid rules on `[−L, L]`, `L = 9 + 2·scale`, with steps
//! `h·scale = 0.25, 0.2, 0.14` are compared in turn: for a strip of analyticity of half-width
//! `d/scale` the error decays like `exp(−2π d/(h·scale))` (measured for tanh: 3e-13 at
//! `h·scale = 0.25`, 4e-14 at 0.2), and a uniform grid resolves features anywhere in the range.
//! If those disagree too, or the finest would need more than 400 nodes per dimension, the
//! caller falls back to adaptive quadrature (which reports non-convergence as
//! an error): this route never returns an unchecked number.

use super::cross::CrossMoments;
use super::moments::{Gauss2, QUADRATURE_REL_TOL};
use super::ActivationFn;
use crate::gaussian::HermiteRule;

/// The Gauss–Hermite orders tried, in turn.
pub(super) const ORDERS: [usize; 4] = [16, 24, 32, 48];

/// Largest distance `|μ|/√q` (in standard deviations) at which a feature is resolved: beyond it
/// the activation is analytic over the whole bulk of the Gaussian mass.
const FEATURE_OFFSET_MAX: f64 = 8.0;

/// The 15 products `E[G_a F_b]` (index `3a + b`) and their `L¹` masses under one rule.
struct Sums {
    values: [f64; 15],
    mass: [f64; 15],
}

/// The components of [`CrossMoments`] as indices `3a + b` of [`Sums`].
const USED: [usize; 9] = [0, 6, 4, 2, 9, 12, 10, 3, 1];

fn apply(
    g: &dyn ActivationFn,
    f: &dyn ActivationFn,
    gauss: Gauss2,
    chol: [f64; 3],
    n: usize,
) -> Sums {
    let rule = HermiteRule::cached(n);
    apply_rule(g, f, gauss, chol, &rule.nodes, &rule.weights)
}

/// The trapezoid rule with step `h` on `[−L, L]` for the standard normal.
fn apply_trapezoid(
    g: &dyn ActivationFn,
    f: &dyn ActivationFn,
    gauss: Gauss2,
    chol: [f64; 3],
    h: f64,
    half_width: f64,
) -> Sums {
    let half = (half_width / h).ceil() as i64;
    let nodes: Vec<f64> = (-half..=half).map(|i| i as f64 * h).collect();
    let weights: Vec<f64> = nodes
        .iter()
        .map(|&x| h * (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt())
        .collect();
    apply_rule(g, f, gauss, chol, &nodes, &weights)
}

/// The tensor rule `(nodes, weights)²` in the whitened coordinates.
fn apply_rule(
    g: &dyn ActivationFn,
    f: &dyn ActivationFn,
    gauss: Gauss2,
    chol: [f64; 3],
    nodes: &[f64],
    weights: &[f64],
) -> Sums {
    let [s1, l21, l22] = chol;
    let [mu1, mu2] = gauss.mean;
    let mut values = [0.0; 15];
    let mut mass = [0.0; 15];
    for (&x1, &w1) in nodes.iter().zip(weights) {
        let t = s1 * x1;
        let d = g.derivatives(mu1 + t);
        let ga = [d[2], d[2] * t, d[2] * t * t, d[1], d[1] * t];
        let base = mu2 + l21 * x1;
        let (mut fb, mut fabs) = ([0.0; 3], [0.0; 3]);
        for (&x2, &w2) in nodes.iter().zip(weights) {
            let e = f.derivatives(base + l22 * x2);
            for b in 0..3 {
                fb[b] += w2 * e[b];
                fabs[b] += w2 * e[b].abs();
            }
        }
        for a in 0..5 {
            for b in 0..3 {
                values[3 * a + b] += w1 * ga[a] * fb[b];
                mass[3 * a + b] += w1 * ga[a].abs() * fabs[b];
            }
        }
    }
    Sums { values, mass }
}

/// The fewest nodes that resolve the unit scale of `z1` and `z2` (module docs).
pub(super) fn min_order(gauss: Gauss2) -> f64 {
    let (q1, q2) = (gauss.cov.q1, gauss.cov.q2);
    let scale = q1.max(q2).sqrt();
    let offset = |mu: f64, q: f64| (mu.abs() / q.sqrt()).min(FEATURE_OFFSET_MAX);
    let off = offset(gauss.mean[0], q1).max(offset(gauss.mean[1], q2));
    let pi_scale = std::f64::consts::PI * scale;
    pi_scale * pi_scale + off * off / 4.0
}

/// The cross moments by the checked Gauss–Hermite rules, or `None` when they do not apply or
/// do not agree (then the caller uses the adaptive route). Both activations must be smooth and
/// the rows not parallel (`det Σ > 0`, `q1, q2 > 0`).
pub(super) fn fast_cross_moments(
    g: &dyn ActivationFn,
    f: &dyn ActivationFn,
    gauss: Gauss2,
) -> Option<CrossMoments> {
    let (q1, q2, c) = (gauss.cov.q1, gauss.cov.q2, gauss.cov.c);
    if !(q1 > 0.0 && q2 > 0.0) {
        return None;
    }
    let s1 = q1.sqrt();
    let l21 = c / s1;
    let l22 = (q2 - l21 * l21).max(0.0).sqrt();
    let chol = [s1, l21, l22];
    if !chol.iter().chain(&gauss.mean).all(|v| v.is_finite()) {
        return None;
    }
    let n_min = min_order(gauss);
    if let Some(start) = ORDERS.iter().position(|&n| n as f64 >= n_min) {
        let mut prev = apply(g, f, gauss, chol, ORDERS[start]);
        for &n in &ORDERS[start + 1..] {
            let next = apply(g, f, gauss, chol, n);
            if agree(&next, &prev) {
                return Some(moments_of(&next));
            }
            prev = next;
        }
    }
    // Poles near the real axis (tanh, sigmoid, ...): the trapezoid rule, whose error decays
    // like exp(−2π d / h) for a strip of analyticity of half-width d (π/2 in z for tanh), i.e.
    // d/scale in the whitened coordinates; its node spacing also resolves the unit scale.
    let scale = gauss.cov.q1.max(gauss.cov.q2).sqrt().max(0.25);
    let half_width = TRAPEZOID_HALF_WIDTH + 2.0 * scale;
    if 2.0 * half_width * scale / TRAPEZOID_STEPS[TRAPEZOID_STEPS.len() - 1] > TRAPEZOID_MAX_NODES {
        return None;
    }
    let mut prev = apply_trapezoid(g, f, gauss, chol, TRAPEZOID_STEPS[0] / scale, half_width);
    for &step in &TRAPEZOID_STEPS[1..] {
        let next = apply_trapezoid(g, f, gauss, chol, step / scale, half_width);
        if agree(&next, &prev) {
            return Some(moments_of(&next));
        }
        prev = next;
    }
    None
}

/// Steps `h · scale` of the trapezoid rules tried in turn (measured for tanh: about 3e-13 of
/// the mass at 0.25, 1e-11 at 0.28; the asymptotic rate `exp(−2π (π/2) / 0.25)` ≈ 7e-18).
const TRAPEZOID_STEPS: [f64; 3] = [0.25, 0.2, 0.14];
/// Half-width `L − 2·scale` of the trapezoid range: `φ(9) ≈ 1e-18`, and `2·scale` more for the
/// exponential tilt of derivatives decaying like `e^{−2|z|}` (tanh's `sech²`).
const TRAPEZOID_HALF_WIDTH: f64 = 9.0;
/// Most trapezoid nodes per dimension (at the finest step) before the adaptive route is the
/// cheaper one.
const TRAPEZOID_MAX_NODES: f64 = 400.0;

/// Whether two rules agree on every used component to the tolerance of its `L¹` mass.
fn agree(next: &Sums, prev: &Sums) -> bool {
    USED.iter().all(|&k| {
        let (v, m) = (next.values[k], next.mass[k]);
        v.is_finite() && m.is_finite() && (v - prev.values[k]).abs() <= QUADRATURE_REL_TOL * m
    })
}

/// The [`CrossMoments`] of the sums `E[G_a F_b]` (index `3a + b`).
fn moments_of(s: &Sums) -> CrossMoments {
    let v = &s.values;
    CrossMoments {
        a0: v[0],
        a11: v[6],
        a12: v[4],
        a22: v[2],
        b0: v[9],
        b1: v[12],
        b2: v[10],
        c1: v[3],
        c2: v[1],
    }
}
