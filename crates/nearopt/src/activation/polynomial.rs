//! `g(x) = Σ_k c_k x^k` of any degree, with exact Gaussian moments.

use super::{ActivationFn, Gauss2, Moments, PairMoments, UnitMoments};
use crate::gaussian::{bivariate_moment, normal_moment_scaled, Cov2};
use crate::Result;

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
        moment_of(&self.derivs[a], &self.derivs[b], cov)
    }

    /// The derivatives' coefficients as polynomials in `t = z − μ` (Taylor shift by `μ`).
    fn shifted(&self, mu: f64) -> [Vec<f64>; 4] {
        if mu == 0.0 {
            return self.derivs.clone();
        }
        self.derivs.clone().map(|p| taylor_shift(&p, mu))
    }

    /// All moments for non-centred `(z1, z2)`: `E[P(μ1 + t1) Q(μ2 + t2)]` with the shifted
    /// polynomials and the centred moments of `t` (exact).
    pub fn moments_at(&self, gauss: Gauss2) -> Moments {
        let (d1, d2) = (self.shifted(gauss.mean[0]), self.shifted(gauss.mean[1]));
        let m = |a: usize, b: usize| moment_of(&d1[a], &d2[b], gauss.cov);
        Moments {
            pair: PairMoments {
                k00: m(0, 0),
                k11: m(1, 1),
                k20: m(2, 0),
                k02: m(0, 2),
                k22: m(2, 2),
                k31: m(3, 1),
                k13: m(1, 3),
            },
            k10: m(1, 0),
            k01: m(0, 1),
            k21: m(2, 1),
            k12: m(1, 2),
        }
    }

    /// `E[g⁽ᵃ⁾(z)]` for `z ~ N(mean, var)`, `a = 0, 1, 2` (exact).
    pub fn unit_moments_at(&self, mean: f64, var: f64) -> UnitMoments {
        let d = self.shifted(mean);
        let e = |p: &[f64]| -> f64 {
            p.iter()
                .enumerate()
                .filter(|(_, c)| **c != 0.0)
                .map(|(i, c)| c * normal_moment_scaled(i, var))
                .sum()
        };
        UnitMoments {
            m0: e(&d[0]),
            m1: e(&d[1]),
            m2: e(&d[2]),
        }
    }
}

/// `Σ_ij p_i q_j E[z1^i z2^j]` for centred `(z1, z2)`.
pub(crate) fn moment_of(pa: &[f64], pb: &[f64], cov: Cov2) -> f64 {
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

/// Coefficients of `p(μ + t)` in powers of `t`: `Σ_{k≥j} p_k C(k, j) μ^(k−j)`.
pub(crate) fn taylor_shift(p: &[f64], mu: f64) -> Vec<f64> {
    let n = p.len();
    let mut out = vec![0.0; n];
    for (j, o) in out.iter_mut().enumerate() {
        let mut binom = 1.0; // C(k, j) for k = j
        let mut mu_pow = 1.0; // μ^(k−j)
        for (k, pk) in p.iter().enumerate().skip(j) {
            if k > j {
                binom = binom * k as f64 / (k - j) as f64;
                mu_pow *= mu;
            }
            *o += pk * binom * mu_pow;
        }
    }
    out
}

pub(crate) fn differentiate(p: &[f64]) -> Vec<f64> {
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
    fn moments(&self, gauss: Gauss2) -> Result<Moments> {
        // Centred or not, the same sums (`shifted(0)` is the unshifted polynomials).
        Ok(self.moments_at(gauss))
    }
    fn unit_moments(&self, mean: f64, var: f64) -> Result<UnitMoments> {
        Ok(self.unit_moments_at(mean, var))
    }
    fn polynomial_degree(&self) -> Option<usize> {
        Some(self.derivs[0].len() - 1)
    }
    fn polynomial_coefficients(&self) -> Option<Vec<f64>> {
        Some(self.derivs[0].clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activation::moments::quadrature_moments;

    /// Degree 199 with a small variance: the factorials of the moments overflow float64 while the
    /// moments do not. The exact sums must agree with the generic adaptive quadrature route (which
    /// shares no code with them) instead of refusing or returning a wrong number.
    #[test]
    fn high_degree_moments_agree_with_quadrature() {
        let coefficients: Vec<f64> = (0..=199).map(|k| 1.0 / (k as f64 + 1.0)).collect();
        let p = Polynomial::new(coefficients);
        let gauss = Gauss2::of(&[0.05, 0.02], 0.01, &[0.01, -0.04], -0.02);
        let exact = p.moments(gauss).unwrap().components();
        let quad = quadrature_moments(&p, gauss).unwrap().components();
        for (i, (e, q)) in exact.iter().zip(&quad).enumerate() {
            assert!(
                e.is_finite(),
                "{} is not finite",
                Moments::component_name(i)
            );
            // The quadrature is held to 1e-11 relative to each integrand's L1 mass (≈ |value|
            // here: the integrands barely change sign on the scale of the variance).
            assert!(
                (e - q).abs() <= 1e-9 * q.abs().max(1e-300),
                "{}: exact {e:e}, quadrature {q:e}",
                Moments::component_name(i)
            );
        }
    }
}
