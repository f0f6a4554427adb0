//! `nearopt spectrum`: eigenvalues (ascending), numerical rank and `λ_min` — the smallest nonzero
//! eigenvalue that sets the long-time loss decay `e^{−2 λ_min t}` (paper Eq. 7) — of the Hessian
//! at the optimum, exact or estimated from samples, or with `--student` at that student
//! (functional term included; the eigenvalues may then be negative); `--json` prints the object
//! fixed by `INTERFACE.md`.

use super::hessian::{dense_at_optimum, dense_at_student, per_sample_cost, progress_dim, Method};
use crate::guard::{self, check_memory, check_work, f64_bytes, mul};
use crate::io::{check_output_path, read_network, with_progress, write_npy_matrix};
use anyhow::{bail, Result};
use nearopt::hessian::sampled::ntk_gram;
use nearopt::hessian::DenseMatrix;
use nearopt::spectrum::{rank, smallest_nonzero, symmetric_spectrum, RankDecision, Spectrum};
use nearopt::{Activation, Network};
use std::path::{Path, PathBuf};

/// Options of `nearopt spectrum`.
#[derive(clap::Args)]
pub struct Args {
    /// Network file (the teacher; also the student unless --student is given).
    #[arg(long)]
    network: PathBuf,
    /// Student network file: the spectrum of the Hessian of ½ E[(y_student − y_teacher)²] at
    /// this student against the teacher --network, functional term included — exact
    /// (population), or sampled with --samples. The student has the teacher's Ni; without
    /// --samples its Nh, activation and biases may differ (D is the student's).
    #[arg(long)]
    student: Option<PathBuf>,
    /// Print exactly one JSON object on stdout (INTERFACE.md).
    #[arg(long)]
    json: bool,
    /// Count eigenvalues above this tolerance as nonzero [default: λ_max · D · ε_f64].
    #[arg(long)]
    rank_tol: Option<f64>,
    /// Estimate the Hessian from this many Gaussian inputs (J Jᵀ/n; through the NTK Gram J Jᵀ
    /// when n < D) instead of the exact population Hessian.
    #[arg(long)]
    samples: Option<usize>,
    /// Seed of the inputs (with --samples) [default: 1].
    #[arg(long)]
    seed: Option<u64>,
    /// Also write the unit eigenvectors as the columns of a D × D float64 `.npy` (C order;
    /// column i belongs to eigenvalue i).
    #[arg(long)]
    vectors: Option<PathBuf>,
    /// With --vectors: let the eigendecomposition use all --threads. By default it runs on one
    /// thread so that the output is bit-identical whatever --threads is (faer's parallel
    /// reduction order depends on the thread count: differences of ~1e-15 relative).
    /// Eigenvalues alone are always computed in parallel and never depend on --threads.
    #[arg(long)]
    parallel_eigensolver: bool,
}

/// The JSON object of `nearopt spectrum --json` (`INTERFACE.md` fixes the first four keys).
#[derive(serde::Serialize)]
struct Report<'a> {
    /// `D` (the student's with `--student`).
    dimension: usize,
    /// All `D` eigenvalues, ascending.
    eigenvalues: &'a [f64],
    /// Number of eigenvalues above `rank_tolerance`.
    rank: usize,
    /// The tolerance used.
    rank_tolerance: f64,
    /// Whether the tolerance came from `--rank-tol` (else the default `λ_max · D · ε`).
    rank_tolerance_given: bool,
    /// Smallest eigenvalue above the tolerance (Eq. 7's `λ_min`); null if none.
    lambda_min: Option<f64>,
    /// Largest eigenvalue.
    lambda_max: f64,
    /// Smallest `|λ|` counted in the rank.
    smallest_kept: Option<f64>,
    /// Largest `|λ|` not counted.
    largest_dropped: Option<f64>,
    /// `smallest_kept / largest_dropped`; null when nothing was dropped or the dropped ones are
    /// exactly zero.
    gap_ratio: Option<f64>,
    /// The activation as in the network file (the student's with `--student`).
    activation: &'a Activation,
    /// Inputs.
    ni: usize,
    /// Hidden units (the student's with `--student`).
    nh: usize,
    /// `optimum` (student = teacher) or `student`.
    point: &'static str,
    /// The student file, with `--student`.
    student: Option<String>,
    /// `exact` or `sampled`.
    method: &'static str,
    /// Number of inputs (sampled), else null.
    samples: Option<usize>,
    /// Seed of the inputs (sampled), else null.
    seed: Option<u64>,
    /// Where the eigenvectors were written, if asked.
    vectors: Option<String>,
    /// Version of the program.
    nearopt_version: &'static str,
}

/// The eigendecomposition of `h` ([`symmetric_spectrum`]). Eigenvalues alone come out the same
/// whatever the thread count, so they use the whole pool; with eigenvectors faer splits its
/// reductions by rayon's thread count, so they run on one thread unless `parallel`.
fn decompose(h: &DenseMatrix, vectors: bool, parallel: bool) -> Result<Spectrum> {
    let d = h.rows();
    let message = format!("eigendecomposition of the {d} × {d} matrix");
    if parallel || !vectors {
        return Ok(with_progress(d, &message, || {
            symmetric_spectrum(h, vectors)
        })?);
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .map_err(|e| anyhow::anyhow!("cannot set up the eigensolver's thread: {e}"))?;
    Ok(with_progress(d, &message, || {
        pool.install(|| symmetric_spectrum(h, vectors))
    })?)
}

/// Eigenvalues (ascending) and, if asked, eigenvectors (row-major `D × D`, as columns) of the
/// Hessian of `net` at the optimum by `method`. Sampled eigenvalues without eigenvectors go
/// through the `n × n` NTK Gram `J Jᵀ/n` when `n < D` (same nonzero spectrum as `Jᵀ J/n`,
/// padded with `D − n` zeros), as `nearopt::hessian::sampled::sampled_outer_eigenvalues` does.
fn eigen(
    net: &Network,
    method: &Method,
    vectors: bool,
    parallel: bool,
    source: &Path,
    student: Option<(&Network, &Path)>,
) -> Result<(Vec<f64>, Option<Vec<f64>>)> {
    let d = student.map_or(net, |s| s.0).dim();
    let gram_size = match method {
        Method::Sampled { samples, .. } if !vectors && *samples < d && student.is_none() => {
            Some(*samples)
        }
        _ => None,
    };
    // The eigensolver works on its own copy; eigenvectors need the solver's matrix and ours.
    let n = gram_size.unwrap_or(d) as u128;
    let copies: u128 = if vectors { 4 } else { 2 };
    let what = match gram_size {
        Some(_) => "NTK Gram matrix",
        None => "Hessian",
    };
    check_memory(
        f64_bytes(mul(n, n).and_then(|x| x.checked_mul(copies))),
        &format!(
            "spectrum: the eigensolver's working set ({copies} copies of the {n} × {n} {what}{})",
            if vectors { " with eigenvectors" } else { "" }
        ),
    )?;
    // Dense symmetric eigensolvers take ~(4/3) n³ operations for eigenvalues, ~9 n³ with vectors.
    check_work(
        mul(n, n).and_then(|x| x.checked_mul(n * if vectors { 9 } else { 2 })),
        &format!("spectrum: the eigendecomposition of the {n} × {n} {what}"),
    )?;
    if let (Some(n), Method::Sampled { samples, seed }) = (gram_size, method) {
        // The n × D Jacobian, then its n × n Gram (n · n · D multiply-adds).
        let dd = d as u128;
        check_memory(
            f64_bytes(mul(n as u64, dd)),
            &format!("spectrum --samples {samples}: the {n} × {d} Jacobian"),
        )?;
        check_work(
            mul(n as u64, n as u64)
                .and_then(|x| x.checked_mul(dd))
                .and_then(|x| x.checked_add(mul(n as u64, per_sample_cost(dd))?)),
            &format!("spectrum --samples {samples} at D = {d}"),
        )?;
        let gram = with_progress(
            progress_dim(n, *samples),
            &format!("NTK Gram matrix of {samples} samples"),
            || ntk_gram(net, *samples, *seed),
        )?;
        guard::ensure_finite_matrix(
            gram.as_slice(),
            n,
            "NTK Gram matrix of the sampled Hessian",
            source,
            |i, j| format!("samples {i} and {j}"),
            || guard::overflow_suspects(net),
        )?;
        let mut ev = vec![0.0; d - n];
        ev.extend(decompose(&gram, false, parallel)?.eigenvalues);
        ev.sort_by(|a, b| a.total_cmp(b));
        return Ok((ev, None));
    }
    let h = match student {
        Some((s, path)) => dense_at_student(net, s, method, source, path, "spectrum")?,
        None => dense_at_optimum(net, method, source, "spectrum")?,
    };
    let sp = decompose(&h, vectors, parallel)?;
    drop(h);
    Ok((sp.eigenvalues, sp.eigenvectors.map(|v| v.into_vec())))
}

/// Runs `nearopt spectrum`.
pub fn run(args: Args) -> Result<()> {
    let method = Method::from_flags(args.samples, args.seed)?;
    if let Some(t) = args.rank_tol {
        if !(t.is_finite() && t >= 0.0) {
            bail!("--rank-tol must be a finite number ≥ 0, got {t}");
        }
    }
    if let Some(v) = &args.vectors {
        check_output_path(v, "--vectors")?;
    }
    let teacher = read_network(&args.network)?;
    let student = args.student.as_deref().map(read_network).transpose()?;
    let (eigenvalues, vectors) = eigen(
        &teacher,
        &method,
        args.vectors.is_some(),
        args.parallel_eigensolver,
        &args.network,
        student.as_ref().zip(args.student.as_deref()),
    )?;
    // The network whose parameters index the Hessian.
    let net = student.as_ref().unwrap_or(&teacher);
    let d = net.dim();
    if eigenvalues.len() != d {
        bail!("internal: {} eigenvalues for D = {d}", eigenvalues.len());
    }
    let decision = rank(&eigenvalues, args.rank_tol);
    let lambda_min = smallest_nonzero(&eigenvalues, Some(decision.tolerance));
    let context = match &args.student {
        Some(p) => format!(
            "spectrum at the student {} (teacher {})",
            p.display(),
            args.network.display()
        ),
        None => format!("spectrum of {}", args.network.display()),
    };
    guard::ensure_finite(&eigenvalues, &context)?;
    if let (Some(path), Some(v)) = (&args.vectors, &vectors) {
        guard::ensure_finite_matrix(
            v,
            d,
            "eigenvectors",
            &args.network,
            |i, j| format!("component {} of eigenvector {j}", net.layout().describe(i)),
            || guard::overflow_suspects(net),
        )?;
        write_npy_matrix(path, d, d, v)?;
    }
    let (samples, seed) = match method {
        Method::Exact => (None, None),
        Method::Sampled { samples, seed } => (Some(samples), Some(seed)),
    };
    let gap = decision.gap_ratio();
    let report = Report {
        dimension: d,
        eigenvalues: &eigenvalues,
        rank: decision.rank,
        rank_tolerance: decision.tolerance,
        rank_tolerance_given: args.rank_tol.is_some(),
        lambda_min,
        lambda_max: eigenvalues.last().copied().unwrap_or(0.0),
        smallest_kept: decision.smallest_kept,
        largest_dropped: decision.largest_dropped,
        gap_ratio: gap.is_finite().then_some(gap),
        activation: net.activation(),
        ni: net.ni(),
        nh: net.nh(),
        point: if student.is_some() {
            "student"
        } else {
            "optimum"
        },
        student: args.student.as_ref().map(|p| p.display().to_string()),
        method: if samples.is_some() {
            "sampled"
        } else {
            "exact"
        },
        samples,
        seed,
        vectors: args.vectors.as_ref().map(|p| p.display().to_string()),
        nearopt_version: env!("CARGO_PKG_VERSION"),
    };
    // The gate of everything printed, JSON or human.
    guard::ensure_finite(&report, &context)?;
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print!("{}", human_summary(&report, &decision));
    }
    Ok(())
}

/// Formats a number for the human summary.
fn num(v: f64) -> String {
    format!("{v:.6e}")
}

/// The short human-readable summary: sizes, rank with its evidence, `λ_min`, `λ_max`, the
/// extreme eigenvalues and a histogram of `log10 λ` over the nonzero ones.
fn human_summary(r: &Report, decision: &RankDecision) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let method = match (r.samples, r.seed) {
        (Some(n), Some(seed)) => {
            format!("sampled from {n} inputs, seed {seed}, at the {}", r.point)
        }
        _ => format!("exact population Hessian at the {}", r.point),
    };
    let _ = writeln!(
        s,
        "{} network, Ni = {}, Nh = {}: D = {} ({method})",
        r.activation.name(),
        r.ni,
        r.nh,
        r.dimension
    );
    let gap = match decision.largest_dropped {
        None => "nothing dropped".to_string(),
        Some(dropped) => match r.gap_ratio {
            Some(g) => format!("largest dropped |λ| = {}, gap ratio {g:.3e}", num(dropped)),
            None => format!("largest dropped |λ| = {}", num(dropped)),
        },
    };
    let _ = writeln!(
        s,
        "rank {} of {} (tolerance {}{}; {gap})",
        r.rank,
        r.dimension,
        num(r.rank_tolerance),
        if r.rank_tolerance_given {
            ", given"
        } else {
            " = λ_max·D·ε"
        }
    );
    let _ = writeln!(
        s,
        "λ_min (smallest nonzero) = {}",
        r.lambda_min.map_or("none".to_string(), num)
    );
    let _ = writeln!(s, "λ_max = {}", num(r.lambda_max));
    let ev = r.eigenvalues;
    let few = 5;
    if ev.len() <= 2 * few {
        let list: Vec<String> = ev.iter().map(|v| num(*v)).collect();
        let _ = writeln!(s, "eigenvalues: {}", list.join(", "));
    } else {
        let lo: Vec<String> = ev[..few].iter().map(|v| num(*v)).collect();
        let hi: Vec<String> = ev[ev.len() - few..].iter().map(|v| num(*v)).collect();
        let _ = writeln!(s, "smallest eigenvalues: {}", lo.join(", "));
        let _ = writeln!(s, "largest eigenvalues:  {}", hi.join(", "));
    }
    let logs: Vec<f64> = ev
        .iter()
        .filter(|v| **v > r.rank_tolerance)
        .map(|v| v.log10())
        .collect();
    if logs.len() >= 2 {
        let (lo, hi) = logs
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
                (a.min(*v), b.max(*v))
            });
        let bins = 10usize;
        let width = ((hi - lo) / bins as f64).max(1e-12);
        let mut counts = vec![0usize; bins];
        for v in &logs {
            counts[(((v - lo) / width) as usize).min(bins - 1)] += 1;
        }
        let most = *counts.iter().max().unwrap_or(&1);
        let _ = writeln!(
            s,
            "histogram of log10 λ over the {} nonzero eigenvalues:",
            logs.len()
        );
        for (b, c) in counts.iter().enumerate() {
            let bar = "#".repeat((c * 40).div_ceil(most.max(1)));
            let _ = writeln!(
                s,
                "  [{:>7.2}, {:>7.2}) {:>6} {bar}",
                lo + b as f64 * width,
                lo + (b + 1) as f64 * width,
                c
            );
        }
    }
    s
}
