//! `nearopt hessian` (being built: see the issue tracker).

/// Options of `nearopt hessian`.
#[derive(clap::Args)]
pub struct Args {}

/// Runs `nearopt hessian`.
pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`nearopt hessian` is not built yet")
}
