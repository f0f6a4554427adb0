//! `nearopt.reproduce`: the report directory of `nearopt reproduce`, written by the CLI's own
//! plotting and report code.

use crate::run;
use nearopt::experiments::NoProgress;
use nearopt_cli::commands::reproduce::{effective_config_from_text, reproduce_into};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::path::PathBuf;

/// Reproduces every figure and claim of the paper into the directory ``out`` (created if
/// missing), exactly as ``nearopt reproduce --out OUT`` does: ``index.html``, each figure as
/// SVG, PNG and CSV, and ``summary.json`` (``INTERFACE.md``), whose content is returned as a
/// dict (``claims``: each with ``id``, ``figure``, ``value``, ``standard_error``,
/// ``threshold``, ``verdict``, ...).
///
/// ``quick=True``: smaller ensembles and sizes (seconds instead of minutes). ``config``: a dict
/// overriding any configuration key (as ``--config FILE``; unknown keys raise ``ValueError``);
/// ``seed``: the master seed. Results do not depend on ``threads``.
#[pyfunction]
#[pyo3(signature = (out, *, quick=false, config=None, seed=None, threads=None))]
pub fn reproduce<'py>(
    py: Python<'py>,
    out: PathBuf,
    quick: bool,
    config: Option<&Bound<'py, PyDict>>,
    seed: Option<u64>,
    threads: Option<usize>,
) -> PyResult<Bound<'py, PyAny>> {
    let json = py.import("json")?;
    let config_text: Option<String> = match config {
        Some(c) => Some(json.call_method1("dumps", (c,))?.extract()?),
        None => None,
    };
    let summary = run(py, threads, || {
        let cfg =
            effective_config_from_text(quick, config_text.as_deref().map(|t| (t, "config")), seed)?;
        reproduce_into(&cfg, &out, &NoProgress)?;
        Ok::<_, anyhow::Error>(std::fs::read_to_string(out.join("summary.json"))?)
    })?;
    json.call_method1("loads", (summary,))
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(reproduce, m)?)
}
