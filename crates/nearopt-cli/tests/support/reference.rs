//! Shared by the CLI's held-out reference tests (`reference_agreement.rs`, `reference_kinked.rs`):
//! their own generator, a hand-written `.npy` reader (so that the check does not share the CLI's
//! writer), and the comparison of `nearopt spectrum --json` / `nearopt hessian --out` with a NumPy
//! reference script on one case.

// Matrix code reads clearest with explicit indices.
#![allow(clippy::needless_range_loop)]

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Relative agreement demanded (of `max |λ|`).
pub const TOL: f64 = 1e-9;

/// SplitMix64 with Box–Muller normals: the tests' own generator (never seen by the library).
pub struct Gen(pub u64);

impl Gen {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform on (0, 1).
    pub fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }
    pub fn normal(&mut self) -> f64 {
        let (u, v) = (self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }
}

/// Reads a 2-D float64 C-order `.npy` file by hand: `(rows, cols, data)`.
pub fn read_npy(path: &Path) -> (usize, usize, Vec<f64>) {
    let bytes = std::fs::read(path).expect("the .npy file exists");
    assert_eq!(&bytes[..6], b"\x93NUMPY", "npy magic");
    let (hlen, start) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 => (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        ),
        v => panic!("unknown npy version {v}"),
    };
    let header = std::str::from_utf8(&bytes[start..start + hlen]).unwrap();
    let compact: String = header.chars().filter(|c| !c.is_whitespace()).collect();
    assert!(compact.contains("'descr':'<f8'"), "dtype: {header}");
    assert!(compact.contains("'fortran_order':False"), "order: {header}");
    let shape = compact
        .split("'shape':(")
        .nth(1)
        .and_then(|s| s.split(')').next())
        .expect("shape in header");
    let dims: Vec<usize> = shape
        .split(',')
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().unwrap())
        .collect();
    assert_eq!(dims.len(), 2, "2-D array: {header}");
    let data: Vec<f64> = bytes[start + hlen..]
        .chunks_exact(8)
        .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
        .collect();
    assert_eq!(data.len(), dims[0] * dims[1], "data length");
    (dims[0], dims[1], data)
}

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn run(cmd: &mut Command, what: &str) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{what} runs: {e}"));
    assert!(
        out.status.success(),
        "{what} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

pub fn numbers(v: &Value) -> Vec<f64> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_f64().expect("number"))
        .collect()
}

/// Runs both commands and the reference `script` on one network (the teacher, and the student if
/// given: then `--student` and `script TEACHER STUDENT`); asserts that the eigenvalues and every
/// Hessian entry agree to [`TOL`] of `max |λ|` (at a student the eigenvalues may be negative) and
/// returns the worst relative disagreement with the `spectrum --json` object.
pub fn compare_with_reference(
    dir: &Path,
    script: &Path,
    name: &str,
    net: &Value,
    student: Option<&Value>,
) -> (f64, Value) {
    let mut worst: f64 = 0.0;
    let file = dir.join(format!("{name}.json"));
    std::fs::write(&file, serde_json::to_string(&net).unwrap()).unwrap();
    let student_file = student.map(|s| {
        let f = dir.join(format!("{name}-student.json"));
        std::fs::write(&f, serde_json::to_string(s).unwrap()).unwrap();
        f
    });
    let with_student = |cmd: &mut Command| {
        if let Some(f) = &student_file {
            cmd.arg("--student").arg(f);
        }
    };
    let npy = dir.join(format!("{name}.npy"));
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_nearopt"));
    cmd.args(["spectrum", "--network"]).arg(&file).arg("--json");
    with_student(&mut cmd);
    let spec: Value = serde_json::from_str(&run(&mut cmd, "nearopt spectrum"))
        .expect("spectrum --json prints one JSON object");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_nearopt"));
    cmd.args(["hessian", "--network"])
        .arg(&file)
        .arg("--out")
        .arg(&npy);
    with_student(&mut cmd);
    run(&mut cmd, "nearopt hessian");
    let mut cmd = Command::new("python3");
    cmd.arg(script).arg(&file);
    if let Some(f) = &student_file {
        cmd.arg(f);
    }
    let reference: Value = serde_json::from_str(&run(
        &mut cmd,
        &format!(
            "the NumPy reference {} (python3 with numpy and scipy)",
            script.display()
        ),
    ))
    .expect("the reference prints JSON");

    let ref_eigs = numbers(&reference["eigenvalues"]);
    let d = ref_eigs.len();
    let lmax = ref_eigs[d - 1].max(-ref_eigs[0]);
    assert!(lmax > 0.0, "{name}: reference max |λ| = {lmax}");
    assert_eq!(spec["dimension"].as_u64(), Some(d as u64), "{name}");
    let eigs = numbers(&spec["eigenvalues"]);
    assert_eq!(eigs.len(), d, "{name}");
    for (i, (a, b)) in eigs.iter().zip(&ref_eigs).enumerate() {
        let rel = (a - b).abs() / lmax;
        worst = worst.max(rel);
        assert!(
            rel < TOL,
            "{name}: eigenvalue {i}: cli {a} vs reference {b} ({rel:.2e} of max |λ|)"
        );
    }
    let (rows, cols, h) = read_npy(&npy);
    assert_eq!((rows, cols), (d, d), "{name}: Hessian shape");
    let ref_h: Vec<Vec<f64>> = reference["hessian"]
        .as_array()
        .unwrap()
        .iter()
        .map(numbers)
        .collect();
    for i in 0..d {
        for j in 0..d {
            let rel = (h[i * d + j] - ref_h[i][j]).abs() / lmax;
            worst = worst.max(rel);
            assert!(
                rel < TOL,
                "{name}: H[{i}][{j}]: cli {} vs reference {} ({rel:.2e} of max |λ|)",
                h[i * d + j],
                ref_h[i][j]
            );
        }
    }
    (worst, spec)
}
