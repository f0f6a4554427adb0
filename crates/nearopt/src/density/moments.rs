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
//!
//! With biases ([`PopulationHessian`]'s bias rows; `m0, m1, m2` one unit's `E[g], E[g'], E[g'']`,
//! `[K10, K01, K21, K12]` the bias pair moments) the trace gains `Σ_k a_k² K11_kk (+ 1)` and
//! `‖H‖_F²` the blocks
//!
//! ```text
//! W1–b1: 2 Σ_{m,p} s_mp² (K21² q_m + 2 K21 K12 c_mp + K12² q_p)   W2–b1: 2 Σ_{k,p} a_p² K01(k,p)²
//! b1–b1: Σ_{k,p} s_kp² K11(k,p)²                                   W1–b2: 2 Σ_m a_m² m2(m)² q_m
//! W2–b2: 2 Σ_k m0(k)²          b1–b2: 2 Σ_k a_k² m1(k)²            b2–b2: 1
//! ```
//!
//! At a student ([`student_trace_moments`]), `H = G + F` with `G = E[J Jᵀ]` (the formulas above,
//! for the student) and the functional term `F`, block-diagonal per unit: `Tr H = Tr G + Σ F_ii`
//! and `‖H‖_F² = ‖G‖_F² + Σ_{(i,j) ∈ supp F} (2 G_ij F_ij + F_ij²)`, the second sum over the
//! `Nh (Ni + 1)² + …` entries of `F` with `G_ij` from [`PopulationHessian::entry`]: `O(Nh U Ni²)`.

use crate::hessian::batched::gram;
use crate::hessian::{PopulationHessian, StudentHessian};
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
    let (bias_trace, bias_squared) = bias_blocks(net, h, &q);
    TraceMoments {
        dimension: net.dim(),
        trace: trace + bias_trace,
        trace_squared: w1w1 + 2.0 * w1w2 + w2w2 + bias_squared,
    }
}

/// The bias rows' part of `Tr H` and `‖H‖_F²` (module docs; zero without biases); `q` the
/// Gram matrix of `W1`.
fn bias_blocks(net: &Network, h: &PopulationHessian, q: &[f64]) -> (f64, f64) {
    let (nh, l, a) = (net.nh(), net.layout(), net.w2());
    let (mut trace, mut sq) = (0.0, 0.0);
    if l.has_b1 {
        for k in 0..nh {
            trace += a[k] * a[k] * h.moments(k, k).k11;
            for p in 0..nh {
                let [_, k01, k21, k12] = h.bias_moments(k, p).expect("the network has b1");
                let (qk, qp, c) = (q[k * nh + k], q[p * nh + p], q[k * nh + p]);
                let s = a[k] * a[p];
                sq += 2.0 * s * s * (k21 * k21 * qk + 2.0 * k21 * k12 * c + k12 * k12 * qp);
                sq += 2.0 * a[p] * a[p] * k01 * k01;
                let b = s * h.moments(k, p).k11;
                sq += b * b;
            }
        }
    }
    if l.has_b2 {
        trace += 1.0;
        sq += 1.0;
        for m in 0..nh {
            let u = h.unit_moments(m).expect("the network has b2");
            sq += 2.0 * a[m] * a[m] * u.m2 * u.m2 * q[m * nh + m];
            sq += 2.0 * u.m0 * u.m0;
            if l.has_b1 {
                sq += 2.0 * a[m] * a[m] * u.m1 * u.m1;
            }
        }
    }
    (trace, sq)
}

/// `Tr H` and `‖H‖_F²` of the exact Hessian `h` at `student` (module docs): the closed form for
/// the Gauss–Newton term, plus the functional term's entries against it.
pub fn student_trace_moments(h: &StudentHessian, student: &Network) -> TraceMoments {
    let g = h.gauss_newton();
    let mut m = trace_moments(student, g);
    let (mut dt, mut dsq) = (0.0, 0.0);
    h.functional().for_each_entry(|i, j, f| {
        if i == j {
            dt += f;
        }
        dsq += f * (2.0 * g.entry(i, j) + f);
    });
    m.trace += dt;
    m.trace_squared += dsq;
    m
}
