//! The experiments' building blocks against independent computations: block eigenvalues against
//! closed forms of the weights, histograms against direct counts, the gap split on constructed
//! spectra, configurations, and thread-count independence.

use nearopt::experiments::blocks::{a_block_eigenvalue, b_block_eigenvalues};
use nearopt::experiments::common::{histogram, teacher};
use nearopt::experiments::nonlinear::split_at_largest_gap;
use nearopt::experiments::spectra::linear_ensemble;
use nearopt::experiments::{blocks, NoProgress, ReproduceConfig, Series};
use nearopt::teacher::WeightDistribution;
use nearopt::Activation;

#[test]
fn a_block_eigenvalue_is_the_squared_norm_of_w2() {
    for (t, nh) in [1usize, 3, 17].into_iter().enumerate() {
        let net = teacher(
            &Activation::Linear,
            2,
            nh,
            WeightDistribution::Normal,
            5,
            0,
            t,
        )
        .unwrap();
        let norm2: f64 = net.w2().iter().map(|a| a * a).sum();
        let lam = a_block_eigenvalue(&net).unwrap();
        assert!(
            (lam - norm2).abs() <= 1e-12 * norm2.max(1.0),
            "nh={nh}: {lam} vs {norm2}"
        );
    }
}

#[test]
fn b_block_eigenvalues_match_the_gram_matrix_moments() {
    // Nonzero eigenvalues of W1 W1ᵀ: their sum is ‖W1‖_F² and the sum of squares is ‖W1ᵀW1‖_F²,
    // both computed here from the weights directly.
    for (t, &(ni, nh)) in [(3usize, 5usize), (6, 4), (4, 4)].iter().enumerate() {
        let net = teacher(
            &Activation::Linear,
            ni,
            nh,
            WeightDistribution::Normal,
            9,
            1,
            t,
        )
        .unwrap();
        let eig = b_block_eigenvalues(&net).unwrap();
        assert_eq!(eig.len(), ni.min(nh));
        let w = net.w1();
        let fro: f64 = w.iter().map(|v| v * v).sum();
        let mut g2 = 0.0;
        for a in 0..ni {
            for b in 0..ni {
                let s: f64 = (0..nh).map(|m| w[m * ni + a] * w[m * ni + b]).sum();
                g2 += s * s;
            }
        }
        let s1: f64 = eig.iter().sum();
        let s2: f64 = eig.iter().map(|v| v * v).sum();
        assert!(
            (s1 - fro).abs() < 1e-12 * fro.max(1.0),
            "{ni}x{nh}: {s1} vs {fro}"
        );
        assert!(
            (s2 - g2).abs() < 1e-11 * g2.max(1.0),
            "{ni}x{nh}: {s2} vs {g2}"
        );
        assert!(
            eig.iter().all(|&v| v > 1e-8),
            "{ni}x{nh}: a kept eigenvalue is zero: {eig:?}"
        );
    }
}

#[test]
fn linear_ensemble_eigenvalues_are_norm_plus_gram_eigenvalues() {
    // Per teacher the Ni nonzero eigenvalues are ‖W2‖² + μ_k (μ_k of W1ᵀW1): their sum is
    // Ni‖W2‖² + ‖W1‖_F².
    let (ni, nh, seed, exp) = (4, 3, 11, 42);
    let eig = linear_ensemble(
        ni,
        nh,
        WeightDistribution::Uniform,
        5,
        seed,
        exp,
        &NoProgress,
    )
    .unwrap();
    assert_eq!(eig.len(), 5 * ni);
    for t in 0..5 {
        let net = teacher(
            &Activation::Linear,
            ni,
            nh,
            WeightDistribution::Uniform,
            seed,
            exp,
            t,
        )
        .unwrap();
        let w2: f64 = net.w2().iter().map(|a| a * a).sum();
        let w1: f64 = net.w1().iter().map(|a| a * a).sum();
        let s: f64 = eig[t * ni..(t + 1) * ni].iter().sum();
        let want = ni as f64 * w2 + w1;
        assert!(
            (s - want).abs() < 1e-11 * want,
            "teacher {t}: {s} vs {want}"
        );
    }
}

#[test]
fn histogram_density_counts_the_samples() {
    let samples: Vec<f64> = (0..1000)
        .map(|i| ((i * 37) % 1000) as f64 / 100.0)
        .collect();
    let Series::Histogram { edges, density, .. } = histogram("h", &samples, 2.0, 6.0, 8) else {
        panic!("not a histogram")
    };
    assert_eq!(edges.len(), 9);
    for (k, d) in density.iter().enumerate() {
        let (lo, hi) = (edges[k], edges[k + 1]);
        let count = samples
            .iter()
            .filter(|&&s| s >= lo && (s < hi || (k == 7 && s <= hi)))
            .count();
        assert!(
            (d * 1000.0 * (hi - lo) - count as f64).abs() < 1e-9,
            "bin {k}"
        );
    }
    let mass: f64 = density.iter().sum::<f64>() * 0.5;
    let inside = samples
        .iter()
        .filter(|&&s| (2.0..=6.0).contains(&s))
        .count() as f64
        / 1000.0;
    assert!((mass - inside).abs() < 1e-12);
}

#[test]
fn gap_split_finds_the_upper_bulk() {
    // A lower bulk with a wide internal gap (ignored: lower half) and 3 eigenvalues above a ×20 gap.
    let mut v = vec![
        1e-6, 1e-3, 1.1e-3, 1.2e-3, 1.3e-3, 1.4e-3, 1.5e-3, 2e-3, 4e-2, 5e-2, 6e-2,
    ];
    v.sort_by(f64::total_cmp);
    let (above, gap) = split_at_largest_gap(&v);
    assert_eq!(above, 3);
    assert!((gap - 20.0).abs() < 1e-9);
}

#[test]
fn configuration_round_trips_and_is_validated() {
    for cfg in [ReproduceConfig::paper(), ReproduceConfig::quick()] {
        cfg.validate().unwrap();
        let text = serde_json::to_string(&cfg).unwrap();
        let back: ReproduceConfig = serde_json::from_str(&text).unwrap();
        assert_eq!(back, cfg);
    }
    let partial: ReproduceConfig = serde_json::from_str(r#"{"seed": 3}"#).unwrap();
    assert_eq!(partial.seed, 3);
    assert_eq!(
        partial.linear_teachers,
        ReproduceConfig::paper().linear_teachers
    );
    assert!(serde_json::from_str::<ReproduceConfig>(r#"{"sed": 3}"#).is_err());
    let mut bad = ReproduceConfig::quick();
    bad.erf_sizes = vec![4, 0];
    let e = bad.validate().unwrap_err().to_string();
    assert!(e.contains("erf_sizes"), "{e}");
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    let mut cfg = ReproduceConfig::quick();
    cfg.chi_teachers = 64;
    cfg.chi_hidden = vec![3, 12];
    let run = |threads| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| blocks::figure6(&cfg, &NoProgress).unwrap())
    };
    assert_eq!(run(1), run(3));
}

#[test]
fn hermite_terms_are_below_the_exact_hessian() {
    // Independent checks of experiments::hermite against the exact Hessian: the degree-0 term of
    // a quadratic network and the degree-1 term of an erf network are each ⪯ H, so
    //   uᵀHu ≥ ‖∇E f‖² for u = ∇E f/‖∇E f‖ (quadratic), and R = H − J_aᵀJ_a ⪰ 0 (erf);
    // and the terms are not vacuous: ∇E f is compared with finite differences of E f computed
    // from the weights, and J_a with finite differences of a = E[f(x)x] by Monte Carlo-free
    // closed form a = Σ W2_m κ(|w_m|) w_m evaluated at perturbed weights.
    use nearopt::experiments::hermite::{
        dense_hessian, erf_linear_certificate, erf_linear_jacobian, quadratic_constant_gradient,
    };
    for (t, &(ni, nh)) in [(3usize, 7usize), (6, 2), (4, 4)].iter().enumerate() {
        let q = teacher(
            &Activation::Quadratic { epsilon: 0.7 },
            ni,
            nh,
            WeightDistribution::Normal,
            11,
            2,
            t,
        )
        .unwrap();
        let g = quadratic_constant_gradient(&q).unwrap();
        let h = dense_hessian(&q).unwrap();
        let g2: f64 = g.iter().map(|v| v * v).sum();
        let mut hg = vec![0.0; g.len()];
        h.matvec(&g, &mut hg);
        let ugu: f64 = g.iter().zip(&hg).map(|(a, b)| a * b).sum::<f64>() / g2;
        assert!(
            ugu >= g2 * (1.0 - 1e-10),
            "{ni}x{nh}: uᵀHu {ugu} < ‖∇E f‖² {g2}"
        );
        // E f = ε Σ W2_m |w_m|², by central differences (exact for a quadratic up to rounding).
        let ef = |net: &nearopt::Network| -> f64 {
            (0..nh)
                .map(|m| 0.7 * net.w2()[m] * net.w1_row(m).iter().map(|v| v * v).sum::<f64>())
                .sum()
        };
        let theta = q.params();
        for (p, gp) in g.iter().enumerate() {
            let (mut a, mut b) = (theta.clone(), theta.clone());
            a[p] += 1e-5;
            b[p] -= 1e-5;
            let fd = (ef(&q.with_params(&a).unwrap()) - ef(&q.with_params(&b).unwrap())) / 2e-5;
            assert!((fd - gp).abs() < 1e-8, "∂E f/∂θ_{p}: {fd} vs {gp}");
        }

        let e = teacher(
            &Activation::Erf,
            ni,
            nh,
            WeightDistribution::Normal,
            11,
            3,
            t,
        )
        .unwrap();
        let he = dense_hessian(&e).unwrap();
        let c = erf_linear_certificate(&e, &he).unwrap();
        let top = he.max_abs();
        assert!(c.remainder_min > -1e-10 * top, "R not ⪰ 0: {c:?}");
        assert!(c.linear_min > 0.0 && c.remainder_max > 0.0, "{c:?}");
        let j = erf_linear_jacobian(&e).unwrap();
        let a_of = |net: &nearopt::Network| -> Vec<f64> {
            let k = (2.0 / std::f64::consts::PI).sqrt();
            let mut a = vec![0.0; ni];
            for m in 0..nh {
                let w = net.w1_row(m);
                let s2: f64 = w.iter().map(|v| v * v).sum();
                for (ai, wi) in a.iter_mut().zip(w) {
                    *ai += net.w2()[m] * k / (1.0 + s2).sqrt() * wi;
                }
            }
            a
        };
        let theta = e.params();
        for p in 0..theta.len() {
            let (mut x, mut y) = (theta.clone(), theta.clone());
            x[p] += 1e-6;
            y[p] -= 1e-6;
            let (ax, ay) = (
                a_of(&e.with_params(&x).unwrap()),
                a_of(&e.with_params(&y).unwrap()),
            );
            for i in 0..ni {
                let fd = (ax[i] - ay[i]) / 2e-6;
                assert!(
                    (fd - j.get(i, p)).abs() < 1e-7,
                    "J_a[{i}][{p}]: {fd} vs {}",
                    j.get(i, p)
                );
            }
        }
    }
    // The check can fail: the degree-1 term of a *different* network is not below H.
    let e1 = teacher(&Activation::Erf, 4, 4, WeightDistribution::Normal, 11, 3, 0).unwrap();
    let e2 = teacher(&Activation::Erf, 4, 4, WeightDistribution::Normal, 12, 3, 0).unwrap();
    let c = erf_linear_certificate(&e2, &dense_hessian(&e1).unwrap()).unwrap();
    assert!(c.remainder_min < -1e-3, "{c:?}");
}

#[test]
fn erf_count_off_the_diagonal_is_ni_not_nh() {
    // The finding of fig5-upper-bulk-count, on one shape each side of the diagonal, decided from
    // the exact spectrum by the gap split and confirmed by the Hermite certificate.
    use nearopt::experiments::nonlinear::shape_spectra;
    for (ni, nh) in [(5usize, 20usize), (20, 10)] {
        let sp = shape_spectra(&Activation::Erf, ni, nh, 2, 4, 77, &NoProgress).unwrap();
        for p in &sp {
            assert_eq!(split_at_largest_gap(&p.pos).0, ni, "{ni}x{nh}");
            assert!(p.certificate.unwrap().separates(), "{ni}x{nh}");
        }
    }
}
