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
    } else if scale == 0.0 {
        d
    } else {
        d / scale
    }
}

fn net_json(act: &Activation, net: &Network) -> Value {
    json!({"activation": act, "ni": net.ni(), "nh": net.nh(), "w1": net.w1(), "w2": net.w2()})
}

/// Runs the NumPy reference on `spec` (`run` has checked that the script exists). Its scratch
/// directory is registered ([`crate::io::TempPath`]): removed on every path out of here,
/// errors and signals included.
fn run_numpy(args: &Args, spec: &Value) -> Result<Value> {
    let dir = crate::io::TempPath::register(
        std::env::temp_dir().join(format!("nearopt-bench-{}", std::process::id())),
    );
    std::fs::create_dir_all(dir.path())
        .with_context(|| format!("cannot create {}", dir.path().display()))?;
    let cases = dir.path().join("cases.json");
    let out = dir.path().join("numpy.json");
    std::fs::write(&cases, serde_json::to_vec(spec)?)
        .with_context(|| format!("cannot write {}", cases.display()))?;
    let threads = args
        .numpy_threads
        .unwrap_or_else(rayon::current_num_threads)
        .to_string();
    let status = crate::io::run_child(
        Command::new(&args.python)
            .arg(&args.script)
            .arg(&cases)
            .arg(&out)
            // These slow a current OpenBLAS on this machine; the thread counts match ours.
            .env_remove("OPENBLAS_CORETYPE")
            .env_remove("OPENBLAS_L2_SIZE")
            .env("OMP_NUM_THREADS", &threads)
            .env("OPENBLAS_NUM_THREADS", &threads)
            .env("MKL_NUM_THREADS", &threads),
    )
    .with_context(|| format!("cannot run {}", args.python.display()))?;
    if !status.success() {
        bail!(
            "the NumPy reference {} failed ({status})",
            args.script.display()
        );
    }
    let text = crate::io::read_text_capped(&out, 1 << 30, "NumPy reference output").with_context(
        || {
            format!(
                "the NumPy reference {} wrote no results",
                args.script.display()
            )
        },
    )?;
    serde_json::from_str(&text).with_context(|| {
        format!(
            "the NumPy reference {} wrote malformed JSON",
            args.script.display()
        )
    })
}

/// The NumPy reference's timings of case `i` (assembly, eigvalsh) and its eigenvalues, checked:
/// a reference that returned nothing (or not numbers, or the wrong count) is an error, never a
/// row of NaN.
fn numpy_case(
    np: &Value,
    i: usize,
    c: &Case,
    script: &std::path::Path,
) -> Result<(f64, f64, Vec<f64>)> {
    let r = &np["cases"][i];
    let time = |key: &str| {
        r[key]
            .as_f64()
            .filter(|t| t.is_finite() && *t >= 0.0)
            .with_context(|| {
                format!(
                    "the NumPy reference {} returned no `{key}` for case {}",
                    script.display(),
                    c.label
                )
            })
    };
    let (asm, eig) = (time("assembly_s")?, time("eigvalsh_s")?);
    let ev = finite_list(&r["eigenvalues"], c.net.dim()).with_context(|| {
        format!(
            "the NumPy reference {} returned no eigenvalues for case {}",
            script.display(),
            c.label
        )
    })?;
    Ok((asm, eig, ev))
}

/// Exactly `len` finite numbers, or None.
fn finite_list(v: &Value, len: usize) -> Option<Vec<f64>> {
    let list: Vec<f64> = v
        .as_array()?
        .iter()
        .map(|x| x.as_f64().filter(|x| x.is_finite()))
        .collect::<Option<_>>()?;
    (list.len() == len).then_some(list)
}

/// `a / b` where it is a number (a timer can read 0 for a tiny case).
fn ratio(a: f64, b: f64) -> Option<f64> {
    let r = a / b;
    r.is_finite().then_some(r)
}

/// A number or `-`.
fn opt(v: Option<f64>, width: usize, precision: usize) -> String {
    v.map_or(format!("{:>width$}", "-"), |x| {
        format!("{x:>width$.precision$}")
    })
}

/// Refuses, before anything runs, a benchmark whose matrices would not fit in memory or whose
/// work (all cases, all repeats) exceeds the limit ([`crate::guard::check_work`]).
fn check_plan(args: &Args, threads: usize) -> Result<()> {
    use crate::guard::{check_memory, check_work, f64_bytes, mul};
    let dim = |n: usize, flag: &str| -> Result<u128> {
        let n = n as u128;
        n.checked_mul(n)
            .and_then(|x| x.checked_add(n))
            .with_context(|| format!("{flag} {n}: D = N² + N overflows"))
    };
    // A dense D × D Hessian, the eigensolver's copy and its workspace; ~(4/3) D³ + D² work.
    // Each repeat also costs a fixed ~10⁵ operations of set-up, however small D. Every
    // product is checked: D itself may be near 2¹²⁸.
    let case_work = |d: u128| {
        mul(d, d)
            .and_then(|x| x.checked_mul(d.checked_mul(2)?.checked_add(1)?))
            .and_then(|x| x.checked_add(100_000))
    };
    let add = |a: Option<u128>, b: Option<u128>| a?.checked_add(b?);
    let mut work: Option<u128> = Some(0);
    let mut numbers: Option<u128> = Some(0); // sent to / read back from NumPy
    for &n in &args.sizes {
        let d = dim(n, "--sizes")?;
        check_memory(
            f64_bytes(mul(d, d).and_then(|x| x.checked_mul(3))),
            &format!("bench --sizes {n}: the dense {d} × {d} Hessian and the eigensolver's copies"),
        )?;
        let repeats = args.repeats.unwrap_or(if d > 3000 { 1 } else { 3 }) as u128;
        // Two activations per size.
        work = add(work, case_work(d).and_then(|x| x.checked_mul(2 * repeats)));
        numbers = add(numbers, d.checked_mul(4));
    }
    check_work(work, "bench --sizes (all cases and repeats)")?;
    if args.ensemble > 0 {
        let n = args.ensemble_size;
        let d = dim(n, "--ensemble-size")?;
        let k = args.ensemble as u128;
        let concurrent = (threads as u128).min(k);
        // The teachers' weights and eigenvalues, and one Hessian with the solver's copies per
        // thread at a time.
        let held = d.checked_mul(2).and_then(|x| x.checked_mul(k));
        let per_thread = mul(d, d).and_then(|x| x.checked_mul(3 * concurrent));
        check_memory(
            f64_bytes(add(held, per_thread)),
            &format!(
                "bench --ensemble {} --ensemble-size {n}: {} teachers with D = {d} ({concurrent} Hessians at a time)",
                args.ensemble, args.ensemble
            ),
        )?;
        let repeats = args.repeats.unwrap_or(3) as u128;
        check_work(
            case_work(d)
                .and_then(|x| x.checked_mul(k))
                .and_then(|x| x.checked_mul(repeats)),
            &format!("bench --ensemble {} --ensemble-size {n}", args.ensemble),
        )?;
        numbers = add(numbers, held);
    }
    if args.numpy {
        // JSON text (≤ 25 bytes a number) and the value tree (~40 bytes a number), both ways.
        check_memory(
            numbers.and_then(|x| x.checked_mul(2 * 65)),
            "bench --numpy: the cases sent to NumPy and its results",
        )?;
    }
    Ok(())
}

/// The most timed repetitions per case.
const MAX_REPEATS: usize = 1000;

/// Runs `nearopt bench`.
pub fn run(args: Args) -> Result<()> {
    if args.sizes.contains(&0) || args.ensemble_size == 0 {
        bail!("--sizes and --ensemble-size must be at least 1");
    }
    if args.numpy_threads == Some(0) {
        bail!("--numpy-threads must be at least 1");
    }
    match args.repeats {
        Some(0) => bail!("--repeats must be at least 1"),
        Some(r) if r > MAX_REPEATS => bail!(
            "--repeats must be at most {MAX_REPEATS} (the best of more repeats changes nothing), got {r}"
        ),
        _ => {}
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
    check_plan(&args, threads)?;
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
            let d = n * n + n; // checked in `check_plan`
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
    // The table is printed only once every number in it has passed the gate.
    let mut table = vec![];
    if let Some(np) = &numpy {
        table.push(format!("NumPy {} ; BLAS: {}", np["numpy"], np["blas"]));
    }
    table.push(format!(
        "{:<22} {:>10} {:>10} {:>10} {:>7} {:>10} {:>10} {:>8} {:>9}",
        "case", "asm s", "eig s", "total s", "asm %", "np asm s", "np eig s", "ratio", "max dλ"
    ));
    for (i, c) in cases.iter().enumerate() {
        let total = c.assembly_s + c.eig_s;
        let mut row = vec![c.assembly_s, c.eig_s, total];
        let reference = numpy
            .as_ref()
            .map(|np| numpy_case(np, i, c, &args.script))
            .transpose()?;
        if let Some((na, ne, ev)) = &reference {
            row.extend([*na, *ne, rel_gap(&c.eigenvalues, ev)]);
        }
        // The gate of printed numbers (ratios with a zero denominator print as `-`).
        crate::guard::ensure_finite(&row, &format!("bench case {}", c.label))?;
        let mut line = format!(
            "{:<22} {:>10.4} {:>10.4} {:>10.4} {}%",
            c.label,
            c.assembly_s,
            c.eig_s,
            total,
            opt(ratio(100.0 * c.assembly_s, c.eig_s), 6, 2)
        );
        if let Some((na, ne, ev)) = &reference {
            let gap = rel_gap(&c.eigenvalues, ev);
            line += &format!(
                " {na:>10.4} {ne:>10.4} {} {gap:>9.1e}",
                opt(ratio(total, *ne), 8, 3)
            );
        }
        table.push(line);
    }
    if let Some((nets, best, eigs)) = &ensemble {
        let label = format!("ensemble {}×erf N={}", nets.len(), args.ensemble_size);
        let mut line = format!("{label:<22} {:>10} {:>10} {best:>10.4} {:>7}", "", "", "");
        if let Some(np) = &numpy {
            let r = &np["ensemble"];
            let no_result = || {
                anyhow::anyhow!(
                    "the NumPy reference {} returned no ensemble results",
                    args.script.display()
                )
            };
            let t = r["total_s"]
                .as_f64()
                .filter(|t| t.is_finite() && *t >= 0.0)
                .ok_or_else(no_result)?;
            let theirs = r["eigenvalues"].as_array().ok_or_else(no_result)?;
            if theirs.len() != eigs.len() {
                return Err(no_result());
            }
            let mut gap = 0.0f64;
            for (a, b) in eigs.iter().zip(theirs) {
                gap = gap.max(rel_gap(a, &finite_list(b, a.len()).ok_or_else(no_result)?));
            }
            crate::guard::ensure_finite(&[*best, t, gap], "bench ensemble")?;
            line += &format!(
                " {:>10} {t:>10.4} {} {gap:>9.1e}",
                "",
                opt(ratio(*best, t), 8, 3)
            );
        } else {
            crate::guard::ensure_finite(best, "bench ensemble")?;
        }
        table.push(line);
    }
    for line in table {
        println!("{line}");
    }
    println!(
        "ratio = our total (assembly + spectrum) / NumPy eigvalsh alone; ensemble: our total / NumPy loop total \
         (assembly + eigvalsh per teacher); max dλ = max |λ_ours − λ_numpy| / max|λ|"
    );
    Ok(())
}
