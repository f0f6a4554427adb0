//! Seeded, bounded property/fuzz test (issue 8, "keep it that way"): random mutations of valid
//! network files through the library's parser (`nearopt::network_file::parse_network`), and
//! through the CLI binary with random flag values for `teacher`, `hessian`, `spectrum` and
//! `bench`. Properties checked on every run:
//!
//! - no panic: the parser returns (inside `catch_unwind`); the binary never exits 101 or 134,
//!   is never killed by a signal, and never prints "panicked";
//! - no hang: each run finishes within [`RUN_TIMEOUT`];
//! - no non-finite output: every `.npy` written is finite, JSON on stdout has no null where a
//!   number belongs, human output shows no `NaN`/`inf`; a teacher file written reads back;
//! - no exit 0 on invalid input: a network file the library rejects, or a flag value that is
//!   not a number of the flag's type, makes the command fail;
//! - errors are one bounded line (`error: …`, at most [`MAX_ERROR_LINE`] characters);
//! - nothing left behind: no `.NAME.tmpPID` in the output directory, no `nearopt-bench-PID`.
//!
//! Cheap by default (a few seconds). `NEAROPT_FUZZ_ITERS=N` (default 150) runs N CLI cases and 50 N parser
//! cases, `NEAROPT_FUZZ_SEED=S` changes the seed, `NEAROPT_FUZZ_SECONDS=T` bounds the wall
//! time (default 120 s); `docs/reliability.md` says how to run the long fuzz.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The longest a single CLI run may take before it counts as a hang.
const RUN_TIMEOUT: Duration = Duration::from_secs(60);
/// Runs longer than this are reported (not failed): the long fuzz shows where time goes.
const SLOW_RUN: Duration = Duration::from_secs(2);
/// The longest error line accepted.
const MAX_ERROR_LINE: usize = 1000;

/// splitmix64: a small seeded generator (the test needs no statistical quality).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
    fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 > 1.0 - p
    }
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

/// Valid network files to mutate (small: every CLI run stays cheap).
const SEEDS: &[&str] = &[
    r#"{"activation": {"kind": "erf"}, "w1": [[0.5, -0.3], [0.1, 0.8]], "w2": [1.0, -0.5]}"#,
    r#"{"activation": {"kind": "quadratic", "epsilon": 0.5}, "w1": [[0.2, 0.1, -0.4]], "w2": [0.7]}"#,
    r#"{"activation": {"kind": "polynomial", "coefficients": [0, 1, 0.3, -0.1]}, "w1": [[0.3], [-0.6]], "w2": [1, 2]}"#,
    r#"{"activation": {"kind": "linear"}, "w1": [[1, 2], [3, 4], [5, 6]], "w2": [0.1, 0.2, 0.3]}"#,
    r#"{"activation": {"kind": "tanh"}, "w1": [[0.4, -0.2]], "w2": [0.9]}"#,
];

/// Replacement tokens: extreme, non-finite, wrongly typed and malformed values.
const TOKENS: &[&str] = &[
    "1e150",
    "-1e150",
    "1e300",
    "1e308",
    "-1.7976931348623157e308",
    "1e309",
    "NaN",
    "Infinity",
    "-inf",
    "0",
    "-0",
    "5e-324",
    "1e-320",
    "\"1\"",
    "null",
    "true",
    "[]",
    "{}",
    "[[]]",
    "123456789012345678901234567890",
    "1e",
    "--1",
    "0x10",
    "1.0.0",
    "\"\\u0000\"",
    "1e-300",
    "30",
    "100",
    "1e6",
    "-2",
    "{\"kind\": \"erf\"}",
    "\"erf\"",
];

const KEYS: &[&str] = &[
    "\"w1\"",
    "\"w2\"",
    "\"b1\"",
    "\"activation\"",
    "\"kind\"",
    "\"epsilon\"",
    "\"coefficients\"",
    "\"extra\"",
];

const KINDS: &[&str] = &[
    r#"{"kind": "erf"}"#,
    r#"{"kind": "tanh"}"#,
    r#"{"kind": "linear"}"#,
    r#"{"kind": "quadratic", "epsilon": 1e308}"#,
    r#"{"kind": "quadratic", "epsilon": 1e200}"#,
    r#"{"kind": "quadratic"}"#,
    r#"{"kind": "polynomial", "coefficients": []}"#,
    r#"{"kind": "polynomial", "coefficients": [1e300, 1e300, 1e300]}"#,
    r#"{"kind": "polynomial", "coefficients": [0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]}"#,
    r#"{"kind": "relu"}"#,
    r#"{"kind": "erf", "kind": "tanh"}"#,
    r#"{"kind": 3}"#,
    r#"{}"#,
];

/// Byte ranges of number tokens in `text`.
fn number_spans(text: &str) -> Vec<(usize, usize)> {
    let b = text.as_bytes();
    let mut spans = vec![];
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'-' || b[i].is_ascii_digit() {
            let s = i;
            while i < b.len() && matches!(b[i], b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E') {
                i += 1;
            }
            spans.push((s, i));
        } else {
            i += 1;
        }
    }
    spans
}

/// A char boundary at or before `i`.
fn boundary(text: &str, mut i: usize) -> usize {
    i = i.min(text.len());
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// One random mutation of `text`.
fn mutate_once(rng: &mut Rng, text: &str) -> String {
    let len = text.len();
    match rng.below(9) {
        // Replace a number with an extreme or malformed token.
        0..=2 => {
            let spans = number_spans(text);
            if spans.is_empty() {
                return format!("{text}{}", rng.pick(TOKENS));
            }
            let (s, e) = *rng.pick(&spans);
            format!("{}{}{}", &text[..s], rng.pick(TOKENS), &text[e..])
        }
        // Delete a range.
        3 => {
            let s = boundary(text, rng.below(len + 1));
            let e = boundary(text, s + rng.below(8) + 1);
            format!("{}{}", &text[..s], &text[e..])
        }
        // Duplicate a range.
        4 => {
            let s = boundary(text, rng.below(len + 1));
            let e = boundary(text, s + rng.below(40) + 1);
            format!("{}{}{}", &text[..e], &text[s..e], &text[e..])
        }
        // Insert a structural character.
        5 => {
            let at = boundary(text, rng.below(len + 1));
            let c = *rng.pick(&[
                '{', '}', '[', ']', ',', ':', '"', 'e', '.', '-', '0', '9', ' ',
            ]);
            format!("{}{c}{}", &text[..at], &text[at..])
        }
        // Swap the activation.
        6 => match (text.find("\"activation\""), text.find("\"w1\"")) {
            (Some(a), Some(w)) if a < w => {
                format!(
                    "{}\"activation\": {}, {}",
                    &text[..a],
                    rng.pick(KINDS),
                    &text[w..]
                )
            }
            _ => text.to_string(),
        },
        // Add a key (possibly a duplicate) with a random value.
        7 => match text.rfind('}') {
            Some(end) => format!(
                "{}, {}: {}{}",
                &text[..end],
                rng.pick(KEYS),
                rng.pick(TOKENS),
                &text[end..]
            ),
            None => text.to_string(),
        },
        // Scale every weight by a huge or tiny factor (many overflows at once).
        _ => scale_all(rng, text),
    }
}

/// Every number of `text` without an exponent scaled by a huge or tiny power of ten.
fn scale_all(rng: &mut Rng, text: &str) -> String {
    let factor = *rng.pick(&["e150", "e200", "e300", "e-300", "e30"]);
    let mut out = String::new();
    let mut last = 0;
    for (s, e) in number_spans(text) {
        out.push_str(&text[last..e]);
        if !text[s..e].contains(['e', 'E']) {
            out.push_str(factor);
        }
        last = e;
    }
    out.push_str(&text[last..]);
    out
}

/// A seed file with extreme but valid numbers: one weight replaced, or all scaled.
fn extreme(rng: &mut Rng) -> String {
    const EXTREME: &[&str] = &[
        "1e150", "-1e150", "1e300", "1e308", "5e-324", "1e-300", "30", "100", "1e6", "-1e3", "0",
    ];
    let text = rng.pick(SEEDS).to_string();
    let spans = number_spans(&text);
    if rng.chance(0.5) || spans.is_empty() {
        return scale_all(rng, &text);
    }
    let (s, e) = *rng.pick(&spans);
    format!("{}{}{}", &text[..s], rng.pick(EXTREME), &text[e..])
}

/// One to three mutations of a seed file.
fn mutant(rng: &mut Rng) -> String {
    let mut text = rng.pick(SEEDS).to_string();
    for _ in 0..1 + rng.below(3) {
        text = mutate_once(rng, &text);
    }
    text
}

/// A flag value and whether it is certainly invalid for an unsigned integer flag.
fn uint_value(rng: &mut Rng, small: &[&'static str]) -> (String, bool) {
    const HUGE: &[&str] = &[
        "4294967296",
        "18446744073709551615",
        "1000000000000",
        "65536",
        "100000000",
    ];
    const BAD: &[&str] = &["-1", "abc", "", "1e3", "NaN", "1.5", "18446744073709551616"];
    match rng.below(10) {
        0..=5 => (rng.pick(small).to_string(), false),
        6..=7 => (rng.pick(HUGE).to_string(), false),
        _ => (rng.pick(BAD).to_string(), true),
    }
}

/// A float flag value and whether it is certainly not a number.
fn float_value(rng: &mut Rng) -> (String, bool) {
    const GOOD: &[&str] = &[
        "0.5", "1", "0", "-1", "1e-300", "1e300", "1e308", "NaN", "inf", "-inf", "2.5", "1e-12",
    ];
    const BAD: &[&str] = &["abc", "", "1e", "--"];
    if rng.chance(0.85) {
        (rng.pick(GOOD).to_string(), false)
    } else {
        (rng.pick(BAD).to_string(), true)
    }
}

/// A CLI case: arguments, whether it must fail, and the outputs to check if it succeeds.
struct Case {
    args: Vec<String>,
    must_fail: bool,
    npy: Vec<PathBuf>,
    network_out: Option<PathBuf>,
    json_stdout: bool,
}

fn cli_case(rng: &mut Rng, dir: &Path, net_valid: bool) -> Case {
    let p = |name: &str| dir.join(name).to_string_lossy().into_owned();
    let mut args: Vec<String> = vec![];
    let mut must_fail = false;
    let mut npy = vec![];
    let mut network_out = None;
    let mut json_stdout = false;
    let flag = |args: &mut Vec<String>, name: &str, (v, bad): (String, bool)| {
        args.push(name.to_string());
        args.push(v);
        bad
    };
    if rng.chance(0.15) {
        let (v, bad) = uint_value(rng, &["1", "2", "4", "0"]);
        must_fail |= flag(&mut args, "--threads", (v.clone(), bad)) || v == "0";
    }
    match rng.below(4) {
        0 | 1 if rng.chance(0.5) => {
            args.extend(["hessian".into(), "--network".into(), p("net.json")]);
            args.extend(["--out".into(), p("H.npy")]);
            npy.push(dir.join("H.npy"));
            must_fail |= !net_valid;
            if rng.chance(0.5) {
                let v = uint_value(rng, &["1", "3", "50", "257", "1000", "0"]);
                must_fail |= v.0 == "0";
                must_fail |= flag(&mut args, "--samples", v);
                if rng.chance(0.5) {
                    must_fail |= flag(&mut args, "--seed", uint_value(rng, &["1", "7"]));
                }
                if rng.chance(0.3) {
                    // The mutated file as the student of a valid teacher (same shape as
                    // SEEDS[0]), the functional term included.
                    args[2] = p("teacher0.json");
                    args.extend(["--student".into(), p("net.json")]);
                }
            }
        }
        0 | 1 => {
            args.extend(["spectrum".into(), "--network".into(), p("net.json")]);
            must_fail |= !net_valid;
            if rng.chance(0.6) {
                args.push("--json".into());
                json_stdout = true;
            }
            if rng.chance(0.4) {
                let v = uint_value(rng, &["1", "2", "5", "300", "0"]);
                must_fail |= v.0 == "0";
                must_fail |= flag(&mut args, "--samples", v);
            }
            if rng.chance(0.2) {
                let (v, bad) = float_value(rng);
                let invalid = bad
                    || v.parse::<f64>()
                        .map_or(true, |t| !(t.is_finite() && t >= 0.0));
                flag(&mut args, "--rank-tol", (v, bad));
                must_fail |= invalid;
            }
            if rng.chance(0.3) {
                args.extend(["--vectors".into(), p("V.npy")]);
                npy.push(dir.join("V.npy"));
            }
        }
        2 => {
            let kind = *rng.pick(&[
                "erf",
                "tanh",
                "linear",
                "quadratic",
                "polynomial",
                "relu",
                "",
            ]);
            args.extend(["teacher".into(), "--activation".into(), kind.into()]);
            must_fail |= matches!(kind, "relu" | "");
            must_fail |= flag(&mut args, "--ni", uint_value(rng, &["1", "2", "3", "0"]))
                || args.last().is_some_and(|v| v == "0");
            must_fail |= flag(&mut args, "--nh", uint_value(rng, &["1", "2", "3", "0"]))
                || args.last().is_some_and(|v| v == "0");
            if kind == "quadratic" && rng.chance(0.5) {
                let (v, bad) = float_value(rng);
                let invalid = bad || v.parse::<f64>().map_or(true, |x| !x.is_finite());
                flag(&mut args, "--epsilon", (v, bad));
                must_fail |= invalid;
            }
            if kind == "polynomial" {
                let list: Vec<String> = (0..1 + rng.below(5)).map(|_| float_value(rng).0).collect();
                let invalid = list
                    .iter()
                    .any(|c| c.trim().parse::<f64>().map_or(true, |x| !x.is_finite()));
                args.extend(["--coefficients".into(), list.join(",")]);
                must_fail |= invalid;
            }
            if rng.chance(0.3) {
                let w = *rng.pick(&[
                    "normal",
                    "uniform",
                    "rademacher",
                    "laplace",
                    "student-t",
                    "cauchy",
                ]);
                args.extend(["--weights".into(), w.into()]);
                must_fail |= w == "cauchy";
                if w == "student-t" && rng.chance(0.5) {
                    let (v, bad) = float_value(rng);
                    let invalid = bad
                        || v.parse::<f64>()
                            .map_or(true, |x| !(x.is_finite() && x > 2.0));
                    flag(&mut args, "--nu", (v, bad));
                    must_fail |= invalid;
                }
            }
            if rng.chance(0.5) {
                must_fail |= flag(&mut args, "--seed", uint_value(rng, &["1", "9"]));
            }
            args.extend(["--out".into(), p("teacher.json")]);
            network_out = Some(dir.join("teacher.json"));
        }
        _ => {
            args.push("bench".into());
            let sizes: Vec<(String, bool)> = (0..1 + rng.below(2))
                .map(|_| uint_value(rng, &["1", "2", "3", "0"]))
                .collect();
            must_fail |= sizes
                .iter()
                .any(|(v, bad)| *bad || v == "0" || v.is_empty());
            let list: Vec<String> = sizes.into_iter().map(|(v, _)| v).collect();
            args.extend(["--sizes".into(), list.join(",")]);
            let v = uint_value(rng, &["0", "1", "2"]);
            must_fail |= flag(&mut args, "--ensemble", v);
            let v = uint_value(rng, &["1", "2", "0"]);
            must_fail |= v.0 == "0";
            must_fail |= flag(&mut args, "--ensemble-size", v);
            if rng.chance(0.5) {
                let v = uint_value(rng, &["1", "2", "0"]);
                must_fail |= v.0 == "0";
                must_fail |= flag(&mut args, "--repeats", v);
            }
            if rng.chance(0.3) {
                let (v, bad) = float_value(rng);
                let invalid = bad || v.parse::<f64>().map_or(true, |x| !x.is_finite());
                flag(&mut args, "--epsilon", (v, bad));
                must_fail |= invalid;
            }
        }
    }
    Case {
        args,
        must_fail,
        npy,
        network_out,
        json_stdout,
    }
}

/// The f64 entries of a `.npy` file (little-endian float64, as `nearopt` writes).
fn npy_values(path: &Path) -> Result<Vec<f64>, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err(format!("{} is not a .npy file", path.display()));
    }
    let (header_len, start) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        _ => (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        ),
    };
    let header = String::from_utf8_lossy(&bytes[start..start + header_len]);
    if !header.contains("'<f8'") {
        return Err(format!("{}: not float64: {header}", path.display()));
    }
    Ok(bytes[start + header_len..]
        .chunks_exact(8)
        .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
        .collect())
}

/// Every number slot in a JSON value that holds a non-number (`null`) where the spectrum
/// report has numbers: the eigenvalues, `lambda_max`, `rank_tolerance`.
fn json_problems(v: &serde_json::Value) -> Option<String> {
    let ev = v.get("eigenvalues")?.as_array()?;
    if let Some(i) = ev.iter().position(|x| !x.is_number()) {
        return Some(format!("eigenvalues[{i}] is {}", ev[i]));
    }
    for key in ["lambda_max", "rank_tolerance"] {
        if !v.get(key).is_some_and(|x| x.is_number()) {
            return Some(format!("`{key}` is {:?}", v.get(key)));
        }
    }
    None
}

/// Runs the binary with a timeout; `None` if it hung.
fn run(args: &[String], dir: &Path) -> Option<(Option<i32>, String, String, u32)> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_nearopt"))
        .args(args)
        .current_dir(dir)
        // Low limits keep every run short and small (the machine is shared) and exercise the
        // refusals.
        .env("NEAROPT_MEMORY_LIMIT", "1G")
        .env("NEAROPT_WORK_LIMIT", "1e10")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the nearopt binary runs");
    let pid = child.id();
    let start = Instant::now();
    // Read the pipes on threads so that a chatty child never blocks.
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let t_out = std::thread::spawn(move || {
        let mut s = Vec::new();
        std::io::Read::read_to_end(&mut out, &mut s).ok();
        s
    });
    let t_err = std::thread::spawn(move || {
        let mut s = Vec::new();
        std::io::Read::read_to_end(&mut err, &mut s).ok();
        s
    });
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            let stdout = String::from_utf8_lossy(&t_out.join().unwrap()).into_owned();
            let stderr = String::from_utf8_lossy(&t_err.join().unwrap()).into_owned();
            #[cfg(unix)]
            if let Some(sig) = std::os::unix::process::ExitStatusExt::signal(&status) {
                return Some((Some(128 + sig), stdout, stderr, pid));
            }
            return Some((status.code(), stdout, stderr, pid));
        }
        if start.elapsed() > RUN_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Checks one CLI run; returns the problems found.
fn check_run(case: &Case, dir: &Path) -> (Vec<String>, Option<i32>) {
    let mut problems = vec![];
    let Some((code, stdout, stderr, pid)) = run(&case.args, dir) else {
        return (vec![format!("hang: no exit within {RUN_TIMEOUT:?}")], None);
    };
    if matches!(code, Some(101) | Some(134)) || code.is_none_or(|c| c > 128) {
        problems.push(format!("crash: exit {code:?}"));
    }
    if stderr.contains("panicked") || stderr.contains("memory allocation") {
        problems.push("panic or allocation failure in stderr".into());
    }
    if code == Some(0) {
        if case.must_fail {
            problems.push("exit 0 on invalid input".into());
        }
        for path in &case.npy {
            match npy_values(path) {
                Ok(v) => {
                    if let Some(i) = v.iter().position(|x| !x.is_finite()) {
                        problems.push(format!("{} entry {i} is {}", path.display(), v[i]));
                    }
                }
                Err(e) => problems.push(e),
            }
        }
        if let Some(path) = &case.network_out {
            match std::fs::read_to_string(path).map(|t| nearopt::network_file::parse_network(&t)) {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => problems.push(format!("teacher file does not read back: {e}")),
                Err(e) => problems.push(format!("teacher file missing: {e}")),
            }
        }
        if case.json_stdout {
            match serde_json::from_str::<serde_json::Value>(stdout.trim()) {
                Ok(v) => {
                    if let Some(p) = json_problems(&v) {
                        problems.push(format!("JSON: {p}"));
                    }
                }
                Err(e) => problems.push(format!("stdout is not one JSON object: {e}")),
            }
        } else if stdout.contains("NaN") || stdout.contains("inf ") || stdout.contains("inf,") {
            problems.push("non-finite number printed".into());
        }
    } else {
        let errors: Vec<&str> = stderr
            .lines()
            .filter(|l| !l.starts_with("warning: ") && !l.starts_with("  done: "))
            .collect();
        if errors.len() != 1 || !errors[0].starts_with("error: ") {
            problems.push(format!(
                "stderr is not one error line: {:?}",
                stderr.chars().take(400).collect::<String>()
            ));
        } else if errors[0].chars().count() > MAX_ERROR_LINE {
            problems.push(format!("error line of {} characters", errors[0].len()));
        }
    }
    // Nothing left behind.
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.contains(".tmp") {
                problems.push(format!("temporary file left: {name}"));
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
    let scratch = std::env::temp_dir().join(format!("nearopt-bench-{pid}"));
    if scratch.exists() {
        problems.push(format!("scratch directory left: {}", scratch.display()));
        let _ = std::fs::remove_dir_all(&scratch);
    }
    (problems, code)
}

#[test]
fn fuzz_network_files_and_flags() {
    let seed = env_u64("NEAROPT_FUZZ_SEED", 8);
    let cli_iters = env_u64("NEAROPT_FUZZ_ITERS", 150);
    let parser_iters = 50 * cli_iters;
    let deadline = Instant::now() + Duration::from_secs(env_u64("NEAROPT_FUZZ_SECONDS", 120));
    let mut rng = Rng(seed);
    let mut findings: Vec<String> = vec![];

    // 1. The library's parser: never panics; what it accepts writes back and reads the same.
    let (mut accepted, mut parsed) = (0u64, 0u64);
    for i in 0..parser_iters {
        if Instant::now() > deadline {
            break;
        }
        let text = mutant(&mut rng);
        parsed += 1;
        match std::panic::catch_unwind(|| nearopt::network_file::parse_network(&text)) {
            Err(_) => findings.push(format!("parser panic (case {i}): {text}")),
            Ok(Ok(net)) => {
                accepted += 1;
                let back = nearopt::network_file::parse_network(
                    &nearopt::network_file::network_json(&net),
                );
                if back.as_ref().ok() != Some(&net) {
                    findings.push(format!("no round trip (case {i}): {text}"));
                }
            }
            Ok(Err(e)) => {
                if e.to_string().len() > MAX_ERROR_LINE {
                    findings.push(format!("unbounded parser error (case {i})"));
                }
            }
        }
    }

    // 2. The binary, with mutated files and random flags.
    let dir = std::env::temp_dir().join(format!("nearopt-fuzz-{}-{seed}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let net_path = dir.join("net.json");
    std::fs::write(dir.join("teacher0.json"), SEEDS[0]).unwrap();
    let (mut runs, mut exit0) = (0u64, 0u64);
    for i in 0..cli_iters {
        if Instant::now() > deadline {
            break;
        }
        // A fifth unmodified, two fifths with extreme values only (mostly still valid files,
        // where silent wrong numbers would hide), two fifths freely mutated.
        let text = match rng.below(5) {
            0 => rng.pick(SEEDS).to_string(),
            1 | 2 => extreme(&mut rng),
            _ => mutant(&mut rng),
        };
        let valid = nearopt::network_file::parse_network(&text).is_ok();
        std::fs::write(&net_path, &text).unwrap();
        for f in ["H.npy", "V.npy", "teacher.json"] {
            let _ = std::fs::remove_file(dir.join(f));
        }
        let case = cli_case(&mut rng, &dir, valid);
        runs += 1;
        let started = Instant::now();
        let (problems, code) = check_run(&case, &dir);
        if started.elapsed() > SLOW_RUN {
            eprintln!(
                "slow CLI case {i} ({:.1} s): nearopt {}",
                started.elapsed().as_secs_f64(),
                case.args.join(" ")
            );
        }
        exit0 += u64::from(code == Some(0));
        if !problems.is_empty() {
            findings.push(format!(
                "CLI case {i}: nearopt {} with net.json = {}: {}",
                case.args.join(" "),
                text.chars().take(300).collect::<String>(),
                problems.join("; ")
            ));
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    eprintln!(
        "fuzz (seed {seed}): {parsed} parser cases ({accepted} accepted), {runs} CLI runs ({exit0} exit 0, {} refused), {} findings",
        runs - exit0,
        findings.len()
    );
    assert!(
        parsed > 0 && runs > 0,
        "the time bound left no cases to run"
    );
    assert!(
        findings.is_empty(),
        "{} findings:\n{}",
        findings.len(),
        findings.join("\n")
    );
}

/// The fuzz checks can fail: a file the parser rejects must not be called valid, a NaN in a
/// `.npy` is seen, a JSON null eigenvalue is seen.
#[test]
fn fuzz_oracles_can_fail() {
    assert!(nearopt::network_file::parse_network(SEEDS[0]).is_ok());
    let bad = SEEDS[0].replace("0.5", "1e309");
    assert!(nearopt::network_file::parse_network(&bad).is_err());
    let v: serde_json::Value =
        serde_json::from_str(r#"{"eigenvalues": [1, null], "lambda_max": 1, "rank_tolerance": 0}"#)
            .unwrap();
    assert!(json_problems(&v).is_some());
    let dir = std::env::temp_dir().join(format!("nearopt-fuzz-oracle-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("nan.npy");
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    let header = "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2), }";
    let pad = 64 - (10 + header.len() + 1) % 64;
    let header = format!("{header}{}\n", " ".repeat(pad));
    bytes.extend((header.len() as u16).to_le_bytes());
    bytes.extend(header.as_bytes());
    bytes.extend(1.0f64.to_le_bytes());
    bytes.extend(f64::NAN.to_le_bytes());
    std::fs::write(&path, bytes).unwrap();
    let values = npy_values(&path).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(values.len(), 2);
    assert!(values[1].is_nan());
}
