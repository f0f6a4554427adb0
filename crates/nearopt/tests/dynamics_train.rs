//! Trainers against independent linearised predictions, and reproducibility.

use nearopt::dynamics::predict::{fitted_decay_rate, Prediction};
use nearopt::dynamics::train::{gd_sample_seed, log_time_grid, train, TrainConfig, Trainer};
use nearopt::dynamics::PopulationLoss;
use nearopt::experiments::NoProgress;
use nearopt::hessian::sampled::sampled_outer_product;
use nearopt::teacher::{sample_teacher, WeightDistribution};
use nearopt::{Activation, Network, PopulationHessian};

fn setup(
    act: Activation,
    ni: usize,
    nh: usize,
) -> (Network, PopulationLoss, nearopt::hessian::DenseMatrix) {
    let t = sample_teacher(act, ni, nh, WeightDistribution::Normal, 5, 0).unwrap();
    let l = PopulationLoss::new(&t);
    let h = PopulationHessian::at_optimum(&t).dense().unwrap();
    (t, l, h)
}

#[test]
fn flow_tends_to_the_quadratic_model_as_sigma0_shrinks() {
    for act in [
        Activation::Linear,
        Activation::Quadratic { epsilon: 0.5 },
        Activation::Erf,
    ] {
        let (_, loss, h0) = setup(act.clone(), 3, 4);
        let pred = Prediction::new(&h0).unwrap();
        let t_max = 3.0 * std::f64::consts::LN_10 / (2.0 * pred.lambda_min);
        let t_max = t_max.min(500.0 / pred.lambda_max);
        // Relative deviation of the flow's loss from the quadratic model of the same draw
        // (RK45 on the exact nonlinear loss vs the eigen-decomposed linear flow: independent).
        let deviations = |sigma0: f64| {
            let cfg = TrainConfig {
                sigma0,
                trainer: Trainer::Flow {
                    rtol: 1e-8,
                    max_steps: 1_000_000,
                },
                times: log_time_grid(1e-3 * t_max, t_max, 10).unwrap(),
                draws: 3,
                seed: 3,
            };
            let run = train(&loss, &h0, &cfg, &NoProgress).unwrap();
            let mut dev = Vec::new();
            for d in &run.draws {
                let p = pred.projections(&d.delta0);
                for (i, &t) in run.times.iter().enumerate() {
                    dev.push(d.loss[i] / pred.quadratic_model(&p, t) - 1.0);
                }
            }
            dev
        };
        // The noise scales with σ0 (same normals), so the cubic corrections do too: shrinking
        // σ0 tenfold must shrink every deviation about tenfold. Allowance: 20% of the larger
        // one (second-order terms) plus 2e-3 for the loss's rounding floor (~1e-15 against
        // losses ≥ 1e-12 here) and the integrator tolerance.
        let (big, small) = (deviations(1e-3), deviations(1e-4));
        for (b, s) in big.iter().zip(&small) {
            assert!(
                s.abs() <= 0.2 * b.abs() + 2e-3,
                "{act:?}: deviation {s} at σ0 = 1e-4 vs {b} at 1e-3"
            );
        }
        assert!(big.iter().all(|b| b.abs() < 0.5), "{act:?}: {big:?}");
    }
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    let (_, loss, h0) = setup(Activation::Erf, 3, 3);
    for trainer in [
        Trainer::Flow {
            rtol: 1e-6,
            max_steps: 100_000,
        },
        Trainer::Gd {
            lr: 0.05,
            samples: 64,
        },
        Trainer::Sgd { lr: 0.05, batch: 8 },
    ] {
        let cfg = TrainConfig {
            sigma0: 1e-3,
            trainer,
            times: vec![0.0, 0.5, 2.0],
            draws: 6,
            seed: 9,
        };
        let go = |threads| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| train(&loss, &h0, &cfg, &NoProgress).unwrap())
        };
        let (a, b) = (go(1), go(3));
        assert_eq!(a, b, "{:?}", cfg.trainer);
        // Different draws really are different.
        assert_ne!(a.draws[0].delta0, a.draws[1].delta0);
    }
}

#[test]
fn gd_follows_the_linearised_map_with_the_sample_hessian() {
    let (teacher, loss, h0) = setup(Activation::Erf, 3, 4);
    let (lr, n, k) = (0.1, 200, 300usize);
    let cfg = TrainConfig {
        sigma0: 1e-4,
        trainer: Trainer::Gd { lr, samples: n },
        times: vec![0.0, lr * k as f64],
        draws: 2,
        seed: 4,
    };
    let run = train(&loss, &h0, &cfg, &NoProgress).unwrap();
    for (r, d) in run.draws.iter().enumerate() {
        // Near the optimum the residuals vanish, so the sample Hessian is JᵀJ/n on the same inputs
        // and δ_{k+1} = (I − lr Ĥ) δ_k; the population loss is then ½ δᵀ H δ.
        let hs = sampled_outer_product(&teacher, n, gd_sample_seed(cfg.seed, r as u64)).unwrap();
        let mut delta = d.delta0.clone();
        let mut tmp = vec![0.0; delta.len()];
        for _ in 0..k {
            hs.matvec(&delta, &mut tmp);
            delta.iter_mut().zip(&tmp).for_each(|(a, b)| *a -= lr * b);
        }
        h0.matvec(&delta, &mut tmp);
        let predicted = 0.5 * delta.iter().zip(&tmp).map(|(a, b)| a * b).sum::<f64>();
        // Cubic corrections O(σ0 · lr k λ) ≈ 1e-4 × 30: 1e-2 relative leaves a margin.
        assert!(
            (d.loss[1] - predicted).abs() < 1e-2 * predicted,
            "draw {r}: GD {} vs linearised {predicted}",
            d.loss[1]
        );
        assert!(d.loss[1] < 0.5 * d.loss[0], "GD did not reduce the loss");
    }
}

#[test]
fn sgd_mean_loss_follows_the_linearised_mean() {
    // Linearised online SGD: E[δδᵀ] → (I − ηH) Σ (I − ηH) + (η²/B) Var term; for η λ_max ≪ 1 and
    // B = 64 the variance term is a few % of the drift, so the mean population loss follows
    // σ0²/2 Tr((I − ηH)^{2K} H) closely.
    let (_, loss, h0) = setup(Activation::Linear, 3, 4);
    let pred = Prediction::new(&h0).unwrap();
    let lr = 0.01 / pred.lambda_max;
    let k = (1.0 / (pred.lambda_min * lr)).ceil() as usize;
    let draws = 400;
    let cfg = TrainConfig {
        sigma0: 1e-3,
        trainer: Trainer::Sgd { lr, batch: 64 },
        times: vec![0.0, lr * k as f64],
        draws,
        seed: 12,
    };
    let run = train(&loss, &h0, &cfg, &NoProgress).unwrap();
    let mean = run.mean_loss();
    let se = run.mean_loss_stderr();
    let predicted: f64 = pred
        .eigenvalues
        .iter()
        .filter(|l| **l > pred.tolerance)
        .map(|l| 0.5 * 1e-6 * l * (1.0 - lr * l).powi(2 * k as i32))
        .sum();
    // 5 standard errors of the draw mean plus 10% for the minibatch-noise term.
    assert!(
        (mean[1] - predicted).abs() < 5.0 * se[1] + 0.1 * predicted,
        "SGD mean {} ± {} vs linearised {predicted}",
        mean[1],
        se[1]
    );
}

#[test]
fn fitted_rate_recovers_a_known_exponential() {
    let t: Vec<f64> = (0..20).map(|i| i as f64 * 0.5).collect();
    let l: Vec<f64> = t.iter().map(|t| 3e-7 * (-1.7 * t).exp()).collect();
    let r = fitted_decay_rate(&t, &l, 2.0, 9.5).unwrap();
    assert!((r - 1.7).abs() < 1e-10, "rate {r}");
    assert!(fitted_decay_rate(&t, &l, 9.0, 9.5).is_err());
}

#[test]
fn eq7_is_the_mean_of_the_quadratic_model() {
    // Averaging ½ Σ λ_i e^{−2λ_i t} (v_iᵀδ)² over δ ~ N(0, σ0²) gives Eq. 7 exactly; check with
    // the basis vectors, whose squared projections sum to one per eigenvector.
    let (_, _, h0) = setup(Activation::Erf, 2, 3);
    let pred = Prediction::new(&h0).unwrap();
    let d = h0.rows();
    for t in [0.0, 0.3, 4.0] {
        let mut sum = 0.0;
        for i in 0..d {
            let mut e = vec![0.0; d];
            e[i] = 1e-3;
            sum += pred.quadratic_model(&pred.projections(&e), t);
        }
        let eq7 = pred.eq7(1e-3, t);
        assert!(
            (sum - eq7).abs() < 1e-12 * eq7.abs().max(1e-300) + 1e-24,
            "t = {t}: {sum} vs {eq7}"
        );
    }
}

#[test]
fn bad_configurations_are_refused() {
    let (_, loss, h0) = setup(Activation::Linear, 2, 2);
    let ok = TrainConfig {
        sigma0: 1e-3,
        trainer: Trainer::Gd {
            lr: 0.1,
            samples: 10,
        },
        times: vec![0.0, 1.0],
        draws: 1,
        seed: 1,
    };
    let mut c = ok.clone();
    c.sigma0 = -1.0;
    assert!(train(&loss, &h0, &c, &NoProgress)
        .unwrap_err()
        .to_string()
        .contains("σ0"));
    let mut c = ok.clone();
    c.times = vec![1.0, 0.5];
    assert!(train(&loss, &h0, &c, &NoProgress)
        .unwrap_err()
        .to_string()
        .contains("ascending"));
    let mut c = ok.clone();
    c.trainer = Trainer::Sgd { lr: 0.1, batch: 0 };
    assert!(train(&loss, &h0, &c, &NoProgress)
        .unwrap_err()
        .to_string()
        .contains("batch"));
    let mut c = ok;
    c.trainer = Trainer::Gd {
        lr: 50.0,
        samples: 10,
    };
    c.times = vec![0.0, 5000.0];
    assert!(
        train(&loss, &h0, &c, &NoProgress).is_err(),
        "divergent GD must be reported"
    );
}
