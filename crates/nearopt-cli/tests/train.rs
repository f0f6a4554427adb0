//! End-to-end tests of `nearopt train`: outputs read back and checked against independent
//! computations (the linear network's closed-form spectrum, Eq. 7 from the library, Monte Carlo
//! error bars), and user mistakes refused with one-line errors.

use nearopt::hessian::DenseMatrix;
use nearopt::spectrum::symmetric_eigenvalues;
use nearopt::teacher::{sample_teacher, WeightDistribution};
use nearopt::Activation;
use serde_json::Value;
use std::path::PathBuf;
use std::process::{Command, Output};

fn tmp(tag: &str) -> PathBuf {
    let p = std::env::temp_dir().join(format!("nearopt-train-test-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&p);
    p
}

fn nearopt(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nearopt"))
        .args(args)
        .output()
        .unwrap()
}

fn csv(path: &PathBuf) -> (Vec<String>, Vec<Vec<f64>>) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let head = lines.next().unwrap().split(',').map(String::from).collect();
    let rows = lines
        .map(|l| l.split(',').map(|v| v.parse().unwrap()).collect())
        .collect();
    (head, rows)
}

#[test]
fn linear_flow_run_matches_closed_form_spectrum_and_eq7() {
    let out = tmp("flow");
    let o = nearopt(&[
        "train",
        "--activation",
        "linear",
        "--ni",
        "3",
        "--nh",
        "4",
        "--seed",
        "6",
        "--draws",
        "400",
        "--sigma0",
        "1e-3",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let s: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    // Linear network: H = MᵀM with M = [a_m δ_nq ; w_m], so the nonzero eigenvalues are those of
    // the Ni × Ni matrix |a|² I + W1ᵀW1 (independent of the Hessian code).
    let t = sample_teacher(Activation::Linear, 3, 4, WeightDistribution::Normal, 6, 0).unwrap();
    let a2: f64 = t.w2().iter().map(|v| v * v).sum();
    let mut g = DenseMatrix::zeros(3, 3);
    for i in 0..3 {
        for j in 0..3 {
            let w: f64 = (0..4).map(|m| t.w1_row(m)[i] * t.w1_row(m)[j]).sum();
            g.set(i, j, w + if i == j { a2 } else { 0.0 });
        }
    }
    let eig = symmetric_eigenvalues(&g).unwrap();
    let lmin = s["lambda_min"].as_f64().unwrap();
    assert!(
        (lmin - eig[0]).abs() < 1e-12 * eig[2],
        "λ_min {lmin} vs closed form {}",
        eig[0]
    );
    assert_eq!(s["rank"].as_u64(), Some(3));
    assert_eq!(s["seed"].as_u64(), Some(6));
    // Eq. 7 column against the closed-form eigenvalues.
    let (head, rows) = csv(&out.join("loss.csv"));
    assert_eq!(head[0], "t");
    let col = |name: &str| head.iter().position(|h| h == name).unwrap();
    for r in &rows {
        let t = r[0];
        let eq7: f64 = eig.iter().map(|l| 0.5e-6 * l * (-2.0 * l * t).exp()).sum();
        assert!((r[col("eq7")] - eq7).abs() < 1e-10 * eq7, "t = {t}");
        // Mean of 400 draws vs Eq. 7: 5 standard errors plus 1% for the cubic terms (σ0 = 1e-3).
        let (m, se) = (r[col("mean")], r[col("stderr")]);
        assert!(
            (m - eq7).abs() < 5.0 * se + 0.01 * eq7,
            "t = {t}: mean {m} ± {se} vs Eq. 7 {eq7}"
        );
        assert!(r[col("q10")] <= r[col("median")] && r[col("median")] <= r[col("q90")]);
    }
    // Long-time rate: with the linear network's spectrum the late window is dominated by λ_min.
    let rate = s["fitted_rate"].as_f64().unwrap();
    assert!(
        (rate / (2.0 * lmin) - 1.0).abs() < 0.05,
        "rate {rate} vs 2 λ_min {}",
        2.0 * lmin
    );
    let svg = std::fs::read_to_string(out.join("loss.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("polyline"));
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn gd_and_sgd_runs_write_their_outputs() {
    for (tag, extra) in [
        (
            "gd",
            vec![
                "--trainer",
                "gd",
                "--lr",
                "0.05",
                "--samples",
                "500",
                "--steps",
                "400",
            ],
        ),
        (
            "sgd",
            vec![
                "--trainer",
                "sgd",
                "--lr",
                "0.05",
                "--batch",
                "16",
                "--steps",
                "400",
            ],
        ),
    ] {
        let out = tmp(tag);
        let mut args = vec![
            "train",
            "--activation",
            "erf",
            "--ni",
            "3",
            "--nh",
            "3",
            "--draws",
            "4",
            "--out",
        ];
        args.push(out.to_str().unwrap());
        args.extend(extra);
        let o = nearopt(&args);
        assert!(
            o.status.success(),
            "{tag}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let (head, rows) = csv(&out.join("loss.csv"));
        let m = head.iter().position(|h| h == "mean").unwrap();
        // Times are whole iterations × lr, ending at steps × lr.
        assert!((rows.last().unwrap()[0] - 20.0).abs() < 1e-9);
        assert!(
            rows.last().unwrap()[m] < rows[0][m],
            "{tag}: loss did not decrease"
        );
        let s: Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap())
                .unwrap();
        assert_eq!(s["trainer"].as_str(), Some(tag));
        let _ = std::fs::remove_dir_all(&out);
    }
}

#[test]
fn mistakes_are_refused_with_one_line_errors() {
    let out = tmp("bad");
    let o_s = out.to_str().unwrap();
    for (args, needle) in [
        (vec!["train", "--ni", "3", "--out", o_s], "--activation"),
        (
            vec!["train", "--activation", "erf", "--ni", "3", "--out", o_s],
            "--nh",
        ),
        (
            vec![
                "train",
                "--activation",
                "swish3",
                "--ni",
                "3",
                "--nh",
                "2",
                "--out",
                o_s,
            ],
            "swish3",
        ),
        (
            vec![
                "train",
                "--activation",
                "erf",
                "--ni",
                "3",
                "--nh",
                "2",
                "--trainer",
                "adam",
                "--out",
                o_s,
            ],
            "adam",
        ),
        (
            vec![
                "train",
                "--activation",
                "erf",
                "--ni",
                "3",
                "--nh",
                "2",
                "--trainer",
                "gd",
                "--out",
                o_s,
            ],
            "--lr",
        ),
        (
            vec![
                "train",
                "--activation",
                "erf",
                "--ni",
                "3",
                "--nh",
                "2",
                "--lr",
                "0.1",
                "--out",
                o_s,
            ],
            "--lr",
        ),
        (
            vec![
                "train",
                "--activation",
                "erf",
                "--ni",
                "3",
                "--nh",
                "2",
                "--sigma0",
                "-1",
                "--out",
                o_s,
            ],
            "sigma0",
        ),
        (
            vec!["train", "--network", "/nonexistent/net.json", "--out", o_s],
            "net.json",
        ),
    ] {
        let o = nearopt(&args);
        assert!(!o.status.success(), "{args:?} succeeded");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(needle), "{args:?}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{args:?}: {err}");
        assert!(!out.join("loss.csv").exists(), "{args:?} left output");
    }
}

#[test]
fn a_failed_run_leaves_no_output_directory() {
    // Gradient descent with a step far beyond 2/λ_max diverges; the command must fail with one
    // line and must not leave an (empty or partial) --out behind.
    let out = tmp("diverged");
    let o = nearopt(&[
        "train",
        "--activation",
        "linear",
        "--ni",
        "3",
        "--nh",
        "3",
        "--trainer",
        "gd",
        "--lr",
        "1000",
        "--samples",
        "10",
        "--draws",
        "2",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(!o.status.success(), "a diverging run must fail");
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.trim().lines().count(), 1, "one-line error, got: {err}");
    assert!(
        !out.exists(),
        "{} must not exist after a failed run",
        out.display()
    );
}

#[test]
fn expflow_reaches_ten_over_lambda_min_by_default_and_matches_eq7() {
    let out = tmp("expflow");
    let o = nearopt(&[
        "train",
        "--activation",
        "erf",
        "--ni",
        "3",
        "--nh",
        "4",
        "--seed",
        "6",
        "--draws",
        "64",
        "--trainer",
        "expflow",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let s: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(s["trainer"].as_str(), Some("expflow"));
    let (t_max, lmin) = (
        s["t_max"].as_f64().unwrap(),
        s["lambda_min"].as_f64().unwrap(),
    );
    assert!(
        (t_max * lmin - 10.0).abs() < 1e-9,
        "t_max λ_min = {}",
        t_max * lmin
    );
    // Late window [5, 10]/λ_min: the rate is 2 λ_min up to the next mode's remnant and the
    // O(σ0) nonlinearity; Monte Carlo noise in the rate of the mean is a few 1e-3 at 64 draws.
    let dev = s["rate_relative_deviation"].as_f64().unwrap();
    assert!(dev.abs() < 0.02, "rate deviation {dev}");
    let (head, rows) = csv(&out.join("loss.csv"));
    let col = |name: &str| head.iter().position(|h| h == name).unwrap();
    for r in &rows {
        let (m, se, e) = (r[col("mean")], r[col("stderr")], r[col("eq7")]);
        assert!(
            (m - e).abs() < 5.0 * se + 0.01 * e,
            "t = {}: {m} ± {se} vs {e}",
            r[0]
        );
    }
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn absurd_sizes_and_budgets_are_refused_before_any_work() {
    let out = tmp("absurd");
    let o_s = out.to_str().unwrap();
    let base = [
        "train",
        "--activation",
        "erf",
        "--ni",
        "3",
        "--nh",
        "2",
        "--out",
        o_s,
    ];
    let with = |extra: &[&'static str]| {
        let mut v: Vec<&str> = base.to_vec();
        v.extend_from_slice(extra);
        v
    };
    for (args, needle) in [
        (
            vec![
                "train",
                "--activation",
                "erf",
                "--ni",
                "100000",
                "--nh",
                "100000",
                "--out",
                o_s,
            ],
            "Hessian",
        ),
        (with(&["--grid-points", "1000000000"]), "--grid-points"),
        (with(&["--draws", "1000000000000"]), "--draws"),
        (with(&["--draws", "1000000"]), "--max-hours"),
        (
            with(&[
                "--trainer",
                "gd",
                "--lr",
                "0.1",
                "--samples",
                "10",
                "--steps",
                "100000000000000",
            ]),
            "--max-hours",
        ),
        (
            with(&[
                "--trainer",
                "sgd",
                "--lr",
                "1e-300",
                "--batch",
                "4",
                "--t-max",
                "1",
            ]),
            "--lr",
        ),
        (
            with(&["--trainer", "gd", "--lr", "0", "--samples", "10"]),
            "--lr must be a positive",
        ),
        (with(&["--rtol", "1e-300"]), "--rtol"),
        (with(&["--trainer", "expflow", "--rtol", "0.5"]), "--rtol"),
    ] {
        let o = nearopt(&args);
        assert!(!o.status.success(), "{args:?} succeeded");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(needle), "{args:?}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{args:?}: {err}");
        assert!(!err.contains("max_steps"), "{args:?}: {err}");
        assert!(!out.exists(), "{args:?} left output");
    }
}
