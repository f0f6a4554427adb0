//! The scaled chi-square law `χ²_k / k` of `‖W2‖²` (paper Section 3.1 and App. A.1, Fig. 6).

use super::Law;
use crate::error::{Error, Result};
use statrs::function::gamma::{checked_gamma_lr, checked_gamma_ur, ln_gamma};

/// `λ = ‖W2‖² ~ χ²_dof / dof`: the nonzero eigenvalue of the `(W2 W2ᵀ) ⊗ I_{N_i}` block when the
/// `dof = N_h` entries of `W2` are `N(0, 1/N_h)` (paper Section 3.1; App. A.1's `σ²χ²_{N_h}` with
/// `σ² = 1/N_h`). It is the Gamma law with shape `dof/2` and rate `dof/2`: mean 1, variance `2/dof`.
/// Built directly with `dof = 0` (bypassing [`ScaledChiSquare::new`]) the law is undefined and its
/// pdf, CDF and survival function return NaN.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScaledChiSquare {
    /// Degrees of freedom (`N_h`).
    pub dof: usize,
}

impl ScaledChiSquare {
    /// The law `χ²_dof / dof`; refuses `dof = 0`.
    pub fn new(dof: usize) -> Result<Self> {
        if dof == 0 {
            return Err(Error::Invalid(
                "scaled chi-square needs at least 1 degree of freedom".into(),
            ));
        }
        Ok(Self { dof })
    }

    /// Shape (= rate) of the equivalent Gamma law, `dof / 2`.
    fn half(&self) -> f64 {
        self.dof as f64 / 2.0
    }

    /// Survival function `P(X > x)`, accurate in the upper tail.
    pub fn sf(&self, x: f64) -> f64 {
        if self.dof == 0 || x.is_nan() {
            return f64::NAN;
        }
        let z = self.half() * x;
        if x <= 0.0 {
            1.0
        } else if z.is_infinite() {
            0.0
        } else {
            checked_gamma_ur(self.half(), z).unwrap_or(f64::NAN)
        }
    }

    /// Variance `2 / dof`.
    pub fn variance(&self) -> f64 {
        2.0 / self.dof as f64
    }
}

impl Law for ScaledChiSquare {
    /// `f(x) = (k/2)^{k/2} x^{k/2−1} e^{−kx/2} / Γ(k/2)` for `x > 0` (`k = dof`); at `x = 0` it is
    /// `+∞` for `k = 1`, `1` for `k = 2`, `0` beyond.
    fn pdf(&self, x: f64) -> f64 {
        let h = self.half();
        if self.dof == 0 {
            return f64::NAN;
        }
        if x < 0.0 || x.is_nan() {
            return 0.0;
        }
        if x == 0.0 {
            return match self.dof {
                1 => f64::INFINITY,
                2 => 1.0,
                _ => 0.0,
            };
        }
        if x.is_infinite() {
            return 0.0;
        }
        (h * h.ln() + (h - 1.0) * x.ln() - h * x - ln_gamma(h)).exp()
    }

    fn cdf(&self, x: f64) -> f64 {
        if self.dof == 0 {
            return f64::NAN;
        }
        let z = self.half() * x;
        if x <= 0.0 || x.is_nan() {
            0.0
        } else if z.is_infinite() {
            1.0
        } else {
            checked_gamma_lr(self.half(), z).unwrap_or(f64::NAN)
        }
    }

    /// `[0, x_max]` with `P(X > x_max) < 1e-12`.
    fn support(&self) -> (f64, f64) {
        if self.dof == 0 {
            return (0.0, f64::NAN);
        }
        let mut hi = 1.0 + 8.0 * self.variance().sqrt();
        while self.sf(hi) > 1e-12 {
            hi *= 1.25;
        }
        (0.0, hi)
    }

    fn mean(&self) -> f64 {
        1.0
    }
}
