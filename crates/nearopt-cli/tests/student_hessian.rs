//! End-to-end tests of `nearopt hessian --student` and `nearopt spectrum --student` without
//! `--samples` (the exact population Hessian at a student, `docs/student.md`): the written
//! matrix is the library's `ExactHessian` bit for bit, the printed eigenvalues are those of that
//! matrix, a student equal to the teacher gives the optimum's spectrum, and bad requests fail
//! with one line and leave no file.

use nearopt::dynamics::train::initial_noise;
use nearopt::hessian::ExactHessian;
use nearopt::network_file::{network_json, parse_network};
use nearopt::spectrum::symmetric_eigenvalues;
use nearopt::teacher::{sample_teacher, WeightDistribution};
use nearopt::{Activation, Network};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn dir(tag: &str) -> PathBuf {
    let p = std::env::temp_dir().join(format!(
        "nearopt-student-hessian-{tag}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&p);
    std::fs::create_dir_all(&p).unwrap();
    p
}

fn run(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_nearopt"));
    c.args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

/// Writes `net` and returns its path and the network as the CLI will read it.
fn write(d: &Path, name: &str, net: &Network) -> (String, Network) {
    let p = d.join(name);
    let text = network_json(net);
    std::fs::write(&p, &text).unwrap();
    (
        p.to_str().unwrap().to_string(),
        parse_network(&text).unwrap(),
    )
}

fn net(act: Activation, ni: usize, nh: usize, b1: bool, b2: bool, seed: u64) -> Network {
    let t = sample_teacher(act, ni, nh, WeightDistribution::Normal, seed, 0).unwrap();
    let noise = initial_noise(nh + 1, 0.3, seed, 7);
    t.with_biases(b1.then(|| noise[..nh].to_vec()), b2.then_some(noise[nh]))
        .unwrap()
}

fn read_npy(path: &Path) -> (Vec<u64>, Vec<f64>) {
    let bytes = std::fs::read(path).unwrap();
    let npy = npyz::NpyFile::new(&bytes[..]).unwrap();
    assert_eq!(npy.order(), npyz::Order::C);
    let shape = npy.shape().to_vec();
    (shape, npy.into_vec::<f64>().unwrap())
}

fn json(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s = String::from_utf8(out.stdout.clone()).unwrap();
    assert_eq!(s.trim_end().lines().count(), 1);
    serde_json::from_str(&s).unwrap()
}

fn fails_with(out: &Output, needle: &str) {
    assert!(!out.status.success());
    let e = String::from_utf8_lossy(&out.stderr);
    assert_eq!(e.trim_end().lines().count(), 1, "one line: {e}");
    assert!(e.contains(needle), "`{needle}` not in: {e}");
}

#[test]
fn hessian_and_spectrum_at_a_student_are_the_library_ones() {
    let d = dir("agree");
    let cases = [
        (
            net(Activation::Erf, 3, 2, false, false, 1),
            net(Activation::Tanh, 3, 3, true, true, 2),
        ),
        (
            net(Activation::Relu, 3, 3, true, false, 3),
            net(Activation::LeakyRelu { slope: 0.1 }, 3, 2, false, true, 4),
        ),
    ];
    for (i, (t, s)) in cases.iter().enumerate() {
        let (tp, t) = write(&d, &format!("t{i}.json"), t);
        let (sp, s) = write(&d, &format!("s{i}.json"), s);
        let lib = ExactHessian::new(&t, Some(&s)).unwrap().dense().unwrap();
        let out = d.join(format!("h{i}.npy"));
        let o = run(
            &[
                "hessian",
                "--network",
                &tp,
                "--student",
                &sp,
                "--out",
                out.to_str().unwrap(),
            ],
            &[],
        );
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let (shape, h) = read_npy(&out);
        let dim = s.dim() as u64;
        assert_eq!(shape, vec![dim, dim]);
        assert_eq!(h, lib.as_slice());
        let v = json(&run(
            &["spectrum", "--network", &tp, "--student", &sp, "--json"],
            &[],
        ));
        assert_eq!(v["dimension"], s.dim());
        assert_eq!(v["point"], "student");
        let ev: Vec<f64> = v["eigenvalues"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect();
        let want = symmetric_eigenvalues(&lib).unwrap();
        let scale = want.iter().fold(0.0f64, |m, x| m.max(x.abs()));
        for (a, b) in ev.iter().zip(&want) {
            assert!((a - b).abs() <= 1e-12 * scale, "{a} vs {b}");
        }
        // Away from the optimum the functional term makes some eigenvalue negative here.
        assert!(want[0] < -1e-6 * scale, "smallest eigenvalue {}", want[0]);
    }
}

#[test]
fn student_equal_to_teacher_gives_the_optimum() {
    let d = dir("same");
    let (tp, _) = write(&d, "t.json", &net(Activation::Erf, 3, 3, true, true, 5));
    let at = json(&run(
        &["spectrum", "--network", &tp, "--student", &tp, "--json"],
        &[],
    ));
    let opt = json(&run(&["spectrum", "--network", &tp, "--json"], &[]));
    assert_eq!(at["eigenvalues"], opt["eigenvalues"]);
    assert_eq!(opt["point"], "optimum");
}

#[test]
fn bad_requests_fail_cleanly() {
    let d = dir("bad");
    let (tp, _) = write(&d, "t.json", &net(Activation::Erf, 3, 2, false, false, 6));
    let (other, _) = write(&d, "o.json", &net(Activation::Erf, 4, 2, false, false, 7));
    let (sp, _) = write(&d, "s.json", &net(Activation::Tanh, 3, 5, false, false, 8));
    let out = d.join("h.npy");
    let o = out.to_str().unwrap();
    fails_with(
        &run(
            &["hessian", "--network", &tp, "--student", &other, "--out", o],
            &[],
        ),
        "they must agree",
    );
    fails_with(
        &run(
            &["spectrum", "--network", &tp, "--student", &other, "--json"],
            &[],
        ),
        "Ni = 4",
    );
    // Sizes and work are checked before anything starts.
    fails_with(
        &run(
            &["hessian", "--network", &tp, "--student", &sp, "--out", o],
            &[("NEAROPT_WORK_LIMIT", "1000")],
        ),
        "at the student",
    );
    fails_with(
        &run(
            &["hessian", "--network", &tp, "--student", &sp, "--out", o],
            &[("NEAROPT_MEMORY_LIMIT", "100")],
        ),
        "refused",
    );
    // --samples keeps the teacher's shape.
    fails_with(
        &run(
            &[
                "hessian",
                "--network",
                &tp,
                "--student",
                &sp,
                "--samples",
                "10",
                "--out",
                o,
            ],
            &[],
        ),
        "Nh = 5",
    );
    assert!(!out.exists());
}
