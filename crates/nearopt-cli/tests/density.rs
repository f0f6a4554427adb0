//! End-to-end tests of `nearopt density`: the JSON object of `INTERFACE.md` against
//! `nearopt spectrum --json` on the same network (exact trace, top eigenvalues, weights), the
//! plot, thread-count independence, and one-line errors without partial files.

use serde_json::Value;
use std::path::PathBuf;
use std::process::{Command, Output};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_nearopt"))
}

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        let p =
            std::env::temp_dir().join(format!("nearopt-density-test-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
    fn count(&self) -> usize {
        std::fs::read_dir(&self.0).unwrap().count()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().unwrap()
}

fn json(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

#[test]
fn density_json_agrees_with_dense_spectrum() {
    let dir = TempDir::new("agree");
    let net = dir.path("net.json");
    let net_s = net.to_str().unwrap();
    let t = run(&[
        "teacher",
        "--activation",
        "erf",
        "--ni",
        "14",
        "--nh",
        "12",
        "--seed",
        "3",
        "--out",
        net_s,
    ]);
    assert!(t.status.success());
    let spec = json(&run(&["spectrum", "--network", net_s, "--json"]));
    let ev = floats(&spec["eigenvalues"]);
    let plot = dir.path("d.svg");
    let dens = json(&run(&[
        "density",
        "--network",
        net_s,
        "--json",
        "--probes",
        "6",
        "--steps",
        "25",
        "--top",
        "5",
        "--plot",
        plot.to_str().unwrap(),
    ]));
    let d = ev.len();
    assert_eq!(dens["dimension"].as_u64().unwrap() as usize, d);
    // Exact trace: the sum of the dense eigenvalues (rounding of D terms of one sign).
    let tr: f64 = ev.iter().sum();
    let trace = dens["trace"].as_f64().unwrap();
    assert!((trace - tr).abs() <= 1e-11 * tr, "{trace} vs {tr}");
    // The top bulk (Ni = 14 eigenvalues): its mean from the exact trace minus the SLQ remainder
    // agrees with the dense mean of the 14 largest within 4 standard errors plus the
    // quadrature's resolution of the split (as in nearopt's tests/density_bulk.rs).
    assert_eq!(dens["top_bulk_count"].as_u64().unwrap(), 14);
    let mut sorted = ev.clone();
    sorted.sort_by(f64::total_cmp);
    let dense_mean = sorted[d - 14..].iter().sum::<f64>() / 14.0;
    let (mean, se) = (
        dens["top_bulk_mean"].as_f64().unwrap(),
        dens["top_bulk_mean_se"].as_f64().unwrap(),
    );
    assert!(
        (mean - dense_mean).abs() <= 4.0 * se + 1e-3 * dense_mean,
        "top-bulk mean {mean} ± {se} vs dense {dense_mean}"
    );
    assert!(dens["top_bulk_median"].as_f64().unwrap() > 0.0);
    let tr2: f64 = ev.iter().map(|l| l * l).sum();
    let trace2 = dens["trace_squared"].as_f64().unwrap();
    assert!((trace2 - tr2).abs() <= 1e-11 * tr2, "{trace2} vs {tr2}");
    // Top eigenvalues, descending, within their residual bounds of the dense ones.
    let top = floats(&dens["top_eigenvalues"]);
    let bounds = floats(&dens["top_residual_bounds"]);
    assert_eq!(top.len(), 5);
    for (i, (v, b)) in top.iter().zip(&bounds).enumerate() {
        let l = ev[d - 1 - i];
        assert!(
            (v - l).abs() <= b + 1e-13 * ev[d - 1],
            "{i}: {v} vs {l} (± {b})"
        );
        assert!((v - l).abs() <= 1e-9 * l);
    }
    let w: f64 = floats(&dens["weights"]).iter().sum();
    assert!((w - 1.0).abs() < 1e-12);
    assert_eq!(floats(&dens["nodes"]).len(), floats(&dens["weights"]).len());
    let svg = std::fs::read_to_string(&plot).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("log10"));
    // The same numbers on one thread.
    let one = json(&run(&[
        "--threads",
        "1",
        "density",
        "--network",
        net_s,
        "--json",
        "--probes",
        "6",
        "--steps",
        "25",
        "--top",
        "5",
    ]));
    assert_eq!(one["nodes"], dens["nodes"]);
    assert_eq!(one["top_eigenvalues"], dens["top_eigenvalues"]);
}

#[test]
fn density_bad_input_is_one_line_error_without_partial_output() {
    let dir = TempDir::new("bad");
    let net = dir.path("net.json");
    std::fs::write(
        &net,
        r#"{"activation": {"kind": "erf"}, "w1": [[0.1, 0.2], [0.3, -0.4]], "w2": [1.0, 0.5]}"#,
    )
    .unwrap();
    let net_s = net.to_str().unwrap();
    let before = dir.count();
    for (args, needle) in [
        (
            vec!["density", "--network", "/nonexistent/net.json"],
            "cannot read",
        ),
        (
            vec!["density", "--network", net_s, "--probes", "0"],
            "probe",
        ),
        (
            vec!["density", "--network", net_s, "--plot", "x.pdf"],
            ".svg or .png",
        ),
        (
            vec![
                "density",
                "--network",
                net_s,
                "--top",
                "5",
                "--max-basis",
                "3",
            ],
            "--top",
        ),
        (
            vec!["density", "--network", net_s, "--memory", "lots"],
            "--memory",
        ),
        (
            vec![
                "density",
                "--network",
                net_s,
                "--memory",
                "100",
                "--top",
                "0",
            ],
            "memory budget",
        ),
    ] {
        let mut a = args.clone();
        let plot = dir.path("p.svg");
        if !a.contains(&"--plot") {
            a.extend(["--plot", plot.to_str().unwrap()]);
        }
        let out = run(&a);
        assert!(!out.status.success(), "{args:?} succeeded");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.trim().lines().count(), 1, "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(out.stdout.is_empty());
        assert_eq!(dir.count(), before, "{args:?} left a file");
    }
}

/// `density --student` and biased networks against `spectrum` of the same Hessian (dense):
/// exact moments, top eigenvalues, `point`/`student` keys; a student with other inputs refused.
#[test]
fn density_at_students_and_with_biases_agrees_with_spectrum() {
    let dir = TempDir::new("student");
    let file = |name: &str, flags: &[&str]| {
        let p = dir.path(name);
        let mut args = vec!["teacher"];
        args.extend_from_slice(flags);
        args.extend_from_slice(&["--out", p.to_str().unwrap()]);
        assert!(run(&args).status.success(), "teacher {flags:?}");
        p.to_str().unwrap().to_string()
    };
    let teacher = file("t.json", &["--activation", "erf", "--ni", "4", "--nh", "3"]);
    let biased = file(
        "tb.json",
        &[
            "--activation",
            "erf",
            "--ni",
            "4",
            "--nh",
            "3",
            "--b1-std",
            "0.4",
            "--b2-std",
            "0.3",
        ],
    );
    let wide = file(
        "s1.json",
        &[
            "--activation",
            "tanh",
            "--ni",
            "4",
            "--nh",
            "5",
            "--seed",
            "2",
            "--b1-std",
            "0.2",
        ],
    );
    let relu = file(
        "s2.json",
        &[
            "--activation",
            "relu",
            "--ni",
            "4",
            "--nh",
            "3",
            "--seed",
            "3",
        ],
    );
    let other_ni = file(
        "s3.json",
        &["--activation", "erf", "--ni", "3", "--nh", "3"],
    );
    let flags = ["--json", "--probes", "8", "--steps", "30", "--top", "3"];
    for (t, s) in [
        (&biased, None),
        (&teacher, Some(&wide)),
        (&teacher, Some(&relu)),
        (&biased, Some(&wide)),
    ] {
        let mut dargs = vec!["density", "--network", t.as_str()];
        let mut sargs = vec!["spectrum", "--network", t.as_str(), "--json"];
        if let Some(s) = s {
            dargs.extend_from_slice(&["--student", s.as_str()]);
            sargs.extend_from_slice(&["--student", s.as_str()]);
        }
        dargs.extend_from_slice(&flags);
        let dens = json(&run(&dargs));
        let ev = floats(&json(&run(&sargs))["eigenvalues"]);
        let d = ev.len();
        let what = format!("{t} at {s:?}");
        assert_eq!(dens["dimension"].as_u64().unwrap() as usize, d, "{what}");
        assert_eq!(
            dens["point"],
            if s.is_some() { "student" } else { "optimum" },
            "{what}"
        );
        assert_eq!(dens["student"].as_str(), s.map(|s| s.as_str()), "{what}");
        let scale: f64 = ev.iter().map(|l| l.abs()).sum();
        let tr: f64 = ev.iter().sum();
        let trace = dens["trace"].as_f64().unwrap();
        assert!(
            (trace - tr).abs() <= 1e-11 * scale,
            "{what}: {trace} vs {tr}"
        );
        let tr2: f64 = ev.iter().map(|l| l * l).sum();
        let trace2 = dens["trace_squared"].as_f64().unwrap();
        assert!(
            (trace2 - tr2).abs() <= 1e-11 * tr2,
            "{what}: {trace2} vs {tr2}"
        );
        let amax = ev.iter().fold(0.0f64, |a, l| a.max(l.abs()));
        for (i, v) in floats(&dens["top_eigenvalues"]).iter().enumerate() {
            let l = ev[d - 1 - i];
            assert!((v - l).abs() <= 1e-9 * amax, "{what}: λ_{i} {v} vs {l}");
        }
        // The top bulk is an estimate made at the bias-free optimum only.
        assert_eq!(dens["top_bulk_count"].as_u64().unwrap(), 0, "{what}");
    }
    let out = run(&[
        "density",
        "--network",
        &teacher,
        "--student",
        &other_ni,
        "--json",
    ]);
    assert!(!out.status.success() && out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("Ni = 3") && err.contains("Ni = 4"), "{err}");
}
