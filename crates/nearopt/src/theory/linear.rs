//! The Hessian eigenvalue law of the linear network (paper Section 3.1, App. A.3, Fig. 2).

use super::quadrature::tanh_sinh_rel;
use super::{Law, MarchenkoPastur, ScaledChiSquare};
use crate::error::Result;
use std::f64::consts::PI;

/// Tolerances of each tanh-sinh piece (on the level-to-level change; the true error of the
/// accepted level is far smaller): absolute, and relative to the piece's value (so that upper-tail
/// probabilities of order 1e-12 stay accurate).
const PIECE_ABS_TOL: f64 = 1e-16;
const PIECE_REL_TOL: f64 = 1e-11;

/// The law `C` of `λ₂ + λ₁` with `λ₂ ~ χ²_{N_h}/N_h` and `λ₁ ~` [`MarchenkoPastur`]`(N_i, N_h)`
/// independent (paper Section 3.1, "convolution of the scaled chi-square distribution with the
/// scaled Marchenko–Pastur distribution").
///
/// `f_C(x) = ∫ f_MP(t) f_χ(x − t) dt` and `F_C(x) = ∫ f_MP(t) F_χ(x − t) dt`, computed by tanh-sinh
/// quadrature in the angle variable `t = (a+b)/2 − r cos θ` (which absorbs the square-root edges of
/// the Marchenko–Pastur density), split where `x − t` crosses `1 + jσ_χ` (so a narrow χ² peak
/// cannot be stepped over) and at `t = x` (where `f_χ(x − t)` may be singular, as `(x−t)^{-1/2}` for
/// one degree of freedom, or jump, for two); the distance `x − t` to that point is evaluated
/// without cancellation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChiSquareMpConvolution {
    /// The law of `λ₂ = ‖W2‖²`.
    pub chi: ScaledChiSquare,
    /// The law of the nonzero eigenvalues `λ₁` of `W1 W1ᵀ`.
    pub mp: MarchenkoPastur,
}

impl ChiSquareMpConvolution {
    /// `C` for a network with `ni` inputs and `nh` hidden units; refuses zero sizes.
    pub fn new(ni: usize, nh: usize) -> Result<Self> {
        Ok(Self {
            chi: ScaledChiSquare::new(nh)?,
            mp: MarchenkoPastur::new(ni, nh)?,
        })
    }

    /// `∫_0^{θ_x} g(θ) h(x − t(θ)) dθ` where `g` is the MP density in the angle variable, split as
    /// described on the type. `h` gets `s = x − t(θ) > 0`.
    fn integrate<H: Fn(f64) -> f64>(&self, x: f64, h: H) -> f64 {
        let (a, b) = self.mp.edges();
        if x <= a {
            return 0.0;
        }
        let r = self.mp.half_width();
        let above = x >= b;
        let theta_x = if above { PI } else { self.mp.theta_of_t(x) };
        // s = x − t(θ) from d = θ_x − θ, without cancellation near d = 0.
        let s_of = |d: f64, theta: f64| -> f64 {
            if above {
                let c = (0.5 * d).sin();
                (x - b) + 2.0 * r * c * c
            } else {
                2.0 * r * (0.5 * d).sin() * (0.5 * (theta_x + theta)).sin()
            }
        };
        // Break points: where s crosses 1 + jσ.
        let sigma = self.chi.variance().sqrt();
        let mut cuts: Vec<f64> = [-6.0, -3.0, -1.0, 0.0, 1.0, 3.0, 6.0]
            .iter()
            .map(|j| 1.0 + j * sigma)
            .filter(|s| *s > 0.0)
            .map(|s| x - s)
            .filter(|t| *t > a && *t < b.min(x))
            .map(|t| self.mp.theta_of_t(t))
            .filter(|th| *th > 0.0 && *th < theta_x)
            .collect();
        cuts.sort_by(f64::total_cmp);
        cuts.dedup();
        let mut total = 0.0;
        let mut lo = 0.0;
        for (i, hi) in cuts
            .iter()
            .copied()
            .chain(std::iter::once(theta_x))
            .enumerate()
        {
            let last = i == cuts.len();
            let q = tanh_sinh_rel(
                |theta, _, db| {
                    let d = if last { db } else { theta_x - theta };
                    let s = s_of(d, theta);
                    if s <= 0.0 {
                        return 0.0;
                    }
                    self.mp.density_theta(theta) * h(s)
                },
                lo,
                hi,
                PIECE_ABS_TOL,
                PIECE_REL_TOL,
            );
            total += q.value;
            lo = hi;
        }
        total
    }

    /// Survival function `P(X > x)`, accurate in the upper tail.
    pub fn sf(&self, x: f64) -> f64 {
        let (a, _) = self.mp.edges();
        if x <= a {
            return 1.0;
        }
        // P(λ₁ + λ₂ > x) = ∫_{t<x} f_MP(t) S_χ(x − t) dt + P(λ₁ ≥ x).
        let beyond = 1.0 - self.mp.cdf(x);
        (self.integrate(x, |s| self.chi.sf(s)) + beyond).clamp(0.0, 1.0)
    }
}

impl Law for ChiSquareMpConvolution {
    fn pdf(&self, x: f64) -> f64 {
        if x.is_nan() || x.is_infinite() {
            return 0.0;
        }
        self.integrate(x, |s| self.chi.pdf(s)).max(0.0)
    }

    fn cdf(&self, x: f64) -> f64 {
        if x.is_nan() {
            return 0.0;
        }
        if x.is_infinite() {
            return if x > 0.0 { 1.0 } else { 0.0 };
        }
        if x > self.mean() {
            1.0 - self.sf(x)
        } else {
            self.integrate(x, |s| self.chi.cdf(s)).clamp(0.0, 1.0)
        }
    }

    fn support(&self) -> (f64, f64) {
        let (a, b) = self.mp.edges();
        (a, b + self.chi.support().1)
    }

    /// `E[λ₂] + E[λ₁] = 1 + max(1, N_h/N_i)`.
    fn mean(&self) -> f64 {
        self.chi.mean() + self.mp.mean()
    }
}

/// The law of the `N_i` nonzero Hessian eigenvalues of the linear network at the optimum, `W1`
/// entries `N(0, 1/N_i)`, `W2` entries `N(0, 1/N_h)` (paper Section 3.1 and App. A.3).
///
/// The eigenvalues are `‖W2‖² + μ_k` for the `N_i` eigenvalues `μ_k` of `W1ᵀ W1`. For `N_i ≤ N_h`
/// all `μ_k` are nonzero and the law is [`ChiSquareMpConvolution`] `C`; for `N_i > N_h`, `N_i − N_h`
/// of them vanish and the law is the mixture `(N_i − N_h)/N_i · χ²_{N_h}/N_h + N_h/N_i · C`.
/// Its mean is `1 + N_h/N_i` in both cases (`tr H / N_i`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LinearSpectrumLaw {
    /// Input dimension `N_i`.
    pub ni: usize,
    /// Hidden dimension `N_h`.
    pub nh: usize,
}

impl LinearSpectrumLaw {
    /// The law for `ni` inputs and `nh` hidden units; refuses zero sizes.
    pub fn new(ni: usize, nh: usize) -> Result<Self> {
        ChiSquareMpConvolution::new(ni, nh)?;
        Ok(Self { ni, nh })
    }

    /// The mixture's parts: `(weight of χ²/N_h, the χ² law, weight of C, C)`.
    pub fn components(&self) -> (f64, ScaledChiSquare, f64, ChiSquareMpConvolution) {
        let w_chi = self.ni.saturating_sub(self.nh) as f64 / self.ni as f64;
        let conv = ChiSquareMpConvolution {
            chi: ScaledChiSquare { dof: self.nh },
            mp: MarchenkoPastur {
                ni: self.ni,
                nh: self.nh,
            },
        };
        (w_chi, conv.chi, 1.0 - w_chi, conv)
    }
}

impl Law for LinearSpectrumLaw {
    fn pdf(&self, x: f64) -> f64 {
        let (wc, chi, wv, conv) = self.components();
        let mut p = wv * conv.pdf(x);
        if wc > 0.0 {
            p += wc * chi.pdf(x);
        }
        p
    }

    fn cdf(&self, x: f64) -> f64 {
        let (wc, chi, wv, conv) = self.components();
        let mut p = wv * conv.cdf(x);
        if wc > 0.0 {
            p += wc * chi.cdf(x);
        }
        p.clamp(0.0, 1.0)
    }

    fn support(&self) -> (f64, f64) {
        let (wc, chi, _, conv) = self.components();
        let (lo, hi) = conv.support();
        if wc > 0.0 {
            (0.0, hi.max(chi.support().1))
        } else {
            (lo, hi)
        }
    }

    fn mean(&self) -> f64 {
        1.0 + self.nh as f64 / self.ni as f64
    }
}
