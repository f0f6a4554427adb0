//! `nearopt`: exact population Hessians, spectra, learning dynamics and the reproduction report
//! of "A Teacher-Student Perspective on the Dynamics of Learning Near the Optimal Point".

use clap::{Parser, Subcommand};
use nearopt_cli::{commands, guard, io};

/// Curvature and learning dynamics of two-layer teacher-student networks near the optimum.
#[derive(Parser)]
#[command(name = "nearopt", version, about, long_about = None)]
struct Cli {
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long, global = true)]
    threads: Option<usize>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Sample a teacher network and write it as a network file (INTERFACE.md).
    Teacher(commands::teacher::Args),
    /// Write a wider student at an optimum of a teacher (zero, split, cancel, mirror).
    Student(commands::student::Args),
    /// Write the exact population Hessian at the optimum as a D×D float64 .npy.
    Hessian(commands::hessian::Args),
    /// Eigenvalues, rank and λ_min of the Hessian at the optimum (exact, or from samples).
    Spectrum(commands::spectrum::Args),
    /// Rank of the Hessian at the optimum, certified (exact or rigorous interval arithmetic).
    Rank(commands::rank::Args),
    /// Train a student started near the teacher and compare its loss with Eq. 7.
    Train(commands::train::Args),
    /// Reproduce every figure and claim of the paper into an HTML report.
    Reproduce(commands::reproduce::Args),
    /// Benchmark Hessian assembly and spectra (optionally against NumPy).
    Bench(commands::bench::Args),
    /// Spectral density (SLQ), exact trace and top eigenvalues without forming the Hessian.
    Density(commands::density::Args),
}

/// Longest error line printed (errors never echo unbounded input).
const MAX_ERROR_CHARS: usize = 600;

/// clap's usage error as ONE line (INTERFACE.md): its first meaningful line, any `tip:` it
/// gives, and "see --help"; echoed values are truncated.
fn usage_error_line(e: &clap::Error) -> String {
    if e.kind() == clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
        use clap::CommandFactory;
        let names: Vec<String> = Cli::command()
            .get_subcommands()
            .map(|c| c.get_name().to_string())
            .filter(|n| n != "help")
            .collect();
        return format!(
            "error: a command is required: one of {} (see --help)",
            names.join(", ")
        );
    }
    let text = e.render().to_string();
    // The first paragraph (e.g. "the following required arguments were not provided:" and the
    // indented list under it) joined into one line, then clap's tips.
    let first: Vec<&str> = text
        .lines()
        .map(str::trim)
        .skip_while(|l| l.is_empty())
        .take_while(|l| !l.is_empty())
        .collect();
    let first = shorten_quoted(&first.join(" "));
    let first = first.trim_start_matches("error:").trim();
    let mut line = guard::truncate(
        if first.is_empty() {
            "invalid command line"
        } else {
            first
        },
        300,
    );
    for tip in text
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("tip:"))
    {
        line.push_str("; ");
        line.push_str(&guard::truncate(tip, 150));
    }
    format!("error: {line} (see --help)")
}

/// Each `'…'`-quoted span (clap quotes the values it echoes) cut to 60 characters, so that the
/// flag named after a huge value is still seen.
fn shorten_quoted(s: &str) -> String {
    s.split('\'')
        .enumerate()
        .map(|(i, part)| {
            if i % 2 == 1 {
                guard::truncate(part, 60)
            } else {
                part.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("'")
}

/// `--threads`: at least 1, at most [`THREADS_PER_CORE`] × the available cores (more only adds
/// contention and memory; ten thousand threads once took 40 s and ran out of memory), with a
/// warning when capped.
fn thread_count(requested: usize) -> std::result::Result<usize, String> {
    if requested == 0 {
        return Err("--threads must be at least 1".to_string());
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let cap = cores.saturating_mul(THREADS_PER_CORE);
    if requested > cap {
        eprintln!(
            "warning: --threads {requested} capped at {cap} ({THREADS_PER_CORE} × the {cores} available cores)"
        );
        return Ok(cap);
    }
    Ok(requested)
}

/// The most worker threads per available core that `--threads` may ask for.
const THREADS_PER_CORE: usize = 4;

fn main() {
    io::install_signal_cleanup();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
                e.exit();
            }
            eprintln!("{}", usage_error_line(&e));
            std::process::exit(2);
        }
    };
    if let Some(t) = cli.threads {
        let t = match thread_count(t) {
            Ok(t) => t,
            Err(msg) => {
                eprintln!("error: {msg}");
                std::process::exit(2);
            }
        };
        if let Err(e) = rayon::ThreadPoolBuilder::new()
            .num_threads(t)
            .build_global()
        {
            eprintln!("error: could not set up {t} threads: {e}");
            std::process::exit(2);
        }
    }
    let result = match cli.command {
        Command::Teacher(a) => commands::teacher::run(a),
        Command::Student(a) => commands::student::run(a),
        Command::Hessian(a) => commands::hessian::run(a),
        Command::Spectrum(a) => commands::spectrum::run(a),
        Command::Rank(a) => commands::rank::run(a),
        Command::Train(a) => commands::train::run(a),
        Command::Reproduce(a) => commands::reproduce::run(a),
        Command::Bench(a) => commands::bench::run(a),
        Command::Density(a) => commands::density::run(a),
    };
    if let Err(e) = result {
        // One line: the causes joined, no backtrace, bounded length.
        let msg = e
            .chain()
            .map(|c| c.to_string())
            .collect::<Vec<_>>()
            .join(": ");
        eprintln!(
            "error: {}",
            guard::truncate(&msg.replace('\n', " "), MAX_ERROR_CHARS)
        );
        std::process::exit(1);
    }
}
