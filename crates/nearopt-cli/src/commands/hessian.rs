//! `nearopt hessian`: write the Hessian of the generalization error as a `D × D` float64 `.npy`
//! (C order, parameter order of `INTERFACE.md`): the exact population Hessian at the optimum
//! (paper Eqs. 8–18, corrected), or its estimate from `--samples` Gaussian inputs (Eqs. 3–5);
//! with `--student`, the Hessian at that student (functional term included), exact
//! ([`nearopt::hessian::ExactHessian`], `docs/student.md`) or sampled.

use crate::guard::{self, check_memory, check_work, f64_bytes, mul};
use crate::io::{check_output_path, read_network, with_progress, write_npy_matrix};
use anyhow::{bail, Context, Result};
use nearopt::hessian::sampled::{sampled_hessian, sampled_outer_product, CHUNK};
use nearopt::hessian::{DenseMatrix, ExactHessian, StudentHessian};
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
    /// Student network file: the Hessian of ½ E[(y_student − y_teacher)²] at this student
    /// against the teacher --network, functional term included — exact (population), or
    /// sampled with --samples. The student has the teacher's Ni; without --samples its Nh,
    /// activation and biases may differ (D and the parameter order are the student's).
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

/// Work of the exact Hessian at a student, in floating-point-operation equivalents: the dense
/// `D²` assembly, the functional blocks `Nh_s (Nh_s + Nh_t) Ni²`, and the set-up of
/// [`StudentHessian::setup_work`] (the pair quadratures).
pub fn exact_student_work(teacher: &Network, student: &Network) -> Option<u128> {
    let d = student.dim() as u128;
    let (ni, nh) = (student.ni() as u128, student.nh() as u128);
    let pairs = mul(nh, nh.checked_add(teacher.nh() as u128)?)?;
    mul(d, d)?
        .checked_add(pairs.checked_mul(ni.checked_mul(ni)?)?)?
        .checked_add(StudentHessian::setup_work(teacher, student)?)
}

/// The dense Hessian of `½ E[(y_student − y_teacher)²]` at `student` (read from
/// `student_path`) against `teacher` (from `teacher_path`) by `method`: exact
/// ([`ExactHessian`]: any width, activation and biases) or sampled (the teacher's `Ni` and
/// `Nh`). Sized before it starts and refused if any entry is not finite.
pub fn dense_at_student(
    teacher: &Network,
    student: &Network,
    method: &Method,
    teacher_path: &Path,
    student_path: &Path,
    command: &str,
) -> Result<DenseMatrix> {
    if student.ni() != teacher.ni() {
        bail!(
            "student {} has Ni = {} inputs but teacher {} has Ni = {}: they must agree",
            student_path.display(),
            student.ni(),
            teacher_path.display(),
            teacher.ni()
        );
    }
    let d = student.dim();
    let (h, what) = match *method {
        Method::Exact => {
            method.check_cost(student, command)?;
            check_work(
                exact_student_work(teacher, student),
                &format!("{command}: the exact {d} × {d} Hessian at the student"),
            )?;
            let h = with_progress(
                d,
                &format!("assembling the {d} × {d} population Hessian at the student"),
                || ExactHessian::new(teacher, Some(student))?.dense(),
            )
            .with_context(|| {
                format!(
                    "exact population Hessian at the student {} (teacher {})",
                    student_path.display(),
                    teacher_path.display()
                )
            })?;
            (h, "exact population Hessian at the student")
        }
        Method::Sampled { samples, seed } => {
            if (student.ni(), student.nh()) != (teacher.ni(), teacher.nh()) {
                bail!(
                    "student {} has Ni = {}, Nh = {} but teacher {} has Ni = {}, Nh = {} \
                     (--samples needs the teacher's shape; without --samples the exact Hessian \
                     takes any Nh)",
                    student_path.display(),
                    student.ni(),
                    student.nh(),
                    teacher_path.display(),
                    teacher.ni(),
                    teacher.nh()
                );
            }
            method.check_cost(student, command)?;
            let h = with_progress(
                progress_dim(d, samples),
                &format!("accumulating the {d} × {d} Hessian from {samples} samples"),
                || sampled_hessian(student, teacher, samples, seed),
            )
            .context("sampled Hessian at the student")?;
            (h, "sampled Hessian at the student")
        }
    };
    guard::ensure_finite_matrix(
        h.as_slice(),
        d,
        what,
        student_path,
        |i, j| {
            format!(
                "∂²/∂{} ∂{}",
                student.layout().describe(i),
                student.layout().describe(j)
            )
        },
        || {
            format!(
                "student: {}; teacher {}: {}",
                guard::overflow_suspects(student),
                teacher_path.display(),
                guard::overflow_suspects(teacher)
            )
        },
    )?;
    Ok(h)
}

/// Runs `nearopt hessian`.
pub fn run(args: Args) -> Result<()> {
    let method = Method::from_flags(args.samples, args.seed)?;
    check_output_path(&args.out, "--out")?;
    let teacher = read_network(&args.network)?;
    let h = match &args.student {
        Some(path) => {
            let student = read_network(path)?;
            dense_at_student(&teacher, &student, &method, &args.network, path, "hessian")?
        }
        None => dense_at_optimum(&teacher, &method, &args.network, "hessian")?,
    };
    let d = h.rows();
    write_npy_matrix(&args.out, d, d, h.as_slice())?;
    let at = if args.student.is_some() {
        "at the student"
    } else {
        "at the optimum"
    };
    let what = match method {
        Method::Exact => format!("exact population Hessian {at}"),
        Method::Sampled { samples, seed } => {
            format!("Hessian {at} from {samples} samples (seed {seed})")
        }
    };
    eprintln!("wrote {}: {d} × {d} {what}", args.out.display());
    Ok(())
}
