//! The exponential integrator against an exact nonlinear solution, against RK45 where both reach,
//! and on the stiff erf network where only it reaches 10/λ_min; the precise loss against the
//! plain sum and the quadratic form.

use nearopt::dynamics::expflow::{expflow, EigenBasis};
use nearopt::dynamics::precise::precise_loss;
use nearopt::dynamics::predict::{fitted_decay_rate, Prediction};
use nearopt::dynamics::train::{initial_noise, log_time_grid, train, TrainConfig, Trainer};
use nearopt::dynamics::PopulationLoss;
use nearopt::experiments::NoProgress;
use nearopt::teacher::{sample_teacher, WeightDistribution};
use nearopt::{Activation, Network, PopulationHessian};

/// Gradient flow of the linear network with Ni = Nh = 1, `y = a s x`, teacher `â ŝ = ŵ`, in
/// closed form. With `p = s + a`, `q = s − a`: `ṗ = −p r`, `q̇ = q r` (`r = a s − ŵ`), so
/// `c = p q = s² − a²` is conserved and `P = p²` obeys the Riccati equation
/// `Ṗ = −½ (P − α)(P − β)`, `α, β = 2ŵ ± √(4ŵ² + c²)`, whence
/// `(P − α)/(P − β) = K e^{−(α − β) t / 2}`. The flow ends on the point of the optimal
/// hyperbola `a s = ŵ` with the start's `c`, not at the teacher: the nonlinear remainder never
/// vanishes, a hard test for an integrator whose linear part is the Hessian at the teacher.
fn exact_1x1(s0: f64, a0: f64, w: f64, t: f64) -> (f64, f64) {
    let c = s0 * s0 - a0 * a0;
    let p0 = s0 + a0;
    let root = (4.0 * w * w + c * c).sqrt();
    let (al, be) = (2.0 * w + root, 2.0 * w - root);
    let big_p0 = p0 * p0;
    let k = (big_p0 - al) / (big_p0 - be);
    let e = (-(al - be) * t / 2.0).exp();
    let big_p = (al - be * k * e) / (1.0 - k * e);
    let p = big_p.sqrt();
    let q = c / p;
    ((p + q) / 2.0, (p - q) / 2.0)
}

#[test]
fn matches_the_exact_solution_of_the_one_unit_linear_network() {
    let teacher = Network::from_rows(Activation::Linear, &[vec![1.3]], vec![0.7]).unwrap();
    let loss = PopulationLoss::new(&teacher);
    let h0 = PopulationHessian::at_optimum(&teacher).dense().unwrap();
    let basis = EigenBasis::new(&h0).unwrap();
    // Far from the teacher (|δ| ~ 1): strongly nonlinear.
    let (s0, a0) = (0.4, 1.6);
    let times = [0.05, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0];
    let rtol = 1e-9;
    let (thetas, st) = expflow(&loss, &basis, &[s0, a0], &times, rtol, 100_000).unwrap();
    // Local errors ≤ rtol |δ| per step on a contracting flow: the global error is at most
    // steps × rtol × |δ| (here ≲ 2e3 × 1e-9 ~ 2e-6); we ask 5e-6 absolute on O(1) weights.
    // (The limit is off the teacher, so near it the difference between its curvature and the
    // teacher's is treated explicitly and holds the step to O(1/λ): no stiffness gain here.)
    assert!(st.steps < 2000, "{st:?}");
    for (th, &t) in thetas.iter().zip(&times) {
        let (s, a) = exact_1x1(s0, a0, 1.3 * 0.7, t);
        assert!(
            (th[0] - s).abs() < 5e-6 && (th[1] - a).abs() < 5e-6,
            "t = {t}: ({}, {}) vs exact ({s}, {a})",
            th[0],
            th[1]
        );
    }
    // The limit is off the teacher (so the test exercises the remainder), on a s = ŵ.
    let last = thetas.last().unwrap();
    assert!((last[0] - 1.3).abs() > 0.1);
    assert!((last[0] * last[1] - 0.91).abs() < 1e-6);
    // The test can fail: a loose tolerance misses the exact solution by more than 5e-6.
    let (loose, _) = expflow(&loss, &basis, &[s0, a0], &times, 1e-2, 100_000).unwrap();
    let (s, a) = exact_1x1(s0, a0, 0.91, times[2]);
    assert!((loose[2][0] - s).abs() + (loose[2][1] - a).abs() > 5e-6);
}

fn setup(act: Activation, ni: usize, nh: usize, seed: u64) -> (Network, PopulationLoss) {
    let t = sample_teacher(act, ni, nh, WeightDistribution::Normal, seed, 0).unwrap();
    let l = PopulationLoss::new(&t);
    (t, l)
}

#[test]
fn agrees_with_rk45_where_both_reach() {
    for act in [
        Activation::Erf,
        Activation::Quadratic { epsilon: 1.0 },
        Activation::Linear,
    ] {
        let (t, loss) = setup(act.clone(), 3, 4, 11);
        let h0 = PopulationHessian::at_optimum(&t).dense().unwrap();
        let pred = Prediction::new(&h0).unwrap();
        let t_max = (10.0 / pred.lambda_min).min(300.0 / pred.lambda_max);
        let times = log_time_grid(1e-3 * t_max, t_max, 12).unwrap();
        let run = |trainer: Trainer| {
            let cfg = TrainConfig {
                sigma0: 3e-2,
                trainer,
                times: times.clone(),
                draws: 2,
                seed: 4,
            };
            train(&loss, &h0, &cfg, &NoProgress).unwrap()
        };
        let rk = run(Trainer::Flow {
            rtol: 1e-9,
            max_steps: 1_000_000,
        });
        let ex = run(Trainer::ExpFlow {
            rtol: 1e-9,
            max_steps: 1_000_000,
        });
        // Both control the local error to 1e-9 of the loss norm; over ≲ 1e3 steps of a
        // contracting flow the global relative error in δ is ≲ 1e-6, in L ≲ 2e-6 each: 1e-5.
        let mut nonlinear = 0.0f64;
        for (a, b) in rk.draws.iter().zip(&ex.draws) {
            let p = pred.projections(&a.delta0);
            for (i, &t) in times.iter().enumerate().skip(1) {
                let rel = (a.loss[i] - b.loss[i]).abs() / a.loss[i];
                assert!(
                    rel < 1e-5,
                    "{act:?} t = {t}: RK45 {} vs expflow {}",
                    a.loss[i],
                    b.loss[i]
                );
                let q = pred.quadratic_model(&p, t);
                nonlinear = nonlinear.max((a.loss[i] / q - 1.0).abs());
            }
        }
        // The comparison can fail: at σ0 = 3e-2 the nonlinear part is far above the tolerance
        // (the linear network: still O(σ0) from the drift along its symmetry directions).
        assert!(nonlinear > 1e-3, "{act:?}: nonlinear part {nonlinear}");
    }
}

#[test]
fn reaches_ten_over_lambda_min_on_the_stiff_erf_network() {
    // Figure 3's erf network: λ_min ≈ 1.7e-7, λ_max ≈ 1.8, so RK45 would need ~1e8 steps.
    let t = sample_teacher(Activation::Erf, 10, 20, WeightDistribution::Normal, 2024, 2).unwrap();
    let loss = PopulationLoss::new(&t);
    let h0 = PopulationHessian::at_optimum(&t).dense().unwrap();
    let pred = Prediction::new(&h0).unwrap();
    assert!(pred.lambda_min < 1e-6 && pred.lambda_max > 1.0);
    let basis = EigenBasis::new(&h0).unwrap();
    let t_max = 10.0 / pred.lambda_min;
    let mut times = log_time_grid(1e-2, t_max, 20).unwrap();
    times.extend((0..8).map(|i| t_max * (0.5 + 0.5 * i as f64 / 7.0)));
    times.sort_by(f64::total_cmp);
    times.dedup();
    let star = t.params();
    let d0 = initial_noise(star.len(), 1e-3, 2024, 0);
    let th0: Vec<f64> = star.iter().zip(&d0).map(|(a, b)| a + b).collect();
    let (thetas, st) = expflow(&loss, &basis, &th0, &times, 1e-6, 10_000).unwrap();
    assert!(st.steps < 1000, "{st:?}");
    let l: Vec<f64> = thetas
        .iter()
        .map(|th| precise_loss(&loss, th).unwrap())
        .collect();
    let q: Vec<f64> = {
        let p = pred.projections(&d0);
        times.iter().map(|&t| pred.quadratic_model(&p, t)).collect()
    };
    // Late window [5, 10]/λ_min: one mode left (λ_2/λ_min = 1.8, e^{−2·0.8·5} ≈ 3e-4), so the
    // rate is 2 λ_min up to the O(σ0) shift of the curvature, ≪ 1%; the quadratic model of the
    // same draw gives the same rate to the same accuracy.
    let rate = fitted_decay_rate(&times, &l, 0.5 * t_max, t_max).unwrap();
    let q_rate = fitted_decay_rate(&times, &q, 0.5 * t_max, t_max).unwrap();
    assert!(
        (rate / (2.0 * pred.lambda_min) - 1.0).abs() < 1e-3,
        "rate {rate}"
    );
    assert!((rate / q_rate - 1.0).abs() < 1e-3);
    // Over the whole run the loss follows the quadratic model to the O(σ0·√D) nonlinearity (5%).
    for (i, (a, b)) in l.iter().zip(&q).enumerate() {
        assert!((a / b - 1.0).abs() < 0.05, "t = {}: {a} vs {b}", times[i]);
    }
}

#[test]
fn precise_loss_agrees_with_the_plain_sum_and_goes_below_its_floor() {
    for act in [Activation::Erf, Activation::Quadratic { epsilon: 0.8 }] {
        let (t, loss) = setup(act.clone(), 3, 4, 2);
        let h0 = PopulationHessian::at_optimum(&t).dense().unwrap();
        let star = t.params();
        for (scale, tol) in [(1e-2, 1e-9), (0.3, 1e-9)] {
            // Losses ~1e-4 … 1e-1: the plain sum's rounding (~1e-15) is 1e-11 relative or less.
            let d = initial_noise(star.len(), scale, 9, 1);
            let th: Vec<f64> = star.iter().zip(&d).map(|(a, b)| a + b).collect();
            let (a, b) = (precise_loss(&loss, &th).unwrap(), loss.loss(&th).unwrap());
            assert!((a - b).abs() < tol * b, "{act:?} σ = {scale}: {a} vs {b}");
        }
        // |δ| ~ 1e-9: L ~ 1e-18, below the plain sum's floor. The precise loss matches the
        // quadratic form ½ δᵀHδ to its O(|δ|) relative correction; the plain sum does not.
        let d = initial_noise(star.len(), 1e-9, 9, 2);
        let th: Vec<f64> = star.iter().zip(&d).map(|(a, b)| a + b).collect();
        let mut hd = vec![0.0; d.len()];
        h0.matvec(&d, &mut hd);
        let quad = 0.5 * d.iter().zip(&hd).map(|(a, b)| a * b).sum::<f64>();
        let p = precise_loss(&loss, &th).unwrap();
        assert!(
            (p / quad - 1.0).abs() < 1e-5,
            "{act:?}: precise {p} vs ½δᵀHδ {quad}"
        );
        let plain = loss.loss(&th).unwrap();
        assert!(
            (plain / quad - 1.0).abs() > 1e-3,
            "{act:?}: plain {plain} vs {quad}"
        );
    }
}
