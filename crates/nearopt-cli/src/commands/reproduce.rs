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
    /// Large-N Figures 4–5 by stochastic Lanczos quadrature at these sizes N = Ni = Nh
    /// (comma-separated, e.g. `100,316,1000`; overrides `large_n_sizes`); the estimated time is
    /// printed before a long run.
    #[arg(long, value_delimiter = ',')]
    pub large_n: Option<Vec<usize>>,
}

/// Progress on stderr: indicatif bars on a terminal; plain lines otherwise (CI logs, batch jobs),
/// one when a step starts, at every quarter, and when it ends.
struct Bars {
    terminal: bool,
    bar: Mutex<Option<indicatif::ProgressBar>>,
    plain: Mutex<Option<Plain>>,
}

/// A step's state for the plain-line progress.
struct Plain {
    name: String,
    total: u64,
    done: u64,
    next_quarter: u64,
    started: std::time::Instant,
}

impl Bars {
    fn new() -> Self {
        use std::io::IsTerminal;
        Self {
            terminal: std::io::stderr().is_terminal(),
            bar: Mutex::new(None),
            plain: Mutex::new(None),
        }
    }
}

impl Progress for Bars {
    fn start(&self, name: &str, total: u64) {
        if !self.terminal {
            eprintln!("reproduce: {name}: {total} steps");
            if let Ok(mut p) = self.plain.lock() {
                *p = Some(Plain {
                    name: name.to_string(),
                    total,
                    done: 0,
                    next_quarter: 1,
                    started: std::time::Instant::now(),
                });
            }
            return;
        }
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
        if !self.terminal {
            if let Ok(mut p) = self.plain.lock() {
                if let Some(p) = p.as_mut() {
                    p.done += n;
                    // Quarters only for steps long enough to want them.
                    while p.total >= 8
                        && p.next_quarter < 4
                        && p.done * 4 >= p.next_quarter * p.total
                    {
                        eprintln!(
                            "reproduce: {}: {}/{} ({:.1} s)",
                            p.name,
                            p.done,
                            p.total,
                            p.started.elapsed().as_secs_f64()
                        );
                        p.next_quarter += 1;
                    }
                }
            }
            return;
        }
        if let Ok(b) = self.bar.lock() {
            if let Some(b) = b.as_ref() {
                b.inc(n);
            }
        }
    }
    fn finish(&self) {
        if !self.terminal {
            if let Ok(mut p) = self.plain.lock() {
                if let Some(p) = p.take() {
                    eprintln!(
                        "reproduce: {}: done in {:.1} s",
                        p.name,
                        p.started.elapsed().as_secs_f64()
                    );
                }
            }
            return;
        }
        if let Ok(mut b) = self.bar.lock() {
            if let Some(b) = b.take() {
                b.finish_and_clear();
            }
        }
    }
}

/// Largest `--config` file read (a configuration is a few hundred bytes).
const MAX_CONFIG_BYTES: u64 = 1 << 20;

/// At most this many characters of input are echoed in an error message.
const ECHO_CHARS: usize = 80;

/// `text` cut to [`ECHO_CHARS`] characters, with `…` when cut.
fn echo(text: &str) -> String {
    let mut it = text.chars();
    let head: String = it.by_ref().take(ECHO_CHARS).collect();
    if it.next().is_some() {
        format!("{head}…")
    } else {
        head
    }
}

/// A message cut to a few times [`ECHO_CHARS`] (serde's messages quote the offending value).
fn echo_message(text: &str) -> String {
    let mut it = text.chars();
    let head: String = it.by_ref().take(4 * ECHO_CHARS).collect();
    if it.next().is_some() {
        format!("{head}…")
    } else {
        head
    }
}

/// The effective configuration: the paper's (or `--quick`) defaults, overridden key by key by
/// `--config`, then by `--seed`.
pub fn effective_config(
    quick: bool,
    file: Option<&Path>,
    seed: Option<u64>,
) -> Result<ReproduceConfig> {
    let text = match file {
        Some(path) => Some((
            crate::io::read_text_capped(path, MAX_CONFIG_BYTES, "--config")?,
            format!("--config {}", path.display()),
        )),
        None => None,
    };
    effective_config_from_text(
        quick,
        text.as_ref().map(|(t, shown)| (t.as_str(), shown.as_str())),
        seed,
    )
}

/// [`effective_config`] with the overrides given as JSON text; `config = (text, shown)`, where
/// `shown` names the source in error messages (`--config FILE`, or `config` for the Python
/// package's dict).
pub fn effective_config_from_text(
    quick: bool,
    config: Option<(&str, &str)>,
    seed: Option<u64>,
) -> Result<ReproduceConfig> {
    let base = if quick {
        ReproduceConfig::quick()
    } else {
        ReproduceConfig::paper()
    };
    let mut value = serde_json::to_value(&base)?;
    if let Some((text, shown)) = config {
        // Exact numbers, and duplicate keys refused (the last would silently win).
        let over = nearopt::network_file::parse_json_exact(text)
            .map_err(|e| anyhow::anyhow!("{shown}: {}", echo_message(&e.to_string())))?;
        let Value::Object(over) = over else {
            bail!("{shown}: expected a JSON object of configuration keys");
        };
        let Value::Object(map) = &mut value else {
            unreachable!("config serialises to an object")
        };
        for (k, v) in over {
            if !map.contains_key(&k) {
                bail!("{shown}: unknown key `{}`", echo(&k));
            }
            // Each key alone on the defaults, so a type error names its key.
            let mut one = map.clone();
            one.insert(k.clone(), v.clone());
            if let Err(e) = serde_json::from_value::<ReproduceConfig>(Value::Object(one)) {
                bail!("{shown}: key `{k}`: {}", echo_message(&e.to_string()));
            }
            map.insert(k, v);
        }
    }
    let mut cfg: ReproduceConfig = serde_json::from_value(value)
        .map_err(|e| anyhow::anyhow!("--config: {}", echo_message(&e.to_string())))?;
    if quick {
        cfg.quick = true;
    }
    if let Some(s) = seed {
        cfg.seed = s;
    }
    cfg.validate()?;
    // The memory and work it implies, before anything starts.
    nearopt::experiments::budget::check(&cfg)?;
    Ok(cfg)
}

/// `DIR/.NAME.SUFFIX-PID` beside `out` (a hidden sibling on the same file system, so that the
/// final rename is atomic).
fn sibling(out: &Path, suffix: &str) -> Result<PathBuf> {
    let name = out
        .file_name()
        .with_context(|| format!("--out {}: needs a directory name", out.display()))?
        .to_string_lossy()
        .into_owned();
    let parent = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    Ok(parent.join(format!(".{name}.{suffix}-{}", std::process::id())))
}

/// Removes `.NAME.partial-PID` / `.NAME.old-PID` siblings left by runs that were killed (their
/// process no longer exists).
fn remove_stale_siblings(out: &Path) {
    let (Some(name), Some(parent)) = (out.file_name(), out.parent()) else {
        return;
    };
    let parent = if parent.as_os_str().is_empty() {
        Path::new(".")
    } else {
        parent
    };
    let name = name.to_string_lossy();
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for e in entries.flatten() {
        let f = e.file_name().to_string_lossy().into_owned();
        for suffix in ["partial", "old"] {
            let prefix = format!(".{name}.{suffix}-");
            if let Some(pid) = f.strip_prefix(&prefix) {
                let alive = pid
                    .parse::<u32>()
                    .map(|p| Path::new(&format!("/proc/{p}")).exists())
                    .unwrap_or(true);
                if !alive && pid.parse::<u32>().is_ok() {
                    let _ = std::fs::remove_dir_all(e.path());
                }
            }
        }
    }
}

/// Writes every file of the report into `dir` (which exists and is empty).
fn write_report(
    dir: &Path,
    cfg: &ReproduceConfig,
    output: &experiments::Output,
    elapsed: f64,
) -> Result<usize> {
    let mut files = Vec::new();
    for fig in &output.figures {
        let ff = report::FigureFiles::of(&fig.id);
        write_atomic(&dir.join(&ff.svg), plot::svg(fig)?.as_bytes())?;
        plot::write_png(fig, &dir.join(&ff.png))?;
        write_atomic(&dir.join(&ff.csv), plot::csv(fig).as_bytes())?;
        files.push(ff);
    }
    let config = serde_json::to_value(cfg)?;
    let summary = report::Summary {
        nearopt_version: env!("CARGO_PKG_VERSION"),
        config: &config,
        claims: &output.claims,
        figures: &files,
    };
    write_atomic(
        &dir.join("summary.json"),
        serde_json::to_string_pretty(&summary)?.as_bytes(),
    )?;
    write_atomic(
        &dir.join("index.html"),
        report::html(&config, &output.claims, &output.figures, elapsed).as_bytes(),
    )?;
    Ok(files.len())
}

/// Moves the finished report `tmp` to `out`, replacing a previous report only now.
fn move_into_place(tmp: &Path, out: &Path) -> Result<()> {
    if out.exists() {
        let old = sibling(out, "old")?;
        std::fs::rename(out, &old)
            .with_context(|| format!("cannot move the previous report {} aside", out.display()))?;
        if let Err(e) = std::fs::rename(tmp, out) {
            let _ = std::fs::rename(&old, out);
            return Err(e).with_context(|| format!("cannot move the report to {}", out.display()));
        }
        let _ = std::fs::remove_dir_all(&old);
    } else {
        std::fs::rename(tmp, out)
            .with_context(|| format!("cannot move the report to {}", out.display()))?;
    }
    Ok(())
}

/// What [`reproduce_into`] produced: the claims and figures, the run time, the figure count.
pub struct Reproduced {
    /// The experiments' output (claims, figures).
    pub output: experiments::Output,
    /// Seconds spent computing (before writing).
    pub elapsed_s: f64,
    /// Figures written (each as SVG, PNG and CSV).
    pub figures: usize,
}

/// Computes every experiment of `cfg` first, writes the report into a hidden directory beside
/// `out`, and only then moves it into place (the previous report stays until that moment; a
/// failure or an interruption leaves `out` as it was). Shared by `nearopt reproduce` and the
/// Python package's `nearopt.reproduce`.
pub fn reproduce_into(
    cfg: &ReproduceConfig,
    out: &Path,
    progress: &dyn experiments::Progress,
) -> Result<Reproduced> {
    if out.exists() && !out.is_dir() {
        bail!("--out {}: exists and is not a directory", out.display());
    }
    // Registered before it is created: an error, Ctrl-C or SIGTERM removes it (io::TempPath).
    let partial = crate::io::TempPath::register(sibling(out, "partial")?);
    let tmp = partial.path();
    remove_stale_siblings(out);
    plot::register_font()?;
    let started = std::time::Instant::now();
    let output = experiments::run_all(cfg, progress)?;
    let elapsed_s = started.elapsed().as_secs_f64();
    if let Some(parent) = tmp.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    std::fs::create_dir(tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
    // On failure `partial` is removed when it goes out of scope; on success it has been renamed.
    let figures = write_report(tmp, cfg, &output, elapsed_s)
        .and_then(|n| move_into_place(tmp, out).map(|_| n))?;
    Ok(Reproduced {
        output,
        elapsed_s,
        figures,
    })
}

/// Runs `nearopt reproduce` ([`reproduce_into`] with progress bars or plain progress lines).
pub fn run(args: Args) -> Result<()> {
    let mut cfg = effective_config(args.quick, args.config.as_deref(), args.seed)?;
    if let Some(sizes) = args.large_n {
        cfg.large_n_sizes = sizes;
        cfg.validate().context("--large-n")?;
    }
    let large_n_s = experiments::large_n::estimate_seconds(&cfg);
    if large_n_s > 60.0 {
        eprintln!(
            "reproduce: the large-N figures (N = {:?}) take about {:.0} min on 2 cores (estimated)",
            cfg.large_n_sizes,
            large_n_s / 60.0
        );
    }
    let bars = Bars::new();
    let r = reproduce_into(&cfg, &args.out, &bars)?;
    let counts =
        |v: experiments::Verdict| r.output.claims.iter().filter(|c| c.verdict == v).count();
    eprintln!(
        "wrote {} ({} claims: {} not reproduced, {} inconclusive; {} figures) in {:.1} s",
        args.out.join("index.html").display(),
        r.output.claims.len(),
        counts(experiments::Verdict::NotReproduced),
        counts(experiments::Verdict::Inconclusive),
        r.figures,
        r.elapsed_s,
    );
    Ok(())
}
