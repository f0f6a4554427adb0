//! The Hessian as the second derivative of a loss coded independently here, by central finite
//! differences.
//!
//! 1. At the optimum: the population loss `L(θ) = ½ E[(y_s − y_t)²]` is written from pair
//!    expectations `E[g(z1) g(z2)]`, `(z1, z2) ~ N(0, [[q1, c], [c, q2]])`, computed in this file:
//!    erf by the arcsine formula `(2/π) asin(c / √((1+q1)(1+q2)))`, polynomials by Isserlis'
//!    theorem (`E[z1^i z2^j] = Σ_k C(i,k) C(j,k) k! c^k (i−k−1)!! q1^((i−k)/2) (j−k−1)!! q2^((j−k)/2)`),
//!    tanh by a 2-D trapezoid rule. `∂²L/∂θ_i∂θ_j` by the four-point central difference `D(h)` (`2h` on the diagonal),
//!    Richardson-extrapolated `(4 D(h/2) − D(h))/3` with `h = 4e-3`: truncation error
//!    `O(h⁴ max|∂⁶L|)` ≈ 1e-9 relative for these O(1) networks, rounding error
//!    `≈ 10 ε |L-terms| / h²` ≈ 1e-10; the tolerance is `1e-8 · (1 + max|H|)`, and the worst error
//!    is printed.
//! 2. Away from the optimum: `sampled_hessian` (Eqs. 3–5, functional term included) against
//!    finite differences of the sampled loss `½ (1/n) Σ (y_s(x_i) − y_t(x_i))²` on the same inputs,
//!    with network outputs computed here. Step `h = 1e-4`: truncation ≈ 1e-8, rounding
//!    ≈ 1e-16 · L / h² ≈ 1e-8; tolerance `2e-7 · (1 + max|H|)`.

// Matrix code reads clearest with explicit indices.
#![allow(clippy::needless_range_loop)]

use nearopt::hessian::sampled::{gaussian_inputs, sampled_hessian};
use nearopt::teacher::{sample_teacher, WeightDistribution};
use nearopt::{Activation, Network, PopulationHessian};
use std::f64::consts::PI;

/// `g(x)` written here (statrs' erf for the error function).
fn g(act: &Activation, x: f64) -> f64 {
    match act {
        Activation::Linear => x,
        Activation::Quadratic { epsilon } => x + epsilon * x * x,
        Activation::Polynomial { coefficients } => {
            coefficients.iter().rev().fold(0.0, |acc, c| acc * x + c)
        }
        Activation::Erf => statrs::function::erf::erf(x / 2f64.sqrt()),
        Activation::Tanh => x.tanh(),
        Activation::Relu => x.max(0.0),
        Activation::LeakyRelu { slope } => x.max(0.0) + slope * x.min(0.0),
        Activation::Gelu => 0.5 * x * (1.0 + libm::erf(x / 2f64.sqrt())),
        Activation::Silu => x / (1.0 + (-x).exp()),
        Activation::Softplus => (1.0 + x.exp()).ln(),
        Activation::Sigmoid => 1.0 / (1.0 + (-x).exp()),
        other => panic!("no independent form of {other:?}"),
    }
}

fn coefficients(act: &Activation) -> Option<Vec<f64>> {
    match act {
        Activation::Linear => Some(vec![0.0, 1.0]),
        Activation::Quadratic { epsilon } => Some(vec![0.0, 1.0, *epsilon]),
        Activation::Polynomial { coefficients } => Some(coefficients.clone()),
        _ => None,
    }
}

fn double_factorial_odd(n: i64) -> f64 {
    // (n)!! for odd n ≥ -1; (−1)!! = 1.
    let mut r = 1.0;
    let mut k = n;
    while k > 1 {
        r *= k as f64;
        k -= 2;
    }
    r
}

fn binom(n: usize, k: usize) -> f64 {
    (0..k).fold(1.0, |acc, i| acc * (n - i) as f64 / (i + 1) as f64)
}

/// `E[z1^i z2^j]` by Isserlis' theorem: pair `k` of the z1's with z2's, the rest among themselves.
fn isserlis(i: usize, j: usize, q1: f64, q2: f64, c: f64) -> f64 {
    let mut s = 0.0;
    for k in 0..=i.min(j) {
        if (i - k) % 2 == 1 || (j - k) % 2 == 1 {
            continue;
        }
        let fact: f64 = (1..=k).map(|x| x as f64).product();
        s += binom(i, k)
            * binom(j, k)
            * fact
            * c.powi(k as i32)
            * double_factorial_odd((i - k) as i64 - 1)
            * q1.powi(((i - k) / 2) as i32)
            * double_factorial_odd((j - k) as i64 - 1)
            * q2.powi(((j - k) / 2) as i32);
    }
    s
}

/// `E[g(z1) g(z2)]` for `(z1, z2) ~ N(0, [[q1, c], [c, q2]])`.
fn pair(act: &Activation, q1: f64, q2: f64, c: f64) -> f64 {
    if let Some(cs) = coefficients(act) {
        let mut s = 0.0;
        for (i, a) in cs.iter().enumerate() {
            for (j, b) in cs.iter().enumerate() {
                s += a * b * isserlis(i, j, q1, q2, c);
            }
        }
        return s;
    }
    match act {
        Activation::Erf => 2.0 / PI * (c / ((1.0 + q1) * (1.0 + q2)).sqrt()).asin(),
        // Cho & Saul's first-order arc-cosine kernel: √(q1 q2)/2π (sin θ + (π − θ) cos θ).
        Activation::Relu => relu_pair(q1, q2, c),
        // (1−s) relu + s x: E[relu(z1) z2] = c/2.
        Activation::LeakyRelu { slope } => {
            let r = 1.0 - slope;
            r * r * relu_pair(q1, q2, c) + r * slope * c + slope * slope * c
        }
        _ => {
            // Trapezoid rule on [-9, 9]² in standard normal coordinates (z1 = s1 u,
            // z2 = l21 u + l22 v): exponentially accurate for this analytic integrand.
            let s1 = q1.sqrt();
            let l21 = if s1 > 0.0 { c / s1 } else { 0.0 };
            let l22 = (q2 - l21 * l21).max(0.0).sqrt();
            let h = 0.15;
            let nodes: Vec<(f64, f64)> = (-60..=60)
                .map(|k| {
                    let u = k as f64 * h;
                    (u, h * (-0.5 * u * u).exp() / (2.0 * PI).sqrt())
                })
                .collect();
            let mut s = 0.0;
            for &(u, wu) in &nodes {
                let a = g(act, s1 * u);
                let mut inner = 0.0;
                for &(v, wv) in &nodes {
                    inner += wv * g(act, l21 * u + l22 * v);
                }
                s += wu * a * inner;
            }
            s
        }
    }
}

fn relu_pair(q1: f64, q2: f64, c: f64) -> f64 {
    let n = (q1 * q2).sqrt();
    let cos = (c / n).clamp(-1.0, 1.0);
    let theta = cos.acos();
    n / (2.0 * PI) * (theta.sin() + (PI - theta) * cos)
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// `½ E[(y_s − y_t)²]` without the constant teacher–teacher term (it does not depend on θ).
fn population_loss(
    act: &Activation,
    ni: usize,
    nh: usize,
    theta: &[f64],
    teacher: &Network,
) -> f64 {
    let w = |m: usize| &theta[m * ni..(m + 1) * ni];
    let a = &theta[nh * ni..];
    let mut ss = 0.0;
    let mut st = 0.0;
    for k in 0..nh {
        for j in 0..nh {
            ss += a[k] * a[j] * pair(act, dot(w(k), w(k)), dot(w(j), w(j)), dot(w(k), w(j)));
            let v = teacher.w1_row(j);
            st += a[k] * teacher.w2()[j] * pair(act, dot(w(k), w(k)), dot(v, v), dot(w(k), v));
        }
    }
    0.5 * ss - st
}

/// Central second differences of `f` at `theta` (step `h`; `2h` one-sided pair on the diagonal).
fn fd_hessian(theta: &[f64], h: f64, f: &dyn Fn(&[f64]) -> f64) -> Vec<f64> {
    let d = theta.len();
    let mut out = vec![0.0; d * d];
    let at = |di: &[(usize, f64)]| {
        let mut t = theta.to_vec();
        for &(i, s) in di {
            t[i] += s;
        }
        f(&t)
    };
    let f0 = f(theta);
    for i in 0..d {
        let v = (at(&[(i, 2.0 * h)]) - 2.0 * f0 + at(&[(i, -2.0 * h)])) / (4.0 * h * h);
        out[i * d + i] = v;
        for j in (i + 1)..d {
            let v = (at(&[(i, h), (j, h)]) - at(&[(i, h), (j, -h)]) - at(&[(i, -h), (j, h)])
                + at(&[(i, -h), (j, -h)]))
                / (4.0 * h * h);
            out[i * d + j] = v;
            out[j * d + i] = v;
        }
    }
    out
}

fn activations() -> Vec<Activation> {
    vec![
        Activation::Linear,
        Activation::Quadratic { epsilon: 0.9 },
        Activation::Polynomial {
            coefficients: vec![0.3, 0.8, -0.5, 0.4],
        },
        Activation::Polynomial {
            coefficients: vec![0.0, 1.0, 0.25, -0.3, 0.2],
        },
        Activation::Erf,
        Activation::Tanh,
        Activation::Relu,
        Activation::LeakyRelu { slope: 0.15 },
        Activation::Gelu,
        Activation::Silu,
        Activation::Softplus,
        Activation::Sigmoid,
    ]
}

#[test]
fn population_hessian_is_the_second_derivative_of_the_population_loss() {
    for (k, act) in activations().into_iter().enumerate() {
        // A larger shape (D = 48) exercises the parallel dense assembly of the library.
        let shapes: &[(usize, usize)] = if coefficients(&act).is_none() && act != Activation::Erf {
            &[(2, 2)]
        } else {
            &[(3, 2), (2, 3), (5, 8)]
        };
        for &(ni, nh) in shapes {
            let net = sample_teacher(
                act.clone(),
                ni,
                nh,
                WeightDistribution::Normal,
                4242,
                k as u64,
            )
            .unwrap();
            let exact = PopulationHessian::at_optimum(&net).dense().unwrap();
            let theta = net.params();
            let f = |t: &[f64]| population_loss(&act, ni, nh, t, &net);
            let kinked = matches!(act, Activation::Relu | Activation::LeakyRelu { .. });
            let (fd, tol) = if kinked {
                // For ReLU the loss is C² but not C³ at the optimum: the arc-cosine kernel of a
                // student unit against its own teacher unit has a |θ|³/3 term in the angle θ,
                // so central differences err by O(h) (≈ 4h·|coefficient|), not O(h²), and
                // Richardson does not apply. Measured: the worst error falls linearly with h
                // (ReLU 6.4e-7 → 1.4e-7, leaky 4.9e-6 → 1.3e-6 from h = 5e-5 to 1.25e-5), so
                // the FD converges to the exact Hessian; rounding ≈ 1e-16·L/h² ≈ 6e-7.
                (
                    fd_hessian(&theta, 1.25e-5, &f),
                    2e-6 * (1.0 + exact.max_abs()),
                )
            } else {
                // Richardson: (4 D(h/2) − D(h)) / 3 cancels the h² term of the truncation error.
                let (c, f2) = (fd_hessian(&theta, 4e-3, &f), fd_hessian(&theta, 2e-3, &f));
                let fd: Vec<f64> = c
                    .iter()
                    .zip(&f2)
                    .map(|(a, b)| (4.0 * b - a) / 3.0)
                    .collect();
                (fd, 1e-8 * (1.0 + exact.max_abs()))
            };
            let d = net.dim();
            let mut worst: f64 = 0.0;
            for i in 0..d {
                for j in 0..d {
                    let err = (exact.get(i, j) - fd[i * d + j]).abs();
                    worst = worst.max(err);
                    assert!(
                        err < tol,
                        "{act:?} {ni}x{nh} [{i}][{j}]: exact {} vs finite differences {}",
                        exact.get(i, j),
                        fd[i * d + j]
                    );
                }
            }
            eprintln!(
                "{} {ni}x{nh}: max |exact − FD| = {worst:.2e} (max|H| = {:.2})",
                act.name(),
                exact.max_abs()
            );
        }
    }
}

#[test]
fn sampled_hessian_away_from_the_optimum_is_the_second_derivative_of_the_sampled_loss() {
    let n = 512;
    let seed = 31;
    for (k, act) in activations().into_iter().enumerate() {
        let (ni, nh) = (3, 2);
        let teacher = sample_teacher(
            act.clone(),
            ni,
            nh,
            WeightDistribution::Normal,
            77,
            k as u64,
        )
        .unwrap();
        // Student: the teacher moved by a fixed, non-small perturbation.
        let theta0: Vec<f64> = teacher
            .params()
            .iter()
            .enumerate()
            .map(|(i, v)| v + 0.3 * ((i * 7 % 5) as f64 - 2.0) / 2.0)
            .collect();
        let student = teacher.with_params(&theta0).unwrap();
        let h_lib = sampled_hessian(&student, &teacher, n, seed).unwrap();
        let x = gaussian_inputs(ni, seed, 0, n);
        let yt: Vec<f64> = x
            .chunks(ni)
            .map(|xi| {
                (0..nh)
                    .map(|m| teacher.w2()[m] * g(&act, dot(teacher.w1_row(m), xi)))
                    .sum()
            })
            .collect();
        let loss = |t: &[f64]| -> f64 {
            let mut s = 0.0;
            for (xi, y) in x.chunks(ni).zip(&yt) {
                let ys: f64 = (0..nh)
                    .map(|m| t[nh * ni + m] * g(&act, dot(&t[m * ni..(m + 1) * ni], xi)))
                    .sum();
                s += (ys - y) * (ys - y);
            }
            0.5 * s / n as f64
        };
        let fd = fd_hessian(&theta0, 1e-4, &loss);
        let d = student.dim();
        let tol = 2e-7 * (1.0 + h_lib.max_abs());
        let mut worst: f64 = 0.0;
        let mut functional: f64 = 0.0;
        let outer = nearopt::hessian::sampled::sampled_outer_product(&student, n, seed).unwrap();
        for i in 0..d {
            for j in 0..d {
                let err = (h_lib.get(i, j) - fd[i * d + j]).abs();
                worst = worst.max(err);
                functional = functional.max((h_lib.get(i, j) - outer.get(i, j)).abs());
                assert!(
                    err < tol,
                    "{act:?} [{i}][{j}]: sampled {} vs finite differences {}",
                    h_lib.get(i, j),
                    fd[i * d + j]
                );
            }
        }
        // The functional term is really exercised (except for linear, whose g'' = 0, where it
        // still enters through the W1–W2 cross block).
        assert!(
            functional > 1e3 * tol,
            "{act:?}: functional term {functional} too small to test"
        );
        eprintln!(
            "{} away from optimum: max |sampled − FD| = {worst:.2e}, functional term up to {functional:.2}",
            act.name()
        );
    }
}
