//! The exact population Hessian at any student (`docs/student.md`):
//!
//! ```text
//! H(student; teacher) = E[J_s J_sᵀ] + E[(y_s − y_t) ∇²_θ y_s]      (paper Eq. 3, x ~ N(0, I))
//! ```
//!
//! for `½ E[(y_s − y_t)²]`, student and teacher sharing `Ni` but free in `Nh`, activation and
//! biases. The Gauss–Newton term `E[J_s J_sᵀ]` depends on the student alone and is
//! [`PopulationHessian::at_optimum`] of the student; the functional term is
//! [`FunctionalTerm`]. D and the parameter order are the student's ([`ParamLayout`]).

use super::functional::FunctionalTerm;
use super::{check_dense_fits, DenseMatrix, HessianOperator, PopulationHessian};
use crate::layout::ParamLayout;
use crate::network::Network;
use crate::{Error, Result};

/// `E[J_s J_sᵀ] + E[(y_s − y_t) ∇²y_s]` at `student` against `teacher` (module docs). A product
/// costs `O(Nh_s² Ni + Nh_s (Nh_s + Nh_t) Ni)`, the dense matrix `O(D²)` plus
/// `O(Nh_s (Nh_s + Nh_t) Ni²)`.
#[derive(Clone, Debug)]
pub struct StudentHessian {
    gauss_newton: PopulationHessian,
    functional: FunctionalTerm,
}

impl StudentHessian {
    /// The Hessian at `student` against `teacher`. Errors: `Ni` mismatch (naming both),
    /// moments that do not converge or are not finite (naming the units).
    pub fn new(teacher: &Network, student: &Network) -> Result<Self> {
        if teacher.ni() != student.ni() {
            return Err(Error::Shape(format!(
                "the student has Ni = {} inputs (Nh = {}) but the teacher has Ni = {} (Nh = {}): \
                 the inputs must agree",
                student.ni(),
                student.nh(),
                teacher.ni(),
                teacher.nh()
            )));
        }
        let gauss_newton = PopulationHessian::try_at_optimum(student).map_err(|e| match e {
            Error::Numerical(msg) => {
                Error::Numerical(format!("Gauss–Newton term E[J Jᵀ] of the student: {msg}"))
            }
            other => other,
        })?;
        let functional = FunctionalTerm::new(teacher, student)?;
        Ok(StudentHessian {
            gauss_newton,
            functional,
        })
    }

    /// Work of [`StudentHessian::new`] in floating-point-operation equivalents, for refusing
    /// what would take too long before starting: `Nh_s (Nh_s + Nh_t)` pair quadratures of ~10⁶
    /// operations each (nested adaptive Gauss–Kronrod, 15 components) and the `Nh_s²` pair
    /// moments of the Gauss–Newton term. `None` beyond `u128`.
    pub fn setup_work(teacher: &Network, student: &Network) -> Option<u128> {
        let nh = student.nh() as u128;
        let pairs = nh.checked_mul(nh.checked_add(teacher.nh() as u128)?)?;
        pairs
            .checked_mul(1_000_000)?
            .checked_add(nh.checked_mul(nh)?.checked_mul(student.ni() as u128)?)
    }

    /// The Gauss–Newton term `E[J_s J_sᵀ]` (the population Hessian of the student at its own
    /// optimum).
    pub fn gauss_newton(&self) -> &PopulationHessian {
        &self.gauss_newton
    }

    /// The functional term `E[(y_s − y_t) ∇²y_s]`.
    pub fn functional(&self) -> &FunctionalTerm {
        &self.functional
    }

    /// The student's parameter layout.
    pub fn layout(&self) -> ParamLayout {
        self.gauss_newton.layout()
    }

    /// The dense `D × D` matrix, assembled directly (the Gauss–Newton term in `O(D²)`, the
    /// functional blocks added); refuses what cannot fit in memory.
    pub fn dense(&self) -> Result<DenseMatrix> {
        let d = self.dim();
        check_dense_fits(d, d, "population Hessian at the student")?;
        let mut h = self.gauss_newton.dense()?;
        if !self.functional.is_zero() {
            self.functional.add_to_dense(h.as_mut_slice());
            let l = self.layout();
            if let Some(i) = h.as_slice().iter().position(|v| !v.is_finite()) {
                return Err(Error::Numerical(format!(
                    "Hessian entry ({}, {}) at the student is not finite: overflow",
                    l.describe(i / d),
                    l.describe(i % d)
                )));
            }
        }
        Ok(h)
    }
}

impl HessianOperator for StudentHessian {
    fn dim(&self) -> usize {
        self.gauss_newton.dim()
    }

    fn matvec(&self, v: &[f64], out: &mut [f64]) {
        self.gauss_newton.matvec(v, out);
        self.functional.add_matvec(v, out);
    }

    fn to_dense(&self) -> Result<DenseMatrix> {
        self.dense()
    }
}

/// The exact population Hessian of `½ E[(y_s − y_t)²]`: at the optimum (student = teacher) or
/// at a given student. The one entry point of the CLI, Python and density.
#[derive(Clone, Debug)]
pub enum ExactHessian {
    /// At the optimum: exactly [`PopulationHessian::try_at_optimum`].
    Optimum(PopulationHessian),
    /// At a student: [`StudentHessian`].
    Student(Box<StudentHessian>),
}

impl ExactHessian {
    /// `student = None`: the optimum of `teacher`; `Some(s)`: the Hessian at `s`.
    pub fn new(teacher: &Network, student: Option<&Network>) -> Result<Self> {
        Ok(match student {
            None => ExactHessian::Optimum(PopulationHessian::try_at_optimum(teacher)?),
            Some(s) => ExactHessian::Student(Box::new(StudentHessian::new(teacher, s)?)),
        })
    }

    /// The dense matrix, assembled directly.
    pub fn dense(&self) -> Result<DenseMatrix> {
        match self {
            ExactHessian::Optimum(h) => h.dense(),
            ExactHessian::Student(h) => h.dense(),
        }
    }

    /// The parameter layout of rows and columns (the student's).
    pub fn layout(&self) -> ParamLayout {
        match self {
            ExactHessian::Optimum(h) => h.layout(),
            ExactHessian::Student(h) => h.layout(),
        }
    }
}

impl HessianOperator for ExactHessian {
    fn dim(&self) -> usize {
        match self {
            ExactHessian::Optimum(h) => h.dim(),
            ExactHessian::Student(h) => h.dim(),
        }
    }

    fn matvec(&self, v: &[f64], out: &mut [f64]) {
        match self {
            ExactHessian::Optimum(h) => h.matvec(v, out),
            ExactHessian::Student(h) => h.matvec(v, out),
        }
    }

    fn to_dense(&self) -> Result<DenseMatrix> {
        self.dense()
    }
}
