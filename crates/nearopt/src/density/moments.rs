//! `Tr H` and `Tr H² = ‖H‖_F²` of the exact population Hessian at the optimum in closed form,
//! from the pair moments and the Gram matrix `Q = W1 W1ᵀ`, without forming `H`.
//!
//! With `s_mp = a_m a_p`, `q_m = Q_mm`, `c_mp = Q_mp` and the blocks of
//! [`crate::hessian::PopulationHessian`]:
//!
//! ```text
//! Tr H   = Σ_m a_m² [Ni K11_mm + q_m (K31_mm + 2 K22_mm + K13_mm)] + Σ_k K00_kk
//! ‖H‖_F² = Σ_{m,p} s_mp² [Ni K11² + 2 K11 tr X_mp + tr(C G C G)]                    (W1–W1)
//!        + 2 Σ_{m,k} a_m² [q_m K20(m,k)² + 2 c_mk K20(m,k) K11(m,k) + q_k K11(m,k)²] (W1–W2)
//!        + Σ_{k,j} K00(k,j)²                                                       (W2–W2)
//! ```
//!
//! where the `(m,p)` block of the W1–W1 part is `s_mp (K11 I + X_mp)` with
//! `X_mp = U C Uᵀ`, `U = [w_m w_p]`, `C = [[K31, K22], [K22, K13]]`, `G = UᵀU =
//! [[q_m, c_mp], [c_mp, q_p]]`, so `tr X = K31 q_m + 2 K22 c_mp + K13 q_p` and
//! `‖X‖_F² = tr(XX) = tr(C G C G)`. Cost: the Gram matrix (`Nh² Ni` flops as a GEMM) and
//! `O(Nh²)`. Derivation in `docs/density.md`.

use crate::hessian::batched::gram;
use crate::hessian::PopulationHessian;
use crate::network::Network;

/// The first two spectral moments of a Hessian, exactly.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct TraceMoments {
    /// `D`.
    pub dimension: usize,
    /// `Tr H = Σ λ_i`.
    pub trace: f64,
    /// `Tr H² = ‖H‖_F² = Σ λ_i²`.
    pub trace_squared: f64,
}

impl TraceMoments {
    /// Mean eigenvalue `Tr H / D` (first moment of the normalised spectral measure).
    pub fn mean(&self) -> f64 {
        self.trace / self.dimension as f64
    }
    /// Mean squared eigenvalue `Tr H² / D`.
    pub fn mean_square(&self) -> f64 {
        self.trace_squared / self.dimension as f64
    }
}

/// `Tr H` and `‖H‖_F²` of the Hessian `h` of `net` at the optimum (see the module docs);
/// panics if their dimensions differ.
pub fn trace_moments(net: &Network, h: &PopulationHessian) -> TraceMoments {
    use crate::hessian::HessianOperator;
    let (ni, nh) = (net.ni(), net.nh());
    assert_eq!(h.dim(), net.dim(), "Hessian and network differ in size");
    let a = net.w2();
    let q = gram(net.w1(), nh, ni);
    let nif = ni as f64;
    let mut trace = 0.0;
    let mut w1w1 = 0.0;
    let mut w1w2 = 0.0;
    let mut w2w2 = 0.0;
    for m in 0..nh {
        let kmm = h.moments(m, m);
        let qm = q[m * nh + m];
        trace += a[m] * a[m] * (nif * kmm.k11 + qm * (kmm.k31 + 2.0 * kmm.k22 + kmm.k13));
        trace += kmm.k00;
        for p in 0..nh {
            let k = h.moments(m, p);
            let (qp, c) = (q[p * nh + p], q[m * nh + p]);
            let s = a[m] * a[p];
            let tr_x = k.k31 * qm + 2.0 * k.k22 * c + k.k13 * qp;
            // P = C G with C = [[k31, k22], [k22, k13]], G = [[qm, c], [c, qp]]; tr(PP).
            let (p11, p12) = (k.k31 * qm + k.k22 * c, k.k31 * c + k.k22 * qp);
            let (p21, p22) = (k.k22 * qm + k.k13 * c, k.k22 * c + k.k13 * qp);
            let xx = p11 * p11 + 2.0 * p12 * p21 + p22 * p22;
            w1w1 += s * s * (nif * k.k11 * k.k11 + 2.0 * k.k11 * tr_x + xx);
            w1w2 +=
                a[m] * a[m] * (qm * k.k20 * k.k20 + 2.0 * c * k.k20 * k.k11 + qp * k.k11 * k.k11);
            w2w2 += k.k00 * k.k00;
        }
    }
    TraceMoments {
        dimension: net.dim(),
        trace,
        trace_squared: w1w1 + 2.0 * w1w2 + w2w2,
    }
}
