//! Python bindings of nearopt: the extension module `nearopt._nearopt`, wrapped by the Python
//! package in `python/nearopt` (which adds the SciPy `LinearOperator`).
//!
//! Every function here is thin, like a CLI command: convert the arguments, call one library
//! function with the GIL released (on a rayon pool of `threads` workers when given), convert the
//! result. Matrices come back as NumPy arrays that own the library's `Vec` (no copy). Errors keep
//! the library's (and the CLI's) one-line messages: bad input raises `ValueError`, a dense matrix
//! that cannot fit raises `MemoryError` before anything is allocated, a file that cannot be read
//! raises `OSError`; a panic, which would be a bug, becomes `RuntimeError` rather than
//! PyO3's `PanicException`.

use pyo3::exceptions::{
    PyFileNotFoundError, PyMemoryError, PyOSError, PyRuntimeError, PyValueError,
};
use pyo3::prelude::*;

mod density;
mod hessian;
mod network;
mod rank;
mod reproduce;
mod spectrum;
mod theory;
mod train;

/// The CLI's file helpers (network files read through the size cap, atomic writes): the same
/// code, so that files are read and written, and errors worded, the same.
use nearopt_cli::io as cli_io;

/// A library error as a Python exception: `MemoryError` for a dense allocation that would not
/// fit, `RuntimeError` for a numerical failure, `ValueError` for everything else (bad input).
pub(crate) fn lib_err(e: nearopt::Error) -> PyErr {
    let msg = e.to_string();
    match e {
        nearopt::Error::TooLarge(_) => PyMemoryError::new_err(msg),
        nearopt::Error::Numerical(_) => PyRuntimeError::new_err(msg),
        _ => PyValueError::new_err(msg),
    }
}

/// An error of the CLI's helpers as a Python exception, worded as the CLI prints it (the causes
/// joined by `": "`): `OSError` (`FileNotFoundError`) when a file could not be read or written,
/// else as [`lib_err`].
pub(crate) fn cli_err(e: anyhow::Error) -> PyErr {
    let msg = e
        .chain()
        .map(|c| c.to_string())
        .collect::<Vec<_>>()
        .join(": ")
        .replace('\n', " ");
    for cause in e.chain() {
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            return if io.kind() == std::io::ErrorKind::NotFound {
                PyFileNotFoundError::new_err(msg)
            } else {
                PyOSError::new_err(msg)
            };
        }
        if let Some(lib) = cause.downcast_ref::<nearopt::Error>() {
            return match lib {
                nearopt::Error::TooLarge(_) => PyMemoryError::new_err(msg),
                nearopt::Error::Numerical(_) => PyRuntimeError::new_err(msg),
                _ => PyValueError::new_err(msg),
            };
        }
    }
    PyValueError::new_err(msg)
}

/// The rayon pool of a call's `threads=` argument: `None` for the global pool (all cores).
pub(crate) fn pool(threads: Option<usize>) -> PyResult<Option<rayon::ThreadPool>> {
    match threads {
        None => Ok(None),
        Some(0) => Err(PyValueError::new_err("threads must be at least 1")),
        Some(t) => rayon::ThreadPoolBuilder::new()
            .num_threads(t)
            .build()
            .map(Some)
            .map_err(|e| PyRuntimeError::new_err(format!("could not set up {t} threads: {e}"))),
    }
}

/// Runs `f` with the GIL released, on `pool` (or the global pool), turning a panic into
/// `RuntimeError`.
pub(crate) fn run_on<T, E, F>(py: Python<'_>, pool: Option<&rayon::ThreadPool>, f: F) -> PyResult<T>
where
    T: Send,
    E: Send,
    F: FnOnce() -> Result<T, E> + Send,
    PyErr: From<Wrapped<E>>,
{
    let result = py.detach(|| {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match pool {
            Some(p) => p.install(f),
            None => f(),
        }))
    });
    match result {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(Wrapped(e).into()),
        Err(panic) => {
            let what = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("unknown panic");
            Err(PyRuntimeError::new_err(format!(
                "internal error in nearopt (please report): {what}"
            )))
        }
    }
}

/// Runs `f` with the GIL released on the pool of `threads` (see [`run_on`]).
pub(crate) fn run<T, E, F>(py: Python<'_>, threads: Option<usize>, f: F) -> PyResult<T>
where
    T: Send,
    E: Send,
    F: FnOnce() -> Result<T, E> + Send,
    PyErr: From<Wrapped<E>>,
{
    let p = pool(threads)?;
    run_on(py, p.as_ref(), f)
}

/// An error of either kind, on its way to becoming a Python exception.
pub(crate) struct Wrapped<E>(E);

impl From<Wrapped<nearopt::Error>> for PyErr {
    fn from(w: Wrapped<nearopt::Error>) -> PyErr {
        lib_err(w.0)
    }
}

impl From<Wrapped<anyhow::Error>> for PyErr {
    fn from(w: Wrapped<anyhow::Error>) -> PyErr {
        cli_err(w.0)
    }
}

impl From<Wrapped<PyErr>> for PyErr {
    fn from(w: Wrapped<PyErr>) -> PyErr {
        w.0
    }
}

/// A row-major `rows × cols` matrix as a NumPy array that takes over `data` (no copy).
pub(crate) fn matrix_from_vec(
    py: Python<'_>,
    rows: usize,
    cols: usize,
    data: Vec<f64>,
) -> PyResult<Bound<'_, numpy::PyArray2<f64>>> {
    let a = numpy::ndarray::Array2::from_shape_vec((rows, cols), data)
        .map_err(|e| PyRuntimeError::new_err(format!("internal: {e}")))?;
    Ok(numpy::PyArray2::from_owned_array(py, a))
}

/// A vector as a NumPy array that takes over `data` (no copy).
pub(crate) fn vector_from_vec(py: Python<'_>, data: Vec<f64>) -> Bound<'_, numpy::PyArray1<f64>> {
    numpy::PyArray1::from_vec(py, data)
}

/// The extension module `nearopt._nearopt` (the package `nearopt` re-exports it).
#[pymodule]
fn _nearopt(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    network::register(m)?;
    hessian::register(m)?;
    spectrum::register(m)?;
    rank::register(m)?;
    density::register(m)?;
    train::register(m)?;
    theory::register(m)?;
    reproduce::register(m)?;
    Ok(())
}
