//! `nearopt.reproduce`: the report directory of `nearopt reproduce`, written by the CLI's own
//! plotting and report code.

use crate::cli_io::write_atomic;
use crate::{cli_err, run};
use anyhow::{bail, Context};
use nearopt::experiments::{self, NoProgress, ReproduceConfig};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// The CLI's figures (SVG/PNG with the bundled font, CSV) and its HTML report and
/// `summary.json`.
use nearopt_cli::{plot, report};

/// The effective configuration, as `nearopt reproduce` builds it: the paper's (or the quick)
/// defaults, overridden key by key by `config` (JSON text of an object), then by `seed`.
fn effective_config(
    quick: bool,
    config: Option<&str>,
    seed: Option<u64>,
) -> anyhow::Result<ReproduceConfig> {
    let base = if quick {
        ReproduceConfig::quick()
    } else {
        ReproduceConfig::paper()
    };
    let mut value = serde_json::to_value(&base)?;
    if let Some(text) = config {
        let over: Value = serde_json::from_str(text)
            .map_err(|e| anyhow::anyhow!("config: not valid JSON: {e}"))?;
        let Value::Object(over) = over else {
            bail!("config: expected a dict of configuration keys");
        };
        let Value::Object(map) = &mut value else {
            bail!("internal: the configuration is not an object");
        };
        for (k, v) in over {
            if !map.contains_key(&k) {
                bail!("config: unknown key `{k}`");
            }
            map.insert(k, v);
        }
    }
    let mut cfg: ReproduceConfig =
        serde_json::from_value(value).map_err(|e| anyhow::anyhow!("config: {e}"))?;
    if quick {
        cfg.quick = true;
    }
    if let Some(s) = seed {
        cfg.seed = s;
    }
    cfg.validate()?;
    Ok(cfg)
}

/// Runs every experiment and writes the report into `out` as `nearopt reproduce` does; returns
/// the text of `summary.json`.
fn write_report(cfg: &ReproduceConfig, out: &Path) -> anyhow::Result<String> {
    if out.exists() && !out.is_dir() {
        bail!("out {}: exists and is not a directory", out.display());
    }
    plot::register_font()?;
    let started = std::time::Instant::now();
    let output = experiments::run_all(cfg, &NoProgress)?;
    let elapsed = started.elapsed().as_secs_f64();
    std::fs::create_dir_all(out).with_context(|| format!("cannot create out {}", out.display()))?;
    let mut files = Vec::new();
    for fig in &output.figures {
        let ff = report::FigureFiles::of(&fig.id);
        write_atomic(&out.join(&ff.svg), plot::svg(fig)?.as_bytes())?;
        plot::write_png(fig, &out.join(&ff.png))?;
        write_atomic(&out.join(&ff.csv), plot::csv(fig).as_bytes())?;
        files.push(ff);
    }
    let config = serde_json::to_value(cfg)?;
    let summary = report::Summary {
        nearopt_version: env!("CARGO_PKG_VERSION"),
        config: &config,
        claims: &output.claims,
        figures: &files,
    };
    let summary = serde_json::to_string_pretty(&summary)?;
    write_atomic(&out.join("summary.json"), summary.as_bytes())?;
    write_atomic(
        &out.join("index.html"),
        report::html(&config, &output.claims, &output.figures, elapsed).as_bytes(),
    )?;
    Ok(summary)
}

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
    let cfg = effective_config(quick, config_text.as_deref(), seed).map_err(cli_err)?;
    let summary = run(py, threads, || write_report(&cfg, &out))?;
    json.call_method1("loads", (summary,))
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(reproduce, m)?)
}
