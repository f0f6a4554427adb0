//! `nearopt train` (being built: see the issue tracker).

/// Options of `nearopt train`.
#[derive(clap::Args)]
pub struct Args {}

/// Runs `nearopt train`.
pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`nearopt train` is not built yet")
}
