//! Gaussian expectations: bivariate moments, Gauss–Hermite rules and adaptive 2-D quadrature.
//!
//! The population Hessian needs expectations `E[f(z1) h(z2)]` of a centred bivariate normal
//! `(z1, z2)` with covariance `[[q1, c], [c, q2]]` ([`Cov2`]). Polynomials get exact moments
//! ([`bivariate_moment`]); other functions get tensor Gauss–Hermite quadrature whose order is
//! doubled until the result stops changing ([`expect2`]).

use std::sync::OnceLock;

pub mod adaptive;
mod wick;

pub use wick::{bivariate_moment, normal_moment, normal_moment_scaled};

/// Covariance `[[q1, c], [c, q2]]` of two centred jointly normal pre-activations
/// `z1 = u·x`, `z2 = v·x` with `x ~ N(0, I)`: `q1 = |u|²`, `q2 = |v|²`, `c = u·v`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Cov2 {
    /// Variance of `z1`.
    pub q1: f64,
    /// Variance of `z2`.
    pub q2: f64,
    /// Covariance of `z1` and `z2`.
    pub c: f64,
}

impl Cov2 {
    /// Covariance of `u·x` and `v·x` for `x ~ N(0, I)`.
    pub fn of(u: &[f64], v: &[f64]) -> Self {
        Cov2 {
            q1: dot(u, u),
            q2: dot(v, v),
            c: dot(u, v),
        }
    }
    /// The same pair with the roles of `z1` and `z2` exchanged.
    pub fn swapped(self) -> Self {
        Cov2 {
            q1: self.q2,
            q2: self.q1,
            c: self.c,
        }
    }
}

/// Dot product.
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// A Gauss–Hermite rule for the standard normal: `E[f(ξ)] ≈ Σ w_i f(x_i)`, exact for
/// polynomials of degree `< 2n`.
#[derive(Clone, Debug)]
pub struct HermiteRule {
    /// Nodes (probabilists' convention: for `ξ ~ N(0, 1)`).
    pub nodes: Vec<f64>,
    /// Weights, summing to one.
    pub weights: Vec<f64>,
}

impl HermiteRule {
    /// The `n`-point rule, computed by Newton iteration on the orthonormal Hermite recurrence
    /// (Numerical Recipes' `gauher`), then rescaled from `e^{-x²}` to the standard normal.
    pub fn new(n: usize) -> Self {
        assert!(n >= 1, "a Gauss-Hermite rule needs at least one node");
        let pim4 = std::f64::consts::PI.powf(-0.25);
        let mut x = vec![0.0; n];
        let mut w = vec![0.0; n];
        let m = n.div_ceil(2);
        let nf = n as f64;
        let mut z = 0.0f64;
        for i in 0..m {
            z = match i {
                0 => (2.0 * nf + 1.0).sqrt() - 1.85575 * (2.0 * nf + 1.0).powf(-1.0 / 6.0),
                1 => z - 1.14 * nf.powf(0.426) / z,
                2 => 1.86 * z - 0.86 * x[0],
                3 => 1.91 * z - 0.91 * x[1],
                _ => 2.0 * z - x[i - 2],
            };
            let mut pp = 0.0;
            for _ in 0..100 {
                let mut p1 = pim4;
                let mut p2 = 0.0;
                for j in 0..n {
                    let p3 = p2;
                    p2 = p1;
                    let jf = (j + 1) as f64;
                    p1 = z * (2.0 / jf).sqrt() * p2 - ((jf - 1.0) / jf).sqrt() * p3;
                }
                pp = (2.0 * nf).sqrt() * p2;
                let z1 = z;
                z = z1 - p1 / pp;
                if (z - z1).abs() <= 1e-15 * z.abs().max(1.0) {
                    break;
                }
            }
            x[i] = z;
            x[n - 1 - i] = -z;
            w[i] = 2.0 / (pp * pp);
            w[n - 1 - i] = w[i];
        }
        let norm = std::f64::consts::PI.sqrt();
        let nodes = x.iter().map(|v| v * std::f64::consts::SQRT_2).collect();
        let weights = w.iter().map(|v| v / norm).collect();
        HermiteRule { nodes, weights }
    }

    /// A cached rule with `n ∈ {8, 16, 24, 32, 48, 64, 96, 128, 192}` nodes (the Newton
    /// construction is accurate to about 1e-15 up to ~200 nodes; larger rules are not offered).
    pub fn cached(n: usize) -> &'static HermiteRule {
        const SIZES: [usize; 9] = [8, 16, 24, 32, 48, 64, 96, 128, 192];
        static RULES: [OnceLock<HermiteRule>; 9] = [const { OnceLock::new() }; 9];
        let idx = SIZES
            .iter()
            .position(|&s| s == n)
            .expect("cached rule sizes: 8, 16, 24, 32, 48, 64, 96, 128, 192");
        RULES[idx].get_or_init(|| HermiteRule::new(n))
    }
}

/// Outcome of an adaptive quadrature: the values and the estimated absolute error.
#[derive(Clone, Debug)]
pub struct Quadrature<const K: usize> {
    /// The expectations.
    pub values: [f64; K],
    /// `max_k |I_n,k − I_{n/2},k|` of the last refinement: an error estimate.
    pub error: f64,
    /// Nodes per dimension of the rule used.
    pub nodes: usize,
}

/// `E[f(z1, z2)]` (vector-valued, `K` components) for `(z1, z2) ~ N(0, cov)`, by tensor
/// Gauss–Hermite quadrature on the Cholesky factor, raising the order 16, 32, 64 nodes per
/// dimension until every component changes by less than `rel_tol · (1 + max|value|)`.
///
/// Gauss–Hermite converges only like `exp(-c·√n)` for integrands with complex poles near the real
/// axis (tanh: poles at `iπ/2`; 192² nodes leave errors of 1e-10 to 1e-6). When 64 nodes do not
/// converge, the rule switches to the trapezoid rule on `[-10, 10]²` in the standardised
/// variables with steps 0.2, 0.1, 0.05, 0.025, 0.0125 (error `~exp(-2π d / h)` for a strip of
/// analyticity of half-width `d`; the truncated Gaussian tails are below 1e-21).
pub fn expect2<const K: usize>(
    cov: Cov2,
    rel_tol: f64,
    f: impl Fn(f64, f64) -> [f64; K],
) -> Quadrature<K> {
    let s1 = cov.q1.max(0.0).sqrt();
    let (l21, l22) = if s1 > 0.0 {
        let l21 = cov.c / s1;
        (l21, (cov.q2 - l21 * l21).max(0.0).sqrt())
    } else {
        (0.0, cov.q2.max(0.0).sqrt())
    };
    let eval = |n: usize| -> [f64; K] {
        let rule = HermiteRule::cached(n);
        let mut acc = [0.0; K];
        for (x1, w1) in rule.nodes.iter().zip(&rule.weights) {
            let z1 = s1 * x1;
            let base = l21 * x1;
            for (x2, w2) in rule.nodes.iter().zip(&rule.weights) {
                let v = f(z1, base + l22 * x2);
                let w = w1 * w2;
                for k in 0..K {
                    acc[k] += w * v[k];
                }
            }
        }
        acc
    };
    // The trapezoid rule with step `h` on [-L, L]: nodes and weights for E over N(0, 1).
    let eval_trapezoid = |h: f64| -> [f64; K] {
        const L: f64 = 10.0;
        let half = (L / h).round() as i64;
        let rule: Vec<(f64, f64)> = (-half..=half)
            .map(|i| {
                let x = i as f64 * h;
                (
                    x,
                    h * (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt(),
                )
            })
            .collect();
        let mut acc = [0.0; K];
        for &(x1, w1) in &rule {
            let z1 = s1 * x1;
            let base = l21 * x1;
            for &(x2, w2) in &rule {
                let v = f(z1, base + l22 * x2);
                let w = w1 * w2;
                for k in 0..K {
                    acc[k] += w * v[k];
                }
            }
        }
        acc
    };
    const ORDERS: [usize; 3] = [16, 32, 64];
    let mut prev = eval(ORDERS[0]);
    let mut out = Quadrature {
        values: prev,
        error: f64::INFINITY,
        nodes: ORDERS[0],
    };
    for &n in &ORDERS[1..] {
        let next = eval(n);
        let scale = 1.0 + next.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let err = prev
            .iter()
            .zip(&next)
            .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
        out = Quadrature {
            values: next,
            error: err,
            nodes: n,
        };
        if err <= rel_tol * scale {
            return out;
        }
        prev = next;
    }
    // Gauss–Hermite did not converge: refine the trapezoid rule instead (nodes reports the
    // trapezoid nodes per dimension).
    let mut prev = eval_trapezoid(0.2);
    for h in [0.1, 0.05, 0.025, 0.0125] {
        let next = eval_trapezoid(h);
        let scale = 1.0 + next.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let err = prev
            .iter()
            .zip(&next)
            .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
        out = Quadrature {
            values: next,
            error: err,
            nodes: 2 * (10.0 / h).round() as usize + 1,
        };
        if err <= rel_tol * scale {
            break;
        }
        prev = next;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hermite_rule_integrates_moments_exactly() {
        for n in [8usize, 16, 64, 192] {
            let r = HermiteRule::new(n);
            for k in 0..(2 * n).min(24) {
                let approx: f64 = r
                    .nodes
                    .iter()
                    .zip(&r.weights)
                    .map(|(x, w)| w * x.powi(k as i32))
                    .sum();
                let exact = normal_moment(k);
                let scale = normal_moment(k + k % 2).max(1.0);
                assert!(
                    (approx - exact).abs() <= 1e-12 * scale,
                    "n={n} k={k}: {approx} vs {exact}"
                );
            }
        }
    }

    #[test]
    fn bivariate_moments_match_quadrature() {
        let cov = Cov2 {
            q1: 0.7,
            q2: 1.3,
            c: -0.4,
        };
        for i in 0..7 {
            for j in 0..7 {
                let q = expect2(cov, 1e-13, |a, b| [a.powi(i) * b.powi(j)]);
                let exact = bivariate_moment(i as usize, j as usize, cov);
                assert!(
                    (q.values[0] - exact).abs() < 1e-11 * (1.0 + exact.abs()),
                    "i={i} j={j}"
                );
            }
        }
    }

    #[test]
    fn degenerate_covariance_is_handled() {
        // z2 = z1 exactly: E[z1^2 z2^2] = E[z^4] = 3 q^2.
        let cov = Cov2 {
            q1: 0.5,
            q2: 0.5,
            c: 0.5,
        };
        assert!((bivariate_moment(2, 2, cov) - 0.75).abs() < 1e-15);
        let q = expect2(cov, 1e-13, |a, b| [a * a * b * b]);
        assert!((q.values[0] - 0.75).abs() < 1e-12);
    }
}
