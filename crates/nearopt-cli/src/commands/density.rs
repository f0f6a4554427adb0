//! `nearopt density`: the spectral density of the exact population Hessian — at the optimum, or
//! with `--student` at a student, biases allowed — by stochastic Lanczos quadrature, on a linear
//! and a log λ axis, with the exact `Tr H`, `Tr H²` and the top eigenvalues by block Lanczos —
//! without forming the `D × D` matrix (`nearopt::density`). `--json` prints the object fixed by
//! `INTERFACE.md`.

use crate::io::check_output_path;
use crate::plot_density::write_density_plot;
use anyhow::{bail, Context, Result};
use nearopt::density::{
    check_options, density_exact, density_memory_bytes, DensityEstimate, DensityOptions,
};
use nearopt::hessian::StudentHessian;
use nearopt::Network;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Instant;

/// Options of `nearopt density`.
#[derive(clap::Args)]
pub struct Args {
    /// Network file (the teacher; also the student unless --student is given).
    #[arg(long)]
    network: PathBuf,
    /// Student network file: the density of the exact Hessian of ½ E[(y_student − y_teacher)²]
    /// at this student (functional term included; the teacher's Ni, any Nh, activation and
    /// biases; D is the student's).
    #[arg(long)]
    student: Option<PathBuf>,
    /// Print exactly one JSON object on stdout (INTERFACE.md).
    #[arg(long)]
    json: bool,
    /// Write the figure (linear and log axis, probe bands) to this .svg or .png file.
    #[arg(long)]
    plot: Option<PathBuf>,
    /// Rademacher probes.
    #[arg(long, default_value_t = 16)]
    probes: usize,
    /// Lanczos steps per probe.
    #[arg(long, default_value_t = 60)]
    steps: usize,
    /// Largest eigenvalues to compute (0: none; at most D).
    #[arg(long, default_value_t = 10)]
    top: usize,
    /// Block size of the top-eigenvalue iteration (resolves multiplicities up to it).
    #[arg(long, default_value_t = 4)]
    block: usize,
    /// Relative residual tolerance of the top eigenvalues.
    #[arg(long, default_value_t = 1e-10)]
    top_tol: f64,
    /// Largest basis of the top-eigenvalue iteration (vectors of length D).
    #[arg(long, default_value_t = 400)]
    max_basis: usize,
    /// Most operator applications of the top-eigenvalue iteration (with thick restarts).
    #[arg(long, default_value_t = 4000)]
    max_top_products: usize,
    /// Seed of the probes and of the top-eigenvalue start block.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Points of each smoothed curve.
    #[arg(long, default_value_t = 400)]
    grid: usize,
    /// Papyan's κ on the linear axis (curvlinops' default).
    #[arg(long, default_value_t = 3.0)]
    kappa: f64,
    /// κ on the log axis (curvlinops' default).
    #[arg(long, default_value_t = 1.04)]
    kappa_log: f64,
    /// The log axis starts at this fraction of λ_max.
    #[arg(long, default_value_t = 1e-10)]
    log_floor: f64,
    /// Memory the Lanczos vectors may use, e.g. 1.5G [default: 1.5G].
    #[arg(long)]
    memory: Option<String>,
}

/// The JSON object of `nearopt density --json` (`INTERFACE.md` fixes the first five keys); also
/// what the Python package's `nearopt.density` returns ([`report`]).
#[derive(serde::Serialize)]
pub struct Report<'a> {
    dimension: usize,
    /// Exact `Tr H` (closed form).
    trace: f64,
    nodes: &'a [f64],
    weights: &'a [f64],
    /// Largest eigenvalues, descending.
    top_eigenvalues: Vec<f64>,
    /// Exact `Tr H² = ‖H‖_F²`.
    trace_squared: f64,
    /// SLQ estimate of `Tr H` and its standard error.
    slq_trace: f64,
    slq_trace_se: f64,
    slq_trace_squared: f64,
    slq_trace_squared_se: f64,
    /// `|θ − λ| ≤ r` for some eigenvalue λ (rigorous).
    top_residual_bounds: Vec<f64>,
    /// `r²/gap` with the Ritz gap (valid once converged).
    top_gap_bounds: Vec<f64>,
    top_converged: Vec<bool>,
    top_basis_size: usize,
    top_restarts: usize,
    top_thick_restarts: usize,
    /// A-posteriori bound on W1 between the SLQ measure and the probes' exact measures.
    w1_quadrature_bound: f64,
    /// Upper end of the spectrum's support used.
    upper_bound: f64,
    linear: &'a nearopt::density::Curve,
    log10: &'a nearopt::density::Curve,
    log_floor: f64,
    mass_below_floor: f64,
    log_mode: f64,
    /// Local maxima `(log10 λ, density)` of the log curve (≥ 5% of the highest).
    log_peaks: &'a [(f64, f64)],
    median_above_floor: f64,
    /// The top bulk (the `Nh` largest eigenvalues): its median, a quantile of the SLQ
    /// distribution function (converges in probes and steps; docs/density.md), its standard
    /// error over probes, and its 10% / 90% points.
    top_bulk_count: usize,
    top_bulk_median: f64,
    top_bulk_median_se: f64,
    top_bulk_q10: f64,
    top_bulk_q90: f64,
    /// The bulk's mean from the exact trace minus the SLQ remainder below `top_bulk_split`
    /// (converges fastest: docs/density.md), its standard error, the split point in the gap
    /// and the SLQ count of eigenvalues above it (≈ `top_bulk_count`).
    top_bulk_mean: f64,
    top_bulk_mean_se: f64,
    top_bulk_split: f64,
    top_bulk_count_slq: f64,
    probes: usize,
    steps: usize,
    seed: u64,
    block: usize,
    probes_per_block: usize,
    products: usize,
    breakdowns: usize,
    /// `"given"` or `"triangular inputs"` (the products ran on the orthogonally similar Hessian
    /// of the network with inputs rotated so that `W1` is lower-trapezoidal: same spectrum).
    product_basis: &'static str,
    memory_estimate_bytes: u64,
    seconds: f64,
    activation: &'a nearopt::Activation,
    ni: usize,
    /// Hidden units (the student's with `--student`).
    nh: usize,
    /// `optimum` (student = teacher) or `student`.
    point: &'static str,
    /// The student file, with `--student`.
    student: Option<String>,
    nearopt_version: &'static str,
}

/// The `--memory` size (`800M`, `1.5G`, ...; default 1.5 GiB) in bytes.
pub fn parse_memory(s: Option<&str>) -> Result<u64> {
    let Some(s) = s else {
        return Ok(3 << 29);
    };
    let t = s.trim();
    let (num, mult) = match t.chars().last().map(|c| c.to_ascii_uppercase()) {
        Some('K') => (&t[..t.len() - 1], 1u64 << 10),
        Some('M') => (&t[..t.len() - 1], 1 << 20),
        Some('G') => (&t[..t.len() - 1], 1 << 30),
        Some('T') => (&t[..t.len() - 1], 1 << 40),
        _ => (t, 1),
    };
    match num.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 && v * (mult as f64) < 1.8e19 => {
            Ok((v * mult as f64) as u64)
        }
        _ => bail!("--memory must be a size such as 800M or 1.5G, got `{s}`"),
    }
}

/// Progress bar on stderr over the operator applications (drawn only on a terminal, and only
/// for runs long enough to matter).
struct Bar(Mutex<Option<indicatif::ProgressBar>>);

impl Bar {
    fn new(show: bool, total: u64) -> Self {
        if !show {
            return Bar(Mutex::new(None));
        }
        let b = indicatif::ProgressBar::with_draw_target(
            Some(total),
            indicatif::ProgressDrawTarget::stderr(),
        );
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "density: products {bar:30} {pos}/{len} [{elapsed_precise}, eta {eta}]",
        ) {
            b.set_style(style);
        }
        Bar(Mutex::new(Some(b)))
    }
    fn set(&self, done: u64, total: u64) {
        if let Ok(g) = self.0.lock() {
            if let Some(b) = g.as_ref() {
                b.set_length(total);
                b.set_position(done.min(total));
            }
        }
    }
    fn finish(&self) {
        if let Ok(mut g) = self.0.lock() {
            if let Some(b) = g.take() {
                b.finish_and_clear();
            }
        }
    }
}

/// Runs `nearopt density`.
pub fn run(args: Args) -> Result<()> {
    if let Some(p) = &args.plot {
        check_output_path(p, "--plot")?;
        let ext = p
            .extension()
            .and_then(|e| e.to_str())
            .map(|e| e.to_ascii_lowercase());
        if !matches!(ext.as_deref(), Some("svg" | "png")) {
            bail!(
                "--plot {}: the file name must end in .svg or .png",
                p.display()
            );
        }
    }
    if !(args.top_tol.is_finite() && args.top_tol > 0.0) {
        bail!("--top-tol must be a positive number, got {}", args.top_tol);
    }
    let opts = DensityOptions {
        probes: args.probes,
        steps: args.steps,
        top: args.top,
        block: args.block,
        top_tol: args.top_tol,
        max_basis: args.max_basis,
        max_top_products: args.max_top_products,
        seed: args.seed,
        grid_points: args.grid,
        kappa_linear: args.kappa,
        kappa_log: args.kappa_log,
        log_floor: args.log_floor,
        memory_budget: parse_memory(args.memory.as_deref())?,
    };
    let teacher = crate::io::read_network(&args.network)?;
    let student = args
        .student
        .as_deref()
        .map(crate::io::read_network)
        .transpose()?;
    if let (Some(s), Some(path)) = (&student, &args.student) {
        if s.ni() != teacher.ni() {
            bail!(
                "student {} has Ni = {} inputs but teacher {} has Ni = {}: they must agree",
                path.display(),
                s.ni(),
                args.network.display(),
                teacher.ni()
            );
        }
    }
    let net = student.as_ref().unwrap_or(&teacher);
    let d = net.dim();
    // At most D eigenvalues exist.
    let opts = DensityOptions {
        top: opts.top.min(d),
        ..opts
    };
    check_options(d, &opts)?;
    let memory = density_memory_bytes(&teacher, student.as_ref(), &opts);
    if let Some(s) = &student {
        crate::guard::check_work(
            StudentHessian::setup_work(&teacher, s),
            "density --student: the cross moments of the functional term",
        )?;
    }
    let bar = Bar::new(d >= 20_000, (opts.probes * opts.steps.min(d)) as u64);
    let start = Instant::now();
    let result = density_exact(&teacher, student.as_ref(), &opts, &|done, total| {
        bar.set(done, total)
    });
    bar.finish();
    let est = result.with_context(|| match &args.student {
        Some(p) => format!(
            "density at the student {} (teacher {})",
            p.display(),
            args.network.display()
        ),
        None => format!("density of {}", args.network.display()),
    })?;
    let seconds = start.elapsed().as_secs_f64();
    if let Some(p) = &args.plot {
        let title = format!(
            "{} network, Ni = {}, Nh = {}, D = {}{}: SLQ with {} probes × {} steps",
            net.activation().name(),
            net.ni(),
            net.nh(),
            d,
            if student.is_some() {
                ", at a student"
            } else {
                ""
            },
            opts.probes,
            opts.steps.min(d)
        );
        write_density_plot(&est, &title, p)?;
    }
    let student_path = args.student.as_ref().map(|p| p.display().to_string());
    let report = report(net, student_path, &opts, &est, memory, seconds);
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print!("{}", human(&report));
    }
    Ok(())
}

/// The report of `est` (computed for `net` with `opts`: the network at its optimum, or the
/// student named `student` (its file); `memory` the estimated peak bytes, `seconds` the wall
/// time), printed by `--json`.
pub fn report<'a>(
    net: &'a Network,
    student: Option<String>,
    opts: &DensityOptions,
    est: &'a DensityEstimate,
    memory: u64,
    seconds: f64,
) -> Report<'a> {
    let m = est.moments.expect("density_exact gives the exact moments");
    let top = est.top.as_ref();
    Report {
        dimension: est.dimension,
        trace: m.trace,
        nodes: &est.nodes,
        weights: &est.weights,
        top_eigenvalues: top.map_or(Vec::new(), |t| t.values.clone()),
        trace_squared: m.trace_squared,
        slq_trace: est.slq_trace.0,
        slq_trace_se: est.slq_trace.1,
        slq_trace_squared: est.slq_trace_squared.0,
        slq_trace_squared_se: est.slq_trace_squared.1,
        top_residual_bounds: top.map_or(Vec::new(), |t| t.residual_bounds.clone()),
        top_gap_bounds: top.map_or(Vec::new(), |t| t.gap_bounds.clone()),
        top_converged: top.map_or(Vec::new(), |t| t.converged.clone()),
        top_basis_size: top.map_or(0, |t| t.basis_size),
        top_restarts: top.map_or(0, |t| t.restarts),
        top_thick_restarts: top.map_or(0, |t| t.thick_restarts),
        w1_quadrature_bound: est.w1_quadrature_bound,
        upper_bound: est.upper_bound,
        linear: &est.linear,
        log10: &est.log,
        log_floor: est.floor,
        mass_below_floor: est.mass_below_floor,
        log_mode: est.log_mode,
        log_peaks: &est.log_peaks,
        median_above_floor: est.median_above_floor,
        top_bulk_count: est.top_bulk.as_ref().map_or(0, |b| b.count),
        top_bulk_median: est.top_bulk.as_ref().map_or(f64::NAN, |b| b.median),
        top_bulk_median_se: est.top_bulk.as_ref().map_or(f64::NAN, |b| b.median_se),
        top_bulk_q10: est.top_bulk.as_ref().map_or(f64::NAN, |b| b.quantile_10),
        top_bulk_q90: est.top_bulk.as_ref().map_or(f64::NAN, |b| b.quantile_90),
        top_bulk_mean: est.top_bulk.as_ref().map_or(f64::NAN, |b| b.mean),
        top_bulk_mean_se: est.top_bulk.as_ref().map_or(f64::NAN, |b| b.mean_se),
        top_bulk_split: est.top_bulk.as_ref().map_or(f64::NAN, |b| b.split),
        top_bulk_count_slq: est
            .top_bulk
            .as_ref()
            .map_or(f64::NAN, |b| b.count_above_split),
        probes: opts.probes,
        steps: opts.steps.min(est.dimension),
        seed: opts.seed,
        block: opts.block,
        probes_per_block: est.probes_per_block,
        products: est.products,
        breakdowns: est.breakdowns,
        product_basis: est.product_basis,
        memory_estimate_bytes: memory,
        seconds,
        activation: net.activation(),
        ni: net.ni(),
        nh: net.nh(),
        point: if student.is_some() {
            "student"
        } else {
            "optimum"
        },
        student,
        nearopt_version: env!("CARGO_PKG_VERSION"),
    }
}

fn human(r: &Report) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{} network, Ni = {}, Nh = {}: D = {} (exact population Hessian at {}, matrix-free{})",
        r.activation.name(),
        r.ni,
        r.nh,
        r.dimension,
        match &r.student {
            Some(p) => format!("the student {p}"),
            None => "the optimum".into(),
        },
        if r.product_basis == "given" {
            ""
        } else {
            "; products in the triangular input basis, an orthogonal similarity: same spectrum"
        }
    );
    let _ = writeln!(
        s,
        "Tr H  = {:.10e} exact; SLQ {:.6e} ± {:.1e}",
        r.trace, r.slq_trace, r.slq_trace_se
    );
    let _ = writeln!(
        s,
        "Tr H² = {:.10e} exact; SLQ {:.6e} ± {:.1e}",
        r.trace_squared, r.slq_trace_squared, r.slq_trace_squared_se
    );
    if !r.top_eigenvalues.is_empty() {
        let _ = writeln!(
            s,
            "top {} eigenvalues (block Lanczos, basis {}, {} restarts on breakdown, {} thick restarts):",
            r.top_eigenvalues.len(),
            r.top_basis_size,
            r.top_restarts,
            r.top_thick_restarts
        );
        for (i, ((v, b), c)) in r
            .top_eigenvalues
            .iter()
            .zip(&r.top_residual_bounds)
            .zip(&r.top_converged)
            .enumerate()
        {
            let _ = writeln!(
                s,
                "  λ_{:<3} = {v:.12e}  ± {b:.1e}{}",
                i + 1,
                if *c { "" } else { "  (not converged)" }
            );
        }
    }
    let _ = writeln!(
        s,
        "SLQ: {} probes × {} steps ({} broke down: exact), W1 quadrature bound {:.2e}",
        r.probes, r.steps, r.breakdowns, r.w1_quadrature_bound
    );
    let _ = writeln!(
        s,
        "log density: main bulk at λ ≈ {:.4e} (mode), median above the floor {:.4e}; {:.2}% of the mass below {:.1e}",
        10f64.powf(r.log_mode),
        r.median_above_floor,
        100.0 * r.mass_below_floor,
        r.log_floor
    );
    let peaks: Vec<String> = r
        .log_peaks
        .iter()
        .map(|(x, _)| format!("{:.4e}", 10f64.powf(*x)))
        .collect();
    let _ = writeln!(s, "peaks of the log density at λ ≈ {}", peaks.join(", "));
    if r.top_bulk_count > 0 {
        let _ = writeln!(
            s,
            "top bulk ({} eigenvalues; SLQ counts {:.1} above {:.3e}): mean {:.6e} ± {:.1e} (exact trace − SLQ remainder), median {:.5e} ± {:.1e} (SLQ quantile), 10%–90% {:.4e} – {:.4e}",
            r.top_bulk_count,
            r.top_bulk_count_slq,
            r.top_bulk_split,
            r.top_bulk_mean,
            r.top_bulk_mean_se,
            r.top_bulk_median,
            r.top_bulk_median_se,
            r.top_bulk_q10,
            r.top_bulk_q90
        );
    }
    let _ = writeln!(
        s,
        "{} products in {:.2} s; memory estimate {:.1} MiB",
        r.products,
        r.seconds,
        r.memory_estimate_bytes as f64 / (1u64 << 20) as f64
    );
    s
}
