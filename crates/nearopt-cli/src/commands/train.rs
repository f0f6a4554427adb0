//! `nearopt train`: students started at `teacher + N(0, σ0²)` noise on every parameter, trained by
//! gradient flow on the exact population loss, full-batch GD on a fixed sample or online SGD; the
//! exact population loss on a log-spaced time grid against paper Eq. 7,
//! `⟨L(t)⟩ = σ0²/2 Tr(e^{−2Ht} H)`, and the long-time law `α e^{−2 λ_min t}`.
//!
//! Writes `DIR/loss.csv`, `DIR/loss.svg` and `DIR/summary.json`.

use crate::io::{read_network, write_atomic};
use anyhow::{bail, Context, Result};
use nearopt::dynamics::predict::Prediction;
use nearopt::dynamics::summary::{summarize, RunSummary};
use nearopt::dynamics::train::{log_time_grid, train, TrainConfig, Trainer};
use nearopt::dynamics::PopulationLoss;
use nearopt::experiments::Progress;
use nearopt::teacher::{sample_teacher, WeightDistribution};
use nearopt::{Activation, Network, PopulationHessian};
use std::io::Write;
use std::path::PathBuf;
use std::sync::Mutex;

/// Options of `nearopt train`.
#[derive(clap::Args)]
pub struct Args {
    /// Teacher network file (otherwise a teacher is sampled from --activation, --ni, --nh, --seed).
    #[arg(long, conflicts_with_all = ["activation", "ni", "nh", "epsilon", "coefficients"])]
    network: Option<PathBuf>,
    /// Activation of a sampled teacher: linear, quadratic, polynomial, erf or tanh.
    #[arg(long)]
    activation: Option<String>,
    /// ε of the quadratic activation g = x + ε x² [default: 1].
    #[arg(long)]
    epsilon: Option<f64>,
    /// Coefficients c0,c1,... of the polynomial activation.
    #[arg(long, allow_hyphen_values = true)]
    coefficients: Option<String>,
    /// Inputs Ni of a sampled teacher.
    #[arg(long)]
    ni: Option<usize>,
    /// Hidden units Nh of a sampled teacher.
    #[arg(long)]
    nh: Option<usize>,
    /// Standard deviation σ0 of the initial noise on every parameter.
    #[arg(long, default_value_t = 1e-3, allow_hyphen_values = true)]
    sigma0: f64,
    /// Trainer: flow (gradient flow, explicit RK45: steps held to ~1/λ_max), expflow (gradient
    /// flow, exponential integrator on the Hessian at the optimum: not limited by stiffness, for
    /// t ≫ 1/λ_min), gd (full-batch GD on --samples inputs) or sgd.
    #[arg(long, default_value = "flow")]
    trainer: String,
    /// Learning rate of gd/sgd (time per iteration).
    #[arg(long, allow_hyphen_values = true)]
    lr: Option<f64>,
    /// Mini-batch size of sgd.
    #[arg(long)]
    batch: Option<usize>,
    /// Sample size of gd.
    #[arg(long)]
    samples: Option<usize>,
    /// Iterations of gd/sgd (t_max = steps × lr).
    #[arg(long, conflicts_with = "t_max")]
    steps: Option<u64>,
    /// Final time [default: flow, gd, sgd: when Eq. 7's long-time law has fallen by 6 decades, at
    /// most 2e4/λ_max; expflow: 10/λ_min]. Tanh moments come from quadrature (~ms per gradient):
    /// give a short --t-max for tanh.
    #[arg(long, allow_hyphen_values = true)]
    t_max: Option<f64>,
    /// Relative tolerance of the flow integrators (in the loss norm), in [1e-12, 0.1].
    #[arg(long, default_value_t = 1e-6, allow_hyphen_values = true)]
    rtol: f64,
    /// Number of noise draws (at most 1e7).
    #[arg(long, default_value_t = 100)]
    draws: usize,
    /// Log-spaced recording times (2 to 100000).
    #[arg(long, default_value_t = 40)]
    grid_points: usize,
    /// Refuse runs whose estimated work exceeds this many hours (at 1 GFLOP/s per thread).
    #[arg(long, default_value_t = 1.0)]
    max_hours: f64,
    /// Seed of the teacher (stream 0) and of every training stream.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Output directory (created if missing).
    #[arg(long)]
    out: PathBuf,
}

fn activation(args: &Args) -> Result<Activation> {
    let Some(kind) = &args.activation else {
        bail!("give --network FILE or --activation with --ni and --nh");
    };
    super::teacher::parse_activation(kind, args.epsilon, args.coefficients.as_deref())
}

/// Smallest and largest `--rtol` accepted.
const MIN_RTOL: f64 = 1e-12;
const MAX_RTOL: f64 = 0.1;
/// Step cap of the flow integrators (the work estimate refuses long runs before this is hit).
const FLOW_MAX_STEPS: usize = 100_000_000;
/// Most `--draws`: a mean over 1e7 draws has a relative standard error ~3e-4 × the draws'
/// spread, never needed for a curve.
const MAX_DRAWS: usize = 10_000_000;
/// Most `--grid-points` (each draw stores one loss per point).
const MAX_GRID_POINTS: usize = 100_000;
/// Assumed throughput of the work estimate.
const FLOPS_PER_THREAD: f64 = 1e9;

/// `text`, cut to 80 characters for an error message.
fn truncate(text: &str) -> String {
    if text.chars().count() <= 80 {
        return text.to_string();
    }
    format!("{}…", text.chars().take(80).collect::<String>())
}

fn teacher(args: &Args) -> Result<Network> {
    if let Some(p) = &args.network {
        let net = read_network(p)?;
        nearopt::hessian::check_dense_fits(net.dim(), net.dim(), "Hessian at the optimum")?;
        return Ok(net);
    }
    let act = activation(args)?;
    let (Some(ni), Some(nh)) = (args.ni, args.nh) else {
        bail!("--activation needs --ni and --nh");
    };
    if ni == 0 || nh == 0 {
        bail!("--ni and --nh must be at least 1, got --ni {ni} --nh {nh}");
    }
    // Sizes before any allocation: D = Nh·Ni + Nh parameters and the dense D × D Hessian.
    let Some(d) = nh.checked_mul(ni).and_then(|w| w.checked_add(nh)) else {
        bail!("--ni {ni} --nh {nh}: the parameter count Nh·Ni + Nh overflows");
    };
    nearopt::hessian::check_dense_fits(d, d, "Hessian at the optimum (D = Nh·Ni + Nh)")?;
    Ok(sample_teacher(
        act,
        ni,
        nh,
        WeightDistribution::Normal,
        args.seed,
        0,
    )?)
}

fn trainer(args: &Args) -> Result<Trainer> {
    let t = args.trainer.trim().to_ascii_lowercase();
    let unused = |flag: &str, set: bool| -> Result<()> {
        if set {
            bail!("{flag} does not apply to --trainer {t}");
        }
        Ok(())
    };
    let lr_ok = |lr: f64| -> Result<f64> {
        if !(lr > 0.0 && lr.is_finite()) {
            bail!("--lr must be a positive finite number (the time per iteration), got {lr}");
        }
        Ok(lr)
    };
    match t.as_str() {
        "flow" | "expflow" => {
            unused("--lr", args.lr.is_some())?;
            unused("--batch", args.batch.is_some())?;
            unused("--samples", args.samples.is_some())?;
            unused("--steps", args.steps.is_some())?;
            if !(args.rtol >= MIN_RTOL && args.rtol <= MAX_RTOL) {
                bail!(
                    "--rtol must be in [{MIN_RTOL:e}, {MAX_RTOL}], got {:e}: below, the gradient's float64 rounding (~1e-16 of its terms, accumulated over the steps) cannot meet it; above, the error estimate is no longer asymptotic",
                    args.rtol
                );
            }
            let (rtol, max_steps) = (args.rtol, FLOW_MAX_STEPS);
            Ok(if t == "flow" {
                Trainer::Flow { rtol, max_steps }
            } else {
                Trainer::ExpFlow { rtol, max_steps }
            })
        }
        "gd" => {
            unused("--batch", args.batch.is_some())?;
            let (Some(lr), Some(samples)) = (args.lr, args.samples) else {
                bail!("--trainer gd needs --lr and --samples");
            };
            if samples == 0 {
                bail!("--samples must be at least 1");
            }
            Ok(Trainer::Gd {
                lr: lr_ok(lr)?,
                samples,
            })
        }
        "sgd" => {
            unused("--samples", args.samples.is_some())?;
            let (Some(lr), Some(batch)) = (args.lr, args.batch) else {
                bail!("--trainer sgd needs --lr and --batch");
            };
            if batch == 0 {
                bail!("--batch must be at least 1");
            }
            Ok(Trainer::Sgd {
                lr: lr_ok(lr)?,
                batch,
            })
        }
        other => bail!(
            "unknown --trainer `{}` (expected flow, expflow, gd or sgd)",
            truncate(other)
        ),
    }
}

/// Progress on stderr: a bar on a terminal; otherwise (CI logs, batch jobs) a plain line every
/// 10 s once a step has run that long, so short runs print nothing.
struct Bar {
    bar: Mutex<Option<indicatif::ProgressBar>>,
    plain: Mutex<Option<PlainProgress>>,
    terminal: bool,
}

struct PlainProgress {
    name: String,
    total: u64,
    done: u64,
    start: std::time::Instant,
    last: std::time::Instant,
}

impl Bar {
    fn new() -> Self {
        use std::io::IsTerminal;
        Bar {
            bar: Mutex::new(None),
            plain: Mutex::new(None),
            terminal: std::io::stderr().is_terminal(),
        }
    }
}

impl Progress for Bar {
    fn start(&self, name: &str, total: u64) {
        if !self.terminal {
            let now = std::time::Instant::now();
            if let Ok(mut g) = self.plain.lock() {
                *g = Some(PlainProgress {
                    name: name.to_string(),
                    total,
                    done: 0,
                    start: now,
                    last: now,
                });
            }
            return;
        }
        let b = indicatif::ProgressBar::with_draw_target(
            Some(total),
            indicatif::ProgressDrawTarget::stderr(),
        );
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{msg} {bar:30} {pos}/{len} [{elapsed_precise}]",
        ) {
            b.set_style(style);
        }
        b.set_message(name.to_string());
        if let Ok(mut g) = self.bar.lock() {
            *g = Some(b);
        }
    }
    fn inc(&self, n: u64) {
        if let Ok(mut g) = self.plain.lock() {
            if let Some(p) = g.as_mut() {
                p.done += n;
                if p.last.elapsed().as_secs_f64() >= 10.0 {
                    p.last = std::time::Instant::now();
                    eprintln!(
                        "{}: {}/{} draws done, {:.0} s",
                        p.name,
                        p.done,
                        p.total,
                        p.start.elapsed().as_secs_f64()
                    );
                }
            }
        }
        if let Ok(g) = self.bar.lock() {
            if let Some(b) = g.as_ref() {
                b.inc(n);
            }
        }
    }
    fn finish(&self) {
        if let Ok(mut g) = self.plain.lock() {
            g.take();
        }
        if let Ok(mut g) = self.bar.lock() {
            if let Some(b) = g.take() {
                b.finish_and_clear();
            }
        }
    }
}

/// Refuses a run whose estimated work exceeds `--max-hours` (one line naming the flag that sets
/// it). The estimate: a population gradient costs `2 Nh² (c_g + 4 Ni)` flops (`c_g` ≈ 50 for
/// closed-form moments, 5000 for quadrature ones); RK45 needs `max(λ_max t / 3, 50)` steps of 6
/// gradients (its stability limit); the exponential integrator ~`12 ln(2 + λ_max t)` steps of 11
/// gradients and 22 `D × D` products, times `max(1, σ0 √D / 0.015)^1.5` (more steps while the
/// nonlinear terms matter; fitted to runs at σ0 = 1e-3 … 0.1); a GD/SGD iteration costs
/// `(6 D + 20 Nh)` per sample.
fn check_work(
    args: &Args,
    tr: &Trainer,
    net: &Network,
    pred: &Prediction,
    t_max: f64,
) -> Result<()> {
    let (ni, nh, d) = (net.ni() as f64, net.nh() as f64, net.dim() as f64);
    let c_g = match net.activation() {
        Activation::Linear
        | Activation::Quadratic { .. }
        | Activation::Polynomial { .. }
        | Activation::Erf => 50.0,
        _ => 5000.0,
    };
    let grad = 2.0 * nh * nh * (c_g + 4.0 * ni);
    let (per_draw, what) = match *tr {
        Trainer::Flow { .. } => {
            let steps = (pred.lambda_max * t_max / 3.0).max(50.0);
            (
                steps * 6.0 * grad,
                format!("~{steps:.1e} RK45 steps per draw, held to ~1/λ_max by stiffness; --trainer expflow is not"),
            )
        }
        Trainer::ExpFlow { .. } => {
            let steps = 12.0
                * (2.0 + pred.lambda_max * t_max).ln()
                * (args.sigma0 * d.sqrt() / 0.015).max(1.0).powf(1.5);
            (
                steps * 11.0 * (grad + 2.0 * d * d),
                format!("~{steps:.1e} exponential-integrator steps per draw"),
            )
        }
        Trainer::Gd { lr, samples } | Trainer::Sgd { lr, batch: samples } => {
            let iters = (t_max / lr).round();
            let flag = if args.steps.is_some() {
                "--steps"
            } else {
                "t_max / --lr"
            };
            if !(iters.is_finite() && iters < 2f64.powi(53)) {
                bail!(
                    "{flag}: {iters:e} iterations per draw (t_max = {t_max:e}, --lr {lr:e}) cannot be counted exactly; raise --lr or lower --t-max/--steps"
                );
            }
            (
                iters.max(1.0) * samples as f64 * (6.0 * d + 20.0 * nh),
                format!("{iters:.1e} iterations per draw ({flag})"),
            )
        }
    };
    let threads = rayon::current_num_threads().max(1) as f64;
    let hours = args.draws as f64 * per_draw / (FLOPS_PER_THREAD * threads) / 3600.0;
    if hours.is_nan() || hours > args.max_hours {
        bail!(
            "this run would take about {hours:.2e} hours ({} draws × {what}, {threads} threads); the limit is --max-hours {} (raise it to run anyway, or lower --draws, --steps or --t-max)",
            args.draws,
            args.max_hours
        );
    }
    Ok(())
}

/// Runs `nearopt train`.
pub fn run(args: Args) -> Result<()> {
    let tr = trainer(&args)?;
    if !(args.sigma0 > 0.0 && args.sigma0.is_finite()) {
        bail!("--sigma0 must be a positive number, got {}", args.sigma0);
    }
    if args.draws == 0 || args.draws > MAX_DRAWS {
        bail!(
            "--draws must be in 1..={MAX_DRAWS:e}, got {} (the mean over 1e7 draws already has a standard error of 3e-4 of the draws' spread)",
            args.draws
        );
    }
    if !(2..=MAX_GRID_POINTS).contains(&args.grid_points) {
        bail!(
            "--grid-points must be in 2..={MAX_GRID_POINTS}, got {} (each draw stores one loss per point)",
            args.grid_points
        );
    }
    if !(args.max_hours > 0.0 && args.max_hours.is_finite()) {
        bail!(
            "--max-hours must be a positive number, got {}",
            args.max_hours
        );
    }
    if args.steps == Some(0) {
        bail!("--steps must be at least 1");
    }
    if args.out.exists() && !args.out.is_dir() {
        bail!("--out {} exists and is not a directory", args.out.display());
    }
    let net = teacher(&args)?;
    let h0 = PopulationHessian::at_optimum(&net).dense()?;
    let pred = Prediction::new(&h0)?;
    let t_max = match (args.t_max, args.steps, &tr) {
        (Some(t), _, _) => {
            if !(t > 0.0 && t.is_finite()) {
                bail!("--t-max must be a positive number, got {t}");
            }
            t
        }
        (None, Some(s), Trainer::Gd { lr, .. } | Trainer::Sgd { lr, .. }) => s as f64 * lr,
        (None, _, Trainer::ExpFlow { .. }) => 10.0 / pred.lambda_min,
        _ => (6.0 * std::f64::consts::LN_10 / (2.0 * pred.lambda_min)).min(2e4 / pred.lambda_max),
    };
    check_work(&args, &tr, &net, &pred, t_max)?;
    let mut times = log_time_grid(1e-4 * t_max, t_max, args.grid_points)?;
    times.extend((0..12).map(|i| t_max * (0.5 + 0.5 * i as f64 / 11.0)));
    times.sort_by(f64::total_cmp);
    times.dedup_by(|a, b| (*a - *b).abs() <= 1e-12 * t_max);
    let cfg = TrainConfig {
        sigma0: args.sigma0,
        trainer: tr.clone(),
        times,
        draws: args.draws,
        seed: args.seed,
    };
    let loss = PopulationLoss::new(&net);
    let run = train(&loss, &h0, &cfg, &Bar::new()).map_err(|e| match e {
        nearopt::Error::Numerical(m) if m.contains("RK45") => {
            anyhow::anyhow!("{m}: run with --trainer expflow")
        }
        other => other.into(),
    })?;
    let times = &run.times;
    let n = times.len();
    let mean = run.mean_loss();
    if let Some(i) = mean.iter().position(|m| !m.is_finite()) {
        bail!(
            "training diverged: the mean loss is {} at t = {:e}; use a smaller --lr",
            mean[i],
            times[i]
        );
    }
    let se = run.mean_loss_stderr();
    let (q10, q50, q90) = (
        run.loss_quantile(0.1),
        run.loss_quantile(0.5),
        run.loss_quantile(0.9),
    );
    let RunSummary {
        eq7,
        asymptote,
        draw0_quadratic_model: quad0,
        fitted_rate: rate,
        rate_relative_deviation,
        eq7_max_relative_deviation: eq7_dev,
    } = summarize(&pred, args.sigma0, times, &mean, &run.draws[0].delta0);
    let t_end = times[n - 1];

    let mut csv = Vec::new();
    writeln!(
        csv,
        "t,mean,stderr,q10,median,q90,eq7,asymptote,draw0,draw0_quadratic_model"
    )?;
    for i in 0..n {
        writeln!(
            csv,
            "{:e},{:e},{:e},{:e},{:e},{:e},{:e},{:e},{:e},{:e}",
            times[i],
            mean[i],
            se[i],
            q10[i],
            q50[i],
            q90[i],
            eq7[i],
            asymptote[i],
            run.draws[0].loss[i],
            quad0[i]
        )?;
    }
    let svg = plot(times, &mean, &eq7, &asymptote, &net, &args, tr.name())?;
    let summary = serde_json::json!({
        "activation": net.activation(),
        "ni": net.ni(),
        "nh": net.nh(),
        "dim": net.dim(),
        "trainer": tr.name(),
        "lr": args.lr,
        "batch": args.batch,
        "samples": args.samples,
        "rtol": if matches!(tr, Trainer::Flow { .. } | Trainer::ExpFlow { .. }) { Some(args.rtol) } else { None },
        "sigma0": args.sigma0,
        "draws": args.draws,
        "seed": args.seed,
        "noise_streams": format!("stream(seed, {} + draw)", nearopt::dynamics::train::NOISE_STREAM),
        "t_max": t_end,
        "rank": pred.rank,
        "lambda_min": pred.lambda_min,
        "lambda_max": pred.lambda_max,
        "fitted_rate": rate,
        "two_lambda_min": 2.0 * pred.lambda_min,
        "rate_relative_deviation": rate_relative_deviation,
        "eq7_max_relative_deviation": eq7_dev,
        "mean_steps_per_draw": run.draws.iter().map(|d| d.steps as f64).sum::<f64>() / args.draws as f64,
    });
    let summary = serde_json::to_string_pretty(&summary)?;
    // Everything is rendered: only now create --out, so a failure above leaves nothing behind.
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create --out {}", args.out.display()))?;
    write_atomic(&args.out.join("loss.csv"), &csv)?;
    write_atomic(&args.out.join("loss.svg"), svg.as_bytes())?;
    write_atomic(&args.out.join("summary.json"), summary.as_bytes())?;
    println!(
        "λ_min = {:.6e}, fitted late-time rate = {}, 2 λ_min = {:.6e}, max |mean − Eq. 7|/Eq. 7 = {:.3e}; wrote {}",
        pred.lambda_min,
        rate.map_or("n/a".into(), |r| format!("{r:.6e}")),
        2.0 * pred.lambda_min,
        eq7_dev,
        args.out.display()
    );
    Ok(())
}

/// A log-y SVG of the loss curves, written directly (SVG text needs no font files, unlike a
/// plotters backend).
#[allow(clippy::too_many_arguments)]
fn plot(
    t: &[f64],
    mean: &[f64],
    eq7: &[f64],
    asym: &[f64],
    net: &Network,
    args: &Args,
    trainer: &str,
) -> Result<String> {
    use std::fmt::Write as _;
    let pts: Vec<usize> = (1..t.len())
        .filter(|&i| mean[i] > 0.0 && eq7[i] > 0.0 && asym[i] > 0.0)
        .collect();
    if pts.is_empty() {
        bail!(
            "no positive losses to plot (the run or its Eq. 7 prediction is not positive anywhere)"
        );
    }
    let ys = pts.iter().flat_map(|&i| [mean[i], eq7[i], asym[i]]);
    let (lo, hi) = ys.fold((f64::INFINITY, 0.0f64), |(a, b), y| (a.min(y), b.max(y)));
    let (d_lo, d_hi) = (
        lo.log10().floor(),
        hi.log10().ceil().max(lo.log10().floor() + 1.0),
    );
    let t_end = t[t.len() - 1];
    let (w, h, l, r, top, bot) = (800.0, 560.0, 80.0, 20.0, 40.0, 50.0);
    let x = |v: f64| l + (w - l - r) * v / t_end;
    let y = |v: f64| top + (h - top - bot) * (d_hi - v.log10()) / (d_hi - d_lo);
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="13">"#
    );
    let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="{}" y="24" text-anchor="middle" font-size="16">{} Ni={} Nh={}, {trainer}, σ0={:e}, {} draws</text>"#,
        w / 2.0,
        net.activation().name(),
        net.ni(),
        net.nh(),
        args.sigma0,
        args.draws
    );
    let _ = writeln!(
        s,
        r#"<rect x="{l}" y="{top}" width="{}" height="{}" fill="none" stroke="black"/>"#,
        w - l - r,
        h - top - bot
    );
    let mut dd = d_lo;
    while dd <= d_hi {
        let yy = y(10f64.powf(dd));
        let _ = writeln!(
            s,
            r#"<line x1="{l}" x2="{}" y1="{yy}" y2="{yy}" stroke="lightgray"/><text x="{}" y="{}" text-anchor="end">1e{dd}</text>"#,
            w - r,
            l - 6.0,
            yy + 4.0
        );
        dd += 1.0;
    }
    for k in 0..=5 {
        let tv = t_end * k as f64 / 5.0;
        let _ = writeln!(
            s,
            r#"<text x="{}" y="{}" text-anchor="middle">{tv:.3}</text>"#,
            x(tv),
            h - bot + 18.0
        );
    }
    let _ = writeln!(
        s,
        r#"<text x="{}" y="{}" text-anchor="middle">t</text>"#,
        w / 2.0,
        h - 10.0
    );
    let _ = writeln!(
        s,
        r#"<text x="18" y="{}" text-anchor="middle" transform="rotate(-90 18 {})">population loss</text>"#,
        h / 2.0,
        h / 2.0
    );
    let line = |s: &mut String, v: &[f64], colour: &str| {
        let p: Vec<String> = pts
            .iter()
            .map(|&i| format!("{:.2},{:.2}", x(t[i]), y(v[i])))
            .collect();
        let _ = writeln!(
            s,
            r#"<polyline fill="none" stroke="{colour}" stroke-width="2" points="{}"/>"#,
            p.join(" ")
        );
    };
    line(&mut s, eq7, "red");
    line(&mut s, asym, "black");
    for &i in &pts {
        let _ = writeln!(
            s,
            r#"<circle cx="{:.2}" cy="{:.2}" r="3" fill="blue"/>"#,
            x(t[i]),
            y(mean[i])
        );
    }
    for (k, (label, colour)) in [
        ("simulated mean", "blue"),
        ("Eq. 7", "red"),
        ("α exp(−2 λ_min t)", "black"),
    ]
    .iter()
    .enumerate()
    {
        let yy = top + 20.0 + 18.0 * k as f64;
        let _ = writeln!(
            s,
            r#"<line x1="{}" x2="{}" y1="{yy}" y2="{yy}" stroke="{colour}" stroke-width="3"/><text x="{}" y="{}">{label}</text>"#,
            w - r - 190.0,
            w - r - 170.0,
            w - r - 164.0,
            yy + 4.0
        );
    }
    s.push_str("</svg>\n");
    Ok(s)
}
