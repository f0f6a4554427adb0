//! Spectral structure of the exact population Hessian at the optimum, each fact checked against a
//! computation done here:
//!
//! * symmetric and positive semi-definite (every activation, shapes with Nh <, =, > Ni);
//! * linear networks (Appendix A.3): the `Ni` nonzero eigenvalues are `‖W2‖² + eig(W1ᵀW1)`
//!   (zero-padded when `Ni > Nh`), the rest exactly zero, rank `Ni`; eigenvalues of `W1ᵀW1` by a
//!   cyclic Jacobi eigensolver written here;
//! * quadratic networks: rank = Eq. 14 (re-derived in `docs/verification.md`; correct as printed)
//!   on a grid of (Ni, Nh) including Nh < Ni, and = the rank of the sampled Jacobian on generic
//!   inputs (a route that never uses the Stein reduction);
//! * cubic networks: rank ≤ the effective-parameter bound `C(Ni+3, 3) − 1` (`c0 = 0`;
//!   `C(Ni+3, 3)` with `c0 ≠ 0`), attained by wide networks;
//! * erf networks: full rank where float64 can decide it (`λ_min/λ_max ≫ D·ε`);
//! * the NTK route of `sampled_outer_eigenvalues` (n < D) = the spectrum of `JᵀJ/n` (Jacobi).
//!
//! Rank decisions use the default tolerance `λ_max · D · ε` and, to be sure the decision is not a
//! rounding accident, require the gap `smallest kept / largest dropped` to exceed 1e4.

// Matrix code reads clearest with explicit indices.
#![allow(clippy::needless_range_loop)]

use nearopt::hessian::sampled::sampled_jacobian;
use nearopt::hessian::DenseMatrix;
use nearopt::spectrum::{rank, symmetric_eigenvalues};
use nearopt::teacher::{sample_teacher, WeightDistribution};
use nearopt::{Activation, Network, PopulationHessian};

/// Eigenvalues (ascending) of a symmetric matrix (row-major `n × n`) by cyclic Jacobi rotations.
fn jacobi_eigenvalues(mut a: Vec<f64>, n: usize) -> Vec<f64> {
    for _sweep in 0..100 {
        let off: f64 = (0..n)
            .flat_map(|i| (0..n).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| a[i * n + j] * a[i * n + j])
            .sum();
        let diag: f64 = (0..n).map(|i| a[i * n + i] * a[i * n + i]).sum();
        if off <= 1e-32 * diag || off == 0.0 {
            break;
        }
        for p in 0..n {
            for q in (p + 1)..n {
                let apq = a[p * n + q];
                if apq == 0.0 {
                    continue;
                }
                let theta = (a[q * n + q] - a[p * n + p]) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..n {
                    let (akp, akq) = (a[k * n + p], a[k * n + q]);
                    a[k * n + p] = c * akp - s * akq;
                    a[k * n + q] = s * akp + c * akq;
                }
                for k in 0..n {
                    let (apk, aqk) = (a[p * n + k], a[q * n + k]);
                    a[p * n + k] = c * apk - s * aqk;
                    a[q * n + k] = s * apk + c * aqk;
                }
            }
        }
    }
    let mut ev: Vec<f64> = (0..n).map(|i| a[i * n + i]).collect();
    ev.sort_by(|x, y| x.total_cmp(y));
    ev
}

fn teacher(act: Activation, ni: usize, nh: usize, stream: u64) -> Network {
    sample_teacher(act, ni, nh, WeightDistribution::Normal, 606, stream).unwrap()
}

fn exact_eigenvalues(net: &Network) -> (DenseMatrix, Vec<f64>) {
    let h = PopulationHessian::at_optimum(net).dense().unwrap();
    let ev = symmetric_eigenvalues(&h).unwrap();
    (h, ev)
}

/// Rank of the Hessian with a clear gap; also checked against Jacobi on the same matrix.
fn decided_rank(name: &str, h: &DenseMatrix, ev: &[f64]) -> usize {
    let r = rank(ev, None);
    assert!(
        r.gap_ratio() > 1e4,
        "{name}: rank {} undecided, gap ratio {:.3e}",
        r.rank,
        r.gap_ratio()
    );
    let d = h.rows();
    let jac = jacobi_eigenvalues(h.as_slice().to_vec(), d);
    let rj = rank(&jac, None);
    assert_eq!(
        rj.rank, r.rank,
        "{name}: Jacobi eigenvalues give another rank"
    );
    r.rank
}

/// Rank of `JᵀJ/n` on `n` generic Gaussian inputs (Jacobian rows computed by the library's
/// network gradient, eigenvalues by Jacobi): the dimension of span{∂y/∂θ_i} on those inputs.
fn sampled_jacobian_rank(net: &Network, n: usize) -> usize {
    let j = sampled_jacobian(net, n, 5150).unwrap();
    let d = net.dim();
    let mut g = vec![0.0; d * d];
    for s in 0..n {
        let row = j.row(s);
        for a in 0..d {
            for b in 0..d {
                g[a * d + b] += row[a] * row[b] / n as f64;
            }
        }
    }
    rank(&jacobi_eigenvalues(g, d), None).rank
}

#[test]
fn symmetric_and_positive_semidefinite_for_every_activation() {
    let acts = [
        Activation::Linear,
        Activation::Quadratic { epsilon: 1.0 },
        Activation::Polynomial {
            coefficients: vec![0.0, 1.0, 0.5, -0.3, 0.1],
        },
        Activation::Erf,
        Activation::Tanh,
    ];
    for (k, act) in acts.into_iter().enumerate() {
        for (ni, nh) in [(2usize, 4usize), (3, 3), (5, 2)] {
            let net = teacher(act.clone(), ni, nh, (k * 10 + ni) as u64);
            let (h, ev) = exact_eigenvalues(&net);
            let d = net.dim();
            for i in 0..d {
                for j in 0..d {
                    // Symmetric up to rounding of the two evaluation orders.
                    assert!(
                        (h.get(i, j) - h.get(j, i)).abs() <= 8.0 * f64::EPSILON * h.max_abs(),
                        "{act:?}: H[{i}][{j}] = {} ≠ H[{j}][{i}] = {}",
                        h.get(i, j),
                        h.get(j, i)
                    );
                }
            }
            // PSD up to the eigensolver's backward error (a few ε·‖H‖·D).
            assert!(
                ev[0] > -(d as f64) * 8.0 * f64::EPSILON * ev[d - 1],
                "{act:?}: λ_min = {}",
                ev[0]
            );
            // Rayleigh quotients of vectors written here, a check independent of the eigensolver.
            for t in 0..5 {
                let v: Vec<f64> = (0..d)
                    .map(|i| (((i + 3) * (t + 5) * 2654435761usize) % 1000) as f64 - 499.5)
                    .collect();
                let mut hv = vec![0.0; d];
                h.matvec(&v, &mut hv);
                let q: f64 = v.iter().zip(&hv).map(|(a, b)| a * b).sum();
                let vv: f64 = v.iter().map(|a| a * a).sum();
                assert!(q >= -1e-13 * vv * ev[d - 1], "{act:?}: vᵀHv = {q}");
            }
        }
    }
}

#[test]
fn linear_spectrum_is_norm_w2_plus_eigenvalues_of_w1t_w1() {
    for (k, (ni, nh)) in [(3usize, 5usize), (5, 2), (4, 4), (6, 1), (1, 3)]
        .into_iter()
        .enumerate()
    {
        let net = teacher(Activation::Linear, ni, nh, 300 + k as u64);
        let (h, ev) = exact_eigenvalues(&net);
        let d = net.dim();
        let w1 = net.w1();
        let mut gram = vec![0.0; ni * ni];
        for a in 0..ni {
            for b in 0..ni {
                gram[a * ni + b] = (0..nh).map(|m| w1[m * ni + a] * w1[m * ni + b]).sum();
            }
        }
        let w2sq: f64 = net.w2().iter().map(|x| x * x).sum();
        // eig(W1ᵀW1) has Ni − Nh exact zeros when Ni > Nh: those give eigenvalue ‖W2‖².
        let expected: Vec<f64> = jacobi_eigenvalues(gram, ni)
            .into_iter()
            .map(|l| l.max(0.0) + w2sq)
            .collect();
        let scale = ev[d - 1];
        for (a, b) in ev[d - ni..].iter().zip(&expected) {
            assert!((a - b).abs() < 1e-12 * scale, "{ni}x{nh}: {a} vs {b}");
        }
        for a in &ev[..d - ni] {
            assert!(
                a.abs() < 1e-13 * scale,
                "{ni}x{nh}: spurious eigenvalue {a}"
            );
        }
        assert_eq!(decided_rank(&format!("linear {ni}x{nh}"), &h, &ev), ni);
    }
}

/// Eq. 14 as printed: `Ni + Ni(Ni+1)/2 − (ν² + 3ν)/2 · H(ν)`, `ν = Ni − Nh`.
fn eq14(ni: usize, nh: usize) -> usize {
    let nu = ni as i64 - nh as i64;
    let heav = if nu > 0 { (nu * nu + 3 * nu) / 2 } else { 0 };
    (ni as i64 + (ni * (ni + 1) / 2) as i64 - heav) as usize
}

#[test]
fn quadratic_rank_follows_eq14() {
    let mut k = 0;
    for ni in 1..=4usize {
        for nh in 1..=5usize {
            k += 1;
            let net = teacher(Activation::Quadratic { epsilon: 0.8 }, ni, nh, 400 + k);
            let (h, ev) = exact_eigenvalues(&net);
            let name = format!("quadratic {ni}x{nh}");
            let r = decided_rank(&name, &h, &ev);
            assert_eq!(r, eq14(ni, nh), "{name}: rank vs Eq. 14");
            // Independently: the span of the Jacobian rows on 200 generic inputs.
            assert_eq!(
                sampled_jacobian_rank(&net, 200),
                r,
                "{name}: sampled Jacobian rank"
            );
        }
    }
}

fn binom(n: usize, k: usize) -> usize {
    (0..k).fold(1, |acc, i| acc * (n - i) / (i + 1))
}

#[test]
fn cubic_rank_respects_the_effective_parameter_bound() {
    for (c0, extra) in [(0.0, 0usize), (0.4, 1)] {
        let act = Activation::Polynomial {
            coefficients: vec![c0, 1.0, -0.6, 0.45],
        };
        for ni in [1usize, 2, 3] {
            let bound = binom(ni + 3, 3) - 1 + extra;
            let mut reached = false;
            for nh in 1..=8usize {
                let net = teacher(
                    act.clone(),
                    ni,
                    nh,
                    (500 + 10 * ni + nh) as u64 + 100 * extra as u64,
                );
                if net.dim() > 40 {
                    continue;
                }
                let (h, ev) = exact_eigenvalues(&net);
                let name = format!("cubic c0={c0} {ni}x{nh}");
                let r = decided_rank(&name, &h, &ev);
                assert!(
                    r <= bound.min(net.dim()),
                    "{name}: rank {r} above bound {bound}"
                );
                assert_eq!(
                    sampled_jacobian_rank(&net, 300),
                    r,
                    "{name}: sampled Jacobian rank"
                );
                reached |= r == bound;
            }
            assert!(
                reached,
                "cubic c0={c0} Ni={ni}: bound {bound} never attained"
            );
        }
    }
}

#[test]
fn erf_is_full_rank_where_float64_can_tell() {
    for (k, (ni, nh)) in [(2usize, 2usize), (3, 2), (2, 3), (3, 3), (4, 2)]
        .into_iter()
        .enumerate()
    {
        let net = teacher(Activation::Erf, ni, nh, 700 + k as u64);
        let (h, ev) = exact_eigenvalues(&net);
        let d = net.dim();
        let ratio = ev[0] / ev[d - 1];
        // λ_min/λ_max must be far above the rounding level D·ε for the decision to mean anything.
        assert!(
            ratio > 1e4 * d as f64 * f64::EPSILON,
            "erf {ni}x{nh}: λ_min/λ_max = {ratio:.3e}"
        );
        assert_eq!(decided_rank(&format!("erf {ni}x{nh}"), &h, &ev), d);
        eprintln!("erf {ni}x{nh}: full rank {d}, λ_min/λ_max = {ratio:.3e}");
    }
}

#[test]
fn ntk_route_gives_the_outer_product_spectrum_when_samples_are_few() {
    // n < D: sampled_outer_eigenvalues goes through the n×n NTK Gram JJᵀ/n; its D eigenvalues
    // must be those of the D×D matrix JᵀJ/n on the same inputs (Jacobi here), the D − n extra
    // ones zero.
    for (k, act) in [Activation::Erf, Activation::Quadratic { epsilon: 0.5 }]
        .into_iter()
        .enumerate()
    {
        let net = teacher(act.clone(), 4, 6, 800 + k as u64);
        let (d, n) = (net.dim(), 12);
        let via_ntk = nearopt::hessian::sampled::sampled_outer_eigenvalues(&net, n, 3).unwrap();
        let outer = nearopt::hessian::sampled::sampled_outer_product(&net, n, 3).unwrap();
        let direct = jacobi_eigenvalues(outer.as_slice().to_vec(), d);
        assert_eq!(via_ntk.len(), d);
        let scale = direct[d - 1];
        for (a, b) in via_ntk.iter().zip(&direct) {
            assert!((a - b).abs() < 1e-11 * scale, "{act:?}: {a} vs {b}");
        }
        assert!(via_ntk[d - n - 1].abs() < 1e-11 * scale && via_ntk[d - n] > 1e-6 * scale);
    }
}
