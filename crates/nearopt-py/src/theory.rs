//! The paper's closed-form spectral laws, for plotting against computed spectra.

use crate::lib_err;
use nearopt::theory::{Law, LinearSpectrumLaw};
use numpy::{PyArray1, PyReadonlyArray1};
use pyo3::prelude::*;
use rayon::prelude::*;

/// The density of the nonzero Hessian eigenvalues of a linear network at the optimum with
/// ``ni`` inputs and ``nh`` hidden units and Gaussian teacher weights of variance ``1/fan_in``
/// (paper Section 3.1, Appendix A, Figure 2), at the points ``x`` (float64 array):
///
///     λ ~ (Ni − Nh)/Ni · χ²_Nh/Nh  +  Nh/Ni · C        (the first part only when Ni > Nh),
///
/// ``C`` the convolution of the scaled chi-square law ``χ²_Nh/Nh`` (the A block's eigenvalue
/// ``‖W2‖²``) with the scaled Marchenko–Pastur law of Eq. 15 (the B block), evaluated by
/// tanh-sinh quadrature. It is the curve of the report's Figure 2.
#[pyfunction]
#[pyo3(signature = (ni, nh, x))]
pub fn linear_spectrum_density<'py>(
    py: Python<'py>,
    ni: usize,
    nh: usize,
    x: PyReadonlyArray1<'py, f64>,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    let law = LinearSpectrumLaw::new(ni, nh).map_err(lib_err)?;
    let xs: Vec<f64> = x.as_array().iter().copied().collect();
    let p = py.detach(|| xs.par_iter().map(|&v| law.pdf(v)).collect::<Vec<f64>>());
    Ok(PyArray1::from_vec(py, p))
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(linear_spectrum_density, m)?)
}
