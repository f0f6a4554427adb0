//! File formats and safe writing: network files (INTERFACE.md), `.npy` matrices, atomic
//! writes, and the progress indicator for long dense computations.

use anyhow::{anyhow, bail, Context, Result};
use nearopt::{Activation, Network};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// Reads and validates a network file, with messages that name the key, row or column at fault.
pub fn read_network(path: &Path) -> Result<Network> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read network file {}", path.display()))?;
    parse_network(&text).with_context(|| format!("invalid network file {}", path.display()))
}

/// Parses a network file's text (see [`read_network`]).
pub fn parse_network(text: &str) -> Result<Network> {
    let value: Value = serde_json::from_str(text).map_err(|e| anyhow!("not valid JSON: {e}"))?;
    let obj = value
        .as_object()
        .ok_or_else(|| anyhow!("the top level must be a JSON object"))?;
    for key in obj.keys() {
        if !["activation", "w1", "w2"].contains(&key.as_str()) {
            bail!("unknown key `{key}` (expected activation, w1, w2)");
        }
    }
    let act = obj
        .get("activation")
        .ok_or_else(|| anyhow!("missing key `activation`"))?;
    let activation: Activation = serde_json::from_value(act.clone()).map_err(|e| anyhow!("{e}"))?;
    let w1 = obj.get("w1").ok_or_else(|| anyhow!("missing key `w1`"))?;
    let rows = w1
        .as_array()
        .ok_or_else(|| anyhow!("`w1` must be an array of rows"))?;
    if rows.is_empty() {
        bail!("`w1` is empty: it needs Nh ≥ 1 rows");
    }
    let mut w1v: Vec<Vec<f64>> = Vec::with_capacity(rows.len());
    for (m, row) in rows.iter().enumerate() {
        let r = row
            .as_array()
            .ok_or_else(|| anyhow!("`w1` row {m} is not an array"))?;
        if r.is_empty() {
            bail!("`w1` row {m} is empty: it needs Ni ≥ 1 numbers");
        }
        let vals = r
            .iter()
            .enumerate()
            .map(|(n, v)| {
                number(v)
                    .ok_or_else(|| anyhow!("`w1` row {m} column {n} is not a finite number ({v})"))
            })
            .collect::<Result<Vec<f64>>>()?;
        if let Some(first) = w1v.first() {
            if vals.len() != first.len() {
                bail!(
                    "`w1` is ragged: row {m} has {} numbers but row 0 has {}",
                    vals.len(),
                    first.len()
                );
            }
        }
        w1v.push(vals);
    }
    let w2 = obj.get("w2").ok_or_else(|| anyhow!("missing key `w2`"))?;
    let w2a = w2
        .as_array()
        .ok_or_else(|| anyhow!("`w2` must be an array of numbers"))?;
    let w2v = w2a
        .iter()
        .enumerate()
        .map(|(k, v)| {
            number(v).ok_or_else(|| anyhow!("`w2` entry {k} is not a finite number ({v})"))
        })
        .collect::<Result<Vec<f64>>>()?;
    if w2v.len() != w1v.len() {
        bail!(
            "`w2` has {} numbers but `w1` has {} rows (one per hidden unit)",
            w2v.len(),
            w1v.len()
        );
    }
    Ok(Network::from_rows(activation, &w1v, w2v)?)
}

fn number(v: &Value) -> Option<f64> {
    v.as_f64().filter(|x| x.is_finite())
}

/// The network file's JSON text (`INTERFACE.md`), one `w1` row per line; numbers are written
/// in the shortest form that reads back to the same f64.
pub fn network_json(net: &Network) -> String {
    let rows: Vec<String> = (0..net.nh())
        .map(|m| format!("    {}", compact(net.w1_row(m))))
        .collect();
    format!(
        "{{\n  \"activation\": {},\n  \"w1\": [\n{}\n  ],\n  \"w2\": {}\n}}",
        compact(net.activation()),
        rows.join(",\n"),
        compact(net.w2())
    )
}

/// Compact JSON text of a value that always serialises (numbers, activations).
fn compact<T: serde::Serialize + ?Sized>(v: &T) -> String {
    serde_json::to_string(v).expect("numbers and activations serialise")
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_fault() {
        let cases = [
            (
                r#"{"activation":{"kind":"erf"},"w1":[[1,2],[3]],"w2":[1,2]}"#,
                "row 1",
            ),
            (
                r#"{"activation":{"kind":"erf"},"w1":[[1,2]],"w2":[1,2]}"#,
                "`w2` has 2",
            ),
            (r#"{"activation":{"kind":"erf"},"w1":[],"w2":[]}"#, "empty"),
            (
                r#"{"activation":{"kind":"erf"},"w1":[[1,"a"]],"w2":[1]}"#,
                "row 0 column 1",
            ),
            (
                r#"{"activation":{"kind":"erf"},"w1":[[1]],"w2":[1],"bias":[0]}"#,
                "`bias`",
            ),
            (
                r#"{"activation":{"kind":"relu"},"w1":[[1]],"w2":[1]}"#,
                "relu",
            ),
            (
                r#"{"activation":{"kind":"quadratic"},"w1":[[1]],"w2":[1]}"#,
                "epsilon",
            ),
            (r#"{"w1":[[1]],"w2":[1]}"#, "activation"),
        ];
        for (text, needle) in cases {
            let err = parse_network(text).unwrap_err().to_string();
            assert!(err.contains(needle), "{text}: {err}");
        }
    }

    #[test]
    fn round_trip() {
        let text = r#"{"activation":{"kind":"polynomial","coefficients":[0,1,0.5]},"w1":[[0.1,-0.2],[0.3,0.4]],"w2":[1.5,-2]}"#;
        let net = parse_network(text).unwrap();
        assert_eq!(parse_network(&network_json(&net)).unwrap(), net);
    }
}
