//! Effective numbers of parameters: the rank of the Hessian at the optimum (paper Sections 3.2,
//! 4.1.1, 4.2 and Appendix B). See `docs/theory.md` for the derivations.
//!
//! The counts are computed in 128-bit arithmetic and saturate at `usize::MAX` (no overflow panic
//! for absurd sizes).

/// `v` as `usize`, saturating.
fn sat(v: u128) -> usize {
    usize::try_from(v).unwrap_or(usize::MAX)
}

/// The linear network: `y = (W2ᵀ W1) x` depends on the `N_i` numbers of `A = W2ᵀW1` only, and the
/// Hessian at the optimum has exactly `N_i` nonzero eigenvalues (Section 3.2).
pub fn linear(ni: usize) -> usize {
    ni
}

/// Eq. 14 as printed: `N_i + N_i(N_i+1)/2 − (ν² + 3ν)/2 · H(ν)`, `ν = N_i − N_h`, for the quadratic
/// activation `g(x) = x + εx²` (`ε ≠ 0`).
///
/// Derived independently in `docs/theory.md` as `N_h N_i − N_h(N_h−1)/2 + N_h` for `N_h < N_i`
/// (dimension of the rank-`N_h` symmetric matrices plus the `N_h` linear coefficients left free in
/// their column space): the two agree, so Eq. 14 is right.
pub fn quadratic_eq14(ni: usize, nh: usize) -> usize {
    sat(quadratic_eq14_wide(ni as u128, nh as u128))
}

fn quadratic_eq14_wide(ni: u128, nh: u128) -> u128 {
    let full = ni + ni * (ni + 1) / 2;
    if nh >= ni {
        full
    } else {
        let nu = ni - nh;
        full - (nu * nu + 3 * nu) / 2
    }
}

/// Dimension of the Hessian's null space for the quadratic activation (`ε ≠ 0`, generic weights):
/// `D − N_eff` with `D = N_h(N_i + 1)`. For `N_h ≤ N_i` it is `N_h(N_h − 1)/2` (the antisymmetric
/// "rotations" of the hidden units that leave both `A = W1ᵀW2` and `B = W1ᵀ diag(W2) W1` fixed; see
/// `docs/theory.md`), so the paper's triangular numbers (Section 4.1.1) hold for every `N_h ≤ N_i`;
/// for `N_h > N_i` it is `N_h(N_i + 1) − N_i(N_i + 3)/2`.
pub fn quadratic_null_dimension(ni: usize, nh: usize) -> usize {
    let (ni, nh) = (ni as u128, nh as u128);
    sat(nh * (ni + 1) - quadratic_eq14_wide(ni, nh))
}

/// Upper bound `C(N_i + n, n) − 1` on the Hessian rank for a degree-`n` polynomial activation
/// without constant term (Section 4.2): the number of monomials of degree 1..=n in `N_i` variables.
/// (An activation with `c₀ ≠ 0` adds the constant function: one more.)
pub fn polynomial_bound(ni: usize, degree: usize) -> usize {
    match binomial(ni.saturating_add(degree), degree) {
        usize::MAX => usize::MAX,
        b => b.saturating_sub(1),
    }
}

/// [`polynomial_bound`] for an activation that may have a constant term: `C(N_i + n, n)` when
/// `has_constant` (the constant function joins the span), `C(N_i + n, n) − 1` otherwise.
pub fn polynomial_bound_general(ni: usize, degree: usize, has_constant: bool) -> usize {
    polynomial_bound(ni, degree).saturating_add(usize::from(has_constant))
}

/// Zero eigenvalues of the Hessian of the quadratic network with `N_i = N_h = N`:
/// `D − N_eff = N(N+1) − N − N(N+1)/2 = N(N−1)/2` (Section 4.1.1).
pub fn zero_eigenvalues_square(n: usize) -> usize {
    let n = n as u128;
    sat(n * n.saturating_sub(1) / 2)
}

/// `C(n, k)` exactly (saturating at `usize::MAX`).
pub fn binomial(n: usize, k: usize) -> usize {
    if k > n {
        return 0;
    }
    let k = k.min(n - k);
    let mut c: u128 = 1;
    for i in 0..k {
        c = c * (n - i) as u128 / (i + 1) as u128;
        if c > usize::MAX as u128 {
            return usize::MAX;
        }
    }
    c as usize
}
