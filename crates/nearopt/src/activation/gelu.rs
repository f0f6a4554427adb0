//! `g(x) = x Φ(x)`, the exact GELU (Hendrycks & Gimpel 2016), `Φ` the standard normal CDF:
//! smooth, moments by the smooth quadrature route.

use super::ActivationFn;
use std::f64::consts::{FRAC_1_SQRT_2, PI};

/// GELU: `g' = Φ + x φ`, `g'' = φ (2 − x²)`, `g''' = φ (x³ − 4x)`.
#[derive(Clone, Copy, Debug)]
pub struct Gelu;

impl ActivationFn for Gelu {
    fn derivative(&self, order: usize, x: f64) -> f64 {
        match order {
            0..=3 => self.derivatives(x)[order],
            _ => panic!("derivatives above order 3 are not provided"),
        }
    }
    fn derivatives(&self, x: f64) -> [f64; 4] {
        let phi = (-0.5 * x * x).exp() / (2.0 * PI).sqrt();
        let cdf = 0.5 * libm::erfc(-x * FRAC_1_SQRT_2);
        [
            x * cdf,
            cdf + x * phi,
            phi * (2.0 - x * x),
            phi * (x * x * x - 4.0 * x),
        ]
    }
}
