//! # nearopt
//!
//! Curvature and learning dynamics of two-layer teacher-student networks `y = W2 g(W1 x)` near the
//! optimum (student = teacher), after "A Teacher-Student Perspective on the Dynamics of Learning
//! Near the Optimal Point". The library knows the mathematics and nothing of files or terminals.
//!
//! * [`activation`]: activations with their derivatives and the bivariate Gaussian expectations
//!   the population Hessian needs (closed forms; Gauss–Hermite quadrature as the generic route).
//! * [`network`] and [`teacher`]: networks, the parameter order of `INTERFACE.md`, seeded teachers.
//! * [`hessian`]: the exact population Hessian at the optimum (matrix-free operator and dense
//!   matrix) and the Hessian estimated from samples at any student (paper Eqs. 3–5).
//! * [`spectrum`]: symmetric eigendecomposition, numerical rank, smallest nonzero eigenvalue.
//! * [`eigen`]: the eigenvalue solver behind it: a two-stage reduction (dense → band → tridiagonal)
//!   for large matrices and a root-free tridiagonal QL/QR.
//!
//! ## The reduction behind the exact Hessian
//!
//! At the optimum the population Hessian is `H = E[J Jᵀ]` with `J = ∂y/∂θ`. Gaussian integration
//! by parts (Stein's lemma, applied twice) turns every entry into bivariate Gaussian expectations
//! `K_ab(m, p) = E[g⁽ᵃ⁾(z_m) g⁽ᵇ⁾(z_p)]` of the pre-activations `z_m = w_m·x`, which only depend on
//! `q_m = |w_m|²`, `q_p = |w_p|²` and `c = w_m·w_p`:
//!
//! ```text
//! H[(m,n),(p,q)] = a_m a_p [ δ_nq K11 + w_mn w_mq K31 + (w_mn w_pq + w_pn w_mq) K22 + w_pn w_pq K13 ]
//! H[(m,n), k]    = a_m [ w_mn K20(m,k) + w_kn K11(m,k) ]
//! H[k, j]        = K00(k, j)
//! ```
//!
//! with `a = W2`. See `docs/derivations.md` for the derivation and the corrections to the paper.

pub mod activation;
pub mod certify;
pub mod density;
pub mod dynamics;
pub mod eigen;
pub mod error;
pub mod experiments;
pub mod gaussian;
pub mod hessian;
pub mod lanczos;
pub mod layout;
pub mod network;
pub mod network_file;
pub mod rng;
pub mod spectrum;
pub mod students;
pub mod teacher;
pub mod theory;
pub mod units;

pub use activation::Activation;
pub use error::{Error, Result};
pub use hessian::{HessianOperator, PopulationHessian};
pub use layout::ParamLayout;
pub use network::Network;
