//! Exact ranks for polynomial activations (linear, quadratic, polynomial), with or without
//! biases.
//!
//! At the optimum `H = E[J Jᵀ]` is the Gram matrix, in `L²(N(0, I))`, of the `D` functions
//! `J_(m,n)(x) = a_m g'(z_m) x_n`, `J_k(x) = g(z_k)` and, where the network has them,
//! `J_b1_m(x) = a_m g'(z_m)` and `J_b2(x) = 1`, with `z_m = w_m·x + b1_m` (`b1_m = 0` without
//! hidden biases). For polynomial `g` these are
//! polynomials in `x`; writing them in the monomial basis, `J = C · x^α` with a `D × M` matrix
//! `C`, gives `H = C G Cᵀ` with `G_αβ = E[x^(α+β)] = Π_n (α_n+β_n−1)!!` (zero unless every
//! exponent is even). `G` is positive definite (distinct monomials are linearly independent
//! functions and the Gaussian has full support), so `rank H = rank C` exactly. Every `f64` is a
//! dyadic rational, so `C` is exact in ℚ; after scaling each row by a power of two its rank is
//! `min(D, M)` when the rank modulo a 61-bit prime reaches that (a lower bound meeting the
//! trivial upper bound), and otherwise found by Bareiss elimination over ℤ. This route shares nothing with the closed forms of
//! `activation/` (no pair moments, no Stein's lemma).

use super::bareiss;
use super::dyadic::rational;
use crate::network::Network;
use num_bigint::BigInt;
use num_integer::Integer;
use num_rational::BigRational;
use num_traits::{One, Zero};
use std::collections::BTreeMap;

/// A polynomial in `x_1, …, x_Ni`: exponent vector → exact coefficient.
type Poly = BTreeMap<Vec<u32>, BigRational>;

fn add_scaled(acc: &mut Poly, p: &Poly, s: &BigRational) {
    if s.is_zero() {
        return;
    }
    for (k, v) in p {
        let e = acc.entry(k.clone()).or_insert_with(BigRational::zero);
        *e += v * s;
    }
    acc.retain(|_, v| !v.is_zero());
}

/// `p · (Σ_n w_n x_n + b)` (exact; `b = 0` gives the linear form).
fn times_affine(p: &Poly, w: &[BigRational], b: &BigRational) -> Poly {
    let mut out = Poly::new();
    for (k, v) in p {
        if !b.is_zero() {
            *out.entry(k.clone()).or_insert_with(BigRational::zero) += v * b;
        }
        for (n, wn) in w.iter().enumerate() {
            if wn.is_zero() {
                continue;
            }
            let mut e = k.clone();
            e[n] += 1;
            *out.entry(e).or_insert_with(BigRational::zero) += v * wn;
        }
    }
    out.retain(|_, v| !v.is_zero());
    out
}

/// `p · x_n`.
fn times_variable(p: &Poly, n: usize) -> Poly {
    p.iter()
        .map(|(k, v)| {
            let mut e = k.clone();
            e[n] += 1;
            (e, v.clone())
        })
        .collect()
}

/// The coefficients `c_0, …, c_deg` of `g` if the activation is a polynomial, exactly.
pub fn coefficients(net: &Network) -> Option<Vec<BigRational>> {
    use crate::activation::Activation;
    let c: Vec<f64> = match net.activation() {
        Activation::Linear => vec![0.0, 1.0],
        Activation::Quadratic { epsilon } => vec![0.0, 1.0, *epsilon],
        Activation::Polynomial { coefficients } => coefficients.clone(),
        _ => return None,
    };
    Some(c.iter().map(|&v| rational(v)).collect())
}

/// Number of monomials of degree ≤ `deg` in `ni` variables, `C(ni + deg, deg)` (saturating).
pub fn monomial_count(ni: usize, deg: usize) -> u128 {
    let mut c: u128 = 1;
    for k in 1..=deg as u128 {
        c = c.saturating_mul(ni as u128 + k) / k;
    }
    c
}

/// The `D` rows of `C` (parameter order of `INTERFACE.md`: W1, W2, then `b1`, `b2` where the
/// network has them) as polynomials. A bias is a dyadic rational like every weight, so the
/// rows stay exact: `(w·x + b)^k` is expanded in ℚ.
fn jacobian_polynomials(net: &Network, coeffs: &[BigRational]) -> Vec<Poly> {
    let (ni, nh) = (net.ni(), net.nh());
    let deg = coeffs.len().saturating_sub(1);
    let mut rows = Vec::with_capacity(net.dim());
    let mut g_polys = Vec::with_capacity(nh);
    let mut b1_polys = Vec::with_capacity(nh);
    for m in 0..nh {
        let w: Vec<BigRational> = net.w1_row(m).iter().map(|&v| rational(v)).collect();
        let b = rational(net.hidden_bias(m));
        // Powers (w·x + b)^k, k = 0..deg.
        let mut powers: Vec<Poly> = Vec::with_capacity(deg + 1);
        powers.push(Poly::from([(vec![0u32; ni], BigRational::one())]));
        for k in 1..=deg {
            let next = times_affine(&powers[k - 1], &w, &b);
            powers.push(next);
        }
        let mut g = Poly::new();
        let mut dg = Poly::new();
        for (k, c) in coeffs.iter().enumerate() {
            add_scaled(&mut g, &powers[k], c);
            if k >= 1 {
                add_scaled(
                    &mut dg,
                    &powers[k - 1],
                    &(c * BigRational::from_integer(k.into())),
                );
            }
        }
        let a = rational(net.w2()[m]);
        let mut adg = Poly::new();
        add_scaled(&mut adg, &dg, &a);
        for n in 0..ni {
            rows.push(times_variable(&adg, n));
        }
        g_polys.push(g);
        b1_polys.push(adg);
    }
    rows.extend(g_polys);
    if net.b1().is_some() {
        rows.extend(b1_polys);
    }
    if net.b2().is_some() {
        rows.push(Poly::from([(vec![0u32; ni], BigRational::one())]));
    }
    rows
}

/// The matrix `C` (rational) and its monomial columns.
fn coefficient_matrix(
    net: &Network,
    coeffs: &[BigRational],
) -> (Vec<Vec<BigRational>>, Vec<Vec<u32>>) {
    let polys = jacobian_polynomials(net, coeffs);
    let mut cols: BTreeMap<Vec<u32>, usize> = BTreeMap::new();
    for p in &polys {
        for k in p.keys() {
            let len = cols.len();
            cols.entry(k.clone()).or_insert(len);
        }
    }
    let mut monomials = vec![Vec::new(); cols.len()];
    for (k, &i) in &cols {
        monomials[i] = k.clone();
    }
    let c = polys
        .iter()
        .map(|p| {
            let mut row = vec![BigRational::zero(); cols.len()];
            for (k, v) in p {
                row[cols[k]] = v.clone();
            }
            row
        })
        .collect();
    (c, monomials)
}

/// Each row multiplied by the lcm of its denominators: an integer matrix of the same rank.
pub fn integer_rows(c: &[Vec<BigRational>]) -> Vec<Vec<BigInt>> {
    c.iter()
        .map(|row| {
            let l = row.iter().fold(BigInt::one(), |l, v| l.lcm(v.denom()));
            row.iter().map(|v| v.numer() * (&l / v.denom())).collect()
        })
        .collect()
}

/// The exact rank of the Hessian at the optimum, `rank C` (see the module docs), and the number
/// of monomials `M` that occur. `None` if the activation is not a polynomial.
pub fn exact_rank(net: &Network) -> Option<(usize, usize)> {
    let coeffs = coefficients(net)?;
    let (c, monomials) = coefficient_matrix(net, &coeffs);
    let rows = integer_rows(&c);
    // rank mod p is a lower bound and min(D, M) an upper bound: equal, they are the rank
    // (the common case, in O(D M min(D, M)) word operations); otherwise exact Bareiss.
    let full = rows.len().min(monomials.len());
    let r = if bareiss::rank_mod_p(&rows, bareiss::MERSENNE_61) == full {
        full
    } else {
        bareiss::rank(rows)
    };
    Some((r, monomials.len()))
}

/// `E[x^γ]` for `x ~ N(0, I)`: `Π_n (γ_n − 1)!!`, zero if some `γ_n` is odd.
fn gaussian_monomial_moment(gamma: &[u32]) -> BigInt {
    let mut v = BigInt::one();
    for &g in gamma {
        if g % 2 == 1 {
            return BigInt::zero();
        }
        let mut k = g as i64 - 1;
        while k > 1 {
            v *= k;
            k -= 2;
        }
    }
    v
}

/// The exact population Hessian at the optimum, `C G Cᵀ` in ℚ (row-major `D × D`, biases
/// included where the network has them), for a polynomial activation; `None` otherwise. Cost `O(D M² + D² M)` rational operations — meant
/// for checks on small networks, not for the rank (which uses `C` directly).
pub fn exact_hessian(net: &Network) -> Option<Vec<BigRational>> {
    let coeffs = coefficients(net)?;
    let (c, mons) = coefficient_matrix(net, &coeffs);
    let mm = mons.len();
    let gram: Vec<BigInt> = (0..mm * mm)
        .map(|i| {
            let (a, b) = (&mons[i / mm], &mons[i % mm]);
            let g: Vec<u32> = a.iter().zip(b).map(|(x, y)| x + y).collect();
            gaussian_monomial_moment(&g)
        })
        .collect();
    let cg: Vec<Vec<BigRational>> = c
        .iter()
        .map(|row| {
            (0..mm)
                .map(|b| {
                    let mut s = BigRational::zero();
                    for (a, v) in row.iter().enumerate() {
                        let g = &gram[a * mm + b];
                        if !v.is_zero() && !g.is_zero() {
                            s += v * BigRational::from_integer(g.clone());
                        }
                    }
                    s
                })
                .collect()
        })
        .collect();
    let d = c.len();
    let mut h = vec![BigRational::zero(); d * d];
    for i in 0..d {
        for j in 0..d {
            let mut s = BigRational::zero();
            for (x, y) in cg[i].iter().zip(&c[j]) {
                if !x.is_zero() && !y.is_zero() {
                    s += x * y;
                }
            }
            h[i * d + j] = s;
        }
    }
    Some(h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaussian_moments_of_monomials() {
        assert_eq!(gaussian_monomial_moment(&[4, 2]), BigInt::from(3));
        assert_eq!(gaussian_monomial_moment(&[6]), BigInt::from(15));
        assert_eq!(gaussian_monomial_moment(&[1, 2]), BigInt::zero());
        assert_eq!(gaussian_monomial_moment(&[0, 0]), BigInt::one());
    }

    #[test]
    fn monomial_counts() {
        assert_eq!(monomial_count(3, 2), 10);
        assert_eq!(monomial_count(1, 4), 5);
        assert_eq!(monomial_count(4, 4), 70);
    }
}
