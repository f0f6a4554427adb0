//! `g(x) = x` (paper Section 3).

use super::{ActivationFn, Gauss2, Moments, PairMoments, Polynomial, UnitMoments};
use crate::gaussian::Cov2;
use crate::Result;

/// The identity activation: `K00 = c`, `K11 = 1`, all other moments vanish (paper Eqs. 8–10).
#[derive(Clone, Copy, Debug)]
pub struct Linear;

impl ActivationFn for Linear {
    fn derivative(&self, order: usize, x: f64) -> f64 {
        match order {
            0 => x,
            1 => 1.0,
            _ => 0.0,
        }
    }
    fn pair_moments(&self, cov: Cov2) -> PairMoments {
        PairMoments {
            k00: cov.c,
            k11: 1.0,
            ..Default::default()
        }
    }
    /// The closed form above without biases; the exact polynomial moments otherwise.
    fn moments(&self, gauss: Gauss2) -> Result<Moments> {
        let mut m = Polynomial::new(vec![0.0, 1.0]).moments_at(gauss);
        if gauss.is_centred() {
            m.pair = self.pair_moments(gauss.cov);
        }
        Ok(m)
    }
    fn unit_moments(&self, mean: f64, var: f64) -> Result<UnitMoments> {
        Ok(Polynomial::new(vec![0.0, 1.0]).unit_moments_at(mean, var))
    }
    fn polynomial_degree(&self) -> Option<usize> {
        Some(1)
    }
    fn polynomial_coefficients(&self) -> Option<Vec<f64>> {
        Some(vec![0.0, 1.0])
    }
}
