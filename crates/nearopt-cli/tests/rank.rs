//! End-to-end tests of `nearopt rank`: the binary on held-out networks whose exact ranks are
//! known independently (linear: `Ni`; erf: full rank `D`, minus `Ni + 1` for two equal hidden
//! units and `Ni` for a zero output weight), the JSON keys of `INTERFACE.md`, and one-line
//! errors for bad input.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn nearopt(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nearopt"))
        .args(args)
        .output()
        .expect("the nearopt binary runs")
}

fn write(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("nearopt-rank-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn rank_json(path: &Path, extra: &[&str]) -> Value {
    let mut args = vec!["rank", "--network", path.to_str().unwrap(), "--json"];
    args.extend_from_slice(extra);
    let out = nearopt(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s = String::from_utf8(out.stdout).unwrap();
    assert_eq!(s.lines().count(), 1, "one JSON object on one line");
    serde_json::from_str(&s).unwrap()
}

fn assert_one_line_error(out: &Output, needle: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("error: ") && err.contains(needle), "{err}");
    assert!(out.stdout.is_empty());
}

/// An erf network with `Ni = 1` and seven hidden units at distinct |w|: λ_min/λ_max is below
/// float64's resolution (float64 eigenvalues of about 1e-17·λ_max are rounding noise).
const ERF_1X7: &str = r#"{"activation": {"kind": "erf"},
  "w1": [[0.31], [-0.72], [1.13], [1.9], [-2.6], [0.05], [3.3]],
  "w2": [0.8, -0.5, 0.35, 0.6, -0.25, 0.9, -0.7]}"#;

#[test]
fn erf_single_input_network_is_certified_full_rank() {
    let p = write("erf1x7.json", ERF_1X7);
    let v = rank_json(&p, &[]);
    assert_eq!(v["dimension"], 14);
    assert_eq!(v["rank"], 14);
    assert_eq!(v["certified"], true);
    assert_eq!(v["method"], "interval-inertia");
    let kept = v["smallest_kept_lower_bound"].as_f64().unwrap();
    assert!(kept > 0.0);
    // float64 cannot see it: the proven λ_min is below λ_max·D·ε.
    let spec = nearopt(&["spectrum", "--network", p.to_str().unwrap(), "--json"]);
    let spec: Value = serde_json::from_slice(&spec.stdout).unwrap();
    let tol = spec["rank_tolerance"].as_f64().unwrap();
    let lmax = spec["lambda_max"].as_f64().unwrap();
    assert!(
        kept < 1e-14 * lmax,
        "kept {kept:e}, λ_max {lmax:e}, tol {tol:e}"
    );
    assert!(v["seconds"].as_f64().is_some());
    // Capped far too low: not certified, and it says so.
    let v = rank_json(&p, &["--start-bits", "32", "--max-bits", "32"]);
    assert_eq!(v["certified"], false);
    assert!(v["note"].as_str().unwrap().contains("more than 32 bits"));
}

#[test]
fn erf_degenerate_networks_are_rank_deficient_by_the_right_amount() {
    // Rows 0 and 2 equal: D − (Ni + 1) = 12 − 3.
    let dup = write(
        "dup.json",
        r#"{"activation": {"kind": "erf"}, "w1": [[0.4, -0.3], [0.9, 0.2], [0.4, -0.3], [-0.1, 0.7]],
           "w2": [0.5, -0.6, 0.3, 0.8]}"#,
    );
    let v = rank_json(&dup, &[]);
    assert_eq!(
        (v["dimension"].as_u64(), v["rank"].as_u64()),
        (Some(12), Some(9))
    );
    assert_eq!(v["certified"], true);
    // A zero output weight: D − Ni.
    let zero = write(
        "zero.json",
        r#"{"activation": {"kind": "erf"}, "w1": [[0.4, -0.3], [0.9, 0.2], [-0.1, 0.7]],
           "w2": [0.5, 0.0, 0.8]}"#,
    );
    let v = rank_json(&zero, &[]);
    assert_eq!(
        (v["dimension"].as_u64(), v["rank"].as_u64()),
        (Some(9), Some(7))
    );
    assert_eq!(v["certified"], true);
}

#[test]
fn linear_network_rank_is_ni_exactly() {
    let p = write(
        "lin.json",
        r#"{"activation": {"kind": "linear"}, "w1": [[0.4, -0.3, 0.1], [0.9, 0.2, -0.5]], "w2": [0.5, -0.6]}"#,
    );
    let v = rank_json(&p, &[]);
    assert_eq!(v["rank"], 3);
    assert_eq!(v["dimension"], 8);
    assert_eq!(v["certified"], true);
    assert_eq!(v["method"], "exact-rational");
    // The human form says the same.
    let out = nearopt(&["rank", "--network", p.to_str().unwrap()]);
    let s = String::from_utf8(out.stdout).unwrap();
    assert!(s.starts_with("rank 3 of D = 8 (certified"), "{s}");
}

#[test]
fn bad_input_is_a_one_line_error() {
    assert_one_line_error(
        &nearopt(&["rank", "--network", "/nonexistent/net.json"]),
        "cannot read",
    );
    let p = write("erf.json", ERF_1X7);
    assert_one_line_error(
        &nearopt(&["rank", "--network", p.to_str().unwrap(), "--max-bits", "8"]),
        "--max-bits",
    );
    let bad = write(
        "bad.json",
        r#"{"activation": {"kind": "erf"}, "w1": [[1.0]], "w2": []}"#,
    );
    assert_one_line_error(
        &nearopt(&["rank", "--network", bad.to_str().unwrap()]),
        "w2",
    );
    // Too large to certify: refused with the limit.
    let rows: Vec<String> = (0..40)
        .map(|m| {
            let r: Vec<String> = (0..40)
                .map(|n| format!("{}", ((m * 7 + n * 3) % 11) as f64 / 10.0 - 0.5))
                .collect();
            format!("[{}]", r.join(","))
        })
        .collect();
    let w2: Vec<String> = (0..40)
        .map(|k| format!("{}", 0.1 + k as f64 / 50.0))
        .collect();
    let big = write(
        "big.json",
        &format!(
            r#"{{"activation": {{"kind": "erf"}}, "w1": [{}], "w2": [{}]}}"#,
            rows.join(","),
            w2.join(",")
        ),
    );
    assert_one_line_error(
        &nearopt(&["rank", "--network", big.to_str().unwrap()]),
        "limit",
    );
}
