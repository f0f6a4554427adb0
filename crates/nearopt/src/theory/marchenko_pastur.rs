//! Marchenko–Pastur law of the nonzero eigenvalues of `W1 W1ᵀ` (paper App. A.2, corrected Eq. 15).

use super::quadrature::tanh_sinh;
use super::Law;
use crate::error::{Error, Result};
use std::f64::consts::PI;

/// The nonzero eigenvalues of `W1 W1ᵀ` (`N_h×N_h`), `W1` an `N_h×N_i` matrix with independent
/// `N(0, 1/N_i)` entries, in the limit `N_i, N_h → ∞` at fixed ratio `y = N_h/N_i`.
///
/// Corrected Eq. 15: with `a = (1 − √y)²`, `b = (1 + √y)²`,
///
/// ```text
/// f(x) = √((b − x)(x − a)) / (2π · min(y, 1) · x),   a < x < b.
/// ```
///
/// This is the paper's Eq. 15 with `σ² = 1` (not `1/N_i`; the entries' variance `1/N_i` is exactly
/// the `1/n` of the sample-covariance normalisation) and with the printed factor
/// `(1_{λ≤1} + λ 1_{λ>1}) / λ` read as `1 / min(y, 1)`: it renormalises the continuous part
/// (mass `min(1, 1/y)`) to the `min(N_i, N_h)` nonzero eigenvalues. See `docs/theory.md`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MarchenkoPastur {
    /// Input dimension `N_i` (columns of `W1`).
    pub ni: usize,
    /// Hidden dimension `N_h` (rows of `W1`).
    pub nh: usize,
}

impl MarchenkoPastur {
    /// The law for an `nh × ni` matrix `W1`; refuses zero sizes.
    pub fn new(ni: usize, nh: usize) -> Result<Self> {
        if ni == 0 || nh == 0 {
            return Err(Error::Invalid(format!(
                "Marchenko-Pastur law needs ni >= 1 and nh >= 1, got ni = {ni}, nh = {nh}"
            )));
        }
        Ok(Self { ni, nh })
    }

    /// The aspect ratio `y = N_h / N_i`.
    pub fn ratio(&self) -> f64 {
        self.nh as f64 / self.ni as f64
    }

    /// The edges `(a, b) = ((1 − √y)², (1 + √y)²)`.
    pub fn edges(&self) -> (f64, f64) {
        let s = self.ratio().sqrt();
        ((1.0 - s) * (1.0 - s), (1.0 + s) * (1.0 + s))
    }

    /// Second moment `E[λ²] = max(1, y)·(1 + y)` of the nonzero eigenvalues (limit law).
    pub fn second_moment(&self) -> f64 {
        let y = self.ratio();
        y.max(1.0) * (1.0 + y)
    }

    /// Half-width `r = 2√y` of the support.
    pub(crate) fn half_width(&self) -> f64 {
        2.0 * self.ratio().sqrt()
    }

    /// `t(θ) = a + 2r sin²(θ/2)`, `θ ∈ [0, π]`, the angle parametrisation of the support
    /// (`t = (a+b)/2 − r cos θ`), written without cancellation near `θ = 0`.
    pub(crate) fn t_of_theta(&self, theta: f64) -> f64 {
        let (a, _) = self.edges();
        let s = (0.5 * theta).sin();
        a + 2.0 * self.half_width() * s * s
    }

    /// The angle `θ` with `t(θ) = x`, for `a ≤ x ≤ b`: `θ = 2 atan2(√(x − a), √(b − x))`
    /// (since `sin²(θ/2) = (x − a)/(b − a)`), accurate at both ends.
    pub(crate) fn theta_of_t(&self, x: f64) -> f64 {
        let (a, b) = self.edges();
        if x <= a {
            return 0.0;
        }
        if x >= b {
            return PI;
        }
        2.0 * (x - a).sqrt().atan2((b - x).sqrt())
    }

    /// Density in the angle variable: `f(t(θ)) dt/dθ = r² sin²θ / (2π min(y,1) t(θ))`, smooth on
    /// `[0, π]` (the square-root edges are absorbed by the substitution).
    pub(crate) fn density_theta(&self, theta: f64) -> f64 {
        let r = self.half_width();
        let s = theta.sin();
        let t = self.t_of_theta(theta);
        if t <= 0.0 {
            // y = 1 and θ = 0: the limit r² sin²θ / t → r²·cos²(θ/2)·4/(2r·...) is finite;
            // use the closed form of the limit (t = 2r sin²(θ/2), sin²θ = 4 sin²(θ/2) cos²(θ/2)).
            let c = (0.5 * theta).cos();
            return r * 2.0 * c * c / (2.0 * PI * self.ratio().min(1.0));
        }
        r * r * s * s / (2.0 * PI * self.ratio().min(1.0) * t)
    }
}

impl Law for MarchenkoPastur {
    fn pdf(&self, x: f64) -> f64 {
        let (a, b) = self.edges();
        if !(x > a && x < b) || x <= 0.0 {
            return 0.0;
        }
        ((b - x) * (x - a)).sqrt() / (2.0 * PI * self.ratio().min(1.0) * x)
    }

    /// `F(x) = ∫_0^{θ(x)} f(t(θ)) t'(θ) dθ` by tanh-sinh quadrature (smooth integrand).
    fn cdf(&self, x: f64) -> f64 {
        let (a, b) = self.edges();
        if x.is_nan() || x <= a {
            return 0.0;
        }
        if x >= b {
            return 1.0;
        }
        let th = self.theta_of_t(x);
        // Integrate the smaller side for accuracy near both ends.
        if th <= 0.5 * PI {
            tanh_sinh(|t, _, _| self.density_theta(t), 0.0, th, 1e-14)
                .value
                .clamp(0.0, 1.0)
        } else {
            (1.0 - tanh_sinh(|t, _, _| self.density_theta(t), th, PI, 1e-14).value).clamp(0.0, 1.0)
        }
    }

    fn support(&self) -> (f64, f64) {
        self.edges()
    }

    /// `E[λ] = max(1, y)`: the trace of `W1 W1ᵀ` is `N_h` on average, shared by `min(N_i, N_h)` eigenvalues.
    fn mean(&self) -> f64 {
        self.ratio().max(1.0)
    }
}
