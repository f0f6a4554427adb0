//! `nearopt reproduce`: runs every experiment of the paper and writes the report directory
//! (`index.html`, each figure as SVG/PNG/CSV, `summary.json` per `INTERFACE.md`).

use crate::io::write_atomic;
use crate::{plot, report};
use anyhow::{bail, Context, Result};
use nearopt::experiments::{self, Progress, ReproduceConfig};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Options of `nearopt reproduce`.
#[derive(clap::Args)]
pub struct Args {
    /// Output directory (created if missing).
    #[arg(long, default_value = "report")]
    pub out: PathBuf,
    /// Smaller ensembles and sizes (seconds instead of minutes).
    #[arg(long)]
    pub quick: bool,
    /// JSON file overriding any configuration key (see the report's configuration section).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Master seed (overrides the configuration's `seed`).
    #[arg(long)]
    pub seed: Option<u64>,
}

/// indicatif progress bars on stderr (drawn only on a terminal).
struct Bars {
    bar: Mutex<Option<indicatif::ProgressBar>>,
}

impl Progress for Bars {
    fn start(&self, name: &str, total: u64) {
        let bar = indicatif::ProgressBar::with_draw_target(
            Some(total),
            indicatif::ProgressDrawTarget::stderr(),
        );
        bar.set_style(
            indicatif::ProgressStyle::with_template("{msg:32} [{bar:30}] {pos}/{len} {elapsed}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar.set_message(name.to_string());
        if let Ok(mut b) = self.bar.lock() {
            *b = Some(bar);
        }
    }
    fn inc(&self, n: u64) {
        if let Ok(b) = self.bar.lock() {
            if let Some(b) = b.as_ref() {
                b.inc(n);
            }
        }
    }
    fn finish(&self) {
        if let Ok(mut b) = self.bar.lock() {
            if let Some(b) = b.take() {
                b.finish_and_clear();
            }
        }
    }
}

/// The effective configuration: the paper's (or `--quick`) defaults, overridden key by key by
/// `--config`, then by `--seed`.
pub fn effective_config(
    quick: bool,
    file: Option<&Path>,
    seed: Option<u64>,
) -> Result<ReproduceConfig> {
    let base = if quick {
        ReproduceConfig::quick()
    } else {
        ReproduceConfig::paper()
    };
    let mut value = serde_json::to_value(&base)?;
    if let Some(path) = file {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read --config {}", path.display()))?;
        let over: Value = serde_json::from_str(&text)
            .map_err(|e| anyhow::anyhow!("--config {}: not valid JSON: {e}", path.display()))?;
        let Value::Object(over) = over else {
            bail!(
                "--config {}: expected a JSON object of configuration keys",
                path.display()
            );
        };
        let Value::Object(map) = &mut value else {
            unreachable!("config serialises to an object")
        };
        for (k, v) in over {
            if !map.contains_key(&k) {
                bail!("--config {}: unknown key `{k}`", path.display());
            }
            map.insert(k, v);
        }
    }
    let mut cfg: ReproduceConfig =
        serde_json::from_value(value).map_err(|e| anyhow::anyhow!("--config: {e}"))?;
    if quick {
        cfg.quick = true;
    }
    if let Some(s) = seed {
        cfg.seed = s;
    }
    cfg.validate()?;
    Ok(cfg)
}

/// Runs `nearopt reproduce`.
pub fn run(args: Args) -> Result<()> {
    let cfg = effective_config(args.quick, args.config.as_deref(), args.seed)?;
    if args.out.exists() && !args.out.is_dir() {
        bail!(
            "--out {}: exists and is not a directory",
            args.out.display()
        );
    }
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create --out {}", args.out.display()))?;
    plot::register_font()?;
    let started = std::time::Instant::now();
    let bars = Bars {
        bar: Mutex::new(None),
    };
    let output = experiments::run_all(&cfg, &bars)?;
    let elapsed = started.elapsed().as_secs_f64();
    let mut files = Vec::new();
    for fig in &output.figures {
        let ff = report::FigureFiles::of(&fig.id);
        write_atomic(&args.out.join(&ff.svg), plot::svg(fig)?.as_bytes())?;
        plot::write_png(fig, &args.out.join(&ff.png))?;
        write_atomic(&args.out.join(&ff.csv), plot::csv(fig).as_bytes())?;
        files.push(ff);
    }
    let config = serde_json::to_value(&cfg)?;
    let summary = report::Summary {
        nearopt_version: env!("CARGO_PKG_VERSION"),
        config: &config,
        claims: &output.claims,
        figures: &files,
    };
    write_atomic(
        &args.out.join("summary.json"),
        serde_json::to_string_pretty(&summary)?.as_bytes(),
    )?;
    write_atomic(
        &args.out.join("index.html"),
        report::html(&config, &output.claims, &output.figures, elapsed).as_bytes(),
    )?;
    let bad = output
        .claims
        .iter()
        .filter(|c| c.verdict == experiments::Verdict::NotReproduced)
        .count();
    eprintln!(
        "wrote {} ({} claims, {bad} not reproduced; {} figures) in {elapsed:.1} s",
        args.out.join("index.html").display(),
        output.claims.len(),
        files.len()
    );
    Ok(())
}
