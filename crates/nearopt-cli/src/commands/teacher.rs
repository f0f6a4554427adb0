//! `nearopt teacher` (being built: see the issue tracker).

/// Options of `nearopt teacher`.
#[derive(clap::Args)]
pub struct Args {}

/// Runs `nearopt teacher`.
pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`nearopt teacher` is not built yet")
}
