//! Statistics of a spectral measure from stochastic Lanczos quadrature, each with a standard error
//! from the probes and an estimate of the quadrature's resolution error (see the parent module
//! and `docs/large_n.md`).

use crate::error::{Error, Result};
use crate::hessian::DenseMatrix;
use crate::lanczos::ProbeQuadrature;
use crate::spectrum::{symmetric_spectrum_with, SolverThreads};

/// One probe's quadrature: nodes ascending, weights summing to one.
#[derive(Clone, Debug, PartialEq)]
pub struct Quadrature {
    /// Ritz values, ascending.
    pub nodes: Vec<f64>,
    /// Their weights.
    pub weights: Vec<f64>,
}

impl Quadrature {
    /// The quadrature of a probe's full run.
    pub fn of(p: &ProbeQuadrature) -> Self {
        Quadrature {
            nodes: p.nodes.clone(),
            weights: p.weights.clone(),
        }
    }

    /// The Gauss quadrature of the first `k` Lanczos steps of the same run (the leading `k × k`
    /// block of its tridiagonal matrix): what `k` steps alone would have given.
    pub fn truncated(p: &ProbeQuadrature, k: usize) -> Result<Self> {
        let k = k.clamp(1, p.alpha.len());
        if k == p.alpha.len() {
            return Ok(Self::of(p));
        }
        let mut t = DenseMatrix::zeros(k, k);
        for i in 0..k {
            t.set(i, i, p.alpha[i]);
            if i + 1 < k {
                t.set(i, i + 1, p.beta[i]);
                t.set(i + 1, i, p.beta[i]);
            }
        }
        let sp = symmetric_spectrum_with(&t, true, SolverThreads::Single)?;
        let v = sp
            .eigenvectors
            .ok_or_else(|| Error::Numerical("tridiagonal eigenvectors missing".into()))?;
        let weights = (0..k).map(|i| v.get(0, i).powi(2)).collect();
        Ok(Quadrature {
            nodes: sp.eigenvalues,
            weights,
        })
    }

    /// The quadrature with mass `z` removed from its lowest nodes, in ascending order (the
    /// known zero eigenvalues); the remaining weights sum to `1 − z`.
    pub fn without_bottom_mass(&self, z: f64) -> Self {
        let mut left = z;
        let mut out = self.clone();
        for w in out.weights.iter_mut() {
            let take = left.min(*w);
            *w -= take;
            left -= take;
            if left <= 0.0 {
                break;
            }
        }
        out
    }

    /// The interpolated distribution function: piecewise linear through `(θ_i, S_{i−1} + w_i/2)`
    /// (`S_i` the partial sums), constant beyond the end nodes. The true `F` lies within
    /// `max(w_i, w_{i+1})` of it between nodes (Chebyshev–Markov–Stieltjes).
    pub fn cdf(&self, t: f64) -> f64 {
        let n = self.nodes.len();
        if n == 0 {
            return f64::NAN;
        }
        let mut s = 0.0;
        let mut prev: Option<(f64, f64)> = None;
        for i in 0..n {
            let y = s + self.weights[i] / 2.0;
            let x = self.nodes[i];
            if t < x {
                return match prev {
                    None => y,
                    Some((px, py)) => {
                        if x > px {
                            py + (y - py) * (t - px) / (x - px)
                        } else {
                            y
                        }
                    }
                };
            }
            s += self.weights[i];
            prev = Some((x, y));
        }
        prev.map(|p| p.1).unwrap_or(f64::NAN)
    }

    /// Weight of the nodes above `t` (a step: right where `t` lies in a spectral gap).
    pub fn mass_above(&self, t: f64) -> f64 {
        self.nodes
            .iter()
            .zip(&self.weights)
            .filter(|(x, _)| **x > t)
            .map(|(_, w)| w)
            .sum()
    }

    /// `(Σ_{θ>t} w ln θ, Σ_{θ>t} w)`.
    fn log_sum_above(&self, t: f64) -> (f64, f64) {
        self.nodes
            .iter()
            .zip(&self.weights)
            .filter(|(x, _)| **x > t && **x > 0.0)
            .fold((0.0, 0.0), |(a, b), (x, w)| (a + w * x.ln(), b + w))
    }
}

/// A statistic estimated from the probes: value, probes' standard error, quadrature error
/// estimate, and their combination `√(probe² + quadrature²)` used by the verdicts.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Estimate {
    /// The estimate (from the `K`-node quadratures).
    pub value: f64,
    /// Standard error from the probes' spread.
    pub probe_se: f64,
    /// `|value(K) − value(K/2)|`: the quadrature's resolution error, estimated.
    pub quadrature: f64,
}

impl Estimate {
    /// `√(probe_se² + quadrature²)`.
    pub fn se(&self) -> f64 {
        self.probe_se.hypot(self.quadrature)
    }
    /// The same for `ln value` (delta method), for log-log trends.
    pub(super) fn log(&self) -> (f64, f64) {
        (self.value.ln(), self.se() / self.value.abs())
    }
}

/// Mean and standard error of the mean (0 for a single value).
pub(super) fn mean_se(x: &[f64]) -> (f64, f64) {
    let n = x.len() as f64;
    let m = x.iter().sum::<f64>() / n;
    if x.len() < 2 {
        return (m, 0.0);
    }
    let v = x.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (n - 1.0);
    (m, (v / n).sqrt())
}

/// Mean over probes of the interpolated CDFs at `t`.
fn mean_cdf(q: &[Quadrature], t: f64) -> f64 {
    q.iter().map(|p| p.cdf(t)).sum::<f64>() / q.len() as f64
}

/// The `level`-quantile of the mean interpolated CDF (bisection on the pooled nodes' range).
fn quantile_of(q: &[Quadrature], level: f64) -> f64 {
    let lo0 = q
        .iter()
        .filter_map(|p| p.nodes.first())
        .copied()
        .fold(f64::INFINITY, f64::min);
    let hi0 = q
        .iter()
        .filter_map(|p| p.nodes.last())
        .copied()
        .fold(f64::NEG_INFINITY, f64::max);
    let level = level.clamp(0.0, 1.0);
    if mean_cdf(q, lo0) >= level {
        return lo0;
    }
    if mean_cdf(q, hi0) < level {
        return hi0;
    }
    let (mut lo, mut hi) = (lo0, hi0);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if mean_cdf(q, mid) >= level {
            hi = mid;
        } else {
            lo = mid;
        }
        if hi - lo <= 1e-15 * hi.abs().max(lo.abs()) {
            break;
        }
    }
    hi
}

/// The `level`-quantile of `μ` with its probes' standard error (Woodruff inversion of the CDF's
/// standard error at the quantile).
fn quantile_probe(q: &[Quadrature], level: f64) -> (f64, f64) {
    let x = quantile_of(q, level);
    let cdfs: Vec<f64> = q.iter().map(|p| p.cdf(x)).collect();
    let s = mean_se(&cdfs).1;
    if s == 0.0 {
        return (x, 0.0);
    }
    let (a, b) = (quantile_of(q, level - s), quantile_of(q, level + s));
    (x, (b - a) / 2.0)
}

/// Quadratures of all probes with `k` steps and with `⌈k/2⌉` (the quadrature-error reference).
pub struct ProbeSet {
    /// `K`-node quadratures.
    pub full: Vec<Quadrature>,
    /// `K/2`-node quadratures of the same runs.
    pub half: Vec<Quadrature>,
}

impl ProbeSet {
    /// From the runs of an estimate.
    pub fn from_probes(probes: &[ProbeQuadrature]) -> Result<Self> {
        if probes.is_empty() {
            return Err(Error::Invalid("no probes".into()));
        }
        let full: Vec<Quadrature> = probes.iter().map(Quadrature::of).collect();
        let half = probes
            .iter()
            .map(|p| {
                // A probe that broke down is exact: its half is itself when it stopped early.
                if p.breakdown {
                    Ok(Quadrature::of(p))
                } else {
                    Quadrature::truncated(p, p.alpha.len().div_ceil(2))
                }
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(ProbeSet { full, half })
    }

    /// The `level`-quantile of `μ`.
    pub fn quantile(&self, level: f64) -> Estimate {
        let (v, se) = quantile_probe(&self.full, level);
        let h = quantile_of(&self.half, level);
        Estimate {
            value: v,
            probe_se: se,
            quadrature: (v - h).abs(),
        }
    }

    /// `μ((t, ∞))`.
    pub fn mass_above(&self, t: f64) -> Estimate {
        let m: Vec<f64> = self.full.iter().map(|p| p.mass_above(t)).collect();
        let (v, se) = mean_se(&m);
        let h = mean_se(
            &self
                .half
                .iter()
                .map(|p| p.mass_above(t))
                .collect::<Vec<_>>(),
        )
        .0;
        Estimate {
            value: v,
            probe_se: se,
            quadrature: (v - h).abs(),
        }
    }

    /// Geometric mean of the eigenvalues above `t`: `exp(∫_{λ>t} ln λ dμ / μ((t, ∞)))`, a ratio
    /// of means over probes (delta-method standard error).
    pub fn geometric_mean_above(&self, t: f64) -> Estimate {
        let ratio = |q: &[Quadrature]| -> (f64, Vec<(f64, f64)>) {
            let ab: Vec<(f64, f64)> = q.iter().map(|p| p.log_sum_above(t)).collect();
            let a = ab.iter().map(|x| x.0).sum::<f64>();
            let b = ab.iter().map(|x| x.1).sum::<f64>();
            (if b > 0.0 { a / b } else { f64::NAN }, ab)
        };
        let (r, ab) = ratio(&self.full);
        let p = ab.len() as f64;
        let bbar = ab.iter().map(|x| x.1).sum::<f64>() / p;
        let resid: Vec<f64> = ab.iter().map(|(a, b)| a - r * b).collect();
        let se_log = mean_se(&resid).1 / bbar;
        let (rh, _) = ratio(&self.half);
        let v = r.exp();
        Estimate {
            value: v,
            probe_se: v * se_log,
            quadrature: (v - rh.exp()).abs(),
        }
    }
}

/// Smoothed log-axis density of the (positive part of the) measure: each probe's nodes above
/// `floor` become Gaussians of width `sigma` (in `log10 λ`) at `log10 θ`; mean and standard
/// error over probes per grid point. Integrates to the mass above the floor.
pub fn log_density(q: &[Quadrature], grid: &[f64], sigma: f64, floor: f64) -> (Vec<f64>, Vec<f64>) {
    let measures: Vec<(&[f64], &[f64])> = q
        .iter()
        .map(|p| (p.nodes.as_slice(), p.weights.as_slice()))
        .collect();
    crate::density::smooth_measures(&measures, grid, sigma, |t| (t > floor).then(|| t.log10()))
}

/// One probe's largest ratio gap `θ_{i+1}/θ_i` between neighbouring positive nodes in the top
/// [`UPPER_FRACTION`] of its measure (nodes with at least `1 − UPPER_FRACTION` of the weight
/// below them). The dense route ([`crate::experiments::nonlinear::split_at_largest_gap`]) looks
/// in the upper half of the eigenvalues; a quadrature's nodes are sparse on a log axis in the
/// lower bulk's upper tail (Gauss nodes are spaced on the linear axis), which gives ratio gaps
/// there, so the search is narrowed to the top tenth: the bulk away from zero holds
/// `Ni/D = 1/(N+1)` of the spectrum on the dense route. Returns `(θ_i, θ_{i+1})`.
pub fn largest_upper_gap(q: &Quadrature) -> Option<(f64, f64)> {
    let mut below = 0.0;
    let mut best: Option<(f64, f64)> = None;
    for i in 0..q.nodes.len().saturating_sub(1) {
        below += q.weights[i];
        let (a, b) = (q.nodes[i], q.nodes[i + 1]);
        if below < 1.0 - UPPER_FRACTION || a <= 0.0 {
            continue;
        }
        if best.is_none_or(|(x, y)| b / a > y / x) {
            best = Some((a, b));
        }
    }
    best
}

/// Fraction of the measure at the top in which [`largest_upper_gap`] looks.
pub const UPPER_FRACTION: f64 = 0.1;

/// A threshold separating the bulk away from zero from the rest, common to all probes: every
/// probe's [`largest_upper_gap`] contains the spectral gap's inside (a Ritz value that falls in
/// the gap leaves one of its halves as the largest), so `τ` is the geometric midpoint of their
/// intersection when it is not empty, else the median of the probes' geometric midpoints.
/// `None` when no probe has a gap.
pub fn separating_threshold(q: &[Quadrature]) -> Option<f64> {
    let gaps: Vec<(f64, f64)> = q.iter().filter_map(largest_upper_gap).collect();
    if gaps.is_empty() {
        return None;
    }
    let lo = gaps.iter().map(|g| g.0).fold(f64::NEG_INFINITY, f64::max);
    let hi = gaps.iter().map(|g| g.1).fold(f64::INFINITY, f64::min);
    if lo < hi {
        return Some((lo * hi).sqrt());
    }
    let mut mids: Vec<f64> = gaps.iter().map(|g| (g.0 * g.1).sqrt()).collect();
    mids.sort_by(f64::total_cmp);
    Some(mids[mids.len() / 2])
}
