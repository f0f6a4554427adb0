//! tanh's pair moments (the generic quadrature route, `ActivationFn::pair_moments`) against a 2-D
//! trapezoid rule written here, for covariances with variances up to 4.
//!
//! The trapezoid rule on `[-10, 10]²` in standard normal coordinates with step `h = 0.05` has
//! error `~exp(-2π d / h)` for an integrand analytic in a strip of half-width `d = π/(2√q_max)`
//! (tanh's poles at `iπ/2`): `exp(-98)` at `q = 4`, and truncation `φ(10) ≈ 8e-23`; so the
//! reference is exact to rounding (≈ 1e-15). Tolerance: `1e-11 · (1 + |K|)`. Gauss–Hermite at
//! 192 nodes misses this by up to ~1e-7 (the bug fixed in `gaussian::expect2`).

// Matrix code reads clearest with explicit indices.
#![allow(clippy::needless_range_loop)]

use nearopt::gaussian::Cov2;
use nearopt::Activation;

fn d(order: usize, x: f64) -> f64 {
    let t = x.tanh();
    let s = 1.0 - t * t;
    match order {
        0 => t,
        1 => s,
        2 => -2.0 * t * s,
        _ => (6.0 * t * t - 2.0) * s,
    }
}

/// `[K00, K11, K20, K02, K22, K31, K13]` by the trapezoid rule.
fn reference(cov: Cov2) -> [f64; 7] {
    let s1 = cov.q1.sqrt();
    let l21 = cov.c / s1;
    let l22 = (cov.q2 - l21 * l21).max(0.0).sqrt();
    let h = 0.05;
    let nodes: Vec<(f64, f64)> = (-200..=200)
        .map(|k| {
            let u = k as f64 * h;
            (
                u,
                h * (-0.5 * u * u).exp() / (2.0 * std::f64::consts::PI).sqrt(),
            )
        })
        .collect();
    let mut acc = [0.0; 7];
    for &(u, wu) in &nodes {
        let a = s1 * u;
        let ga = [d(0, a), d(1, a), d(2, a), d(3, a)];
        for &(v, wv) in &nodes {
            let b = l21 * u + l22 * v;
            let gb = [d(0, b), d(1, b), d(2, b), d(3, b)];
            let w = wu * wv;
            let p = [
                ga[0] * gb[0],
                ga[1] * gb[1],
                ga[2] * gb[0],
                ga[0] * gb[2],
                ga[2] * gb[2],
                ga[3] * gb[1],
                ga[1] * gb[3],
            ];
            for k in 0..7 {
                acc[k] += w * p[k];
            }
        }
    }
    acc
}

#[test]
fn tanh_pair_moments_are_accurate_to_1e11() {
    let g = Activation::Tanh.function();
    let covs = [
        (0.5, 0.7, 0.2),
        (1.0, 1.0, 1.0),
        (2.6, 1.9, 0.9),
        (4.0, 3.0, -2.5),
        (0.3, 4.0, 0.6),
        (3.5, 3.5, 3.4),
    ];
    for (q1, q2, c) in covs {
        let cov = Cov2 { q1, q2, c };
        let m = g.pair_moments(cov);
        let got = [m.k00, m.k11, m.k20, m.k02, m.k22, m.k31, m.k13];
        let want = reference(cov);
        for (i, (a, b)) in got.iter().zip(&want).enumerate() {
            assert!(
                (a - b).abs() < 1e-11 * (1.0 + b.abs()),
                "{cov:?} moment {i}: library {a} vs trapezoid {b} (diff {:.2e})",
                (a - b).abs()
            );
        }
    }
}
