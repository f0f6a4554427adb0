//! End-to-end tests of `nearopt teacher`, `nearopt hessian` and `nearopt spectrum`: the binary is
//! run as a user would, its outputs are read back and checked against independent computations
//! (closed forms for linear networks, the library called directly, Monte Carlo error bars).

use nearopt::hessian::sampled::{sampled_hessian, sampled_jacobian, sampled_outer_product};
use nearopt::hessian::DenseMatrix;
use nearopt::spectrum::symmetric_eigenvalues;
use nearopt::{Activation, Network, PopulationHessian};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let p =
            std::env::temp_dir().join(format!("nearopt-cli-test-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
    /// File names in the directory, sorted.
    fn listing(&self) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(&self.0)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn nearopt(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_nearopt"));
    c.args(args).env_remove("NEAROPT_MEMORY_LIMIT");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("the nearopt binary runs")
}

/// Runs a command that must succeed; returns stdout.
fn ok(args: &[&str]) -> String {
    let out = nearopt(args, &[]);
    assert!(
        out.status.success(),
        "nearopt {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The command failed with one line on stderr, starting `error:` and containing `needle`, and
/// printed nothing on stdout.
fn assert_fails(out: &Output, needle: &str, what: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{what}: succeeded");
    assert_ne!(out.status.code(), Some(0), "{what}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{what}: stderr is not one line: {stderr:?}");
    assert!(lines[0].starts_with("error: "), "{what}: {stderr:?}");
    assert!(
        lines[0].contains(needle),
        "{what}: `{needle}` not in {stderr:?}"
    );
    assert!(out.stdout.is_empty(), "{what}: stdout not empty");
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Parses a network file independently of the CLI's reader: the structure with serde_json,
/// the weights (w1 row by row, then w2, as `nearopt teacher` writes them) from the text with
/// Rust's correctly rounded `f64::from_str` (serde_json's default float parser may be one unit
/// in the last place off).
fn load_network(path: &Path) -> Network {
    let text = std::fs::read_to_string(path).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    let act: Activation = serde_json::from_value(v["activation"].clone()).unwrap();
    let nh = v["w2"].as_array().unwrap().len();
    let ni = v["w1"][0].as_array().unwrap().len();
    let tail = text[text.find("\"w1\"").unwrap() + 4..].replace("\"w2\"", " ");
    let numbers: Vec<f64> = tail
        .split(|c: char| !(c.is_ascii_digit() || "+-.eE".contains(c)))
        .filter(|t| !t.is_empty())
        .map(|t| t.parse().unwrap())
        .collect();
    assert_eq!(numbers.len(), nh * ni + nh, "w1 then w2 in the text");
    let (w1, w2) = numbers.split_at(nh * ni);
    Network::new(act, ni, nh, w1.to_vec(), w2.to_vec()).unwrap()
}

/// Reads a 2-D float64 `.npy`, checking dtype and C order.
fn read_npy(path: &Path) -> (Vec<u64>, Vec<f64>) {
    let bytes = std::fs::read(path).unwrap();
    let npy = npyz::NpyFile::new(&bytes[..]).unwrap();
    assert_eq!(npy.order(), npyz::Order::C, "C order");
    assert_eq!(
        npy.dtype(),
        npyz::DType::Plain("<f8".parse().unwrap()),
        "float64"
    );
    let shape = npy.shape().to_vec();
    (shape, npy.into_vec::<f64>().unwrap())
}

fn json(stdout: &str) -> Value {
    assert_eq!(stdout.trim_end().lines().count(), 1, "one JSON line");
    serde_json::from_str(stdout).expect("stdout is one JSON object")
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn teacher(dir: &TempDir, name: &str, args: &[&str]) -> PathBuf {
    let p = dir.path(name);
    let mut a = vec!["teacher", "--out", s(&p)];
    a.extend_from_slice(args);
    ok(&a);
    p
}

#[test]
fn linear_teacher_spectrum_round_trip() {
    let dir = TempDir::new("linear");
    let (ni, nh) = (5usize, 3usize);
    let file = teacher(
        &dir,
        "lin.json",
        &[
            "--activation",
            "linear",
            "--ni",
            "5",
            "--nh",
            "3",
            "--seed",
            "3",
        ],
    );
    let net = load_network(&file);
    assert_eq!((net.ni(), net.nh()), (ni, nh));
    let r = json(&ok(&["spectrum", "--network", s(&file), "--json"]));
    for key in [
        "dimension",
        "eigenvalues",
        "rank",
        "rank_tolerance",
        "lambda_min",
        "lambda_max",
        "gap_ratio",
        "largest_dropped",
        "smallest_kept",
        "activation",
        "ni",
        "nh",
        "method",
        "samples",
        "seed",
        "nearopt_version",
    ] {
        assert!(r.get(key).is_some(), "key {key} missing");
    }
    let d = nh * ni + nh;
    assert_eq!(r["dimension"].as_u64(), Some(d as u64));
    assert_eq!(r["method"], "exact");
    assert_eq!(r["activation"]["kind"], "linear");
    let ev = floats(&r["eigenvalues"]);
    assert_eq!(ev.len(), d);
    assert!(ev.windows(2).all(|w| w[0] <= w[1]), "ascending");
    // A linear network computes vᵀx with v = W1ᵀ a: H = E[J Jᵀ] = M Mᵀ with J = M x, so the rank
    // is Ni and the nonzero eigenvalues are those of Mᵀ M = |a|² I + W1ᵀ W1.
    assert_eq!(r["rank"].as_u64(), Some(ni as u64));
    let lmax = *ev.last().unwrap();
    assert_eq!(r["lambda_max"].as_f64(), Some(lmax));
    let tol = r["rank_tolerance"].as_f64().unwrap();
    let expected_tol = lmax * d as f64 * f64::EPSILON;
    assert!((tol - expected_tol).abs() <= 4.0 * f64::EPSILON * expected_tol);
    let a2: f64 = net.w2().iter().map(|a| a * a).sum();
    let mut mtm = DenseMatrix::zeros(ni, ni);
    for n in 0..ni {
        for q in 0..ni {
            let w: f64 = (0..nh).map(|m| net.w1_row(m)[n] * net.w1_row(m)[q]).sum();
            mtm.set(n, q, w + if n == q { a2 } else { 0.0 });
        }
    }
    let small = symmetric_eigenvalues(&mtm).unwrap();
    for (got, want) in ev[d - ni..].iter().zip(&small) {
        assert!((got - want).abs() < 1e-12 * lmax, "{got} vs {want}");
    }
    for z in &ev[..d - ni] {
        assert!(z.abs() <= tol, "null eigenvalue {z} above tolerance {tol}");
    }
    assert_eq!(r["lambda_min"].as_f64(), Some(ev[d - ni]));
    assert_eq!(r["smallest_kept"].as_f64(), Some(ev[d - ni]));
    // The rank is clear: the gap ratio is huge (null eigenvalues are round-off).
    let gap = r["gap_ratio"].as_f64().unwrap_or(f64::INFINITY);
    assert!(gap > 1e8, "gap ratio {gap}");
    // The trace is E|J|² = Ni |a|² + |W1|_F².
    let w1f: f64 = net.w1().iter().map(|w| w * w).sum();
    let trace: f64 = ev.iter().sum();
    assert!((trace - (ni as f64 * a2 + w1f)).abs() < 1e-12 * trace);
    // --rank-tol is honoured and reported.
    let r2 = json(&ok(&[
        "spectrum",
        "--network",
        s(&file),
        "--json",
        "--rank-tol",
        "1e300",
    ]));
    assert_eq!(r2["rank"].as_u64(), Some(0));
    assert_eq!(r2["rank_tolerance"].as_f64(), Some(1e300));
    assert_eq!(r2["lambda_min"], Value::Null);
}

#[test]
fn teacher_stdout_and_file_agree_and_are_seeded() {
    let dir = TempDir::new("teacher");
    let args = [
        "--activation",
        "polynomial",
        "--coefficients",
        "0.1,1,-0.5,0.25",
        "--ni",
        "4",
        "--nh",
        "2",
        "--weights",
        "student-t",
        "--nu",
        "7",
        "--seed",
        "11",
    ];
    let file = teacher(&dir, "p.json", &args);
    let mut a = vec!["teacher"];
    a.extend_from_slice(&args);
    let stdout = ok(&a);
    assert_eq!(stdout, std::fs::read_to_string(&file).unwrap());
    let net = load_network(&file);
    assert_eq!(
        net.activation(),
        &Activation::Polynomial {
            coefficients: vec![0.1, 1.0, -0.5, 0.25]
        }
    );
    // Same seed and stream: the library's teacher, bit for bit; another stream: another teacher.
    let lib = nearopt::teacher::sample_teacher(
        net.activation().clone(),
        4,
        2,
        nearopt::teacher::WeightDistribution::StudentT { nu: 7.0 },
        11,
        0,
    )
    .unwrap();
    assert_eq!(net, lib);
    a.extend_from_slice(&["--stream", "1"]);
    assert_ne!(ok(&a), stdout);
    let q = json(
        &ok(&[
            "teacher",
            "--activation",
            "quadratic",
            "--epsilon",
            "0.5",
            "--ni",
            "2",
            "--nh",
            "1",
        ])
        .replace('\n', ""),
    );
    assert_eq!(q["activation"]["epsilon"].as_f64(), Some(0.5));
}

#[test]
fn hessian_file_is_the_library_matrix_bit_for_bit() {
    let dir = TempDir::new("hessian");
    for (name, args) in [
        (
            "erf.json",
            vec!["--activation", "erf", "--ni", "4", "--nh", "3"],
        ),
        (
            "quad.json",
            vec![
                "--activation",
                "quadratic",
                "--epsilon",
                "0.7",
                "--ni",
                "3",
                "--nh",
                "3",
            ],
        ),
        (
            "tanh.json",
            vec!["--activation", "tanh", "--ni", "2", "--nh", "2"],
        ),
    ] {
        let file = teacher(&dir, name, &args);
        let out = dir.path(&format!("{name}.npy"));
        ok(&["hessian", "--network", s(&file), "--out", s(&out)]);
        let net = load_network(&file);
        let h = PopulationHessian::at_optimum(&net).dense().unwrap();
        let d = net.dim() as u64;
        let (shape, data) = read_npy(&out);
        assert_eq!(shape, vec![d, d], "{name}");
        assert_eq!(data.len(), h.as_slice().len());
        for (i, (a, b)) in data.iter().zip(h.as_slice()).enumerate() {
            assert_eq!(a.to_bits(), b.to_bits(), "{name}: entry {i}: {a} vs {b}");
        }
    }
    // Nothing but the inputs and outputs is left behind (no temporary files).
    assert_eq!(
        dir.listing(),
        vec![
            "erf.json",
            "erf.json.npy",
            "quad.json",
            "quad.json.npy",
            "tanh.json",
            "tanh.json.npy"
        ]
    );
}

#[test]
fn thread_count_does_not_change_the_output() {
    // D = 420 is large enough for faer's eigensolver to split its work by thread count.
    let dir = TempDir::new("threads");
    let file = teacher(
        &dir,
        "n.json",
        &["--activation", "erf", "--ni", "20", "--nh", "20"],
    );
    let f = s(&file);
    for extra in [
        vec![],
        vec!["--samples", "600", "--seed", "5"],
        vec!["--samples", "200"],
    ] {
        let mut outs = vec![];
        for t in ["1", "2", "3"] {
            let mut a = vec!["--threads", t, "spectrum", "--network", f, "--json"];
            a.extend_from_slice(&extra);
            outs.push(ok(&a));
        }
        assert_eq!(outs[0], outs[1], "{extra:?}");
        assert_eq!(outs[0], outs[2], "{extra:?}");
    }
    let mut files = vec![];
    for t in ["1", "2"] {
        let out = dir.path(&format!("h{t}.npy"));
        ok(&["--threads", t, "hessian", "--network", f, "--out", s(&out)]);
        files.push(std::fs::read(&out).unwrap());
    }
    assert_eq!(files[0], files[1]);
}

#[test]
fn sampled_spectrum_converges_to_the_exact_one() {
    let dir = TempDir::new("sampled");
    let file = teacher(
        &dir,
        "n.json",
        &[
            "--activation",
            "erf",
            "--ni",
            "3",
            "--nh",
            "2",
            "--seed",
            "2",
        ],
    );
    let f = s(&file);
    let net = load_network(&file);
    let d = net.dim();
    let exact = json(&ok(&["spectrum", "--network", f, "--json"]));
    let lam = floats(&exact["eigenvalues"]);
    // Error bar. Ĥ = (1/n) Σ J Jᵀ has E‖Ĥ − H‖_F² = σ²/n with σ² = Σ_ij Var(J_i J_j), estimated
    // here from 40 000 independent Jacobians. By Weyl's inequality every eigenvalue moves by at
    // most ‖Ĥ − H‖₂ ≤ ‖Ĥ − H‖_F, and by Markov's inequality ‖Ĥ − H‖_F > 5σ/√n has probability
    // below 1/25 — in practice far less, as both inequalities are loose.
    let big = 40_000;
    let j = sampled_jacobian(&net, big, 99).unwrap();
    let mut sigma2 = 0.0;
    for a in 0..d {
        for b in 0..d {
            let (mut m1, mut m2) = (0.0, 0.0);
            for i in 0..big {
                let p = j.get(i, a) * j.get(i, b);
                m1 += p;
                m2 += p * p;
            }
            let mean = m1 / big as f64;
            sigma2 += m2 / big as f64 - mean * mean;
        }
    }
    let sigma = sigma2.sqrt();
    let mut errors = vec![];
    for n in [256usize, 4096, 65_536] {
        let r = json(&ok(&[
            "spectrum",
            "--network",
            f,
            "--json",
            "--samples",
            &n.to_string(),
            "--seed",
            "7",
        ]));
        assert_eq!(r["method"], "sampled");
        assert_eq!(r["samples"].as_u64(), Some(n as u64));
        assert_eq!(r["seed"].as_u64(), Some(7));
        let ev = floats(&r["eigenvalues"]);
        assert_eq!(ev.len(), d);
        let err = ev
            .iter()
            .zip(&lam)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        let bound = 5.0 * sigma / (n as f64).sqrt();
        assert!(err <= bound, "n = {n}: error {err} above 5σ/√n = {bound}");
        errors.push(err);
    }
    // 256× more samples: the error shrinks (expected by 16×).
    assert!(errors[2] < errors[0], "{errors:?}");
    // The exact Hessian has full rank here and so has the sampled one once n ≥ D.
    assert_eq!(exact["rank"].as_u64(), Some(d as u64));
}

#[test]
fn sampled_routes_agree_with_the_library() {
    let dir = TempDir::new("routes");
    let t = teacher(
        &dir,
        "t.json",
        &[
            "--activation",
            "erf",
            "--ni",
            "3",
            "--nh",
            "3",
            "--seed",
            "4",
        ],
    );
    let st = teacher(
        &dir,
        "s.json",
        &[
            "--activation",
            "erf",
            "--ni",
            "3",
            "--nh",
            "3",
            "--seed",
            "5",
        ],
    );
    let (tn, sn) = (load_network(&t), load_network(&st));
    let d = tn.dim();
    // n < D goes through the NTK Gram: its nonzero eigenvalues are those of JᵀJ/n.
    let r = json(&ok(&[
        "spectrum",
        "--network",
        s(&t),
        "--json",
        "--samples",
        "5",
    ]));
    let ev = floats(&r["eigenvalues"]);
    let direct = symmetric_eigenvalues(&sampled_outer_product(&tn, 5, 1).unwrap()).unwrap();
    let scale = direct[d - 1];
    for (a, b) in ev.iter().zip(&direct) {
        assert!((a - b).abs() < 1e-12 * scale, "{a} vs {b}");
    }
    assert_eq!(r["rank"].as_u64(), Some(5));
    // --samples writes the sampled Hessian at the optimum; --student the one at the student,
    // functional term included: the library's matrices bit for bit.
    let h_opt = dir.path("opt.npy");
    ok(&[
        "hessian",
        "--network",
        s(&t),
        "--out",
        s(&h_opt),
        "--samples",
        "700",
        "--seed",
        "3",
    ]);
    let (shape, data) = read_npy(&h_opt);
    assert_eq!(shape, vec![d as u64, d as u64]);
    let lib = sampled_outer_product(&tn, 700, 3).unwrap();
    assert!(data
        .iter()
        .zip(lib.as_slice())
        .all(|(a, b)| a.to_bits() == b.to_bits()));
    let h_st = dir.path("st.npy");
    ok(&[
        "hessian",
        "--network",
        s(&t),
        "--student",
        s(&st),
        "--out",
        s(&h_st),
        "--samples",
        "700",
        "--seed",
        "3",
    ]);
    let (_, data) = read_npy(&h_st);
    let lib = sampled_hessian(&sn, &tn, 700, 3).unwrap();
    assert!(data
        .iter()
        .zip(lib.as_slice())
        .all(|(a, b)| a.to_bits() == b.to_bits()));
    // Away from the optimum the functional term makes it differ from the outer product.
    let outer = sampled_outer_product(&sn, 700, 3).unwrap();
    let diff = data
        .iter()
        .zip(outer.as_slice())
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    assert!(diff > 1e-6, "functional term missing ({diff})");
}

#[test]
fn eigenvectors_are_written_as_columns() {
    let dir = TempDir::new("vectors");
    let file = teacher(
        &dir,
        "n.json",
        &["--activation", "erf", "--ni", "3", "--nh", "4"],
    );
    let v = dir.path("v.npy");
    let r = json(&ok(&[
        "spectrum",
        "--network",
        s(&file),
        "--json",
        "--vectors",
        s(&v),
    ]));
    let ev = floats(&r["eigenvalues"]);
    let net = load_network(&file);
    let h = PopulationHessian::at_optimum(&net).dense().unwrap();
    let d = net.dim();
    let (shape, data) = read_npy(&v);
    assert_eq!(shape, vec![d as u64, d as u64]);
    let lmax = ev[d - 1];
    for (k, lam) in ev.iter().enumerate() {
        let col: Vec<f64> = (0..d).map(|i| data[i * d + k]).collect();
        let norm: f64 = col.iter().map(|x| x * x).sum::<f64>().sqrt();
        assert!((norm - 1.0).abs() < 1e-12);
        let mut hv = vec![0.0; d];
        h.matvec(&col, &mut hv);
        let res = hv
            .iter()
            .zip(&col)
            .map(|(a, b)| (a - lam * b).abs())
            .fold(0.0, f64::max);
        assert!(res < 1e-12 * lmax, "eigenpair {k}: residual {res}");
    }
    // Without --json: a human summary, not JSON.
    let text = ok(&["spectrum", "--network", s(&file)]);
    assert!(text.contains(&format!("D = {d}")) && text.contains("rank") && text.contains("λ_min"));
    assert!(serde_json::from_str::<Value>(&text).is_err());
}

/// Environment variables of a run.
type Env = Vec<(&'static str, &'static str)>;
/// A failing run: name, arguments, environment, text the error line must contain.
type Case = (String, Vec<String>, Env, String);

#[test]
fn bad_input_fails_with_one_named_line_and_no_output() {
    let dir = TempDir::new("errors");
    let good = teacher(
        &dir,
        "good.json",
        &["--activation", "erf", "--ni", "3", "--nh", "2"],
    );
    let other = teacher(
        &dir,
        "other.json",
        &["--activation", "erf", "--ni", "2", "--nh", "2"],
    );
    let bad_files = [
        (
            "malformed",
            r#"{"activation": {"kind": "erf"}, "w1": [[1, 2]"#,
            "not valid JSON",
        ),
        (
            "ragged",
            r#"{"activation":{"kind":"erf"},"w1":[[1,2],[3]],"w2":[1,2]}"#,
            "ragged",
        ),
        (
            "missing",
            r#"{"activation":{"kind":"erf"},"w1":[[1,2]]}"#,
            "missing key `w2`",
        ),
        (
            "unknown",
            r#"{"activation":{"kind":"erf"},"w1":[[1]],"w2":[1],"bias":[0]}"#,
            "unknown key `bias`",
        ),
        (
            "nonnumber",
            r#"{"activation":{"kind":"erf"},"w1":[[1,"x"]],"w2":[1]}"#,
            "row 0 column 1",
        ),
        (
            "activation",
            r#"{"activation":{"kind":"swish3"},"w1":[[1]],"w2":[1]}"#,
            "unknown activation kind `swish3`",
        ),
        (
            "infinite",
            r#"{"activation":{"kind":"erf"},"w1":[[1e999]],"w2":[1]}"#,
            "number out of range",
        ),
        (
            "empty",
            r#"{"activation":{"kind":"erf"},"w1":[],"w2":[]}"#,
            "`w1` is empty",
        ),
    ];
    let out = dir.path("out.npy");
    let vec_out = dir.path("v.npy");
    let mut cases: Vec<Case> = vec![];
    for (name, text, needle) in bad_files {
        let p = dir.path(&format!("{name}.json"));
        std::fs::write(&p, text).unwrap();
        let p = s(&p).to_string();
        cases.push((
            format!("hessian/{name}"),
            vec![
                "hessian".into(),
                "--network".into(),
                p.clone(),
                "--out".into(),
                s(&out).into(),
            ],
            vec![],
            needle.into(),
        ));
        cases.push((
            format!("spectrum/{name}"),
            vec![
                "spectrum".into(),
                "--network".into(),
                p,
                "--json".into(),
                "--vectors".into(),
                s(&vec_out).into(),
            ],
            vec![],
            needle.into(),
        ));
    }
    let g = s(&good).to_string();
    let strs = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let missing_dir = dir.path("no-such-dir").join("h.npy");
    let more: Vec<(&str, Vec<String>, Env, &str)> = vec![
        (
            "too large (hessian)",
            strs(&["hessian", "--network", &g, "--out", s(&out)]),
            vec![("NEAROPT_MEMORY_LIMIT", "500")],
            "the dense 8 × 8 population Hessian needs 512 B but NEAROPT_MEMORY_LIMIT allows only 500 B",
        ),
        (
            "too large (spectrum)",
            strs(&["spectrum", "--network", &g, "--json"]),
            vec![("NEAROPT_MEMORY_LIMIT", "500")],
            "working set (2 copies of the 8 × 8 Hessian) needs 1.0 KiB but NEAROPT_MEMORY_LIMIT allows only 500 B",
        ),
        (
            "too large (sampled)",
            strs(&["spectrum", "--network", &g, "--samples", "100"]),
            vec![("NEAROPT_MEMORY_LIMIT", "500")],
            "NEAROPT_MEMORY_LIMIT allows only 500 B",
        ),
        (
            "no output dir",
            strs(&["hessian", "--network", &g, "--out", s(&missing_dir)]),
            vec![],
            "does not exist",
        ),
        (
            "no vectors dir",
            strs(&["spectrum", "--network", &g, "--vectors", s(&missing_dir)]),
            vec![],
            "does not exist",
        ),
        (
            "no network",
            strs(&["spectrum", "--network", s(&dir.path("nope.json"))]),
            vec![],
            "cannot read network file",
        ),
        (
            "exact student of other Ni",
            strs(&[
                "hessian",
                "--network",
                &g,
                "--student",
                s(&other),
                "--out",
                s(&out),
            ]),
            vec![],
            "they must agree",
        ),
        (
            "student shape",
            strs(&[
                "hessian",
                "--network",
                &g,
                "--student",
                s(&other),
                "--samples",
                "10",
                "--out",
                s(&out),
            ]),
            vec![],
            "Ni = 2",
        ),
        (
            "seed without samples",
            strs(&["spectrum", "--network", &g, "--seed", "3"]),
            vec![],
            "--seed only applies with --samples",
        ),
        (
            "zero samples",
            strs(&[
                "hessian",
                "--network",
                &g,
                "--samples",
                "0",
                "--out",
                s(&out),
            ]),
            vec![],
            "--samples must be at least 1",
        ),
        (
            "negative rank tol",
            strs(&["spectrum", "--network", &g, "--rank-tol=-1"]),
            vec![],
            "--rank-tol",
        ),
        (
            "polynomial without coefficients",
            strs(&[
                "teacher",
                "--activation",
                "polynomial",
                "--ni",
                "2",
                "--nh",
                "2",
                "--out",
                s(&out),
            ]),
            vec![],
            "needs --coefficients",
        ),
        (
            "bad coefficient",
            strs(&[
                "teacher",
                "--activation",
                "polynomial",
                "--coefficients",
                "1,x",
                "--ni",
                "2",
                "--nh",
                "2",
            ]),
            vec![],
            "entry 1",
        ),
        (
            "nu <= 2",
            strs(&[
                "teacher",
                "--activation",
                "erf",
                "--weights",
                "student-t",
                "--nu",
                "2",
                "--ni",
                "2",
                "--nh",
                "2",
                "--out",
                s(&out),
            ]),
            vec![],
            "--nu",
        ),
        (
            "zero ni",
            strs(&["teacher", "--activation", "erf", "--ni", "0", "--nh", "2"]),
            vec![],
            "--ni must be at least 1",
        ),
        (
            "zero nh",
            strs(&["teacher", "--activation", "erf", "--ni", "2", "--nh", "0"]),
            vec![],
            "--nh must be at least 1",
        ),
        (
            "huge teacher",
            strs(&[
                "teacher",
                "--activation",
                "erf",
                "--ni",
                "100000",
                "--nh",
                "100000",
            ]),
            vec![("NEAROPT_MEMORY_LIMIT", "1000000")],
            "teacher --ni 100000 --nh 100000: 10000100000 weights and their network-file text",
        ),
        (
            "unknown teacher activation",
            strs(&[
                "teacher",
                "--activation",
                "swish3",
                "--ni",
                "2",
                "--nh",
                "2",
            ]),
            vec![],
            "unknown activation `swish3`",
        ),
        (
            "unknown weights",
            strs(&[
                "teacher",
                "--activation",
                "erf",
                "--weights",
                "cauchy",
                "--ni",
                "2",
                "--nh",
                "2",
            ]),
            vec![],
            "unknown weight distribution `cauchy`",
        ),
        (
            "epsilon for erf",
            strs(&[
                "teacher",
                "--activation",
                "erf",
                "--epsilon",
                "1",
                "--ni",
                "2",
                "--nh",
                "2",
            ]),
            vec![],
            "--epsilon only applies",
        ),
        (
            "teacher no dir",
            strs(&[
                "teacher",
                "--activation",
                "erf",
                "--ni",
                "2",
                "--nh",
                "2",
                "--out",
                s(&missing_dir),
            ]),
            vec![],
            "does not exist",
        ),
    ];
    for (name, args, env, needle) in more {
        cases.push((name.into(), args, env, needle.into()));
    }
    let before = dir.listing();
    for (name, args, env, needle) in &cases {
        let a: Vec<&str> = args.iter().map(|x| x.as_str()).collect();
        let out = nearopt(&a, env);
        assert_fails(&out, needle, name);
        assert_eq!(dir.listing(), before, "{name}: files left behind");
    }
    assert!(!out.exists() && !vec_out.exists() && !missing_dir.exists());
}

#[test]
fn large_network_keeps_stdout_and_redirected_stderr_clean() {
    // D = 49·40 + 49 = 2009 ≥ 2000: the spinner is on, but only draws on a terminal.
    let dir = TempDir::new("large");
    let file = teacher(
        &dir,
        "lin.json",
        &["--activation", "linear", "--ni", "40", "--nh", "49"],
    );
    let out = nearopt(&["spectrum", "--network", s(&file), "--json"], &[]);
    assert!(out.status.success());
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r = json(&String::from_utf8(out.stdout).unwrap());
    assert_eq!(r["dimension"].as_u64(), Some(2009));
    assert_eq!(floats(&r["eigenvalues"]).len(), 2009);
    assert_eq!(
        r["rank"].as_u64(),
        Some(40),
        "rank of a linear network is Ni"
    );
}

#[test]
fn parallel_eigensolver_agrees_to_rounding() {
    let dir = TempDir::new("parallel");
    let file = teacher(
        &dir,
        "n.json",
        &["--activation", "erf", "--ni", "12", "--nh", "12"],
    );
    let f = s(&file);
    let a = floats(&json(&ok(&["spectrum", "--network", f, "--json"]))["eigenvalues"]);
    let b = floats(
        &json(&ok(&[
            "--threads",
            "2",
            "spectrum",
            "--network",
            f,
            "--json",
            "--parallel-eigensolver",
        ]))["eigenvalues"],
    );
    let lmax = a[a.len() - 1];
    // Backward-stable solvers: both within a few D·ε·λ_max of the truth.
    let tol = 10.0 * a.len() as f64 * f64::EPSILON * lmax;
    for (x, y) in a.iter().zip(&b) {
        assert!((x - y).abs() <= tol, "{x} vs {y}");
    }
}
