//! `nearopt.Network`: a two-layer network `y = W2 · g(W1 x + b1) + b2` (paper Section 1.1; the
//! biases optional) with its file format (`INTERFACE.md`) and seeded teachers (`nearopt teacher`).

use crate::{cli_err, lib_err, matrix_from_vec, vector_from_vec};
use nearopt::network_file::{network_json, parse_json_exact, parse_network};
use nearopt::teacher::{sample_teacher, with_sampled_biases, WeightDistribution};
use nearopt::{Activation, Network};
use numpy::{PyArray1, PyArray2, PyArrayMethods, PyUntypedArrayMethods};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString, PyTuple};
use std::path::PathBuf;

/// A two-layer network ``y = W2 · g(W1 x + b1) + b2`` (paper Section 1.1, Eq. 1; the biases
/// are optional, and absent in the paper).
///
/// ``Network(w1, w2, activation, b1=None, b2=None)``: ``w1`` is the ``Nh × Ni`` first-layer
/// matrix, ``w2`` the ``Nh`` second-layer weights (array-likes, converted to float64),
/// ``activation`` as in a network file: a dict such as ``{"kind": "quadratic", "epsilon": 0.5}``
/// or a kind string such as ``"erf"`` (kinds without parameters); ``b1`` the ``Nh`` hidden
/// biases and ``b2`` the output bias (a number), each optional on its own. Bad shapes,
/// non-finite numbers or an unknown activation raise ``ValueError`` with the message of the file
/// reader.
///
/// The parameter vector θ (``params``) is W1 flattened row by row, then W2, then ``b1`` and
/// ``b2`` where present (``INTERFACE.md``): ``D = Nh·Ni + Nh (+ Nh with b1) (+ 1 with b2)``.
/// Every Hessian of this package uses that order. Networks are immutable, compare by value and
/// pickle (through their exact JSON form), so they travel to Dask or multiprocessing workers.
#[pyclass(name = "Network", module = "nearopt", frozen)]
pub struct PyNetwork {
    pub(crate) net: Network,
    w1: Py<PyArray2<f64>>,
    w2: Py<PyArray1<f64>>,
    b1: Option<Py<PyArray1<f64>>>,
}

/// A float64, C-contiguous view of `obj` (a copy only when `obj` is not one already).
fn float_array<'py>(
    obj: &Bound<'py, PyAny>,
    what: &str,
    ndim: usize,
) -> PyResult<Bound<'py, PyAny>> {
    let py = obj.py();
    let np = py.import("numpy")?;
    let kwargs = PyDict::new(py);
    kwargs.set_item("dtype", np.getattr("float64")?)?;
    let a = np
        .call_method("ascontiguousarray", (obj,), Some(&kwargs))
        .map_err(|e| PyValueError::new_err(format!("{what} is not an array of numbers: {e}")))?;
    let got = a.cast::<numpy::PyUntypedArray>()?.ndim();
    if got != ndim {
        let shape: Vec<usize> = a.cast::<numpy::PyUntypedArray>()?.shape().to_vec();
        return Err(PyValueError::new_err(format!(
            "{what} must be a {ndim}-D array, got shape {shape:?}"
        )));
    }
    Ok(a)
}

/// The activation given as in a network file: a dict (`{"kind": "erf"}`) or a kind string.
pub(crate) fn activation_from_py(obj: &Bound<'_, PyAny>) -> PyResult<Activation> {
    let py = obj.py();
    let text = if let Ok(s) = obj.cast::<PyString>() {
        serde_json::json!({ "kind": s.to_str()? }).to_string()
    } else if obj.is_instance_of::<PyDict>() {
        py.import("json")?
            .call_method1("dumps", (obj,))
            .map_err(|e| PyValueError::new_err(format!("activation is not JSON data: {e}")))?
            .extract::<String>()?
    } else {
        return Err(PyValueError::new_err(format!(
            "activation must be a dict such as {{\"kind\": \"erf\"}} or a kind string, got {}",
            obj.get_type().name()?
        )));
    };
    let value = parse_json_exact(&text).map_err(lib_err)?;
    let act: Activation = serde_json::from_value(value)
        .map_err(|e| PyValueError::new_err(format!("invalid activation: {e}")))?;
    act.validate().map_err(lib_err)?;
    Ok(act)
}

/// The activation as the dict of a network file.
pub(crate) fn activation_to_py<'py>(
    py: Python<'py>,
    act: &Activation,
) -> PyResult<Bound<'py, PyAny>> {
    let text =
        serde_json::to_string(act).map_err(|e| PyValueError::new_err(format!("internal: {e}")))?;
    py.import("json")?.call_method1("loads", (text,))
}

/// A read-only NumPy array (the network's weights must not change behind its back).
fn read_only<'py, T>(a: Bound<'py, T>) -> PyResult<Bound<'py, T>> {
    let kwargs = PyDict::new(a.py());
    kwargs.set_item("write", false)?;
    a.as_any().call_method("setflags", (), Some(&kwargs))?;
    Ok(a)
}

impl PyNetwork {
    /// Wraps a library network (its weight arrays made once, read-only).
    pub(crate) fn wrap(py: Python<'_>, net: Network) -> PyResult<Self> {
        let w1 = read_only(matrix_from_vec(py, net.nh(), net.ni(), net.w1().to_vec())?)?;
        let w2 = read_only(vector_from_vec(py, net.w2().to_vec()))?;
        let b1 = match net.b1() {
            Some(b) => Some(read_only(vector_from_vec(py, b.to_vec()))?.unbind()),
            None => None,
        };
        Ok(PyNetwork {
            net,
            w1: w1.unbind(),
            w2: w2.unbind(),
            b1,
        })
    }
}

/// The distribution named like `nearopt teacher --weights` (same names, defaults and messages).
fn weight_distribution(kind: &str, nu: Option<f64>) -> PyResult<WeightDistribution> {
    let kind = kind.trim().to_ascii_lowercase();
    if nu.is_some() && kind != "student-t" {
        return Err(PyValueError::new_err(format!(
            "nu only applies to weights=\"student-t\" (got `{kind}`)"
        )));
    }
    let dist = match kind.as_str() {
        "normal" => WeightDistribution::Normal,
        "uniform" => WeightDistribution::Uniform,
        "rademacher" => WeightDistribution::Rademacher,
        "laplace" => WeightDistribution::Laplace,
        "student-t" => {
            let nu = nu.unwrap_or(5.0);
            if !(nu.is_finite() && nu > 2.0) {
                return Err(PyValueError::new_err(format!(
                    "nu must be a finite number > 2 (finite variance), got {nu}"
                )));
            }
            WeightDistribution::StudentT { nu }
        }
        other => {
            return Err(PyValueError::new_err(format!(
                "unknown weight distribution `{other}` (known: normal, uniform, rademacher, laplace, student-t)"
            )))
        }
    };
    dist.validate().map_err(lib_err)?;
    Ok(dist)
}

#[pymethods]
impl PyNetwork {
    #[new]
    #[pyo3(signature = (w1, w2, activation, b1=None, b2=None))]
    fn new(
        py: Python<'_>,
        w1: &Bound<'_, PyAny>,
        w2: &Bound<'_, PyAny>,
        activation: &Bound<'_, PyAny>,
        b1: Option<&Bound<'_, PyAny>>,
        b2: Option<f64>,
    ) -> PyResult<Self> {
        let act = activation_from_py(activation)?;
        let a1 = float_array(w1, "w1", 2)?;
        let a1 = a1.cast::<PyArray2<f64>>()?.readonly();
        let a2 = float_array(w2, "w2", 1)?;
        let a2 = a2.cast::<PyArray1<f64>>()?.readonly();
        let (nh, ni) = (a1.shape()[0], a1.shape()[1]);
        let net = Network::new(
            act,
            ni,
            nh,
            a1.as_slice()?.to_vec(),
            a2.as_slice()?.to_vec(),
        )
        .map_err(lib_err)?;
        let b1 = match b1 {
            Some(b) => {
                let a = float_array(b, "b1", 1)?;
                let a = a.cast::<PyArray1<f64>>()?.readonly();
                Some(a.as_slice()?.to_vec())
            }
            None => None,
        };
        let net = net.with_biases(b1, b2).map_err(lib_err)?;
        PyNetwork::wrap(py, net)
    }

    /// Reads a network file (JSON, ``INTERFACE.md``) exactly as ``nearopt`` does: at most
    /// 256 MiB, duplicate and unknown keys refused, numbers read back bit for bit. A malformed
    /// file raises ``ValueError`` with the CLI's message (``invalid network file PATH: ...``); a
    /// missing one ``FileNotFoundError``.
    #[staticmethod]
    fn from_file(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        let net = crate::cli_io::read_network(&path).map_err(cli_err)?;
        PyNetwork::wrap(py, net)
    }

    /// Parses the text of a network file (see ``from_file``).
    #[staticmethod]
    fn from_json(py: Python<'_>, text: &str) -> PyResult<Self> {
        let net = parse_network(text).map_err(lib_err)?;
        PyNetwork::wrap(py, net)
    }

    /// Writes the network file (atomically: a temporary file, then a rename), byte for byte
    /// what ``nearopt teacher --out`` writes; numbers in the shortest form that reads back
    /// exactly.
    fn to_file(&self, path: PathBuf) -> PyResult<()> {
        let mut text = network_json(&self.net);
        text.push('\n');
        crate::cli_io::write_atomic(&path, text.as_bytes()).map_err(cli_err)
    }

    /// The network file's JSON text.
    fn to_json(&self) -> String {
        network_json(&self.net)
    }

    /// A seeded teacher (paper Section 1.1; Appendix E for non-Gaussian weights), the same
    /// network as ``nearopt teacher --activation ... --ni NI --nh NH --weights W --seed S
    /// --stream K`` writes: W1 then W2 drawn from ``weights`` (normal, uniform, rademacher,
    /// laplace or student-t with ``nu`` > 2 degrees of freedom, default 5), rescaled to
    /// variance ``1/fan_in`` (``1/Ni`` for W1, ``1/Nh`` for W2), from stream ``stream`` of
    /// ``seed`` (ChaCha8). ``b1_std`` / ``b2_std`` (as ``--b1-std`` / ``--b2-std``) add hidden
    /// biases ``b1 ~ N(0, b1_std²)`` and an output bias ``b2 ~ N(0, b2_std²)``, drawn from stream
    /// ``stream + 2⁴⁸`` of ``seed``, so that the weights are those of the bias-free teacher.
    #[staticmethod]
    #[pyo3(signature = (activation, ni, nh, *, weights="normal", nu=None, seed=1, stream=0, b1_std=None, b2_std=None))]
    #[allow(clippy::too_many_arguments)]
    fn sample_teacher(
        py: Python<'_>,
        activation: &Bound<'_, PyAny>,
        ni: usize,
        nh: usize,
        weights: &str,
        nu: Option<f64>,
        seed: u64,
        stream: u64,
        b1_std: Option<f64>,
        b2_std: Option<f64>,
    ) -> PyResult<Self> {
        if ni == 0 {
            return Err(PyValueError::new_err("ni must be at least 1"));
        }
        if nh == 0 {
            return Err(PyValueError::new_err("nh must be at least 1"));
        }
        if ni.checked_mul(nh).and_then(|p| p.checked_add(nh)).is_none() {
            return Err(PyValueError::new_err(format!(
                "ni {ni} × nh {nh} parameters overflow"
            )));
        }
        nearopt::hessian::check_dense_fits(nh, ni, "teacher weight matrix W1").map_err(lib_err)?;
        let act = activation_from_py(activation)?;
        let dist = weight_distribution(weights, nu)?;
        let net = py
            .detach(|| {
                let net = sample_teacher(act, ni, nh, dist, seed, stream)?;
                if b1_std.is_some() || b2_std.is_some() {
                    with_sampled_biases(net, b1_std, b2_std, seed, stream)
                } else {
                    Ok(net)
                }
            })
            .map_err(lib_err)?;
        PyNetwork::wrap(py, net)
    }

    /// The same architecture, activation and biases present with parameters ``theta`` (length
    /// ``dim``, in the order of ``params``).
    fn with_params(&self, py: Python<'_>, theta: &Bound<'_, PyAny>) -> PyResult<Self> {
        let t = float_array(theta, "theta", 1)?;
        let t = t.cast::<PyArray1<f64>>()?.readonly();
        let net = self.net.with_params(t.as_slice()?).map_err(lib_err)?;
        PyNetwork::wrap(py, net)
    }

    /// Number of inputs ``Ni``.
    #[getter]
    fn ni(&self) -> usize {
        self.net.ni()
    }

    /// Number of hidden units ``Nh``.
    #[getter]
    fn nh(&self) -> usize {
        self.net.nh()
    }

    /// Number of parameters ``D = Nh·Ni + Nh``, plus ``Nh`` with ``b1``, plus 1 with ``b2``.
    #[getter]
    fn dim(&self) -> usize {
        self.net.dim()
    }

    /// ``W1``, ``Nh × Ni`` float64 (read-only).
    #[getter]
    fn w1(&self, py: Python<'_>) -> Py<PyArray2<f64>> {
        self.w1.clone_ref(py)
    }

    /// ``W2``, ``Nh`` float64 (read-only).
    #[getter]
    fn w2(&self, py: Python<'_>) -> Py<PyArray1<f64>> {
        self.w2.clone_ref(py)
    }

    /// ``b1``, ``Nh`` float64 (read-only), or None for a network without hidden biases.
    #[getter]
    fn b1(&self, py: Python<'_>) -> Option<Py<PyArray1<f64>>> {
        self.b1.as_ref().map(|b| b.clone_ref(py))
    }

    /// ``b2`` (a float), or None for a network without an output bias.
    #[getter]
    fn b2(&self) -> Option<f64> {
        self.net.b2()
    }

    /// The parameter vector θ (W1 row by row, then W2, then ``b1`` and ``b2`` where present), a
    /// new float64 array of length ``dim``.
    #[getter]
    fn params<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        vector_from_vec(py, self.net.params())
    }

    /// The activation as in a network file, e.g. ``{"kind": "erf"}``.
    #[getter]
    fn activation<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        activation_to_py(py, self.net.activation())
    }

    fn __repr__(&self) -> String {
        let biases = match (self.net.b1().is_some(), self.net.b2().is_some()) {
            (true, true) => ", biases=b1+b2",
            (true, false) => ", biases=b1",
            (false, true) => ", biases=b2",
            (false, false) => "",
        };
        format!(
            "Network(activation={}, ni={}, nh={}{biases}, dim={})",
            serde_json::to_string(self.net.activation()).unwrap_or_default(),
            self.net.ni(),
            self.net.nh(),
            self.net.dim()
        )
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other
            .cast::<PyNetwork>()
            .map(|o| o.get().net == self.net)
            .unwrap_or(false)
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyTuple>> {
        let py = slf.py();
        let ctor = py.get_type::<PyNetwork>().getattr("from_json")?;
        let text = network_json(&slf.get().net);
        PyTuple::new(py, [ctor, PyTuple::new(py, [text])?.into_any()])
    }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyNetwork>()
}
