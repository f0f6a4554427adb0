//! `nearopt.rank`: what `nearopt rank --json` prints, as a dict.

use crate::density::json_to_py;
use crate::network::{activation_to_py, PyNetwork};
use crate::run;
use nearopt::certify::{certified_rank, RankOptions};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::time::Instant;

/// Largest precision cap accepted by `max_bits` (as `--max-bits`).
const MAX_BITS_LIMIT: u32 = 65536;

/// The rank of the exact population Hessian at the optimum (paper Section 3: the rank
/// deficiency of Eqs. 8–18), decided in whatever arithmetic it takes: the dict of ``nearopt rank
/// --network FILE --json`` (``INTERFACE.md``) with the same keys and values:
///
/// - ``dimension`` (``D``), ``rank``, ``certified`` (True only when the arithmetic used provably
///   separates the kept eigenvalues from zero and the dropped ones: ``rank_lower == rank_upper``),
///   ``method``: ``"exact-rational"`` (polynomial activations: the Jacobian's monomial
///   coefficients and the Gaussian moments are rational, the rank is exact), ``"interval-inertia"``
///   (erf: the matrix in rigorous interval arithmetic from ``start_bits`` fractional bits,
///   doubled up to ``max_bits``, and an exact inertia count) or ``"float64"`` (others, not
///   certified);
/// - the evidence: ``rank_lower``, ``rank_upper``, ``precision_bits``, ``error_bound``
///   (``‖H − H̃‖₂``), ``smallest_kept_lower_bound`` (unless ``kept_bound=False``),
///   ``dropped_upper_bound``, ``structural_kernel`` and ``kernel_reasons`` (exact null vectors),
///   ``monomials``, ``attempts``, ``float64_tolerance``, ``note``;
/// - ``seconds``, ``activation``, ``ni``, ``nh``, ``nearopt_version``.
///
/// Networks with biases, and networks whose certificate would take more than the library's work
/// limit (about ten minutes), are refused with ``ValueError`` (the CLI's message).
#[pyfunction]
#[pyo3(signature = (net, *, start_bits=64, max_bits=1024, kept_bound=true, threads=None))]
pub fn rank<'py>(
    py: Python<'py>,
    net: PyRef<'py, PyNetwork>,
    start_bits: u32,
    max_bits: u32,
    kept_bound: bool,
    threads: Option<usize>,
) -> PyResult<Bound<'py, PyDict>> {
    if !(16..=MAX_BITS_LIMIT).contains(&max_bits) {
        return Err(PyValueError::new_err(format!(
            "max_bits must be between 16 and {MAX_BITS_LIMIT}, got {max_bits}"
        )));
    }
    if start_bits < 16 || start_bits > max_bits {
        return Err(PyValueError::new_err(format!(
            "start_bits must be between 16 and max_bits ({max_bits}), got {start_bits}"
        )));
    }
    let net = &net.net;
    let opts = RankOptions {
        start_bits,
        max_bits,
        bound_kept: kept_bound,
    };
    let (c, seconds) = run(py, threads, || {
        let t0 = Instant::now();
        // Refused work (more big-integer operations than the limit) is a matter of the input
        // network's size, not of memory: ValueError, with the library's message.
        let c = certified_rank(net, &opts).map_err(|e| match e {
            nearopt::Error::TooLarge(_) => PyValueError::new_err(e.to_string()),
            e => crate::lib_err(e),
        })?;
        Ok::<_, PyErr>((c, t0.elapsed().as_secs_f64()))
    })?;
    let out = json_to_py(py, &c)?.cast_into::<PyDict>()?;
    out.set_item("seconds", seconds)?;
    out.set_item("activation", activation_to_py(py, net.activation())?)?;
    out.set_item("ni", net.ni())?;
    out.set_item("nh", net.nh())?;
    out.set_item("nearopt_version", env!("CARGO_PKG_VERSION"))?;
    Ok(out)
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(rank, m)?)
}
