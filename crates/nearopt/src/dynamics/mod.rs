//! Learning dynamics near the optimum (paper Section 2, Eq. 7, Figure 3).
//!
//! * [`loss`]: the exact population loss and gradient at any student.
//! * [`train`]: students started at `teacher + N(0, σ0²)` noise trained by gradient flow
//!   (Dormand–Prince RK45 with error control in the loss norm), full-batch GD on a fixed sample,
//!   or online SGD; the exact population loss recorded on a log-spaced time grid.
//! * [`predict`]: Eq. 7 `⟨L(t)⟩ = σ0²/2 Tr(e^{−2Ht} H)`, the long-time law `α e^{−2 λ_min t}`,
//!   the quadratic-model curve of one draw, and the fitted late-time decay rate; [`summary`]:
//!   all of them on a run's time grid.
//! * [`trajectory`]: the Hessian at the current student (functional term included) along a run.
//! * [`expflow`]: gradient flow by an exponential integrator (linear part: the Hessian at the
//!   optimum), not limited by stiffness; [`precise`]: the loss without the cancellation floor.
//!
//! The paper's Figure 3 and its claims are `crate::experiments::figure3`.

pub mod expflow;
pub mod loss;
pub mod precise;
pub mod predict;
pub mod summary;
pub mod train;
pub mod trajectory;

pub use loss::PopulationLoss;
