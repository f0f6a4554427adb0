//! `g(x) = max(x, 0)`: closed-form Gaussian expectations without biases (the arc-cosine kernels
//! of Cho & Saul, "Kernel methods for deep learning", NIPS 2009, and their derivatives); with
//! biases the projection quadrature route (only `g` and `g'`).

use super::moments::{quadrature_moments, quadrature_unit_moments};
use super::{ActivationFn, Gauss2, Moments, PairMoments, UnitMoments};
use crate::gaussian::Cov2;
use crate::Result;
use std::f64::consts::PI;

/// Below this `det Σ / (q1 q2)` the pair counts as parallel (as in the projection route).
const PARALLEL_BELOW: f64 = 1e-12;

/// The rectified linear unit. With `D = q1 q2 − c²`, `θ = atan2(√D, c)` (the angle between the
/// weight vectors) and centred pre-activations (derived in `docs/activations.md`):
///
/// ```text
/// K00 = (√D + (π − θ) c) / 2π          (Cho & Saul's J1 kernel)
/// K11 = (π − θ) / 2π                   (J0)
/// K10 = (c/√q1 + √q2) / (2√(2π))       E[H(z1) relu(z2)]
/// K20 = √D / (2π q1)                   E[δ(z1) relu(z2)]
/// K21 = 1 / (2√(2π q1))                E[δ(z1) H(z2)]
/// K22 = 1 / (2π √D)                    E[δ(z1) δ(z2)]
/// K31 = −c / (2π q1 √D)                E[δ'(z1) H(z2)]
/// ```
///
/// For parallel or antiparallel weights (`D = 0`, e.g. a unit with itself) `K22, K31, K13` are
/// replaced by the defined sum, which is 0: `E[H(z)² x xᵀ] = I/2` exactly.
#[derive(Clone, Copy, Debug)]
pub struct Relu;

/// The centred ReLU moments (see [`Relu`]); zero rows give zeros (`z ≡ 0`, `g'(0) = 0`).
pub(super) fn relu_centred(cov: Cov2) -> Moments {
    let Cov2 { q1, q2, c } = cov;
    if q1 <= 0.0 || q2 <= 0.0 {
        return Moments::default();
    }
    // `q1, q2, c` carry rounding of a few ε each, so `q1 q2 − c²` is known only to about
    // `4ε q1 q2`: below that the pair is parallel to within rounding (Ni = 1, copied rows) and
    // `D = 0` exactly; otherwise `√D ≈ √ε |w1||w2|` of pure rounding would enter θ and K11.
    let raw = q1 * q2 - c * c;
    let d = if raw <= 8.0 * f64::EPSILON * q1 * q2 {
        0.0
    } else {
        raw
    };
    let sd = d.sqrt();
    let theta = sd.atan2(c);
    let s2pi = (2.0 * PI).sqrt();
    let (k22, k31, k13) = if d > PARALLEL_BELOW * q1 * q2 {
        (
            1.0 / (2.0 * PI * sd),
            -c / (2.0 * PI * q1 * sd),
            -c / (2.0 * PI * q2 * sd),
        )
    } else {
        (0.0, 0.0, 0.0)
    };
    Moments {
        pair: PairMoments {
            k00: (sd + (PI - theta) * c) / (2.0 * PI),
            k11: (PI - theta) / (2.0 * PI),
            k20: sd / (2.0 * PI * q1),
            k02: sd / (2.0 * PI * q2),
            k22,
            k31,
            k13,
        },
        k10: (c / q1.sqrt() + q2.sqrt()) / (2.0 * s2pi),
        k01: (c / q2.sqrt() + q1.sqrt()) / (2.0 * s2pi),
        k21: 1.0 / (2.0 * s2pi * q1.sqrt()),
        k12: 1.0 / (2.0 * s2pi * q2.sqrt()),
    }
}

impl ActivationFn for Relu {
    fn derivative(&self, order: usize, x: f64) -> f64 {
        match order {
            0 => x.max(0.0),
            1 if x > 0.0 => 1.0,
            _ => 0.0,
        }
    }
    fn kinks(&self) -> &[f64] {
        &[0.0]
    }
    fn moments(&self, gauss: Gauss2) -> Result<Moments> {
        if gauss.is_centred() {
            return Ok(relu_centred(gauss.cov));
        }
        quadrature_moments(self, gauss)
    }
    /// Centred: `E[g] = √q/√(2π)`, `E[g'] = 1/2`, `m2 = E[δ(z)] = 1/√(2π q)`.
    fn unit_moments(&self, mean: f64, var: f64) -> Result<UnitMoments> {
        if mean == 0.0 && var > 0.0 {
            let s = var.sqrt();
            return Ok(UnitMoments {
                m0: s / (2.0 * PI).sqrt(),
                m1: 0.5,
                m2: 1.0 / ((2.0 * PI).sqrt() * s),
            });
        }
        quadrature_unit_moments(self, mean, var)
    }
}
