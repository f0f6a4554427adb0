//! Activation functions: `g, g', g'', g'''` and the bivariate Gaussian expectations
//! ([`PairMoments`]) that the exact population Hessian and gradient need.
//!
//! Each activation lives in its own file and implements [`ActivationFn`]. Closed forms where
//! they exist (linear, quadratic, polynomial: exact Gaussian moments; erf: arcsine-type
//! integrals); otherwise the default method reduces to 2-D Gauss–Hermite quadrature with
//! convergence control ([`crate::gaussian::expect2`]) — adding an activation is one file with
//! `derivative` and nothing else.

mod erf;
mod linear;
mod polynomial;
mod quadratic;
mod tanh;

pub use erf::Erf;
pub use linear::Linear;
pub use polynomial::Polynomial;
pub use quadratic::Quadratic;
pub use tanh::Tanh;

use crate::gaussian::{expect2, Cov2};
use crate::{Error, Result};

/// Bivariate Gaussian expectations `K_ab = E[g⁽ᵃ⁾(z1) g⁽ᵇ⁾(z2)]` for `(z1, z2) ~ N(0, Cov2)`.
///
/// These are all the population Hessian at the optimum needs (see the crate docs), and
/// `k00, k11, k20` are all the population loss gradient needs.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct PairMoments {
    /// `E[g(z1) g(z2)]`: the W2–W2 block (paper Eqs. 8, 11, 17).
    pub k00: f64,
    /// `E[g'(z1) g'(z2)]`.
    pub k11: f64,
    /// `E[g''(z1) g(z2)]`.
    pub k20: f64,
    /// `E[g(z1) g''(z2)]`.
    pub k02: f64,
    /// `E[g''(z1) g''(z2)]`.
    pub k22: f64,
    /// `E[g'''(z1) g'(z2)]`.
    pub k31: f64,
    /// `E[g'(z1) g'''(z2)]`.
    pub k13: f64,
}

impl PairMoments {
    /// The moments of the swapped pair `(z2, z1)`.
    pub fn swapped(self) -> Self {
        PairMoments {
            k20: self.k02,
            k02: self.k20,
            k31: self.k13,
            k13: self.k31,
            ..self
        }
    }
}

/// What an activation must provide. Only [`ActivationFn::derivative`] is required; override
/// [`ActivationFn::pair_moments`] with a closed form when one exists.
pub trait ActivationFn: Send + Sync {
    /// `g⁽ᵒʳᵈᵉʳ⁾(x)` for `order ∈ 0..=3`.
    fn derivative(&self, order: usize, x: f64) -> f64;

    /// `K_ab` for `(z1, z2) ~ N(0, cov)`. Default: Gauss–Hermite quadrature, order raised until
    /// successive rules agree to 1e-12 relative (see [`expect2`]: Gauss–Hermite, then the trapezoid rule).
    fn pair_moments(&self, cov: Cov2) -> PairMoments {
        let q = expect2(cov, 1e-12, |a, b| {
            let ga = [
                self.derivative(0, a),
                self.derivative(1, a),
                self.derivative(2, a),
                self.derivative(3, a),
            ];
            let gb = [
                self.derivative(0, b),
                self.derivative(1, b),
                self.derivative(2, b),
                self.derivative(3, b),
            ];
            [
                ga[0] * gb[0],
                ga[1] * gb[1],
                ga[2] * gb[0],
                ga[0] * gb[2],
                ga[2] * gb[2],
                ga[3] * gb[1],
                ga[1] * gb[3],
            ]
        });
        let v = q.values;
        PairMoments {
            k00: v[0],
            k11: v[1],
            k20: v[2],
            k02: v[3],
            k22: v[4],
            k31: v[5],
            k13: v[6],
        }
    }

    /// Degree if `g` is a polynomial (the effective-parameter bound then applies), else `None`.
    fn polynomial_degree(&self) -> Option<usize> {
        None
    }
}

/// The activations nearopt knows, as stored in network files (`INTERFACE.md`).
///
/// Deserialisation rejects unknown kinds and unknown keys, naming them.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Activation {
    /// `g(x) = x`.
    Linear,
    /// `g(x) = x + ε x²` (paper Section 4.1).
    Quadratic {
        /// ε.
        epsilon: f64,
    },
    /// `g(x) = Σ_k c_k x^k`.
    Polynomial {
        /// `c_0, ..., c_n`.
        coefficients: Vec<f64>,
    },
    /// `g(x) = erf(x/√2)` (paper Section 5).
    Erf,
    /// `g(x) = tanh(x)`: no closed form; exercises the generic quadrature route.
    Tanh,
}

impl<'de> serde::Deserialize<'de> for Activation {
    fn deserialize<D: serde::Deserializer<'de>>(de: D) -> std::result::Result<Self, D::Error> {
        use serde::de::Error as _;
        use serde_json::Value;
        let map = serde_json::Map::<String, Value>::deserialize(de)?;
        let kind = match map.get("kind") {
            Some(Value::String(k)) => k.clone(),
            Some(other) => {
                return Err(D::Error::custom(format!(
                    "activation `kind` must be a string, got {other}"
                )))
            }
            None => return Err(D::Error::custom("activation has no `kind` key")),
        };
        let allowed: &[&str] = match kind.as_str() {
            "linear" | "erf" | "tanh" => &["kind"],
            "quadratic" => &["kind", "epsilon"],
            "polynomial" => &["kind", "coefficients"],
            _ => {
                return Err(D::Error::custom(format!(
                    "unknown activation kind `{kind}` (known: linear, quadratic, polynomial, erf, tanh)"
                )))
            }
        };
        if let Some(k) = map.keys().find(|k| !allowed.contains(&k.as_str())) {
            return Err(D::Error::custom(format!(
                "unknown key `{k}` in activation of kind `{kind}` (allowed: {})",
                allowed.join(", ")
            )));
        }
        let number = |key: &str| -> std::result::Result<f64, D::Error> {
            match map.get(key) {
                Some(v) => v.as_f64().ok_or_else(|| {
                    D::Error::custom(format!("activation `{key}` must be a number, got {v}"))
                }),
                None => Err(D::Error::custom(format!(
                    "activation of kind `{kind}` needs the key `{key}`"
                ))),
            }
        };
        Ok(match kind.as_str() {
            "linear" => Activation::Linear,
            "erf" => Activation::Erf,
            "tanh" => Activation::Tanh,
            "quadratic" => Activation::Quadratic {
                epsilon: number("epsilon")?,
            },
            _ => {
                let coefficients = match map.get("coefficients") {
                    Some(Value::Array(a)) => a
                        .iter()
                        .enumerate()
                        .map(|(i, v)| {
                            v.as_f64().ok_or_else(|| {
                                D::Error::custom(format!(
                                    "activation coefficients[{i}] must be a number, got {v}"
                                ))
                            })
                        })
                        .collect::<std::result::Result<Vec<f64>, D::Error>>()?,
                    Some(v) => {
                        return Err(D::Error::custom(format!(
                            "activation `coefficients` must be an array, got {v}"
                        )))
                    }
                    None => {
                        return Err(D::Error::custom(
                            "activation of kind `polynomial` needs the key `coefficients`",
                        ))
                    }
                };
                Activation::Polynomial { coefficients }
            }
        })
    }
}

impl Activation {
    /// Checks parameters: finite ε and coefficients, at least one coefficient.
    pub fn validate(&self) -> Result<()> {
        match self {
            Activation::Quadratic { epsilon } if !epsilon.is_finite() => Err(Error::Invalid(
                format!("activation epsilon must be finite, got {epsilon}"),
            )),
            Activation::Polynomial { coefficients } => {
                if coefficients.is_empty() {
                    return Err(Error::Invalid(
                        "activation coefficients must not be empty".into(),
                    ));
                }
                if let Some((i, c)) = coefficients
                    .iter()
                    .enumerate()
                    .find(|(_, c)| !c.is_finite())
                {
                    return Err(Error::Invalid(format!(
                        "activation coefficients[{i}] is not finite ({c})"
                    )));
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// The implementation behind this kind.
    pub fn function(&self) -> Box<dyn ActivationFn> {
        match self {
            Activation::Linear => Box::new(Linear),
            Activation::Quadratic { epsilon } => Box::new(Quadratic { epsilon: *epsilon }),
            Activation::Polynomial { coefficients } => {
                Box::new(Polynomial::new(coefficients.clone()))
            }
            Activation::Erf => Box::new(Erf),
            Activation::Tanh => Box::new(Tanh),
        }
    }

    /// Short name (`linear`, `quadratic`, ...).
    pub fn name(&self) -> &'static str {
        match self {
            Activation::Linear => "linear",
            Activation::Quadratic { .. } => "quadratic",
            Activation::Polynomial { .. } => "polynomial",
            Activation::Erf => "erf",
            Activation::Tanh => "tanh",
        }
    }

    /// Degree if the activation is a polynomial.
    pub fn polynomial_degree(&self) -> Option<usize> {
        self.function().polynomial_degree()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Central differences of `g^(k-1)` against `g^(k)`.
    fn check_derivatives(f: &dyn ActivationFn) {
        for &x in &[-1.7, -0.3, 0.0, 0.4, 1.2] {
            for k in 1..=3 {
                let h = 1e-5;
                let fd = (f.derivative(k - 1, x + h) - f.derivative(k - 1, x - h)) / (2.0 * h);
                let exact = f.derivative(k, x);
                assert!(
                    (fd - exact).abs() < 1e-7 * (1.0 + exact.abs()),
                    "order {k} at {x}: {fd} vs {exact}"
                );
            }
        }
    }

    fn all() -> Vec<Activation> {
        vec![
            Activation::Linear,
            Activation::Quadratic { epsilon: 0.7 },
            Activation::Polynomial {
                coefficients: vec![0.3, -1.0, 0.5, 0.25, -0.1],
            },
            Activation::Erf,
            Activation::Tanh,
        ]
    }

    #[test]
    fn derivatives_match_finite_differences() {
        for a in all() {
            check_derivatives(a.function().as_ref());
        }
    }

    /// Every closed form against the generic quadrature route (the trait's default method).
    #[test]
    fn closed_form_moments_match_quadrature() {
        struct ViaQuadrature<'a>(&'a dyn ActivationFn);
        impl ActivationFn for ViaQuadrature<'_> {
            fn derivative(&self, order: usize, x: f64) -> f64 {
                self.0.derivative(order, x)
            }
        }
        let covs = [
            Cov2 {
                q1: 0.8,
                q2: 1.1,
                c: 0.3,
            },
            Cov2 {
                q1: 0.2,
                q2: 2.5,
                c: -0.6,
            },
            Cov2 {
                q1: 1.3,
                q2: 1.3,
                c: 1.3,
            },
            Cov2 {
                q1: 0.0,
                q2: 0.9,
                c: 0.0,
            },
        ];
        for a in all() {
            let f = a.function();
            for cov in covs {
                let exact = f.pair_moments(cov);
                let quad = ViaQuadrature(f.as_ref()).pair_moments(cov);
                let e = [
                    exact.k00, exact.k11, exact.k20, exact.k02, exact.k22, exact.k31, exact.k13,
                ];
                let q = [
                    quad.k00, quad.k11, quad.k20, quad.k02, quad.k22, quad.k31, quad.k13,
                ];
                for (i, (x, y)) in e.iter().zip(&q).enumerate() {
                    // Quadrature of erf/tanh products converges to ~1e-11 within 192² nodes.
                    assert!(
                        (x - y).abs() < 1e-9 * (1.0 + x.abs()),
                        "{} {cov:?} moment {i}: {x} vs {y}",
                        a.name()
                    );
                }
                let s = f.pair_moments(cov.swapped());
                assert!((s.k20 - exact.k02).abs() < 1e-9 * (1.0 + s.k20.abs()));
            }
        }
    }

    #[test]
    fn file_form_round_trips_and_rejects_unknown_keys() {
        for a in all() {
            let s = serde_json::to_string(&a).unwrap();
            let back: Activation = serde_json::from_str(&s).unwrap();
            assert_eq!(a, back);
        }
        assert!(serde_json::from_str::<Activation>(r#"{"kind":"erf","bogus":1}"#).is_err());
        assert!(serde_json::from_str::<Activation>(r#"{"kind":"relu"}"#).is_err());
    }
}
