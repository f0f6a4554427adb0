//! `nearopt reproduce` (being built: see the issue tracker).

/// Options of `nearopt reproduce`.
#[derive(clap::Args)]
pub struct Args {}

/// Runs `nearopt reproduce`.
pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`nearopt reproduce` is not built yet")
}
