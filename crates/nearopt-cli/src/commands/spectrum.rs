//! `nearopt spectrum` (being built: see the issue tracker).

/// Options of `nearopt spectrum`.
#[derive(clap::Args)]
pub struct Args {}

/// Runs `nearopt spectrum`.
pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`nearopt spectrum` is not built yet")
}
