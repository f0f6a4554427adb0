//! `nearopt bench` (being built: see the issue tracker).

/// Options of `nearopt bench`.
#[derive(clap::Args)]
pub struct Args {}

/// Runs `nearopt bench`.
pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`nearopt bench` is not built yet")
}
