//! Exact null vectors of `H = E[J Jᵀ]` that follow from the network's structure alone.
//!
//! `v` is a null vector iff `Jᵀv = Σ_i v_i J_i(x)` vanishes identically, with
//! `J_(m,n) = a_m g'(w_m·x) x_n` and `J_k = g(w_k·x)`. Identities that hold for every `x`:
//!
//! * `a_m = 0`: `J_(m,n) ≡ 0` for every `n` (`Ni` vectors `e_(m,n)`);
//! * `w_m = 0` and `g(0) = 0`: `J_m ≡ 0` (`e_m`);
//! * `w_m = w_p`: `J_m ≡ J_p` and `a_p J_(m,n) ≡ a_m J_(p,n)`
//!   (`e_m − e_p` and `a_p e_(m,n) − a_m e_(p,n)`);
//! * `w_m = −w_p`, `g` odd (so `g'` even): `J_m ≡ −J_p` and `a_p J_(m,n) ≡ a_m J_(p,n)`
//!   (`e_m + e_p` and `a_p e_(m,n) − a_m e_(p,n)`).
//!
//! The equalities are decided on the exact `f64` weights, and the dimension of the span of the
//! vectors is their exact rank, so `rank H ≤ D − kernel_dimension` holds without any rounding.

use super::bareiss;
use super::dyadic::rational;
use super::polynomial::integer_rows;
use crate::network::Network;
use num_rational::BigRational;
use num_traits::Zero;

/// Facts about `g` that the identities need.
#[derive(Clone, Copy, Debug)]
pub struct Symmetry {
    /// `g(−x) = −g(x)` for all `x`.
    pub odd: bool,
    /// `g(0) = 0`.
    pub zero_at_zero: bool,
}

/// The structural kernel: its exact dimension and a line per identity used.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StructuralKernel {
    /// Dimension of the span of the exact null vectors found.
    pub dimension: usize,
    /// What produced them (e.g. `w2[3] = 0`, `w1 rows 1 and 4 equal`).
    pub reasons: Vec<String>,
}

/// The exact null vectors implied by zero output weights, zero rows (when `g(0) = 0`), equal rows,
/// and opposite rows (when `g` is odd), and the exact dimension of their span.
pub fn structural_kernel(net: &Network, sym: Symmetry) -> StructuralKernel {
    let (ni, nh, d) = (net.ni(), net.nh(), net.dim());
    let a = net.w2();
    let mut vectors: Vec<Vec<f64>> = Vec::new();
    let mut reasons = Vec::new();
    let unit = |i: usize| {
        let mut v = vec![0.0; d];
        v[i] = 1.0;
        v
    };
    for (m, &am) in a.iter().enumerate() {
        if am == 0.0 {
            reasons.push(format!("w2[{m}] = 0"));
            vectors.extend((0..ni).map(|n| unit(net.w1_index(m, n))));
        }
        if sym.zero_at_zero && net.w1_row(m).iter().all(|&v| v == 0.0) {
            reasons.push(format!("w1 row {m} is zero and g(0) = 0"));
            vectors.push(unit(net.w2_index(m)));
        }
    }
    for m in 0..nh {
        for p in m + 1..nh {
            let (u, w) = (net.w1_row(m), net.w1_row(p));
            let equal = u == w;
            let opposite = sym.odd && u.iter().zip(w).all(|(x, y)| *x == -*y);
            if !(equal || opposite) {
                continue;
            }
            reasons.push(format!(
                "w1 rows {m} and {p} {}",
                if equal { "equal" } else { "opposite (g odd)" }
            ));
            let mut v = vec![0.0; d];
            v[net.w2_index(m)] = 1.0;
            v[net.w2_index(p)] = if equal { -1.0 } else { 1.0 };
            vectors.push(v);
            for n in 0..ni {
                let mut v = vec![0.0; d];
                v[net.w1_index(m, n)] = a[p];
                v[net.w1_index(p, n)] = -a[m];
                vectors.push(v);
            }
        }
    }
    let rows: Vec<Vec<BigRational>> = vectors
        .iter()
        .map(|v| v.iter().map(|&x| rational(x)).collect())
        .collect();
    let rows: Vec<Vec<BigRational>> = rows
        .into_iter()
        .filter(|r| r.iter().any(|x| !x.is_zero()))
        .collect();
    StructuralKernel {
        dimension: bareiss::rank(integer_rows(&rows)),
        reasons,
    }
}
