//! Fraction-free (Bareiss) elimination over the integers: exact rank of a rectangular matrix,
//! and the inertia of a symmetric one from its leading principal minors.
//!
//! Bareiss' update `a_ij ← (a_kk a_ij − a_ik a_kj) / a_(k−1)(k−1)` divides exactly, and after step
//! `k` every entry is a `(k+1)×(k+1)` minor of the (permuted) input, so the numbers grow only
//! linearly in bits: `O(n³)` big-integer operations on numbers of at most `n·b + n log n` bits for
//! `b`-bit input entries.

use num_bigint::BigInt;
use num_traits::{Signed, ToPrimitive, Zero};
use rayon::prelude::*;

/// Exact rank of `a` (rows of equal length) over ℚ, by Bareiss elimination with pivot search.
pub fn rank(mut a: Vec<Vec<BigInt>>) -> usize {
    let rows = a.len();
    if rows == 0 {
        return 0;
    }
    let cols = a[0].len();
    let mut prev = BigInt::from(1);
    let mut r = 0;
    for col in 0..cols {
        if r == rows {
            break;
        }
        let Some(piv) = (r..rows).find(|&i| !a[i][col].is_zero()) else {
            continue;
        };
        a.swap(r, piv);
        let (top, rest) = a.split_at_mut(r + 1);
        let pivot_row = &top[r];
        let pk = pivot_row[col].clone();
        rest.par_iter_mut().for_each(|row| {
            let f = row[col].clone();
            for j in col + 1..cols {
                let v = &pk * &row[j] - &f * &pivot_row[j];
                row[j] = v / &prev;
            }
            row[col] = BigInt::zero();
        });
        prev = pk;
        r += 1;
    }
    r
}

/// The prime `2^61 − 1` used by [`rank_mod_p`].
pub const MERSENNE_61: u64 = (1 << 61) - 1;

/// Rank of `a` reduced modulo the prime `p < 2^63` (Gaussian elimination in `u128`). Every
/// minor that is nonzero mod `p` is nonzero over ℤ, so this is a proven **lower bound** on the
/// rank over ℚ; when it equals `min(rows, cols)` it is the rank.
pub fn rank_mod_p(a: &[Vec<BigInt>], p: u64) -> usize {
    let pb = BigInt::from(p);
    let mut m: Vec<Vec<u64>> = a
        .iter()
        .map(|row| {
            row.iter()
                .map(|v| {
                    let r = ((v % &pb) + &pb) % &pb;
                    r.to_u64().expect("reduced below p")
                })
                .collect()
        })
        .collect();
    let rows = m.len();
    let cols = m.first().map_or(0, |r| r.len());
    let mulmod = |x: u64, y: u64| ((x as u128 * y as u128) % p as u128) as u64;
    let inv = |x: u64| {
        // Fermat: x^(p−2).
        let (mut b, mut e, mut r) = (x, p - 2, 1u64);
        while e > 0 {
            if e & 1 == 1 {
                r = mulmod(r, b);
            }
            b = mulmod(b, b);
            e >>= 1;
        }
        r
    };
    let mut r = 0;
    for col in 0..cols {
        if r == rows {
            break;
        }
        let Some(piv) = (r..rows).find(|&i| m[i][col] != 0) else {
            continue;
        };
        m.swap(r, piv);
        let f = inv(m[r][col]);
        let pivot_row: Vec<u64> = m[r].iter().map(|&v| mulmod(v, f)).collect();
        for row in m.iter_mut().skip(r + 1) {
            let c = row[col];
            if c == 0 {
                continue;
            }
            for (x, &y) in row.iter_mut().zip(&pivot_row).skip(col) {
                *x = (*x + p - mulmod(c, y)) % p;
            }
        }
        r += 1;
    }
    r
}

/// The number of positive eigenvalues of the symmetric integer matrix `a` (row-major `n × n`),
/// by Sylvester's law of inertia: with `Δ_0 = 1` and `Δ_k` the leading principal minors, the
/// number of negative eigenvalues is the number of sign changes in `Δ_0, …, Δ_n` when no `Δ_k`
/// is zero. Returns `None` if some `Δ_k` is zero (the caller shifts the matrix and retries).
///
/// Cost: `n³/6` big-integer updates (symmetric: upper triangle only), rows in parallel.
pub fn positive_eigenvalue_count(a: &[BigInt], n: usize) -> Option<usize> {
    assert_eq!(a.len(), n * n);
    // Upper triangle, row i holding columns i..n.
    let mut rows: Vec<Vec<BigInt>> = (0..n).map(|i| a[i * n + i..(i + 1) * n].to_vec()).collect();
    let mut prev = BigInt::from(1);
    let mut negatives = 0;
    let mut prev_negative = false;
    for k in 0..n {
        let pk = rows[k][0].clone();
        if pk.is_zero() {
            return None;
        }
        let neg = pk.is_negative();
        if neg != prev_negative {
            negatives += 1;
        }
        prev_negative = neg;
        let (top, rest) = rows.split_at_mut(k + 1);
        let pivot_row = &top[k];
        // Row i (> k) stores columns i..n; entry (i, j) sits at j − i, and (k, j) at j − k.
        rest.par_iter_mut().enumerate().for_each(|(off, row)| {
            let i = k + 1 + off;
            let f = &pivot_row[i - k];
            for (jj, v) in row.iter_mut().enumerate() {
                let j = i + jj;
                let x = &pk * &*v - f * &pivot_row[j - k];
                *v = x / &prev;
            }
        });
        prev = pk;
        rows[k].clear();
    }
    Some(n - negatives)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(v: &[&[i64]]) -> Vec<Vec<BigInt>> {
        v.iter()
            .map(|r| r.iter().map(|&x| BigInt::from(x)).collect())
            .collect()
    }

    #[test]
    fn rank_of_small_matrices() {
        assert_eq!(rank(m(&[&[1, 2, 3], &[2, 4, 6], &[1, 0, 1]])), 2);
        assert_eq!(rank(m(&[&[0, 0], &[0, 0]])), 0);
        assert_eq!(
            rank(m(&[&[0, 1, 0], &[0, 0, 1], &[0, 1, 1], &[0, 2, 3]])),
            2
        );
        assert_eq!(rank(m(&[&[2, 1], &[1, 2]])), 2);
        // A near-dependency f64 could not see: rows differing by 1 in 10^30.
        let big = BigInt::from(10).pow(30);
        let a = vec![
            vec![big.clone(), big.clone() + 1],
            vec![big.clone(), big.clone()],
        ];
        assert_eq!(rank(a.clone()), 2);
        // Modulo p the same matrix is rank 2 too; a multiple of p collapses (lower bound only).
        assert_eq!(rank_mod_p(&a, MERSENNE_61), 2);
        let p = BigInt::from(MERSENNE_61);
        let b = vec![
            vec![p.clone(), BigInt::from(0)],
            vec![BigInt::from(0), BigInt::from(3)],
        ];
        assert_eq!(rank_mod_p(&b, MERSENNE_61), 1);
        assert_eq!(rank(b), 2);
    }

    #[test]
    fn inertia_from_leading_minors() {
        let flat = |v: &[&[i64]]| -> Vec<BigInt> {
            v.iter()
                .flat_map(|r| r.iter().map(|&x| BigInt::from(x)))
                .collect()
        };
        // Eigenvalues 1, 3 (positive definite).
        assert_eq!(
            positive_eigenvalue_count(&flat(&[&[2, 1], &[1, 2]]), 2),
            Some(2)
        );
        // Eigenvalues 3, −1.
        assert_eq!(
            positive_eigenvalue_count(&flat(&[&[1, 2], &[2, 1]]), 2),
            Some(1)
        );
        // diag(−1, −2, 5) mixed by a unimodular congruence keeps inertia (1 positive).
        let a = flat(&[&[-1, -1, 0], &[-1, -3, 0], &[0, 0, 5]]);
        assert_eq!(positive_eigenvalue_count(&a, 3), Some(1));
        // Zero leading minor: refused.
        assert_eq!(
            positive_eigenvalue_count(&flat(&[&[0, 1], &[1, 0]]), 2),
            None
        );
    }
}
