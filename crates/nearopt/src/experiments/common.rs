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

/// `Reproduced` if `ok`, else `NotReproduced`.
pub fn verdict(ok: bool) -> Verdict {
    if ok {
        Verdict::Reproduced
    } else {
        Verdict::NotReproduced
    }
}

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
        // 0.089 ± 0.12: the SE must shrink to 0.013, i.e. (0.36 / 0.039)² ≈ 85× the draws.
        let f = draws_factor_to_decide(0.089, 0.12, 0.05).unwrap();
        assert!((f - (3.0 * 0.12 / 0.039f64).powi(2)).abs() < 1e-9 * f);
        assert!(verdict_at_most(0.089, 0.12 / f.sqrt() * 0.999, 0.05) == Verdict::NotReproduced);
    }
}
