//! `nearopt bench`: wall times of the exact population Hessian (assembly + full spectrum) for erf
//! and quadratic teachers at `Ni = Nh ∈ --sizes`, and of an ensemble of erf teachers solved side
//! by side; with `--numpy` the same matrices are built and diagonalised by NumPy
//! (`bench/numpy_bench.py`, `numpy.linalg.eigvalsh`) in the same run, and the table shows the
//! ratios and how far the two sets of eigenvalues lie apart.

use anyhow::{bail, Context, Result};
use nearopt::spectrum::{ensemble_eigenvalues, symmetric_eigenvalues};
use nearopt::teacher::{sample_teacher, WeightDistribution};
use nearopt::{Activation, Network, PopulationHessian};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

/// Options of `nearopt bench`.
#[derive(clap::Args)]
pub struct Args {
    /// Sizes `Ni = Nh` of the single-teacher cases (D = N² + N).
    #[arg(long, value_delimiter = ',', default_value = "20,50,100")]
    sizes: Vec<usize>,
    /// Number of erf teachers in the ensemble case (0: skip it).
    #[arg(long, default_value_t = 100)]
    ensemble: usize,
    /// `Ni = Nh` of the ensemble teachers.
    #[arg(long, default_value_t = 20)]
    ensemble_size: usize,
    /// ε of the quadratic activation `g(x) = x + ε x²`.
    #[arg(long, default_value_t = 0.5)]
    epsilon: f64,
    /// Timed repetitions per case (the best is reported) [default: 3, 1 when D > 3000].
    #[arg(long)]
    repeats: Option<usize>,
    /// Seed of the teachers (stream i for case i).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Also run the NumPy reference in the same run.
    #[arg(long)]
    numpy: bool,
    /// Threads for NumPy's BLAS [default: the same as ours, --threads]. On a loaded machine
    /// OpenBLAS's spinning threads can be far slower with 2 threads than with 1: say which.
    #[arg(long)]
    numpy_threads: Option<usize>,
    /// Python interpreter for --numpy.
    #[arg(long, default_value = "python3")]
    python: PathBuf,
    /// The NumPy reference script.
    #[arg(long, default_value = "bench/numpy_bench.py")]
    script: PathBuf,
}

struct Case {
    label: String,
    act: Activation,
    net: Network,
    repeats: usize,
    assembly_s: f64,
    eig_s: f64,
    eigenvalues: Vec<f64>,
}

fn time_case(net: &Network, repeats: usize) -> Result<(f64, f64, Vec<f64>)> {
    let (mut best_a, mut best_e, mut eigs) = (f64::INFINITY, f64::INFINITY, vec![]);
    for _ in 0..repeats {
        let t0 = Instant::now();
        let h = PopulationHessian::at_optimum(net).dense()?;
        let t1 = Instant::now();
        eigs = symmetric_eigenvalues(&h)?;
        let t2 = Instant::now();
        best_a = best_a.min((t1 - t0).as_secs_f64());
        best_e = best_e.min((t2 - t1).as_secs_f64());
    }
    Ok((best_a, best_e, eigs))
}

/// `max_i |λ_i − μ_i| / max|λ|` (both ascending).
fn rel_gap(a: &[f64], b: &[f64]) -> f64 {
    let scale = a.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let d = a
        .iter()
        .zip(b)
        .fold(0.0f64, |m, (x, y)| m.max((x - y).abs()));
    if a.len() != b.len() {
        f64::NAN
    } else {
        d / scale
    }
}

fn net_json(act: &Activation, net: &Network) -> Value {
    json!({"activation": act, "ni": net.ni(), "nh": net.nh(), "w1": net.w1(), "w2": net.w2()})
}

/// Runs the NumPy reference on `spec` (`run` has checked that the script exists).
fn run_numpy(args: &Args, spec: &Value) -> Result<Value> {
    let dir = std::env::temp_dir().join(format!("nearopt-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let cases = dir.join("cases.json");
    let out = dir.join("numpy.json");
    std::fs::write(&cases, serde_json::to_vec(spec)?)
        .with_context(|| format!("cannot write {}", cases.display()))?;
    let threads = args
        .numpy_threads
        .unwrap_or_else(rayon::current_num_threads)
        .to_string();
    let status = Command::new(&args.python)
        .arg(&args.script)
        .arg(&cases)
        .arg(&out)
        // These slow a current OpenBLAS on this machine; the thread counts match ours.
        .env_remove("OPENBLAS_CORETYPE")
        .env_remove("OPENBLAS_L2_SIZE")
        .env("OMP_NUM_THREADS", &threads)
        .env("OPENBLAS_NUM_THREADS", &threads)
        .env("MKL_NUM_THREADS", &threads)
        .status()
        .with_context(|| format!("cannot run {}", args.python.display()))?;
    if !status.success() {
        let _ = std::fs::remove_dir_all(&dir);
        bail!("the NumPy reference failed ({status})");
    }
    let text =
        std::fs::read_to_string(&out).with_context(|| format!("cannot read {}", out.display()))?;
    let _ = std::fs::remove_dir_all(&dir);
    serde_json::from_str(&text).context("the NumPy reference wrote malformed JSON")
}

fn eig_list(v: &Value) -> Vec<f64> {
    v.as_array()
        .map(|a| a.iter().filter_map(Value::as_f64).collect())
        .unwrap_or_default()
}

/// Runs `nearopt bench`.
pub fn run(args: Args) -> Result<()> {
    if args.sizes.contains(&0) || args.ensemble_size == 0 {
        bail!("--sizes and --ensemble-size must be at least 1");
    }
    if args.numpy_threads == Some(0) {
        bail!("--numpy-threads must be at least 1");
    }
    if args.repeats == Some(0) {
        bail!("--repeats must be at least 1");
    }
    if args.numpy && !args.script.is_file() {
        bail!(
            "NumPy script {} not found (run from the repository root or pass --script)",
            args.script.display()
        );
    }
    if !args.epsilon.is_finite() {
        bail!("--epsilon must be finite, got {}", args.epsilon);
    }
    let threads = rayon::current_num_threads();
    println!(
        "nearopt bench: {threads} threads, seed {}, teachers N(0, 1/fan_in), times = best of repeats",
        args.seed
    );
    let mut cases = vec![];
    let mut stream = 0u64;
    for act in [
        Activation::Erf,
        Activation::Quadratic {
            epsilon: args.epsilon,
        },
    ] {
        for &n in &args.sizes {
            let d = n * n + n;
            let repeats = args.repeats.unwrap_or(if d > 3000 { 1 } else { 3 });
            let net = sample_teacher(
                act.clone(),
                n,
                n,
                WeightDistribution::Normal,
                args.seed,
                stream,
            )?;
            stream += 1;
            let (assembly_s, eig_s, eigenvalues) = time_case(&net, repeats)?;
            let label = format!("{} N={n} D={d}", act.name());
            eprintln!("  done: {label}");
            cases.push(Case {
                label,
                act: act.clone(),
                net,
                repeats,
                assembly_s,
                eig_s,
                eigenvalues,
            });
        }
    }
    let ens_repeats = args.repeats.unwrap_or(3);
    let mut ensemble = None;
    if args.ensemble > 0 {
        let n = args.ensemble_size;
        let nets = (0..args.ensemble as u64)
            .map(|i| {
                sample_teacher(
                    Activation::Erf,
                    n,
                    n,
                    WeightDistribution::Normal,
                    args.seed,
                    1000 + i,
                )
            })
            .collect::<nearopt::Result<Vec<_>>>()?;
        let (mut best, mut eigs) = (f64::INFINITY, vec![]);
        for _ in 0..ens_repeats {
            let t = Instant::now();
            eigs = ensemble_eigenvalues(&nets)?;
            best = best.min(t.elapsed().as_secs_f64());
        }
        eprintln!("  done: ensemble");
        ensemble = Some((nets, best, eigs));
    }
    let numpy = if args.numpy {
        let spec = json!({
            "threads": threads,
            "cases": cases.iter().map(|c| {
                let mut v = net_json(&c.act, &c.net);
                v["label"] = json!(c.label);
                v["repeats"] = json!(c.repeats);
                v
            }).collect::<Vec<_>>(),
            "ensemble": ensemble.as_ref().map(|(nets, _, _)| json!({
                "activation": Activation::Erf,
                "ni": args.ensemble_size,
                "nh": args.ensemble_size,
                "repeats": ens_repeats,
                "teachers": nets.iter().map(|t| json!({"w1": t.w1(), "w2": t.w2()})).collect::<Vec<_>>(),
            })),
        });
        Some(run_numpy(&args, &spec)?)
    } else {
        None
    };
    if let Some(np) = &numpy {
        println!("NumPy {} ; BLAS: {}", np["numpy"], np["blas"]);
    }
    println!(
        "{:<22} {:>10} {:>10} {:>10} {:>7} {:>10} {:>10} {:>8} {:>9}",
        "case", "asm s", "eig s", "total s", "asm %", "np asm s", "np eig s", "ratio", "max dλ"
    );
    for (i, c) in cases.iter().enumerate() {
        let total = c.assembly_s + c.eig_s;
        let mut line = format!(
            "{:<22} {:>10.4} {:>10.4} {:>10.4} {:>6.2}%",
            c.label,
            c.assembly_s,
            c.eig_s,
            total,
            100.0 * c.assembly_s / c.eig_s
        );
        if let Some(np) = &numpy {
            let r = &np["cases"][i];
            let (na, ne) = (
                r["assembly_s"].as_f64().unwrap_or(f64::NAN),
                r["eigvalsh_s"].as_f64().unwrap_or(f64::NAN),
            );
            let gap = rel_gap(&c.eigenvalues, &eig_list(&r["eigenvalues"]));
            line += &format!(" {na:>10.4} {ne:>10.4} {:>8.3} {gap:>9.1e}", total / ne);
        }
        println!("{line}");
    }
    if let Some((nets, best, eigs)) = &ensemble {
        let label = format!("ensemble {}×erf N={}", nets.len(), args.ensemble_size);
        let mut line = format!("{label:<22} {:>10} {:>10} {best:>10.4} {:>7}", "", "", "");
        if let Some(np) = &numpy {
            let r = &np["ensemble"];
            let t = r["total_s"].as_f64().unwrap_or(f64::NAN);
            let theirs = r["eigenvalues"].as_array().cloned().unwrap_or_default();
            let gap = eigs
                .iter()
                .zip(&theirs)
                .map(|(a, b)| rel_gap(a, &eig_list(b)))
                .fold(0.0f64, f64::max);
            line += &format!(" {:>10} {t:>10.4} {:>8.3} {gap:>9.1e}", "", best / t);
        }
        println!("{line}");
    }
    println!(
        "ratio = our total (assembly + spectrum) / NumPy eigvalsh alone; ensemble: our total / NumPy loop total \
         (assembly + eigvalsh per teacher); max dλ = max |λ_ours − λ_numpy| / max|λ|"
    );
    Ok(())
}
