//! End-to-end tests of `nearopt student`: the written student is read back, its outputs are
//! compared with the teacher's by a forward pass written here, and `nearopt spectrum` on it gives
//! the rank derived in `docs/overparam.md` (`nearopt::students::predicted_rank`); bad requests
//! fail with one line and leave no file.

use nearopt::network_file::parse_network;
use nearopt::students::{predicted_rank, Optimum};
use nearopt::Network;
use serde_json::Value;
use std::path::PathBuf;
use std::process::{Command, Output};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_nearopt"))
}

fn dir(tag: &str) -> PathBuf {
    let p = std::env::temp_dir().join(format!("nearopt-student-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&p);
    std::fs::create_dir_all(&p).unwrap();
    p
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().unwrap()
}

fn teacher(d: &std::path::Path, act: &str, ni: usize, nh: usize) -> PathBuf {
    let t = d.join(format!("teacher-{act}.json"));
    let o = run(&[
        "teacher",
        "--activation",
        act,
        "--ni",
        &ni.to_string(),
        "--nh",
        &nh.to_string(),
        "--seed",
        "11",
        "--out",
        t.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    t
}

fn read(p: &std::path::Path) -> Network {
    parse_network(&std::fs::read_to_string(p).unwrap()).unwrap()
}

/// `Σ_m a_m g(w_m·x)`, written here: only the scalar `g` comes from the library, not the
/// network's forward pass.
fn forward(net: &Network, x: &[f64]) -> f64 {
    let g = net.activation().function();
    (0..net.nh())
        .map(|m| {
            let z: f64 = net.w1_row(m).iter().zip(x).map(|(w, v)| w * v).sum();
            net.w2()[m] * g.derivative(0, z)
        })
        .sum()
}

#[test]
fn students_compute_the_teacher_and_have_the_predicted_rank() {
    let d = dir("rank");
    for (act, ni, nh) in [("erf", 3, 2), ("quadratic", 3, 2), ("linear", 2, 2)] {
        let tp = teacher(&d, act, ni, nh);
        let t = read(&tp);
        for kind in Optimum::ALL {
            for width in [nh, nh + 1, nh + 2] {
                if !kind.applies(t.activation(), width - nh) {
                    continue;
                }
                let sp = d.join(format!("s-{act}-{}-{width}.json", kind.name()));
                let o = run(&[
                    "student",
                    "--teacher",
                    tp.to_str().unwrap(),
                    "--width",
                    &width.to_string(),
                    "--optimum",
                    kind.name(),
                    "--seed",
                    "5",
                    "--out",
                    sp.to_str().unwrap(),
                ]);
                assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
                let s = read(&sp);
                assert_eq!((s.ni(), s.nh()), (ni, width));
                // Same function: a few hundred pseudo-random inputs, to rounding.
                let mut state = 12345u64;
                let mut next = || {
                    state = state
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    ((state >> 11) as f64 / (1u64 << 53) as f64) * 4.0 - 2.0
                };
                for _ in 0..300 {
                    let x: Vec<f64> = (0..ni).map(|_| next()).collect();
                    let (ys, yt) = (forward(&s, &x), forward(&t, &x));
                    assert!(
                        (ys - yt).abs() <= 1e-13 * (1.0 + yt.abs()),
                        "{act} {} K={width}: {ys} vs {yt}",
                        kind.name()
                    );
                }
                let o = run(&["spectrum", "--network", sp.to_str().unwrap(), "--json"]);
                assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
                let v: Value = serde_json::from_slice(&o.stdout).unwrap();
                let rank = v["rank"].as_u64().unwrap() as usize;
                let want = predicted_rank(t.activation(), ni, nh, kind, width).unwrap();
                assert_eq!(rank, want, "{act} {} K={width}", kind.name());
            }
        }
    }
    // The check can fail: a student with one output weight moved is not at the optimum.
    let tp = teacher(&d, "erf", 3, 2);
    let t = read(&tp);
    let sp = d.join("s-moved.json");
    let o = run(&[
        "student",
        "--teacher",
        tp.to_str().unwrap(),
        "--width",
        "3",
        "--optimum",
        "zero",
        "--out",
        sp.to_str().unwrap(),
    ]);
    assert!(o.status.success());
    let s = read(&sp);
    let mut a = s.w2().to_vec();
    a[2] = 0.3;
    let moved = Network::new(s.activation().clone(), 3, 3, s.w1().to_vec(), a).unwrap();
    let x = [0.7, -0.4, 1.1];
    assert!((forward(&moved, &x) - forward(&t, &x)).abs() > 1e-3);
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn same_seed_same_student_and_bad_requests_fail_cleanly() {
    let d = dir("errors");
    let tp = teacher(&d, "quadratic", 3, 2);
    let args = |seed: &str| {
        run(&[
            "student",
            "--teacher",
            tp.to_str().unwrap(),
            "--width",
            "4",
            "--optimum",
            "zero",
            "--seed",
            seed,
        ])
    };
    let (a, b, c) = (args("3"), args("3"), args("4"));
    assert!(a.status.success());
    assert_eq!(a.stdout, b.stdout);
    assert_ne!(a.stdout, c.stdout);
    let out = d.join("never.json");
    for bad in [
        vec!["--width", "1", "--optimum", "zero"],
        vec!["--width", "3", "--optimum", "cancel"],
        vec!["--width", "4", "--optimum", "mirror"],
        vec!["--width", "4", "--optimum", "sideways"],
    ] {
        let mut full = vec!["student", "--teacher", tp.to_str().unwrap()];
        full.extend(&bad);
        full.extend(["--out", out.to_str().unwrap()]);
        let o = run(&full);
        assert_eq!(o.status.code(), Some(1), "{bad:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(err.trim_end().lines().count(), 1, "{bad:?}: {err}");
        assert!(err.starts_with("error: "), "{err}");
        assert!(!out.exists(), "{bad:?} left a file");
    }
    let _ = std::fs::remove_dir_all(&d);
}
