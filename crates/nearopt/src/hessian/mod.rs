//! Hessians as operators first, dense matrices when asked.
//!
//! * [`PopulationHessian`]: the exact population Hessian at the optimum (paper Eqs. 8–18, in the
//!   corrected form derived in `docs/derivations.md`), matrix-free (`O(Nh² Ni)` per product) or
//!   dense (`O(D²)`, parallel).
//! * [`StudentHessian`]: the exact population Hessian at any student, functional term included
//!   ([`FunctionalTerm`]); [`ExactHessian`] is either (`docs/student.md`).
//! * [`sampled`]: the Hessian estimated from `n` Gaussian inputs at any student (Eqs. 3–5), its
//!   outer-product part `JᵀJ/n` and the NTK Gram `JJᵀ/n`.

pub mod batched;
mod dense;
mod functional;
mod population;
pub mod rotation;
pub mod sampled;
mod student;

pub use dense::{available_memory_bytes, check_dense_fits, DenseMatrix};
pub use functional::FunctionalTerm;
pub use population::PopulationHessian;
pub use student::{ExactHessian, StudentHessian};

/// A symmetric linear operator on parameter space (`dim = D`), in the parameter order of
/// `INTERFACE.md`.
pub trait HessianOperator: Sync {
    /// `D`.
    fn dim(&self) -> usize;
    /// `out = H v`.
    fn matvec(&self, v: &[f64], out: &mut [f64]);
    /// The dense matrix, by `D` products with unit vectors (override with a direct assembly).
    fn to_dense(&self) -> crate::Result<DenseMatrix> {
        let d = self.dim();
        check_dense_fits(d, d, "Hessian")?;
        let mut m = DenseMatrix::zeros(d, d);
        let mut e = vec![0.0; d];
        let mut col = vec![0.0; d];
        for j in 0..d {
            e[j] = 1.0;
            self.matvec(&e, &mut col);
            e[j] = 0.0;
            for (i, c) in col.iter().enumerate() {
                m.set(i, j, *c);
            }
        }
        Ok(m)
    }
}
