//! Families of hostile input (issue 8), one test per family: `docs/reliability.md` lists them.
//! Each test runs the real binary and checks what a user sees: exit status, the one error line
//! and what it names, and what is (not) left on disk.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        let p =
            std::env::temp_dir().join(format!("nearopt-hardening-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
    fn write(&self, name: &str, text: &str) -> String {
        let p = self.path(name);
        std::fs::write(&p, text).unwrap();
        p.to_string_lossy().into_owned()
    }
    /// Names in the directory containing `.tmp` (temporaries of atomic writes).
    fn temporaries(&self) -> Vec<String> {
        std::fs::read_dir(&self.0)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains(".tmp"))
            .collect()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn nearopt(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_nearopt"));
    c.args(args)
        .env_remove("NEAROPT_MEMORY_LIMIT")
        .env_remove("NEAROPT_WORK_LIMIT");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("the nearopt binary runs")
}

/// Failed with exit `code`, one line on stderr starting `error: ` containing every needle,
/// nothing on stdout; returns the line.
fn fails(out: &Output, code: i32, needles: &[&str], what: &str) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(code), "{what}: {stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{what}: not one line: {stderr:?}");
    assert!(lines[0].starts_with("error: "), "{what}: {stderr:?}");
    for n in needles {
        assert!(lines[0].contains(n), "{what}: `{n}` not in {stderr:?}");
    }
    assert!(out.stdout.is_empty(), "{what}: stdout not empty");
    // "0.0 GiB" as a whole number (not the tail of "20.0 GiB", which is readable).
    let unreadable = stderr.match_indices("0.0 GiB").any(|(i, _)| {
        !stderr[..i]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_ascii_digit())
    });
    assert!(!unreadable, "{what}: unreadable size: {stderr}");
    lines[0].to_string()
}

const ERF: &str =
    r#"{"activation": {"kind": "erf"}, "w1": [[0.5, -0.3], [0.1, 0.8]], "w2": [1.0, -0.5]}"#;

#[test]
fn non_finite_results_are_refused_alike_naming_file_entry_and_cause() {
    let dir = TempDir::new("nonfinite");
    // Each overflows float64 in the closed forms (the true Hessians are not representable or
    // come out inf − inf): weights around 1e150, an output weight of 1e300, ε = 1e308.
    let cases = [
        (
            "weights",
            ERF.replace("0.5", "1e150").replace("0.8", "2e150"),
            "|W1| up to 2.000e150",
        ),
        (
            "output weight",
            ERF.replace("1.0", "1e300"),
            "|W2| up to 1.000e300",
        ),
        (
            "epsilon",
            ERF.replace(
                r#"{"kind": "erf"}"#,
                r#"{"kind": "quadratic", "epsilon": 1e308}"#,
            ),
            "\"epsilon\":1e+308",
        ),
    ];
    for (what, text, cause) in cases {
        let net = dir.write("net.json", &text);
        let out = dir.path("H.npy");
        let vectors = dir.path("V.npy");
        let o = out.to_str().unwrap();
        let v = vectors.to_str().unwrap();
        let hessian = fails(
            &nearopt(&["hessian", "--network", &net, "--out", o], &[]),
            1,
            &["exact population Hessian of", "net.json"],
            what,
        );
        // The cause is named either by the library, which refuses a pair moment or an entry that
        // overflows (naming the moment and the hidden units, or the entry's parameters), or by
        // the CLI's output gate (naming the entry, its parameters and the largest weights).
        let named = |line: &str| {
            (line.contains("not finite")
                && line.contains("overflow")
                && (line.contains("pair moment") || line.contains("Hessian entry (W")))
                || (line.contains("entry [") && line.contains("∂²/∂") && line.contains(cause))
        };
        assert!(named(&hessian), "{what}: cause not named: {hessian}");
        let spectrum = fails(
            &nearopt(
                &["spectrum", "--network", &net, "--json", "--vectors", v],
                &[],
            ),
            1,
            &[],
            what,
        );
        // `hessian` and `spectrum` refuse with the same message.
        assert_eq!(hessian, spectrum, "{what}");
        let plain = fails(
            &nearopt(&["spectrum", "--network", &net], &[]),
            1,
            &["net.json"],
            what,
        );
        assert!(named(&plain), "{what}: cause not named: {plain}");
        assert!(
            !out.exists() && !vectors.exists(),
            "{what}: a file was written"
        );
        assert!(dir.temporaries().is_empty(), "{what}");
    }
    // Sampled Hessians go through the same gate (with ε = 1e308 every sample overflows).
    let net = dir.write(
        "net.json",
        &ERF.replace(
            r#"{"kind": "erf"}"#,
            r#"{"kind": "quadratic", "epsilon": 1e308}"#,
        ),
    );
    let o = dir.path("H.npy");
    fails(
        &nearopt(
            &[
                "hessian",
                "--network",
                &net,
                "--out",
                o.to_str().unwrap(),
                "--samples",
                "50",
            ],
            &[],
        ),
        1,
        &["sampled Hessian of", "net.json", "epsilon"],
        "sampled",
    );
    fails(
        &nearopt(&["spectrum", "--network", &net, "--samples", "3"], &[]),
        1,
        &["NTK Gram matrix", "net.json", "samples 0 and 0"],
        "sampled gram",
    );
    // At a student away from the teacher (functional term included): the student's file named.
    let teacher = dir.write("teacher.json", ERF);
    let student = dir.write("student.json", &ERF.replace("1.0", "1e300"));
    fails(
        &nearopt(
            &[
                "hessian",
                "--network",
                &teacher,
                "--student",
                &student,
                "--out",
                o.to_str().unwrap(),
                "--samples",
                "50",
            ],
            &[],
        ),
        1,
        &[
            "sampled Hessian at the student of",
            "student.json",
            "|W2| up to 1.000e300",
        ],
        "student",
    );
    assert!(!o.exists());
    // The gate lets finite results through.
    let net = dir.write("ok.json", ERF);
    let out = nearopt(
        &["hessian", "--network", &net, "--out", o.to_str().unwrap()],
        &[],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Arguments, environment, needles of the error line.
type SizeCase<'a> = (Vec<&'a str>, Vec<(&'a str, &'a str)>, Vec<&'a str>);

#[test]
fn requests_are_sized_before_they_start_in_readable_units() {
    let dir = TempDir::new("sizes");
    let net = dir.write("net.json", ERF);
    let h = dir.path("H.npy");
    let h = h.to_str().unwrap();
    let max = u64::MAX.to_string();
    let cases: Vec<SizeCase> = vec![
        // n² + n would wrap round in 64 bits.
        (
            vec!["bench", "--sizes", "4294967296", "--ensemble", "0"],
            vec![],
            vec!["bench --sizes 4294967296", "more than 2^128 bytes"],
        ),
        // Found by the fuzz: D = N² + N near 2¹²⁸, so 2 D overflowed even in u128.
        (
            vec![
                "bench",
                "--sizes",
                "2",
                "--ensemble",
                "1",
                "--ensemble-size",
                &max,
            ],
            vec![],
            vec![
                "--ensemble-size 18446744073709551615",
                "more than 2^128 bytes",
            ],
        ),
        (
            vec!["bench", "--sizes", &max, "--ensemble", "0"],
            vec![],
            vec![
                "bench --sizes 18446744073709551615",
                "more than 2^128 bytes",
            ],
        ),
        (
            vec!["bench", "--sizes", "5", "--ensemble-size", "100000"],
            vec![],
            vec!["--ensemble-size 100000", "TiB"],
        ),
        (
            vec!["bench", "--sizes", "5", "--ensemble", "100000000000"],
            vec![],
            vec!["--ensemble 100000000000", "TiB"],
        ),
        (
            vec!["bench", "--sizes", "2", "--repeats", "100000"],
            vec![],
            vec!["--repeats must be at most 1000"],
        ),
        (
            vec![
                "teacher",
                "--activation",
                "erf",
                "--ni",
                "1000",
                "--nh",
                "1000",
            ],
            vec![("NEAROPT_MEMORY_LIMIT", "1M")],
            vec![
                "teacher --ni 1000 --nh 1000",
                "MiB",
                "NEAROPT_MEMORY_LIMIT allows only 1.0 MiB",
            ],
        ),
        (
            vec!["hessian", "--network", &net, "--out", h, "--samples", &max],
            vec![],
            vec![
                "--samples 18446744073709551615",
                "limit of 1e15",
                "NEAROPT_WORK_LIMIT",
            ],
        ),
        (
            vec!["spectrum", "--network", &net, "--samples", &max],
            vec![],
            vec!["--samples 18446744073709551615", "limit of 1e15"],
        ),
        (
            vec!["spectrum", "--network", &net, "--samples", "1000"],
            vec![("NEAROPT_WORK_LIMIT", "1e5")],
            vec!["--samples 1000", "limit of 1e5"],
        ),
        (
            vec!["hessian", "--network", &net, "--out", h],
            vec![("NEAROPT_MEMORY_LIMIT", "100")],
            vec!["6 × 6 population Hessian needs 288 B", "only 100 B"],
        ),
    ];
    for (args, env, needles) in cases {
        let start = Instant::now();
        fails(&nearopt(&args, &env), 1, &needles, &args.join(" "));
        // Refused before any work: well under the seconds the request would take.
        assert!(start.elapsed() < Duration::from_secs(30), "{args:?}");
    }
    assert!(!Path::new(h).exists());
}

#[test]
fn usage_errors_are_one_line_with_exit_2() {
    let cases: &[(&[&str], &[&str])] = &[
        (
            &["hessian", "--network"],
            &["a value is required for '--network", "see --help"],
        ),
        (
            &["hessian"],
            &["required arguments were not provided: --network <NETWORK> --out <OUT>"],
        ),
        (
            &["hessian", "--netwrk", "x"],
            &["'--netwrk'", "tip: a similar argument exists: '--network'"],
        ),
        (
            &["teacher", "--ni", "abc"],
            &["invalid value 'abc' for '--ni <NI>'"],
        ),
        (&["bench", "--sizes", "1,x"], &["'--sizes <SIZES>'"]),
        (&["frobnicate"], &["unrecognized subcommand 'frobnicate'"]),
        (
            &[],
            &[
                "a command is required: one of teacher, ",
                "hessian, spectrum",
            ],
        ),
        (
            &["--threads", "0", "bench"],
            &["--threads must be at least 1"],
        ),
    ];
    for (args, needles) in cases {
        fails(&nearopt(args, &[]), 2, needles, &args.join(" "));
    }
    // Help and version still print normally and succeed.
    for flag in ["--help", "--version"] {
        let out = nearopt(&[flag], &[]);
        assert!(out.status.success() && !out.stdout.is_empty(), "{flag}");
    }
}

#[test]
fn threads_are_capped_with_a_warning() {
    let dir = TempDir::new("threads");
    let net = dir.write("net.json", ERF);
    let out = nearopt(
        &[
            "--threads",
            "100000",
            "spectrum",
            "--network",
            &net,
            "--json",
        ],
        &[],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let cores = std::thread::available_parallelism().unwrap().get();
    let expected = format!(
        "warning: --threads 100000 capped at {} (4 × the {cores} available cores)",
        4 * cores
    );
    assert_eq!(stderr.trim(), expected);
    let plain = nearopt(&["spectrum", "--network", &net, "--json"], &[]);
    assert_eq!(
        out.stdout, plain.stdout,
        "results depend on the thread count"
    );
}

#[test]
fn errors_never_echo_unbounded_input() {
    let dir = TempDir::new("echo");
    let huge = "k".repeat(10 << 20);
    let key = dir.write(
        "key.json",
        &format!(r#"{{"activation": {{"kind": "erf"}}, "w1": [[1]], "w2": [1], "{huge}": 1}}"#),
    );
    let kind = dir.write(
        "kind.json",
        &format!(r#"{{"activation": {{"kind": "{huge}"}}, "w1": [[1]], "w2": [1]}}"#),
    );
    let value = dir.write(
        "value.json",
        &format!(r#"{{"activation": {{"kind": "erf"}}, "w1": [["{huge}"]], "w2": [1]}}"#),
    );
    for path in [&key, &kind, &value] {
        let line = fails(
            &nearopt(&["spectrum", "--network", path], &[]),
            1,
            &["…"],
            path,
        );
        assert!(line.len() < 1000, "{} bytes", line.len());
    }
    let long_arg = "9".repeat(100_000);
    let line = fails(
        &nearopt(
            &[
                "teacher",
                "--activation",
                "erf",
                "--ni",
                &long_arg,
                "--nh",
                "1",
            ],
            &[],
        ),
        2,
        &["--ni"],
        "long value",
    );
    assert!(line.len() < 1000, "{} bytes", line.len());
}

#[cfg(unix)]
#[test]
fn out_writes_through_fifos_and_devices_and_to_a_symlinks_target() {
    let dir = TempDir::new("out");
    let net = dir.write("net.json", ERF);
    // A symlink: the target is replaced atomically, the link stays a link.
    let target = dir.write("target.npy", "old");
    let link = dir.path("link.npy");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let out = nearopt(
        &[
            "hessian",
            "--network",
            &net,
            "--out",
            link.to_str().unwrap(),
        ],
        &[],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    let written = std::fs::read(&target).unwrap();
    assert!(written.starts_with(b"\x93NUMPY"), "target not written");
    // A dangling symlink: its target is created, as `cp` does.
    let dangling = dir.path("dangling.json");
    std::os::unix::fs::symlink(dir.path("created.json"), &dangling).unwrap();
    let out = nearopt(
        &[
            "teacher",
            "--activation",
            "erf",
            "--ni",
            "2",
            "--nh",
            "2",
            "--out",
            dangling.to_str().unwrap(),
        ],
        &[],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dir.path("created.json").is_file());
    // A FIFO: written through (a reader gets the bytes), not replaced by a regular file.
    let fifo = dir.path("fifo");
    let status = Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(status.success());
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read(fifo).unwrap())
    };
    let out = nearopt(
        &[
            "hessian",
            "--network",
            &net,
            "--out",
            fifo.to_str().unwrap(),
        ],
        &[],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bytes = reader.join().unwrap();
    assert_eq!(&bytes, &written, "the FIFO got other bytes than the file");
    use std::os::unix::fs::FileTypeExt;
    assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo());
    // A device.
    let out = nearopt(&["hessian", "--network", &net, "--out", "/dev/null"], &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(Path::new("/dev/null")
        .metadata()
        .unwrap()
        .file_type()
        .is_char_device());
    assert!(dir.temporaries().is_empty());
}

/// A signal while the output is being written removes the temporary `.NAME.tmpPID` and exits
/// with 128 + the signal. The temporary exists only while the matrix is written, so the test
/// watches for it and signals then; a run that finishes first is retried.
#[cfg(unix)]
#[test]
fn interrupted_writes_leave_no_temporary() {
    let dir = TempDir::new("signal");
    // D = 2 550: a 52 MB matrix, written in tens of milliseconds.
    let net = dir.path("net.json");
    let out = nearopt(
        &[
            "teacher",
            "--activation",
            "erf",
            "--ni",
            "50",
            "--nh",
            "50",
            "--out",
            net.to_str().unwrap(),
        ],
        &[],
    );
    assert!(out.status.success());
    for (signal, code) in [("TERM", 143), ("INT", 130)] {
        let mut caught = false;
        for _attempt in 0..10 {
            let h = dir.path("H.npy");
            let _ = std::fs::remove_file(&h);
            let mut child = Command::new(env!("CARGO_BIN_EXE_nearopt"))
                .args([
                    "hessian",
                    "--network",
                    net.to_str().unwrap(),
                    "--out",
                    h.to_str().unwrap(),
                ])
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            let start = Instant::now();
            let mut seen = false;
            while start.elapsed() < Duration::from_secs(120) {
                if !dir.temporaries().is_empty() {
                    seen = true;
                    break;
                }
                if child.try_wait().unwrap().is_some() {
                    break;
                }
                std::thread::sleep(Duration::from_micros(200));
            }
            if seen {
                let _ = Command::new("kill")
                    .args([&format!("-{signal}"), &child.id().to_string()])
                    .status();
            }
            let status = child.wait().unwrap();
            if seen && status.code() == Some(code) {
                assert!(
                    dir.temporaries().is_empty(),
                    "SIG{signal}: {:?}",
                    dir.temporaries()
                );
                assert!(!h.exists(), "SIG{signal}: a partial output is in place");
                caught = true;
                break;
            }
            assert!(
                dir.temporaries().is_empty(),
                "SIG{signal}: {:?}",
                dir.temporaries()
            );
        }
        assert!(
            caught,
            "SIG{signal}: never caught the write in progress in 10 attempts"
        );
    }
}

/// The smallest `bench --numpy` run, with `script` (run by `/bin/sh`) as the NumPy reference.
#[cfg(unix)]
fn bench_numpy(script: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_nearopt"));
    cmd.args([
        "bench",
        "--sizes",
        "1",
        "--ensemble",
        "0",
        "--repeats",
        "1",
        "--numpy",
    ])
    .args(["--python", "/bin/sh", "--script", script]);
    cmd
}

/// `bench --numpy` with a reference that returns nothing, fails or writes no file: an error,
/// never a table of NaN, and its scratch directory is removed every time.
#[cfg(unix)]
#[test]
fn bench_numpy_without_results_fails_and_cleans_up() {
    let dir = TempDir::new("bench");
    let scripts = [
        ("empty.sh", "echo '{}' > \"$2\"", "returned no `assembly_s`"),
        ("fail.sh", "exit 3", "failed (exit status: 3)"),
        ("nothing.sh", "exit 0", "wrote no results"),
        (
            "nan.sh",
            r#"echo '{"cases":[{"assembly_s":NaN,"eigvalsh_s":1,"eigenvalues":[]}]}' > "$2""#,
            "malformed JSON",
        ),
        (
            "short.sh",
            r#"echo '{"cases":[{"assembly_s":1,"eigvalsh_s":1,"eigenvalues":[1]}]}' > "$2""#,
            "returned no eigenvalues for case erf N=1",
        ),
    ];
    for (name, body, needle) in scripts {
        let script = dir.write(name, body);
        let child = bench_numpy(&script)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let pid = child.id();
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(1), "{name}: {stderr}");
        let errors: Vec<&str> = stderr
            .lines()
            .filter(|l| l.starts_with("error: "))
            .collect();
        assert_eq!(errors.len(), 1, "{name}: {stderr}");
        assert!(
            errors[0].contains(needle),
            "{name}: `{needle}` not in {stderr}"
        );
        assert!(
            !stdout.contains("NaN") && !stdout.contains("asm s"),
            "{name}: {stdout}"
        );
        let scratch = std::env::temp_dir().join(format!("nearopt-bench-{pid}"));
        assert!(
            !scratch.exists(),
            "{name}: {} left behind",
            scratch.display()
        );
    }
}

/// SIGTERM during `bench --numpy`: the reference child process is stopped too (the signal is
/// passed on), and the scratch directory is removed. Fails if the child outlives nearopt.
#[cfg(target_os = "linux")]
#[test]
fn sigterm_during_bench_numpy_stops_the_reference() {
    let dir = TempDir::new("bench-sigterm");
    let pidfile = dir.path("child.pid");
    // `exec` so that the recorded pid is the process that sleeps.
    let script = dir.write(
        "slow.sh",
        &format!("echo $$ > {}; exec sleep 120", pidfile.display()),
    );
    let mut child = bench_numpy(&script)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    let reference = loop {
        if let Ok(text) = std::fs::read_to_string(&pidfile) {
            if let Ok(pid) = text.trim().parse::<u32>() {
                break pid;
            }
        }
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "the reference never started"
        );
        assert!(child.try_wait().unwrap().is_none(), "bench ended early");
        std::thread::sleep(Duration::from_millis(20));
    };
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let id = child.id();
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(143),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The child is gone (or a zombie of init's) within a few seconds: /proc/PID/stat state.
    let alive = |pid: u32| {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map(|s| !s.contains(") Z "))
            .unwrap_or(false)
    };
    let t = Instant::now();
    while alive(reference) && t.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        !alive(reference),
        "the reference {reference} outlived nearopt"
    );
    let scratch = std::env::temp_dir().join(format!("nearopt-bench-{id}"));
    assert!(!scratch.exists(), "{} left behind", scratch.display());
}
