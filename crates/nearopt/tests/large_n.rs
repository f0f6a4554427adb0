//! The large-N Figures 4–5 statistics (`experiments::large_n`, by SLQ without forming the
//! Hessian) against the same statistics of the dense spectrum, at `N = 30` (`D = 930`), where the
//! dense route is affordable: each agrees within 4 of its stated standard errors (probes ⊕
//! quadrature), and a deliberately wrong statistic (a shifted level or threshold) is caught at
//! the same tolerance.

use nearopt::density::{density_at_optimum, DensityEstimate};
use nearopt::experiments::large_n::{
    erf_stats, log_slope, quadratic_levels, quadratic_stats, run, Estimate, LargeNConfig, ProbeSet,
    Quadrature,
};
use nearopt::experiments::{NoProgress, ReproduceConfig, Verdict};
use nearopt::hessian::PopulationHessian;
use nearopt::spectrum::{rank, symmetric_eigenvalues};
use nearopt::teacher::{sample_teacher, WeightDistribution};
use nearopt::theory::effective_params::quadratic_eq14;
use nearopt::{Activation, Network};

/// Agreement tolerance in standard errors.
const Z: f64 = 4.0;

fn setup(act: Activation, n: usize, seed: u64) -> (Network, Vec<f64>, DensityEstimate) {
    let net = sample_teacher(act, n, n, WeightDistribution::Normal, seed, 7).unwrap();
    let ev = symmetric_eigenvalues(&PopulationHessian::at_optimum(&net).dense().unwrap()).unwrap();
    let cfg = LargeNConfig {
        sizes: vec![n, 2 * n],
        probes: 20,
        steps: 60,
        teachers: 1,
        figures: vec!["fig4".into(), "fig5".into()],
        epsilon: 1.0,
        seed,
    };
    let est = density_at_optimum(&net, &cfg.density_options(3), &|_, _| {}).unwrap();
    (net, ev, est)
}

fn median(v: &[f64]) -> f64 {
    let k = v.len();
    if k % 2 == 1 {
        v[k / 2]
    } else {
        0.5 * (v[k / 2 - 1] + v[k / 2])
    }
}

fn agrees(what: &str, e: &Estimate, dense: f64) {
    let z = (e.value - dense) / e.se();
    assert!(
        z.abs() <= Z && e.se() > 0.0,
        "{what}: SLQ {e:?} vs dense {dense:e}: {z:.2} standard errors"
    );
}

fn caught(what: &str, e: &Estimate, dense: f64) {
    let z = (e.value - dense) / e.se();
    assert!(
        z.abs() > Z,
        "{what}: the wrong statistic {e:?} passes against {dense:e} ({z:.2} SE): the test cannot fail"
    );
}

#[test]
fn quadratic_statistics_agree_with_the_dense_spectrum() {
    let n = 30;
    let (net, ev, est) = setup(Activation::Quadratic { epsilon: 1.0 }, n, 11);
    let d = ev.len();
    // The dense route's definitions (nonlinear.rs): eigenvalues above λ_max·D·ε, the lower bulk
    // without the top Ni + 1, the upper bulk the Ni below the top.
    let tol = rank(&ev, None).tolerance;
    let pos: Vec<f64> = ev.iter().copied().filter(|&v| v > tol).collect();
    assert_eq!(pos.len(), quadratic_eq14(n, n), "Eq. 14's rank");
    let lower = median(&pos[..pos.len() - n - 1]);
    let upper = median(&pos[pos.len() - n - 1..pos.len() - 1]);
    let s = quadratic_stats(&net, &est, 0.0).unwrap();
    agrees("lower-bulk median", &s.lower, lower);
    agrees("upper-bulk median", &s.upper, upper);
    // The outlier: within its residual bound (and far above λ_2).
    let (top, bound) = s.top[0];
    assert!(
        (top - ev[d - 1]).abs() <= bound.max(1e-12 * top),
        "{top} vs {}",
        ev[d - 1]
    );
    assert!(bound <= 1e-6 * top, "residual bound {bound}");
    // The zero mass removed is the exact one, and every probe keeps 1 − z.
    assert!((s.zero_fraction - (d - pos.len()) as f64 / d as f64).abs() < 1e-15);
    for q in &s.quadratures {
        let w: f64 = q.weights.iter().sum();
        assert!((w - (1.0 - s.zero_fraction)).abs() < 1e-12, "{w}");
    }
    // Wrong statistics are caught: the upper-bulk median a quarter of the bulk lower, the lower
    // bulk's median with the zeros not counted (level (r − Ni − 2)/2/D instead).
    let ps = ProbeSet::from_probes(&est.probes).unwrap();
    let (_, _, up) = quadratic_levels(n);
    caught(
        "upper median at a level shifted by Ni/4",
        &ps.quantile(up - (n as f64 / 4.0) / d as f64),
        upper,
    );
    let r = pos.len() as f64;
    caught(
        "lower median ignoring the zeros",
        &ps.quantile(((r - n as f64 - 2.0) / 2.0 + 0.5) / d as f64),
        lower,
    );
}

#[test]
fn erf_statistics_agree_with_the_dense_spectrum() {
    let n = 30;
    let (net, ev, est) = setup(Activation::Erf, n, 12);
    let d = ev.len();
    let s = erf_stats(&net, &est, 0.0).unwrap();
    let tau = s.threshold.expect("a separating threshold");
    let above: Vec<f64> = ev.iter().copied().filter(|&v| v > tau).collect();
    let below: Vec<f64> = ev.iter().copied().filter(|&v| v <= tau).collect();
    // The dense count at τ, and the dense route's count (largest ratio gap): Ni = Nh = N.
    assert_eq!(above.len(), n, "dense count above τ = {tau:e}");
    let count = s.count.unwrap();
    agrees("count above τ", &count, above.len() as f64);
    agrees("median below τ", &s.lower, median(&below));
    let gm = (above.iter().map(|v| v.ln()).sum::<f64>() / above.len() as f64).exp();
    agrees("geometric mean above τ", &s.upper, gm);
    let (top, bound) = s.top[0];
    assert!((top - ev[d - 1]).abs() <= bound.max(1e-12 * top));
    // A wrong threshold is caught: τ lowered by a decade and a half into the bulk near zero.
    let ps = ProbeSet::from_probes(&est.probes).unwrap();
    let m = ps.mass_above(tau / 30.0);
    let wrong = Estimate {
        value: d as f64 * m.value,
        probe_se: d as f64 * m.probe_se,
        quadrature: d as f64 * m.quadrature,
    };
    caught("count above τ/30", &wrong, above.len() as f64);
}

#[test]
fn quadrature_helpers_are_right_on_small_cases() {
    let q = Quadrature {
        nodes: vec![1.0, 2.0, 4.0],
        weights: vec![0.5, 0.25, 0.25],
    };
    // Midpoint CDF: (1, 0.25), (2, 0.625), (4, 0.875), linear between, constant outside.
    assert_eq!(q.cdf(0.0), 0.25);
    assert!((q.cdf(1.5) - 0.4375).abs() < 1e-15);
    assert!((q.cdf(3.0) - 0.75).abs() < 1e-15);
    assert_eq!(q.cdf(9.0), 0.875);
    assert_eq!(q.mass_above(1.5), 0.5);
    let z = q.without_bottom_mass(0.6);
    assert_eq!(z.weights, vec![0.0, 0.15000000000000002, 0.25]);
    // The slope of an exact power law, and its standard error from the per-size ones.
    let sizes = [10, 100, 1000];
    let e: Vec<Estimate> = sizes
        .iter()
        .map(|&n| Estimate {
            value: 3.0 * (n as f64).powf(-0.7),
            probe_se: 0.01 * 3.0 * (n as f64).powf(-0.7),
            quadrature: 0.0,
        })
        .collect();
    let (b, se) = log_slope(&sizes, &e);
    assert!((b + 0.7).abs() < 1e-12, "{b}");
    // c = (−1, 0, 1)/(2 ln 10): se = 0.01 √2 /(2 ln 10).
    assert!(
        (se - 0.01 * 2f64.sqrt() / (2.0 * 10f64.ln())).abs() < 1e-12,
        "{se}"
    );
}

#[test]
fn the_quick_run_decides_its_claims_and_old_configs_stay_valid() {
    // An old configuration file (no large_n_* keys) still parses and validates.
    let old: ReproduceConfig = serde_json::from_str(r#"{"quick": true, "seed": 3}"#).unwrap();
    old.validate().unwrap();
    assert_eq!(old.large_n_sizes, ReproduceConfig::paper().large_n_sizes);
    for bad in [vec![40], vec![3, 40], vec![40, 40]] {
        let mut c = ReproduceConfig::quick();
        c.large_n_sizes = bad;
        assert!(c
            .validate()
            .unwrap_err()
            .to_string()
            .contains("large_n_sizes"));
    }
    let mut c = ReproduceConfig::quick();
    c.large_n_figures = vec!["fig6".into()];
    assert!(c.validate().is_err());
    // A run of many hours is refused before it starts, with its estimated time.
    let mut c = ReproduceConfig::quick();
    c.large_n_sizes = vec![100, 2500];
    let e = nearopt::experiments::budget::check(&c)
        .unwrap_err()
        .to_string();
    assert!(e.contains("large-N") && e.contains("min on 2 cores"), "{e}");
    c.large_n_sizes = vec![100, 1000];
    let s = nearopt::experiments::large_n::estimate_seconds(&c);
    assert!(s > 600.0, "{s}");
    let out = run(&ReproduceConfig::quick(), &NoProgress).unwrap();
    let ids: Vec<&str> = out.claims.iter().map(|c| c.id.as_str()).collect();
    for id in [
        "fig4-large-n-bulk-to-zero",
        "fig4-large-n-upper-bulk",
        "fig4-large-n-outlier-grows",
        "fig5-large-n-upper-bulk-count",
        "fig5-large-n-bulk-to-zero",
        "fig5-large-n-upper-bulk-fixed",
    ] {
        assert!(ids.contains(&id), "{id} missing from {ids:?}");
    }
    for c in &out.claims {
        assert!(
            c.standard_error.is_some_and(|s| s.is_finite() && s > 0.0),
            "{c:?}"
        );
        eprintln!(
            "{} {:?} {} ± {:?}\n{}",
            c.id, c.verdict, c.value, c.standard_error, c.note
        );
    }
    // The outlier grows by a factor about 2 from N = 20 to 40: decided beyond 3 SE.
    let top = out
        .claims
        .iter()
        .find(|c| c.id == "fig4-large-n-outlier-grows")
        .unwrap();
    assert_eq!(top.verdict, Verdict::Reproduced, "{}", top.note);
    assert_eq!(out.figures.len(), 4);
}
