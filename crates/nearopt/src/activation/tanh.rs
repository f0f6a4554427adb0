//! `g(x) = tanh(x)`: an activation with no closed-form Gaussian integrals. It provides its
//! derivatives only; its pair moments come from the generic quadrature route.

use super::ActivationFn;

/// Hyperbolic tangent.
#[derive(Clone, Copy, Debug)]
pub struct Tanh;

impl ActivationFn for Tanh {
    fn derivative(&self, order: usize, x: f64) -> f64 {
        let t = x.tanh();
        let s = 1.0 - t * t;
        match order {
            0 => t,
            1 => s,
            2 => -2.0 * t * s,
            3 => (6.0 * t * t - 2.0) * s,
            _ => panic!("derivatives above order 3 are not provided"),
        }
    }
}
