//! A converging location of the top bulk: a quantile of the SLQ distribution function.
//!
//! Papyan's smoothed curves use a kernel whose width shrinks as `1/(K − 1)`, so the position of
//! a peak keeps moving as `K` grows (it resolves more structure); it is not a quantity that
//! converges. The distribution function does: by the Chebyshev–Markov–Stieltjes inequalities a
//! probe's Gauss quadrature `F_K` brackets its exact `F_x` to within one node weight, and the
//! mean over probes of `F_x` is `F`. So quantiles converge in `K` (as fast as the nodes fill the
//! region) and in `P` (Hutchinson: `Var F̂(t) ≤ 2 min(F, 1 − F)/(D P)`).
//!
//! The top bulk of the population Hessian at the optimum (erf) is its `Ni` largest eigenvalues:
//! the paper (Section 4) says "equal to `N_h`", which it only observed with `Ni = Nh`; the dense
//! spectra put the widest gap after exactly `Ni` eigenvalues for `(Ni, Nh)` = (30, 24),
//! (24, 30), (40, 10), (10, 40), (30, 30), (50, 50) (ratios 10–28 across the gap), and at
//! `N = 100` the SLQ mass above the gap is `0.0098 ≈ Ni/D`. Its location is taken as its
//! median: the `λ` where the tail mass `1 − F(λ)` equals `count / (2D)`.
//! [`tail_quantile`] computes it from a quadrature with the distribution function interpolated
//! linearly between the midpoints of the steps (between the CMS brackets), pooled over probes;
//! the standard error is that of the mean of the per-probe quantiles.

use crate::lanczos::ProbeQuadrature;

/// The top bulk's location (see the module docs).
#[derive(Clone, Debug, serde::Serialize)]
pub struct TopBulk {
    /// Eigenvalues in the bulk (`Ni` at the optimum).
    pub count: usize,
    /// `count / (2 D)`: the tail mass at the median.
    pub tail_mass: f64,
    /// The median: `λ` with tail mass `tail_mass` in the pooled SLQ measure.
    pub median: f64,
    /// Standard error of `median` (over probes: `sd of the per-probe medians / √P`).
    pub median_se: f64,
    /// `λ` at tail masses `0.9 · count/D` and `0.1 · count/D` (the bulk's 10% and 90% points).
    pub quantile_10: f64,
    /// See `quantile_10`.
    pub quantile_90: f64,
    /// A point in the gap below the bulk: the geometric mean of the tail quantiles at
    /// `1.25 · count/D` (below the gap) and `0.75 · count/D` (inside the bulk).
    pub split: f64,
    /// SLQ estimate of the number of eigenvalues above `split` (`D ×` the mass there; a check
    /// that `split` lies in the gap: it should be close to `count`).
    pub count_above_split: f64,
    /// The bulk's mean eigenvalue from the exact trace: `(Tr H − D ∫_{λ<split} λ dμ_SLQ) / count`.
    /// The SLQ part is the small remainder below the gap (a few percent of `Tr H`), estimated
    /// over the many eigenvalues of the lower bulk with small relative noise, so this location
    /// converges far faster in `P` than a quantile. `NaN` without the exact trace.
    pub mean: f64,
    /// Standard error of `mean` (the remainder's spread over probes).
    pub mean_se: f64,
}

/// `λ` at which the tail mass `Σ_{θ > λ} w` of the measure `(nodes, weights)` equals `tail`:
/// nodes sorted ascending, the distribution function taken at the step midpoints
/// (`F(θ_i) = Σ_{j<i} w_j + w_i/2`) and linear between them. `NaN` for an empty measure.
pub fn measure_tail_quantile(nodes: &[f64], weights: &[f64], tail: f64) -> f64 {
    let mut nw: Vec<(f64, f64)> = nodes.iter().copied().zip(weights.iter().copied()).collect();
    if nw.is_empty() {
        return f64::NAN;
    }
    nw.sort_by(|a, b| a.0.total_cmp(&b.0));
    let total: f64 = nw.iter().map(|x| x.1).sum();
    let target = total - tail;
    let mut acc = 0.0;
    let mut prev: Option<(f64, f64)> = None;
    for (t, w) in &nw {
        let f = acc + w / 2.0;
        if f >= target {
            return match prev {
                Some((tp, fp)) if f > fp => tp + (t - tp) * (target - fp) / (f - fp),
                _ => *t,
            };
        }
        prev = Some((*t, f));
        acc += w;
    }
    nw[nw.len() - 1].0
}

/// The tail quantile ([`measure_tail_quantile`]) of the pooled probes (each weighing `1/P`)
/// and the standard error of the mean of the per-probe quantiles.
pub fn tail_quantile(probes: &[ProbeQuadrature], tail: f64) -> (f64, f64) {
    let p = probes.len() as f64;
    let (mut nodes, mut weights) = (Vec::new(), Vec::new());
    for r in probes {
        nodes.extend_from_slice(&r.nodes);
        weights.extend(r.weights.iter().map(|w| w / p));
    }
    let pooled = measure_tail_quantile(&nodes, &weights, tail);
    let per: Vec<f64> = probes
        .iter()
        .map(|r| measure_tail_quantile(&r.nodes, &r.weights, tail))
        .collect();
    if per.len() < 2 {
        return (pooled, f64::NAN);
    }
    let m = per.iter().sum::<f64>() / p;
    let var = per.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (p - 1.0);
    (pooled, (var / p).sqrt())
}

/// The top bulk of `count` eigenvalues of a `d`-dimensional operator from its SLQ probes, with
/// the exact trace when known (for [`TopBulk::mean`]).
pub fn top_bulk(probes: &[ProbeQuadrature], count: usize, d: usize, trace: Option<f64>) -> TopBulk {
    let frac = count as f64 / d as f64;
    let (median, median_se) = tail_quantile(probes, frac / 2.0);
    let split = (tail_quantile(probes, 1.25 * frac).0 * tail_quantile(probes, 0.75 * frac).0)
        .max(0.0)
        .sqrt();
    let df = d as f64;
    let p = probes.len() as f64;
    let below: Vec<f64> = probes
        .iter()
        .map(|r| {
            df * r
                .nodes
                .iter()
                .zip(&r.weights)
                .filter(|(t, _)| **t < split)
                .map(|(t, w)| t * w)
                .sum::<f64>()
        })
        .collect();
    let above: f64 = probes
        .iter()
        .map(|r| {
            r.nodes
                .iter()
                .zip(&r.weights)
                .filter(|(t, _)| **t >= split)
                .map(|(_, w)| w)
                .sum::<f64>()
        })
        .sum::<f64>()
        / p;
    let m = below.iter().sum::<f64>() / p;
    let se = if below.len() > 1 {
        (below.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (p - 1.0) / p).sqrt()
    } else {
        f64::NAN
    };
    let c = count as f64;
    TopBulk {
        count,
        tail_mass: frac / 2.0,
        median,
        median_se,
        quantile_10: tail_quantile(probes, 0.9 * frac).0,
        quantile_90: tail_quantile(probes, 0.1 * frac).0,
        split,
        count_above_split: df * above,
        mean: trace.map_or(f64::NAN, |t| (t - m) / c),
        mean_se: se / c,
    }
}
