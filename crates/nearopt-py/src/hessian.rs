//! Hessians: the exact population Hessian at the optimum (dense, and matrix-free products for
//! `nearopt.hessian_operator`), the Hessian estimated from samples at any student, the Jacobian
//! and the NTK Gram matrix (paper Eqs. 3–5, 8–18).

use crate::network::PyNetwork;
use crate::{lib_err, matrix_from_vec, pool, run, run_on, vector_from_vec};
use nearopt::hessian::sampled::{
    gaussian_inputs, ntk_gram as lib_ntk_gram, sampled_hessian as lib_sampled_hessian,
    sampled_jacobian, sampled_outer_product,
};
use nearopt::hessian::{check_dense_fits, DenseMatrix, ExactHessian, HessianOperator};
use nearopt::Network;
use numpy::{PyArray1, PyArray2, PyReadonlyArray1, PyReadonlyArray2, PyUntypedArrayMethods};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use rayon::prelude::*;

/// The exact population Hessian as an operator: [`ExactHessian`], at the optimum (student =
/// teacher) the pair-moment operator, at a student the Gauss–Newton term plus the functional
/// term (`docs/student.md`). One constructor for `hessian`, `hessian_operator`
/// and `spectrum`, so that the three always describe the same matrix.
pub(crate) type ExactOperator = Box<dyn HessianOperator + Send + Sync>;

/// The exact population Hessian of `½ E[(y_student − y_teacher)²]` as an operator: at the
/// optimum of `teacher` without `student`, else at `student` (its moments computed, or the error
/// that prevents them: a student with other inputs, a moment that overflows).
pub(crate) fn exact_operator(
    teacher: &Network,
    student: Option<&Network>,
) -> nearopt::Result<ExactOperator> {
    Ok(Box::new(ExactHessian::new(teacher, student)?))
}

/// Refuses a student whose shape differs from the teacher's where the sampled Hessian needs it
/// (the wording of `nearopt hessian --samples`).
pub(crate) fn check_same_shape(teacher: &Network, student: &Network) -> nearopt::Result<()> {
    if (student.ni(), student.nh()) != (teacher.ni(), teacher.nh()) {
        return Err(nearopt::Error::Shape(format!(
            "student has Ni = {}, Nh = {} but teacher has Ni = {}, Nh = {}",
            student.ni(),
            student.nh(),
            teacher.ni(),
            teacher.nh()
        )));
    }
    Ok(())
}

/// The dense matrix of an exact operator, refused (with the size it would need) before
/// anything is allocated when `8·D²` bytes cannot fit.
pub(crate) fn dense_of(op: &dyn HessianOperator) -> nearopt::Result<DenseMatrix> {
    let d = op.dim();
    check_dense_fits(d, d, "population Hessian")?;
    op.to_dense()
}

/// The exact population Hessian of the generalization error ``½ E[(y − y*)²]`` at the optimum
/// (student = teacher, inputs ``x ~ N(0, I)``), as a ``D × D`` float64 C-order ``ndarray`` in the
/// parameter order of ``INTERFACE.md`` (W1 row by row, then W2, then ``b1``, ``b2`` where the
/// network has them): bit for bit the matrix that ``nearopt hessian --network FILE --out H.npy``
/// writes.
///
/// At the optimum ``H = E[J Jᵀ]`` with ``J = ∂y/∂θ`` (paper Eqs. 3–5 with ``y = y*``; the Fisher
/// information, Appendix D). Its blocks are the paper's Eqs. 8–10 (linear ``g``), 11–13
/// (quadratic, corrected: see ``docs/derivations.md``) and 16–18 (erf), and for any other
/// activation the same expressions in the bivariate Gaussian moments
/// ``K_ab = E[g⁽ᵃ⁾(z_m) g⁽ᵇ⁾(z_p)]``:
///
///     H[(m,n),(p,q)] = a_m a_p [δ_nq K11 + w_mn w_mq K31 + (w_mn w_pq + w_pn w_mq) K22 + w_pn w_pq K13]
///     H[(m,n), k]    = a_m [w_mn K20(m,k) + w_kn K11(m,k)]
///     H[k, j]        = K00(k, j)
///
/// With biases (``z_m = w_m·x + b1[m]``, ``docs/biases.md``) the moments are those of the
/// non-centred pairs, and the bias rows are ``H[(m,n), b1_p] = a_m a_p [w_mn K21 + w_pn K12]``,
/// ``H[W2_k, b1_p] = a_p K01(k,p)``, ``H[b1_k, b1_p] = a_k a_p K11``, ``H[(m,n), b2] = a_m w_mn
/// E[g''(z_m)]``, ``H[W2_k, b2] = E[g(z_k)]``, ``H[b1_k, b2] = a_k E[g'(z_k)]``, ``H[b2, b2] = 1``.
///
/// Cost: ``Nh²`` pair moments, then ``O(D²)`` to fill the matrix (in parallel from ``D = 1000``).
/// The array owns the library's buffer (no copy). ``threads``: worker threads for this call
/// (default: all cores); the result does not depend on it.
///
/// With ``student`` (``nearopt hessian --network T --student S``): the exact population Hessian
/// of ``½ E[(y_s − y_t)²]`` at the student, ``H = E[J_s J_sᵀ] + E[(y_s − y_t) ∇²y_s]`` (paper
/// Eqs. 3–5 in expectation; the functional term in closed form or by exact low-dimensional
/// Gaussian quadrature, ``docs/student.md``). The student has the teacher's ``Ni``; its ``Nh``,
/// activation and biases may differ; ``D`` and the parameter order are the student's, and the
/// matrix may be indefinite.
///
/// Raises ``MemoryError`` (with the size it would need) before allocating when ``8·D²`` bytes do
/// not fit in the available memory (or in ``NEAROPT_MEMORY_LIMIT``).
#[pyfunction]
#[pyo3(signature = (teacher, student=None, *, threads=None))]
pub fn hessian<'py>(
    py: Python<'py>,
    teacher: PyRef<'py, PyNetwork>,
    student: Option<PyRef<'py, PyNetwork>>,
    threads: Option<usize>,
) -> PyResult<Bound<'py, PyArray2<f64>>> {
    let t = &teacher.net;
    let s = student.as_ref().map(|s| &s.net);
    let d = s.unwrap_or(t).dim();
    check_dense_fits(d, d, "population Hessian").map_err(lib_err)?;
    let h = run(py, threads, || dense_of(exact_operator(t, s)?.as_ref()))?;
    matrix_from_vec(py, d, d, h.into_vec())
}

/// The exact population Hessian as a matrix-free operator (the Rust side of
/// ``nearopt.hessian_operator``, which wraps it in a ``scipy.sparse.linalg.LinearOperator``).
/// Building it computes the ``Nh²`` pair moments; a product costs ``O(Nh² Ni)``, never forming the
/// ``D × D`` matrix. The rayon pool of ``threads`` is made once and reused by every product.
#[pyclass(module = "nearopt", frozen)]
pub struct PopulationOperator {
    op: ExactOperator,
    pool: Option<rayon::ThreadPool>,
}

impl PopulationOperator {
    fn check_len(&self, len: usize, what: &str) -> PyResult<()> {
        let d = self.op.dim();
        if len != d {
            return Err(PyValueError::new_err(format!(
                "{what} has {len} rows but the operator is {d} × {d}"
            )));
        }
        Ok(())
    }

    /// `H c` for each column `c` (in parallel, with the GIL released): the one product path of
    /// `matvec` and `matmat`.
    fn products(&self, py: Python<'_>, cols: Vec<Vec<f64>>) -> PyResult<Vec<Vec<f64>>> {
        let op = &self.op;
        let d = op.dim();
        run_on(py, self.pool.as_ref(), || {
            Ok::<_, nearopt::Error>(
                cols.par_iter()
                    .map(|c| {
                        let mut o = vec![0.0; d];
                        op.matvec(c, &mut o);
                        o
                    })
                    .collect(),
            )
        })
    }
}

#[pymethods]
impl PopulationOperator {
    #[new]
    #[pyo3(signature = (teacher, student=None, *, threads=None))]
    fn new(
        py: Python<'_>,
        teacher: PyRef<'_, PyNetwork>,
        student: Option<PyRef<'_, PyNetwork>>,
        threads: Option<usize>,
    ) -> PyResult<Self> {
        let p = pool(threads)?;
        let t = &teacher.net;
        let s = student.as_ref().map(|s| &s.net);
        let op = run_on(py, p.as_ref(), || exact_operator(t, s))?;
        Ok(PopulationOperator { op, pool: p })
    }

    /// ``D``.
    #[getter]
    fn dim(&self) -> usize {
        self.op.dim()
    }

    /// ``H v`` for a float64 vector ``v`` of length ``D`` (a new array).
    fn matvec<'py>(
        &self,
        py: Python<'py>,
        v: PyReadonlyArray1<'py, f64>,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        self.check_len(v.len(), "the vector")?;
        // A private copy: the GIL is released during the product, and another Python thread
        // could write to `v` meanwhile. O(D) against the product's O(Nh² Ni).
        let x: Vec<f64> = v.as_array().iter().copied().collect();
        let out = self.products(py, vec![x])?.pop().unwrap_or_default();
        Ok(vector_from_vec(py, out))
    }

    /// ``H X`` for a float64 ``D × k`` matrix ``X``: the ``k`` products run in parallel (each
    /// as ``matvec``, so column ``j`` equals ``matvec(X[:, j])`` bit for bit).
    fn matmat<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArray2<'py, f64>,
    ) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let (d, k) = (x.shape()[0], x.shape()[1]);
        self.check_len(d, "the matrix")?;
        check_dense_fits(d, 2 * k, "operator product block").map_err(lib_err)?;
        // Columns as contiguous rows (the transpose), then back.
        let a = x.as_array();
        let cols: Vec<Vec<f64>> = (0..k)
            .map(|j| a.column(j).iter().copied().collect())
            .collect();
        let prods = self.products(py, cols)?;
        let mut out = vec![0.0; d * k];
        for (j, p) in prods.iter().enumerate() {
            for (i, v) in p.iter().enumerate() {
                out[i * k + j] = *v;
            }
        }
        matrix_from_vec(py, d, k, out)
    }

    /// The dense matrix (the same as ``nearopt.hessian``).
    fn dense<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let d = self.op.dim();
        check_dense_fits(d, d, "population Hessian").map_err(lib_err)?;
        let op = &self.op;
        let h = run_on(py, self.pool.as_ref(), || dense_of(op.as_ref()))?;
        matrix_from_vec(py, d, d, h.into_vec())
    }
}

fn check_samples(n: usize) -> PyResult<()> {
    if n == 0 {
        return Err(PyValueError::new_err(
            "n (the number of samples) must be at least 1",
        ));
    }
    Ok(())
}

/// The Hessian of the empirical loss ``½ (1/n) Σ_i (y(x_i) − y*(x_i))²`` on ``n`` Gaussian inputs
/// (paper Eqs. 3–5), a ``D × D`` float64 array:
///
///     H = (1/n) Σ_i [ J_i J_iᵀ + (y_i − y*_i) ∂²y_i ],   J_i = ∂y/∂θ at x_i.
///
/// Without ``student`` it is taken at the optimum (student = teacher), where the functional term
/// vanishes and ``H = JᵀJ/n`` (the empirical Fisher / Gauss–Newton matrix): bit for bit what
/// ``nearopt hessian --network FILE --samples n --seed seed`` writes. With ``student`` (same
/// ``Ni`` and ``Nh`` as the teacher) it is taken there, the functional term included, as
/// ``nearopt hessian --network T --student S --samples n`` does.
///
/// The inputs are ``nearopt.inputs(ni, n, seed)`` (chunks of 256 samples, chunk ``c`` from
/// stream ``c`` of ``seed``); every sum runs in sample order, so the result does not depend on
/// ``threads``. Cost ``O(n D²)``. ``MemoryError`` before allocating when ``D × D`` cannot fit.
#[pyfunction]
#[pyo3(signature = (teacher, n, seed=1, *, student=None, threads=None))]
pub fn sampled_hessian<'py>(
    py: Python<'py>,
    teacher: PyRef<'py, PyNetwork>,
    n: usize,
    seed: u64,
    student: Option<PyRef<'py, PyNetwork>>,
    threads: Option<usize>,
) -> PyResult<Bound<'py, PyArray2<f64>>> {
    check_samples(n)?;
    let t = &teacher.net;
    let s = student.as_ref().map(|s| &s.net);
    if let Some(s) = s {
        check_same_shape(t, s).map_err(lib_err)?;
    }
    let d = t.dim();
    check_dense_fits(d, d, "sampled Hessian").map_err(lib_err)?;
    let h = run(py, threads, || match s {
        Some(s) => lib_sampled_hessian(s, t, n, seed),
        None => sampled_outer_product(t, n, seed),
    })?;
    matrix_from_vec(py, d, d, h.into_vec())
}

/// The Jacobian ``J`` (``n × D``, row ``i`` = ``∂y/∂θ`` at input ``x_i``) on the ``n`` inputs
/// ``nearopt.inputs(ni, n, seed)``: ``J_i = (a_m g'(z_m) x_n …, g(z_k) …)``, ``z = W1 x``.
#[pyfunction]
#[pyo3(signature = (net, n, seed=1, *, threads=None))]
pub fn jacobian<'py>(
    py: Python<'py>,
    net: PyRef<'py, PyNetwork>,
    n: usize,
    seed: u64,
    threads: Option<usize>,
) -> PyResult<Bound<'py, PyArray2<f64>>> {
    check_samples(n)?;
    let net = &net.net;
    let d = net.dim();
    check_dense_fits(n, d, "Jacobian").map_err(lib_err)?;
    let j = run(py, threads, || sampled_jacobian(net, n, seed))?;
    matrix_from_vec(py, n, d, j.into_vec())
}

/// The empirical NTK Gram matrix ``J Jᵀ / n`` (``n × n``) on the inputs of ``sampled_hessian``
/// (paper Section 2 and Appendix D): its nonzero eigenvalues are those of ``JᵀJ/n``, which is
/// how ``nearopt spectrum --samples n`` gets the sampled spectrum when ``n < D``.
#[pyfunction]
#[pyo3(signature = (net, n, seed=1, *, threads=None))]
pub fn ntk_gram<'py>(
    py: Python<'py>,
    net: PyRef<'py, PyNetwork>,
    n: usize,
    seed: u64,
    threads: Option<usize>,
) -> PyResult<Bound<'py, PyArray2<f64>>> {
    check_samples(n)?;
    let net = &net.net;
    check_dense_fits(n, n, "NTK Gram matrix").map_err(lib_err)?;
    let g = run(py, threads, || lib_ntk_gram(net, n, seed))?;
    matrix_from_vec(py, n, n, g.into_vec())
}

/// The Gaussian inputs ``x_i ~ N(0, I_ni)`` behind ``sampled_hessian``, ``jacobian`` and
/// ``ntk_gram`` with this ``seed``: an ``n × ni`` float64 array (chunks of 256 samples, chunk
/// ``c`` from ChaCha8 stream ``c`` of ``seed``). With them an autodiff framework can compute the
/// same empirical Hessian independently (``examples/jax_hessian.py``).
#[pyfunction]
#[pyo3(signature = (ni, n, seed=1))]
pub fn inputs<'py>(
    py: Python<'py>,
    ni: usize,
    n: usize,
    seed: u64,
) -> PyResult<Bound<'py, PyArray2<f64>>> {
    if ni == 0 {
        return Err(PyValueError::new_err("ni must be at least 1"));
    }
    check_samples(n)?;
    check_dense_fits(n, ni, "input matrix").map_err(lib_err)?;
    let x = py.detach(|| gaussian_inputs(ni, seed, 0, n));
    matrix_from_vec(py, n, ni, x)
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(hessian, m)?)?;
    m.add_function(wrap_pyfunction!(sampled_hessian, m)?)?;
    m.add_function(wrap_pyfunction!(jacobian, m)?)?;
    m.add_function(wrap_pyfunction!(ntk_gram, m)?)?;
    m.add_function(wrap_pyfunction!(inputs, m)?)?;
    m.add_class::<PopulationOperator>()
}
