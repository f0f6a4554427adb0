//! `g(x) = ln(1 + eˣ)`: smooth, moments by the smooth quadrature route.

use super::sigmoid::sigmoid_derivatives;
use super::ActivationFn;

/// Softplus: `g' = σ`, `g'' = σ'`, `g''' = σ''`; `g = max(x, 0) + ln(1 + e^{−|x|})` (no overflow).
#[derive(Clone, Copy, Debug)]
pub struct Softplus;

impl ActivationFn for Softplus {
    fn derivative(&self, order: usize, x: f64) -> f64 {
        match order {
            0..=3 => self.derivatives(x)[order],
            _ => panic!("derivatives above order 3 are not provided"),
        }
    }
    fn derivatives(&self, x: f64) -> [f64; 4] {
        let [s, d1, d2, _] = sigmoid_derivatives(x);
        [x.max(0.0) + (-x.abs()).exp().ln_1p(), s, d1, d2]
    }
}
