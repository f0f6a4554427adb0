//! End-to-end test of `nearopt reproduce --quick`: every file exists and is well formed,
//! `summary.json` has the `INTERFACE.md` fields, and the claims agree with the library run
//! directly; bad configurations are refused with one line and no output.

use nearopt::experiments::{run_all, NoProgress, ReproduceConfig};
use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;

fn temp_dir(tag: &str) -> PathBuf {
    let p = std::env::temp_dir().join(format!(
        "nearopt-reproduce-test-{tag}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&p);
    p
}

fn nearopt(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_nearopt"))
        .args(args)
        .output()
        .expect("binary runs")
}

#[test]
fn quick_report_is_complete_and_matches_the_library() {
    let dir = temp_dir("quick");
    let out = dir.join("nested/report");
    let o = nearopt(&[
        "reproduce",
        "--quick",
        "--seed",
        "7",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(
        o.status.success(),
        "reproduce failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );

    let summary: Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["nearopt_version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(summary["config"]["quick"], true);
    assert_eq!(summary["config"]["seed"], 7);
    let claims = summary["claims"].as_array().unwrap();
    assert!(claims.len() >= 20, "only {} claims", claims.len());
    for c in claims {
        let id = c["id"].as_str().unwrap();
        assert!(
            id.starts_with("fig") || id.starts_with("eq"),
            "claim id {id}"
        );
        for key in ["figure", "section", "claim", "statistic", "note"] {
            assert!(c[key].is_string(), "claim {id} lacks string {key}");
        }
        assert!(
            c["value"].is_number() && c["threshold"].is_number(),
            "claim {id} numbers"
        );
        let v = c["verdict"].as_str().unwrap();
        assert!(
            [
                "reproduced",
                "reproduced with correction",
                "not reproduced",
                "inconclusive"
            ]
            .contains(&v),
            "verdict {v}"
        );
    }
    for fig in [
        "fig2a", "fig2b", "fig4", "fig5", "fig6a", "fig6b", "fig7a", "fig7b",
    ] {
        assert!(
            summary["figures"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["id"] == fig),
            "{fig} missing"
        );
    }
    let html = std::fs::read_to_string(out.join("index.html")).unwrap();
    for f in summary["figures"].as_array().unwrap() {
        for key in ["svg", "png", "csv"] {
            let name = f[key].as_str().unwrap();
            let bytes = std::fs::read(out.join(name)).unwrap_or_else(|_| panic!("{name} missing"));
            assert!(bytes.len() > 100, "{name} is nearly empty");
            match key {
                "png" => assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{name} is not a PNG"),
                "svg" => assert!(
                    String::from_utf8_lossy(&bytes).contains("<svg"),
                    "{name} is not SVG"
                ),
                _ => assert!(
                    bytes.starts_with(b"series,kind,x,x_hi,y\n"),
                    "{name} header"
                ),
            }
        }
        assert!(
            html.contains(f["png"].as_str().unwrap()),
            "index.html does not show {}",
            f["id"]
        );
    }
    for c in claims {
        assert!(
            html.contains(c["id"].as_str().unwrap()),
            "index.html lacks claim {}",
            c["id"]
        );
    }
    assert!(
        html.contains("Eq. 12") && html.contains("Eq. 13"),
        "corrections missing"
    );
    // No temporary files left behind.
    for e in std::fs::read_dir(&out).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        assert!(!name.starts_with('.'), "leftover {name}");
    }

    // The same configuration run in-process gives the same claims (values and verdicts).
    let mut cfg = ReproduceConfig::quick();
    cfg.seed = 7;
    let lib = run_all(&cfg, &NoProgress).unwrap();
    assert_eq!(lib.claims.len(), claims.len());
    for (a, b) in lib.claims.iter().zip(claims) {
        assert_eq!(a.id, b["id"].as_str().unwrap());
        assert_eq!(
            a.value,
            b["value"].as_f64().unwrap(),
            "claim {} value differs",
            a.id
        );
        assert_eq!(serde_json::to_value(a.verdict).unwrap(), b["verdict"]);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_configurations_are_refused_without_output() {
    let dir = temp_dir("bad");
    std::fs::create_dir_all(&dir).unwrap();
    let cases = [
        (r#"{"linear_teachers": 0}"#, "linear_teachers"),
        (r#"{"no_such_key": 1}"#, "no_such_key"),
        (r#"{"quadratic_sizes": [5]}"#, "quadratic_sizes"),
        ("[1, 2]", "JSON object"),
        ("{", "not valid JSON"),
    ];
    for (i, (text, expect)) in cases.iter().enumerate() {
        let cfg = dir.join(format!("c{i}.json"));
        std::fs::write(&cfg, text).unwrap();
        let out = dir.join(format!("out{i}"));
        let o = nearopt(&[
            "reproduce",
            "--quick",
            "--config",
            cfg.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ]);
        assert!(!o.status.success(), "{text} accepted");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains(expect),
            "{text}: error {err:?} does not name {expect}"
        );
        assert_eq!(
            err.trim().lines().count(),
            1,
            "{text}: error not one line: {err:?}"
        );
        assert!(!out.exists(), "{text}: output written");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
