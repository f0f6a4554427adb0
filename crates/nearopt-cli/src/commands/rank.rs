//! `nearopt rank`: the rank of the exact population Hessian at the optimum, certified where the
//! arithmetic allows (`nearopt::certify`): exact rational arithmetic for polynomial activations,
//! rigorous interval arithmetic and an exact inertia count for erf, float64 (uncertified)
//! otherwise. `--json` prints the object fixed by `INTERFACE.md`.

use crate::io::read_network;
use anyhow::{bail, Result};
use nearopt::certify::{certified_rank, RankCertificate, RankOptions};
use nearopt::Activation;
use std::path::PathBuf;
use std::time::Instant;

/// Largest precision cap accepted by `--max-bits`.
const MAX_BITS_LIMIT: u32 = 65536;

/// Options of `nearopt rank`.
#[derive(clap::Args)]
pub struct Args {
    /// Network file (student = teacher = this network).
    #[arg(long)]
    network: PathBuf,
    /// Print exactly one JSON object on stdout (INTERFACE.md).
    #[arg(long)]
    json: bool,
    /// erf: first precision tried, in fractional bits (doubled until certified).
    #[arg(long, default_value_t = 64)]
    start_bits: u32,
    /// erf: precision cap; beyond it the rank is reported as not certified.
    #[arg(long, default_value_t = 1024)]
    max_bits: u32,
    /// erf: skip the bracket on the smallest nonzero eigenvalue (saves ~log₂ bits inertia counts).
    #[arg(long)]
    no_kept_bound: bool,
}

/// The JSON object: `dimension, rank, certified, method` (INTERFACE.md) and the evidence.
#[derive(serde::Serialize)]
struct Report<'a> {
    #[serde(flatten)]
    certificate: &'a RankCertificate,
    /// Wall-clock seconds of the decision.
    seconds: f64,
    /// The activation as in the network file.
    activation: &'a Activation,
    /// Inputs.
    ni: usize,
    /// Hidden units.
    nh: usize,
    nearopt_version: &'static str,
}

/// Runs `nearopt rank`.
pub fn run(args: Args) -> Result<()> {
    if !(16..=MAX_BITS_LIMIT).contains(&args.max_bits) {
        bail!(
            "--max-bits must be between 16 and {MAX_BITS_LIMIT}, got {}",
            args.max_bits
        );
    }
    if args.start_bits < 16 || args.start_bits > args.max_bits {
        bail!(
            "--start-bits must be between 16 and --max-bits ({}), got {}",
            args.max_bits,
            args.start_bits
        );
    }
    let net = read_network(&args.network)?;
    let opts = RankOptions {
        start_bits: args.start_bits,
        max_bits: args.max_bits,
        bound_kept: !args.no_kept_bound,
    };
    let t0 = Instant::now();
    let c = certified_rank(&net, &opts)?;
    let report = Report {
        certificate: &c,
        seconds: t0.elapsed().as_secs_f64(),
        activation: net.activation(),
        ni: net.ni(),
        nh: net.nh(),
        nearopt_version: env!("CARGO_PKG_VERSION"),
    };
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        println!(
            "rank {} of D = {} ({}; method {}) in {:.3} s",
            c.rank,
            c.dimension,
            if c.certified {
                "certified"
            } else {
                "NOT certified"
            },
            c.method,
            report.seconds
        );
        println!("proven bounds: {} ≤ rank ≤ {}", c.rank_lower, c.rank_upper);
        if let Some(b) = c.precision_bits {
            println!("precision: {b} fractional bits");
        }
        if let Some(e) = c.error_bound {
            println!("‖H − H̃‖₂ ≤ {e:.3e}");
        }
        if let Some(k) = c.smallest_kept_lower_bound {
            println!("smallest nonzero eigenvalue ≥ {k:.3e}");
        }
        if let Some(d) = c.dropped_upper_bound {
            println!("eigenvalues not counted lie in [0, {d:.3e}]");
        }
        if !c.kernel_reasons.is_empty() {
            println!("exact null vectors from: {}", c.kernel_reasons.join("; "));
        }
        println!("{}", c.note);
    }
    Ok(())
}
