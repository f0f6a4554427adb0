//! `nearopt student`: write a wider student (`--width K ≥ Nh`) that computes exactly the
//! teacher's function, built as `--optimum` says (`nearopt::students`, `docs/overparam.md`):
//! `zero` (extra units with zero output weight), `split` (teacher units split into copies whose
//! output weights sum to the teacher's), `cancel` (pairs with equal input and opposite output
//! weights) or `mirror` (pairs with opposite input and equal output weights, odd activations).

use crate::io::{network_json, read_network, write_atomic};
use anyhow::{bail, Result};
use nearopt::students::{widen, Optimum};
use std::path::PathBuf;

/// Largest student width accepted (the network file of a wider one would be unwieldy; the
/// Hessian commands refuse far smaller sizes anyway).
const MAX_WIDTH: usize = 1 << 20;

/// Options of `nearopt student`.
#[derive(clap::Args)]
pub struct Args {
    /// Teacher network file.
    #[arg(long)]
    teacher: PathBuf,
    /// Hidden units K of the student (at least the teacher's Nh).
    #[arg(long)]
    width: usize,
    /// Kind of optimum: zero, split, cancel or mirror.
    #[arg(long)]
    optimum: String,
    /// Seed of the extra units' weights (and the split fractions).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Output network file (default: stdout).
    #[arg(long)]
    out: Option<PathBuf>,
}

/// Runs `nearopt student`.
pub fn run(args: Args) -> Result<()> {
    let optimum = Optimum::parse(&args.optimum)?;
    if args.width > MAX_WIDTH {
        bail!("--width {} is above the limit {MAX_WIDTH}", args.width);
    }
    if let Some(out) = &args.out {
        crate::io::check_output_path(out, "--out")?;
    }
    let teacher = read_network(&args.teacher)?;
    if teacher
        .ni()
        .checked_mul(args.width)
        .is_none_or(|p| p > 1 << 26)
    {
        bail!(
            "--width {} × Ni {} weights is above the limit of 2^26",
            args.width,
            teacher.ni()
        );
    }
    let s = widen(&teacher, args.width, optimum, args.seed)?;
    let mut text = network_json(&s.network);
    text.push('\n');
    match &args.out {
        Some(path) => {
            write_atomic(path, text.as_bytes())?;
            eprintln!(
                "wrote {}: {} student of width {} at a {} optimum of the teacher {} (Nh = {}), seed {}, {} flat directions beyond the teacher's",
                path.display(),
                s.network.activation().name(),
                s.network.nh(),
                optimum.name(),
                args.teacher.display(),
                s.teacher_units,
                args.seed,
                s.flat_directions.len()
            );
        }
        None => print!("{text}"),
    }
    Ok(())
}
