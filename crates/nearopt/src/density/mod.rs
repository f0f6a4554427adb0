//! Spectral densities of the exact population Hessian without forming it: stochastic Lanczos
//! quadrature (SLQ) on a linear and a logarithmic λ axis, the top eigenvalues by block Lanczos,
//! and the exact moments `Tr H`, `Tr H²` beside the SLQ estimates of them.
//!
//! The normalised spectral measure `μ = (1/D) Σ_i δ(λ − λ_i)` is estimated as the average over
//! `P` Rademacher probes `x` of the Gauss quadrature (`K` Lanczos steps) of
//! `μ_x = Σ_i (u_iᵀx)²/D δ(λ − λ_i)`, whose mean is `μ`. Smoothed curves follow Papyan (2020,
//! Algorithm 2 and Section C.7) as in curvlinops' `lanczos_approximate_spectrum` and
//! `lanczos_approximate_log_spectrum`: every node becomes a Gaussian of width
//! `σ = 2/(K−1)/√(8 ln κ)` in coordinates where the (log-)spectrum spans `[−1, 1]`. The
//! probes' spread gives an error band (± one standard error of the mean over probes, per grid
//! point). See `docs/density.md`.

pub mod bulk;
pub mod exact;
pub mod moments;

use crate::hessian::batched::{BatchedPopulationHessian, BlockOperator};
use crate::hessian::{check_dense_fits, PopulationHessian};
use crate::lanczos::{
    lanczos_probes, rademacher_probes, top_eigenpairs, ProbeQuadrature, TopEigenpairs, TopOptions,
};
use crate::network::Network;
use crate::{Error, Result};
pub use bulk::{tail_quantile, top_bulk, TopBulk};
pub use exact::{density_exact, density_memory_bytes, exact_operator_bytes, ExactBlockOperator};
pub use moments::{student_trace_moments, trace_moments, TraceMoments};

/// Options of [`estimate_density`].
#[derive(Clone, Debug, serde::Serialize)]
pub struct DensityOptions {
    /// Rademacher probes `P`.
    pub probes: usize,
    /// Lanczos steps per probe `K`.
    pub steps: usize,
    /// Largest eigenvalues wanted (0: none).
    pub top: usize,
    /// Block size of the top-eigenvalue iteration.
    pub block: usize,
    /// Relative residual tolerance of the top eigenvalues.
    pub top_tol: f64,
    /// Largest Lanczos basis of the top-eigenvalue iteration (thick restarts keep it there).
    pub max_basis: usize,
    /// Most operator applications of the top-eigenvalue iteration.
    pub max_top_products: usize,
    /// Seed of the probes (probe `i` from stream `i`) and of the top-eigenvalue start block.
    pub seed: u64,
    /// Points of each smoothed curve.
    pub grid_points: usize,
    /// Papyan's width parameter on the linear axis (curvlinops' default 3).
    pub kappa_linear: f64,
    /// Width parameter on the log axis (curvlinops' default 1.04).
    pub kappa_log: f64,
    /// The log axis starts at `log_floor · λ_max`; nodes below count as `mass_below_floor`.
    pub log_floor: f64,
    /// Bytes the Lanczos vectors may use (sets how many probes run side by side).
    pub memory_budget: u64,
}

impl Default for DensityOptions {
    fn default() -> Self {
        DensityOptions {
            probes: 16,
            steps: 60,
            top: 10,
            block: 4,
            top_tol: 1e-10,
            max_basis: 400,
            max_top_products: 4000,
            seed: 1,
            grid_points: 400,
            kappa_linear: 3.0,
            kappa_log: 1.04,
            log_floor: 1e-10,
            memory_budget: 3 << 29,
        }
    }
}

/// A smoothed density on a grid with its error band.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Curve {
    /// Grid: λ (linear curve) or `log10 λ` (log curve).
    pub x: Vec<f64>,
    /// Mean over probes of the smoothed density (per unit of `x`).
    pub density: Vec<f64>,
    /// Standard error of the mean over probes at each grid point.
    pub standard_error: Vec<f64>,
}

/// Result of [`estimate_density`].
#[derive(Clone, Debug, serde::Serialize)]
pub struct DensityEstimate {
    /// `D`.
    pub dimension: usize,
    /// The exact moments, when known.
    pub moments: Option<TraceMoments>,
    /// All probes' nodes, ascending within each probe.
    pub nodes: Vec<f64>,
    /// Their weights (each probe's weights sum to `1/P`; all sum to one).
    pub weights: Vec<f64>,
    /// Per-probe quadratures.
    pub probes: Vec<ProbeQuadrature>,
    /// SLQ (Hutchinson) estimate of `Tr H` and its standard error over probes.
    pub slq_trace: (f64, f64),
    /// SLQ estimate of `Tr H²` and its standard error.
    pub slq_trace_squared: (f64, f64),
    /// The linear-axis curve.
    pub linear: Curve,
    /// The log-axis curve (`x = log10 λ`), over nodes above the floor.
    pub log: Curve,
    /// `log_floor · λ_max`.
    pub floor: f64,
    /// Weight of the nodes with `|λ| ≤ floor` (the numerically-null part).
    pub mass_below_floor: f64,
    /// `log10 λ` of the highest point of the log curve (the location of the main bulk).
    pub log_mode: f64,
    /// Local maxima of the log curve at least 5% as high as the highest, ascending in `λ`:
    /// `(log10 λ, density)`; the last is the top bulk (or an outlier group).
    pub log_peaks: Vec<(f64, f64)>,
    /// Median of the measure restricted to `λ > floor`.
    pub median_above_floor: f64,
    /// The top bulk's median (a quantile of the SLQ distribution function, which converges in
    /// `K` and `P`, unlike the peaks of the curves), when the bulk size is known
    /// ([`density_at_optimum`]: `Ni` eigenvalues; see [`bulk`]).
    pub top_bulk: Option<TopBulk>,
    /// Top eigenvalues, when asked.
    pub top: Option<TopEigenpairs>,
    /// Upper bound of the spectrum used for the support `[a, b]`: the largest Ritz value plus
    /// its residual bound.
    pub upper_bound: f64,
    /// A-posteriori bound on `W1(μ_SLQ, μ̂)`, `μ̂` the mean of the probes' exact spectral
    /// measures (mean over probes of [`quadrature_w1_bound`]; 0 for a probe that broke down).
    pub w1_quadrature_bound: f64,
    /// Probes run side by side (from the memory budget).
    pub probes_per_block: usize,
    /// Operator applications in all (vectors).
    pub products: usize,
    /// Probes whose Krylov space was exhausted before `steps`.
    pub breakdowns: usize,
    /// The parameter basis the products ran in: `"given"`, or `"triangular inputs"` (inputs
    /// rotated so that `W1` is lower-trapezoidal: an orthogonal similarity, the same spectrum;
    /// [`crate::hessian::rotation`]).
    pub product_basis: &'static str,
}

/// Bytes the computation holds at its peak besides the operator: the larger of the top
/// iteration's basis and the probes' bases (`P_block · K · D`), plus two blocks of vectors.
pub fn working_set_bytes(d: usize, opts: &DensityOptions, probes_per_block: usize) -> u64 {
    let d = d as u64;
    let top = if opts.top > 0 {
        8 * d * (opts.max_basis.min(d as usize) as u64 + opts.block as u64)
    } else {
        0
    };
    let slq = 8 * d * probes_per_block as u64 * (opts.steps as u64 + 2);
    top.max(slq)
}

/// Probes run side by side: as many as fit in `memory_budget` (at least one), at most 8.
pub fn probes_per_block(d: usize, opts: &DensityOptions) -> usize {
    let per_probe = 8 * d as u64 * (opts.steps.min(d) as u64 + 2);
    ((opts.memory_budget / per_probe.max(1)) as usize).clamp(1, 8.min(opts.probes.max(1)))
}

/// Validates `opts` against the dimension and the memory budget (refusing, with the size, what
/// cannot fit).
pub fn check_options(d: usize, opts: &DensityOptions) -> Result<()> {
    if opts.probes == 0 || opts.steps == 0 {
        return Err(Error::Invalid(
            "density needs at least one probe and one step".into(),
        ));
    }
    if opts.grid_points < 2 {
        return Err(Error::Invalid(
            "density needs at least two grid points".into(),
        ));
    }
    if !(opts.kappa_linear > 1.0 && opts.kappa_log > 1.0) {
        return Err(Error::Invalid("kappa must be greater than 1".into()));
    }
    if !(opts.log_floor > 0.0 && opts.log_floor < 1.0) {
        return Err(Error::Invalid("log floor must lie in (0, 1)".into()));
    }
    if opts.top > 0 && (opts.block == 0 || opts.top > opts.max_basis.min(d)) {
        return Err(Error::Invalid(format!(
            "--top {} needs a block ≥ 1 and a basis of at least that many vectors (D = {d})",
            opts.top
        )));
    }
    let per_probe = 8 * d as u64 * (opts.steps.min(d) as u64 + 2);
    if per_probe > opts.memory_budget {
        return Err(Error::TooLarge(format!(
            "one probe's {} Lanczos vectors of D = {d} need {:.2} GiB, over the memory budget of {:.2} GiB (fewer --steps?)",
            opts.steps.min(d),
            per_probe as f64 / (1u64 << 30) as f64,
            opts.memory_budget as f64 / (1u64 << 30) as f64
        )));
    }
    let top = 8 * d as u64 * (opts.max_basis.min(d) + opts.block) as u64;
    if opts.top > 0 && top > opts.memory_budget {
        return Err(Error::TooLarge(format!(
            "the top-eigenvalue basis of {} vectors of D = {d} needs {:.2} GiB, over the memory budget of {:.2} GiB",
            opts.max_basis.min(d),
            top as f64 / (1u64 << 30) as f64,
            opts.memory_budget as f64 / (1u64 << 30) as f64
        )));
    }
    let ws = working_set_bytes(d, opts, probes_per_block(d, opts));
    check_dense_fits(
        d,
        (ws / 8 / d.max(1) as u64) as usize,
        "set of Lanczos vectors",
    )
}

/// A-posteriori bound on the 1-Wasserstein distance between a probe's spectral measure `μ_x`
/// (supported in `[a, b]`) and its Gauss quadrature (`nodes` ascending, `weights`).
///
/// By the Chebyshev–Markov–Stieltjes inequalities (Szegő, Thm 3.41.1),
/// `Σ_{j<i} w_j ≤ F(θ_i − 0)` and `F(θ_i + 0) ≤ Σ_{j≤i} w_j`; so on `[θ_i, θ_{i+1})` the two
/// distribution functions differ by at most `max(w_i, w_{i+1})`, before `θ_1` by `w_1` and
/// after `θ_K` by `w_K`, and `W1 = ∫ |F − F_K|` is at most
/// `w_1 (θ_1 − a) + Σ_i max(w_i, w_{i+1}) (θ_{i+1} − θ_i) + w_K (b − θ_K)`.
pub fn quadrature_w1_bound(nodes: &[f64], weights: &[f64], a: f64, b: f64) -> f64 {
    let k = nodes.len();
    if k == 0 {
        return 0.0;
    }
    let mut s = weights[0] * (nodes[0] - a).max(0.0) + weights[k - 1] * (b - nodes[k - 1]).max(0.0);
    for i in 0..k - 1 {
        s += weights[i].max(weights[i + 1]) * (nodes[i + 1] - nodes[i]);
    }
    s
}

/// Mean and standard error of the mean.
fn mean_se(x: &[f64]) -> (f64, f64) {
    let n = x.len() as f64;
    let m = x.iter().sum::<f64>() / n;
    if x.len() < 2 {
        return (m, f64::NAN);
    }
    let v = x.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (n - 1.0);
    (m, (v / n).sqrt())
}

/// Smooths each probe's quadrature with Gaussians of width `sigma` (in `x` units) at the
/// transformed nodes `f(θ)` on `grid`; mean and standard error over probes.
fn smooth(
    probes: &[ProbeQuadrature],
    grid: &[f64],
    sigma: f64,
    f: impl Fn(f64) -> Option<f64>,
) -> (Vec<f64>, Vec<f64>) {
    let measures: Vec<(&[f64], &[f64])> = probes
        .iter()
        .map(|p| (p.nodes.as_slice(), p.weights.as_slice()))
        .collect();
    smooth_measures(&measures, grid, sigma, f)
}

/// Smooths each discrete measure `(nodes θ, weights)` with Gaussians of width `sigma` (in `x`
/// units) at the transformed nodes `x = f(θ)` (nodes where `f` gives `None` are left out) on
/// `grid`; the mean over measures and its standard error (0 for a single measure) per point.
pub fn smooth_measures(
    measures: &[(&[f64], &[f64])],
    grid: &[f64],
    sigma: f64,
    f: impl Fn(f64) -> Option<f64>,
) -> (Vec<f64>, Vec<f64>) {
    let norm = 1.0 / (sigma * (2.0 * std::f64::consts::PI).sqrt());
    let per: Vec<Vec<f64>> = measures
        .iter()
        .map(|(nodes, weights)| {
            let pts: Vec<(f64, f64)> = nodes
                .iter()
                .zip(weights.iter())
                .filter_map(|(t, w)| f(*t).map(|x| (x, *w)))
                .collect();
            grid.iter()
                .map(|g| {
                    pts.iter()
                        .map(|(x, w)| w * norm * (-0.5 * ((g - x) / sigma).powi(2)).exp())
                        .sum()
                })
                .collect()
        })
        .collect();
    (0..grid.len())
        .map(|i| {
            let col: Vec<f64> = per.iter().map(|p| p[i]).collect();
            let (m, se) = mean_se(&col);
            (m, if se.is_finite() { se } else { 0.0 })
        })
        .unzip()
}

fn linspace(a: f64, b: f64, n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| a + (b - a) * i as f64 / (n - 1) as f64)
        .collect()
}

/// SLQ density, moments and top eigenvalues of the symmetric operator `op`. `moments` are the
/// exact ones when the caller knows them (reported beside the estimates). `progress(done,
/// total)` counts operator applications.
pub fn estimate_density(
    op: &dyn BlockOperator,
    moments: Option<TraceMoments>,
    opts: &DensityOptions,
    progress: &(dyn Fn(u64, u64) + Sync),
) -> Result<DensityEstimate> {
    let d = op.dim();
    check_options(d, opts)?;
    let steps = opts.steps.min(d);
    let pb = probes_per_block(d, opts);
    let planned = (opts.probes * steps) as u64
        + if opts.top > 0 {
            opts.max_basis.min(d) as u64
        } else {
            0
        };
    let done = std::sync::atomic::AtomicU64::new(0);
    let mut products = 0usize;
    let top = if opts.top > 0 {
        let t = top_eigenpairs(
            op,
            &TopOptions {
                count: opts.top,
                block: opts.block,
                max_basis: opts.max_basis,
                tol: opts.top_tol,
                seed: opts.seed,
                max_products: opts.max_top_products,
            },
            &|n| {
                done.store(n as u64, std::sync::atomic::Ordering::Relaxed);
                progress(n as u64, planned);
            },
        )?;
        products += t.products;
        done.store(
            opts.max_basis.min(d) as u64,
            std::sync::atomic::Ordering::Relaxed,
        );
        Some(t)
    } else {
        None
    };
    let mut probes: Vec<ProbeQuadrature> = Vec::with_capacity(opts.probes);
    let mut first = 0;
    while first < opts.probes {
        let count = pb.min(opts.probes - first);
        let starts = rademacher_probes(d, first, count, opts.seed);
        let runs = lanczos_probes(op, &starts, steps, &|| {
            let n = done.fetch_add(count as u64, std::sync::atomic::Ordering::Relaxed);
            progress(n + count as u64, planned);
        })?;
        products += runs.iter().map(|r| r.alpha.len()).sum::<usize>();
        probes.extend(runs);
        first += count;
    }
    let p = probes.len() as f64;
    let (mut nodes, mut weights) = (Vec::new(), Vec::new());
    for r in &probes {
        nodes.extend_from_slice(&r.nodes);
        weights.extend(r.weights.iter().map(|w| w / p));
    }
    // First two moments of each quadrature: α₁ = xᵀHx/‖x‖² and α₁² + β₁² = ‖Hx‖²/‖x‖².
    let df = d as f64;
    let m1: Vec<f64> = probes.iter().map(|r| df * r.alpha[0]).collect();
    let m2: Vec<f64> = probes
        .iter()
        .map(|r| df * (r.alpha[0].powi(2) + r.beta[0].powi(2)))
        .collect();
    let lo = nodes.iter().copied().fold(f64::INFINITY, f64::min);
    let mut hi = nodes.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mut upper_bound = hi;
    if let Some(t) = &top {
        hi = hi.max(t.values[0]);
        upper_bound = t.values[0] + t.residual_bounds[0];
    }
    let upper_bound = upper_bound.max(hi);
    let lo = lo.min(0.0);
    let w1_quadrature_bound = probes
        .iter()
        .map(|r| {
            if r.breakdown {
                0.0
            } else {
                quadrature_w1_bound(&r.nodes, &r.weights, lo, upper_bound)
            }
        })
        .sum::<f64>()
        / probes.len() as f64;
    let width = (hi - lo).max(f64::MIN_POSITIVE);
    let (a, b) = (lo - 0.05 * width, hi + 0.05 * width);
    let kf = (steps.max(2) - 1) as f64;
    let grid = linspace(a, b, opts.grid_points);
    let sigma = 2.0 / kf / (8.0 * opts.kappa_linear.ln()).sqrt() * (b - a) / 2.0;
    let (dens, se) = smooth(&probes, &grid, sigma, Some);
    let floor = opts.log_floor * hi.abs().max(f64::MIN_POSITIVE);
    let (la, lb) = (floor.log10(), hi.abs().max(floor).log10());
    let lw = (lb - la).max(1e-12);
    let (la, lb) = (la - 0.05 * lw, lb + 0.05 * lw);
    let lgrid = linspace(la, lb, opts.grid_points);
    let lsigma = 2.0 / kf / (8.0 * opts.kappa_log.ln()).sqrt() * (lb - la) / 2.0;
    let (ldens, lse) = smooth(&probes, &lgrid, lsigma, |t| {
        (t.abs() > floor).then(|| t.abs().log10())
    });
    let mass_below_floor: f64 = 0.0
        + nodes
            .iter()
            .zip(&weights)
            .filter(|(t, _)| t.abs() <= floor)
            .map(|(_, w)| w)
            .sum::<f64>();
    let lmax = ldens.iter().copied().fold(0.0f64, f64::max);
    let log_peaks: Vec<(f64, f64)> = (1..ldens.len().saturating_sub(1))
        .filter(|&i| ldens[i] > ldens[i - 1] && ldens[i] >= ldens[i + 1] && ldens[i] >= 0.05 * lmax)
        .map(|i| (lgrid[i], ldens[i]))
        .collect();
    let log_mode = lgrid
        .iter()
        .zip(&ldens)
        .fold((f64::NAN, f64::NEG_INFINITY), |(x, m), (g, v)| {
            if *v > m {
                (*g, *v)
            } else {
                (x, m)
            }
        })
        .0;
    let mut above: Vec<(f64, f64)> = nodes
        .iter()
        .zip(&weights)
        .filter(|(t, _)| t.abs() > floor)
        .map(|(t, w)| (*t, *w))
        .collect();
    above.sort_by(|x, y| x.0.total_cmp(&y.0));
    let half = above.iter().map(|x| x.1).sum::<f64>() / 2.0;
    let mut acc = 0.0;
    let mut median_above_floor = f64::NAN;
    for (t, w) in &above {
        acc += w;
        if acc >= half {
            median_above_floor = *t;
            break;
        }
    }
    let breakdowns = probes.iter().filter(|r| r.breakdown).count();
    Ok(DensityEstimate {
        dimension: d,
        moments,
        nodes,
        weights,
        probes,
        slq_trace: mean_se(&m1),
        slq_trace_squared: mean_se(&m2),
        linear: Curve {
            x: grid,
            density: dens,
            standard_error: se,
        },
        log: Curve {
            x: lgrid,
            density: ldens,
            standard_error: lse,
        },
        floor,
        mass_below_floor,
        log_mode,
        log_peaks,
        median_above_floor,
        top_bulk: None,
        top,
        upper_bound,
        w1_quadrature_bound,
        probes_per_block: pb,
        products,
        breakdowns,
        product_basis: "given",
    })
}

/// Bytes the operator of [`density_at_optimum`] holds (pair moments while building, then the
/// coefficient matrices and a workspace for the block size used).
pub fn operator_bytes(net: &Network, opts: &DensityOptions) -> u64 {
    let (nh, ni) = (net.nh(), net.ni());
    let k = opts.block.max(probes_per_block(net.dim(), opts));
    BatchedPopulationHessian::memory_bytes(nh, ni, k) + 56 * (nh * nh) as u64
}

/// [`estimate_density`] of the exact population Hessian of `net` at the optimum, with the exact
/// moments ([`trace_moments`]) and the fast block product ([`BatchedPopulationHessian`]) in the
/// input basis where `W1` is lower-trapezoidal ([`crate::hessian::rotation`]: an orthogonal
/// similarity, so the same eigenvalues; the Rademacher probes are unbiased in either basis,
/// `E zzᵀ = I`, and the reported errors come from their spread).
pub fn density_at_optimum(
    net: &Network,
    opts: &DensityOptions,
    progress: &(dyn Fn(u64, u64) + Sync),
) -> Result<DensityEstimate> {
    // The fast block product and the closed-form moments cover the bias-free Hessian only.
    net.ensure_bias_free("the spectral density")?;
    check_options(net.dim(), opts)?;
    let nh = net.nh();
    check_dense_fits(nh, 20 * nh, "set of Nh × Nh coefficient matrices")?;
    let (op, moments) = {
        let h = PopulationHessian::at_optimum(net);
        // The product in the triangular input basis: the same spectrum (an orthogonal
        // similarity, `hessian::rotation`), a third fewer flops.
        (
            BatchedPopulationHessian::from_population_triangular(net, &h)?,
            trace_moments(net, &h),
        )
    };
    op.reserve(opts.block.max(probes_per_block(net.dim(), opts)));
    let mut est = estimate_density(&op, Some(moments), opts, progress)?;
    if op.is_triangular() {
        est.product_basis = "triangular inputs";
    }
    let trace = est.moments.as_ref().map(|m| m.trace);
    est.top_bulk = Some(top_bulk(&est.probes, net.ni(), est.dimension, trace));
    Ok(est)
}
