//! `g(x) = Σ_k c_k x^k` of any degree, with exact Gaussian moments.

use super::{ActivationFn, PairMoments};
use crate::gaussian::{bivariate_moment, Cov2};

/// A polynomial activation. Its pair moments are exact: `K_ab = Σ_ij d⁽ᵃ⁾_i d⁽ᵇ⁾_j E[z1^i z2^j]`
/// with `d⁽ᵃ⁾` the coefficients of `g⁽ᵃ⁾` and the bivariate moments of
/// [`crate::gaussian::bivariate_moment`].
#[derive(Clone, Debug)]
pub struct Polynomial {
    /// `derivs[a][i]`: coefficient of `x^i` in `g⁽ᵃ⁾`, for `a ∈ 0..=3`.
    derivs: [Vec<f64>; 4],
}

impl Polynomial {
    /// From the coefficients `c_0, ..., c_n` (trailing zeros are trimmed).
    pub fn new(mut coefficients: Vec<f64>) -> Self {
        while coefficients.len() > 1 && coefficients.last() == Some(&0.0) {
            coefficients.pop();
        }
        let d1 = differentiate(&coefficients);
        let d2 = differentiate(&d1);
        let d3 = differentiate(&d2);
        Polynomial {
            derivs: [coefficients, d1, d2, d3],
        }
    }

    fn moment(&self, a: usize, b: usize, cov: Cov2) -> f64 {
        let (pa, pb) = (&self.derivs[a], &self.derivs[b]);
        let mut s = 0.0;
        for (i, ci) in pa.iter().enumerate() {
            if *ci == 0.0 {
                continue;
            }
            for (j, cj) in pb.iter().enumerate() {
                if *cj != 0.0 {
                    s += ci * cj * bivariate_moment(i, j, cov);
                }
            }
        }
        s
    }
}

fn differentiate(p: &[f64]) -> Vec<f64> {
    if p.len() <= 1 {
        return vec![0.0];
    }
    p.iter()
        .enumerate()
        .skip(1)
        .map(|(k, c)| k as f64 * c)
        .collect()
}

impl ActivationFn for Polynomial {
    fn derivative(&self, order: usize, x: f64) -> f64 {
        match self.derivs.get(order) {
            Some(p) => p.iter().rev().fold(0.0, |acc, c| acc * x + c),
            None => 0.0,
        }
    }
    fn pair_moments(&self, cov: Cov2) -> PairMoments {
        PairMoments {
            k00: self.moment(0, 0, cov),
            k11: self.moment(1, 1, cov),
            k20: self.moment(2, 0, cov),
            k02: self.moment(0, 2, cov),
            k22: self.moment(2, 2, cov),
            k31: self.moment(3, 1, cov),
            k13: self.moment(1, 3, cov),
        }
    }
    fn polynomial_degree(&self) -> Option<usize> {
        Some(self.derivs[0].len() - 1)
    }
}
