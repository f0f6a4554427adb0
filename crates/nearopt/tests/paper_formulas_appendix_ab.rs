//! Every displayed formula of the paper's Appendices A (linear network) and B (effective
//! parameters), checked numerically against computations that share no code with it
//! (`docs/derivations.md` §6). References: the library's exact Hessian where the formula is a
//! Hessian block, a Jacobi eigensolver, Monte Carlo over teachers with standard errors (5 SE),
//! Simpson quadrature of the printed density, exact integer enumeration. Printed forms that are
//! wrong are shown to fail.

#![allow(clippy::needless_range_loop)]

mod paper_formulas_support;

use nearopt::Activation;
use paper_formulas_support::*;
use std::f64::consts::PI;

const Z: f64 = 5.0;

fn kron(a: &Mat, b: &Mat) -> Mat {
    let (ar, ac, br, bc) = (a.len(), a[0].len(), b.len(), b[0].len());
    let mut k = vec![vec![0.0; ac * bc]; ar * br];
    for i in 0..ar {
        for j in 0..ac {
            for p in 0..br {
                for q in 0..bc {
                    k[i * br + p][j * bc + q] = a[i][j] * b[p][q];
                }
            }
        }
    }
    k
}

fn block(h: &Mat, rows: std::ops::Range<usize>, cols: std::ops::Range<usize>) -> Mat {
    rows.map(|i| h[i][cols.clone()].to_vec()).collect()
}

fn col(v: &[f64]) -> Mat {
    v.iter().map(|x| vec![*x]).collect()
}

/// A.1: the printed 12 × 12 example (Ni = 3, Nh = 4) entry by entry, its tensor form
/// `(W2W2ᵀ) ⊗ I_3`, against the library's A block; the nonzero entries of a row are `Ni` apart
/// (the text's "every N_h steps, when k mod N_h = 0" is wrong: the example itself has period 3).
#[test]
fn a1_block_example_and_tensor_form() {
    let (ni, nh) = (3, 4);
    let t = Net::random(ni, nh, 201);
    let h = library_hessian(&t, Activation::Linear);
    let a = block(&h, 0..ni * nh, 0..ni * nh);
    let w = &t.w2;
    // the printed matrix: row r, column c is W_{r/3+1} W_{c/3+1} when r ≡ c (mod 3), else 0
    let printed: Mat = (0..12)
        .map(|r| {
            (0..12)
                .map(|c| {
                    if r % 3 == c % 3 {
                        w[r / 3] * w[c / 3]
                    } else {
                        0.0
                    }
                })
                .collect()
        })
        .collect();
    assert!(max_abs_diff(&printed, &a) < 1e-15);
    let w2w2t = matmul(&col(w), &transpose(&col(w)));
    assert!(max_abs_diff(&kron(&w2w2t, &identity(ni)), &a) < 1e-15);
    // spacing of the nonzeros in row 0: Ni, not Nh
    let nz: Vec<usize> = (0..12).filter(|&c| a[0][c] != 0.0).collect();
    assert_eq!(nz, vec![0, 3, 6, 9]);
    assert!(
        a[0][nh] == 0.0,
        "a nonzero at column N_h = 4 would follow the printed rule"
    );
}

/// A.1: `(W2W2ᵀ)W2 = ‖W2‖² W2`, and the A block's spectrum: `Ni(Nh − 1)` zeros and `Ni` copies of
/// `Σ W2i²` (Jacobi).
#[test]
fn a1_block_eigenvalues() {
    let (ni, nh) = (3, 5);
    let t = Net::random(ni, nh, 202);
    let w = &t.w2;
    let w2w2t = matmul(&col(w), &transpose(&col(w)));
    let lhs = matmul(&w2w2t, &col(w));
    let n2 = dot(w, w);
    for k in 0..nh {
        assert!((lhs[k][0] - n2 * w[k]).abs() < 1e-15);
    }
    let h = library_hessian(&t, Activation::Linear);
    let (vals, _) = jacobi_eigen(&block(&h, 0..ni * nh, 0..ni * nh));
    let zeros = vals.iter().filter(|v| v.abs() < 1e-13).count();
    let top = vals.iter().filter(|v| (*v - n2).abs() < 1e-13).count();
    assert_eq!((zeros, top), (ni * (nh - 1), ni));
}

/// A.1 / Section 3.1: `λ = ‖W2‖² ~ σ²χ²_Nh` holds with `σ² = 1/Nh` (the variance of W2): mean 1,
/// variance `2/Nh`, and the χ² CDF (statrs' regularised gamma) at three points, over 4000 teachers
/// (5 SE; binomial SE for the CDF). With `σ² = 1/Ni` — the only σ² the appendix defines (A.2) —
/// the mean would be `Nh/Ni` (= 4 here): rejected.
#[test]
fn a1_scaled_chi_square() {
    let (ni, nh) = (3, 12);
    let draws = 4000;
    let xs: Vec<f64> = (0..draws)
        .map(|s| {
            let t = Net::random(ni, nh, 10_000 + s);
            dot(&t.w2, &t.w2)
        })
        .collect();
    let mut acc = MeanSe::new(2);
    for x in &xs {
        acc.add(&[*x, (x - 1.0).powi(2)]);
    }
    let (m, se) = (acc.mean(), acc.se());
    assert!((m[0] - 1.0).abs() < Z * se[0], "mean {}", m[0]);
    assert!(
        (m[1] - 2.0 / nh as f64).abs() < Z * se[1],
        "variance {}",
        m[1]
    );
    assert!((m[0] - nh as f64 / ni as f64).abs() > 100.0 * se[0]);
    for &x in &[0.6, 1.0, 1.5] {
        let p = statrs::function::gamma::gamma_lr(nh as f64 / 2.0, nh as f64 * x / 2.0);
        let frac = xs.iter().filter(|v| **v <= x).count() as f64 / draws as f64;
        let se = (p * (1.0 - p) / draws as f64).sqrt();
        assert!((frac - p).abs() < Z * se, "CDF at {x}: {frac} vs {p}");
    }
}

/// The printed Eq. 15 with scale `s2` and ratio `y = Nh/Ni`.
fn eq15_pdf(x: f64, y: f64, s2: f64) -> f64 {
    let (lm, lp) = (s2 * (1.0 - y.sqrt()).powi(2), s2 * (1.0 + y.sqrt()).powi(2));
    if x <= lm || x >= lp {
        return 0.0;
    }
    let ind = if y <= 1.0 { 1.0 } else { y };
    1.0 / (2.0 * PI * s2) * ((lp - x) * (x - lm)).sqrt() / (y * x) * ind
}

/// `∫ f · pdf` with `x = (λ₋+λ₊)/2 − r cos φ` (removes the square-root edges; Simpson, 4000
/// intervals; the integrand is smooth for y ≠ 1).
fn eq15_moment(y: f64, s2: f64, f: impl Fn(f64) -> f64) -> f64 {
    let (lm, lp) = (s2 * (1.0 - y.sqrt()).powi(2), s2 * (1.0 + y.sqrt()).powi(2));
    let (c, r) = ((lm + lp) / 2.0, (lp - lm) / 2.0);
    simpson(
        |phi| {
            let x = c - r * phi.cos();
            f(x) * eq15_pdf(x, y, s2) * r * phi.sin()
        },
        0.0,
        PI,
        4000,
    )
}

/// A.2 and Eq. 15. The B block `W1W1ᵀ` has `min(Ni, Nh)` nonzero eigenvalues. Eq. 15's density
/// integrates to 1 for any scale (quadrature); with the corrected scale σ² = 1 its mean is
/// `max(1, y)` and its second moment `max(1, y)(1 + y)` (the Marchenko–Pastur moments, 1e-9),
/// and over 300 teachers the simulated nonzero eigenvalues have that mean (exact at finite size,
/// 5 SE) and lie in its support (> 95 %, finite-size edges leak); with the printed σ² = 1/Ni the
/// mean is `Ni` times too small and most eigenvalues (> 75 %) lie above the printed support. Shapes 10×20 (y = 2) and 20×10 (y = 1/2).
#[test]
fn a2_eq15_marchenko_pastur() {
    for (ni, nh) in [(10usize, 20usize), (20, 10)] {
        let y = nh as f64 / ni as f64;
        for s2 in [1.0, 1.0 / ni as f64] {
            assert!((eq15_moment(y, s2, |_| 1.0) - 1.0).abs() < 1e-9);
        }
        let mean_good = eq15_moment(y, 1.0, |x| x);
        let second_good = eq15_moment(y, 1.0, |x| x * x);
        assert!((mean_good - y.max(1.0)).abs() < 1e-9);
        assert!((second_good - y.max(1.0) * (1.0 + y)).abs() < 1e-9);
        let mean_printed = eq15_moment(y, 1.0 / ni as f64, |x| x);
        let mut acc = MeanSe::new(1);
        let (mut inside_good, mut inside_printed, mut count) = (0, 0, 0);
        let (a, b) = ((1.0 - y.sqrt()).powi(2), (1.0 + y.sqrt()).powi(2));
        for s in 0..300 {
            let t = Net::random(ni, nh, 20_000 + s);
            let bm: Mat = (0..nh)
                .map(|k| (0..nh).map(|j| dot(&t.w1[k], &t.w1[j])).collect())
                .collect();
            let (vals, _) = jacobi_eigen(&bm);
            let nz: Vec<f64> = vals
                .iter()
                .cloned()
                .filter(|v| *v > 1e-10 * vals[nh - 1])
                .collect();
            assert_eq!(nz.len(), ni.min(nh));
            acc.add(&[nz.iter().sum::<f64>() / nz.len() as f64]);
            for v in &nz {
                count += 1;
                inside_good += usize::from(*v > a && *v < b);
                inside_printed += usize::from(*v < b / ni as f64);
            }
        }
        let (m, se) = (acc.mean()[0], acc.se()[0]);
        let fg = inside_good as f64 / count as f64;
        let fp = inside_printed as f64 / count as f64;
        println!(
            "{ni}×{nh}: mean {m:.4} ± {se:.4}; σ²=1 {mean_good:.4}, printed {mean_printed:.4}; in support {fg:.3}, below the printed upper edge {fp:.3}"
        );
        assert!((m - mean_good).abs() < Z * se);
        assert!((m - mean_printed).abs() > 100.0 * se);
        assert!(fg > 0.95 && fp < 0.25);
    }
}

/// A.3: `H = [[W2W2ᵀ ⊗ I, W2 ⊗ W1ᵀ], [W2ᵀ ⊗ W1, W1W1ᵀ]]` built with Kronecker products here, against
/// the library's exact Hessian; the SVD relations `W1 z' = √λ1 z`, `W1ᵀ z = √λ1 z'` (Jacobi on
/// `W1ᵀW1`); `y = [v ⊗ z', √λ1 z]` gives `Hy = (λ1 + λ2) y`, kernel vectors `[v ⊗ z', 0]` give
/// `λ2`, and the `Ni` vectors are independent. Shapes 3×5 (trivial kernel) and 5×3 (kernel of
/// dimension 2).
#[test]
fn a3_hessian_form_and_eigenvectors() {
    for (ni, nh) in [(3usize, 5usize), (5, 3)] {
        let t = Net::random(ni, nh, 210 + ni as u64);
        let h = library_hessian(&t, Activation::Linear);
        let w2 = col(&t.w2);
        let w1 = t.w1.clone();
        let top = [
            kron(&matmul(&w2, &transpose(&w2)), &identity(ni)),
            kron(&w2, &transpose(&w1)),
        ];
        let bottom = [kron(&transpose(&w2), &w1), matmul(&w1, &transpose(&w1))];
        let d = t.dim();
        let mut built = vec![vec![0.0; d]; d];
        for i in 0..nh * ni {
            for j in 0..nh * ni {
                built[i][j] = top[0][i][j];
            }
            for k in 0..nh {
                built[i][nh * ni + k] = top[1][i][k];
            }
        }
        for k in 0..nh {
            for j in 0..nh * ni {
                built[nh * ni + k][j] = bottom[0][k][j];
            }
            for l in 0..nh {
                built[nh * ni + k][nh * ni + l] = bottom[1][k][l];
            }
        }
        assert!(max_abs_diff(&built, &h) < 1e-15);
        let lambda2 = dot(&t.w2, &t.w2);
        let (mu, zs) = jacobi_eigen(&matmul(&transpose(&w1), &w1));
        let mut ys = Vec::new();
        for k in 0..ni {
            let zp: Vec<f64> = (0..ni).map(|i| zs[i][k]).collect();
            let l1 = mu[k].max(0.0);
            let kernel = mu[k] < 1e-12 * mu[ni - 1];
            let z: Vec<f64> = if kernel {
                vec![0.0; nh]
            } else {
                (0..nh).map(|m| dot(&w1[m], &zp) / l1.sqrt()).collect()
            };
            if !kernel {
                let wtz: Vec<f64> = (0..ni)
                    .map(|i| (0..nh).map(|m| w1[m][i] * z[m]).sum())
                    .collect();
                for i in 0..ni {
                    assert!((wtz[i] - l1.sqrt() * zp[i]).abs() < 1e-12);
                }
                let wwtz: Vec<f64> = (0..nh).map(|m| dot(&w1[m], &wtz)).collect();
                for m in 0..nh {
                    assert!((wwtz[m] - l1 * z[m]).abs() < 1e-12);
                }
            }
            let mut yv: Vec<f64> = (0..nh)
                .flat_map(|m| zp.iter().map(|zi| t.w2[m] * zi).collect::<Vec<_>>())
                .collect();
            yv.extend(z.iter().map(|zm| if kernel { 0.0 } else { l1.sqrt() * zm }));
            let hy: Vec<f64> = (0..d).map(|i| dot(&h[i], &yv)).collect();
            let lam = if kernel { lambda2 } else { l1 + lambda2 };
            for i in 0..d {
                assert!((hy[i] - lam * yv[i]).abs() < 1e-12, "{ni}×{nh} vector {k}");
            }
            ys.push(yv);
        }
        let kernel_dim = mu.iter().filter(|m| **m < 1e-12 * mu[ni - 1]).count();
        assert_eq!(kernel_dim, ni.saturating_sub(nh));
        assert_eq!(rank(&ys, 1e-6).0, ni);
    }
}

/// A.3's closing remark "the kernel of W1 is non-trivial almost surely whenever Ni ≥ Nh" holds for
/// `Ni > Nh` only: for `Ni = Nh` the square Gaussian W1 is invertible almost surely (500 draws,
/// `λ_min(W1ᵀW1) > 1e-14 λ_max` in every one; the chance of a draw below that is < 1e-6).
#[test]
fn a3_kernel_remark() {
    for n in [2usize, 4, 6] {
        for s in 0..500 {
            let t = Net::random(n, n, 30_000 + 1000 * n as u64 + s);
            let (mu, _) = jacobi_eigen(&matmul(&transpose(&t.w1), &t.w1));
            assert!(mu[0] > 1e-14 * mu[n - 1], "{n}×{n} draw {s}: singular");
        }
    }
}

/// Jacobian of `(W (r × Ni), d (r)) ↦ upper triangle of Wᵀ diag(d) W`, written here.
fn sym_rank_r_jacobian(w: &Mat, d: &[f64]) -> Mat {
    let (r, ni) = (w.len(), w[0].len());
    let mut rows = Vec::new();
    for i in 0..ni {
        for j in i..ni {
            let mut row = vec![0.0; r * ni + r];
            for m in 0..r {
                row[m * ni + i] += d[m] * w[m][j];
                row[m * ni + j] += d[m] * w[m][i];
                row[r * ni + m] = w[m][i] * w[m][j];
            }
            rows.push(row);
        }
    }
    rows
}

/// B.1: `B = XΛXᵀ` (Jacobi, reconstruction to 1e-14); degrees of freedom of a symmetric matrix:
/// full rank `Ni + Ni(Ni−1)/2 = Ni(Ni+1)/2`, rank r `r + Ni(Ni−1)/2 − C(Ni−r, 2)`, both against the
/// numerical rank of the Jacobian of `(W, d) ↦ Wᵀ diag(d) W` (the tangent space of the rank-r
/// symmetric matrices), for all `r ≤ Ni ≤ 6`.
#[test]
fn b1_symmetric_matrix_degrees_of_freedom() {
    let t = Net::random(4, 6, 220);
    let b: Mat = (0..4)
        .map(|i| {
            (0..4)
                .map(|j| (0..6).map(|m| t.w2[m] * t.w1[m][i] * t.w1[m][j]).sum())
                .collect()
        })
        .collect();
    let (lam, x) = jacobi_eigen(&b);
    let l: Mat = (0..4)
        .map(|i| (0..4).map(|j| if i == j { lam[i] } else { 0.0 }).collect())
        .collect();
    assert!(max_abs_diff(&matmul(&matmul(&x, &l), &transpose(&x)), &b) < 1e-14);
    for ni in 1..=6usize {
        assert_eq!(ni + ni * (ni - 1) / 2, ni * (ni + 1) / 2);
        for r in 1..=ni {
            let net = Net::random(ni, r, 230 + (10 * ni + r) as u64);
            let (rk, gap) = rank(&sym_rank_r_jacobian(&net.w1, &net.w2), 1e-6);
            assert!(gap > 1e3, "{ni}, r={r}: gap {gap}");
            let printed = r + ni * (ni - 1) / 2 - binom((ni - r) as u64, 2) as usize;
            assert_eq!(rk, printed, "Ni = {ni}, r = {r}");
            assert_eq!(printed, r * ni - r * (r - 1) / 2);
        }
    }
}

/// B.1's final count, `Ni + Ni(Ni+1)/2 − (Ni−r) − (Ni − r + C(Ni−r, 2)) = Ni + Ni(Ni+1)/2 −
/// ((Ni−r)² + 3(Ni−r))/2`, in exact integers for all `r < Ni ≤ 40` (that it equals the Hessian
/// rank is the Eq. 14 test of `paper_formulas_main_text.rs`).
#[test]
fn b1_final_count_identity() {
    for ni in 2..=40i64 {
        for r in 1..ni {
            let nu = ni - r;
            let lhs = ni + ni * (ni + 1) / 2 - nu - (nu + nu * (nu - 1) / 2);
            let rhs = ni + ni * (ni + 1) / 2 - (nu * nu + 3 * nu) / 2;
            assert_eq!(lhs, rhs);
        }
    }
}

/// B.2: `C(Ni, n)` counts the groupings of n distinct indices and `C(Ni+n−1, n)` the independent
/// components of a symmetric order-n tensor (the nondecreasing index tuples), by enumeration
/// for `Ni ≤ 6`, `n ≤ 4`.
#[test]
fn b2_symmetric_tensor_components() {
    for ni in 1..=6usize {
        for n in 1..=4usize {
            let total = ni.pow(n as u32);
            let (mut distinct, mut nondecreasing) = (0u64, 0u64);
            for c in 0..total {
                let idx: Vec<usize> = (0..n).map(|k| (c / ni.pow(k as u32)) % ni).collect();
                distinct += u64::from(idx.windows(2).all(|w| w[0] < w[1]));
                nondecreasing += u64::from(idx.windows(2).all(|w| w[0] <= w[1]));
            }
            assert_eq!(distinct, binom(ni as u64, n as u64));
            assert_eq!(nondecreasing, binom((ni + n - 1) as u64, n as u64));
        }
    }
}
