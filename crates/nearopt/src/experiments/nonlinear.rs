//! Non-linear networks: Figure 4 (quadratic, ε = 1, Section 4.1) and Figure 5 (erf, Section 5).
//!
//! The paper looks at `Ni = Nh = N` only. Every structural claim is measured there (over a wider
//! range of N than the paper's) and on off-diagonal shape families `(a·s, b·s)` (config
//! `shape_families` × `family_scales`, `family_teachers` teachers each), with trends in N
//! measured as log-log slopes whose standard errors come from a bootstrap over teachers.

use super::common::{
    all_of, bootstrap_se, ensemble, histogram, mean, median, teacher, undecided_note,
    verdict_at_least, verdict_at_most, BOOTSTRAP_REPLICATES, BOOTSTRAP_STREAM_BASE, VERDICT_Z,
};
use super::hermite::{dense_hessian, erf_linear_certificate, quadratic_constant_gradient};
use super::{common, Claim, Figure, Output, Progress, ReproduceConfig, Series, Verdict};
use crate::activation::Activation;
use crate::error::{Error, Result};
use crate::spectrum::{rank, symmetric_eigenvalues};
use crate::teacher::WeightDistribution;

/// Eigenvalues above the rank tolerance (`λ_max·D·ε`), ascending.
pub fn nonzero(eig: &[f64]) -> Vec<f64> {
    let tol = rank(eig, None).tolerance;
    eig.iter().copied().filter(|&v| v > tol).collect()
}

/// Splits ascending positive eigenvalues at the largest ratio `λ_{i+1}/λ_i` between neighbours in
/// their upper half (the bulk away from zero is claimed to be small, so its lower edge lies
/// there; gaps inside the lower bulk, common at small N, are not candidates). Returns `(count
/// above the gap, the gap ratio)`.
pub fn split_at_largest_gap(pos: &[f64]) -> (usize, f64) {
    let mut best = (0, 1.0);
    for i in (pos.len() / 2).max(1)..pos.len() {
        let r = pos[i] / pos[i - 1];
        if r > best.1 {
            best = (pos.len() - i, r);
        }
    }
    best
}

/// Largest `D` at which the erf linear certificate (a second `D × D` eigenproblem) is computed.
const CERTIFICATE_MAX_DIM: usize = 2000;

/// One teacher's spectrum with what the claims need.
#[derive(Clone, Debug)]
pub struct TeacherSpectrum {
    /// Eigenvalues above the rank tolerance, ascending.
    pub pos: Vec<f64>,
    /// `λ_max`.
    pub top: f64,
    /// The second largest eigenvalue.
    pub second: f64,
    /// Quadratic: `‖∇E[f]‖²`, a lower bound on `λ_max` (`hermite`); 0 otherwise.
    pub constant_term: f64,
    /// erf: the linear certificate (`hermite::LinearCertificate`) where `D ≤ 2000`.
    pub certificate: Option<super::hermite::LinearCertificate>,
}

/// The spectra of `teachers` Gaussian teachers of shape `(ni, nh)`.
#[allow(clippy::too_many_arguments)]
pub fn shape_spectra(
    act: &Activation,
    ni: usize,
    nh: usize,
    teachers: usize,
    seed: u64,
    experiment: u64,
    progress: &dyn Progress,
) -> Result<Vec<TeacherSpectrum>> {
    ensemble(
        teachers,
        &format!("{} spectra {ni}x{nh}", act.name()),
        progress,
        |t| {
            let net = teacher(act, ni, nh, WeightDistribution::Normal, seed, experiment, t)?;
            let h = dense_hessian(&net)?;
            let eig = symmetric_eigenvalues(&h)?;
            let d = eig.len();
            let constant_term = quadratic_constant_gradient(&net)
                .map(|g| g.iter().map(|v| v * v).sum())
                .unwrap_or(0.0);
            let certificate = if matches!(act, Activation::Erf) && d <= CERTIFICATE_MAX_DIM {
                Some(erf_linear_certificate(&net, &h)?)
            } else {
                None
            };
            if d < 2 {
                return Err(Error::Invalid(format!(
                    "shape {ni}x{nh} has D = {d} < 2 parameters"
                )));
            }
            Ok(TeacherSpectrum {
                pos: nonzero(&eig),
                top: eig[d - 1],
                second: eig[d - 2],
                constant_term,
                certificate,
            })
        },
    )
}

/// A family of shapes `(a·s, b·s)` over scales `s` (the diagonal: `a = b = 1`, `s = N`).
#[derive(Clone, Debug)]
pub struct Family {
    /// `(a, b)`: `Ni = a·s`, `Nh = b·s`.
    pub ratio: (usize, usize),
    /// The shapes `(Ni, Nh)`, by increasing scale.
    pub shapes: Vec<(usize, usize)>,
    /// The scales `s`.
    pub scales: Vec<usize>,
    /// Per shape, per teacher.
    pub spectra: Vec<Vec<TeacherSpectrum>>,
}

impl Family {
    /// `"Ni:Nh = a:b"` or `"Ni = Nh"`.
    pub fn label(&self) -> String {
        if self.ratio == (1, 1) {
            "Ni = Nh".into()
        } else {
            format!("Ni:Nh = {}:{}", self.ratio.0, self.ratio.1)
        }
    }
    fn shapes_text(&self) -> String {
        self.shapes
            .iter()
            .map(|(a, b)| format!("{a}x{b}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Runs the diagonal family (`sizes`) and the off-diagonal families of `cfg`.
fn families(
    act: &Activation,
    sizes: &[usize],
    teachers: usize,
    cfg: &ReproduceConfig,
    experiment: u64,
    progress: &dyn Progress,
) -> Result<Vec<Family>> {
    let mut specs = vec![((1, 1), sizes.to_vec(), teachers)];
    for &r in &cfg.shape_families {
        specs.push((r, cfg.family_scales.clone(), cfg.family_teachers));
    }
    let mut out = Vec::new();
    let mut e = experiment;
    for (ratio, scales, n) in specs {
        let shapes: Vec<(usize, usize)> =
            scales.iter().map(|&s| (ratio.0 * s, ratio.1 * s)).collect();
        let spectra = shapes
            .iter()
            .map(|&(ni, nh)| {
                e += 1;
                shape_spectra(act, ni, nh, n, cfg.seed, e - 1, progress)
            })
            .collect::<Result<Vec<_>>>()?;
        out.push(Family {
            ratio,
            shapes,
            scales,
            spectra,
        });
    }
    Ok(out)
}

/// OLS slope of `ln y` against `ln x`.
pub fn log_log_slope(x: &[f64], y: &[f64]) -> f64 {
    let lx: Vec<f64> = x.iter().map(|v| v.ln()).collect();
    let ly: Vec<f64> = y.iter().map(|v| v.ln()).collect();
    let (mx, my) = (mean(&lx), mean(&ly));
    let sxy: f64 = lx.iter().zip(&ly).map(|(a, b)| (a - mx) * (b - my)).sum();
    let sxx: f64 = lx.iter().map(|a| (a - mx) * (a - mx)).sum();
    sxy / sxx
}

/// A per-shape statistic of a set of teachers (given by index), and its trend in a family.
type ShapeStat<'a> = &'a dyn Fn(&[TeacherSpectrum], &[usize], (usize, usize)) -> f64;

/// Per shape the statistic over all teachers, the log-log slope over the scales, and its
/// bootstrap standard error (teachers resampled within each shape).
fn trend(f: &Family, stat: ShapeStat, seed: u64, stream: u64) -> (Vec<f64>, f64, f64) {
    let x: Vec<f64> = f.scales.iter().map(|&s| s as f64).collect();
    let at = |idx: &[Vec<usize>]| -> Vec<f64> {
        f.spectra
            .iter()
            .zip(idx)
            .zip(&f.shapes)
            .map(|((sp, i), &shape)| stat(sp, i, shape))
            .collect()
    };
    let all: Vec<Vec<usize>> = f.spectra.iter().map(|s| (0..s.len()).collect()).collect();
    let values = at(&all);
    let slope = log_log_slope(&x, &values);
    let groups: Vec<usize> = f.spectra.iter().map(|s| s.len()).collect();
    let se = bootstrap_se(&groups, BOOTSTRAP_REPLICATES, seed, stream, |idx| {
        log_log_slope(&x, &at(idx))
    });
    (values, slope, se)
}

/// Median of the eigenvalues `pos[lo(p)..hi(p)]` pooled over the chosen teachers.
fn pooled_median(
    sp: &[TeacherSpectrum],
    idx: &[usize],
    range: impl Fn(&TeacherSpectrum) -> (usize, usize),
) -> f64 {
    let mut v = Vec::new();
    for &t in idx {
        let (lo, hi) = range(&sp[t]);
        v.extend_from_slice(&sp[t].pos[lo..hi]);
    }
    if v.is_empty() {
        f64::NAN
    } else {
        median(&v)
    }
}

/// Geometric mean (the location on the log axis of the figures) of the same eigenvalues.
fn pooled_geometric_mean(
    sp: &[TeacherSpectrum],
    idx: &[usize],
    range: impl Fn(&TeacherSpectrum) -> (usize, usize),
) -> f64 {
    let mut s = 0.0;
    let mut n = 0usize;
    for &t in idx {
        let (lo, hi) = range(&sp[t]);
        s += sp[t].pos[lo..hi].iter().map(|v| v.ln()).sum::<f64>();
        n += hi - lo;
    }
    (s / n as f64).exp()
}

fn fmt_values(f: &Family, v: &[f64]) -> String {
    f.shapes
        .iter()
        .zip(v)
        .map(|((a, b), x)| format!("{a}x{b}: {x:.3e}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One family's line in a trend claim's note, and its verdict.
fn trend_line(f: &Family, what: &str, values: &[f64], slope: f64, se: f64, v: Verdict) -> String {
    let word = match v {
        Verdict::Reproduced | Verdict::ReproducedWithCorrection => "holds",
        Verdict::NotReproduced => "does not hold",
        Verdict::Inconclusive => "undecided",
    };
    let fewest = f.spectra.iter().map(|s| s.len()).min().unwrap_or(0);
    let word = if fewest < MIN_BOOTSTRAP_TEACHERS {
        format!("undecided ({fewest} teachers per shape, fewer than the {MIN_BOOTSTRAP_TEACHERS} a bootstrap needs)")
    } else {
        word.to_string()
    };
    format!(
        "{} ({}): {what} {}; slope {slope:+.3} ± {se:.3}: {word}",
        f.label(),
        f.shapes_text(),
        fmt_values(f, values)
    )
}

/// Fewest teachers per shape for which a bootstrap standard error decides a verdict (with `n`
/// teachers there are only `C(2n−1, n)` distinct resamples: 3 for `n = 2`, 126 for `n = 5`).
pub const MIN_BOOTSTRAP_TEACHERS: usize = 5;

/// How a trend claim compares its slope with the threshold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Rule {
    /// slope ≤ threshold (moves down).
    AtMost,
    /// slope ≥ threshold (grows).
    AtLeast,
    /// |slope| ≤ threshold (stays fixed).
    AbsAtMost,
}

impl Rule {
    fn value(self, slope: f64) -> f64 {
        if self == Rule::AbsAtMost {
            slope.abs()
        } else {
            slope
        }
    }
    fn decide(self, slope: f64, se: f64, threshold: f64) -> Verdict {
        match self {
            Rule::AtMost => verdict_at_most(slope, se, threshold),
            Rule::AtLeast => verdict_at_least(slope, se, threshold),
            Rule::AbsAtMost => verdict_at_most(slope.abs(), se, threshold),
        }
    }
    /// How far the value is on the wrong side (larger is worse), in standard errors' reach.
    fn badness(self, slope: f64, se: f64) -> f64 {
        match self {
            Rule::AtMost => slope + VERDICT_Z * se,
            Rule::AtLeast => -(slope - VERDICT_Z * se),
            Rule::AbsAtMost => slope.abs() + VERDICT_Z * se,
        }
    }
    fn symbol(self) -> &'static str {
        match self {
            Rule::AtMost => "slope ≤",
            Rule::AtLeast => "slope ≥",
            Rule::AbsAtMost => "|slope| ≤",
        }
    }
}

/// Builds the diagonal claim and the off-diagonal claim of one trend statement: per family the
/// log-log slope of `stat`, decided by `decide(slope, se)`.
#[allow(clippy::too_many_arguments)]
fn trend_claims(
    fams: &[Family],
    id: &str,
    figure: &str,
    section: &str,
    text: &str,
    statistic: &str,
    what: &str,
    stat: ShapeStat,
    threshold: f64,
    rule: Rule,
    extra_diag: &str,
    seed: u64,
    stream: u64,
) -> Vec<Claim> {
    let decide = |s: f64, se: f64| rule.decide(s, se, threshold);
    let rows: Vec<(Vec<f64>, f64, f64, Verdict)> = fams
        .iter()
        .enumerate()
        .map(|(k, f)| {
            let (values, slope, se) = trend(f, stat, seed, stream + k as u64);
            let fewest = f.spectra.iter().map(|s| s.len()).min().unwrap_or(0);
            // A bootstrap over fewer teachers than this has too few distinct resamples for its
            // standard error to be trusted: no verdict.
            let v = if fewest < MIN_BOOTSTRAP_TEACHERS {
                Verdict::Inconclusive
            } else {
                decide(slope, se)
            };
            (values, slope, se, v)
        })
        .collect();
    let rule_text = format!(
        "Statistic: the log-log slope of the {what} against the scale, bootstrap standard error over \
         teachers ({BOOTSTRAP_REPLICATES} replicates); the claim requires {} {threshold:.3} beyond 3 \
         standard errors.",
        rule.symbol()
    );
    let (values, slope, se, v) = &rows[0];
    let diag = common::claim(
        id,
        figure,
        section,
        text,
        statistic,
        rule.value(*slope),
        threshold,
        *v,
        format!(
            "{}. {rule_text}{}{extra_diag}",
            trend_line(&fams[0], what, values, *slope, *se, *v),
            undecided_note(*v, rule.value(*slope), *se, threshold)
        ),
    )
    .with_se(*se);
    let mut claims = vec![diag];
    if fams.len() > 1 {
        let off = &rows[1..];
        let verdicts: Vec<Verdict> = off.iter().map(|r| r.3).collect();
        let overall = all_of(&verdicts);
        // The reported value is the family that decides the verdict (the worst slope).
        let worst = off
            .iter()
            .enumerate()
            .max_by(|a, b| {
                rule.badness(a.1 .1, a.1 .2)
                    .total_cmp(&rule.badness(b.1 .1, b.1 .2))
            })
            .map(|(i, _)| i)
            .unwrap_or(0);
        let lines: Vec<String> = fams[1..]
            .iter()
            .zip(off)
            .map(|(f, r)| trend_line(f, what, &r.0, r.1, r.2, r.3))
            .collect();
        claims.push(
            common::claim(
                &format!("{id}-offdiag"),
                figure,
                section,
                &format!("{text} — off the paper's shapes (Ni ≠ Nh)"),
                statistic,
                rule.value(off[worst].1),
                threshold,
                overall,
                format!(
                    "Per family: {}. {rule_text} Value and standard error: the least favourable family ({}).",
                    lines.join("; "),
                    fams[1 + worst].label()
                ),
            )
            .with_se(off[worst].2),
        );
    }
    claims
}

fn log_hist(label: &str, per: &[TeacherSpectrum], lo: f64, hi: f64, bins: usize) -> Series {
    let logs: Vec<f64> = per
        .iter()
        .flat_map(|p| p.pos.iter().map(|v| v.log10()))
        .collect();
    histogram(label, &logs, lo, hi, bins)
}

fn log_range(all: &[Vec<TeacherSpectrum>]) -> (f64, f64) {
    let mut lo = f64::INFINITY;
    let mut hi = f64::NEG_INFINITY;
    for p in all.iter().flatten() {
        lo = lo.min(p.pos[0].log10());
        hi = hi.max(p.pos[p.pos.len() - 1].log10());
    }
    (lo.floor(), hi.ceil())
}

fn diagonal_figure(id: &str, title: &str, x_label: &str, f: &Family, bins: usize) -> Figure {
    let (lo, hi) = log_range(&f.spectra);
    Figure {
        id: id.into(),
        title: title.into(),
        x_label: x_label.into(),
        y_label: "density".into(),
        log_x: false,
        log_y: false,
        series: f
            .scales
            .iter()
            .zip(&f.spectra)
            .map(|(n, per)| log_hist(&format!("N = {n}"), per, lo, hi, bins))
            .collect(),
    }
}

/// Lower bulk of a quadratic spectrum: the nonzero eigenvalues without the top `Ni + 1` (the
/// outlier and the `Ni` below it).
fn quad_lower(ni: usize) -> impl Fn(&TeacherSpectrum) -> (usize, usize) {
    move |p| (0, p.pos.len().saturating_sub(ni + 1).max(1))
}

/// Upper bulk of a quadratic spectrum: the `Ni` eigenvalues just below the top one.
fn quad_upper(ni: usize) -> impl Fn(&TeacherSpectrum) -> (usize, usize) {
    move |p| {
        let k = p.pos.len().saturating_sub(ni + 1).max(1);
        (k, p.pos.len() - 1)
    }
}

/// Figure 4: quadratic spectra; the lower bulk moves to zero, the outlier grows, a small bulk sits
/// at large λ. Measured on `Ni = Nh = N` and on the off-diagonal families.
pub fn figure4(cfg: &ReproduceConfig, progress: &dyn Progress) -> Result<Output> {
    let act = Activation::Quadratic {
        epsilon: cfg.quadratic_epsilon,
    };
    let fams = families(
        &act,
        &cfg.quadratic_sizes,
        cfg.quadratic_teachers,
        cfg,
        400,
        progress,
    )?;
    let mut out = Output::default();
    out.figures.push(diagonal_figure(
        "fig4",
        &format!(
            "Quadratic (ε = {}) Hessian spectra, Ni = Nh = N",
            cfg.quadratic_epsilon
        ),
        "log10 λ (nonzero eigenvalues)",
        &fams[0],
        cfg.bins,
    ));
    let seed = cfg.seed;
    let base = BOOTSTRAP_STREAM_BASE + 4000;

    // The previous statistic (strict decrease of the median at every step), reported too.
    let diag = &fams[0];
    let med: Vec<f64> = diag
        .spectra
        .iter()
        .zip(&diag.shapes)
        .map(|(sp, &(ni, _))| pooled_median(sp, &(0..sp.len()).collect::<Vec<_>>(), quad_lower(ni)))
        .collect();
    let strictly = med.windows(2).all(|w| w[1] < w[0]);
    let old = format!(
        " Previous statistic (strict decrease of the median at every step, point estimates): {} — it \
         ignores the teacher-to-teacher spread (a factor of several at N = 5), so a single noisy step \
         decides it; the slope with its bootstrap error replaces it.",
        if strictly { "holds" } else { "fails" }
    );
    let lower_median = |sp: &[TeacherSpectrum], idx: &[usize], (ni, _): (usize, usize)| -> f64 {
        pooled_median(sp, idx, quad_lower(ni))
    };
    out.claims.extend(trend_claims(
        &fams,
        "fig4-bulk-to-zero",
        "Figure 4",
        "4.1",
        "quadratic: the bulk of eigenvalues near zero moves towards zero as N grows",
        "slope_log_median_lower_bulk",
        "median of the lower bulk (nonzero eigenvalues without the top Ni + 1)",
        &lower_median,
        0.0,
        Rule::AtMost,
        &old,
        seed,
        base,
    ));
    let lower_gmean = |sp: &[TeacherSpectrum], idx: &[usize], (ni, _): (usize, usize)| -> f64 {
        pooled_geometric_mean(sp, idx, quad_lower(ni))
    };
    out.claims.extend(trend_claims(
        &fams,
        "fig4-bulk-to-zero-geomean",
        "Figure 4",
        "4.1",
        "quadratic: the bulk of eigenvalues near zero moves towards zero as N grows (its location \
         on the figure's log axis)",
        "slope_log_geometric_mean_lower_bulk",
        "geometric mean of the lower bulk",
        &lower_gmean,
        0.0,
        Rule::AtMost,
        " The geometric mean is the centre of the bulk on the log10 axis the figure is drawn on; it \
         weighs the lower tail, which the median ignores.",
        seed,
        base + 100,
    ));

    // Outlier: mean λ_max grows; isolated (λ_max/λ_2 > 1.5 for every teacher, exact per teacher);
    // λ_max ≥ ‖∇E f‖² (the degree-0 Hermite term), which grows like ε² Nh.
    let top = |sp: &[TeacherSpectrum], idx: &[usize], _: (usize, usize)| -> f64 {
        mean(&idx.iter().map(|&t| sp[t].top).collect::<Vec<_>>())
    };
    let mut iso = Vec::new();
    let mut bound_ok = true;
    let mut shape_lines = Vec::new();
    for f in &fams {
        let mut parts = Vec::new();
        for (sp, &(ni, nh)) in f.spectra.iter().zip(&f.shapes) {
            let sep = sp
                .iter()
                .map(|p| p.top / p.second)
                .fold(f64::INFINITY, f64::min);
            let c0 = mean(&sp.iter().map(|p| p.constant_term).collect::<Vec<_>>());
            let ratio = mean(
                &sp.iter()
                    .map(|p| p.top / p.constant_term)
                    .collect::<Vec<_>>(),
            );
            bound_ok &= sp.iter().all(|p| p.top >= p.constant_term * (1.0 - 1e-10));
            parts.push(format!(
                "{ni}x{nh}: min λ_max/λ_2 {sep:.2}, mean ‖∇E f‖² {c0:.1} (ε²(Nh(1+2/Ni)+4) = {:.1}), \
                 λ_max/‖∇E f‖² {ratio:.2}",
                cfg.quadratic_epsilon.powi(2) * (nh as f64 * (1.0 + 2.0 / ni as f64) + 4.0)
            ));
            iso.push(sep);
        }
        shape_lines.push(parts.join(", "));
    }
    let iso_ok = iso.iter().all(|&s| s > 1.5);
    let mech = format!(
        " Isolation (λ_max/λ_2 > 1.5 for every teacher): {}. Mechanism (docs/theory.md, Hermite \
         decomposition): λ_max ≥ ‖∇E[f]‖² = ε²Σ_m(|w_m|⁴ + 4W2_m²|w_m|²), mean ε²(Nh(1+2/Ni)+4): the \
         outlier is the constant part of the network function and grows with Nh, not with N as such; \
         the bound held for every teacher: {bound_ok}. Per shape: {}.",
        if iso_ok { "yes" } else { "no" },
        shape_lines.join("; ")
    );
    let mut top_claims = trend_claims(
        &fams,
        "fig4-outlier-grows",
        "Figure 4",
        "4.1",
        "quadratic: a single top eigenvalue, far from the rest, grows with N",
        "slope_log_mean_top_eigenvalue",
        "mean λ_max",
        &top,
        0.0,
        Rule::AtLeast,
        &mech,
        seed,
        base + 200,
    );
    if !iso_ok {
        for c in &mut top_claims {
            c.verdict = Verdict::NotReproduced;
            c.note
                .push_str(" Not isolated at some shape: not reproduced.");
        }
    }
    out.claims.extend(top_claims);

    let upper = |sp: &[TeacherSpectrum], idx: &[usize], (ni, _): (usize, usize)| -> f64 {
        pooled_median(sp, idx, quad_upper(ni))
    };
    out.claims.extend(trend_claims(
        &fams,
        "fig4-upper-bulk",
        "Figure 4",
        "4.1",
        "quadratic: a much smaller bulk of eigenvalues moves to larger and larger λ as N grows",
        "slope_log_median_upper_bulk",
        "median of the upper bulk (the Ni eigenvalues just below the top)",
        &upper,
        0.0,
        Rule::AtLeast,
        "",
        seed,
        base + 300,
    ));
    Ok(out)
}

/// Figure 5: erf spectra; the number of eigenvalues in the bulk away from zero (claimed: `Nh`),
/// the bulks' trends; measured on `Ni = Nh = N` and the off-diagonal families.
pub fn figure5(cfg: &ReproduceConfig, progress: &dyn Progress) -> Result<Output> {
    let fams = families(
        &Activation::Erf,
        &cfg.erf_sizes,
        cfg.erf_teachers,
        cfg,
        500,
        progress,
    )?;
    let mut out = Output::default();
    out.figures.push(diagonal_figure(
        "fig5",
        "erf Hessian spectra, Ni = Nh = N",
        "log10 λ (eigenvalues above the rank tolerance)",
        &fams[0],
        cfg.bins,
    ));

    // The count: per teacher, above the largest ratio gap of the upper half.
    let mut total = 0usize;
    let mut eq_nh = 0usize;
    let mut eq_ni = 0usize;
    let mut lines = Vec::new();
    let mut certified = 0usize;
    let mut cert_total = 0usize;
    let mut cert_lines = Vec::new();
    let mut worst_psd = 0.0f64;
    for f in &fams {
        let mut parts = Vec::new();
        let mut cparts = Vec::new();
        for (sp, &(ni, nh)) in f.spectra.iter().zip(&f.shapes) {
            let counts: Vec<usize> = sp.iter().map(|p| split_at_largest_gap(&p.pos).0).collect();
            let gaps: Vec<f64> = sp.iter().map(|p| split_at_largest_gap(&p.pos).1).collect();
            total += counts.len();
            eq_nh += counts.iter().filter(|&&c| c == nh).count();
            eq_ni += counts.iter().filter(|&&c| c == ni).count();
            let mut distinct = counts.clone();
            distinct.sort_unstable();
            distinct.dedup();
            parts.push(format!(
                "{ni}x{nh}: count {} (min gap ×{:.1})",
                distinct
                    .iter()
                    .map(|c| c.to_string())
                    .collect::<Vec<_>>()
                    .join("/"),
                gaps.iter().copied().fold(f64::INFINITY, f64::min)
            ));
            let certs: Vec<_> = sp.iter().filter_map(|p| p.certificate).collect();
            if !certs.is_empty() {
                cert_total += certs.len();
                certified += certs.iter().filter(|c| c.separates()).count();
                let ratio = certs
                    .iter()
                    .map(|c| c.linear_min / c.remainder_max)
                    .fold(f64::INFINITY, f64::min);
                for (c, p) in certs.iter().zip(sp) {
                    worst_psd = worst_psd.min(c.remainder_min / p.top);
                }
                cparts.push(format!("{ni}x{nh}: min σ_min(J_a)²/λ_max(R) {ratio:.2}"));
            }
        }
        lines.push(format!("{}: {}", f.label(), parts.join(", ")));
        if !cparts.is_empty() {
            cert_lines.push(cparts.join(", "));
        }
    }
    let frac = eq_nh as f64 / total as f64;
    let se = common::fraction_se(eq_nh, total);
    let verdict = if eq_nh == total {
        Verdict::Reproduced
    } else if eq_ni == total {
        Verdict::ReproducedWithCorrection
    } else {
        Verdict::NotReproduced
    };
    out.claims.push(
        common::claim(
            "fig5-upper-bulk-count",
            "Figure 5",
            "5",
            "erf: the number of eigenvalues in the bulk away from zero always equals Nh",
            "fraction_of_teachers_with_count_nh",
            frac,
            1.0,
            verdict,
            format!(
                "Per teacher, the spectrum (eigenvalues above λ_max·D·ε) is split at its largest ratio \
                 gap λ_(i+1)/λ_i in its upper half. {eq_nh}/{total} teachers have exactly Nh eigenvalues \
                 above it, {eq_ni}/{total} exactly Ni. {}. {} An 'always' claim is decided by \
                 counterexamples (each count is exact for its teacher); with none among n teachers the \
                 exception rate is below 3/n at 95%. Mechanism: see fig5-count-mechanism.",
                lines.join("; "),
                match verdict {
                    Verdict::Reproduced => "The count equals Nh on every shape measured.".to_string(),
                    Verdict::ReproducedWithCorrection => format!(
                        "Corrected statement, true on every shape measured: the count equals Ni, the \
                         number of inputs (the dimension of the linear part of the network function), \
                         not Nh; the two coincide only on the paper's shapes Ni = Nh. It holds for \
                         {eq_ni}/{total} teachers."
                    ),
                    _ => "Neither Nh nor Ni on every shape.".to_string(),
                }
            ),
        )
        .with_se(se),
    );
    if cert_total > 0 {
        let cfrac = certified as f64 / cert_total as f64;
        let cert_se = common::fraction_se(certified, cert_total);
        out.claims.push(
            common::claim(
                "fig5-count-mechanism",
                "Figure 5",
                "5",
                "erf (mechanism, not in the paper): the bulk away from zero is the degree-1 Hermite \
                 term J_aᵀJ_a of the Hessian (rank Ni): H = J_aᵀJ_a + R with R ⪰ 0, and for most \
                 teachers the rest lies below σ_min(J_a)²",
                "fraction_of_teachers_certified",
                cfrac,
                0.5,
                if worst_psd < -1e-9 {
                    Verdict::NotReproduced
                } else {
                    verdict_at_least(cfrac, cert_se, 0.5)
                },
                format!(
                    "a = E[f(x)x] = Σ_m W2_m κ(|w_m|) w_m with κ(s) = √(2/π)/√(1+s²) (Stein's lemma); \
                     H = J_aᵀJ_a + R with R ⪰ 0 (Hermite expansion of ∇f, docs/theory.md); by Weyl, \
                     σ_min(J_a)² > λ_max(R) proves that exactly Ni eigenvalues lie above λ_max(R). \
                     Certified for {certified}/{cert_total} teachers (shapes with D ≤ \
                     {CERTIFICATE_MAX_DIM}); most negative λ_min(R)/λ_max(H) = {worst_psd:.1e} (R ⪰ 0 \
                     up to rounding). The Weyl bound is sufficient, not necessary: where it fails the \
                     count can still be Ni (fig5-upper-bulk-count). Verdict: R ⪰ 0 for every teacher \
                     and the certified fraction above 1/2 beyond 3 standard errors (Agresti–Coull). \
                     {}.",
                    cert_lines.join("; ")
                ),
            )
            .with_se(cert_se),
        );
    }

    // Bulks: the lower one moves to zero, the upper one stays fixed (|slope| ≤ 1/3: less than a
    // factor 2 over the paper's range N = 5..40, the previous criterion).
    let seed = cfg.seed;
    let base = BOOTSTRAP_STREAM_BASE + 5000;
    let lower = |sp: &[TeacherSpectrum], idx: &[usize], _: (usize, usize)| -> f64 {
        pooled_median(sp, idx, |p| {
            (0, p.pos.len() - split_at_largest_gap(&p.pos).0)
        })
    };
    out.claims.extend(trend_claims(
        &fams,
        "fig5-bulk-to-zero",
        "Figure 5",
        "5",
        "erf: the bulk near zero moves to zero as N grows",
        "slope_log_median_lower_bulk",
        "median of the bulk near zero (below the largest gap)",
        &lower,
        0.0,
        Rule::AtMost,
        "",
        seed,
        base,
    ));
    let upper = |sp: &[TeacherSpectrum], idx: &[usize], _: (usize, usize)| -> f64 {
        pooled_median(sp, idx, |p| {
            (p.pos.len() - split_at_largest_gap(&p.pos).0, p.pos.len())
        })
    };
    out.claims.extend(trend_claims(
        &fams,
        "fig5-upper-bulk-fixed",
        "Figure 5",
        "5",
        "erf: the bulk of large eigenvalues stays fixed as N grows",
        "abs_slope_log_median_upper_bulk",
        "median of the bulk away from zero",
        &upper,
        1.0 / 3.0,
        Rule::AbsAtMost,
        " 'Fixed' is |slope| ≤ 1/3 (less than a factor 2 over the paper's range N = 5..40, the \
         previous criterion).",
        seed,
        base + 100,
    ));
    Ok(out)
}
