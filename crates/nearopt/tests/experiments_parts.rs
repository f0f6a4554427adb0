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
