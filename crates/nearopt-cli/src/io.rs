//! File formats and safe writing: network files (INTERFACE.md), `.npy` matrices, atomic
//! writes, and the progress indicator for long dense computations.

use anyhow::{anyhow, bail, Context, Result};
use nearopt::network_file::{parse_network, MAX_NETWORK_FILE_BYTES};
use nearopt::Network;
use std::path::{Path, PathBuf};

pub use nearopt::network_file::network_json;

/// Reads and validates a network file (the format is the library's, [`nearopt::network_file`]),
/// reading at most [`MAX_NETWORK_FILE_BYTES`], with messages that name the key, row or column
/// at fault.
pub fn read_network(path: &Path) -> Result<Network> {
    let text = read_text_capped(path, MAX_NETWORK_FILE_BYTES, "network file")?;
    parse_network(&text).with_context(|| format!("invalid network file {}", path.display()))
}

/// Reads a UTF-8 text file of at most `cap` bytes; a longer one (or an endless stream such as
/// `/dev/zero`) is refused after reading `cap + 1` bytes, naming the limit.
pub fn read_text_capped(path: &Path, cap: u64, what: &str) -> Result<String> {
    use std::io::Read;
    let file = std::fs::File::open(path)
        .with_context(|| format!("cannot read {what} {}", path.display()))?;
    let mut bytes = Vec::new();
    file.take(cap + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("cannot read {what} {}", path.display()))?;
    if bytes.len() as u64 > cap {
        bail!(
            "{what} {} is larger than the {} MiB this program reads (not a {what}?)",
            path.display(),
            cap >> 20
        );
    }
    String::from_utf8(bytes)
        .map_err(|e| anyhow!("{what} {} is not UTF-8 text: {e}", path.display()))
}

/// Writes `bytes` to `path` atomically: a temporary file beside it, then a rename, so a failed
/// or interrupted run leaves no partial file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic_with(path, |f| {
        use std::io::Write;
        f.write_all(bytes)?;
        Ok(())
    })
}

/// Like [`write_atomic`], streaming through `fill`.
pub fn write_atomic_with(
    path: &Path,
    fill: impl FnOnce(&mut std::io::BufWriter<std::fs::File>) -> Result<()>,
) -> Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if !dir.is_dir() {
        bail!(
            "cannot write {}: directory {} does not exist",
            path.display(),
            dir.display()
        );
    }
    let name = path
        .file_name()
        .ok_or_else(|| anyhow!("cannot write {}: not a file path", path.display()))?;
    let tmp: PathBuf = dir.join(format!(
        ".{}.tmp{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| -> Result<()> {
        let file = std::fs::File::create(&tmp)
            .with_context(|| format!("cannot create {}", tmp.display()))?;
        let mut w = std::io::BufWriter::new(file);
        fill(&mut w)?;
        use std::io::Write;
        w.flush()?;
        w.into_inner().map_err(|e| anyhow!("{e}"))?.sync_all()?;
        std::fs::rename(&tmp, path)
            .with_context(|| format!("cannot move the output into place at {}", path.display()))?;
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Writes the row-major `rows × cols` matrix `data` as a float64 `.npy` file in C order
/// (`INTERFACE.md`: Hessians and eigenvectors), atomically.
pub fn write_npy_matrix(path: &Path, rows: usize, cols: usize, data: &[f64]) -> Result<()> {
    if data.len() != rows * cols {
        bail!(
            "internal: {} numbers for a {rows} × {cols} matrix",
            data.len()
        );
    }
    write_atomic_with(path, |w| {
        use npyz::WriterBuilder;
        let mut npy = npyz::WriteOptions::<f64>::new()
            .default_dtype()
            .shape(&[rows as u64, cols as u64])
            .writer(w)
            .begin_nd()
            .with_context(|| format!("cannot write {}", path.display()))?;
        npy.extend(data.iter().copied())
            .with_context(|| format!("cannot write {}", path.display()))?;
        npy.finish()
            .with_context(|| format!("cannot write {}", path.display()))?;
        Ok(())
    })
}

/// Fails early, before a long computation, if `path` could not be written: its directory must
/// exist (the write itself stays atomic, see [`write_atomic_with`]).
pub fn check_output_path(path: &Path, flag: &str) -> Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if !dir.is_dir() {
        bail!(
            "cannot write {flag} {}: directory {} does not exist",
            path.display(),
            dir.display()
        );
    }
    if path.is_dir() {
        bail!("cannot write {flag} {}: it is a directory", path.display());
    }
    Ok(())
}

/// Dimension from which long dense steps (assembly, eigendecomposition) show a spinner.
pub const PROGRESS_FROM_DIM: usize = 2000;

/// Runs `work`, showing an elapsed-time spinner with `message` on stderr while it runs when
/// `dim ≥` [`PROGRESS_FROM_DIM`] (indicatif draws only on a terminal: stdout stays clean and
/// redirected stderr gets nothing).
pub fn with_progress<T>(dim: usize, message: &str, work: impl FnOnce() -> T) -> T {
    if dim < PROGRESS_FROM_DIM {
        return work();
    }
    let bar =
        indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr());
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {msg} [{elapsed_precise}]")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    bar.set_message(message.to_string());
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    let out = work();
    bar.finish_and_clear();
    out
}
