//! `g(x) = x σ(x)` (SiLU, "swish"): smooth, moments by the smooth quadrature route.

use super::sigmoid::sigmoid_derivatives;
use super::ActivationFn;

/// SiLU: `g' = σ + x σ'`, `g'' = 2σ' + x σ''`, `g''' = 3σ'' + x σ'''`.
#[derive(Clone, Copy, Debug)]
pub struct Silu;

impl ActivationFn for Silu {
    fn derivative(&self, order: usize, x: f64) -> f64 {
        match order {
            0..=3 => self.derivatives(x)[order],
            _ => panic!("derivatives above order 3 are not provided"),
        }
    }
    fn derivatives(&self, x: f64) -> [f64; 4] {
        let [s, d1, d2, d3] = sigmoid_derivatives(x);
        [x * s, s + x * d1, 2.0 * d1 + x * d2, 3.0 * d2 + x * d3]
    }
}
