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
/// or interrupted run leaves no partial file (see [`write_atomic_with`] for FIFOs, devices and
/// symlinks).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic_with(path, |f| {
        use std::io::Write;
        f.write_all(bytes)?;
        Ok(())
    })
}

/// Temporary paths (files of atomic writes, scratch directories) that a signal handler removes
/// before the process exits: nothing is left behind on SIGINT, SIGTERM or SIGHUP.
static TEMPORARIES: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());

fn temporaries() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    TEMPORARIES.lock().unwrap_or_else(|e| e.into_inner())
}

/// A registered temporary path: removed (file or directory tree) when dropped, on every error
/// path, and by the signal handler ([`install_signal_cleanup`]) if the process is interrupted.
pub struct TempPath(PathBuf);

impl TempPath {
    /// Registers `path` (before it is created, so that an interruption in between is covered).
    pub fn register(path: PathBuf) -> Self {
        temporaries().push(path.clone());
        TempPath(path)
    }
    /// The path.
    pub fn path(&self) -> &Path {
        &self.0
    }
    /// The temporary has been moved into place: forget it without removing anything.
    pub fn keep(self) {
        temporaries().retain(|p| p != &self.0);
        std::mem::forget(self);
    }
}

impl Drop for TempPath {
    fn drop(&mut self) {
        // Hold the lock while removing, so that the signal handler never races with us.
        let mut list = temporaries();
        remove_path(&self.0);
        list.retain(|p| p != &self.0);
    }
}

fn remove_path(p: &Path) {
    match std::fs::symlink_metadata(p) {
        Ok(m) if m.is_dir() => {
            let _ = std::fs::remove_dir_all(p);
        }
        Ok(_) => {
            let _ = std::fs::remove_file(p);
        }
        Err(_) => {}
    }
}

static CHILDREN: std::sync::Mutex<Vec<u32>> = std::sync::Mutex::new(Vec::new());

fn children() -> std::sync::MutexGuard<'static, Vec<u32>> {
    CHILDREN.lock().unwrap_or_else(|e| e.into_inner())
}

/// Runs `cmd` to completion as a registered child: should this process be interrupted meanwhile,
/// the signal handler ([`install_signal_cleanup`]) passes the signal on to the child before it
/// removes the temporaries, so no orphan keeps running (or writing into them).
pub fn run_child(cmd: &mut std::process::Command) -> std::io::Result<std::process::ExitStatus> {
    // Hold the registry while spawning, so that a signal cannot fall between spawn and register.
    let mut child = {
        let mut list = children();
        let child = cmd.spawn()?;
        list.push(child.id());
        child
    };
    let status = child.wait();
    children().retain(|p| *p != child.id());
    if let Ok(st) = &status {
        yield_to_the_signal_handler(st);
    }
    status
}

/// Set by the signal handler before it passes the signal on to the children.
static INTERRUPTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// A child that ended because this process was interrupted (the handler passed the signal on,
/// or the terminal sent it to the whole process group) must not let the caller report the
/// child's failure and exit with 1 before the handler exits with 128 + the signal: if the
/// handler has started, or starts within a second of a child killed by a signal, this thread
/// waits for the exit it is about to make.
fn yield_to_the_signal_handler(status: &std::process::ExitStatus) {
    use std::sync::atomic::Ordering::SeqCst;
    let park_forever = || loop {
        std::thread::park();
    };
    if INTERRUPTED.load(SeqCst) {
        park_forever();
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if status.signal().is_some() {
            let start = std::time::Instant::now();
            while start.elapsed() < std::time::Duration::from_secs(1) {
                if INTERRUPTED.load(SeqCst) {
                    park_forever();
                }
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
        }
    }
    #[cfg(not(unix))]
    let _ = status;
}

/// Installs the handler of SIGINT, SIGTERM and SIGHUP: it removes every registered temporary
/// ([`TempPath`]), after passing the signal on to the registered child processes
/// ([`run_child`]), and exits with 128 + the signal number, as a shell reports a killed program.
/// It runs on its own thread (signal-hook's iterator), not inside the signal context, and holds
/// the registry's lock until the process exits, so no new temporary appears after the cleanup.
pub fn install_signal_cleanup() {
    #[cfg(unix)]
    {
        use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
        let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) else {
            return;
        };
        std::thread::spawn(move || {
            if let Some(sig) = signals.forever().next() {
                INTERRUPTED.store(true, std::sync::atomic::Ordering::SeqCst);
                for pid in children().iter() {
                    // SAFETY: kill(2) has no memory-safety preconditions; a pid that has already
                    // exited makes it fail with ESRCH, which is ignored.
                    unsafe {
                        libc::kill(*pid as libc::pid_t, sig);
                    }
                }
                let list = temporaries();
                for p in list.iter() {
                    remove_path(p);
                }
                eprintln!("error: interrupted by signal {sig}; temporary files removed");
                std::process::exit(128 + sig);
            }
        });
    }
}

/// Where a write to `path` goes: through to a FIFO, device or socket (opened as it is; such an
/// output cannot be atomic), or atomically to a regular file — for a symlink, its final target,
/// as `cp` does, leaving the link in place.
enum Destination {
    Through(PathBuf),
    Atomic(PathBuf),
}

fn destination(path: &Path) -> Result<Destination> {
    if let Ok(meta) = std::fs::metadata(path) {
        if meta.is_dir() {
            bail!("cannot write {}: it is a directory", path.display());
        }
        if !meta.is_file() {
            return Ok(Destination::Through(path.to_path_buf()));
        }
    }
    // A regular file, a missing one, or a symlink (chain) to either: resolve the links by hand
    // (a dangling link's target is created, as `cp` does).
    let mut target = path.to_path_buf();
    for _ in 0..40 {
        match std::fs::symlink_metadata(&target) {
            Ok(m) if m.file_type().is_symlink() => {
                let link = std::fs::read_link(&target)
                    .with_context(|| format!("cannot read the symlink {}", target.display()))?;
                target = match target.parent() {
                    Some(dir) if link.is_relative() => dir.join(link),
                    _ => link,
                };
            }
            _ => return Ok(Destination::Atomic(target)),
        }
    }
    bail!(
        "cannot write {}: too many levels of symlinks",
        path.display()
    )
}

/// Like [`write_atomic`], streaming through `fill`. The temporary `.NAME.tmpPID` is registered
/// ([`TempPath`]) and removed on error or signal.
pub fn write_atomic_with(
    path: &Path,
    fill: impl FnOnce(&mut std::io::BufWriter<std::fs::File>) -> Result<()>,
) -> Result<()> {
    let target = match destination(path)? {
        Destination::Through(p) => {
            let file = std::fs::OpenOptions::new()
                .write(true)
                .open(&p)
                .with_context(|| format!("cannot open {}", p.display()))?;
            let mut w = std::io::BufWriter::new(file);
            fill(&mut w)?;
            use std::io::Write;
            w.flush()
                .with_context(|| format!("cannot write {}", p.display()))?;
            return Ok(());
        }
        Destination::Atomic(t) => t,
    };
    let dir = target
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
    let name = target
        .file_name()
        .ok_or_else(|| anyhow!("cannot write {}: not a file path", path.display()))?;
    let tmp = TempPath::register(dir.join(format!(
        ".{}.tmp{}",
        name.to_string_lossy(),
        std::process::id()
    )));
    let file = std::fs::File::create(tmp.path())
        .with_context(|| format!("cannot create {}", tmp.path().display()))?;
    let mut w = std::io::BufWriter::new(file);
    fill(&mut w)?;
    use std::io::Write;
    w.flush()
        .with_context(|| format!("cannot write {}", tmp.path().display()))?;
    w.into_inner()
        .map_err(|e| anyhow!("cannot write {}: {e}", tmp.path().display()))?
        .sync_all()
        .with_context(|| format!("cannot write {}", tmp.path().display()))?;
    std::fs::rename(tmp.path(), &target)
        .with_context(|| format!("cannot move the output into place at {}", target.display()))?;
    tmp.keep();
    Ok(())
}

/// Writes the row-major `rows × cols` matrix `data` as a float64 `.npy` file in C order
/// (`INTERFACE.md`: Hessians and eigenvectors), atomically; refuses non-finite entries.
pub fn write_npy_matrix(path: &Path, rows: usize, cols: usize, data: &[f64]) -> Result<()> {
    if Some(data.len()) != rows.checked_mul(cols) {
        bail!(
            "internal: {} numbers for a {rows} × {cols} matrix",
            data.len()
        );
    }
    // The last gate (callers name the entry and its cause earlier, see `guard`): nothing
    // non-finite is ever written.
    if let Some(k) = data.iter().position(|v| !v.is_finite()) {
        bail!(
            "refusing to write {}: entry [{}, {}] is {}",
            path.display(),
            k / cols.max(1),
            k % cols.max(1),
            data[k]
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

/// Fails early, before a long computation, if `path` could not be written: not a directory, and
/// the directory of the file (of a symlink's target) must exist (the write itself stays atomic,
/// see [`write_atomic_with`]).
pub fn check_output_path(path: &Path, flag: &str) -> Result<()> {
    let target = match destination(path).with_context(|| flag.to_string())? {
        Destination::Through(_) => return Ok(()),
        Destination::Atomic(t) => t,
    };
    let dir = target
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
