//! `g(x) = erf(x/√2)` (paper Section 5 and Appendix C).

use super::moments::{quadrature_moments, quadrature_unit_moments};
use super::{ActivationFn, Gauss2, Moments, PairMoments, UnitMoments};
use crate::gaussian::Cov2;
use crate::Result;
use std::f64::consts::{FRAC_2_PI, PI};

/// The error-function activation, `g' = √(2/π) e^{-x²/2}`, `g'' = -x g'`, `g''' = (x²-1) g'`.
///
/// Closed forms with `Δ = (1+q1)(1+q2) − c²` (derived in `docs/derivations.md`):
/// `K00 = (2/π) atan(c/√Δ)` (paper Eq. 17), `K11 = (2/π)/√Δ`, `K20 = −K11 c/(1+q1)` (Eq. 18),
/// `K22 = K11 c/Δ`, `K31 = −K11 (1+q2)/Δ` (together Eq. 16).
#[derive(Clone, Copy, Debug)]
pub struct Erf;

impl ActivationFn for Erf {
    fn derivative(&self, order: usize, x: f64) -> f64 {
        let gp = (2.0 / PI).sqrt() * (-0.5 * x * x).exp();
        match order {
            0 => libm::erf(x / std::f64::consts::SQRT_2),
            1 => gp,
            2 => -x * gp,
            3 => (x * x - 1.0) * gp,
            _ => panic!("derivatives above order 3 are not provided"),
        }
    }
    fn pair_moments(&self, cov: Cov2) -> PairMoments {
        let Cov2 { q1, q2, c } = cov;
        let delta = (1.0 + q1) * (1.0 + q2) - c * c;
        let sd = delta.sqrt();
        let k11 = FRAC_2_PI / sd;
        PairMoments {
            k00: FRAC_2_PI * c.atan2(sd),
            k11,
            k20: -k11 * c / (1.0 + q1),
            k02: -k11 * c / (1.0 + q2),
            k22: k11 * c / delta,
            k31: -k11 * (1.0 + q2) / delta,
            k13: -k11 * (1.0 + q1) / delta,
        }
    }
    /// Centred: the closed forms above, and `K10 = K01 = K21 = K12 = 0` (odd `g`, even `g'`).
    /// With biases: the smooth quadrature route.
    fn moments(&self, gauss: Gauss2) -> Result<Moments> {
        if gauss.is_centred() {
            return Ok(Moments {
                pair: self.pair_moments(gauss.cov),
                ..Default::default()
            });
        }
        quadrature_moments(self, gauss)
    }
    /// Centred: `E[g] = E[g''] = 0`, `E[g'] = √(2/π) / √(1 + q)`.
    fn unit_moments(&self, mean: f64, var: f64) -> Result<UnitMoments> {
        if mean == 0.0 {
            return Ok(UnitMoments {
                m0: 0.0,
                m1: FRAC_2_PI.sqrt() / (1.0 + var).sqrt(),
                m2: 0.0,
            });
        }
        quadrature_unit_moments(self, mean, var)
    }
}
