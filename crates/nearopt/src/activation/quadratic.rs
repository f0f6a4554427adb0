//! `g(x) = x + ε x²` (paper Section 4.1).

use super::{ActivationFn, Gauss2, Moments, PairMoments, Polynomial, UnitMoments};
use crate::gaussian::Cov2;
use crate::Result;

/// The quadratic activation. Closed forms (corrected paper Eqs. 11–13: the ε² terms of the
/// W1 blocks carry the factors `W2m W2p` and `W2m` that the printed equations drop):
/// `K00 = c + ε²(q1 q2 + 2c²)`, `K11 = 1 + 4ε² c`, `K20 = 2ε² q2`, `K22 = 4ε²`, `K31 = 0`.
#[derive(Clone, Copy, Debug)]
pub struct Quadratic {
    /// ε.
    pub epsilon: f64,
}

impl ActivationFn for Quadratic {
    fn derivative(&self, order: usize, x: f64) -> f64 {
        let e = self.epsilon;
        match order {
            0 => x + e * x * x,
            1 => 1.0 + 2.0 * e * x,
            2 => 2.0 * e,
            _ => 0.0,
        }
    }
    fn pair_moments(&self, cov: Cov2) -> PairMoments {
        let e2 = self.epsilon * self.epsilon;
        PairMoments {
            k00: cov.c + e2 * (cov.q1 * cov.q2 + 2.0 * cov.c * cov.c),
            k11: 1.0 + 4.0 * e2 * cov.c,
            k20: 2.0 * e2 * cov.q2,
            k02: 2.0 * e2 * cov.q1,
            k22: 4.0 * e2,
            k31: 0.0,
            k13: 0.0,
        }
    }
    /// The closed form above without biases; the exact polynomial moments otherwise.
    fn moments(&self, gauss: Gauss2) -> Result<Moments> {
        let mut m = Polynomial::new(vec![0.0, 1.0, self.epsilon]).moments_at(gauss);
        if gauss.is_centred() {
            m.pair = self.pair_moments(gauss.cov);
        }
        Ok(m)
    }
    fn unit_moments(&self, mean: f64, var: f64) -> Result<UnitMoments> {
        Ok(Polynomial::new(vec![0.0, 1.0, self.epsilon]).unit_moments_at(mean, var))
    }
    fn polynomial_degree(&self) -> Option<usize> {
        Some(if self.epsilon == 0.0 { 1 } else { 2 })
    }
    fn polynomial_coefficients(&self) -> Option<Vec<f64>> {
        Some(vec![0.0, 1.0, self.epsilon])
    }
}
