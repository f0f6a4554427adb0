//! `g(x) = σ(x) = 1/(1 + e⁻ˣ)`: smooth, moments by the smooth quadrature route.

use super::ActivationFn;

/// `σ` and its derivatives `σ' = σ(1−σ)`, `σ'' = σ'(1−2σ)`, `σ''' = σ'(1 − 6σ + 6σ²)`,
/// evaluated without overflow for any `x`.
pub(super) fn sigmoid_derivatives(x: f64) -> [f64; 4] {
    // σ(x) = 1/(1+e^{-x}) for x ≥ 0, e^x/(1+e^x) otherwise; 1−σ likewise, without cancellation.
    let e = (-x.abs()).exp();
    let (s, one_minus) = if x >= 0.0 {
        (1.0 / (1.0 + e), e / (1.0 + e))
    } else {
        (e / (1.0 + e), 1.0 / (1.0 + e))
    };
    let d1 = s * one_minus;
    [
        s,
        d1,
        d1 * (one_minus - s),
        d1 * (1.0 - 6.0 * s * one_minus),
    ]
}

/// The logistic sigmoid.
#[derive(Clone, Copy, Debug)]
pub struct Sigmoid;

impl ActivationFn for Sigmoid {
    fn derivative(&self, order: usize, x: f64) -> f64 {
        match order {
            0..=3 => sigmoid_derivatives(x)[order],
            _ => panic!("derivatives above order 3 are not provided"),
        }
    }
    fn derivatives(&self, x: f64) -> [f64; 4] {
        sigmoid_derivatives(x)
    }
}
