//! Learning dynamics near the optimum (paper Section 2, Eq. 7, Figure 3).
//!
//! * [`loss`]: the exact population loss and gradient at any student.
//! * [`train`]: students started at `teacher + N(0, σ0²)` noise trained by gradient flow
//!   (Dormand–Prince RK45 with error control in the loss norm), full-batch GD on a fixed sample,
//!   or online SGD; the exact population loss recorded on a log-spaced time grid.
//! * [`predict`]: Eq. 7 `⟨L(t)⟩ = σ0²/2 Tr(e^{−2Ht} H)`, the long-time law `α e^{−2 λ_min t}`,
//!   the quadratic-model curve of one draw, and the fitted late-time decay rate.
//! * [`trajectory`]: the Hessian at the current student (functional term included) along a run.
//! * [`figure3`]: the paper's Figure 3 and its claims as data for the report.

pub mod figure3;
pub mod loss;
pub mod predict;
pub mod train;
pub mod trajectory;

pub use loss::PopulationLoss;
