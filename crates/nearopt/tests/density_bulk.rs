//! The top bulk's location (`nearopt::density::bulk`) against the dense spectrum of the same
//! network: the median of the `Ni` largest eigenvalues (the bulk has `Ni` of them, not the
//! paper's `Nh`: checked here with `Ni ≠ Nh`), estimated by a quantile of the SLQ
//! distribution function, lies within a few standard errors (over probes) of the exact one;
//! the quantile rule itself is exact on known measures; and the check can fail.

use nearopt::density::bulk::measure_tail_quantile;
use nearopt::density::{density_at_optimum, DensityOptions};
use nearopt::hessian::PopulationHessian;
use nearopt::spectrum::symmetric_eigenvalues;
use nearopt::teacher::{sample_teacher, WeightDistribution};
use nearopt::Activation;

#[test]
fn tail_quantile_interpolates_between_step_midpoints() {
    // Four atoms of weight 1/4 at 1, 2, 3, 4: F at the midpoints is 1/8, 3/8, 5/8, 7/8.
    let nodes = [3.0, 1.0, 4.0, 2.0];
    let w = [0.25; 4];
    // Tail 1/2 ⇒ F = 1/2, halfway between 2 (3/8) and 3 (5/8).
    assert!((measure_tail_quantile(&nodes, &w, 0.5) - 2.5).abs() < 1e-15);
    // Tail 1/8 ⇒ F = 7/8: the top atom.
    assert!((measure_tail_quantile(&nodes, &w, 0.125) - 4.0).abs() < 1e-15);
    // Tail 0.3 ⇒ F = 0.7: 3 + (0.7 − 0.625)/0.25.
    assert!((measure_tail_quantile(&nodes, &w, 0.3) - 3.3).abs() < 1e-14);
    // Below the first midpoint: the lowest atom.
    assert_eq!(measure_tail_quantile(&nodes, &w, 0.95), 1.0);
    assert!(measure_tail_quantile(&[], &[], 0.5).is_nan());
}

#[test]
fn top_bulk_median_matches_dense_spectrum() {
    // erf, Ni = 30, Nh = 24: D = 744, the top bulk is the 30 (= Ni) largest eigenvalues.
    let (ni, nh) = (30, 24);
    let net = sample_teacher(Activation::Erf, ni, nh, WeightDistribution::Normal, 7, 0).unwrap();
    let mut ev =
        symmetric_eigenvalues(&PopulationHessian::at_optimum(&net).dense().unwrap()).unwrap();
    ev.sort_by(f64::total_cmp);
    let d = ev.len();
    // The bulk is separated: the Ni-th largest is well above the next one (measured 14.1).
    let gap = ev[d - ni] / ev[d - ni - 1];
    assert!(gap > 3.0, "no gap below the top {ni}: ratio {gap}");
    assert!(
        ev[d - nh] / ev[d - nh - 1] < 1.5,
        "the paper's count Nh = {nh} is not the gap"
    );
    let uniform = vec![1.0 / d as f64; d];
    let tail = ni as f64 / (2.0 * d as f64);
    let exact = measure_tail_quantile(&ev, &uniform, tail);
    let opts = DensityOptions {
        probes: 64,
        steps: 60,
        top: 0,
        ..Default::default()
    };
    let est = density_at_optimum(&net, &opts, &|_, _| {}).unwrap();
    let b = est
        .top_bulk
        .expect("density_at_optimum reports the top bulk");
    assert_eq!(b.count, ni);
    assert!((b.tail_mass - tail).abs() < 1e-15);
    // Probe noise dominates (K = 60 resolves the bulk: nodes are dense at the top of a linear
    // range); 4 standard errors leave a false-alarm rate below 1e-4 for a normal estimate.
    let err = (b.median - exact).abs();
    assert!(
        err <= 4.0 * b.median_se,
        "top-bulk median {} vs dense {exact}: error {err:.3e} > 4 × s.e. {:.3e}",
        b.median,
        b.median_se
    );
    // The standard error is small enough for the check to mean something (a few percent),
    assert!(b.median_se < 0.05 * exact, "s.e. {} too large", b.median_se);
    // and the check can fail: the quantile at tail mass Ni/D (the bulk's lower edge, a
    // different quantity) is far outside the band.
    let wrong = measure_tail_quantile(&ev, &uniform, 2.0 * tail);
    assert!(
        (b.median - wrong).abs() > 4.0 * b.median_se,
        "the check cannot tell the top-bulk median {exact} from {wrong}"
    );
    assert!(b.quantile_10 < b.median && b.median < b.quantile_90);
    // The mean from the exact trace: the split lies in the gap and the mean matches the dense
    // mean of the top Ni within 4 standard errors (the remainder's spread over probes) plus
    // the quadrature's resolution of the split (nodes in the gap carry little weight: 1e-3
    // relative, far below the measured gap contribution).
    assert!(
        b.split > ev[d - ni - 1] && b.split < ev[d - ni],
        "split {} not in the gap",
        b.split
    );
    let dense_mean = ev[d - ni..].iter().sum::<f64>() / ni as f64;
    let err = (b.mean - dense_mean).abs();
    assert!(
        err <= 4.0 * b.mean_se + 1e-3 * dense_mean,
        "top-bulk mean {} vs dense {dense_mean}: error {err:.3e}, s.e. {:.3e}",
        b.mean,
        b.mean_se
    );
    // far tighter than the median's standard error, and the check can fail: the mean of the
    // top Ni + 1 differs by more than the band.
    assert!(
        b.mean_se < 0.2 * b.median_se,
        "mean s.e. {} vs median s.e. {}",
        b.mean_se,
        b.median_se
    );
    let wrong = ev[d - ni - 1..].iter().sum::<f64>() / (ni + 1) as f64;
    assert!((b.mean - wrong).abs() > 4.0 * b.mean_se + 1e-3 * dense_mean);
    assert!((b.count_above_split - ni as f64).abs() < 0.3 * ni as f64);
}
