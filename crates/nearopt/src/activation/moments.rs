//! The Gaussian expectations of an activation that the Hessians, the loss and the gradient need,
//! for non-centred pre-activations (biases) too, and the two generic routes that compute them.
//!
//! With `z_i = w_i·x + b_i`, `t_i = z_i − b_i = w_i·x`, `x ~ N(0, I)`, Stein's lemma
//! `E[x F(W x + b)] = Wᵀ E[∇F]` holds whatever the means, so every expectation with `x`
//! reduces to coefficients on `w_1, w_2`:
//!
//! ```text
//! E[g'(z1) g(z2) x]        = K20 w1 + K11 w2
//! E[g'(z1) g'(z2) x]       = K21 w1 + K12 w2
//! E[g'(z1) g'(z2) x xᵀ]    = K11 I + K31 w1 w1ᵀ + K22 (w1 w2ᵀ + w2 w1ᵀ) + K13 w2 w2ᵀ
//! E[g'(z) x]               = m2 w
//! ```
//!
//! * **Smooth route** (no kinks): `K_ab = E[g⁽ᵃ⁾(z1) g⁽ᵇ⁾(z2)]` directly, by nested adaptive
//!   quadrature ([`crate::gaussian::adaptive`]) of the products of `g, g', g'', g'''`.
//! * **Projection route** (kinked activations such as ReLU, whose `g''` is a Dirac delta): only
//!   `g` and `g'` are integrated. Projecting `x` onto `span(w1, w2)` (`x = Wᵀ Σ⁻¹ t + x⊥`, `x⊥`
//!   independent of `t`) gives, with `Σ` the covariance of `(t1, t2)`,
//!   `Σ (K21, K12)ᵀ = E[g'g' t]`, `Σ C Σ = E[g'g' t tᵀ] − K11 Σ` for `C = [[K31, K22], [K22, K13]]`,
//!   and `q1 K20 + c K11 = E[g'(z1) t1 g(z2)]`. When `w1 ∥ w2` (always for a unit with itself)
//!   `Σ` is singular and the coefficients are not unique: the whole `w wᵀ` term is then put on
//!   the longer of the two vectors (the sums that enter the Hessian are what is defined).
//!   `docs/activations.md` and `docs/biases.md` have the derivations.

use super::{ActivationFn, PairMoments};
use crate::gaussian::adaptive::{expect1, expect2_separable};
use crate::gaussian::{dot, Cov2};
use crate::Result;

/// Relative accuracy the quadrature routes are held to (on `|K15 − G7|`, relative to the `L¹`
/// mass of each integrand; the actual error is usually far smaller).
pub const QUADRATURE_REL_TOL: f64 = 1e-11;

/// Below this `det Σ / (q1 q2)` (an angle of about 1e-6 rad) two weight vectors are treated as
/// parallel by the projection route (first-order accurate in the angle: measured relative error
/// ≈ 0.1 θ of the Hessian against the held-out kinked reference, `docs/verification.md`).
const PARALLEL_BELOW: f64 = 1e-12;

/// Largest relative error the projection route may carry into the Hessian through
/// `K21, K12, K31, K22, K13` (estimated as the projections' measured error, 1e-2 of the
/// quadrature tolerance, times the conditioning `q1 q2 / det Σ` of the 2 × 2 solve of
/// [`from_projections`]); above it the pair is refused instead of returned.
const PROJECTION_MAX_ERROR: f64 = 1e-8;

/// Two jointly normal pre-activations `z1 = w1·x + μ1`, `z2 = w2·x + μ2`, `x ~ N(0, I)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Gauss2 {
    /// Means `(μ1, μ2)` (the hidden biases).
    pub mean: [f64; 2],
    /// Covariance of `(z1, z2)`.
    pub cov: Cov2,
}

impl Gauss2 {
    /// Centred pre-activations (no biases).
    pub fn centred(cov: Cov2) -> Self {
        Gauss2 {
            mean: [0.0, 0.0],
            cov,
        }
    }
    /// `z1 = u·x + bu`, `z2 = v·x + bv`.
    pub fn of(u: &[f64], bu: f64, v: &[f64], bv: f64) -> Self {
        Gauss2 {
            mean: [bu, bv],
            cov: Cov2 {
                q1: dot(u, u),
                q2: dot(v, v),
                c: dot(u, v),
            },
        }
    }
    /// Whether both means are zero.
    pub fn is_centred(&self) -> bool {
        self.mean == [0.0, 0.0]
    }
    /// The pair with the roles of `z1` and `z2` exchanged.
    pub fn swapped(self) -> Self {
        Gauss2 {
            mean: [self.mean[1], self.mean[0]],
            cov: self.cov.swapped(),
        }
    }
}

/// Every pair expectation the exact Hessians, loss and gradient use (module docs).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Moments {
    /// `K00, K11, K20, K02, K22, K31, K13` (meaning as in [`PairMoments`], for kinked
    /// activations as coefficients of the expansions in the module docs).
    pub pair: PairMoments,
    /// `E[g'(z1) g(z2)]`.
    pub k10: f64,
    /// `E[g(z1) g'(z2)]`.
    pub k01: f64,
    /// `E[g''(z1) g'(z2)]` (coefficient of `w1` in `E[g'(z1) g'(z2) x]`).
    pub k21: f64,
    /// `E[g'(z1) g''(z2)]` (coefficient of `w2`).
    pub k12: f64,
}

impl Moments {
    /// The moments of the swapped pair.
    pub fn swapped(self) -> Self {
        Moments {
            pair: self.pair.swapped(),
            k10: self.k01,
            k01: self.k10,
            k21: self.k12,
            k12: self.k21,
        }
    }
    /// All components, for finiteness checks: `[k00, k11, k20, k02, k22, k31, k13, k10, k01, k21, k12]`.
    pub fn components(&self) -> [f64; 11] {
        let p = &self.pair;
        [
            p.k00, p.k11, p.k20, p.k02, p.k22, p.k31, p.k13, self.k10, self.k01, self.k21, self.k12,
        ]
    }
    /// The name of component `i` of [`Moments::components`].
    pub fn component_name(i: usize) -> &'static str {
        [
            "K00 = E[g g]",
            "K11 = E[g' g']",
            "K20 = E[g'' g]",
            "K02 = E[g g'']",
            "K22 = E[g'' g'']",
            "K31 = E[g''' g']",
            "K13 = E[g' g''']",
            "K10 = E[g' g]",
            "K01 = E[g g']",
            "K21 = E[g'' g']",
            "K12 = E[g' g'']",
        ][i]
    }
}

/// One unit's expectations `E[g(z)]`, `E[g'(z)]` and `m2` with `E[g'(z) x] = m2 w` (`= E[g''(z)]`
/// for smooth `g`), for `z = w·x + b`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct UnitMoments {
    /// `E[g(z)]`.
    pub m0: f64,
    /// `E[g'(z)]`.
    pub m1: f64,
    /// `E[g''(z)]`.
    pub m2: f64,
}

/// The generic route for [`ActivationFn::moments`]: smooth or projection (module docs).
pub fn quadrature_moments<G: ActivationFn + ?Sized>(g: &G, gauss: Gauss2) -> Result<Moments> {
    let Cov2 { q1, q2, c } = gauss.cov;
    let mut features = g.kinks().to_vec();
    let smooth = features.is_empty();
    if smooth {
        features.push(0.0);
    }
    let what = format!(
        "Gaussian moments of the activation (|w|² = {q1:e}, {q2:e}, w·w' = {c:e}, biases {:e}, {:e})",
        gauss.mean[0], gauss.mean[1]
    );
    if smooth {
        let f = |z: f64, o: &mut [f64]| o.copy_from_slice(&g.derivatives(z));
        let r = expect2_separable(
            gauss.mean,
            q1,
            q2,
            c,
            &features,
            QUADRATURE_REL_TOL,
            4,
            &f,
            4,
            &f,
            &what,
        )?;
        let v = |a: usize, b: usize| r.values[a * 4 + b];
        return Ok(Moments {
            pair: PairMoments {
                k00: v(0, 0),
                k11: v(1, 1),
                k20: v(2, 0),
                k02: v(0, 2),
                k22: v(2, 2),
                k31: v(3, 1),
                k13: v(1, 3),
            },
            k10: v(1, 0),
            k01: v(0, 1),
            k21: v(2, 1),
            k12: v(1, 2),
        });
    }
    let [mu1, mu2] = gauss.mean;
    let f1 = |z: f64, o: &mut [f64]| {
        let (t, gp) = (z - mu1, g.derivative(1, z));
        o.copy_from_slice(&[g.derivative(0, z), gp, gp * t, gp * t * t]);
    };
    let f2 = |z: f64, o: &mut [f64]| {
        let (t, gp) = (z - mu2, g.derivative(1, z));
        o.copy_from_slice(&[g.derivative(0, z), gp, gp * t, gp * t * t]);
    };
    let r = expect2_separable(
        gauss.mean,
        q1,
        q2,
        c,
        &features,
        QUADRATURE_REL_TOL,
        4,
        &f1,
        4,
        &f2,
        &what,
    )?;
    let v = |a: usize, b: usize| r.values[a * 4 + b];
    Ok(from_projections(
        gauss.cov,
        Projections {
            k00: v(0, 0),
            k11: v(1, 1),
            k10: v(1, 0),
            k01: v(0, 1),
            a1: v(2, 0),
            a2: v(0, 2),
            b1: v(2, 1),
            b2: v(1, 2),
            m00: v(3, 1),
            m01: v(2, 2),
            m11: v(1, 3),
        },
    ))
}

/// Why the Hessian block of a pair of units must not be built from the projection route's
/// `K21, K12, K31, K22, K13` (None when it may). The solve with `Σ` in [`from_projections`]
/// multiplies the projections' error (measured ≈ 1e-13 of their mass, 1e-2 of the tolerance)
/// by `q1 q2 / det Σ = 1/sin²θ`: measured against the held-out kinked reference (relu with b1,
/// 2 × 2), 3e-10 of max|λ| at θ = 1e-3, 9e-6 at 1e-4, 0.4 at 1e-6; tightening the tolerance
/// does not help (rounding). Where that estimate exceeds [`PROJECTION_MAX_ERROR`] — a kinked
/// activation, non-centred pre-activations (the centred ones have closed forms), and
/// `1e-6 < θ < 3e-3` rad — the Hessian refuses the pair. The loss and gradient use only the
/// well-conditioned `K00, K10, K01, K11, K20, K02`, so they are not affected.
pub fn nearly_parallel_refusal(g: &dyn ActivationFn, gauss: Gauss2) -> Option<String> {
    let Cov2 { q1, q2, c } = gauss.cov;
    if g.kinks().is_empty() || gauss.is_centred() || !(q1 > 0.0 && q2 > 0.0) {
        return None;
    }
    let ratio = ((q1 * q2 - c * c) / (q1 * q2)).max(0.0);
    let estimate = 1e-2 * QUADRATURE_REL_TOL / ratio;
    (ratio > PARALLEL_BELOW && estimate > PROJECTION_MAX_ERROR).then(|| {
        format!(
            "their weight rows are nearly parallel (angle ≈ {:.1e} rad): the Hessian moments of \
             a kinked activation with biases there would carry a relative error of about \
             {estimate:.0e}, so they are refused (rows within 1e-6 rad are treated as parallel, \
             to first order in the angle; angles above 3e-3 rad are supported)",
            ratio.sqrt()
        )
    })
}

/// The expectations the projection route integrates (`t_i = z_i − μ_i`).
#[derive(Clone, Copy, Debug)]
pub struct Projections {
    /// `E[g g]`.
    pub k00: f64,
    /// `E[g' g']`.
    pub k11: f64,
    /// `E[g'(z1) g(z2)]`.
    pub k10: f64,
    /// `E[g(z1) g'(z2)]`.
    pub k01: f64,
    /// `E[g'(z1) t1 g(z2)]`.
    pub a1: f64,
    /// `E[g(z1) g'(z2) t2]`.
    pub a2: f64,
    /// `E[g'g' t1]`.
    pub b1: f64,
    /// `E[g'g' t2]`.
    pub b2: f64,
    /// `E[g'g' t1²]`.
    pub m00: f64,
    /// `E[g'g' t1 t2]`.
    pub m01: f64,
    /// `E[g'g' t2²]`.
    pub m11: f64,
}

/// The coefficients of the module docs from the projected expectations (only `g`, `g'` used).
pub fn from_projections(cov: Cov2, p: Projections) -> Moments {
    let Cov2 { q1, q2, c } = cov;
    let k11 = p.k11;
    let k20 = if q1 > 0.0 { (p.a1 - c * k11) / q1 } else { 0.0 };
    let k02 = if q2 > 0.0 { (p.a2 - c * k11) / q2 } else { 0.0 };
    let det = q1 * q2 - c * c;
    let (k21, k12, k31, k22, k13);
    if det > PARALLEL_BELOW * q1 * q2 && det > 0.0 {
        let inv = [[q2 / det, -c / det], [-c / det, q1 / det]];
        k21 = inv[0][0] * p.b1 + inv[0][1] * p.b2;
        k12 = inv[1][0] * p.b1 + inv[1][1] * p.b2;
        let r = [
            [p.m00 - k11 * q1, p.m01 - k11 * c],
            [p.m01 - k11 * c, p.m11 - k11 * q2],
        ];
        // C = Σ⁻¹ R Σ⁻¹
        let mut t = [[0.0; 2]; 2];
        for i in 0..2 {
            for j in 0..2 {
                t[i][j] = inv[i][0] * r[0][j] + inv[i][1] * r[1][j];
            }
        }
        let mut cm = [[0.0; 2]; 2];
        for i in 0..2 {
            for j in 0..2 {
                cm[i][j] = t[i][0] * inv[0][j] + t[i][1] * inv[1][j];
            }
        }
        k31 = cm[0][0];
        k22 = 0.5 * (cm[0][1] + cm[1][0]);
        k13 = cm[1][1];
    } else if q1 >= q2 && q1 > 0.0 {
        // w2 = α w1: everything on w1.
        k21 = p.b1 / q1;
        k12 = 0.0;
        k31 = (p.m00 - k11 * q1) / (q1 * q1);
        k22 = 0.0;
        k13 = 0.0;
    } else if q2 > 0.0 {
        k21 = 0.0;
        k12 = p.b2 / q2;
        k31 = 0.0;
        k22 = 0.0;
        k13 = (p.m11 - k11 * q2) / (q2 * q2);
    } else {
        (k21, k12, k31, k22, k13) = (0.0, 0.0, 0.0, 0.0, 0.0);
    }
    Moments {
        pair: PairMoments {
            k00: p.k00,
            k11,
            k20,
            k02,
            k22,
            k31,
            k13,
        },
        k10: p.k10,
        k01: p.k01,
        k21,
        k12,
    }
}

/// The generic route for [`ActivationFn::unit_moments`] (smooth: `g, g', g''`; kinked:
/// `m2 = E[g'(z) t]/q`).
pub fn quadrature_unit_moments<G: ActivationFn + ?Sized>(
    g: &G,
    mean: f64,
    var: f64,
) -> Result<UnitMoments> {
    let mut features = g.kinks().to_vec();
    let smooth = features.is_empty();
    if smooth {
        features.push(0.0);
    }
    let what = format!("Gaussian moments of one unit (|w|² = {var:e}, bias {mean:e})");
    let f = |z: f64, o: &mut [f64]| {
        let d = g.derivatives(z);
        o[0] = d[0];
        o[1] = d[1];
        o[2] = if smooth { d[2] } else { d[1] * (z - mean) };
    };
    let r = expect1(mean, var, &features, QUADRATURE_REL_TOL, 3, &f, &what)?;
    let m2 = if smooth {
        r.values[2]
    } else if var > 0.0 {
        r.values[2] / var
    } else {
        0.0
    };
    Ok(UnitMoments {
        m0: r.values[0],
        m1: r.values[1],
        m2,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activation::Activation;

    /// Rows of a biased relu pair at angle `theta`.
    fn gauss(theta: f64) -> Gauss2 {
        Gauss2::of(
            &[1.1, 0.0],
            0.3,
            &[0.9 * theta.cos(), 0.9 * theta.sin()],
            -0.2,
        )
    }

    #[test]
    fn nearly_parallel_kinked_pairs_are_refused_not_returned_wrong() {
        let g = Activation::Relu.function();
        // Between the parallel limit (θ ≲ 1e-6) and θ ≈ 3e-3 the projection route's error
        // would exceed 1e-8 (measured 0.4 of max|λ| at 1e-6): refused, naming the angle.
        for theta in [2e-6, 1e-4, 2e-3] {
            let e = nearly_parallel_refusal(g.as_ref(), gauss(theta)).expect("refused");
            assert!(e.contains("nearly parallel") && e.contains("rad"), "{e}");
        }
        // Outside that window, without biases (closed forms) and for smooth activations: none.
        for theta in [1e-8, 5e-3, 0.05, 1.0] {
            assert!(
                nearly_parallel_refusal(g.as_ref(), gauss(theta)).is_none(),
                "θ = {theta}"
            );
            assert!(g.moments(gauss(theta)).is_ok());
        }
        let centred = Gauss2::of(&[1.1, 0.0], 0.0, &[0.9, 1e-4], 0.0);
        assert!(nearly_parallel_refusal(g.as_ref(), centred).is_none());
        let erf = Activation::Erf.function();
        assert!(nearly_parallel_refusal(erf.as_ref(), gauss(1e-4)).is_none());
    }
}
