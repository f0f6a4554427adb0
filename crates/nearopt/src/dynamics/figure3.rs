//! Paper Figure 3 as data: the loss of students started at `teacher + N(0, σ0²)` and trained by
//! gradient flow, against Eq. 7 and the long-time law `α e^{−2 λ_min t}`, for the linear
//! network of the paper (Ni = 10, Nh = 20) and for quadratic and erf networks; a sweep over σ0
//! showing where the quadratic approximation (Eq. 6) stops holding; and the Hessian along one
//! trajectory.

use super::loss::PopulationLoss;
use super::predict::{fitted_decay_rate, Prediction};
use super::train::{flow_checkpoints, initial_noise, train, TrainConfig, TrainRun, Trainer};
use super::trajectory::{checkpoint, HessianCheckpoint};
use crate::error::{Error, Result};
use crate::experiments::{Claim, Figure, Progress, Series, Verdict};
use crate::teacher::{sample_teacher, WeightDistribution};
use crate::{Activation, PopulationHessian};

/// One network of the figure.
#[derive(Clone, Debug, PartialEq)]
pub struct CaseConfig {
    /// Short name used in ids (`linear`, `quadratic`, `erf`).
    pub name: String,
    /// Activation.
    pub activation: Activation,
    /// Inputs Ni.
    pub ni: usize,
    /// Hidden units Nh.
    pub nh: usize,
    /// Noise draws.
    pub draws: usize,
    /// Run until Eq. 7's long-time law has fallen by this many decades ...
    pub decades: f64,
    /// ... but no longer than this many multiples of `1/λ_max` (explicit integration of a stiff
    /// flow costs about `λ_max t / 3` steps).
    pub max_t_lambda_max: f64,
}

/// The σ0 sweep.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepConfig {
    /// Activation.
    pub activation: Activation,
    /// Inputs Ni.
    pub ni: usize,
    /// Hidden units Nh.
    pub nh: usize,
    /// The σ0 values.
    pub sigmas: Vec<f64>,
    /// Draws per σ0.
    pub draws: usize,
    /// Horizon as in [`CaseConfig::decades`].
    pub decades: f64,
}

/// Configuration of [`run`].
#[derive(Clone, Debug, PartialEq)]
pub struct Figure3Config {
    /// Initial noise σ0 (paper: 1e-3).
    pub sigma0: f64,
    /// Seed of every random stream (teachers use streams 0, 1, 2, ... in case order).
    pub seed: u64,
    /// Flow tolerance (relative, in the loss norm).
    pub rtol: f64,
    /// Step cap per flow run.
    pub max_steps: usize,
    /// Log-spaced recording points.
    pub grid_points: usize,
    /// The networks.
    pub cases: Vec<CaseConfig>,
    /// The σ0 sweep.
    pub sweep: SweepConfig,
    /// Checkpoints of the Hessian along the trajectory of draw 0 (per case).
    pub hessian_checkpoints: usize,
}

impl Figure3Config {
    /// The paper's setting: σ0 = 1e-3, linear Ni = 10, Nh = 20 (2000 draws), quadratic (ε = 1, 200 draws)
    /// and erf (100 draws) networks of the same size, σ0 from 1e-3 to 1.
    pub fn paper() -> Self {
        let case = |name: &str, activation: Activation, draws: usize| CaseConfig {
            name: name.into(),
            activation,
            ni: 10,
            nh: 20,
            draws,
            decades: 6.0,
            max_t_lambda_max: 2e4,
        };
        Figure3Config {
            sigma0: 1e-3,
            seed: 2024,
            rtol: 1e-6,
            max_steps: 200_000,
            grid_points: 40,
            cases: vec![
                // The linear loss is evaluated without cancellation, so its tail can be followed
                // for 16 decades: long enough for the modes next to λ_min to die out of the fit
                // window (with 6 decades they biased the fitted rate by ~5%, with 10 by ~2%, for
                // some teachers; Eq. 7 itself shows the same bias over the same window).
                CaseConfig {
                    decades: 16.0,
                    ..case("linear", Activation::Linear, 2000)
                },
                case("quadratic", Activation::Quadratic { epsilon: 1.0 }, 200),
                case("erf", Activation::Erf, 100),
            ],
            sweep: SweepConfig {
                activation: Activation::Linear,
                ni: 10,
                nh: 20,
                sigmas: vec![1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0],
                draws: 50,
                decades: 6.0,
            },
            hessian_checkpoints: 10,
        }
    }

    /// A small version that runs in a few seconds (Ni = 3, Nh = 4).
    pub fn quick() -> Self {
        let case = |name: &str, activation: Activation| CaseConfig {
            name: name.into(),
            activation,
            ni: 3,
            nh: 4,
            draws: 64,
            decades: 4.0,
            max_t_lambda_max: 2e3,
        };
        Figure3Config {
            sigma0: 1e-3,
            seed: 7,
            rtol: 1e-6,
            max_steps: 50_000,
            grid_points: 24,
            cases: vec![
                case("linear", Activation::Linear),
                case("quadratic", Activation::Quadratic { epsilon: 1.0 }),
                case("erf", Activation::Erf),
            ],
            sweep: SweepConfig {
                activation: Activation::Linear,
                ni: 3,
                nh: 4,
                sigmas: vec![1e-3, 1e-2, 0.1, 1.0],
                draws: 8,
                decades: 4.0,
            },
            hessian_checkpoints: 4,
        }
    }
}

/// Figures and claims of [`run`].
#[derive(Clone, Debug, PartialEq)]
pub struct Figure3Output {
    /// `fig3-<case>` loss curves, `fig3-sigma-sweep`, `fig3-hessian-trajectory`.
    pub figures: Vec<Figure>,
    /// `fig3-<case>-decay-rate`, `fig3-<case>-eq7`, `fig3-sigma-sweep`.
    pub claims: Vec<Claim>,
    /// Per-case details (for the CLI's JSON).
    pub cases: Vec<CaseResult>,
}

/// What one case measured.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct CaseResult {
    /// Case name.
    pub name: String,
    /// Rank of the optimum Hessian.
    pub rank: usize,
    /// Smallest nonzero eigenvalue at the optimum.
    pub lambda_min: f64,
    /// Largest eigenvalue at the optimum.
    pub lambda_max: f64,
    /// Final time.
    pub t_max: f64,
    /// Eq. 7's long-time factor reached: `e^{−2 λ_min t_max}`.
    pub asymptotic_decay: f64,
    /// Fitted late-time decay rate of the mean loss.
    pub fitted_rate: f64,
    /// `fitted_rate / (2 λ_min) − 1`.
    pub rate_deviation: f64,
    /// The same late-window fit applied to Eq. 7.
    pub eq7_fitted_rate: f64,
    /// `max_t |mean − Eq. 7| / Eq. 7`.
    pub eq7_deviation: f64,
    /// Monte Carlo standard error of the mean, relative, at the worst time.
    pub eq7_stderr_at_worst: f64,
    /// `max_t |mean − quadratic model (same draws)| / quadratic model`: the nonlinearity alone.
    pub nonlinear_deviation: f64,
    /// Mean accepted flow steps per draw.
    pub mean_steps: f64,
    /// The Hessian along draw 0's trajectory.
    pub hessian_trajectory: Vec<HessianCheckpoint>,
}

/// Time grid: `0`, `grid_points` log-spaced times on `[1e-4 t_max, t_max]`, and 12 equally spaced
/// ones on `[t_max/2, t_max]` (the late-time fit window).
fn grid(t_max: f64, points: usize) -> Result<Vec<f64>> {
    let mut t = super::train::log_time_grid(1e-4 * t_max, t_max, points)?;
    t.extend((0..12).map(|i| t_max * (0.5 + 0.5 * i as f64 / 11.0)));
    t.sort_by(f64::total_cmp);
    t.dedup_by(|a, b| (*a - *b).abs() <= 1e-12 * t_max);
    Ok(t)
}

struct Measured {
    pred: Prediction,
    run: TrainRun,
    t_max: f64,
    mean: Vec<f64>,
    se: Vec<f64>,
    eq7: Vec<f64>,
    quad_mean: Vec<f64>,
}

#[allow(clippy::too_many_arguments)]
fn measure(
    loss: &PopulationLoss,
    h0: &crate::hessian::DenseMatrix,
    pred: Prediction,
    sigma0: f64,
    draws: usize,
    decades: f64,
    max_t_lambda_max: f64,
    cfg: &Figure3Config,
    progress: &dyn Progress,
) -> Result<Measured> {
    let t_decades = decades * std::f64::consts::LN_10 / (2.0 * pred.lambda_min);
    let t_max = t_decades.min(max_t_lambda_max / pred.lambda_max);
    let tc = TrainConfig {
        sigma0,
        trainer: Trainer::Flow {
            rtol: cfg.rtol,
            max_steps: cfg.max_steps,
        },
        times: grid(t_max, cfg.grid_points)?,
        draws,
        seed: cfg.seed,
    };
    let run = train(loss, h0, &tc, progress)?;
    let mean = run.mean_loss();
    let se = run.mean_loss_stderr();
    let eq7: Vec<f64> = run.times.iter().map(|&t| pred.eq7(sigma0, t)).collect();
    let proj: Vec<Vec<f64>> = run
        .draws
        .iter()
        .map(|d| pred.projections(&d.delta0))
        .collect();
    let quad_mean: Vec<f64> = run
        .times
        .iter()
        .map(|&t| proj.iter().map(|p| pred.quadratic_model(p, t)).sum::<f64>() / draws as f64)
        .collect();
    Ok(Measured {
        pred,
        run,
        t_max,
        mean,
        se,
        eq7,
        quad_mean,
    })
}

fn max_rel(a: &[f64], b: &[f64]) -> (f64, usize) {
    a.iter()
        .zip(b)
        .enumerate()
        .map(|(i, (x, y))| ((x - y).abs() / y.abs(), i))
        .fold((0.0, 0), |m, v| if v.0 > m.0 { v } else { m })
}

/// Runs Figure 3 (see the module docs).
pub fn run(cfg: &Figure3Config, progress: &dyn Progress) -> Result<Figure3Output> {
    if cfg.cases.is_empty() {
        return Err(Error::Invalid("Figure 3 needs at least one case".into()));
    }
    let mut figures = Vec::new();
    let mut claims = Vec::new();
    let mut cases = Vec::new();
    let mut traj_series = Vec::new();
    for (ci, case) in cfg.cases.iter().enumerate() {
        let teacher = sample_teacher(
            case.activation.clone(),
            case.ni,
            case.nh,
            WeightDistribution::Normal,
            cfg.seed,
            ci as u64,
        )?;
        let loss = PopulationLoss::new(&teacher);
        let h0 = PopulationHessian::at_optimum(&teacher).dense()?;
        let pred = Prediction::new(&h0)?;
        let m = measure(
            &loss,
            &h0,
            pred,
            cfg.sigma0,
            case.draws,
            case.decades,
            case.max_t_lambda_max,
            cfg,
            progress,
        )?;
        let (lmin, lmax, rank) = (m.pred.lambda_min, m.pred.lambda_max, m.pred.rank);
        let times = &m.run.times;
        let n = times.len();
        let rate = fitted_decay_rate(times, &m.mean, 0.5 * m.t_max, m.t_max)?;
        let rate_dev = rate / (2.0 * lmin) - 1.0;
        // The same fit applied to Eq. 7 itself: what the finite window costs in theory.
        let eq7_rate = fitted_decay_rate(times, &m.eq7, 0.5 * m.t_max, m.t_max)?;
        let (eq7_dev, worst) = max_rel(&m.mean, &m.eq7);
        let se_worst = m.se[worst] / m.eq7[worst];
        let (nl_dev, _) = max_rel(&m.mean, &m.quad_mean);
        let asym = m.pred.asymptote(times[n - 1], m.mean[n - 1]);
        let mean_steps =
            m.run.draws.iter().map(|d| d.steps as f64).sum::<f64>() / case.draws as f64;
        let decay = (-2.0 * lmin * m.t_max).exp();
        let p0 = m.pred.projections(&m.run.draws[0].delta0);
        let tpos: Vec<f64> = times[1..].to_vec();
        figures.push(Figure {
            id: format!("fig3-{}", case.name),
            title: format!(
                "Loss near the optimum: {} network Ni = {}, Nh = {}, σ0 = {:e}, {} draws",
                case.name, case.ni, case.nh, cfg.sigma0, case.draws
            ),
            x_label: "t".into(),
            y_label: "population loss".into(),
            log_x: false,
            log_y: true,
            series: vec![
                Series::Points {
                    label: "simulated mean (gradient flow)".into(),
                    x: tpos.clone(),
                    y: m.mean[1..].to_vec(),
                },
                Series::Line {
                    label: "Eq. 7".into(),
                    x: tpos.clone(),
                    y: m.eq7[1..].to_vec(),
                },
                Series::Line {
                    label: "α exp(−2 λ_min t)".into(),
                    x: tpos.clone(),
                    y: tpos.iter().map(|&t| asym(t)).collect(),
                },
                Series::Points {
                    label: "draw 0 simulated".into(),
                    x: tpos.clone(),
                    y: m.run.draws[0].loss[1..].to_vec(),
                },
                Series::Line {
                    label: "draw 0 quadratic model".into(),
                    x: tpos.clone(),
                    y: tpos
                        .iter()
                        .map(|&t| m.pred.quadratic_model(&p0, t))
                        .collect(),
                },
            ],
        });
        let horizon = format!(
            "t_max = {:.4e} (e^(−2 λ_min t_max) = {decay:.2e}; λ_min = {lmin:.4e}, λ_max = {lmax:.4e}, rank {rank} of D = {}), rtol {:e}, {:.0} flow steps per draw",
            m.t_max,
            teacher.dim(),
            cfg.rtol,
            mean_steps
        );
        claims.push(Claim {
            id: format!("fig3-{}-decay-rate", case.name),
            figure: "Figure 3".into(),
            section: "2".into(),
            claim: format!("At long times the mean loss of the {} network decays as exp(−2 λ_min t)", case.name),
            statistic: "relative_deviation_of_fitted_rate_from_2_lambda_min".into(),
            value: rate_dev.abs(),
            standard_error: None,
            threshold: 0.02,
            verdict: if rate_dev.abs() <= 0.02 { Verdict::Reproduced } else { Verdict::NotReproduced },
            note: format!(
                "least-squares slope of ln(mean loss) over t in [t_max/2, t_max]: rate {rate:.5e} vs 2 λ_min = {:.5e} ({:+.3}%); the same fit to Eq. 7 itself gives {eq7_rate:.5e} ({:+.3}%: the part due to modes near λ_min still present in the window); {horizon}{}",
                2.0 * lmin,
                100.0 * rate_dev,
                100.0 * (eq7_rate / (2.0 * lmin) - 1.0),
                if decay > 1e-2 {
                    "; the horizon is short of the asymptotic regime (small eigenvalues), so the fit still carries faster modes"
                } else {
                    ""
                }
            ),
            t_max: Some(m.t_max),
            lambda_min: Some(lmin),
        });
        claims.push(Claim {
            id: format!("fig3-{}-eq7", case.name),
            figure: "Figure 3".into(),
            section: "2".into(),
            claim: format!("The mean loss of the {} network follows Eq. 7, σ0²/2 Tr(e^(−2Ht) H)", case.name),
            statistic: "max_relative_deviation_of_mean_loss_from_eq7".into(),
            value: eq7_dev,
            standard_error: None,
            threshold: 0.05,
            verdict: if eq7_dev <= 0.05 { Verdict::Reproduced } else { Verdict::NotReproduced },
            note: format!(
                "max over the time grid at t = {:.3e}, where the Monte Carlo standard error of the mean is {:.2}% of Eq. 7 ({} draws); the mean departs from the quadratic model of the same draws by at most {nl_dev:.2e} (nonlinearity alone); {horizon}",
                times[worst],
                100.0 * se_worst,
                case.draws
            ),
            t_max: None,
            lambda_min: None,
        });
        // Hessian along draw 0's trajectory.
        let mut cps = Vec::new();
        if cfg.hessian_checkpoints > 0 {
            progress.start(
                &format!("Hessian along the {} trajectory", case.name),
                cfg.hessian_checkpoints as u64 + 1,
            );
            let star = teacher.params();
            let d0 = initial_noise(star.len(), cfg.sigma0, cfg.seed, 0);
            let th0: Vec<f64> = star.iter().zip(&d0).map(|(a, b)| a + b).collect();
            let tcs = super::train::log_time_grid(
                1e-3 * m.t_max,
                m.t_max,
                cfg.hessian_checkpoints.max(2),
            )?;
            let (thetas, ls) = flow_checkpoints(&loss, &h0, th0, &tcs, cfg.rtol, cfg.max_steps)?;
            for (i, th) in thetas.iter().enumerate() {
                cps.push(checkpoint(&loss, th, tcs[i], ls[i], rank)?);
                progress.inc(1);
            }
            progress.finish();
            traj_series.push(Series::Line {
                label: format!("{}: λ_(r0) along the trajectory", case.name),
                x: cps.iter().map(|c| c.t).collect(),
                y: cps.iter().map(|c| c.lambda_tracked).collect(),
            });
            traj_series.push(Series::Line {
                label: format!("{}: λ_min at the optimum", case.name),
                x: cps.iter().map(|c| c.t).collect(),
                y: vec![lmin; cps.len()],
            });
        }
        cases.push(CaseResult {
            name: case.name.clone(),
            rank,
            lambda_min: lmin,
            lambda_max: lmax,
            t_max: m.t_max,
            asymptotic_decay: decay,
            fitted_rate: rate,
            rate_deviation: rate_dev,
            eq7_fitted_rate: eq7_rate,
            eq7_deviation: eq7_dev,
            eq7_stderr_at_worst: se_worst,
            nonlinear_deviation: nl_dev,
            mean_steps,
            hessian_trajectory: cps,
        });
    }
    if !traj_series.is_empty() {
        figures.push(Figure {
            id: "fig3-hessian-trajectory".into(),
            title: format!(
                "Smallest tracked eigenvalue of the full Hessian along one trajectory (σ0 = {:e})",
                cfg.sigma0
            ),
            x_label: "t".into(),
            y_label: "eigenvalue".into(),
            log_x: true,
            log_y: true,
            series: traj_series,
        });
    }
    // σ0 sweep.
    let sw = &cfg.sweep;
    if !sw.sigmas.is_empty() {
        let teacher = sample_teacher(
            sw.activation.clone(),
            sw.ni,
            sw.nh,
            WeightDistribution::Normal,
            cfg.seed,
            cfg.cases.len() as u64,
        )?;
        let loss = PopulationLoss::new(&teacher);
        let h0 = PopulationHessian::at_optimum(&teacher).dense()?;
        let pred = Prediction::new(&h0)?;
        let mut nl = Vec::new();
        let mut raw = Vec::new();
        for &s in &sw.sigmas {
            let m = measure(
                &loss,
                &h0,
                pred.clone(),
                s,
                sw.draws,
                sw.decades,
                f64::INFINITY,
                cfg,
                progress,
            )?;
            nl.push(max_rel(&m.mean, &m.quad_mean).0);
            raw.push(max_rel(&m.mean, &m.eq7).0);
        }
        figures.push(Figure {
            id: "fig3-sigma-sweep".into(),
            title: format!(
                "Departure from the quadratic approximation: {} network Ni = {}, Nh = {}, {} draws per σ0",
                sw.activation.name(),
                sw.ni,
                sw.nh,
                sw.draws
            ),
            x_label: "σ0".into(),
            y_label: "max_t relative deviation of the mean loss".into(),
            log_x: true,
            log_y: true,
            series: vec![
                Series::Points {
                    label: "from the quadratic model of the same draws".into(),
                    x: sw.sigmas.clone(),
                    y: nl.clone(),
                },
                Series::Points {
                    label: "from Eq. 7 (includes Monte Carlo error)".into(),
                    x: sw.sigmas.clone(),
                    y: raw.clone(),
                },
            ],
        });
        let first = nl[0];
        let breaking = sw
            .sigmas
            .iter()
            .zip(&nl)
            .find(|(_, d)| **d > 0.05)
            .map(|(s, _)| *s);
        claims.push(Claim {
            id: "fig3-sigma-sweep".into(),
            figure: "Figure 3".into(),
            section: "2".into(),
            claim:
                "For small initial noise the dynamics follow the quadratic approximation (Eq. 6)"
                    .into(),
            statistic: "max_relative_deviation_from_quadratic_model_at_smallest_sigma0".into(),
            value: first,
            standard_error: None,
            threshold: 0.05,
            verdict: if first <= 0.05 {
                Verdict::Reproduced
            } else {
                Verdict::NotReproduced
            },
            note: format!(
                "σ0 = {:?}: deviations {:?}; the quadratic approximation {}",
                sw.sigmas,
                nl.iter().map(|d| format!("{d:.2e}")).collect::<Vec<_>>(),
                match breaking {
                    Some(s) => format!("first misses by more than 5% at σ0 = {s:e}"),
                    None => "holds within 5% over the whole sweep".into(),
                }
            ),
            t_max: None,
            lambda_min: None,
        });
    }
    Ok(Figure3Output {
        figures,
        claims,
        cases,
    })
}
