//! `nearopt`: exact population Hessians, spectra, learning dynamics and the reproduction report
//! of "A Teacher-Student Perspective on the Dynamics of Learning Near the Optimal Point".

mod commands;
mod io;
mod plot;
mod plot_density;
mod report;

use clap::{Parser, Subcommand};

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
    /// Write the exact population Hessian at the optimum as a D×D float64 .npy.
    Hessian(commands::hessian::Args),
    /// Eigenvalues, rank and λ_min of the Hessian at the optimum (exact, or from samples).
    Spectrum(commands::spectrum::Args),
    /// Train a student started near the teacher and compare its loss with Eq. 7.
    Train(commands::train::Args),
    /// Reproduce every figure and claim of the paper into an HTML report.
    Reproduce(commands::reproduce::Args),
    /// Benchmark Hessian assembly and spectra (optionally against NumPy).
    Bench(commands::bench::Args),
    /// Spectral density (SLQ), exact trace and top eigenvalues without forming the Hessian.
    Density(commands::density::Args),
}

fn main() {
    let cli = Cli::parse();
    if let Some(t) = cli.threads {
        if t == 0 {
            eprintln!("error: --threads must be at least 1");
            std::process::exit(2);
        }
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
        Command::Hessian(a) => commands::hessian::run(a),
        Command::Spectrum(a) => commands::spectrum::run(a),
        Command::Train(a) => commands::train::run(a),
        Command::Reproduce(a) => commands::reproduce::run(a),
        Command::Bench(a) => commands::bench::run(a),
        Command::Density(a) => commands::density::run(a),
    };
    if let Err(e) = result {
        // One line: the causes joined, no backtrace.
        let msg = e
            .chain()
            .map(|c| c.to_string())
            .collect::<Vec<_>>()
            .join(": ");
        eprintln!("error: {}", msg.replace('\n', " "));
        std::process::exit(1);
    }
}
