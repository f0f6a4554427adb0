//! The Hessian along a training trajectory (the paper's future work), functional term included.
//!
//! Away from the optimum `H = E[J Jᵀ] + E[(y_s − y_t) ∂²y_s]` (paper Eqs. 3–5), computed exactly
//! by [`crate::hessian::StudentHessian`] (quadrature and closed forms, no finite differences;
//! `docs/student.md`). [`finite_difference_hessian_at`], the Jacobian of the exact population
//! gradient by central differences, stays as an independent oracle for tests: with
//! [`FD_STEP`] `= 1e-5` its truncation error is `O(h² ∂⁴L) ≈ 1e-10` and its rounding error about
//! `1e-16 × Σ|terms| / h ≈ 1e-10`.

use super::loss::PopulationLoss;
use crate::error::Result;
use crate::hessian::{DenseMatrix, StudentHessian};
use crate::spectrum::symmetric_eigenvalues;
use rayon::prelude::*;

/// Finite-difference step of [`finite_difference_hessian_at`].
pub const FD_STEP: f64 = 1e-5;

/// The full population Hessian of the loss at student `theta` (the teacher's architecture),
/// exactly: [`StudentHessian`] at `theta` against the loss's teacher.
pub fn population_hessian_at(loss: &PopulationLoss, theta: &[f64]) -> Result<DenseMatrix> {
    let teacher = loss.teacher();
    let student = teacher.with_params(theta)?;
    StudentHessian::new(teacher, &student)?.dense()
}

/// The same Hessian as the Jacobian of the exact population gradient by central differences,
/// symmetrised (module docs): an oracle for tests that shares no code with the functional term.
pub fn finite_difference_hessian_at(loss: &PopulationLoss, theta: &[f64]) -> Result<DenseMatrix> {
    let d = theta.len();
    let cols = (0..d)
        .into_par_iter()
        .map(|j| {
            let mut p = theta.to_vec();
            p[j] += FD_STEP;
            let gp = loss.gradient(&p)?;
            p[j] = theta[j] - FD_STEP;
            let gm = loss.gradient(&p)?;
            Ok(gp
                .iter()
                .zip(&gm)
                .map(|(a, b)| (a - b) / (2.0 * FD_STEP))
                .collect::<Vec<f64>>())
        })
        .collect::<Result<Vec<_>>>()?;
    let mut h = DenseMatrix::zeros(d, d);
    for (i, ci) in cols.iter().enumerate() {
        for (j, cj) in cols.iter().enumerate() {
            h.set(i, j, 0.5 * (cj[i] + ci[j]));
        }
    }
    Ok(h)
}

/// Spectral summary of the Hessian at one point of a trajectory.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct HessianCheckpoint {
    /// Time.
    pub t: f64,
    /// Population loss there.
    pub loss: f64,
    /// Eigenvalues with `|λ|` above `tolerance`.
    pub rank: usize,
    /// The tolerance used: `1e-7 × max|λ|` (kept from the finite-difference route; far above
    /// the exact route's quadrature error).
    pub tolerance: f64,
    /// The `r₀`-th largest eigenvalue, `r₀` the rank at the optimum: `λ_min` followed along the run.
    pub lambda_tracked: f64,
    /// The smallest positive eigenvalue above the tolerance.
    pub smallest_positive: f64,
    /// The most negative eigenvalue (0 if none is below −tolerance).
    pub most_negative: f64,
    /// The largest eigenvalue.
    pub largest: f64,
}

/// Summarises the Hessian at `theta` (time `t`, loss `l`), following the `rank0`-th largest
/// eigenvalue.
pub fn checkpoint(
    loss: &PopulationLoss,
    theta: &[f64],
    t: f64,
    l: f64,
    rank0: usize,
) -> Result<HessianCheckpoint> {
    let h = population_hessian_at(loss, theta)?;
    let eig = symmetric_eigenvalues(&h)?;
    let d = eig.len();
    let amax = eig.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let tolerance = 1e-7 * amax;
    let rank = eig.iter().filter(|v| v.abs() > tolerance).count();
    let lambda_tracked = eig[d - rank0.clamp(1, d)];
    let smallest_positive = eig
        .iter()
        .copied()
        .find(|v| *v > tolerance)
        .unwrap_or(f64::NAN);
    let most_negative = eig[0].min(0.0);
    let most_negative = if most_negative < -tolerance {
        most_negative
    } else {
        0.0
    };
    Ok(HessianCheckpoint {
        t,
        loss: l,
        rank,
        tolerance,
        lambda_tracked,
        smallest_positive,
        most_negative,
        largest: eig[d - 1],
    })
}
