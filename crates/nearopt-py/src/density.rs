//! `nearopt.density`: what `nearopt density --json` prints (the CLI's own report), as a dict with
//! NumPy arrays.

use crate::network::PyNetwork;
use crate::{cli_err, run};
use nearopt::density::{check_options, density_exact, density_memory_bytes, DensityOptions};
use nearopt_cli::commands::density::{parse_memory, report};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::time::Instant;

/// The bytes of a `memory=` argument: an int (bytes) or a size string as `--memory` (`"800M"`,
/// `"1.5G"`); None for the CLI's default (1.5 GiB).
fn memory_bytes(memory: Option<&Bound<'_, PyAny>>) -> PyResult<u64> {
    match memory {
        None => parse_memory(None).map_err(cli_err),
        Some(m) => {
            match m.extract::<u64>() {
                Ok(0) => Err(PyValueError::new_err("memory must be at least 1 byte")),
                Ok(b) => Ok(b),
                Err(_) => {
                    let s: String =
                        m.extract().map_err(|_| {
                            PyValueError::new_err(format!(
                        "memory must be a number of bytes or a size such as \"1.5G\", got {}",
                        m.get_type().name().map(|n| n.to_string()).unwrap_or_default()
                    ))
                        })?;
                    parse_memory(Some(&s)).map_err(cli_err)
                }
            }
        }
    }
}

/// Keys of the report that hold lists of numbers, returned as float64 arrays.
const ARRAY_KEYS: [&str; 5] = [
    "nodes",
    "weights",
    "top_eigenvalues",
    "top_residual_bounds",
    "top_gap_bounds",
];

/// A JSON value as Python objects (dicts, lists, floats, ...), through the `json` module.
pub(crate) fn json_to_py<'py>(
    py: Python<'py>,
    value: &impl serde::Serialize,
) -> PyResult<Bound<'py, PyAny>> {
    let text = serde_json::to_string(value)
        .map_err(|e| PyValueError::new_err(format!("internal: {e}")))?;
    py.import("json")?.call_method1("loads", (text,))
}

/// `a` as a float64 NumPy array.
fn to_array<'py>(py: Python<'py>, a: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    let np = py.import("numpy")?;
    let kwargs = PyDict::new(py);
    kwargs.set_item("dtype", np.getattr("float64")?)?;
    np.call_method("asarray", (a,), Some(&kwargs))
}

/// The spectral density of the exact population Hessian by stochastic Lanczos quadrature (SLQ),
/// without forming the ``D × D`` matrix: at the optimum of ``net``, or with ``student`` at that
/// student (``½ E[(y_s − y_t)²]``, functional term included; ``nearopt density --network T
/// --student S``; the teacher's ``Ni``, any ``Nh``, activation and biases; ``D`` is the
/// student's). The dict of ``nearopt density --network FILE --json`` (the same report code,
/// the same keys; ``INTERFACE.md``), with
/// float64 arrays for ``nodes``, ``weights``, ``top_eigenvalues``, ``top_residual_bounds``,
/// ``top_gap_bounds``, the curves ``linear`` / ``log10`` (``x``, ``density``,
/// ``standard_error``) and ``log_peaks`` (rows ``(log10 λ, density)``):
///
/// - ``trace``, ``trace_squared``: the exact ``Tr H`` and ``Tr H² = ‖H‖_F²`` (closed forms in
///   the pair moments of paper Eqs. 8–18); ``slq_trace``, ``slq_trace_squared`` and their
///   standard errors ``*_se``: the Hutchinson estimates from the same probes (a check);
/// - ``nodes``, ``weights`` (summing to 1): the SLQ estimate of the normalised spectral measure
///   ``(1/D) Σ δ(λ − λ_i)``: ``probes`` Rademacher probes (probe ``i`` from stream ``i`` of
///   ``seed``), ``steps`` Lanczos steps each;
/// - ``top_eigenvalues``: the ``top`` largest eigenvalues (descending) by block Lanczos (block
///   ``block``, thick restarts, basis ≤ ``max_basis``, ≤ ``max_top_products`` products, relative
///   residual ``top_tol``), with rigorous residual bounds ``|θ − λ| ≤ r``;
/// - the smoothed curves (``grid`` points, Papyan's ``kappa`` / ``kappa_log``), the log axis from
///   ``log_floor · λ_max`` with ``mass_below_floor``, ``log_mode``, ``log_peaks``,
///   ``median_above_floor``; the effort (``products``, ``breakdowns``, ``seconds``,
///   ``memory_estimate_bytes``); ``product_basis`` (``"triangular inputs"`` at the bias-free
///   optimum: the products run on the orthogonally similar Hessian of the network with inputs
///   rotated so that ``W1`` is lower-trapezoidal, same spectrum, a third fewer flops; else
///   ``"given"``); ``activation``, ``ni``, ``nh``, ``nearopt_version``.
///
/// Cost: ``probes × steps`` products of ``O(Nh² Ni)`` each, by the batched block product; memory
/// about ``probes_per_block × steps × D`` numbers, within ``memory`` (bytes, or a size string
/// such as ``"1.5G"``; default 1.5 GiB). The same ``seed`` gives the same numbers whatever
/// ``threads`` is. With biases or a student the bias rows and the functional term add
/// ``O(Nh² Ni)`` per product, and ``Tr H``, ``Tr H²`` stay exact (``docs/density.md``).
#[pyfunction]
#[pyo3(signature = (net, *, student=None, probes=16, steps=60, top=10, block=4, top_tol=1e-10, max_basis=400, max_top_products=4000, seed=1, grid=400, kappa=3.0, kappa_log=1.04, log_floor=1e-10, memory=None, threads=None))]
#[allow(clippy::too_many_arguments)]
pub fn density<'py>(
    py: Python<'py>,
    net: PyRef<'py, PyNetwork>,
    student: Option<PyRef<'py, PyNetwork>>,
    probes: usize,
    steps: usize,
    top: usize,
    block: usize,
    top_tol: f64,
    max_basis: usize,
    max_top_products: usize,
    seed: u64,
    grid: usize,
    kappa: f64,
    kappa_log: f64,
    log_floor: f64,
    memory: Option<&Bound<'py, PyAny>>,
    threads: Option<usize>,
) -> PyResult<Bound<'py, PyDict>> {
    if !(top_tol.is_finite() && top_tol > 0.0) {
        return Err(PyValueError::new_err(format!(
            "top_tol must be a positive number, got {top_tol}"
        )));
    }
    let student_obj = student;
    let teacher = &net.net;
    let student = student_obj.as_ref().map(|s| &s.net);
    let net = student.unwrap_or(teacher);
    if net.ni() != teacher.ni() {
        return Err(PyValueError::new_err(format!(
            "student has Ni = {} inputs but teacher has Ni = {}: they must agree",
            net.ni(),
            teacher.ni()
        )));
    }
    let d = net.dim();
    let opts = DensityOptions {
        probes,
        steps,
        // At most D eigenvalues exist (as the CLI).
        top: top.min(d),
        block,
        top_tol,
        max_basis,
        max_top_products,
        seed,
        grid_points: grid,
        kappa_linear: kappa,
        kappa_log,
        log_floor,
        memory_budget: memory_bytes(memory)?,
    };
    check_options(d, &opts).map_err(crate::lib_err)?;
    let mem = density_memory_bytes(teacher, student, &opts);
    let (est, seconds) = run(py, threads, || {
        let start = Instant::now();
        let est = density_exact(teacher, student, &opts, &|_, _| {})?;
        Ok::<_, nearopt::Error>((est, start.elapsed().as_secs_f64()))
    })?;
    // `student`: the student `Network` itself, where the CLI names its file (as `spectrum`).
    let name = student.map(|_| String::new());
    let out = json_to_py(py, &report(net, name, &opts, &est, mem, seconds))?;
    let out = out.cast_into::<PyDict>()?;
    for key in ARRAY_KEYS {
        if let Some(v) = out.get_item(key)? {
            out.set_item(key, to_array(py, &v)?)?;
        }
    }
    for curve in ["linear", "log10"] {
        if let Some(c) = out.get_item(curve)? {
            let c = c.cast_into::<PyDict>()?;
            for key in ["x", "density", "standard_error"] {
                if let Some(v) = c.get_item(key)? {
                    c.set_item(key, to_array(py, &v)?)?;
                }
            }
        }
    }
    if let Some(v) = out.get_item("log_peaks")? {
        let a = to_array(py, &v)?.call_method1("reshape", ((-1i64, 2i64),))?;
        out.set_item("log_peaks", a)?;
    }
    out.set_item("student", student_obj)?;
    Ok(out)
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(density, m)?)
}
