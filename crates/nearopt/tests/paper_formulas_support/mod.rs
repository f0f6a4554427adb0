//! Independent numerics shared by the `paper_formulas_*` tests: seeded normal draws, Monte Carlo
//! means with their standard errors, the trapezoid rule, Gauss–Hermite rules (Newton on the
//! Hermite recurrence), a cyclic Jacobi eigensolver, Gauss–Jordan inverse and determinant, and the
//! forward pass / Jacobian of a two-layer network. None of it calls the library's Hessian,
//! quadrature or eigensolver code, so a formula checked against these shares no code with it.
//!
//! Not every test file uses every helper.
#![allow(dead_code, clippy::needless_range_loop)]

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use std::f64::consts::PI;

pub type Rng = ChaCha8Rng;
pub type Mat = Vec<Vec<f64>>;

pub fn rng(seed: u64) -> Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

pub fn normal(r: &mut Rng) -> f64 {
    StandardNormal.sample(r)
}

pub fn normals(r: &mut Rng, n: usize) -> Vec<f64> {
    (0..n).map(|_| normal(r)).collect()
}

/// `erf(x)` to ~1e-16 by the positive series `erf(x) = (2/√π) e^{−x²} Σ_n 2ⁿ x^{2n+1} / (2n+1)!!`
/// (no cancellation; ±1 beyond |x| = 6, where `1 − |erf| < 2e-17`). Written here because statrs'
/// `erf` is only accurate to ~1e-11 (e.g. at x = 0.85), too coarse for the 1e-12 identities.
pub fn erf(x: f64) -> f64 {
    if x.abs() >= 6.0 {
        return x.signum();
    }
    let x2 = x * x;
    let mut term = x;
    let mut sum = x;
    let mut n = 0.0;
    while term.abs() > 1e-17 * sum.abs() {
        n += 1.0;
        term *= 2.0 * x2 / (2.0 * n + 1.0);
        sum += term;
    }
    2.0 / PI.sqrt() * (-x2).exp() * sum
}

/// Running mean and standard error of the mean, componentwise.
pub struct MeanSe {
    n: usize,
    sum: Vec<f64>,
    sum2: Vec<f64>,
}

impl MeanSe {
    pub fn new(len: usize) -> Self {
        MeanSe {
            n: 0,
            sum: vec![0.0; len],
            sum2: vec![0.0; len],
        }
    }
    pub fn add(&mut self, v: &[f64]) {
        self.n += 1;
        for i in 0..v.len() {
            self.sum[i] += v[i];
            self.sum2[i] += v[i] * v[i];
        }
    }
    pub fn mean(&self) -> Vec<f64> {
        self.sum.iter().map(|s| s / self.n as f64).collect()
    }
    pub fn se(&self) -> Vec<f64> {
        let n = self.n as f64;
        self.sum
            .iter()
            .zip(&self.sum2)
            .map(|(s, s2)| {
                let m = s / n;
                ((s2 / n - m * m).max(0.0) * n / (n - 1.0) / n).sqrt()
            })
            .collect()
    }
}

/// Largest `|value − reference| / se` over the entries (the z-score of the worst entry).
pub fn worst_z(value: &[f64], reference: &[f64], se: &[f64]) -> f64 {
    value
        .iter()
        .zip(reference)
        .zip(se)
        .map(|((v, r), s)| (v - r).abs() / s.max(1e-300))
        .fold(0.0, f64::max)
}

/// `∫_a^b f` by the composite trapezoid rule with `n` intervals: for integrands that decay to
/// negligible values at both ends and are analytic in a strip, the error falls like
/// `exp(−2πd/h)` (far below 1e-13 for the step sizes used here).
pub fn trapezoid(f: impl Fn(f64) -> f64, a: f64, b: f64, n: usize) -> f64 {
    let h = (b - a) / n as f64;
    let mut s = 0.5 * (f(a) + f(b));
    for i in 1..n {
        s += f(a + i as f64 * h);
    }
    s * h
}

/// Composite Simpson rule with `n` (even) intervals; error `(b−a) h⁴ max|f⁗| / 180`.
pub fn simpson(f: impl Fn(f64) -> f64, a: f64, b: f64, n: usize) -> f64 {
    assert!(n.is_multiple_of(2));
    let h = (b - a) / n as f64;
    let mut s = f(a) + f(b);
    for i in 1..n {
        s += if i % 2 == 1 { 4.0 } else { 2.0 } * f(a + i as f64 * h);
    }
    s * h / 3.0
}

/// Gauss–Hermite nodes and weights for `∫ f(x) e^{−x²} dx` (physicists'), by Newton's method on
/// the orthonormal Hermite recurrence (Numerical Recipes' `gauher`).
pub fn gauss_hermite(n: usize) -> (Vec<f64>, Vec<f64>) {
    let pim4 = PI.powf(-0.25);
    let mut x = vec![0.0; n];
    let mut w = vec![0.0; n];
    let m = n.div_ceil(2);
    let mut z = 0.0f64;
    for i in 0..m {
        z = match i {
            0 => (2.0 * n as f64 + 1.0).sqrt() - 1.85575 * (2.0 * n as f64 + 1.0).powf(-1.0 / 6.0),
            1 => z - 1.14 * (n as f64).powf(0.426) / z,
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
                p1 = z * (2.0 / (j as f64 + 1.0)).sqrt() * p2
                    - (j as f64 / (j as f64 + 1.0)).sqrt() * p3;
            }
            pp = (2.0 * n as f64).sqrt() * p2;
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
    (x, w)
}

/// `E[f(Z)]`, `Z ~ N(0, 1)`, by an `n`-point Gauss–Hermite rule.
pub fn expect_normal(f: impl Fn(f64) -> f64, n: usize) -> f64 {
    let (x, w) = gauss_hermite(n);
    x.iter()
        .zip(&w)
        .map(|(xi, wi)| wi * f(2f64.sqrt() * xi))
        .sum::<f64>()
        / PI.sqrt()
}

/// `E[f(z1, z2)]`, `(z1, z2) ~ N(0, [[s11, s12], [s12, s22]])`, by a tensor Gauss–Hermite rule on
/// the Cholesky factor.
pub fn expect_bivariate(
    s11: f64,
    s12: f64,
    s22: f64,
    f: impl Fn(f64, f64) -> f64,
    n: usize,
) -> f64 {
    let (x, w) = gauss_hermite(n);
    let l11 = s11.sqrt();
    let l21 = s12 / l11;
    let l22 = (s22 - l21 * l21).max(0.0).sqrt();
    let mut s = 0.0;
    for i in 0..n {
        let u = 2f64.sqrt() * x[i];
        for j in 0..n {
            let v = 2f64.sqrt() * x[j];
            s += w[i] * w[j] * f(l11 * u, l21 * u + l22 * v);
        }
    }
    s / PI
}

pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

pub fn matmul(a: &Mat, b: &Mat) -> Mat {
    let (n, k, m) = (a.len(), b.len(), b[0].len());
    let mut c = vec![vec![0.0; m]; n];
    for i in 0..n {
        for l in 0..k {
            for j in 0..m {
                c[i][j] += a[i][l] * b[l][j];
            }
        }
    }
    c
}

pub fn transpose(a: &Mat) -> Mat {
    let (n, m) = (a.len(), a[0].len());
    (0..m).map(|j| (0..n).map(|i| a[i][j]).collect()).collect()
}

pub fn identity(n: usize) -> Mat {
    (0..n)
        .map(|i| (0..n).map(|j| if i == j { 1.0 } else { 0.0 }).collect())
        .collect()
}

pub fn max_abs_diff(a: &Mat, b: &Mat) -> f64 {
    a.iter()
        .zip(b)
        .flat_map(|(r, s)| r.iter().zip(s).map(|(x, y)| (x - y).abs()))
        .fold(0.0, f64::max)
}

/// Inverse and determinant by Gauss–Jordan elimination with partial pivoting.
pub fn inverse_det(a: &Mat) -> (Mat, f64) {
    let n = a.len();
    let mut m: Mat = a.clone();
    let mut inv = identity(n);
    let mut det = 1.0;
    for c in 0..n {
        let p = (c..n)
            .max_by(|&i, &j| m[i][c].abs().total_cmp(&m[j][c].abs()))
            .unwrap();
        if p != c {
            m.swap(p, c);
            inv.swap(p, c);
            det = -det;
        }
        let d = m[c][c];
        det *= d;
        for j in 0..n {
            m[c][j] /= d;
            inv[c][j] /= d;
        }
        for i in 0..n {
            if i != c {
                let f = m[i][c];
                if f != 0.0 {
                    for j in 0..n {
                        m[i][j] -= f * m[c][j];
                        inv[i][j] -= f * inv[c][j];
                    }
                }
            }
        }
    }
    (inv, det)
}

/// Eigenvalues (ascending) and eigenvectors (columns of the returned matrix) of a symmetric
/// matrix by cyclic Jacobi rotations, to `1e-15` relative off-diagonal mass.
pub fn jacobi_eigen(a: &Mat) -> (Vec<f64>, Mat) {
    let n = a.len();
    let mut m = a.clone();
    let mut v = identity(n);
    let norm: f64 = m.iter().flatten().map(|x| x * x).sum::<f64>().sqrt();
    for _sweep in 0..100 {
        let off: f64 = (0..n)
            .flat_map(|i| (0..n).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| m[i][j] * m[i][j])
            .sum::<f64>()
            .sqrt();
        if off <= 1e-15 * norm || off == 0.0 {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                if m[p][q].abs() < 1e-300 {
                    continue;
                }
                let theta = (m[q][q] - m[p][p]) / (2.0 * m[p][q]);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..n {
                    let (mkp, mkq) = (m[k][p], m[k][q]);
                    m[k][p] = c * mkp - s * mkq;
                    m[k][q] = s * mkp + c * mkq;
                }
                for k in 0..n {
                    let (mpk, mqk) = (m[p][k], m[q][k]);
                    m[p][k] = c * mpk - s * mqk;
                    m[q][k] = s * mpk + c * mqk;
                }
                for k in 0..n {
                    let (vkp, vkq) = (v[k][p], v[k][q]);
                    v[k][p] = c * vkp - s * vkq;
                    v[k][q] = s * vkp + c * vkq;
                }
            }
        }
    }
    let mut idx: Vec<usize> = (0..n).collect();
    idx.sort_by(|&i, &j| m[i][i].total_cmp(&m[j][j]));
    let vals = idx.iter().map(|&i| m[i][i]).collect();
    let vecs = (0..n)
        .map(|k| idx.iter().map(|&i| v[k][i]).collect())
        .collect();
    (vals, vecs)
}

/// Numerical rank of a (rows × cols) matrix from the Jacobi eigenvalues of the smaller Gram matrix
/// (`AAᵀ` or `AᵀA`): singular values above `rel · σ_max`. Forming the Gram matrix squares the
/// condition number, so zero singular values come out at ≈ √(D ε) σ_max ≈ 1e-7 σ_max: use
/// `rel ≥ 1e-6`. Returns the rank and the gap ratio (smallest kept / largest dropped).
pub fn rank(a: &Mat, rel: f64) -> (usize, f64) {
    let ata = if a.len() < a[0].len() {
        matmul(a, &transpose(a))
    } else {
        matmul(&transpose(a), a)
    };
    let (vals, _) = jacobi_eigen(&ata);
    let sv: Vec<f64> = vals.iter().map(|v| v.max(0.0).sqrt()).collect();
    let smax = sv.iter().cloned().fold(0.0, f64::max);
    let kept: Vec<f64> = sv.iter().cloned().filter(|&s| s > rel * smax).collect();
    let dropped = sv
        .iter()
        .cloned()
        .filter(|&s| s <= rel * smax)
        .fold(0.0, f64::max);
    let smallest_kept = kept.iter().cloned().fold(f64::INFINITY, f64::min);
    (kept.len(), smallest_kept / dropped.max(1e-300))
}

/// A two-layer network written out for the tests: `y = Σ_m a_m g(w_m·x)`.
#[derive(Clone, Debug)]
pub struct Net {
    pub w1: Mat,
    pub w2: Vec<f64>,
}

impl Net {
    /// Teacher scaling of the paper: `W1 ~ N(0, 1/Ni)`, `W2 ~ N(0, 1/Nh)`.
    pub fn random(ni: usize, nh: usize, seed: u64) -> Net {
        let mut r = rng(seed);
        let w1 = (0..nh)
            .map(|_| {
                normals(&mut r, ni)
                    .iter()
                    .map(|v| v / (ni as f64).sqrt())
                    .collect()
            })
            .collect();
        let w2 = normals(&mut r, nh)
            .iter()
            .map(|v| v / (nh as f64).sqrt())
            .collect();
        Net { w1, w2 }
    }
    pub fn ni(&self) -> usize {
        self.w1[0].len()
    }
    pub fn nh(&self) -> usize {
        self.w1.len()
    }
    pub fn dim(&self) -> usize {
        self.nh() * (self.ni() + 1)
    }
    /// θ in the order of INTERFACE.md: W1 row by row, then W2.
    pub fn params(&self) -> Vec<f64> {
        let mut t: Vec<f64> = self.w1.iter().flatten().cloned().collect();
        t.extend(&self.w2);
        t
    }
    pub fn from_params(ni: usize, nh: usize, t: &[f64]) -> Net {
        Net {
            w1: (0..nh).map(|m| t[m * ni..(m + 1) * ni].to_vec()).collect(),
            w2: t[nh * ni..].to_vec(),
        }
    }
    pub fn output(&self, g: &dyn Fn(f64) -> f64, x: &[f64]) -> f64 {
        self.w1
            .iter()
            .zip(&self.w2)
            .map(|(w, a)| a * g(dot(w, x)))
            .sum()
    }
    /// `J = ∂y/∂θ`: `a_m g'(z_m) x_n`, then `g(z_k)`.
    pub fn jacobian(&self, g: &dyn Fn(f64) -> f64, g1: &dyn Fn(f64) -> f64, x: &[f64]) -> Vec<f64> {
        let (ni, nh) = (self.ni(), self.nh());
        let mut j = vec![0.0; self.dim()];
        for m in 0..nh {
            let z = dot(&self.w1[m], x);
            for n in 0..ni {
                j[m * ni + n] = self.w2[m] * g1(z) * x[n];
            }
            j[nh * ni + m] = g(z);
        }
        j
    }
    pub fn to_library(&self, act: nearopt::Activation) -> nearopt::Network {
        nearopt::Network::from_rows(act, &self.w1, self.w2.clone()).unwrap()
    }
}

/// The library's exact population Hessian at the optimum, as rows.
pub fn library_hessian(net: &Net, act: nearopt::Activation) -> Mat {
    let h = nearopt::PopulationHessian::at_optimum(&net.to_library(act))
        .dense()
        .unwrap();
    (0..h.rows()).map(|i| h.row(i).to_vec()).collect()
}

/// Monte Carlo `E[J Jᵀ]` over `n` standard normal inputs (seed `seed`), flattened row-major,
/// with per-entry standard errors.
pub fn mc_outer(
    net: &Net,
    g: &dyn Fn(f64) -> f64,
    g1: &dyn Fn(f64) -> f64,
    n: usize,
    seed: u64,
) -> (Vec<f64>, Vec<f64>) {
    let d = net.dim();
    let mut r = rng(seed);
    let mut acc = MeanSe::new(d * d);
    let mut prod = vec![0.0; d * d];
    for _ in 0..n {
        let x = normals(&mut r, net.ni());
        let j = net.jacobian(g, g1, &x);
        for a in 0..d {
            for b in 0..d {
                prod[a * d + b] = j[a] * j[b];
            }
        }
        acc.add(&prod);
    }
    (acc.mean(), acc.se())
}

pub fn flatten(m: &Mat) -> Vec<f64> {
    m.iter().flatten().cloned().collect()
}

pub fn binom(n: u64, k: u64) -> u64 {
    if k > n {
        return 0;
    }
    (0..k).fold(1u64, |acc, i| acc * (n - i) / (i + 1))
}
