//! `g(x) = x` for `x > 0`, `slope · x` otherwise: `g = (1 − s) relu + s x`, so its centred
//! moments follow from the ReLU kernels ([`super::Relu`]) and Gaussian moments of `x`; with
//! biases the projection quadrature route.

use super::moments::{quadrature_moments, quadrature_unit_moments};
use super::relu::relu_centred;
use super::{ActivationFn, Gauss2, Moments, PairMoments, UnitMoments};
use crate::Result;
use std::f64::consts::PI;

/// Leaky ReLU with negative-side slope `s`. With `r = 1 − s` and `K^R` the ReLU moments
/// (centred; `docs/activations.md`):
///
/// ```text
/// K00 = r² K00ᴿ + r s c + s² c            (E[relu(z1) z2] = c/2)
/// K11 = r² K11ᴿ + r s + s²
/// K10 = r² K10ᴿ + r s (c/√(2π q1) + √q2/√(2π))
/// K20 = r² K20ᴿ,  K22 = r² K22ᴿ,  K31 = r² K31ᴿ   (E[δ(z1) z2] = E[δ'(z1)] = 0)
/// K21 = r² K21ᴿ + r s / √(2π q1)
/// ```
#[derive(Clone, Copy, Debug)]
pub struct LeakyRelu {
    /// The slope `s` for negative inputs.
    pub slope: f64,
}

impl ActivationFn for LeakyRelu {
    fn derivative(&self, order: usize, x: f64) -> f64 {
        match order {
            0 if x > 0.0 => x,
            0 => self.slope * x,
            1 if x > 0.0 => 1.0,
            1 => self.slope,
            _ => 0.0,
        }
    }
    fn kinks(&self) -> &[f64] {
        &[0.0]
    }
    fn moments(&self, gauss: Gauss2) -> Result<Moments> {
        let (q1, q2, c) = (gauss.cov.q1, gauss.cov.q2, gauss.cov.c);
        if !gauss.is_centred() || q1 <= 0.0 || q2 <= 0.0 {
            return quadrature_moments(self, gauss);
        }
        let (s, r) = (self.slope, 1.0 - self.slope);
        let k = relu_centred(gauss.cov);
        let s2pi = (2.0 * PI).sqrt();
        let r2 = r * r;
        Ok(Moments {
            pair: PairMoments {
                k00: r2 * k.pair.k00 + r * s * c + s * s * c,
                k11: r2 * k.pair.k11 + r * s + s * s,
                k20: r2 * k.pair.k20,
                k02: r2 * k.pair.k02,
                k22: r2 * k.pair.k22,
                k31: r2 * k.pair.k31,
                k13: r2 * k.pair.k13,
            },
            k10: r2 * k.k10 + r * s * (c / (s2pi * q1.sqrt()) + q2.sqrt() / s2pi),
            k01: r2 * k.k01 + r * s * (c / (s2pi * q2.sqrt()) + q1.sqrt() / s2pi),
            k21: r2 * k.k21 + r * s / (s2pi * q1.sqrt()),
            k12: r2 * k.k12 + r * s / (s2pi * q2.sqrt()),
        })
    }
    fn unit_moments(&self, mean: f64, var: f64) -> Result<UnitMoments> {
        if mean == 0.0 && var > 0.0 {
            let (s, r, sd) = (self.slope, 1.0 - self.slope, var.sqrt());
            let s2pi = (2.0 * PI).sqrt();
            return Ok(UnitMoments {
                m0: r * sd / s2pi,
                m1: 0.5 * r + s,
                m2: r / (s2pi * sd),
            });
        }
        quadrature_unit_moments(self, mean, var)
    }
}
