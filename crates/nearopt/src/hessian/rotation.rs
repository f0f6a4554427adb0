//! An orthogonal change of input coordinates that makes `W1` lower-trapezoidal, and with it the
//! population Hessian's product cheaper, without changing its spectrum.
//!
//! **Invariance.** For `x ~ N(0, I)` and any orthogonal `Q` (`Ni × Ni`), `Qᵀx ~ N(0, I)`, so
//! every population expectation of `g(W1 x + b1)` is unchanged by `W1 → W1 Q` applied to the
//! teacher and the student alike (`W1 x = (W1 Q)(Qᵀ x)`; biases and `W2` untouched). The loss
//! therefore satisfies `L(θ) = L_Q(Φ θ)`, where `Φ` right-multiplies each row of `W1` by `Q` and
//! leaves `W2`, `b1`, `b2` alone (an orthogonal map of parameter space), and
//!
//! ```text
//! H(θ) = Φᵀ H_Q(Φ θ) Φ,
//! ```
//!
//! an orthogonal similarity: the same eigenvalues (hence the same density, trace and `‖H‖_F`),
//! eigenvectors mapped by `Φ`. (`docs/performance.md`, "The triangular basis".)
//!
//! **The choice of `Q`.** With the Householder QR `W1ᵀ = Q R` (`R` upper-trapezoidal,
//! `Ni × Nh`), `W1 Q = Rᵀ =: L` has `L_pi = 0` for `i > p`. Every GEMM of
//! [`super::batched::BatchedPopulationHessian`] with `W1` on one side then runs over about half
//! of the inner dimension: `4 Nh² Ni + O(Nh² · 64)` flops per product instead of `6 Nh² Ni` at
//! `Ni = Nh` (the `(S∘K11) V` GEMM is unchanged).
//!
//! **Determinism.** The QR runs sequentially (`Par::Seq`), so `L` has the same bits whatever the
//! thread count. Its Gram matrix `L Lᵀ` equals `W1 W1ᵀ` up to rounding (`O(ε ‖W1‖²)`, Householder
//! QR is backward stable: Higham, *Accuracy and Stability of Numerical Algorithms*, 2nd ed.,
//! Thm. 19.4).

use crate::network::Network;
use crate::Result;
use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::qr::no_pivoting::factor::{
    qr_in_place, qr_in_place_scratch, recommended_block_size,
};
use faer::{Mat, Par};

/// The network with its inputs rotated so that `W1` is lower-trapezoidal (`W1 Q = L`, see the
/// module docs), biases and `W2` unchanged; its population Hessian at the optimum is
/// orthogonally similar to `net`'s.
pub fn lower_triangular_inputs(net: &Network) -> Result<Network> {
    let (ni, nh) = (net.ni(), net.nh());
    // W1ᵀ (Ni × Nh): column p is row w_p.
    let mut a = Mat::<f64>::from_fn(ni, nh, |i, p| net.w1()[p * ni + i]);
    let size = ni.min(nh);
    let block = recommended_block_size::<f64>(ni, nh).max(1);
    let mut coeff = Mat::<f64>::zeros(block, size);
    if size > 0 {
        let mut mem = MemBuffer::new(qr_in_place_scratch::<f64>(
            ni,
            nh,
            block,
            Par::Seq,
            Default::default(),
        ));
        qr_in_place(
            a.as_mut(),
            coeff.as_mut(),
            Par::Seq,
            MemStack::new(&mut mem),
            Default::default(),
        );
    }
    // L = Rᵀ: L[p][i] = R[i][p] for i ≤ p (R's upper part), zero below the diagonal of R.
    let mut l = vec![0.0; nh * ni];
    for p in 0..nh {
        for i in 0..=p.min(ni.saturating_sub(1)) {
            l[p * ni + i] = a[(i, p)];
        }
    }
    Network::new(net.activation().clone(), ni, nh, l, net.w2().to_vec())?
        .with_biases(net.b1().map(<[f64]>::to_vec), net.b2())
}

/// Whether row `p` of the row-major `Nh × Ni` matrix `w1` is zero beyond column `p` for every
/// `p` (lower-trapezoidal): the structure [`lower_triangular_inputs`] produces.
pub fn is_lower_trapezoidal(w1: &[f64], nh: usize, ni: usize) -> bool {
    (0..nh).all(|p| {
        w1[p * ni..(p + 1) * ni]
            .iter()
            .skip(p + 1)
            .all(|&x| x == 0.0)
    })
}
