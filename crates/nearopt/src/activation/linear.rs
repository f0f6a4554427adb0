//! `g(x) = x` (paper Section 3).

use super::{ActivationFn, PairMoments};
use crate::gaussian::Cov2;

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
    fn polynomial_degree(&self) -> Option<usize> {
        Some(1)
    }
}
