//! The low Hermite components of the Hessian at the optimum (`docs/theory.md`, "Hermite
//! decomposition"): at the optimum `H = E[∇f ∇fᵀ]`, and expanding `∇f(x)` in the Hermite basis of
//! `x ~ N(0, I)` splits it into positive semi-definite terms, one per degree:
//! `H = ∇c₀ ∇c₀ᵀ + J_aᵀ J_a + R`, `R ⪰ 0`, with `c₀ = E[f]` and `a = E[f x]` (the linear
//! coefficients of the network function). These explain the outlier of Figure 4 and the count of
//! Figure 5, and are checked against the exact Hessian by the experiments and tests.

use crate::activation::Activation;
use crate::error::{Error, Result};
use crate::hessian::{DenseMatrix, PopulationHessian};
use crate::network::Network;
use crate::spectrum::symmetric_eigenvalues;

/// `∇_θ E[f]` for the quadratic activation `g(z) = z + εz²` (degree-0 Hermite term):
/// `E[f] = ε Σ_m W2_m |w_m|²`, so `∂/∂W2_m = ε|w_m|²`, `∂/∂w_m = 2ε W2_m w_m`. `None` for other
/// activations. Cost `O(D)`.
pub fn quadratic_constant_gradient(net: &Network) -> Option<Vec<f64>> {
    let Activation::Quadratic { epsilon } = *net.activation() else {
        return None;
    };
    let (ni, nh) = (net.ni(), net.nh());
    let mut g = vec![0.0; net.dim()];
    for m in 0..nh {
        let w = net.w1_row(m);
        let s2: f64 = w.iter().map(|v| v * v).sum();
        let a = net.w2()[m];
        for n in 0..ni {
            g[net.w1_index(m, n)] = 2.0 * epsilon * a * w[n];
        }
        g[net.w2_index(m)] = epsilon * s2;
    }
    Some(g)
}

/// The Jacobian `J_a = ∂a/∂θ` (`Ni × D`, row-major) of the linear coefficients
/// `a = E[f(x) x] = Σ_m W2_m κ(|w_m|) w_m` of an erf network (`g(z) = erf(z/√2)`, Stein's lemma:
/// `E[g(w·x) x] = E[g'(w·x)] w`, `κ(s) = √(2/π)/√(1+s²)`):
/// `∂a/∂W2_m = κ_m w_m`, `∂a/∂w_m = W2_m √(2/π) [(1+s²)^{-1/2} I − (1+s²)^{-3/2} w_m w_mᵀ]`.
/// `None` for other activations. Cost `O(Ni·D)`.
pub fn erf_linear_jacobian(net: &Network) -> Option<DenseMatrix> {
    if !matches!(net.activation(), Activation::Erf) {
        return None;
    }
    let (ni, nh) = (net.ni(), net.nh());
    let c = (2.0 / std::f64::consts::PI).sqrt();
    let mut j = DenseMatrix::zeros(ni, net.dim());
    for m in 0..nh {
        let w = net.w1_row(m);
        let s2: f64 = w.iter().map(|v| v * v).sum();
        let k1 = c / (1.0 + s2).sqrt();
        let k3 = c / (1.0 + s2).powf(1.5);
        let a = net.w2()[m];
        for i in 0..ni {
            j.set(i, net.w2_index(m), k1 * w[i]);
            for n in 0..ni {
                let delta = if i == n { k1 } else { 0.0 };
                j.set(i, net.w1_index(m, n), a * (delta - k3 * w[i] * w[n]));
            }
        }
    }
    Some(j)
}

/// For an erf network: the certificate that exactly `Ni` eigenvalues of `H` lie above the rest.
/// With `R = H − J_aᵀJ_a ⪰ 0`, Weyl's inequalities give `λ_{Ni}(H) ≥ σ_min(J_a)²` (from the top)
/// and `λ_{Ni+1}(H) ≤ λ_max(R)`; so when `σ_min(J_a)² > λ_max(R)`, the `Ni` largest eigenvalues
/// are separated from the others by at least that ratio.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LinearCertificate {
    /// `σ_min(J_a)²`, the smallest nonzero eigenvalue of the degree-1 term (`Ni ≤ D` always).
    pub linear_min: f64,
    /// `λ_max(R)`, the largest eigenvalue of the remainder.
    pub remainder_max: f64,
    /// `λ_min(R)`: zero up to rounding when the decomposition is right (`R ⪰ 0`).
    pub remainder_min: f64,
}

impl LinearCertificate {
    /// Whether the certificate separates the top `Ni` eigenvalues.
    pub fn separates(&self) -> bool {
        self.linear_min > self.remainder_max
    }
}

/// Computes [`LinearCertificate`] for an erf network from its exact Hessian `h` (two dense
/// symmetric eigenproblems: `Ni × Ni` and `D × D`). Errors for other activations.
pub fn erf_linear_certificate(net: &Network, h: &DenseMatrix) -> Result<LinearCertificate> {
    let j = erf_linear_jacobian(net)
        .ok_or_else(|| Error::Invalid("the linear certificate is for erf networks".into()))?;
    let (ni, d) = (net.ni(), net.dim());
    let mut jjt = DenseMatrix::zeros(ni, ni);
    for a in 0..ni {
        for b in 0..ni {
            jjt.set(a, b, crate::gaussian::dot(j.row(a), j.row(b)));
        }
    }
    let lin = symmetric_eigenvalues(&jjt)?;
    let mut r = h.clone();
    for p in 0..d {
        for q in 0..d {
            let s: f64 = (0..ni).map(|a| j.get(a, p) * j.get(a, q)).sum();
            r.set(p, q, r.get(p, q) - s);
        }
    }
    let rem = symmetric_eigenvalues(&r)?;
    Ok(LinearCertificate {
        linear_min: lin[0],
        remainder_max: rem[d - 1],
        remainder_min: rem[0],
    })
}

/// The exact population Hessian at the optimum as a dense matrix.
pub fn dense_hessian(net: &Network) -> Result<DenseMatrix> {
    PopulationHessian::at_optimum(net).dense()
}
