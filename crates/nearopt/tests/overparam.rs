//! Over-parameterised students (`nearopt::students`, `experiments::overparam`): the students
//! compute the teacher's function (forward pass written here), the derived flat directions are
//! null vectors of the exact Hessian, the certified ranks equal the derived predictions, the exact
//! Hessian equals the sampled Hessian with its functional term within the Monte Carlo error, and
//! each check fails where it should (a student off the optimum, a direction that is not flat).

use nearopt::experiments::overparam::{self, OverparamConfig};
use nearopt::experiments::{NoProgress, Verdict};

#[test]
fn quick_experiment_every_claim_reproduced() {
    let cfg = OverparamConfig::quick();
    let rows = overparam::measure(&cfg, &NoProgress).unwrap();
    for r in &rows {
        println!(
            "{:9} {:6} Ni={} Nh={} K={} D={:2} rank={:2}{} pred={:?} teacher={} flat={:2} res={:.1e} lmin={:.4e} lmax={:.4e} refdev={:?} z={:.2} mis={:.1e}",
            r.activation, r.optimum.name(), r.ni, r.nh, r.width, r.dim, r.rank,
            if r.certified { "" } else { "?" }, r.predicted_rank, r.teacher_rank,
            r.flat_directions, r.flat_residual, r.lambda_min, r.lambda_max,
            r.reference_deviation, r.mc_max_z, r.output_mismatch
        );
    }
    let (_, claims) = overparam::summarize(&rows);
    for c in &claims {
        println!("{} {:?} {} | {}", c.id, c.verdict, c.value, c.note);
    }
    for c in &claims {
        assert_eq!(c.verdict, Verdict::Reproduced, "{}: {}", c.id, c.note);
    }
}

use nearopt::experiments::overparam::{flat_residual, monte_carlo_z, scaled_spectrum};
use nearopt::hessian::sampled::sampled_hessian;
use nearopt::spectrum::symmetric_eigenvalues;
use nearopt::students::{predicted_rank, reference, widen, Optimum};
use nearopt::teacher::{sample_teacher, WeightDistribution};
use nearopt::{Activation, Network, PopulationHessian};

fn hessian(net: &Network) -> Vec<f64> {
    PopulationHessian::at_optimum(net)
        .dense()
        .unwrap()
        .as_slice()
        .to_vec()
}

fn eig(h: &[f64], d: usize) -> Vec<f64> {
    let mut m = nearopt::hessian::DenseMatrix::zeros(d, d);
    m.as_mut_slice().copy_from_slice(h);
    symmetric_eigenvalues(&m).unwrap()
}

/// Forward pass written here (only the scalar `g` from the library).
fn forward(net: &Network, x: &[f64]) -> f64 {
    let g = net.activation().function();
    (0..net.nh())
        .map(|m| {
            let z: f64 = net.w1_row(m).iter().zip(x).map(|(w, v)| w * v).sum();
            net.w2()[m] * g.derivative(0, z)
        })
        .sum()
}

fn acts() -> Vec<Activation> {
    vec![
        Activation::Linear,
        Activation::Quadratic { epsilon: 0.7 },
        Activation::Erf,
        Activation::Tanh,
    ]
}

#[test]
fn students_compute_the_teacher_and_flat_directions_are_null() {
    for act in acts() {
        let t = sample_teacher(act.clone(), 3, 2, WeightDistribution::Normal, 9, 0).unwrap();
        for kind in Optimum::ALL {
            for extra in 0..=3 {
                if !kind.applies(&act, extra) {
                    assert!(widen(&t, 2 + extra, kind, 1).is_err());
                    continue;
                }
                let s = widen(&t, 2 + extra, kind, 1).unwrap();
                let net = &s.network;
                for i in 0..200 {
                    let x: Vec<f64> = (0..3)
                        .map(|n| ((i * 7 + n * 13) % 17) as f64 / 4.0 - 2.0)
                        .collect();
                    let (ys, yt) = (forward(net, &x), forward(&t, &x));
                    assert!(
                        (ys - yt).abs() <= 1e-13 * (1.0 + yt.abs()),
                        "{kind:?}: {ys} vs {yt}"
                    );
                }
                let d = net.dim();
                let h = hessian(net);
                let e = eig(&h, d);
                let lmax = e[d - 1];
                assert_eq!(
                    s.flat_directions.len(),
                    extra * if kind == Optimum::Zero { 3 } else { 4 }
                        / if matches!(kind, Optimum::Cancel | Optimum::Mirror) {
                            2
                        } else {
                            1
                        }
                );
                assert!(flat_residual(&h, d, lmax, &s.flat_directions) < 1e-13);
                // The check can fail: flip the sign of one entry of each direction that has two.
                let broken: Vec<Vec<f64>> = s
                    .flat_directions
                    .iter()
                    .filter(|v| v.iter().filter(|x| **x != 0.0).count() == 2)
                    .map(|v| {
                        let mut w = v.clone();
                        let i = w.iter().position(|x| *x != 0.0).unwrap();
                        w[i] = -w[i];
                        w
                    })
                    .collect();
                if !broken.is_empty() && !matches!(act, Activation::Linear) {
                    assert!(
                        flat_residual(&h, d, lmax, &broken) > 1e-6,
                        "{act:?} {kind:?}"
                    );
                }
            }
        }
    }
}

#[test]
fn certified_ranks_equal_the_derived_predictions() {
    use nearopt::certify::{certified_rank, RankOptions};
    for act in [
        Activation::Linear,
        Activation::Quadratic { epsilon: 0.7 },
        Activation::Erf,
    ] {
        for (ni, nh) in [(3, 2), (2, 3), (4, 1)] {
            let t = sample_teacher(act.clone(), ni, nh, WeightDistribution::Normal, 4, 1).unwrap();
            for kind in Optimum::ALL {
                for extra in 0..=4 {
                    if !kind.applies(&act, extra) {
                        continue;
                    }
                    let s = widen(&t, nh + extra, kind, 2).unwrap();
                    let c = certified_rank(
                        &s.network,
                        &RankOptions {
                            bound_kept: false,
                            ..RankOptions::default()
                        },
                    )
                    .unwrap();
                    assert!(
                        c.certified,
                        "{act:?} {ni}x{nh} {kind:?}+{extra}: {}",
                        c.note
                    );
                    let want = predicted_rank(&act, ni, nh, kind, nh + extra).unwrap();
                    assert_eq!(c.rank, want, "{act:?} {ni}x{nh} {kind:?}+{extra}");
                    if act == Activation::Erf {
                        assert_eq!(c.rank, s.network.dim() - s.flat_directions.len());
                    }
                }
            }
        }
    }
}

#[test]
fn nonzero_spectrum_is_the_scaled_reference_spectrum() {
    for act in acts() {
        let t = sample_teacher(act.clone(), 3, 2, WeightDistribution::Normal, 5, 0).unwrap();
        for kind in [Optimum::Split, Optimum::Cancel, Optimum::Mirror] {
            if !kind.applies(&act, 2) {
                continue;
            }
            let s = widen(&t, 4, kind, 3).unwrap();
            let (r, diag) = reference(&s, &t).unwrap();
            let d = s.network.dim();
            let e = eig(&hessian(&s.network), d);
            let hr = hessian(&r);
            let er = eig(&hr, r.dim());
            let rank = nearopt::spectrum::rank(&er, None).rank;
            let mu = scaled_spectrum(&hr, &diag, rank).unwrap();
            let lmax = e[d - 1];
            for (a, b) in e[d - rank..].iter().zip(&mu) {
                assert!(
                    (a - b).abs() <= 1e-12 * lmax,
                    "{act:?} {kind:?}: {a} vs {b}"
                );
            }
            // Everything below is the kernel.
            assert!(e[..d - rank].iter().all(|v| v.abs() <= 1e-13 * lmax));
            // The check can fail: without the scaling (d = 1) the spectra differ.
            let plain = scaled_spectrum(&hr, &vec![1.0; diag.len()], rank).unwrap();
            let dev = e[d - rank..]
                .iter()
                .zip(&plain)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f64::max);
            assert!(dev > 1e-6 * lmax, "{act:?} {kind:?}");
        }
    }
}

#[test]
fn exact_hessian_matches_the_sampled_hessian_with_its_functional_term() {
    let t = sample_teacher(Activation::Erf, 3, 2, WeightDistribution::Normal, 6, 0).unwrap();
    let s = widen(&t, 4, Optimum::Zero, 8).unwrap();
    let h = hessian(&s.network);
    // 64 batches: |t₆₃| > 6 has probability ~1e-7 per entry (256 entries).
    let z = monte_carlo_z(&h, &s.network, &t, 512, 64, 100).unwrap();
    assert!(z < 6.0, "z = {z}");
    // The functional term is not zero off the optimum: move an extra unit's output weight, so
    // E[J Jᵀ] (the Hessian "at its own optimum") is no longer the Hessian against the teacher.
    let mut a = s.network.w2().to_vec();
    a[2] = 0.8;
    let off = Network::new(Activation::Erf, 3, 4, s.network.w1().to_vec(), a).unwrap();
    let h_off = hessian(&off);
    let z_off = monte_carlo_z(&h_off, &off, &t, 512, 64, 100).unwrap();
    assert!(z_off > 20.0, "z_off = {z_off}");
    // And the sampled Hessian itself sees it: its mean differs from the JJᵀ-only estimate.
    let full = sampled_hessian(&off, &t, 4096, 7).unwrap();
    let outer = nearopt::hessian::sampled::sampled_outer_product(&off, 4096, 7).unwrap();
    let diff = full
        .as_slice()
        .iter()
        .zip(outer.as_slice())
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max);
    assert!(diff > 1e-3, "{diff}");
}

#[test]
fn refusals_and_determinism() {
    let t = sample_teacher(
        Activation::Quadratic { epsilon: 0.7 },
        3,
        2,
        WeightDistribution::Normal,
        5,
        0,
    )
    .unwrap();
    assert!(widen(&t, 1, Optimum::Zero, 1).is_err());
    assert!(widen(&t, 3, Optimum::Cancel, 1).is_err());
    assert!(widen(&t, 4, Optimum::Mirror, 1).is_err());
    assert!(Optimum::parse("nope").is_err());
    assert_eq!(Optimum::parse(" Split ").unwrap(), Optimum::Split);
    let biased = t.clone().with_biases(Some(vec![0.1, 0.2]), None).unwrap();
    assert!(widen(&biased, 3, Optimum::Zero, 1).is_err());
    assert_eq!(
        widen(&t, 5, Optimum::Split, 4).unwrap(),
        widen(&t, 5, Optimum::Split, 4).unwrap()
    );
    assert_ne!(
        widen(&t, 5, Optimum::Zero, 4).unwrap().network,
        widen(&t, 5, Optimum::Zero, 5).unwrap().network
    );
    // Split fractions sum to one: the output weights of the copies of unit j sum to a_j.
    let s = widen(&t, 6, Optimum::Split, 4).unwrap();
    for j in 0..2 {
        let sum: f64 = (0..6)
            .filter(|u| *u < 2 && *u == j || *u >= 2 && (*u - 2) % 2 == j)
            .map(|u| s.network.w2()[u])
            .sum();
        assert!((sum - t.w2()[j]).abs() <= 1e-15 * t.w2()[j].abs().max(1.0));
    }
}
