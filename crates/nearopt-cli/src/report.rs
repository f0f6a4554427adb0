//! The HTML report and `summary.json` (`INTERFACE.md`) of `nearopt reproduce`.

use nearopt::experiments::{Claim, Figure, Verdict};
use serde::Serialize;
use serde_json::Value;

/// One figure's files, relative to the report directory (`summary.json`'s `figures`).
#[derive(Clone, Debug, Serialize)]
pub struct FigureFiles {
    /// Figure id (file stem).
    pub id: String,
    /// SVG file name.
    pub svg: String,
    /// PNG file name.
    pub png: String,
    /// CSV file name.
    pub csv: String,
}

impl FigureFiles {
    /// The file names of figure `id`.
    pub fn of(id: &str) -> Self {
        Self {
            id: id.to_string(),
            svg: format!("{id}.svg"),
            png: format!("{id}.png"),
            csv: format!("{id}.csv"),
        }
    }
}

/// `summary.json` in the form fixed by `INTERFACE.md`.
#[derive(Serialize)]
pub struct Summary<'a> {
    /// Version of this program.
    pub nearopt_version: &'a str,
    /// The effective configuration (with `quick` and `seed`).
    pub config: &'a Value,
    /// Every checked claim.
    pub claims: &'a [Claim],
    /// Every figure's files.
    pub figures: &'a [FigureFiles],
}

/// Corrections to the printed paper found while reproducing it (from `docs/derivations.md` §5 and
/// `docs/theory.md` §4): `(where, printed, correct)`.
pub const CORRECTIONS: &[(&str, &str, &str)] = &[
    (
        "Eq. 12",
        "W2m W2p δ_nq + 4ε² F2",
        "W2m W2p (δ_nq + 4ε² F2): the ε² term carries the factor W2m W2p too",
    ),
    (
        "Eq. 13",
        "W2m W1kn + 2ε² F3",
        "W2m (W1kn + 2ε² F3): the ε² term carries the factor W2m",
    ),
    (
        "Eq. 15 (Marchenko–Pastur)",
        "σ² = 1/Ni",
        "σ² = 1: W1's entries already have variance 1/Ni; as printed the law sits Ni times too low",
    ),
    (
        "App. A.1",
        "λ ~ σ² χ²_Nh (σ undefined)",
        "λ = ‖W2‖² ~ χ²_Nh / Nh (Section 3.1's form)",
    ),
    (
        "App. A.1",
        "a non-zero element every Nh steps",
        "every Ni steps (δ_nq runs over the input index)",
    ),
    (
        "Section 4.1.1",
        "Nh(Nh−1)/2 zero eigenvalues for Nh above a threshold",
        "Nh(Nh−1)/2 for every Nh ≤ Ni; Nh(Ni+1) − Ni(Ni+3)/2 for Nh > Ni (Eq. 14)",
    ),
    (
        "Section 4.2",
        "rank bound C(Ni+n, n) − 1",
        "holds for polynomials without constant term; C(Ni+n, n) when c0 ≠ 0",
    ),
    (
        "App. C",
        "second-derivative term W2m δ_pm E[g''(z_m) x_n x_q]",
        "carries the factor (y − y*) (Eq. 4), so it vanishes at the optimum",
    ),
    ("Eq. 1", "(1/N) Σ_{i=1}^{n}", "(1/N) Σ_{i=1}^{N} (typo)"),
];

/// HTML-escapes `s`.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn verdict_class(v: Verdict) -> (&'static str, &'static str) {
    match v {
        Verdict::Reproduced => ("ok", "reproduced"),
        Verdict::ReproducedWithCorrection => ("corr", "reproduced with correction"),
        Verdict::NotReproduced => ("bad", "not reproduced"),
        Verdict::Inconclusive => ("inc", "inconclusive"),
    }
}

fn num(v: f64) -> String {
    if v == v.trunc() && v.abs() < 1e9 {
        format!("{v}")
    } else {
        format!("{v:.4}")
    }
}

/// The one-page offline report: claims table, figures (linked relatively), corrections,
/// configuration and seeds.
pub fn html(config: &Value, claims: &[Claim], figures: &[Figure], elapsed_s: f64) -> String {
    let mut h = String::new();
    h.push_str(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>nearopt reproduction report</title><style>\
         body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}\
         table{border-collapse:collapse;width:100%;font-size:90%}td,th{border:1px solid #ccc;padding:4px 6px;\
         vertical-align:top;text-align:left}th{background:#f0f0f0}.ok{background:#e3f6e3}\
         .corr{background:#fff5d6}.bad{background:#fbe0e0}.inc{background:#e8e8f4}figure{margin:1.5em 0}img{max-width:100%;\
         border:1px solid #ddd}pre{background:#f7f7f7;padding:1em;overflow:auto;font-size:85%}\
         </style></head><body>\n",
    );
    h.push_str(&format!(
        "<h1>Reproduction of “A Teacher-Student Perspective on the Dynamics of Learning Near the Optimal \
         Point”</h1>\n<p>nearopt {}; {} claims checked, {} figures; run took {:.1} s. All Hessians are the \
         exact population Hessians at the optimum (student = teacher, x ~ N(0, I)).</p>\n",
        env!("CARGO_PKG_VERSION"),
        claims.len(),
        figures.len(),
        elapsed_s
    ));
    let count = |v: Verdict| claims.iter().filter(|c| c.verdict == v).count();
    h.push_str(&format!(
        "<p><b>{}</b> reproduced, <b>{}</b> reproduced with correction, <b>{}</b> not reproduced, \
         <b>{}</b> inconclusive.</p>\n",
        count(Verdict::Reproduced),
        count(Verdict::ReproducedWithCorrection),
        count(Verdict::NotReproduced),
        count(Verdict::Inconclusive)
    ));
    h.push_str(
        "<p>A value from random draws is shown with its Monte Carlo standard error (bootstrap over \
         teachers, or the binomial error of a fraction) and is decided only beyond 3 standard errors \
         either side of its threshold (a false verdict at most 0.13% per claim for a Gaussian \
         estimate); otherwise it is <i>inconclusive</i> and the note says how many times the draws \
         would decide it (docs/report.md).</p>\n",
    );
    h.push_str(
        "<h2>Claims</h2>\n<table><tr><th>id</th><th>claim</th><th>paper</th><th>measured</th>\
         <th>verdict</th><th>note</th></tr>\n",
    );
    for c in claims {
        let (class, text) = verdict_class(c.verdict);
        let place = match (c.figure.is_empty(), c.section.is_empty()) {
            (false, false) => format!("{}, §{}", esc(&c.figure), esc(&c.section)),
            (false, true) => esc(&c.figure),
            (true, false) => format!("§{}", esc(&c.section)),
            (true, true) => String::new(),
        };
        h.push_str(&format!(
            "<tr class=\"{class}\"><td><code>{}</code></td><td>{}</td><td>{}</td><td>{} = {}{} \
             (threshold {})</td><td>{text}</td><td>{}</td></tr>\n",
            esc(&c.id),
            esc(&c.claim),
            place,
            esc(&c.statistic),
            num(c.value),
            c.standard_error
                .map_or(String::new(), |se| format!(" ± {}", num(se))),
            num(c.threshold),
            esc(&c.note)
        ));
    }
    h.push_str("</table>\n");
    if !claims.iter().any(|c| c.id.starts_with("fig3")) {
        h.push_str(
            "<p>Figure 3 (learning dynamics near the optimum, Eq. 7) was switched off in this run's \
             configuration (<code>\"dynamics\": false</code>).</p>\n",
        );
    }
    h.push_str(
        "<h2>Corrections to printed formulas</h2>\n<table><tr><th>where</th><th>printed</th>\
                <th>correct</th></tr>\n",
    );
    for (w, p, c) in CORRECTIONS {
        h.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>\n",
            esc(w),
            esc(p),
            esc(c)
        ));
    }
    h.push_str(
        "</table>\n<p>Derivations and evidence: <code>docs/derivations.md</code>, \
                <code>docs/theory.md</code>.</p>\n<h2>Figures</h2>\n",
    );
    for f in figures {
        let ff = FigureFiles::of(&f.id);
        h.push_str(&format!(
            "<figure id=\"{id}\"><img src=\"{png}\" alt=\"{title}\"><figcaption><b>{id}</b>: {title} \
             (<a href=\"{svg}\">SVG</a>, <a href=\"{csv}\">data CSV</a>)</figcaption></figure>\n",
            id = esc(&f.id),
            png = esc(&ff.png),
            svg = esc(&ff.svg),
            csv = esc(&ff.csv),
            title = esc(&f.title)
        ));
    }
    h.push_str(&format!(
        "<h2>Configuration and seeds</h2>\n<p>Teacher <i>t</i> of experiment <i>e</i> is drawn from \
         ChaCha8 stream <code>(e &lt;&lt; 32) | t</code> of the master seed, so results do not depend on \
         the thread count. Rerun with <code>nearopt reproduce --config FILE</code> (any subset of these \
         keys).</p>\n<pre>{}</pre>\n</body></html>\n",
        esc(&serde_json::to_string_pretty(config).unwrap_or_default())
    ));
    h
}
