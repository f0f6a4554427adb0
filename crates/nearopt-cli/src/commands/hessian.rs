//! `nearopt hessian`: write the Hessian of the generalization error as a `D × D` float64 `.npy`
//! (C order, parameter order of `INTERFACE.md`): the exact population Hessian at the optimum
//! (paper Eqs. 8–18, corrected), or its estimate from `--samples` Gaussian inputs (Eqs. 3–5),
//! optionally at another `--student` point (functional term included).

use crate::guard::{self, check_memory, check_work, f64_bytes, mul};
use crate::io::{check_output_path, read_network, with_progress, write_npy_matrix};
use anyhow::{bail, Context, Result};
use nearopt::hessian::sampled::{sampled_hessian, sampled_outer_product, CHUNK};
use nearopt::hessian::DenseMatrix;
use nearopt::{Network, PopulationHessian};
use std::path::{Path, PathBuf};

/// Options of `nearopt hessian`.
#[derive(clap::Args)]
pub struct Args {
    /// Network file (the teacher; also the student unless --student is given).
    #[arg(long)]
    network: PathBuf,
    /// Output `.npy` file: D × D float64, C order.
    #[arg(long)]
    out: PathBuf,
    /// Estimate the Hessian from this many Gaussian inputs (Eqs. 3–5) instead of the exact
    /// population Hessian. At the optimum the functional term vanishes identically and the
    /// estimate is J Jᵀ/n.
    #[arg(long)]
    samples: Option<usize>,
    /// Seed of the inputs (with --samples) [default: 1].
    #[arg(long)]
    seed: Option<u64>,
    /// Student network file: the sampled Hessian at this student against the teacher --network
    /// (needs --samples).
    #[arg(long)]
    student: Option<PathBuf>,
}

/// How a Hessian is to be computed: the parsed and checked `--samples/--seed/--student` flags.
pub enum Method {
    /// The exact population Hessian at the optimum.
    Exact,
    /// From `samples` inputs of stream `seed`.
    Sampled {
        /// Number of inputs `n`.
        samples: usize,
        /// Seed of the inputs.
        seed: u64,
    },
}

impl Method {
    /// From the flags: `--seed` only with `--samples`, `n ≥ 1`.
    pub fn from_flags(samples: Option<usize>, seed: Option<u64>) -> Result<Self> {
        match (samples, seed) {
            (None, Some(_)) => {
                bail!("--seed only applies with --samples (the exact Hessian uses no random draws)")
            }
            (None, None) => Ok(Method::Exact),
            (Some(0), _) => bail!("--samples must be at least 1"),
            (Some(n), s) => Ok(Method::Sampled {
                samples: n,
                seed: s.unwrap_or(1),
            }),
        }
    }
}

impl Method {
    /// Refuses, before it starts, a dense `D × D` Hessian of `net` by this method that would
    /// not fit in memory or (sampled: `n · D · (D + 1)` multiply-adds) take more than the work
    /// limit ([`guard::check_work`]); sizes in checked arithmetic.
    pub fn check_cost(&self, net: &Network, command: &str) -> Result<()> {
        let d = net.dim() as u128;
        match *self {
            Method::Exact => check_memory(
                f64_bytes(mul(d, d)),
                &format!("{command}: the dense {d} × {d} population Hessian"),
            ),
            Method::Sampled { samples, .. } => {
                // The accumulator, one chunk of Jacobian rows, and the functional term's blocks.
                let (ni, nh) = (net.ni() as u128, net.nh() as u128);
                let numbers = mul(d, d)
                    .zip(mul(CHUNK as u64, d))
                    .zip(mul(nh, ni * ni))
                    .and_then(|((a, b), c)| a.checked_add(b)?.checked_add(c));
                check_memory(
                    f64_bytes(numbers),
                    &format!("{command}: the dense {d} × {d} sampled Hessian"),
                )?;
                check_work(
                    mul(samples as u64, d * (d + 1) + per_sample_cost(d)),
                    &format!("{command} --samples {samples} at D = {d}"),
                )
            }
        }
    }
}

/// Work per input sample besides the `D²` accumulation, in floating-point-operation
/// equivalents: drawing the input, the activations and the Jacobian row (~50 per parameter)
/// and a fixed ~2500 (measured: 1e8 samples at D = 6 took 26 s, ~260 ns a sample).
pub fn per_sample_cost(d: u128) -> u128 {
    2500 + 50 * d
}

/// The dimension to give [`with_progress`] for `samples` inputs at dimension `d`: many samples
/// take long even when `D` is small.
pub fn progress_dim(d: usize, samples: usize) -> usize {
    if samples >= 1_000_000 {
        d.max(crate::io::PROGRESS_FROM_DIM)
    } else {
        d
    }
}

/// The dense Hessian of `net` (read from `source`) at the optimum by `method`, with a spinner
/// for large `D`; sized before it starts ([`Method::check_cost`]) and refused if any entry is
/// not finite ([`guard::ensure_finite_hessian`]: `hessian` and `spectrum` alike).
pub fn dense_at_optimum(
    net: &Network,
    method: &Method,
    source: &Path,
    command: &str,
) -> Result<DenseMatrix> {
    let d = net.dim();
    method.check_cost(net, command)?;
    let (h, what) = match *method {
        Method::Exact => (
            with_progress(
                d,
                &format!("assembling the {d} × {d} population Hessian"),
                || PopulationHessian::at_optimum(net).dense(),
            )
            .with_context(|| format!("exact population Hessian of {}", source.display()))?,
            "exact population Hessian",
        ),
        Method::Sampled { samples, seed } => (
            with_progress(
                progress_dim(d, samples),
                &format!("accumulating the {d} × {d} Hessian from {samples} samples"),
                || sampled_outer_product(net, samples, seed),
            )
            .with_context(|| format!("sampled Hessian of {}", source.display()))?,
            "sampled Hessian",
        ),
    };
    guard::ensure_finite_hessian(h.as_slice(), net, what, source)?;
    Ok(h)
}

/// Runs `nearopt hessian`.
pub fn run(args: Args) -> Result<()> {
    let method = Method::from_flags(args.samples, args.seed)?;
    if args.student.is_some() && matches!(method, Method::Exact) {
        bail!(
            "--student needs --samples: the exact population Hessian is only defined at the optimum \
             (student = teacher); use --samples N for the sampled Hessian at another student"
        );
    }
    check_output_path(&args.out, "--out")?;
    let teacher = read_network(&args.network)?;
    let h = match (&args.student, &method) {
        (Some(path), Method::Sampled { samples, seed }) => {
            let student = read_network(path)?;
            if (student.ni(), student.nh()) != (teacher.ni(), teacher.nh()) {
                bail!(
                    "student {} has Ni = {}, Nh = {} but teacher {} has Ni = {}, Nh = {}",
                    path.display(),
                    student.ni(),
                    student.nh(),
                    args.network.display(),
                    teacher.ni(),
                    teacher.nh()
                );
            }
            let d = student.dim();
            method.check_cost(&student, "hessian")?;
            let h = with_progress(
                progress_dim(d, *samples),
                &format!("accumulating the {d} × {d} Hessian from {samples} samples"),
                || sampled_hessian(&student, &teacher, *samples, *seed),
            )
            .context("sampled Hessian at the student")?;
            guard::ensure_finite_matrix(
                h.as_slice(),
                d,
                "sampled Hessian at the student",
                path,
                |i, j| {
                    format!(
                        "∂²/∂{} ∂{}",
                        guard::parameter_name(&student, i),
                        guard::parameter_name(&student, j)
                    )
                },
                || {
                    format!(
                        "student: {}; teacher {}: {}",
                        guard::overflow_suspects(&student),
                        args.network.display(),
                        guard::overflow_suspects(&teacher)
                    )
                },
            )?;
            h
        }
        _ => dense_at_optimum(&teacher, &method, &args.network, "hessian")?,
    };
    let d = h.rows();
    write_npy_matrix(&args.out, d, d, h.as_slice())?;
    let what = match method {
        Method::Exact => "exact population Hessian at the optimum".to_string(),
        Method::Sampled { samples, seed } => {
            let at = if args.student.is_some() {
                "at the student"
            } else {
                "at the optimum"
            };
            format!("Hessian {at} from {samples} samples (seed {seed})")
        }
    };
    eprintln!("wrote {}: {d} × {d} {what}", args.out.display());
    Ok(())
}
