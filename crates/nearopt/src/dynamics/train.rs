//! Students started at `teacher + N(0, σ0²)` noise on every parameter, trained by gradient flow,
//! full-batch gradient descent or online SGD; the exact population loss is recorded on a time
//! grid (time `t` = iterations × learning rate for the discrete trainers).
//!
//! Random streams (all from [`crate::rng::stream`] of the run's seed; results do not depend on
//! the thread count because each draw owns its streams):
//! * draw `r`'s initial noise: stream [`NOISE_STREAM`]` + r`;
//! * draw `r`'s SGD mini-batches: stream [`SGD_STREAM`]` + r`, drawn in order;
//! * draw `r`'s GD sample: [`crate::hessian::sampled::gaussian_inputs`] with seed
//!   [`gd_sample_seed`]`(seed, r)` (a fresh sample per draw, so that the draw average is over
//!   samples too).

use super::expflow::{expflow, EigenBasis};
use super::loss::PopulationLoss;
use super::precise::precise_loss;
use crate::error::{Error, Result};
use crate::experiments::Progress;
use crate::hessian::sampled::gaussian_inputs;
use crate::hessian::DenseMatrix;
use crate::rng::stream;
use rand_distr::{Distribution, StandardNormal};
use rayon::prelude::*;

/// First stream id of the initial-noise streams (draw `r` uses `NOISE_STREAM + r`).
pub const NOISE_STREAM: u64 = 1 << 40;
/// First stream id of the SGD mini-batch streams (draw `r` uses `SGD_STREAM + r`).
pub const SGD_STREAM: u64 = 2 << 40;

/// How the student is trained.
#[derive(Clone, Debug, PartialEq)]
pub enum Trainer {
    /// Gradient flow `dθ/dt = −∇L(θ)` on the exact population loss, integrated by the
    /// Dormand–Prince RK45 pair. The local error `e` of a step is accepted when
    /// `√(eᵀH₀e) ≤ rtol √(δᵀH₀δ)` (the loss norm: relative to the current loss, whatever its
    /// scale) and `|e| ≤ rtol |δ|`, with `δ = θ − θ*` and `H₀` the Hessian at the optimum.
    Flow {
        /// Relative tolerance (e.g. 1e-6).
        rtol: f64,
        /// Refuse runs needing more accepted + rejected steps than this.
        max_steps: usize,
    },
    /// Gradient flow integrated by the exponential integrator of [`super::expflow`] (ETDRK4 with
    /// the exact Hessian at the optimum as linear part, step doubling): the step is not limited
    /// by `1/λ_max`, so `t ≫ 1/λ_min` is reachable when λ_min/λ_max is tiny. Same error norm.
    ExpFlow {
        /// Relative tolerance (e.g. 1e-6).
        rtol: f64,
        /// Refuse runs needing more accepted + rejected steps than this.
        max_steps: usize,
    },
    /// Full-batch gradient descent on a fixed sample of `samples` inputs (one sample per draw).
    Gd {
        /// Learning rate (time per iteration).
        lr: f64,
        /// Sample size n.
        samples: usize,
    },
    /// Online SGD on fresh Gaussian mini-batches.
    Sgd {
        /// Learning rate (time per iteration).
        lr: f64,
        /// Mini-batch size.
        batch: usize,
    },
}

impl Trainer {
    /// Short name (`flow`, `expflow`, `gd`, `sgd`).
    pub fn name(&self) -> &'static str {
        match self {
            Trainer::Flow { .. } => "flow",
            Trainer::ExpFlow { .. } => "expflow",
            Trainer::Gd { .. } => "gd",
            Trainer::Sgd { .. } => "sgd",
        }
    }

    fn validate(&self) -> Result<()> {
        match *self {
            Trainer::Flow { rtol, max_steps } | Trainer::ExpFlow { rtol, max_steps } => {
                if !(rtol > 0.0 && rtol < 1.0) {
                    return Err(Error::Invalid(format!(
                        "flow rtol must be in (0, 1), got {rtol}"
                    )));
                }
                if max_steps == 0 {
                    return Err(Error::Invalid("flow max_steps must be ≥ 1".into()));
                }
            }
            Trainer::Gd { lr, samples } => {
                if !(lr > 0.0 && lr.is_finite()) {
                    return Err(Error::Invalid(format!(
                        "learning rate must be positive, got {lr}"
                    )));
                }
                if samples == 0 {
                    return Err(Error::Invalid("GD needs at least one sample".into()));
                }
            }
            Trainer::Sgd { lr, batch } => {
                if !(lr > 0.0 && lr.is_finite()) {
                    return Err(Error::Invalid(format!(
                        "learning rate must be positive, got {lr}"
                    )));
                }
                if batch == 0 {
                    return Err(Error::Invalid("SGD batch size must be ≥ 1".into()));
                }
            }
        }
        Ok(())
    }
}

/// What to run.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainConfig {
    /// Standard deviation σ0 of the initial noise on every parameter.
    pub sigma0: f64,
    /// The trainer.
    pub trainer: Trainer,
    /// Recording times (ascending, ≥ 0); discrete trainers snap them to whole iterations.
    pub times: Vec<f64>,
    /// Number of independent noise draws.
    pub draws: usize,
    /// Seed of every random stream.
    pub seed: u64,
}

/// One draw's run.
#[derive(Clone, Debug, PartialEq)]
pub struct DrawRun {
    /// Initial displacement `δθ₀ = θ(0) − θ*`.
    pub delta0: Vec<f64>,
    /// Exact population loss at each recording time.
    pub loss: Vec<f64>,
    /// Final parameters.
    pub theta_final: Vec<f64>,
    /// Integrator steps (accepted, for the flow) or iterations taken.
    pub steps: usize,
    /// Rejected steps (flow only).
    pub rejected: usize,
}

/// All draws of a run.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainRun {
    /// Recording times actually used.
    pub times: Vec<f64>,
    /// One entry per draw, in draw order.
    pub draws: Vec<DrawRun>,
}

impl TrainRun {
    /// Mean loss over draws at each recording time.
    pub fn mean_loss(&self) -> Vec<f64> {
        let r = self.draws.len() as f64;
        (0..self.times.len())
            .map(|i| self.draws.iter().map(|d| d.loss[i]).sum::<f64>() / r)
            .collect()
    }

    /// Standard error of the mean loss at each recording time.
    pub fn mean_loss_stderr(&self) -> Vec<f64> {
        let r = self.draws.len();
        let mean = self.mean_loss();
        (0..self.times.len())
            .map(|i| {
                if r < 2 {
                    return f64::NAN;
                }
                let v = self
                    .draws
                    .iter()
                    .map(|d| (d.loss[i] - mean[i]).powi(2))
                    .sum::<f64>()
                    / (r - 1) as f64;
                (v / r as f64).sqrt()
            })
            .collect()
    }

    /// The `q`-quantile (0..=1, linear interpolation) of the per-draw losses at each time.
    pub fn loss_quantile(&self, q: f64) -> Vec<f64> {
        (0..self.times.len())
            .map(|i| {
                let mut v: Vec<f64> = self.draws.iter().map(|d| d.loss[i]).collect();
                v.sort_by(f64::total_cmp);
                quantile_sorted(&v, q)
            })
            .collect()
    }
}

fn quantile_sorted(v: &[f64], q: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    let p = q.clamp(0.0, 1.0) * (v.len() - 1) as f64;
    let (lo, hi) = (p.floor() as usize, p.ceil() as usize);
    v[lo] + (p - lo as f64) * (v[hi] - v[lo])
}

/// `0` followed by `n` log-spaced times from `t_min` to `t_max`.
pub fn log_time_grid(t_min: f64, t_max: f64, n: usize) -> Result<Vec<f64>> {
    if !(t_min > 0.0 && t_max > t_min && t_max.is_finite()) || n < 2 {
        return Err(Error::Invalid(format!(
            "time grid needs 0 < t_min < t_max and ≥ 2 points, got t_min = {t_min}, t_max = {t_max}, n = {n}"
        )));
    }
    let (a, b) = (t_min.ln(), t_max.ln());
    let mut t = vec![0.0];
    t.extend((0..n).map(|i| (a + (b - a) * i as f64 / (n - 1) as f64).exp()));
    Ok(t)
}

/// The initial displacement of draw `draw`: `N(0, σ0²)` on every parameter.
pub fn initial_noise(dim: usize, sigma0: f64, seed: u64, draw: u64) -> Vec<f64> {
    let mut rng = stream(seed, NOISE_STREAM + draw);
    (0..dim)
        .map(|_| sigma0 * <StandardNormal as Distribution<f64>>::sample(&StandardNormal, &mut rng))
        .collect()
}

/// Seed of draw `draw`'s GD sample (a SplitMix64 mix of `seed` and `draw`).
pub fn gd_sample_seed(seed: u64, draw: u64) -> u64 {
    let mut z = seed ^ draw.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Trains `cfg.draws` students against `loss`'s teacher, in parallel over draws.
/// `h0` is the Hessian at the optimum (the flow's error norm); unused by GD and SGD.
pub fn train(
    loss: &PopulationLoss,
    h0: &DenseMatrix,
    cfg: &TrainConfig,
    progress: &dyn Progress,
) -> Result<TrainRun> {
    cfg.trainer.validate()?;
    if !(cfg.sigma0 > 0.0 && cfg.sigma0.is_finite()) {
        return Err(Error::Invalid(format!(
            "σ0 must be positive, got {}",
            cfg.sigma0
        )));
    }
    if cfg.draws == 0 {
        return Err(Error::Invalid("need at least one noise draw".into()));
    }
    if cfg.times.is_empty() || cfg.times.windows(2).any(|w| w[1] < w[0]) || cfg.times[0] < 0.0 {
        return Err(Error::Invalid(
            "recording times must be ascending and ≥ 0".into(),
        ));
    }
    let d = loss.dim();
    if h0.rows() != d || h0.cols() != d {
        return Err(Error::Shape(format!(
            "optimum Hessian is {}×{}, expected {d}×{d}",
            h0.rows(),
            h0.cols()
        )));
    }
    let times = match cfg.trainer {
        Trainer::Flow { .. } | Trainer::ExpFlow { .. } => cfg.times.clone(),
        Trainer::Gd { lr, .. } | Trainer::Sgd { lr, .. } => {
            let mut it: Vec<u64> = cfg.times.iter().map(|t| (t / lr).round() as u64).collect();
            it.dedup();
            it.into_iter().map(|k| k as f64 * lr).collect()
        }
    };
    let basis = match cfg.trainer {
        Trainer::ExpFlow { .. } => Some(EigenBasis::new(h0)?),
        _ => None,
    };
    progress.start(
        &format!("training ({})", cfg.trainer.name()),
        cfg.draws as u64,
    );
    let draws = (0..cfg.draws as u64)
        .into_par_iter()
        .map(|r| {
            let out = run_draw(loss, h0, basis.as_ref(), cfg, &times, r);
            progress.inc(1);
            out
        })
        .collect::<Result<Vec<_>>>();
    progress.finish();
    Ok(TrainRun {
        times,
        draws: draws?,
    })
}

fn run_draw(
    loss: &PopulationLoss,
    h0: &DenseMatrix,
    basis: Option<&EigenBasis>,
    cfg: &TrainConfig,
    times: &[f64],
    r: u64,
) -> Result<DrawRun> {
    let star = loss.teacher().params();
    let delta0 = initial_noise(star.len(), cfg.sigma0, cfg.seed, r);
    let theta0: Vec<f64> = star.iter().zip(&delta0).map(|(a, b)| a + b).collect();
    let (theta_final, loss_t, steps, rejected) = match cfg.trainer {
        Trainer::Flow { rtol, max_steps } => flow(loss, h0, &star, theta0, times, rtol, max_steps)?,
        Trainer::ExpFlow { rtol, max_steps } => {
            let basis = basis.expect("train() builds the eigenbasis for expflow");
            let (thetas, st) = expflow(loss, basis, &theta0, times, rtol, max_steps)?;
            let losses = thetas
                .iter()
                .map(|th| precise_loss(loss, th))
                .collect::<Result<Vec<_>>>()?;
            let last = thetas.last().cloned().unwrap_or(theta0);
            (last, losses, st.steps, st.rejected)
        }
        Trainer::Gd { lr, samples } => {
            let x = gaussian_inputs(loss.teacher().ni(), gd_sample_seed(cfg.seed, r), 0, samples);
            let mut next = SampleSource::Fixed(x);
            discrete(loss, theta0, times, lr, &mut next)?
        }
        Trainer::Sgd { lr, batch } => {
            let mut next = SampleSource::Fresh {
                rng: Box::new(stream(cfg.seed, SGD_STREAM + r)),
                batch,
            };
            discrete(loss, theta0, times, lr, &mut next)?
        }
    };
    Ok(DrawRun {
        delta0,
        loss: loss_t,
        theta_final,
        steps,
        rejected,
    })
}

enum SampleSource {
    Fixed(Vec<f64>),
    Fresh {
        rng: Box<crate::rng::Rng>,
        batch: usize,
    },
}

/// Gradient of `½ (1/n) Σ_i (y_s(x_i) − y_t(x_i))²` over the rows of `x`.
fn sample_gradient(
    loss: &PopulationLoss,
    theta: &[f64],
    x: &[f64],
    grad: &mut [f64],
) -> Result<()> {
    let teacher = loss.teacher();
    let student = teacher.with_params(theta)?;
    let g = teacher.activation().function();
    let ni = teacher.ni();
    let n = x.len() / ni;
    let mut j = vec![0.0; theta.len()];
    grad.iter_mut().for_each(|v| *v = 0.0);
    for xi in x.chunks(ni) {
        let ys = student.output_gradient(g.as_ref(), xi, &mut j);
        let res = ys - teacher.output_with(g.as_ref(), xi);
        for (o, jj) in grad.iter_mut().zip(&j) {
            *o += res * jj;
        }
    }
    grad.iter_mut().for_each(|v| *v /= n as f64);
    Ok(())
}

type Trace = (Vec<f64>, Vec<f64>, usize, usize);

/// Parameters at each recording time of a gradient-flow run from `theta0` (for the Hessian along
/// the trajectory), with the (precise) loss at those times. `trainer` must be a flow
/// ([`Trainer::Flow`] or [`Trainer::ExpFlow`]).
pub fn flow_checkpoints(
    loss: &PopulationLoss,
    h0: &DenseMatrix,
    theta0: Vec<f64>,
    times: &[f64],
    trainer: &Trainer,
) -> Result<(Vec<Vec<f64>>, Vec<f64>)> {
    trainer.validate()?;
    let thetas = match *trainer {
        Trainer::ExpFlow { rtol, max_steps } => {
            expflow(loss, &EigenBasis::new(h0)?, &theta0, times, rtol, max_steps)?.0
        }
        Trainer::Flow { rtol, max_steps } => {
            let star = loss.teacher().params();
            let mut theta = theta0;
            let mut thetas = Vec::with_capacity(times.len());
            let mut t0 = 0.0;
            for &t in times {
                let (th, _, _, _) = flow(loss, h0, &star, theta, &[t - t0], rtol, max_steps)?;
                thetas.push(th.clone());
                theta = th;
                t0 = t;
            }
            thetas
        }
        _ => {
            return Err(Error::Invalid(format!(
                "flow checkpoints need a flow trainer, got {}",
                trainer.name()
            )))
        }
    };
    let losses = thetas
        .iter()
        .map(|th| precise_loss(loss, th))
        .collect::<Result<Vec<_>>>()?;
    Ok((thetas, losses))
}

fn discrete(
    loss: &PopulationLoss,
    mut theta: Vec<f64>,
    times: &[f64],
    lr: f64,
    src: &mut SampleSource,
) -> Result<Trace> {
    let ni = loss.teacher().ni();
    let mut grad = vec![0.0; theta.len()];
    let mut out = Vec::with_capacity(times.len());
    let mut k: u64 = 0;
    for &t in times {
        let target = (t / lr).round() as u64;
        while k < target {
            match src {
                SampleSource::Fixed(x) => sample_gradient(loss, &theta, x, &mut grad)?,
                SampleSource::Fresh { rng, batch } => {
                    let x: Vec<f64> = (0..*batch * ni)
                        .map(|_| {
                            <StandardNormal as Distribution<f64>>::sample(&StandardNormal, rng)
                        })
                        .collect();
                    sample_gradient(loss, &theta, &x, &mut grad)?;
                }
            }
            for (p, g) in theta.iter_mut().zip(&grad) {
                *p -= lr * g;
            }
            k += 1;
        }
        let l = loss.loss(&theta).map_err(|e| diverged(e, t))?;
        if !l.is_finite() {
            return Err(Error::Numerical(format!(
                "training diverged (loss not finite at t = {t}); lower the learning rate"
            )));
        }
        out.push(l);
    }
    Ok((theta, out, k as usize, 0))
}

fn diverged(e: Error, t: f64) -> Error {
    match e {
        Error::Invalid(_) => Error::Numerical(format!(
            "training diverged (non-finite parameters by t = {t}); lower the learning rate"
        )),
        other => other,
    }
}

// Dormand–Prince 5(4) tableau (nodes c = 0, 1/5, 3/10, 4/5, 8/9, 1, 1: autonomous, not needed).
const A: [[f64; 6]; 7] = [
    [0.0; 6],
    [0.2, 0.0, 0.0, 0.0, 0.0, 0.0],
    [3.0 / 40.0, 9.0 / 40.0, 0.0, 0.0, 0.0, 0.0],
    [44.0 / 45.0, -56.0 / 15.0, 32.0 / 9.0, 0.0, 0.0, 0.0],
    [
        19372.0 / 6561.0,
        -25360.0 / 2187.0,
        64448.0 / 6561.0,
        -212.0 / 729.0,
        0.0,
        0.0,
    ],
    [
        9017.0 / 3168.0,
        -355.0 / 33.0,
        46732.0 / 5247.0,
        49.0 / 176.0,
        -5103.0 / 18656.0,
        0.0,
    ],
    [
        35.0 / 384.0,
        0.0,
        500.0 / 1113.0,
        125.0 / 192.0,
        -2187.0 / 6784.0,
        11.0 / 84.0,
    ],
];
/// 5th-order minus 4th-order weights.
const E: [f64; 7] = [
    71.0 / 57600.0,
    0.0,
    -71.0 / 16695.0,
    71.0 / 1920.0,
    -17253.0 / 339200.0,
    22.0 / 525.0,
    -1.0 / 40.0,
];

fn h_norm2(h0: &DenseMatrix, v: &[f64], tmp: &mut [f64]) -> f64 {
    h0.matvec(v, tmp);
    crate::gaussian::dot(v, tmp).max(0.0)
}

/// Integrates `dθ/dt = −∇L(θ)` from `theta` at t = 0, recording `L` at `times`.
pub(crate) fn flow(
    loss: &PopulationLoss,
    h0: &DenseMatrix,
    star: &[f64],
    mut theta: Vec<f64>,
    times: &[f64],
    rtol: f64,
    max_steps: usize,
) -> Result<Trace> {
    let d = theta.len();
    let mut k = vec![vec![0.0; d]; 7];
    loss.loss_and_gradient(&theta, &mut k[0])?;
    k[0].iter_mut().for_each(|v| *v = -*v);
    // Initial step: a tenth of 1/‖H₀‖ (row-sum bound), adapted from there.
    let hmax = (0..d)
        .map(|i| h0.row(i).iter().map(|v| v.abs()).sum::<f64>())
        .fold(0.0, f64::max);
    let mut h = 0.1 / hmax.max(1e-300);
    let (mut t, mut steps, mut rejected) = (0.0, 0usize, 0usize);
    let mut out = Vec::with_capacity(times.len());
    let mut stage = vec![0.0; d];
    let mut err = vec![0.0; d];
    let mut tmp = vec![0.0; d];
    let mut delta = vec![0.0; d];
    let mut new_theta = vec![0.0; d];
    for &target in times {
        while t < target {
            if steps + rejected >= max_steps {
                return Err(Error::Numerical(format!(
                    "gradient flow (RK45) needed more than {max_steps} steps to reach t = {target:e} (stiff: explicit steps are held to ~1/λ_max; use the exponential integrator `expflow`, a looser rtol or a shorter t_max)"
                )));
            }
            let last = target - t <= h * (1.0 + 1e-12);
            let hs = if last { target - t } else { h };
            for s in 1..7 {
                for i in 0..d {
                    let mut acc = 0.0;
                    for (j, kj) in k.iter().enumerate().take(s) {
                        acc += A[s][j] * kj[i];
                    }
                    stage[i] = theta[i] + hs * acc;
                }
                let ks = &mut k[s];
                loss.loss_and_gradient(&stage, ks)?;
                ks.iter_mut().for_each(|v| *v = -*v);
                if s == 6 {
                    new_theta.copy_from_slice(&stage);
                }
            }
            for i in 0..d {
                err[i] = hs * (0..7).map(|j| E[j] * k[j][i]).sum::<f64>();
                delta[i] = theta[i] - star[i];
            }
            let e_h = h_norm2(h0, &err, &mut tmp).sqrt();
            let d_h = h_norm2(h0, &delta, &mut tmp).sqrt();
            let e_2 = crate::gaussian::dot(&err, &err).sqrt();
            let d_2 = crate::gaussian::dot(&delta, &delta).sqrt();
            let ratio = (e_h / (rtol * d_h + 1e-300)).max(e_2 / (rtol * d_2 + 1e-300));
            if !(ratio.is_finite() || (e_h == 0.0 && e_2 == 0.0)) {
                return Err(Error::Numerical(format!(
                    "gradient flow error estimate not finite at t = {t}"
                )));
            }
            if ratio <= 1.0 || e_2 == 0.0 {
                t = if last { target } else { t + hs };
                std::mem::swap(&mut theta, &mut new_theta);
                // FSAL: the last stage's slope is the next step's first.
                let (first, rest) = k.split_at_mut(6);
                first[0].copy_from_slice(&rest[0]);
                steps += 1;
            } else {
                rejected += 1;
            }
            let fac = if ratio > 0.0 {
                0.9 * ratio.powf(-0.2)
            } else {
                5.0
            };
            let hn = hs * fac.clamp(0.2, 5.0);
            if !last || ratio > 1.0 {
                h = hn;
            }
        }
        out.push(precise_loss(loss, &theta)?);
    }
    Ok((theta, out, steps, rejected))
}
