//! Activation functions: `g, g', g'', g'''` and the Gaussian expectations ([`PairMoments`],
//! [`Moments`], [`UnitMoments`]) that the exact population Hessian, loss and gradient need.
//!
//! Each activation lives in its own file and implements [`ActivationFn`]; the kinds a network
//! file can name are listed once, in [`registry::REGISTRY`] (read by the file format, the CLI
//! and `docs/activations.md`). Closed forms where they exist (linear, quadratic, polynomial:
//! exact Gaussian moments; erf: arcsine-type integrals; ReLU and leaky ReLU: arc-cosine kernels,
//! Cho & Saul 2009); otherwise the default methods reduce to nested adaptive Gauss–Kronrod
//! quadrature with an error estimate that sharp integrands cannot fool
//! ([`crate::gaussian::adaptive`]), the smooth route using `g''`, `g'''` and the projection
//! route for kinked activations only `g` and `g'` ([`moments`]). A library user brings an own
//! activation by implementing [`ActivationFn`] (only `derivative` is required) and wrapping it in
//! [`Activation::custom`].

pub mod cross;
mod cross_closed;
mod cross_fast;
mod erf;
mod gelu;
mod leaky_relu;
mod linear;
pub mod moments;
mod polynomial;
mod quadratic;
pub mod registry;
mod relu;
mod sigmoid;
mod silu;
mod softplus;
mod tanh;

pub use erf::Erf;
pub use gelu::Gelu;
pub use leaky_relu::LeakyRelu;
pub use linear::Linear;
pub use moments::{Gauss2, Moments, UnitMoments};
pub use polynomial::Polynomial;
pub use quadratic::Quadratic;
pub use relu::Relu;
pub use sigmoid::Sigmoid;
pub use silu::Silu;
pub use softplus::Softplus;
pub use tanh::Tanh;

use crate::gaussian::Cov2;
use crate::{Error, Result};
use std::sync::Arc;

/// Bivariate Gaussian expectations `K_ab = E[g⁽ᵃ⁾(z1) g⁽ᵇ⁾(z2)]` for `(z1, z2) ~ N(0, Cov2)`.
///
/// These are all the population Hessian at the optimum needs (see the crate docs), and
/// `k00, k11, k20` are all the population loss gradient needs. For kinked activations (ReLU),
/// whose `g''` is a distribution, they are the coefficients of
/// `E[g'(z1) g'(z2) x xᵀ] = K11 I + K31 w1 w1ᵀ + K22 (w1 w2ᵀ + w2 w1ᵀ) + K13 w2 w2ᵀ` and
/// `E[g'(z1) g(z2) x] = K20 w1 + K11 w2` ([`moments`]); for `w1 ∥ w2` only the sums that enter
/// those expansions are defined.
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
    /// All NaN: what [`ActivationFn::pair_moments`] returns when the moments cannot be computed
    /// (callers that need the reason use [`ActivationFn::moments`]).
    pub fn nan() -> Self {
        PairMoments {
            k00: f64::NAN,
            k11: f64::NAN,
            k20: f64::NAN,
            k02: f64::NAN,
            k22: f64::NAN,
            k31: f64::NAN,
            k13: f64::NAN,
        }
    }
}

/// What an activation must provide. Only [`ActivationFn::derivative`] is required; kinked
/// activations also name their [`ActivationFn::kinks`]; override [`ActivationFn::moments`]
/// (and `pair_moments`, `unit_moments`) with closed forms when they exist.
pub trait ActivationFn: Send + Sync {
    /// `g⁽ᵒʳᵈᵉʳ⁾(x)` for `order ∈ 0..=3` (for kinked activations the derivative almost
    /// everywhere; `g''` and `g'''` are then never used).
    fn derivative(&self, order: usize, x: f64) -> f64;

    /// `[g, g', g'', g''']` at `x` (override when they share work, as tanh's do).
    fn derivatives(&self, x: f64) -> [f64; 4] {
        [
            self.derivative(0, x),
            self.derivative(1, x),
            self.derivative(2, x),
            self.derivative(3, x),
        ]
    }

    /// The points where `g'` jumps (ReLU: `[0]`). Empty for smooth activations, which are
    /// assumed to vary on the unit scale around `x = 0`. A kinked activation's moments use the
    /// projection route (no `g''`); the quadrature puts a breakpoint at every kink.
    fn kinks(&self) -> &[f64] {
        &[]
    }

    /// Every pair expectation for `(z1, z2) ~ N(mean, cov)` (see [`Moments`]). Default: the
    /// quadrature routes of [`moments::quadrature_moments`], an error when they do not converge
    /// or a quantity overflows.
    fn moments(&self, gauss: Gauss2) -> Result<Moments> {
        moments::quadrature_moments(self, gauss)
    }

    /// `E[g(z)]`, `E[g'(z)]`, `E[g''(z)]` for `z ~ N(mean, var)`. Default: adaptive quadrature.
    fn unit_moments(&self, mean: f64, var: f64) -> Result<UnitMoments> {
        moments::quadrature_unit_moments(self, mean, var)
    }

    /// `K_ab` for centred `(z1, z2) ~ N(0, cov)`: [`ActivationFn::moments`] without the means,
    /// all NaN where those fail.
    fn pair_moments(&self, cov: Cov2) -> PairMoments {
        self.moments(Gauss2::centred(cov))
            .map(|m| m.pair)
            .unwrap_or_else(|_| PairMoments::nan())
    }

    /// Degree if `g` is a polynomial (the effective-parameter bound then applies), else `None`.
    fn polynomial_degree(&self) -> Option<usize> {
        None
    }

    /// The coefficients `c_0, ..., c_n` of `g(x) = Σ_k c_k x^k` if `g` is a polynomial, else
    /// `None` (the default). They let the cross moments at a student be exact Wick sums
    /// ([`cross`]) instead of quadrature.
    fn polynomial_coefficients(&self) -> Option<Vec<f64>> {
        None
    }
}

/// A user-supplied activation with a name (see [`Activation::custom`]).
#[derive(Clone)]
pub struct CustomActivation {
    name: String,
    f: Arc<dyn ActivationFn>,
}

impl std::fmt::Debug for CustomActivation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CustomActivation({})", self.name)
    }
}

impl PartialEq for CustomActivation {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && Arc::ptr_eq(&self.f, &other.f)
    }
}

struct Shared(Arc<dyn ActivationFn>);

impl ActivationFn for Shared {
    fn derivative(&self, order: usize, x: f64) -> f64 {
        self.0.derivative(order, x)
    }
    fn derivatives(&self, x: f64) -> [f64; 4] {
        self.0.derivatives(x)
    }
    fn kinks(&self) -> &[f64] {
        self.0.kinks()
    }
    fn moments(&self, gauss: Gauss2) -> Result<Moments> {
        self.0.moments(gauss)
    }
    fn unit_moments(&self, mean: f64, var: f64) -> Result<UnitMoments> {
        self.0.unit_moments(mean, var)
    }
    fn pair_moments(&self, cov: Cov2) -> PairMoments {
        self.0.pair_moments(cov)
    }
    fn polynomial_degree(&self) -> Option<usize> {
        self.0.polynomial_degree()
    }
    fn polynomial_coefficients(&self) -> Option<Vec<f64>> {
        self.0.polynomial_coefficients()
    }
}

/// The activations nearopt knows, as stored in network files (`INTERFACE.md`; the kinds and
/// their keys are those of [`registry::REGISTRY`]), plus user-supplied ones.
///
/// Deserialisation rejects unknown kinds and unknown keys, naming them.
#[derive(Clone, Debug, PartialEq)]
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
    /// `g(x) = tanh(x)`: no closed form; the smooth quadrature route.
    Tanh,
    /// `g(x) = max(x, 0)`.
    Relu,
    /// `g(x) = x` for `x > 0`, `slope · x` otherwise.
    LeakyRelu {
        /// The slope for negative inputs.
        slope: f64,
    },
    /// `g(x) = x Φ(x)` (the exact GELU).
    Gelu,
    /// `g(x) = x σ(x)`.
    Silu,
    /// `g(x) = ln(1 + eˣ)`.
    Softplus,
    /// `g(x) = σ(x) = 1/(1 + e⁻ˣ)`.
    Sigmoid,
    /// A user-supplied activation ([`Activation::custom`]); it cannot be read from a network
    /// file (its `kind` is not in the registry).
    Custom(CustomActivation),
}

impl serde::Serialize for Activation {
    fn serialize<S: serde::Serializer>(&self, ser: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = ser.serialize_map(None)?;
        match self {
            Activation::Custom(c) => m.serialize_entry("kind", &c.name)?,
            _ => m.serialize_entry("kind", self.name())?,
        }
        match self {
            Activation::Quadratic { epsilon } => m.serialize_entry("epsilon", epsilon)?,
            Activation::Polynomial { coefficients } => {
                m.serialize_entry("coefficients", coefficients)?
            }
            Activation::LeakyRelu { slope } => m.serialize_entry("slope", slope)?,
            _ => {}
        }
        m.end()
    }
}

impl<'de> serde::Deserialize<'de> for Activation {
    fn deserialize<D: serde::Deserializer<'de>>(de: D) -> std::result::Result<Self, D::Error> {
        use serde::de::Error as _;
        let map = serde_json::Map::<String, serde_json::Value>::deserialize(de)?;
        registry::from_json(&map).map_err(D::Error::custom)
    }
}

impl Activation {
    /// A user-supplied activation under `name` (used in messages and as its `kind`).
    pub fn custom(name: impl Into<String>, f: Arc<dyn ActivationFn>) -> Self {
        Activation::Custom(CustomActivation {
            name: name.into(),
            f,
        })
    }

    /// Checks parameters: finite ε, slope and coefficients, at least one coefficient.
    pub fn validate(&self) -> Result<()> {
        match self {
            Activation::Quadratic { epsilon } if !epsilon.is_finite() => Err(Error::Invalid(
                format!("activation epsilon must be finite, got {epsilon}"),
            )),
            Activation::LeakyRelu { slope } if !slope.is_finite() => Err(Error::Invalid(format!(
                "activation slope must be finite, got {slope}"
            ))),
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
            Activation::Relu => Box::new(Relu),
            Activation::LeakyRelu { slope } => Box::new(LeakyRelu { slope: *slope }),
            Activation::Gelu => Box::new(Gelu),
            Activation::Silu => Box::new(Silu),
            Activation::Softplus => Box::new(Softplus),
            Activation::Sigmoid => Box::new(Sigmoid),
            Activation::Custom(c) => Box::new(Shared(c.f.clone())),
        }
    }

    /// Short name: the `kind` of the file format (`custom` for user-supplied activations).
    pub fn name(&self) -> &'static str {
        match self {
            Activation::Linear => "linear",
            Activation::Quadratic { .. } => "quadratic",
            Activation::Polynomial { .. } => "polynomial",
            Activation::Erf => "erf",
            Activation::Tanh => "tanh",
            Activation::Relu => "relu",
            Activation::LeakyRelu { .. } => "leaky_relu",
            Activation::Gelu => "gelu",
            Activation::Silu => "silu",
            Activation::Softplus => "softplus",
            Activation::Sigmoid => "sigmoid",
            Activation::Custom(_) => "custom",
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

    /// Central differences of `g^(k-1)` against `g^(k)` (smooth activations: orders 1–3;
    /// kinked: order 1 away from the kinks).
    fn check_derivatives(f: &dyn ActivationFn) {
        let orders = if f.kinks().is_empty() { 3 } else { 1 };
        for &x in &[-1.7, -0.3, 0.05, 0.4, 1.2, 7.5, -9.0] {
            for k in 1..=orders {
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
            Activation::Relu,
            Activation::LeakyRelu { slope: 0.1 },
            Activation::Gelu,
            Activation::Silu,
            Activation::Softplus,
            Activation::Sigmoid,
        ]
    }

    #[test]
    fn derivatives_match_finite_differences() {
        for a in all() {
            check_derivatives(a.function().as_ref());
        }
    }

    /// The quadrature routes of an activation, whatever closed forms it has.
    struct ViaQuadrature<'a>(&'a dyn ActivationFn);
    impl ActivationFn for ViaQuadrature<'_> {
        fn derivative(&self, order: usize, x: f64) -> f64 {
            self.0.derivative(order, x)
        }
        fn kinks(&self) -> &[f64] {
            self.0.kinks()
        }
    }

    /// What the moments mean, independent of how a singular pair splits its coefficients:
    /// `E[g'g' x]`, `E[g'(z1) g(z2) x]`, `E[g(z1) g'(z2) x]` (vectors) and `E[g'g' x xᵀ]`
    /// (matrix) for explicit `w1, w2` with the given covariance, and the scalar moments.
    fn meaning(m: &Moments, cov: Cov2) -> Vec<f64> {
        let w1 = if cov.q1 > 0.0 {
            [cov.q1.sqrt(), 0.0]
        } else {
            [0.0, 0.0]
        };
        let parallel = cov.q1 * cov.q2 - cov.c * cov.c <= 1e-12 * cov.q1 * cov.q2;
        let w2 = if cov.q1 > 0.0 {
            let a = cov.c / cov.q1.sqrt();
            let perp = if parallel {
                0.0
            } else {
                (cov.q2 - a * a).max(0.0).sqrt()
            };
            [a, perp]
        } else {
            [0.0, cov.q2.sqrt()]
        };
        let p = &m.pair;
        let mut out = vec![p.k00, p.k11, m.k10, m.k01];
        for i in 0..2 {
            out.push(m.k21 * w1[i] + m.k12 * w2[i]);
            out.push(p.k20 * w1[i] + p.k11 * w2[i]);
            out.push(p.k02 * w2[i] + p.k11 * w1[i]);
            for j in 0..2 {
                out.push(
                    p.k31 * w1[i] * w1[j]
                        + p.k22 * (w1[i] * w2[j] + w2[i] * w1[j])
                        + p.k13 * w2[i] * w2[j],
                );
            }
        }
        out
    }

    const COVS: [(f64, f64, f64); 6] = [
        (0.8, 1.1, 0.3),
        (0.2, 2.5, -0.6),
        (1.3, 1.3, 1.3),
        (1.3, 0.8, -1.3 * 0.8f64),
        (0.0, 0.9, 0.0),
        (2.0, 0.5, 0.9),
    ];

    /// Every closed form against the generic quadrature routes (smooth, or projection for the
    /// kinked ones), centred and — for the exact polynomial forms — with biases. Both sides are
    /// exact to rounding; the quadrature is held to 1e-11 of each integrand's mass.
    #[test]
    fn closed_form_moments_match_quadrature() {
        for a in all() {
            let f = a.function();
            for (q1, q2, c) in COVS {
                let c = if q1 == 1.3 && q2 == 0.8 {
                    -(q1 * q2).sqrt()
                } else {
                    c
                };
                let cov = Cov2 { q1, q2, c };
                let means: &[[f64; 2]] = if a.polynomial_degree().is_some() {
                    &[[0.0, 0.0], [0.4, -0.7]]
                } else {
                    &[[0.0, 0.0]]
                };
                for &mean in means {
                    let g = Gauss2 { mean, cov };
                    let exact = f.moments(g).unwrap();
                    let quad = ViaQuadrature(f.as_ref()).moments(g).unwrap();
                    let (e, q) = (meaning(&exact, cov), meaning(&quad, cov));
                    for (i, (x, y)) in e.iter().zip(&q).enumerate() {
                        assert!(
                            (x - y).abs() < 1e-11 * (1.0 + x.abs()),
                            "{} {g:?} entry {i}: {x} vs {y}",
                            a.name()
                        );
                    }
                    let s = f.moments(g.swapped()).unwrap();
                    assert!((s.pair.k20 - exact.pair.k02).abs() < 1e-9 * (1.0 + s.pair.k20.abs()));
                    let u = f.unit_moments(mean[0], q1).unwrap();
                    let uq = ViaQuadrature(f.as_ref()).unit_moments(mean[0], q1).unwrap();
                    for (x, y) in [(u.m0, uq.m0), (u.m1, uq.m1), (u.m2, uq.m2)] {
                        if q1 > 0.0 {
                            assert!(
                                (x - y).abs() < 1e-11 * (1.0 + x.abs()),
                                "{}: {x} vs {y}",
                                a.name()
                            );
                        }
                    }
                }
            }
        }
    }

    /// The pair moments of the old interface are the `pair` part of the new one.
    #[test]
    fn pair_moments_agree_with_moments() {
        for a in all() {
            let f = a.function();
            let cov = Cov2 {
                q1: 0.8,
                q2: 1.1,
                c: 0.3,
            };
            assert_eq!(
                f.pair_moments(cov),
                f.moments(Gauss2::centred(cov)).unwrap().pair
            );
        }
    }

    #[test]
    fn file_form_round_trips_and_rejects_unknown_keys() {
        for a in all() {
            let s = serde_json::to_string(&a).unwrap();
            let back: Activation = serde_json::from_str(&s).unwrap();
            assert_eq!(a, back);
            assert!(
                registry::lookup(a.name()).is_some(),
                "{} not registered",
                a.name()
            );
        }
        assert!(serde_json::from_str::<Activation>(r#"{"kind":"erf","bogus":1}"#).is_err());
        assert!(serde_json::from_str::<Activation>(r#"{"kind":"bogus"}"#).is_err());
        assert!(serde_json::from_str::<Activation>(r#"{"kind":"leaky_relu"}"#).is_err());
        let leaky: Activation =
            serde_json::from_str(r#"{"kind":"leaky_relu","slope":0.2}"#).unwrap();
        assert_eq!(leaky, Activation::LeakyRelu { slope: 0.2 });
        assert_eq!(
            registry::from_flags("leaky_relu", &[]).unwrap(),
            Activation::LeakyRelu { slope: 0.01 }
        );
        assert!(registry::from_flags("erf", &[("slope", "0.1")])
            .unwrap_err()
            .contains("--slope only applies to --activation leaky_relu"));
    }

    /// A user's activation, defined outside the crate's registry, goes through the generic
    /// route: here `g = 2·erf` must give 4× the erf moments.
    #[test]
    fn custom_activation_uses_the_generic_route() {
        struct TwiceErf;
        impl ActivationFn for TwiceErf {
            fn derivative(&self, order: usize, x: f64) -> f64 {
                2.0 * Erf.derivative(order, x)
            }
        }
        let a = Activation::custom("twice_erf", Arc::new(TwiceErf));
        let cov = Cov2 {
            q1: 0.7,
            q2: 1.4,
            c: -0.2,
        };
        let got = a.function().pair_moments(cov);
        let erf = Erf.pair_moments(cov);
        assert!((got.k00 - 4.0 * erf.k00).abs() < 1e-12);
        assert!((got.k31 - 4.0 * erf.k31).abs() < 1e-12);
        assert_eq!(a.clone(), a);
    }
}
