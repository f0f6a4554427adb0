//! Matrix-free spectra (`nearopt::density`, `nearopt::lanczos`) against the dense spectrum of the
//! same network: exact moments `Tr H`, `Tr H²`; top eigenvalues with honest residual bounds
//! (also on rank-deficient operators with large multiplicities, where the iteration must
//! restart); the SLQ distribution within a 1-Wasserstein bound derived from `P` and `K`; and the
//! result's independence of the thread count.

use nearopt::density::{density_at_optimum, trace_moments, DensityOptions};
use nearopt::hessian::batched::BatchedPopulationHessian;
use nearopt::hessian::PopulationHessian;
use nearopt::lanczos::{top_eigenpairs, TopOptions};
use nearopt::spectrum::symmetric_eigenvalues;
use nearopt::teacher::{sample_teacher, WeightDistribution};
use nearopt::{Activation, Network};

fn net(act: Activation, ni: usize, nh: usize, seed: u64) -> Network {
    sample_teacher(act, ni, nh, WeightDistribution::Normal, seed, 0).unwrap()
}

fn dense_eigenvalues(n: &Network) -> Vec<f64> {
    symmetric_eigenvalues(&PopulationHessian::at_optimum(n).dense().unwrap()).unwrap()
}

/// `W1(μ, ν) = ∫ |F_μ − F_ν|` for two discrete probability measures.
fn wasserstein1(a: &[(f64, f64)], b: &[(f64, f64)]) -> f64 {
    let mut pts: Vec<(f64, f64)> = a.to_vec();
    pts.extend(b.iter().map(|(x, w)| (*x, -w)));
    pts.sort_by(|x, y| x.0.total_cmp(&y.0));
    let (mut f, mut total) = (0.0, 0.0);
    for w in pts.windows(2) {
        f += w[0].1;
        total += f.abs() * (w[1].0 - w[0].0);
    }
    total
}

#[test]
fn exact_moments_equal_dense_traces() {
    let cases = [
        net(Activation::Erf, 12, 9, 1),
        net(Activation::Quadratic { epsilon: 0.8 }, 7, 10, 2),
        net(Activation::Linear, 6, 4, 3),
        net(
            Activation::Polynomial {
                coefficients: vec![0.2, 1.0, 0.4, -0.3],
            },
            5,
            6,
            4,
        ),
        net(Activation::Tanh, 4, 3, 5),
    ];
    for n in &cases {
        let h = PopulationHessian::at_optimum(n);
        let dense = h.dense().unwrap();
        let d = dense.rows();
        let tr: f64 = (0..d).map(|i| dense.get(i, i)).sum();
        let fro: f64 = dense.as_slice().iter().map(|v| v * v).sum();
        let m = trace_moments(n, &h);
        // Sums of O(D²) terms of one sign-dominated magnitude: 1e-12 relative is ~1e4 ulps.
        assert!(
            (m.trace - tr).abs() <= 1e-12 * tr.abs(),
            "{:?}: trace {} vs {tr}",
            n.activation(),
            m.trace
        );
        assert!(
            (m.trace_squared - fro).abs() <= 1e-12 * fro,
            "{:?}: Tr H² {} vs {fro}",
            n.activation(),
            m.trace_squared
        );
        // Can fail: one entry more in the Frobenius sum is visible.
        assert!((m.trace_squared - (fro + 1e-9 * fro)).abs() > 1e-12 * fro);
    }
}

fn check_top(n: &Network, count: usize, block: usize, max_basis: usize) -> usize {
    let ev = dense_eigenvalues(n);
    // The plain product and the one in the triangular input basis (`density`'s), each against
    // the dense spectrum of the original network.
    let h = PopulationHessian::at_optimum(n);
    let plain = BatchedPopulationHessian::from_population(n, &h);
    let triangular = BatchedPopulationHessian::from_population_triangular(n, &h).unwrap();
    let mut restarts = 0;
    for op in [&plain, &triangular] {
        restarts = check_top_of(op, &ev, n, count, block, max_basis);
    }
    restarts
}

fn check_top_of(
    op: &BatchedPopulationHessian,
    ev: &[f64],
    n: &Network,
    count: usize,
    block: usize,
    max_basis: usize,
) -> usize {
    let top = top_eigenpairs(
        op,
        &TopOptions {
            count,
            block,
            max_basis,
            tol: 1e-11,
            seed: 3,
            max_products: 3000,
        },
        &|_| {},
    )
    .unwrap();
    let lmax = *ev.last().unwrap();
    for (i, (theta, r)) in top.values.iter().zip(&top.residual_bounds).enumerate() {
        let lambda = ev[ev.len() - 1 - i];
        // Interlacing: the i-th largest Ritz value is at most λ_i (up to rounding).
        assert!(*theta <= lambda + 1e-13 * lmax, "{i}: {theta} > {lambda}");
        // Honest bound: some eigenvalue within r of θ (nearest, up to rounding).
        let nearest = ev
            .iter()
            .map(|l| (l - theta).abs())
            .fold(f64::INFINITY, f64::min);
        assert!(
            nearest <= r + 1e-13 * lmax,
            "{i}: distance {nearest:e} > bound {r:e}"
        );
        assert!(
            (theta - lambda).abs() <= 1e-10 * lambda,
            "{:?} {i}: {theta} vs {lambda} (bound {r:e}, converged {})",
            n.activation(),
            top.converged[i]
        );
        assert!(top.converged[i]);
    }
    top.thick_restarts
}

#[test]
fn top_eigenvalues_match_dense_spectrum() {
    check_top(&net(Activation::Erf, 30, 30, 7), 20, 4, 300);
    // Above SUB_TILE, so the triangular product skips part of W1 in both of its GEMMs.
    check_top(&net(Activation::Erf, 70, 72, 5), 12, 4, 300);
    check_top(
        &net(Activation::Quadratic { epsilon: 0.5 }, 8, 6, 2),
        8,
        3,
        300,
    );
}

#[test]
fn thick_restarts_converge_within_a_small_basis() {
    let restarts = check_top(&net(Activation::Erf, 30, 30, 7), 10, 4, 40);
    assert!(restarts > 0, "the basis limit should force thick restarts");
}

#[test]
fn top_eigenvalues_restart_on_rank_deficient_operator_with_multiplicities() {
    // Linear g: y depends on θ only through v = W1ᵀ a, so the nonzero eigenvalues are those
    // of ‖a‖² I + W1ᵀ W1 (Ni of them): ‖a‖² + s_i² and ‖a‖² with multiplicity Ni − Nh, above
    // the block size. A block iteration sees at most `block` copies per Krylov space: only the
    // restarts after breakdown find them all.
    let (ni, nh) = (12, 4);
    let n = net(Activation::Linear, ni, nh, 9);
    let ev = dense_eigenvalues(&n);
    let a2: f64 = n.w2().iter().map(|a| a * a).sum();
    let mult = ev.iter().filter(|l| (*l - a2).abs() < 1e-9 * a2).count();
    assert_eq!(mult, ni - nh);
    check_top(&n, ni, 3, 300);
}

#[test]
fn slq_distribution_within_wasserstein_bound() {
    // W1(μ_SLQ, μ) ≤ W1(μ_SLQ, μ̂) + W1(μ̂, μ), μ̂ = mean of the probes' exact measures μ_x:
    // * quadrature: a priori, Gauss with K nodes is exact to degree 2K−1 and Jackson's theorem
    //   gives W1(μ_x^K, μ_x) ≤ π(b−a)/(4K) (checked too); a posteriori, the
    //   Chebyshev–Markov–Stieltjes bound `w1_quadrature_bound` (much sharper), 0 on breakdown;
    // * probes: Rademacher Hutchinson on the spectral projector Π_t has
    //   Var F̂(t) ≤ 2 min(F, 1−F)/(D P); by Minkowski sqrt(E W1(μ̂, μ)²) ≤ ∫ sqrt(Var F̂(t)) dt
    //   =: S, and Chebyshev gives P(W1(μ̂, μ) > 5 S) ≤ 1/25.
    let cases = [
        (net(Activation::Erf, 30, 30, 4), 20, 30),
        // Rank-deficient: K exceeds rank + 1, the probes break down and are exact.
        (
            net(Activation::Quadratic { epsilon: 1.0 }, 6, 5, 2),
            200,
            40,
        ),
    ];
    for (n, probes, steps) in cases {
        let ev = dense_eigenvalues(&n);
        let d = ev.len();
        let opts = DensityOptions {
            probes,
            steps,
            top: 2,
            ..DensityOptions::default()
        };
        let est = density_at_optimum(&n, &opts, &|_, _| {}).unwrap();
        let (a, b) = (ev[0].min(0.0), *ev.last().unwrap());
        let jackson = if est.breakdowns == probes {
            0.0
        } else {
            std::f64::consts::PI * (b - a) / (4.0 * steps as f64)
        };
        let gauss = est.w1_quadrature_bound;
        assert!(
            gauss <= jackson + 1e-15 * b,
            "a posteriori {gauss:e} > a priori {jackson:e}"
        );
        assert!(est.upper_bound >= b * (1.0 - 1e-12));
        // ∫ sqrt(2 min(F, 1−F)/(DP)) dt over the true F (piecewise constant between eigenvalues);
        // by Minkowski's inequality it bounds sqrt(E W1(μ̂, μ)²).
        let spread: f64 = ev
            .windows(2)
            .enumerate()
            .map(|(i, w)| {
                let f = (i + 1) as f64 / d as f64;
                (2.0 * f.min(1.0 - f) / (d * probes) as f64).sqrt() * (w[1] - w[0])
            })
            .sum();
        let bound = gauss + 5.0 * spread;
        let slq: Vec<(f64, f64)> = est
            .nodes
            .iter()
            .copied()
            .zip(est.weights.iter().copied())
            .collect();
        let exact: Vec<(f64, f64)> = ev.iter().map(|l| (*l, 1.0 / d as f64)).collect();
        let w = wasserstein1(&slq, &exact);
        eprintln!(
            "{:?}: W1 = {w:e}, bound {bound:e} (Gauss {gauss:e}, probes {spread:e})",
            n.activation()
        );
        assert!(
            w <= bound,
            "{:?}: W1 = {w:e} > bound {bound:e}",
            n.activation()
        );
        // Can fail: the spectrum stretched by 2 (W1 = mean λ from the exact one) is
        // outside the bound.
        let stretched: Vec<(f64, f64)> = ev.iter().map(|l| (2.0 * l, 1.0 / d as f64)).collect();
        let ws = wasserstein1(&slq, &stretched);
        eprintln!("  W1 to the stretched spectrum {ws:e}");
        assert!(ws > bound);
        // The SLQ moments are Hutchinson estimates: within 5 standard errors
        // (Var ≤ 2 ‖H‖_F² per probe) of the exact moments.
        let m = est.moments.unwrap();
        let se = (2.0 * m.trace_squared / probes as f64).sqrt();
        assert!((est.slq_trace.0 - m.trace).abs() <= 5.0 * se);
        let wsum: f64 = est.weights.iter().sum();
        assert!((wsum - 1.0).abs() < 1e-12);
    }
}

#[test]
fn density_does_not_depend_on_thread_count() {
    let n = net(Activation::Erf, 20, 20, 5);
    let opts = DensityOptions {
        probes: 5,
        steps: 20,
        top: 6,
        max_basis: 30,
        memory_budget: 1 << 30,
        ..DensityOptions::default()
    };
    let run = |threads: usize, budget: u64| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let o = DensityOptions {
            memory_budget: budget,
            ..opts.clone()
        };
        pool.install(|| density_at_optimum(&n, &o, &|_, _| {}).unwrap())
    };
    let a = run(1, 1 << 30);
    // Different thread count and different probes per block (budget for 2 probes).
    let per_probe = 8 * 420 * 22;
    for (t, budget) in [(2, 1 << 30), (3, 2 * per_probe)] {
        let b = run(t, budget);
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&a.nodes), bits(&b.nodes), "threads {t}");
        assert_eq!(bits(&a.weights), bits(&b.weights), "threads {t}");
        let (ta, tb) = (a.top.as_ref().unwrap(), b.top.as_ref().unwrap());
        assert_eq!(bits(&ta.values), bits(&tb.values), "threads {t}");
    }
}
