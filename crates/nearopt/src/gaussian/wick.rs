//! Exact Gaussian moments of monomials (Isserlis/Wick), at any order float64 can represent.
//!
//! `E[z1^i z2^j]` for centred `(z1, z2)` with covariance `[[q1, c], [c, q2]]` is a sum over the
//! number `k` of `z1`–`z2` pairs of the pairing counts times `c^k q1^((i−k)/2) q2^((j−k)/2)`. The
//! counts grow like `(i + j − 1)!!`, which overflows float64 at `i + j ≈ 300` although the moment
//! itself, for a small variance, is tiny (a degree-199 polynomial with `|w|² = 3e-3` has
//! `E[z^398] ≈ 1e-73`). Up to [`DIRECT_ORDER_MAX`] the counts are formed directly, from tables
//! of sequential products (bit for bit the values of the earlier direct formula, in `O(min(i, j))`
//! per moment instead of `O(min(i, j)²)`); above it, or where a power of the variances would
//! fall into float64's subnormal range and lose digits, every term is formed from its logarithm
//! (`ln Γ`, relative error about `|ln term| · 1e-16 ≲ 1e-13`), so only a moment whose true value
//! overflows comes out infinite.

use super::Cov2;
use std::sync::OnceLock;

/// Largest `i + j` whose pairing counts are formed directly: every count is at most the number
/// of perfect matchings `(i + j − 1)!!`, and `279!! ≈ 1.6e285` leaves room for the scale factors.
pub const DIRECT_ORDER_MAX: usize = 280;

/// Tables of sequential products up to [`DIRECT_ORDER_MAX`]: `k!`, `(k − 1)!!` and `C(n, k)`.
struct Tables {
    factorial: Vec<f64>,
    double_factorial: Vec<f64>,
    /// `binom[n][k]`, `k ≤ n`.
    binom: Vec<Vec<f64>>,
}

fn tables() -> &'static Tables {
    static T: OnceLock<Tables> = OnceLock::new();
    T.get_or_init(|| {
        let n = DIRECT_ORDER_MAX;
        // The same left-to-right products as `(1..=k).product()` and `(1..k).step_by(2).product()`.
        let mut factorial = vec![1.0; n + 1];
        for k in 1..=n {
            factorial[k] = factorial[k - 1] * k as f64;
        }
        let mut double_factorial = vec![0.0; n + 1];
        let mut acc = 1.0;
        for k in (0..=n).step_by(2) {
            if k >= 2 {
                acc *= (k - 1) as f64;
            }
            double_factorial[k] = acc;
        }
        let binom = (0..=n)
            .map(|m| {
                let mut row = vec![1.0; m + 1];
                let mut acc = 1.0;
                for (i, r) in row.iter_mut().enumerate().skip(1) {
                    acc = acc * (m - (i - 1)) as f64 / i as f64;
                    *r = acc;
                }
                row
            })
            .collect();
        Tables {
            factorial,
            double_factorial,
            binom,
        }
    })
}

/// Double factorial `(k − 1)!!` for even `k` (`E[ξ^k]` of a standard normal), 0 for odd `k`;
/// `+∞` where it exceeds float64 (`k > 300`).
pub fn normal_moment(k: usize) -> f64 {
    if k % 2 == 1 {
        return 0.0;
    }
    if k <= DIRECT_ORDER_MAX {
        return tables().double_factorial[k];
    }
    ln_double_factorial(k).exp()
}

/// `E[z^k]` for `z ~ N(0, var)`: `(k − 1)!! var^(k/2)`, formed from logarithms above
/// [`DIRECT_ORDER_MAX`] so that it is infinite only when the moment itself overflows.
pub fn normal_moment_scaled(k: usize, var: f64) -> f64 {
    if k % 2 == 1 {
        return 0.0;
    }
    if k <= DIRECT_ORDER_MAX {
        let p = var.powi((k / 2) as i32);
        if !loses_precision(var, p) {
            return tables().double_factorial[k] * p;
        }
    }
    if var == 0.0 {
        return 0.0;
    }
    (ln_double_factorial(k) + (k / 2) as f64 * var.ln()).exp()
}

/// Whether the power `p` of a nonzero `base` has come so close to float64's subnormal range (or
/// underflowed to 0) that digits are lost; the moment is then formed from logarithms.
fn loses_precision(base: f64, p: f64) -> bool {
    base != 0.0 && p.abs() < 1e-290
}

/// `ln (k − 1)!!` for even `k`: `ln k! − (k/2) ln 2 − ln (k/2)!`.
fn ln_double_factorial(k: usize) -> f64 {
    let h = k / 2;
    ln_factorial(k) - h as f64 * std::f64::consts::LN_2 - ln_factorial(h)
}

/// Orders up to which `ln k!` is tabulated (beyond, `ln Γ` is evaluated each time).
const LN_TABLE: usize = 4096;

/// `ln n!` (`ln Γ(n + 1)`, tabulated: the logarithmic route calls it six times per term).
fn ln_factorial(n: usize) -> f64 {
    static T: OnceLock<Vec<f64>> = OnceLock::new();
    let t = T.get_or_init(|| {
        (0..=LN_TABLE)
            .map(|k| libm::lgamma(k as f64 + 1.0))
            .collect()
    });
    match t.get(n) {
        Some(v) => *v,
        None => libm::lgamma(n as f64 + 1.0),
    }
}

/// `E[z1^i z2^j]` for centred `(z1, z2)` with covariance `cov`, exactly (Isserlis/Wick):
/// `Σ_k C(i,k) C(j,k) k! (i−k−1)!! (j−k−1)!! c^k q1^((i−k)/2) q2^((j−k)/2)` over
/// `k ≡ i ≡ j (mod 2)`. Cost `O(min(i, j))`. See the module docs for orders above
/// [`DIRECT_ORDER_MAX`].
pub fn bivariate_moment(i: usize, j: usize, cov: Cov2) -> f64 {
    if (i + j) % 2 == 1 {
        return 0.0;
    }
    if i + j > DIRECT_ORDER_MAX {
        return bivariate_moment_logs(i, j, cov);
    }
    let t = tables();
    let mut sum = 0.0;
    let mut k = i % 2;
    while k <= i.min(j) {
        let pairings = t.binom[i][k]
            * t.binom[j][k]
            * t.factorial[k]
            * t.double_factorial[i - k]
            * t.double_factorial[j - k];
        let (pc, p1, p2) = (
            cov.c.powi(k as i32),
            cov.q1.powi(((i - k) / 2) as i32),
            cov.q2.powi(((j - k) / 2) as i32),
        );
        // The product is nonzero in exact arithmetic iff every factor is (0⁰ = 1).
        let nonzero = pc != 0.0 || cov.c != 0.0;
        let nonzero = nonzero && (p1 != 0.0 || cov.q1 != 0.0) && (p2 != 0.0 || cov.q2 != 0.0);
        if loses_precision(cov.c, pc)
            || loses_precision(cov.q1, p1)
            || loses_precision(cov.q2, p2)
            || (nonzero && (pc * p1 * p2).abs() < 1e-290)
        {
            return bivariate_moment_logs(i, j, cov);
        }
        sum += pairings * pc * p1 * p2;
        k += 2;
    }
    sum
}

/// [`bivariate_moment`] with every term formed from its logarithm.
fn bivariate_moment_logs(i: usize, j: usize, cov: Cov2) -> f64 {
    // ln of a power, with 0⁰ = 1; None for 0^(>0).
    let ln_pow = |x: f64, e: usize| -> Option<f64> {
        if e == 0 {
            Some(0.0)
        } else if x == 0.0 {
            None
        } else {
            Some(e as f64 * x.abs().ln())
        }
    };
    let (lfi, lfj) = (ln_factorial(i), ln_factorial(j));
    let mut sum = 0.0;
    let mut k = i % 2;
    while k <= i.min(j) {
        let (a, b) = (i - k, j - k);
        let scale = match (
            ln_pow(cov.c, k),
            ln_pow(cov.q1, a / 2),
            ln_pow(cov.q2, b / 2),
        ) {
            (Some(x), Some(y), Some(z)) => Some(x + y + z),
            _ => None,
        };
        if let Some(scale) = scale {
            // C(i,k) C(j,k) k! = i! j! / (k! (i−k)! (j−k)!)
            let ln_pairings = lfi + lfj - ln_factorial(k) - ln_factorial(a) - ln_factorial(b)
                + ln_double_factorial(a)
                + ln_double_factorial(b);
            let sign = if cov.c < 0.0 && k % 2 == 1 { -1.0 } else { 1.0 };
            sum += sign * (ln_pairings + scale).exp();
        }
        k += 2;
    }
    sum
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Stein's recursion `E[z1^(i+1) z2^j] = i q1 E[z1^(i−1) z2^j] + j c E[z1^i z2^(j−1)]`, which the
    /// summation formula does not use, across the switch to logarithms.
    #[test]
    fn stein_recursion_holds_on_both_sides_of_the_switch() {
        let cov = Cov2 {
            q1: 2.5e-3,
            q2: 1.5e-3,
            c: -1.2e-3,
        };
        let mut worst: f64 = 0.0;
        for i in [1usize, 2, 41, 140, 141, 150, 199, 260] {
            for j in [0usize, 1, 2, 77, 139, 140, 150, 199] {
                let lhs = bivariate_moment(i + 1, j, cov);
                if lhs.abs() < 1e-250 {
                    // Odd total order, or below float64's normal range.
                    continue;
                }
                let rhs = i as f64 * cov.q1 * bivariate_moment(i - 1, j, cov)
                    + if j > 0 {
                        j as f64 * cov.c * bivariate_moment(i, j - 1, cov)
                    } else {
                        0.0
                    };
                assert!(lhs.is_finite(), "E[z1^{} z2^{j}] overflowed", i + 1);
                // Terms of both signs: compare against the scale of the larger part.
                let scale = (i as f64 * cov.q1 * bivariate_moment(i - 1, j, cov)).abs()
                    + if j > 0 {
                        (j as f64 * cov.c * bivariate_moment(i, j - 1, cov)).abs()
                    } else {
                        0.0
                    };
                worst = worst.max((lhs - rhs).abs() / scale);
            }
        }
        assert!(worst < 1e-11, "Stein recursion off by {worst:e}");
    }

    /// In the parallel case `z1 = z2` the moment is `(i+j−1)!! q^((i+j)/2)`, by a route (the
    /// one-variable recursion) that shares nothing with the sum over pairings.
    #[test]
    fn parallel_case_matches_the_one_variable_moment() {
        let q = 3e-3;
        let cov = Cov2 { q1: q, q2: q, c: q };
        let mut m = 1.0; // E[z^0]
        for n in (2..=400).step_by(2) {
            m *= (n - 1) as f64 * q;
            let (i, j) = (n / 2 + n % 4 / 2, n / 2 - n % 4 / 2);
            let got = bivariate_moment(i, j, cov);
            assert!(
                ((got - m) / m).abs() < 1e-12,
                "E[z^{i} z^{j}]: {got:e} against {m:e}"
            );
            let unit = normal_moment_scaled(n, q);
            assert!(
                ((unit - m) / m).abs() < 1e-12,
                "E[z^{n}]: {unit:e} against {m:e}"
            );
        }
    }

    /// The tables reproduce the earlier direct products bit for bit.
    #[test]
    fn tables_are_the_sequential_products() {
        for k in (0..=DIRECT_ORDER_MAX).step_by(2) {
            let direct: f64 = (1..k).step_by(2).map(|j| j as f64).product();
            assert_eq!(normal_moment(k).to_bits(), direct.to_bits());
        }
        for n in [0usize, 5, 77, 140, 280] {
            for k in 0..=n {
                let direct = (0..k).fold(1.0, |acc, i| acc * (n - i) as f64 / (i + 1) as f64);
                assert_eq!(tables().binom[n][k].to_bits(), direct.to_bits());
            }
        }
    }

    /// A moment whose true value overflows is infinite, not a wrong finite number.
    #[test]
    fn a_true_overflow_stays_infinite() {
        let cov = Cov2 {
            q1: 1.0,
            q2: 1.0,
            c: 0.5,
        };
        assert!(bivariate_moment(200, 200, cov).is_infinite());
    }
}
