//! The paper's experiments as data: each takes a configuration and returns [`Figure`]s (plot-ready
//! series, also written as CSV) and [`Claim`]s (a statistic, a threshold and a verdict). Plotting
//! and reporting (the CLI) only read these.

use serde::{Deserialize, Serialize};

/// Verdict on a claim of the paper (`INTERFACE.md`, `summary.json`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Verdict {
    /// Our measurement agrees with the paper's claim as printed.
    #[serde(rename = "reproduced")]
    Reproduced,
    /// It agrees once a printed formula is corrected (the note says which).
    #[serde(rename = "reproduced with correction")]
    ReproducedWithCorrection,
    /// It does not agree (the note says why).
    #[serde(rename = "not reproduced")]
    NotReproduced,
    /// The Monte Carlo error is too large to decide (the note says how many draws would).
    #[serde(rename = "inconclusive")]
    Inconclusive,
}

/// One checked claim, in the form of `summary.json`'s `claims` entries.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Claim {
    /// Starts with the figure (`fig2a`, `fig3`, ...) or equation (`eq14`, ...) it checks.
    pub id: String,
    /// E.g. "Figure 2a" (empty if none).
    pub figure: String,
    /// Paper section, e.g. "3.1".
    pub section: String,
    /// The claim in words.
    pub claim: String,
    /// Name of the statistic (e.g. `ks_distance`).
    pub statistic: String,
    /// Its measured value.
    pub value: f64,
    /// The Monte Carlo standard error of `value` where it comes from random draws; `None`
    /// (written as `null`) where `value` is exact (`INTERFACE.md`).
    #[serde(default)]
    pub standard_error: Option<f64>,
    /// The threshold the verdict compares it with.
    pub threshold: f64,
    /// The verdict.
    pub verdict: Verdict,
    /// What was measured and why the verdict.
    pub note: String,
    /// Decay-rate claims (`fig3-*-decay-rate`): the final time simulated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub t_max: Option<f64>,
    /// Decay-rate claims: the smallest nonzero eigenvalue of the Hessian at the optimum.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lambda_min: Option<f64>,
}

impl Claim {
    /// The claim with its Monte Carlo standard error set.
    pub fn with_se(mut self, se: f64) -> Self {
        self.standard_error = Some(se);
        self
    }
}

/// One plotted series.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Series {
    /// A curve (theory, prediction).
    Line {
        /// Legend label.
        label: String,
        /// Abscissae.
        x: Vec<f64>,
        /// Ordinates.
        y: Vec<f64>,
    },
    /// Markers (simulation points).
    Points {
        /// Legend label.
        label: String,
        /// Abscissae.
        x: Vec<f64>,
        /// Ordinates.
        y: Vec<f64>,
    },
    /// A normalised histogram: `density[i]` on `[edges[i], edges[i+1])`.
    Histogram {
        /// Legend label.
        label: String,
        /// Bin edges (one more than densities).
        edges: Vec<f64>,
        /// Densities (integrate to the fraction of samples in range).
        density: Vec<f64>,
    },
}

/// A figure as data: what to draw, with labels; also written as CSV.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Figure {
    /// File stem and id, e.g. `fig2a`.
    pub id: String,
    /// Title.
    pub title: String,
    /// x-axis label.
    pub x_label: String,
    /// y-axis label.
    pub y_label: String,
    /// Logarithmic x axis.
    pub log_x: bool,
    /// Logarithmic y axis.
    pub log_y: bool,
    /// The series, drawn in order.
    pub series: Vec<Series>,
}

/// Progress of a long step, reported by experiments; the CLI shows it as a bar.
pub trait Progress: Sync {
    /// A step named `name` with `total` units of work starts.
    fn start(&self, name: &str, total: u64);
    /// `n` more units are done.
    fn inc(&self, n: u64);
    /// The step is done.
    fn finish(&self);
}

/// Reports nothing.
pub struct NoProgress;

impl Progress for NoProgress {
    fn start(&self, _name: &str, _total: u64) {}
    fn inc(&self, _n: u64) {}
    fn finish(&self) {}
}

pub mod activations;
pub mod biases;
pub mod blocks;
pub mod budget;
pub mod common;
pub mod config;
pub mod figure3;
pub mod hermite;
pub mod large_n;
pub mod nonlinear;
pub mod overparam;
pub mod ranks;
pub mod spectra;

pub use config::ReproduceConfig;

use crate::error::Result;

/// Everything an experiment run produced: plot-ready figures and checked claims.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Output {
    /// The figures, in report order.
    pub figures: Vec<Figure>,
    /// The claims, in report order.
    pub claims: Vec<Claim>,
}

impl Output {
    /// Appends another output.
    pub fn extend(&mut self, other: Output) {
        self.figures.extend(other.figures);
        self.claims.extend(other.claims);
    }
}

/// Runs every experiment of the paper (Figures 2, 4–9 and the rank claims) with `config`.
/// Figure 3 (dynamics) is run by the caller from `crate::dynamics` when available.
pub fn run_all(config: &ReproduceConfig, progress: &dyn Progress) -> Result<Output> {
    config.validate()?;
    budget::check(config)?;
    let mut out = Output::default();
    out.extend(spectra::figure2(config, progress)?);
    out.extend(nonlinear::figure4(config, progress)?);
    out.extend(nonlinear::figure5(config, progress)?);
    out.extend(large_n::run(config, progress)?);
    out.extend(blocks::figure6(config, progress)?);
    out.extend(blocks::figure7(config, progress)?);
    out.extend(spectra::figures8_9(config, progress)?);
    out.extend(ranks::ranks(config, progress)?);
    let (figures, claims) = overparam::run(
        &overparam::OverparamConfig::from_reproduce(config),
        progress,
    )?;
    out.extend(Output { figures, claims });
    out.extend(biases::run(
        &biases::BiasConfig::from_reproduce(config),
        progress,
    )?);
    out.extend(activations::run(
        &activations::ActivationsConfig::from_reproduce(config),
        progress,
    )?);
    if config.dynamics {
        let mut fig3 = if config.quick {
            figure3::Figure3Config::quick()
        } else {
            figure3::Figure3Config::paper()
        };
        fig3.seed = config.seed;
        let f = figure3::run(&fig3, progress)?;
        out.extend(Output {
            figures: f.figures,
            claims: f.claims,
        });
    }
    Ok(out)
}
