//! Non-linear networks with `Ni = Nh = N`: Figure 4 (quadratic, ε = 1, Section 4.1) and Figure 5
//! (erf, Section 5).

use super::common::{ensemble, exact_eigenvalues, histogram, mean, median, teacher, verdict};
use super::{common, Figure, Output, Progress, ReproduceConfig, Series};
use crate::activation::Activation;
use crate::error::Result;
use crate::spectrum::rank;
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

struct PerTeacher {
    pos: Vec<f64>,
    top: f64,
    second: f64,
}

fn spectra(
    act: &Activation,
    n: usize,
    teachers: usize,
    seed: u64,
    experiment: u64,
    progress: &dyn Progress,
) -> Result<Vec<PerTeacher>> {
    ensemble(
        teachers,
        &format!("{} spectra N={n}", act.name()),
        progress,
        |t| {
            let net = teacher(act, n, n, WeightDistribution::Normal, seed, experiment, t)?;
            let eig = exact_eigenvalues(&net)?;
            let d = eig.len();
            Ok(PerTeacher {
                pos: nonzero(&eig),
                top: eig[d - 1],
                second: eig[d - 2],
            })
        },
    )
}

fn log_hist(label: &str, per: &[PerTeacher], lo: f64, hi: f64, bins: usize) -> Series {
    let logs: Vec<f64> = per
        .iter()
        .flat_map(|p| p.pos.iter().map(|v| v.log10()))
        .collect();
    histogram(label, &logs, lo, hi, bins)
}

fn log_range(all: &[Vec<PerTeacher>]) -> (f64, f64) {
    let mut lo = f64::INFINITY;
    let mut hi = f64::NEG_INFINITY;
    for p in all.iter().flatten() {
        lo = lo.min(p.pos[0].log10());
        hi = hi.max(p.pos[p.pos.len() - 1].log10());
    }
    (lo.floor(), hi.ceil())
}

fn monotone(v: &[f64], decreasing: bool) -> bool {
    v.windows(2)
        .all(|w| if decreasing { w[1] < w[0] } else { w[1] > w[0] })
}

fn fmt_list(sizes: &[usize], v: &[f64]) -> String {
    sizes
        .iter()
        .zip(v)
        .map(|(n, x)| format!("N={n}: {x:.4e}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Figure 4: quadratic spectra; the lower bulk moves to zero, the outlier grows, a small bulk sits
/// at large λ.
pub fn figure4(cfg: &ReproduceConfig, progress: &dyn Progress) -> Result<Output> {
    let act = Activation::Quadratic {
        epsilon: cfg.quadratic_epsilon,
    };
    let sizes = &cfg.quadratic_sizes;
    let all = sizes
        .iter()
        .enumerate()
        .map(|(k, &n)| {
            spectra(
                &act,
                n,
                cfg.quadratic_teachers,
                cfg.seed,
                400 + k as u64,
                progress,
            )
        })
        .collect::<Result<Vec<_>>>()?;
    let (lo, hi) = log_range(&all);
    let series = sizes
        .iter()
        .zip(&all)
        .map(|(n, per)| log_hist(&format!("N = {n}"), per, lo, hi, cfg.bins))
        .collect();
    let mut out = Output::default();
    out.figures.push(Figure {
        id: "fig4".into(),
        title: format!(
            "Quadratic (ε = {}) Hessian spectra, Ni = Nh = N",
            cfg.quadratic_epsilon
        ),
        x_label: "log10 λ (nonzero eigenvalues)".into(),
        y_label: "density".into(),
        log_x: false,
        log_y: false,
        series,
    });
    // Lower bulk: nonzero eigenvalues below the top N + 1; upper bulk: the N eigenvalues below
    // the top one (the outlier).
    let mut bulk_median = Vec::new();
    let mut top = Vec::new();
    let mut sep = Vec::new();
    let mut upper = Vec::new();
    for (per, &n) in all.iter().zip(sizes) {
        let mut lower = Vec::new();
        let mut up = Vec::new();
        for p in per {
            let k = p.pos.len().saturating_sub(n + 1).max(1);
            lower.extend_from_slice(&p.pos[..k]);
            up.extend_from_slice(&p.pos[k..p.pos.len() - 1]);
        }
        bulk_median.push(median(&lower));
        top.push(mean(&per.iter().map(|p| p.top).collect::<Vec<_>>()));
        sep.push(mean(
            &per.iter().map(|p| p.top / p.second).collect::<Vec<_>>(),
        ));
        upper.push(median(&up));
    }
    let last = sizes.len() - 1;
    let r_bulk = bulk_median[last] / bulk_median[0];
    out.claims.push(common::claim(
        "fig4-bulk-to-zero",
        "Figure 4",
        "4.1",
        "quadratic: the bulk of eigenvalues near zero moves towards zero as N grows",
        "median_lower_bulk_ratio_last_first",
        r_bulk,
        1.0,
        verdict(r_bulk < 1.0 && monotone(&bulk_median, true)),
        format!(
            "Median of the lower bulk (eigenvalues above the rank tolerance λ_max·D·ε, without the top N + 1) \
             per N: {}; verdict requires a strict decrease at every step.",
            fmt_list(sizes, &bulk_median)
        ),
    ));
    let r_top = top[last] / top[0];
    out.claims.push(common::claim(
        "fig4-outlier-grows",
        "Figure 4",
        "4.1",
        "quadratic: a single top eigenvalue, far from the rest, grows with N",
        "mean_top_eigenvalue_ratio_last_first",
        r_top,
        1.0,
        verdict(r_top > 1.0 && monotone(&top, false) && sep.iter().all(|&s| s > 1.5)),
        format!(
            "Mean λ_max per N: {}; mean λ_max/λ_2 per N: {} (required > 1.5 for an isolated outlier).",
            fmt_list(sizes, &top),
            fmt_list(sizes, &sep)
        ),
    ));
    let r_up = upper[last] / upper[0];
    out.claims.push(common::claim(
        "fig4-upper-bulk",
        "Figure 4",
        "4.1",
        "quadratic: a much smaller bulk of eigenvalues moves to larger and larger λ as N grows",
        "median_upper_bulk_ratio_last_first",
        r_up,
        1.0,
        verdict(r_up > 1.0 && monotone(&upper, false)),
        format!(
            "Upper bulk taken as the N eigenvalues just below the top one; its median per N: {}; verdict \
             requires a strict increase at every step.",
            fmt_list(sizes, &upper)
        ),
    ));
    Ok(out)
}

/// Figure 5: erf spectra; the number of eigenvalues in the bulk away from zero equals `Nh`.
pub fn figure5(cfg: &ReproduceConfig, progress: &dyn Progress) -> Result<Output> {
    let act = Activation::Erf;
    let sizes = &cfg.erf_sizes;
    let all = sizes
        .iter()
        .enumerate()
        .map(|(k, &n)| {
            spectra(
                &act,
                n,
                cfg.erf_teachers,
                cfg.seed,
                500 + k as u64,
                progress,
            )
        })
        .collect::<Result<Vec<_>>>()?;
    let (lo, hi) = log_range(&all);
    let mut out = Output::default();
    out.figures.push(Figure {
        id: "fig5".into(),
        title: "erf Hessian spectra, Ni = Nh = N".into(),
        x_label: "log10 λ (eigenvalues above the rank tolerance)".into(),
        y_label: "density".into(),
        log_x: false,
        log_y: false,
        series: sizes
            .iter()
            .zip(&all)
            .map(|(n, per)| log_hist(&format!("N = {n}"), per, lo, hi, cfg.bins))
            .collect(),
    });
    let mut total = 0usize;
    let mut hits = 0usize;
    let mut min_gap = f64::INFINITY;
    let mut misses = Vec::new();
    let mut lower_median = Vec::new();
    let mut upper_median = Vec::new();
    for (per, &n) in all.iter().zip(sizes) {
        let mut lower = Vec::new();
        let mut upper = Vec::new();
        for (t, p) in per.iter().enumerate() {
            let (above, gap) = split_at_largest_gap(&p.pos);
            total += 1;
            if above == n {
                hits += 1;
                min_gap = min_gap.min(gap);
            } else {
                misses.push(format!("N={n} teacher {t}: {above} above gap ×{gap:.2}"));
            }
            lower.extend_from_slice(&p.pos[..p.pos.len() - above]);
            upper.extend_from_slice(&p.pos[p.pos.len() - above..]);
        }
        lower_median.push(median(&lower));
        upper_median.push(median(&upper));
    }
    let frac = hits as f64 / total as f64;
    out.claims.push(common::claim(
        "fig5-upper-bulk-count",
        "Figure 5",
        "5",
        "erf: the number of eigenvalues in the bulk away from zero always equals Nh",
        "fraction_of_teachers_with_count_nh",
        frac,
        1.0,
        verdict(hits == total),
        format!(
            "Per teacher, the spectrum (eigenvalues above λ_max·D·ε) is split at its largest ratio gap \
             λ_(i+1)/λ_i in its upper half; {hits}/{total} teachers have exactly Nh eigenvalues above it (smallest such gap \
             ratio ×{min_gap:.2}). {}",
            if misses.is_empty() { String::new() } else { format!("Exceptions: {}.", misses.join("; ")) }
        ),
    ));
    let last = sizes.len() - 1;
    let r = lower_median[last] / lower_median[0];
    let upper_spread = upper_median.iter().copied().fold(0.0, f64::max)
        / upper_median.iter().copied().fold(f64::INFINITY, f64::min);
    out.claims.push(common::claim(
        "fig5-bulks",
        "Figure 5",
        "5",
        "erf: the bulk near zero moves to zero with N while the bulk of large eigenvalues stays fixed",
        "median_lower_bulk_ratio_last_first",
        r,
        1.0,
        verdict(monotone(&lower_median, true) && upper_spread < 2.0),
        format!(
            "Median of the lower bulk per N: {}; median of the upper bulk per N: {} (max/min {:.3}, \
             required < 2 for 'fixed'); verdict requires a strict decrease of the lower bulk.",
            fmt_list(sizes, &lower_median),
            fmt_list(sizes, &upper_median),
            upper_spread
        ),
    ));
    Ok(out)
}
