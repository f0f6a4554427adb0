//! The CLI against the independent NumPy reference `tools/reference/hessian_reference.py`.
//!
//! Fresh random networks of every activation are drawn here with this file's own generator
//! (SplitMix64 + Box–Muller; never seen by the library's tests), written as network files, and
//! `nearopt spectrum --network F --json` and `nearopt hessian --network F --out H.npy` are run on
//! them. The reference computes `E[J Jᵀ]` by a different route (Gauss–Hermite / trapezoid
//! quadrature over the span of the `W1` rows, the orthogonal complement integrated analytically,
//! no Stein reduction); it is converged to ≲ 1e-14 relative (see its self-checks). Both the
//! eigenvalues and every Hessian entry must agree to `1e-9 · λ_max`.
//!
//! The `.npy` file is parsed by hand here (header, dtype `<f8`, C order, shape) so that the check
//! does not share the CLI's writer.

// Matrix code reads clearest with explicit indices.
#![allow(clippy::needless_range_loop)]

use serde_json::{json, Value};
use std::path::Path;
use std::process::Command;

#[path = "support/reference.rs"]
mod reference;
use reference::{compare_with_reference, numbers, repo_root, run, Gen};

/// A network file's JSON: `W1` entries `N(0, scale²/Ni)`, `W2` entries `N(0, 1)`.
fn random_network(g: &mut Gen, activation: Value, ni: usize, nh: usize, scale: f64) -> Value {
    let w1: Vec<Vec<f64>> = (0..nh)
        .map(|_| {
            (0..ni)
                .map(|_| scale * g.normal() / (ni as f64).sqrt())
                .collect()
        })
        .collect();
    let w2: Vec<f64> = (0..nh).map(|_| g.normal()).collect();
    json!({"activation": activation, "w1": w1, "w2": w2})
}

/// Adds `b1` entries `N(0, b1_std²)` and then `b2 ~ N(0, b2_std²)` where a std is given.
fn with_biases(mut net: Value, g: &mut Gen, b1_std: Option<f64>, b2_std: Option<f64>) -> Value {
    let nh = net["w2"].as_array().unwrap().len();
    if let Some(sd) = b1_std {
        net["b1"] = json!((0..nh).map(|_| sd * g.normal()).collect::<Vec<f64>>());
    }
    if let Some(sd) = b2_std {
        net["b2"] = json!(sd * g.normal());
    }
    net
}

/// The cases: every activation, shapes with Nh < Ni, Nh = Ni and Nh > Ni (the reference takes
/// Nh ≤ 3), and degenerate networks (a repeated row, a zero row).
fn cases() -> Vec<(String, Value)> {
    let mut g = Gen(0x5EED_2026_0A0B_0C0D);
    let mut out = Vec::new();
    let shapes = [(4usize, 3usize), (2, 3), (5, 2), (3, 1), (3, 3)];
    for (i, &(ni, nh)) in shapes.iter().enumerate() {
        let eps = 0.2 + 1.3 * g.uniform();
        let c3: Vec<f64> = (0..4).map(|_| g.normal() * 0.6).collect();
        let c4: Vec<f64> = (0..5).map(|_| g.normal() * 0.5).collect();
        let scale = 0.6 + 1.2 * g.uniform();
        let acts = [
            ("linear", json!({"kind": "linear"})),
            ("quadratic", json!({"kind": "quadratic", "epsilon": eps})),
            ("cubic", json!({"kind": "polynomial", "coefficients": c3})),
            ("quartic", json!({"kind": "polynomial", "coefficients": c4})),
            ("erf", json!({"kind": "erf"})),
            ("tanh", json!({"kind": "tanh"})),
        ];
        for (name, act) in acts {
            // tanh's reference quadrature is the slow one: two shapes suffice.
            if name == "tanh" && i % 2 == 1 {
                continue;
            }
            out.push((
                format!("{name}-{ni}x{nh}"),
                random_network(&mut g, act, ni, nh, scale),
            ));
        }
    }
    // Degenerate geometry: two identical rows (c² = q1·q2) and a zero row (q = 0), where
    // Cholesky factors and closed forms hit their edge cases.
    for (name, act) in [
        ("erf", json!({"kind": "erf"})),
        ("tanh", json!({"kind": "tanh"})),
        (
            "cubic",
            json!({"kind": "polynomial", "coefficients": [0.3, 1.0, -0.4, 0.2]}),
        ),
    ] {
        let mut net = random_network(&mut g, act, 3, 3, 1.0);
        let row0 = net["w1"][0].clone();
        net["w1"][1] = row0;
        net["w1"][2] = json!([0.0, 0.0, 0.0]);
        out.push((format!("{name}-degenerate"), net));
    }
    // The smooth activations beyond the paper, and biases (non-centred pre-activations), on
    // shapes whose row space has at most two dimensions (the reference's trapezoid grid is then
    // small). relu and leaky_relu are not here: the reference's quadrature needs a smooth g'
    // (they are checked against Monte Carlo in `verify_monte_carlo.rs`).
    for (name, act, ni, nh, b1, b2) in [
        ("gelu", json!({"kind": "gelu"}), 2, 2, false, false),
        ("silu", json!({"kind": "silu"}), 3, 2, false, false),
        ("softplus", json!({"kind": "softplus"}), 2, 2, false, false),
        ("sigmoid", json!({"kind": "sigmoid"}), 2, 1, false, false),
        ("erf-b1-b2", json!({"kind": "erf"}), 3, 2, true, true),
        (
            "quadratic-b1",
            json!({"kind": "quadratic", "epsilon": 0.8}),
            4,
            3,
            true,
            false,
        ),
        (
            "cubic-b1-b2",
            json!({"kind": "polynomial", "coefficients": [0.1, 1.0, -0.4, 0.3]}),
            3,
            3,
            true,
            true,
        ),
        ("gelu-b2", json!({"kind": "gelu"}), 2, 2, false, true),
        ("tanh-b1", json!({"kind": "tanh"}), 2, 1, true, false),
        ("silu-b1-b2", json!({"kind": "silu"}), 2, 2, true, true),
    ] {
        let net = random_network(&mut g, act, ni, nh, 1.0);
        out.push((
            format!("{name}-{ni}x{nh}"),
            with_biases(net, &mut g, b1.then_some(0.5), b2.then_some(0.3)),
        ));
    }
    // W1 = 0: every pre-activation vanishes (q = c = 0).
    out.push((
        "tanh-zero-w1".into(),
        json!({"activation": {"kind": "tanh"}, "w1": [[0.0, 0.0], [0.0, 0.0]], "w2": [0.7, -1.1]}),
    ));
    out
}

/// [`compare_with_reference`], plus the spectrum's order and its rank (INTERFACE.md's default
/// tolerance); returns the worst relative disagreement.
fn check_case(dir: &Path, script: &Path, name: &str, net: &Value, student: Option<&Value>) -> f64 {
    let (worst, spec) = compare_with_reference(dir, script, name, net, student);
    let eigs = numbers(&spec["eigenvalues"]);
    let d = eigs.len();
    assert!(eigs.windows(2).all(|w| w[0] <= w[1]), "{name}: ascending");
    // The spectrum command's rank follows INTERFACE.md's default tolerance λ_max·D·ε (at a
    // student, of max |λ|, counting the eigenvalues of either sign beyond it).
    let scale = eigs[d - 1].max(-eigs[0]);
    let tol = scale * d as f64 * f64::EPSILON;
    let rank = eigs.iter().filter(|&&e| e.abs() > tol).count();
    assert_eq!(spec["rank"].as_u64(), Some(rank as u64), "{name}: rank");
    worst
}

#[test]
fn cli_spectrum_and_hessian_agree_with_the_numpy_reference() {
    let dir = std::env::temp_dir().join(format!("nearopt-refagree-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let script = repo_root().join("tools/reference/hessian_reference.py");
    let cases = cases();
    // Two workers (the reference's quadrature is the slow part); a failed check panics its
    // worker, and the scope re-raises the panic here.
    let worst = std::thread::scope(|sc| {
        let workers: Vec<_> = (0..2)
            .map(|w| {
                let (dir, script, cases) = (&dir, &script, &cases);
                sc.spawn(move || {
                    cases
                        .iter()
                        .skip(w)
                        .step_by(2)
                        .map(|(name, net)| check_case(dir, script, name, net, None))
                        .fold(0.0f64, f64::max)
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|h| h.join().expect("a reference check failed"))
            .fold(0.0f64, f64::max)
    });
    let _ = std::fs::remove_dir_all(&dir);
    eprintln!("worst relative disagreement with the reference: {worst:.2e}");
}

/// One student case: name, teacher activation, `Ni`, teacher `Nh`, student activation, student
/// `Nh`, and (b1, b2) present on the teacher and on the student.
type StudentCase<'a> = (
    &'a str,
    &'a Value,
    usize,
    usize,
    &'a Value,
    usize,
    (bool, bool),
    (bool, bool),
);

/// `nearopt spectrum/hessian --network T --student S` (the exact Hessian at a student, functional
/// term included) against the independent `tools/reference/student_reference.py` (quadrature over
/// the joint row space of the student's and the teacher's rows, directly on `J Jᵀ + r ∂²y`; its
/// self-checks: Monte Carlo within 6 SE, converged to ≈ 3e-15). Students of other widths, other
/// activations, biases on either side, near and far from the teacher; `Ni ≤ 3` (the reference
/// integrates over at most three dimensions). Agreement demanded: `1e-9 · max |λ|`.
#[test]
fn cli_student_hessians_agree_with_the_numpy_reference() {
    let dir = std::env::temp_dir().join(format!("nearopt-refstudent-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let script = repo_root().join("tools/reference/student_reference.py");
    let mut g = Gen(0x57_0de7_2026_1202);
    let erf = json!({"kind": "erf"});
    let quad = json!({"kind": "quadratic", "epsilon": 0.6});
    let cubic = json!({"kind": "polynomial", "coefficients": [0.2, 1.0, -0.3, 0.25]});
    let mut cases: Vec<(String, Value, Value)> = Vec::new();
    // (name, teacher activation, Ni, teacher Nh, student activation, student Nh, biases t/s)
    let specs: [StudentCase; 7] = [
        (
            "erf-wider",
            &erf,
            2,
            1,
            &erf,
            3,
            (false, false),
            (false, false),
        ),
        (
            "erf-narrower-biased",
            &erf,
            3,
            2,
            &erf,
            1,
            (true, true),
            (true, false),
        ),
        (
            "tanh-to-erf",
            &json!({"kind": "tanh"}),
            2,
            2,
            &erf,
            2,
            (false, false),
            (false, true),
        ),
        (
            "quadratic-biased",
            &quad,
            3,
            2,
            &quad,
            3,
            (false, true),
            (true, true),
        ),
        (
            "cubic",
            &cubic,
            2,
            2,
            &cubic,
            2,
            (false, false),
            (true, false),
        ),
        (
            "erf-to-gelu",
            &erf,
            2,
            2,
            &json!({"kind": "gelu"}),
            1,
            (true, false),
            (true, false),
        ),
        (
            "softplus-to-silu",
            &json!({"kind": "softplus"}),
            2,
            1,
            &json!({"kind": "silu"}),
            2,
            (false, false),
            (true, true),
        ),
    ];
    for (name, ta, ni, tnh, sa, snh, (tb1, tb2), (sb1, sb2)) in specs {
        let t = random_network(&mut g, ta.clone(), ni, tnh, 1.1);
        let t = with_biases(t, &mut g, tb1.then_some(0.3), tb2.then_some(0.4));
        let s = random_network(&mut g, sa.clone(), ni, snh, 1.1);
        let s = with_biases(s, &mut g, sb1.then_some(0.3), sb2.then_some(0.4));
        cases.push((name.to_string(), t, s));
    }
    // A student near the teacher (the trajectory's regime): the teacher's weights plus 5% noise.
    let t = random_network(&mut g, erf.clone(), 3, 2, 1.0);
    let mut s = t.clone();
    for row in s["w1"].as_array_mut().unwrap() {
        for v in row.as_array_mut().unwrap() {
            *v = json!(v.as_f64().unwrap() + 0.05 * g.normal());
        }
    }
    cases.push(("erf-near-optimum".into(), t, s));
    let mut worst: f64 = 0.0;
    for (name, t, s) in &cases {
        worst = worst.max(check_case(&dir, &script, name, t, Some(s)));
    }
    let _ = std::fs::remove_dir_all(&dir);
    eprintln!("worst relative disagreement with the student reference: {worst:.2e}");
}

/// The two-stage eigensolver (used from `D = 1200` on, where the NumPy reference's quadrature
/// would be slow) against LAPACK: `nearopt spectrum --json` on 2 threads against
/// `numpy.linalg.eigvalsh` of the matrix `nearopt hessian` wrote. Both are backward stable, so
/// they agree to a few `D·ε·λ_max` (≈ 3e-13 here); `1e-11` leaves room while a lost or shifted
/// eigenvalue would be far larger. The Hessian itself is checked against the reference above.
#[test]
fn large_spectra_agree_with_lapack() {
    let dir = std::env::temp_dir().join(format!("nearopt-lapack-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut g = Gen(0x5eed_1a9a_c0de);
    let cases = [
        ("erf-35x35", json!({"kind": "erf"}), 35, 35),
        (
            "quadratic-40x30",
            json!({"kind": "quadratic", "epsilon": 0.5}),
            40,
            30,
        ),
    ];
    for (name, act, ni, nh) in cases {
        let net = random_network(&mut g, act, ni, nh, 1.0);
        let file = dir.join(format!("{name}.json"));
        std::fs::write(&file, serde_json::to_string(&net).unwrap()).unwrap();
        let npy = dir.join(format!("{name}.npy"));
        let spec: Value = serde_json::from_str(&run(
            Command::new(env!("CARGO_BIN_EXE_nearopt"))
                .args(["--threads", "2", "spectrum", "--network"])
                .arg(&file)
                .arg("--json"),
            "nearopt spectrum",
        ))
        .unwrap();
        run(
            Command::new(env!("CARGO_BIN_EXE_nearopt"))
                .args(["hessian", "--network"])
                .arg(&file)
                .arg("--out")
                .arg(&npy),
            "nearopt hessian",
        );
        let lapack: Vec<f64> = serde_json::from_str(&run(
            Command::new("python3")
                .arg("-c")
                .arg(
                    "import json, sys, numpy as np; \
                 print(json.dumps(np.linalg.eigvalsh(np.load(sys.argv[1])).tolist()))",
                )
                .arg(&npy),
            "numpy eigvalsh",
        ))
        .unwrap();
        let eigs = numbers(&spec["eigenvalues"]);
        let d = nh * ni + nh;
        assert!(d >= 1200, "{name}: D = {d} must reach the two-stage path");
        assert_eq!((eigs.len(), lapack.len()), (d, d), "{name}");
        let lmax = lapack[d - 1];
        let worst = eigs
            .iter()
            .zip(&lapack)
            .fold(0.0f64, |m, (a, b)| m.max((a - b).abs() / lmax));
        assert!(worst < 1e-11, "{name}: worst |Δλ|/λmax = {worst:e}");
        eprintln!("{name}: D = {d}, worst |Δλ|/λmax against LAPACK {worst:.1e}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
