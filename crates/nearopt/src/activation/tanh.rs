//! `g(x) = tanh(x)`: an activation with no closed-form Gaussian integrals. It provides its
//! derivatives only; its pair moments come from the generic (smooth) quadrature route.

use super::ActivationFn;

/// Hyperbolic tangent. `sech² x = 4e/(1+e)²` with `e = e^{−2|x|}` is evaluated directly (not as
/// `1 − tanh²`, which cancels to noise for `|x| ≳ 10` and would keep the quadrature's relative
/// error estimate from converging in the tails).
#[derive(Clone, Copy, Debug)]
pub struct Tanh;

impl ActivationFn for Tanh {
    fn derivative(&self, order: usize, x: f64) -> f64 {
        match order {
            0..=3 => self.derivatives(x)[order],
            _ => panic!("derivatives above order 3 are not provided"),
        }
    }
    fn derivatives(&self, x: f64) -> [f64; 4] {
        let t = x.tanh();
        let e = (-2.0 * x.abs()).exp();
        let s = 4.0 * e / ((1.0 + e) * (1.0 + e));
        [t, s, -2.0 * t * s, (6.0 * t * t - 2.0) * s]
    }
}
