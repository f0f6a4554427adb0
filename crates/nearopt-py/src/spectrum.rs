//! `nearopt.spectrum`: what `nearopt spectrum --json` prints, as a dict with NumPy arrays.

use crate::hessian::{check_same_shape, dense_of, exact_operator};
use crate::network::{activation_to_py, PyNetwork};
use crate::{lib_err, matrix_from_vec, pool, run_on, vector_from_vec};
use nearopt::hessian::sampled::{ntk_gram, sampled_hessian, sampled_outer_product};
use nearopt::hessian::{check_dense_fits, DenseMatrix};
use nearopt::spectrum::{rank, smallest_nonzero, symmetric_spectrum};
use nearopt::Network;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

/// Eigenvalues (ascending) and, if asked, eigenvectors of the Hessian at the optimum of `net`,
/// or at `student` against the teacher `net`, exactly as the CLI computes them
/// (`nearopt-cli/src/commands/spectrum.rs`): exact or from `samples` inputs (through the `n × n`
/// NTK Gram when `n < D`, no eigenvectors are asked and there is no student), the same memory
/// checks first.
fn eigen(
    net: &Network,
    student: Option<&Network>,
    sampled: Option<(usize, u64)>,
    vectors: bool,
    one_thread: Option<&rayon::ThreadPool>,
) -> nearopt::Result<(Vec<f64>, Option<DenseMatrix>)> {
    let d = student.unwrap_or(net).dim();
    let gram_size = match sampled {
        Some((samples, _)) if !vectors && samples < d && student.is_none() => Some(samples),
        _ => None,
    };
    let n = gram_size.unwrap_or(d);
    let what = match (sampled, gram_size) {
        (None, _) => "population Hessian",
        (_, Some(_)) => "NTK Gram matrix",
        _ => "sampled Hessian",
    };
    check_dense_fits(n, n, what)?;
    let copies = if vectors { 4 } else { 2 };
    check_dense_fits(
        n,
        copies * n,
        &format!(
            "eigensolver working set ({copies} copies of the {n} × {n} matrix{})",
            if vectors { " with eigenvectors" } else { "" }
        ),
    )?;
    if let (Some(_), Some((samples, seed))) = (gram_size, sampled) {
        let gram = ntk_gram(net, samples, seed)?;
        let mut ev = vec![0.0; d - n];
        ev.extend(symmetric_spectrum(&gram, false)?.eigenvalues);
        ev.sort_by(|a, b| a.total_cmp(b));
        return Ok((ev, None));
    }
    let h = match (sampled, student) {
        (Some((samples, seed)), None) => sampled_outer_product(net, samples, seed)?,
        (Some((samples, seed)), Some(s)) => {
            check_same_shape(net, s)?;
            sampled_hessian(s, net, samples, seed)?
        }
        (None, s) => dense_of(exact_operator(net, s)?.as_ref())?,
    };
    let sp = match one_thread {
        Some(p) if vectors => p.install(|| symmetric_spectrum(&h, true))?,
        _ => symmetric_spectrum(&h, vectors)?,
    };
    drop(h);
    Ok((sp.eigenvalues, sp.eigenvectors))
}

/// The spectrum of the Hessian of the generalization error ``½ E[(y − y*)²]`` at the optimum
/// (or, with ``student``, at that student: ``nearopt spectrum --network T --student S``), as a
/// dict with the keys of ``nearopt spectrum --json`` (``INTERFACE.md``) and the same values, bit
/// for bit:
///
/// - ``dimension``: ``D``; ``eigenvalues``: all ``D`` eigenvalues, ascending (float64 array);
/// - ``rank``: the number above ``rank_tolerance``, by default ``λ_max · D · ε_f64`` (the
///   convention of ``numpy.linalg.matrix_rank``); ``rank_tolerance_given``;
/// - ``lambda_min``: the smallest nonzero eigenvalue, which sets the long-time loss decay
///   ``e^{−2 λ_min t}`` (paper Eq. 7); ``lambda_max``; ``smallest_kept``, ``largest_dropped``
///   and ``gap_ratio`` (their ratio): the evidence for the rank;
/// - ``activation`` (dict), ``ni``, ``nh`` (the student's with ``student``), ``method``
///   (``"exact"`` or ``"sampled"``), ``samples``, ``seed``, ``point`` (``"optimum"`` or
///   ``"student"``), ``student`` (the student ``Network``, where the CLI names its file, or
///   None), ``nearopt_version``;
/// - ``vectors``: with ``vectors=True`` the unit eigenvectors as the columns of a ``D × D``
///   array (column ``i`` belongs to eigenvalue ``i``; the CLI writes them to a file), else None.
///
/// By default the exact population Hessian (paper Eqs. 8–18, corrected; at a student Eqs. 3–5
/// in expectation, the functional term included, so eigenvalues may be negative: see
/// ``hessian``); with ``samples=n`` its estimate from ``n`` Gaussian inputs of ``seed`` (default
/// 1; Eqs. 3–5), at the optimum ``JᵀJ/n`` through the ``n × n`` NTK Gram matrix when ``n < D``. Eigenvalues never depend on ``threads``;
/// eigenvectors are computed on one thread (so that they do not either) unless
/// ``parallel_eigensolver=True``. ``MemoryError`` before allocating when the matrix and the
/// eigensolver's working set cannot fit.
#[pyfunction]
#[pyo3(signature = (teacher, student=None, *, rank_tol=None, samples=None, seed=None, vectors=false, parallel_eigensolver=false, threads=None))]
#[allow(clippy::too_many_arguments)]
pub fn spectrum<'py>(
    py: Python<'py>,
    teacher: PyRef<'py, PyNetwork>,
    student: Option<Bound<'py, PyNetwork>>,
    rank_tol: Option<f64>,
    samples: Option<usize>,
    seed: Option<u64>,
    vectors: bool,
    parallel_eigensolver: bool,
    threads: Option<usize>,
) -> PyResult<Bound<'py, PyDict>> {
    let sampled = match (samples, seed) {
        (None, Some(_)) => {
            return Err(PyValueError::new_err(
                "seed only applies with samples (the exact Hessian uses no random draws)",
            ))
        }
        (None, None) => None,
        (Some(0), _) => return Err(PyValueError::new_err("samples must be at least 1")),
        (Some(n), s) => Some((n, s.unwrap_or(1))),
    };
    if let Some(t) = rank_tol {
        if !(t.is_finite() && t >= 0.0) {
            return Err(PyValueError::new_err(format!(
                "rank_tol must be a finite number ≥ 0, got {t}"
            )));
        }
    }
    let teacher_net = &teacher.net;
    let student_net = student.as_ref().map(|s| &s.get().net);
    // The network whose parameters index the Hessian.
    let net = student_net.unwrap_or(teacher_net);
    let d = net.dim();
    let p = pool(threads)?;
    let one = if vectors && !parallel_eigensolver {
        Some(
            rayon::ThreadPoolBuilder::new()
                .num_threads(1)
                .build()
                .map_err(|e| {
                    pyo3::exceptions::PyRuntimeError::new_err(format!(
                        "cannot set up the eigensolver's thread: {e}"
                    ))
                })?,
        )
    } else {
        None
    };
    let (eigenvalues, vecs) = run_on(py, p.as_ref(), || {
        eigen(teacher_net, student_net, sampled, vectors, one.as_ref())
    })?;
    if eigenvalues.len() != d {
        return Err(lib_err(nearopt::Error::Numerical(format!(
            "{} eigenvalues for D = {d}",
            eigenvalues.len()
        ))));
    }
    let decision = rank(&eigenvalues, rank_tol);
    let lambda_min = smallest_nonzero(&eigenvalues, Some(decision.tolerance));
    let gap = decision.gap_ratio();
    let lambda_max = eigenvalues.last().copied().unwrap_or(0.0);
    let out = PyDict::new(py);
    out.set_item("dimension", d)?;
    out.set_item("eigenvalues", vector_from_vec(py, eigenvalues))?;
    out.set_item("rank", decision.rank)?;
    out.set_item("rank_tolerance", decision.tolerance)?;
    out.set_item("rank_tolerance_given", rank_tol.is_some())?;
    out.set_item("lambda_min", lambda_min)?;
    out.set_item("lambda_max", lambda_max)?;
    out.set_item("smallest_kept", decision.smallest_kept)?;
    out.set_item("largest_dropped", decision.largest_dropped)?;
    out.set_item("gap_ratio", gap.is_finite().then_some(gap))?;
    out.set_item("activation", activation_to_py(py, net.activation())?)?;
    out.set_item("ni", net.ni())?;
    out.set_item("nh", net.nh())?;
    out.set_item(
        "method",
        if sampled.is_some() {
            "sampled"
        } else {
            "exact"
        },
    )?;
    out.set_item("samples", sampled.map(|s| s.0))?;
    out.set_item("seed", sampled.map(|s| s.1))?;
    out.set_item(
        "point",
        if student.is_some() {
            "student"
        } else {
            "optimum"
        },
    )?;
    out.set_item("student", student)?;
    match vecs {
        Some(v) => out.set_item("vectors", matrix_from_vec(py, d, d, v.into_vec())?)?,
        None => out.set_item("vectors", py.None())?,
    }
    out.set_item("nearopt_version", env!("CARGO_PKG_VERSION"))?;
    Ok(out)
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(spectrum, m)?)
}
