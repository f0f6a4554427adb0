//! `nearopt teacher`: sample a teacher network (weights of variance `1/fan_in`, paper Section 1.1;
//! non-Gaussian weights as in Appendix E) and write it as a network file (`INTERFACE.md`).

use crate::io::{network_json, write_atomic};
use anyhow::{bail, Result};
use nearopt::teacher::{sample_teacher, WeightDistribution};
use nearopt::Activation;
use std::path::PathBuf;

/// Options of `nearopt teacher`.
#[derive(clap::Args)]
pub struct Args {
    /// Activation g: linear, quadratic (g = x + ε x²), polynomial (g = Σ c_k x^k),
    /// erf (g = erf(x/√2)), tanh, relu, leaky_relu (--slope), gelu, silu, softplus or sigmoid
    /// (the registry of docs/activations.md).
    #[arg(long)]
    activation: String,
    /// Negative-side slope of the leaky_relu activation [default: 0.01].
    #[arg(long, allow_hyphen_values = true)]
    slope: Option<f64>,
    /// ε of the quadratic activation [default: 1].
    #[arg(long)]
    epsilon: Option<f64>,
    /// Coefficients c0,c1,...,cn of the polynomial activation (comma-separated).
    #[arg(long, allow_hyphen_values = true)]
    coefficients: Option<String>,
    /// Number of inputs Ni.
    #[arg(long)]
    ni: usize,
    /// Number of hidden units Nh.
    #[arg(long)]
    nh: usize,
    /// Weight distribution: normal, uniform, rademacher, laplace or student-t (all rescaled to
    /// variance 1/fan_in).
    #[arg(long, default_value = "normal")]
    weights: String,
    /// Degrees of freedom ν > 2 of student-t weights [default: 5].
    #[arg(long)]
    nu: Option<f64>,
    /// Random seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Random stream within the seed (independent teachers from one seed).
    #[arg(long, default_value_t = 0)]
    stream: u64,
    /// Add hidden biases b1 drawn from N(0, STD²) (INTERFACE.md; default: no b1).
    #[arg(long, value_name = "STD")]
    b1_std: Option<f64>,
    /// Add an output bias b2 drawn from N(0, STD²) (default: no b2).
    #[arg(long, value_name = "STD")]
    b2_std: Option<f64>,
    /// Output network file (default: stdout).
    #[arg(long)]
    out: Option<PathBuf>,
}

/// The activation named by `--activation` with its parameters.
fn activation(args: &Args) -> Result<Activation> {
    let slope = args.slope.map(|s| s.to_string());
    let mut given: Vec<(&str, &str)> = Vec::new();
    if let Some(s) = &slope {
        given.push(("slope", s));
    }
    parse_activation_with(
        &args.activation,
        args.epsilon,
        args.coefficients.as_deref(),
        &given,
    )
}

/// The activation named by an `--activation` flag with its `--epsilon` / `--coefficients`
/// (shared by `teacher` and `train`); rejects parameters that do not belong to it. The kinds,
/// their keys and defaults come from the library's registry (`nearopt::activation::registry`).
pub(crate) fn parse_activation(
    kind: &str,
    epsilon: Option<f64>,
    coefficients: Option<&str>,
) -> Result<Activation> {
    parse_activation_with(kind, epsilon, coefficients, &[])
}

/// [`parse_activation`] with further `(key, value)` flags (e.g. `("slope", "0.1")`).
fn parse_activation_with(
    kind: &str,
    epsilon: Option<f64>,
    coefficients: Option<&str>,
    more: &[(&str, &str)],
) -> Result<Activation> {
    let eps = epsilon.map(|e| e.to_string());
    let mut given: Vec<(&str, &str)> = more.to_vec();
    if let Some(e) = &eps {
        if !epsilon.is_some_and(f64::is_finite) {
            bail!("--epsilon must be a finite number, got {e}");
        }
        given.push(("epsilon", e));
    }
    if let Some(c) = coefficients {
        given.push(("coefficients", c));
    }
    nearopt::activation::registry::from_flags(kind, &given).map_err(|e| anyhow::anyhow!(e))
}

/// The distribution named by `--weights`.
fn weights(args: &Args) -> Result<WeightDistribution> {
    let kind = args.weights.trim().to_ascii_lowercase();
    if args.nu.is_some() && kind != "student-t" {
        bail!("--nu only applies to --weights student-t (got `{kind}`)");
    }
    let dist = match kind.as_str() {
        "normal" => WeightDistribution::Normal,
        "uniform" => WeightDistribution::Uniform,
        "rademacher" => WeightDistribution::Rademacher,
        "laplace" => WeightDistribution::Laplace,
        "student-t" => {
            let nu = args.nu.unwrap_or(5.0);
            if !(nu.is_finite() && nu > 2.0) {
                bail!("--nu must be a finite number > 2 (finite variance), got {nu}");
            }
            WeightDistribution::StudentT { nu }
        }
        other => bail!(
            "unknown weight distribution `{other}` for --weights (known: normal, uniform, rademacher, laplace, student-t)"
        ),
    };
    dist.validate()?;
    Ok(dist)
}

/// Longest text of one number in a network file: the shortest round-trip form of an f64 is at
/// most 24 characters (`-2.2250738585072014e-308`), plus its separator.
const MAX_NUMBER_TEXT_BYTES: u128 = 25;

/// Refuses, before sampling, a teacher whose weights and network-file text would not fit in
/// memory (`NEAROPT_MEMORY_LIMIT` honoured): the weights (twice while sampling) and the JSON
/// text (up to three copies while it is assembled) — the text is ~3× larger than `W1`.
fn check_teacher_size(params: usize, ni: usize, nh: usize) -> Result<()> {
    let bytes = (params as u128)
        .checked_mul(16 + 3 * MAX_NUMBER_TEXT_BYTES)
        .and_then(|b| b.checked_add(nh as u128 * 8));
    crate::guard::check_memory(
        bytes,
        &format!(
            "teacher --ni {ni} --nh {nh}: {params} weights and their network-file text (up to {})",
            crate::guard::readable_bytes(params as u128 * MAX_NUMBER_TEXT_BYTES)
        ),
    )?;
    // Drawing and formatting a weight costs ~100 ns: ~1000 operation equivalents.
    crate::guard::check_work(
        (params as u128).checked_mul(1000),
        &format!("teacher --ni {ni} --nh {nh} ({params} weights)"),
    )
}

/// Runs `nearopt teacher`.
pub fn run(args: Args) -> Result<()> {
    if args.ni == 0 {
        bail!("--ni must be at least 1");
    }
    if args.nh == 0 {
        bail!("--nh must be at least 1");
    }
    let params = args
        .ni
        .checked_mul(args.nh)
        .and_then(|p| p.checked_add(args.nh));
    let Some(params) = params else {
        bail!("--ni {} × --nh {} parameters overflow", args.ni, args.nh);
    };
    check_teacher_size(params, args.ni, args.nh)?;
    let act = activation(&args)?;
    act.validate()?;
    let dist = weights(&args)?;
    if let Some(out) = &args.out {
        crate::io::check_output_path(out, "--out")?;
    }
    let net = sample_teacher(act, args.ni, args.nh, dist, args.seed, args.stream)?;
    let net = if args.b1_std.is_some() || args.b2_std.is_some() {
        nearopt::teacher::with_sampled_biases(
            net,
            args.b1_std,
            args.b2_std,
            args.seed,
            args.stream,
        )?
    } else {
        net
    };
    let mut text = network_json(&net);
    text.push('\n');
    match &args.out {
        Some(path) => {
            write_atomic(path, text.as_bytes())?;
            // The network file has no place for provenance: record it on stderr.
            eprintln!(
                "wrote {}: {} teacher, Ni = {}, Nh = {}, {} weights, seed {}, stream {}",
                path.display(),
                net.activation().name(),
                net.ni(),
                net.nh(),
                dist.name(),
                args.seed,
                args.stream
            );
        }
        None => print!("{text}"),
    }
    Ok(())
}
