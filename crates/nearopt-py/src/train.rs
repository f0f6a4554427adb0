//! `nearopt.train`: what `nearopt train` computes, with the loss curves as NumPy arrays.

use crate::network::{activation_to_py, PyNetwork};
use crate::{matrix_from_vec, run, vector_from_vec};
use nearopt::dynamics::predict::Prediction;
use nearopt::dynamics::summary::summarize;
use nearopt::dynamics::train::{
    log_time_grid, train as lib_train, TrainConfig, Trainer, NOISE_STREAM,
};
use nearopt::dynamics::PopulationLoss;
use nearopt::experiments::NoProgress;
use nearopt::PopulationHessian;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

/// The trainer named like `nearopt train --trainer`, with the CLI's checks of which options
/// belong to it.
fn trainer(
    name: &str,
    rtol: f64,
    lr: Option<f64>,
    batch: Option<usize>,
    samples: Option<usize>,
    steps: Option<u64>,
) -> PyResult<Trainer> {
    let t = name.trim().to_ascii_lowercase();
    let unused = |arg: &str, set: bool| -> PyResult<()> {
        if set {
            return Err(PyValueError::new_err(format!(
                "{arg} does not apply to trainer=\"{t}\""
            )));
        }
        Ok(())
    };
    match t.as_str() {
        "flow" => {
            unused("lr", lr.is_some())?;
            unused("batch", batch.is_some())?;
            unused("samples", samples.is_some())?;
            unused("steps", steps.is_some())?;
            Ok(Trainer::Flow {
                rtol,
                max_steps: 10_000_000,
            })
        }
        "gd" => {
            unused("batch", batch.is_some())?;
            let (Some(lr), Some(samples)) = (lr, samples) else {
                return Err(PyValueError::new_err("trainer=\"gd\" needs lr and samples"));
            };
            Ok(Trainer::Gd { lr, samples })
        }
        "sgd" => {
            unused("samples", samples.is_some())?;
            let (Some(lr), Some(batch)) = (lr, batch) else {
                return Err(PyValueError::new_err("trainer=\"sgd\" needs lr and batch"));
            };
            Ok(Trainer::Sgd { lr, batch })
        }
        other => Err(PyValueError::new_err(format!(
            "unknown trainer `{other}` (expected flow, gd or sgd)"
        ))),
    }
}

/// Trains ``draws`` students started at ``teacher + N(0, sigma0²)`` noise on every parameter
/// and returns the exact population loss along the way, with the prediction of paper Eq. 7,
/// ``⟨L(t)⟩ = σ0²/2 · Tr(e^{−2Ht} H)`` (``H`` the Hessian at the optimum), and its long-time
/// law ``α e^{−2 λ_min t}``: the numbers behind ``nearopt train``'s ``loss.csv`` and
/// ``summary.json``, bit for bit, as a dict.
///
/// ``trainer``: ``"flow"`` (gradient flow on the population loss, RK45 with relative tolerance
/// ``rtol``), ``"gd"`` (full-batch GD with learning rate ``lr`` on ``samples`` inputs per draw)
/// or ``"sgd"`` (online SGD, mini-batches of ``batch``). ``t_max`` (or ``steps × lr``) defaults
/// to the time at which Eq. 7's long-time law has fallen by 6 decades (at most
/// ``2·10⁴/λ_max``); losses are recorded at 0, ``grid_points`` log-spaced times from
/// ``10⁻⁴ t_max`` and 12 times in ``[t_max/2, t_max]``. Draw ``r``'s noise comes from stream
/// ``2⁴⁰ + r`` of ``seed``: the result does not depend on ``threads``.
///
/// Returns the arrays ``times``, ``mean``, ``stderr``, ``q10``, ``median``, ``q90``, ``eq7``,
/// ``asymptote``, ``losses`` (``draws × len(times)``), ``draw0_quadratic_model`` and
/// ``delta0`` (``draws × D`` initial displacements), and the scalars of the CLI's
/// ``summary.json`` (``lambda_min``, ``fitted_rate``, ``two_lambda_min``, ``rank``, ...).
/// A run that diverges (too large ``lr``) or that the integrator cannot finish raises
/// ``ValueError`` with the CLI's message.
#[pyfunction]
#[pyo3(signature = (teacher, *, sigma0=1e-3, trainer="flow", lr=None, batch=None, samples=None, steps=None, t_max=None, rtol=1e-6, draws=100, grid_points=40, seed=1, threads=None))]
#[allow(clippy::too_many_arguments)]
pub fn train<'py>(
    py: Python<'py>,
    teacher: PyRef<'py, PyNetwork>,
    sigma0: f64,
    trainer: &str,
    lr: Option<f64>,
    batch: Option<usize>,
    samples: Option<usize>,
    steps: Option<u64>,
    t_max: Option<f64>,
    rtol: f64,
    draws: usize,
    grid_points: usize,
    seed: u64,
    threads: Option<usize>,
) -> PyResult<Bound<'py, PyDict>> {
    let tr = self::trainer(trainer, rtol, lr, batch, samples, steps)?;
    if t_max.is_some() && steps.is_some() {
        return Err(PyValueError::new_err("give t_max or steps, not both"));
    }
    if !(sigma0 > 0.0 && sigma0.is_finite()) {
        return Err(PyValueError::new_err(format!(
            "sigma0 must be a positive number, got {sigma0}"
        )));
    }
    if draws == 0 {
        return Err(PyValueError::new_err("draws must be at least 1"));
    }
    if grid_points < 2 {
        return Err(PyValueError::new_err("grid_points must be at least 2"));
    }
    let net = &teacher.net;
    let d = net.dim();
    nearopt::hessian::check_dense_fits(d, d, "population Hessian").map_err(crate::lib_err)?;
    let tr2 = tr.clone();
    let (pred, run_out) = run(py, threads, move || -> PyResult<_> {
        let h0 = PopulationHessian::at_optimum(net)
            .dense()
            .map_err(crate::lib_err)?;
        let pred = Prediction::new(&h0).map_err(crate::lib_err)?;
        let t_max = match (t_max, steps, &tr2) {
            (Some(t), _, _) => {
                if !(t > 0.0 && t.is_finite()) {
                    return Err(PyValueError::new_err(format!(
                        "t_max must be a positive number, got {t}"
                    )));
                }
                t
            }
            (None, Some(s), Trainer::Gd { lr, .. } | Trainer::Sgd { lr, .. }) => {
                if s == 0 {
                    return Err(PyValueError::new_err("steps must be at least 1"));
                }
                s as f64 * lr
            }
            _ => {
                (6.0 * std::f64::consts::LN_10 / (2.0 * pred.lambda_min)).min(2e4 / pred.lambda_max)
            }
        };
        let mut times = log_time_grid(1e-4 * t_max, t_max, grid_points).map_err(crate::lib_err)?;
        times.extend((0..12).map(|i| t_max * (0.5 + 0.5 * i as f64 / 11.0)));
        times.sort_by(f64::total_cmp);
        times.dedup_by(|a, b| (*a - *b).abs() <= 1e-12 * t_max);
        let cfg = TrainConfig {
            sigma0,
            trainer: tr2,
            times,
            draws,
            seed,
        };
        let loss = PopulationLoss::new(net);
        // A run that diverges or cannot be integrated is a matter of its settings (lr, t_max):
        // ValueError, with the library's (and the CLI's) message.
        let r = lib_train(&loss, &h0, &cfg, &NoProgress).map_err(|e| match e {
            nearopt::Error::Numerical(_) => PyValueError::new_err(e.to_string()),
            e => crate::lib_err(e),
        })?;
        Ok((pred, r))
    })?;
    let times = &run_out.times;
    let n = times.len();
    let mean = run_out.mean_loss();
    if let Some(i) = mean.iter().position(|m| !m.is_finite()) {
        return Err(PyValueError::new_err(format!(
            "training diverged: the mean loss is {} at t = {:e}; use a smaller lr",
            mean[i], times[i]
        )));
    }
    let summary = summarize(&pred, sigma0, times, &mean, &run_out.draws[0].delta0);
    let t_end = times[n - 1];

    let out = PyDict::new(py);
    out.set_item("times", vector_from_vec(py, times.clone()))?;
    out.set_item("mean", vector_from_vec(py, mean.clone()))?;
    out.set_item("stderr", vector_from_vec(py, run_out.mean_loss_stderr()))?;
    out.set_item("q10", vector_from_vec(py, run_out.loss_quantile(0.1)))?;
    out.set_item("median", vector_from_vec(py, run_out.loss_quantile(0.5)))?;
    out.set_item("q90", vector_from_vec(py, run_out.loss_quantile(0.9)))?;
    out.set_item("eq7", vector_from_vec(py, summary.eq7))?;
    out.set_item("asymptote", vector_from_vec(py, summary.asymptote))?;
    out.set_item(
        "draw0_quadratic_model",
        vector_from_vec(py, summary.draw0_quadratic_model),
    )?;
    let losses: Vec<f64> = run_out
        .draws
        .iter()
        .flat_map(|r| r.loss.iter().copied())
        .collect();
    out.set_item("losses", matrix_from_vec(py, draws, n, losses)?)?;
    let delta0: Vec<f64> = run_out
        .draws
        .iter()
        .flat_map(|r| r.delta0.iter().copied())
        .collect();
    out.set_item("delta0", matrix_from_vec(py, draws, d, delta0)?)?;
    out.set_item("activation", activation_to_py(py, net.activation())?)?;
    out.set_item("ni", net.ni())?;
    out.set_item("nh", net.nh())?;
    out.set_item("dim", d)?;
    out.set_item("trainer", tr.name())?;
    out.set_item("lr", lr)?;
    out.set_item("batch", batch)?;
    out.set_item("samples", samples)?;
    out.set_item("rtol", (tr.name() == "flow").then_some(rtol))?;
    out.set_item("sigma0", sigma0)?;
    out.set_item("draws", draws)?;
    out.set_item("seed", seed)?;
    out.set_item(
        "noise_streams",
        format!("stream(seed, {NOISE_STREAM} + draw)"),
    )?;
    out.set_item("t_max", t_end)?;
    out.set_item("rank", pred.rank)?;
    out.set_item("lambda_min", pred.lambda_min)?;
    out.set_item("lambda_max", pred.lambda_max)?;
    out.set_item("fitted_rate", summary.fitted_rate)?;
    out.set_item("two_lambda_min", 2.0 * pred.lambda_min)?;
    out.set_item("rate_relative_deviation", summary.rate_relative_deviation)?;
    out.set_item(
        "eq7_max_relative_deviation",
        summary.eq7_max_relative_deviation,
    )?;
    out.set_item(
        "mean_steps_per_draw",
        run_out.draws.iter().map(|d| d.steps as f64).sum::<f64>() / draws as f64,
    )?;
    Ok(out)
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(train, m)?)
}
