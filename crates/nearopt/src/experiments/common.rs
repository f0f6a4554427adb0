//! Helpers shared by the experiments: seeded parallel ensembles, exact spectra, histograms,
//! theory curves and claim construction.

use super::{Claim, Progress, Series, Verdict};
use crate::activation::Activation;
use crate::error::Result;
use crate::hessian::PopulationHessian;
use crate::network::Network;
use crate::spectrum::symmetric_eigenvalues;
use crate::teacher::{sample_teacher, WeightDistribution};
use crate::theory::Law;
use rayon::prelude::*;

/// Stream id of teacher `t` in experiment `experiment`: `(experiment << 32) | t`, so every
/// teacher of every experiment has its own ChaCha8 stream and results do not depend on threads.
pub fn stream_id(experiment: u64, teacher: usize) -> u64 {
    (experiment << 32) | teacher as u64
}

/// Teacher `t` of experiment `experiment` (see [`stream_id`]).
pub fn teacher(
    act: &Activation,
    ni: usize,
    nh: usize,
    dist: WeightDistribution,
    seed: u64,
    experiment: u64,
    t: usize,
) -> Result<Network> {
    sample_teacher(act.clone(), ni, nh, dist, seed, stream_id(experiment, t))
}

/// Runs `f(t)` for `t in 0..n` in parallel (rayon), in order, reporting progress under `name`.
pub fn ensemble<T: Send>(
    n: usize,
    name: &str,
    progress: &dyn Progress,
    f: impl Fn(usize) -> Result<T> + Sync + Send,
) -> Result<Vec<T>> {
    progress.start(name, n as u64);
    let r = (0..n)
        .into_par_iter()
        .map(|t| {
            let v = f(t);
            progress.inc(1);
            v
        })
        .collect::<Result<Vec<T>>>();
    progress.finish();
    r
}

/// Ascending eigenvalues of the exact population Hessian at the optimum (student = `net`).
pub fn exact_eigenvalues(net: &Network) -> Result<Vec<f64>> {
    let h = PopulationHessian::at_optimum(net).dense()?;
    symmetric_eigenvalues(&h)
}

/// A normalised histogram of `samples` on `[lo, hi]` with `bins` bins (density over all samples,
/// so it integrates to the fraction inside the range).
pub fn histogram(label: &str, samples: &[f64], lo: f64, hi: f64, bins: usize) -> Series {
    let width = (hi - lo) / bins as f64;
    let mut counts = vec![0usize; bins];
    for &s in samples {
        if s >= lo && s <= hi {
            let i = (((s - lo) / width) as usize).min(bins - 1);
            counts[i] += 1;
        }
    }
    let n = samples.len().max(1) as f64;
    Series::Histogram {
        label: label.to_string(),
        edges: (0..=bins).map(|i| lo + width * i as f64).collect(),
        density: counts.iter().map(|&c| c as f64 / (n * width)).collect(),
    }
}

/// The density of `law` on `[lo, hi]` as a line.
pub fn pdf_line(label: &str, law: &dyn Law, lo: f64, hi: f64, points: usize) -> Series {
    let (x, y) = crate::theory::pdf_curve(law, lo, hi, points)
        .into_iter()
        .unzip();
    Series::Line {
        label: label.to_string(),
        x,
        y,
    }
}

/// Plot range `[lo, hi]` covering the samples (with a small margin).
pub fn range(samples: &[f64]) -> (f64, f64) {
    let lo = samples.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = samples.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let pad = 0.02 * (hi - lo).max(1e-12);
    ((lo - pad).max(0.0).min(lo), hi + pad)
}

/// Median of a non-empty slice.
pub fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let n = s.len();
    if n % 2 == 1 {
        s[n / 2]
    } else {
        0.5 * (s[n / 2 - 1] + s[n / 2])
    }
}

/// Mean of a non-empty slice.
pub fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

/// A claim; `verdict` decided by the caller.
#[allow(clippy::too_many_arguments)]
pub fn claim(
    id: &str,
    figure: &str,
    section: &str,
    text: &str,
    statistic: &str,
    value: f64,
    threshold: f64,
    verdict: Verdict,
    note: String,
) -> Claim {
    Claim {
        id: id.to_string(),
        figure: figure.to_string(),
        section: section.to_string(),
        claim: text.to_string(),
        statistic: statistic.to_string(),
        value,
        standard_error: None,
        threshold,
        verdict,
        note,
        t_max: None,
        lambda_min: None,
    }
}

/// How far (in standard errors) a Monte Carlo value must lie from its threshold before a verdict
/// is given: `z = 3`, a one-sided false-verdict rate of at most `Φ(−3) ≈ 0.13 %` per claim when the
/// estimate is Gaussian with the stated standard error (see `docs/report.md`).
pub const VERDICT_Z: f64 = 3.0;

/// The verdict on a Monte Carlo statistic `value ± se` that the claim requires to be at most
/// `threshold` (a deviation, a distance): `Reproduced` when `value + z·se ≤ threshold`,
/// `NotReproduced` when `value − z·se > threshold`, `Inconclusive` otherwise, with
/// `z` = [`VERDICT_Z`]. With `se = 0` (an exact value) this is the plain comparison.
pub fn verdict_at_most(value: f64, se: f64, threshold: f64) -> Verdict {
    if !value.is_finite() || !se.is_finite() {
        return Verdict::Inconclusive;
    }
    if value + VERDICT_Z * se <= threshold {
        Verdict::Reproduced
    } else if value - VERDICT_Z * se > threshold {
        Verdict::NotReproduced
    } else {
        Verdict::Inconclusive
    }
}

/// For an inconclusive `value ± se` against `threshold`: the factor by which the number of draws
/// must grow (standard error ∝ 1/√n) before [`verdict_at_most`] decides, assuming the value
/// stays where it is; `None` when the value sits on the threshold (no number of draws decides).
pub fn draws_factor_to_decide(value: f64, se: f64, threshold: f64) -> Option<f64> {
    let gap = (value - threshold).abs();
    if gap == 0.0 || !gap.is_finite() || se <= 0.0 {
        return None;
    }
    Some(((VERDICT_Z * se / gap).powi(2)).max(1.0))
}

/// The verdict on a Monte Carlo statistic `value ± se` that the claim requires to be at least
/// `threshold` (a growth rate, a distance for a "differs" claim): the mirror image of
/// [`verdict_at_most`] — `Reproduced` when `value − z·se ≥ threshold`, `NotReproduced` when
/// `value + z·se < threshold`, `Inconclusive` otherwise (`z` = [`VERDICT_Z`]).
pub fn verdict_at_least(value: f64, se: f64, threshold: f64) -> Verdict {
    // `−value ≤ −threshold` beyond doubt is `value ≥ threshold` beyond doubt.
    verdict_at_most(-value, se, -threshold)
}

/// What an inconclusive verdict needs, for its note: "undecided at 3 standard errors; about k×
/// the draws would decide" (empty for a decided verdict).
pub fn undecided_note(verdict: Verdict, value: f64, se: f64, threshold: f64) -> String {
    if verdict != Verdict::Inconclusive {
        return String::new();
    }
    match draws_factor_to_decide(value, se, threshold) {
        Some(f) => format!(
            " Undecided at {VERDICT_Z} standard errors: about {:.0}× the draws would decide it \
             (if the value stays where it is).",
            f.ceil()
        ),
        None => {
            format!(" Undecided at {VERDICT_Z} standard errors: the value sits on the threshold.")
        }
    }
}

/// Combines per-shape verdicts into one: `NotReproduced` if any shape's is, else `Inconclusive`
/// if any shape's is, else `Reproduced` (an empty list is `Inconclusive`).
pub fn all_of(verdicts: &[Verdict]) -> Verdict {
    if verdicts.is_empty() {
        Verdict::Inconclusive
    } else if verdicts.contains(&Verdict::NotReproduced) {
        Verdict::NotReproduced
    } else if verdicts.contains(&Verdict::Inconclusive) {
        Verdict::Inconclusive
    } else {
        Verdict::Reproduced
    }
}

/// Bootstrap over groups (teachers, or teachers within each of several shapes): `replicates`
/// times, draws `groups[k]` indices with replacement from `0..groups[k]` for every `k` (from
/// the seeded stream `rng::stream(seed, stream)`) and evaluates `stat` on them; returns the
/// standard deviation of the replicates, the bootstrap standard error of `stat` at the original
/// indices. Cost: `replicates` evaluations of `stat`.
pub fn bootstrap_se(
    groups: &[usize],
    replicates: usize,
    seed: u64,
    stream: u64,
    stat: impl Fn(&[Vec<usize>]) -> f64,
) -> f64 {
    use rand::Rng as _;
    let mut rng = crate::rng::stream(seed, stream);
    let mut values = Vec::with_capacity(replicates);
    for _ in 0..replicates {
        let idx: Vec<Vec<usize>> = groups
            .iter()
            .map(|&n| (0..n).map(|_| rng.random_range(0..n.max(1))).collect())
            .collect();
        let v = stat(&idx);
        if v.is_finite() {
            values.push(v);
        }
    }
    if values.len() < 2 {
        return f64::NAN;
    }
    let m = mean(&values);
    let sd =
        (values.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / (values.len() - 1) as f64).sqrt();
    // The bootstrap draws from the empirical distribution, whose variance is (n−1)/n times the
    // unbiased one: undo that shrinkage (it matters at the quick run's few teachers).
    let n = groups.iter().copied().min().unwrap_or(1) as f64;
    if n > 1.0 {
        sd * (n / (n - 1.0)).sqrt()
    } else {
        f64::NAN
    }
}

/// Standard error of a fraction `x/n` of independent draws (teachers): the Agresti–Coull form
/// `√(p̃(1−p̃)/(n+4))`, `p̃ = (x+2)/(n+4)`, which stays positive when `x = 0` or `x = n` (where
/// the plain binomial error would claim certainty from a handful of draws).
pub fn fraction_se(x: usize, n: usize) -> f64 {
    let (x, n) = (x as f64, n as f64);
    let p = (x + 2.0) / (n + 4.0);
    (p * (1.0 - p) / (n + 4.0)).sqrt()
}

/// Bootstrap replicates used for every standard error of the report.
pub const BOOTSTRAP_REPLICATES: usize = 200;

/// KS distance of the pooled eigenvalues of several teachers (`per_teacher[t]`) from `law`, with
/// its bootstrap standard error over teachers (eigenvalues of one teacher are correlated, so
/// teachers, not eigenvalues, are resampled). The law's CDF is evaluated once per eigenvalue;
/// each replicate costs a sort of the pooled sample.
pub fn ks_with_se(
    per_teacher: &[Vec<f64>],
    law: &dyn crate::theory::Law,
    seed: u64,
    stream: u64,
) -> (f64, f64) {
    let with_cdf: Vec<Vec<(f64, f64)>> = per_teacher
        .iter()
        .map(|v| v.iter().map(|&x| (x, law.cdf(x))).collect())
        .collect();
    let ks = |teachers: &mut dyn Iterator<Item = usize>| -> f64 {
        let mut pooled: Vec<(f64, f64)> =
            teachers.flat_map(|t| with_cdf[t].iter().copied()).collect();
        pooled.sort_by(|a, b| a.0.total_cmp(&b.0));
        let n = pooled.len() as f64;
        pooled.iter().enumerate().fold(0.0f64, |d, (i, &(_, f))| {
            d.max((i + 1) as f64 / n - f).max(f - i as f64 / n)
        })
    };
    let value = ks(&mut (0..per_teacher.len()));
    let se = bootstrap_se(
        &[per_teacher.len()],
        BOOTSTRAP_REPLICATES,
        seed,
        stream,
        |idx| ks(&mut idx[0].iter().copied()),
    );
    (value, se)
}

/// Bootstrap stream ids live above every teacher stream (`experiment << 32 | t` with experiment
/// ids below 2^20): `BOOTSTRAP_STREAM_BASE + experiment`.
pub const BOOTSTRAP_STREAM_BASE: u64 = 1 << 62;

/// `Reproduced` if `ok`, else `NotReproduced`.
pub fn verdict(ok: bool) -> Verdict {
    if ok {
        Verdict::Reproduced
    } else {
        Verdict::NotReproduced
    }
}

/// Tolerance on the KS distance between a measured spectrum and its law for "follows the law"
/// claims (and the distance a "visibly differs" claim must exceed): 0.05, fixed in advance and
/// independent of the number of draws, so that more draws always decide (`docs/report.md`). A
/// difference of 5% in the distribution function is about the smallest a histogram of the
/// paper's kind shows by eye.
pub const KS_TOLERANCE: f64 = 0.05;

/// KS threshold for pooled eigenvalues of `teachers` independent teachers: eigenvalues of one
/// teacher are correlated, so the effective sample size is taken as the number of teachers
/// (the 1% critical value `1.63/√teachers`), plus `finite_size` for the deviation of the
/// asymptotic (Marchenko–Pastur) law at these small sizes.
pub fn ks_threshold(teachers: usize, finite_size: f64) -> f64 {
    1.63 / (teachers as f64).sqrt() + finite_size
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdict_rule_needs_three_standard_errors_either_way() {
        // Exact values: the plain comparison.
        assert_eq!(verdict_at_most(0.04, 0.0, 0.05), Verdict::Reproduced);
        assert_eq!(verdict_at_most(0.06, 0.0, 0.05), Verdict::NotReproduced);
        // 0.089 ± 0.12 against 0.05 (the quadratic Eq. 7 case): undecided.
        assert_eq!(verdict_at_most(0.089, 0.12, 0.05), Verdict::Inconclusive);
        assert_eq!(verdict_at_most(0.01, 0.013, 0.05), Verdict::Reproduced);
        assert_eq!(verdict_at_most(0.01, 0.014, 0.05), Verdict::Inconclusive);
        assert_eq!(verdict_at_most(0.2, 0.04, 0.05), Verdict::NotReproduced);
        assert_eq!(verdict_at_most(f64::NAN, 0.0, 0.05), Verdict::Inconclusive);
        // The mirror rule for "at least" claims.
        assert_eq!(verdict_at_least(0.2, 0.04, 0.05), Verdict::Reproduced);
        assert_eq!(verdict_at_least(0.2, 0.06, 0.05), Verdict::Inconclusive);
        assert_eq!(verdict_at_least(0.01, 0.01, 0.05), Verdict::NotReproduced);
        assert_eq!(verdict_at_least(0.06, 0.0, 0.05), Verdict::Reproduced);
        assert_eq!(
            all_of(&[Verdict::Reproduced, Verdict::Inconclusive]),
            Verdict::Inconclusive
        );
        assert_eq!(
            all_of(&[Verdict::NotReproduced, Verdict::Inconclusive]),
            Verdict::NotReproduced
        );
        // 0.089 ± 0.12: the SE must shrink to 0.013, i.e. (0.36 / 0.039)² ≈ 85× the draws.
        let f = draws_factor_to_decide(0.089, 0.12, 0.05).unwrap();
        assert!((f - (3.0 * 0.12 / 0.039f64).powi(2)).abs() < 1e-9 * f);
        assert!(verdict_at_most(0.089, 0.12 / f.sqrt() * 0.999, 0.05) == Verdict::NotReproduced);
        assert!(undecided_note(Verdict::Inconclusive, 0.089, 0.12, 0.05).contains("86×"));
    }

    #[test]
    fn bootstrap_se_of_a_mean_matches_the_analytical_one() {
        // Mean of n fixed values: the bootstrap SE, corrected by √(n/(n−1)), → s/√n with s the
        // unbiased sample SD; with 2000 replicates within ~5% (relative SE of an SD estimate
        // 1/√(2B) ≈ 1.6%, 3σ).
        let x: Vec<f64> = (0..50).map(|i| ((i * 37) % 11) as f64).collect();
        let n = x.len() as f64;
        let m = mean(&x);
        let sd = (x.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
        let se = bootstrap_se(&[x.len()], 2000, 3, 0, |idx| {
            idx[0].iter().map(|&i| x[i]).sum::<f64>() / n
        });
        let exact = sd / n.sqrt();
        assert!((se / exact - 1.0).abs() < 0.05, "{se} vs {exact}");
    }
}
