//! `nearopt::density::density_exact` beyond the bias-free optimum — with biases, and at students
//! (wider, other activation, kinked, biased) — against the dense matrix of the same Hessian
//! (`ExactHessian::dense`, assembled entry by entry, sharing no code with the block product or
//! the closed-form moments): `Tr H`, `Tr H² = ‖H‖_F²` to 1e-12 relative, the block product to
//! 1e-13, the top eigenvalues to 1e-10 of `max |λ|` with honest residual bounds, the SLQ trace
//! within 4 standard errors, and bit-identical results on 1 and 2 threads.

use nearopt::density::{density_exact, DensityOptions, ExactBlockOperator};
use nearopt::hessian::batched::BlockOperator;
use nearopt::hessian::ExactHessian;
use nearopt::spectrum::symmetric_eigenvalues;
use nearopt::teacher::{sample_teacher, WeightDistribution};
use nearopt::{Activation, Network};

fn net(act: Activation, ni: usize, nh: usize, seed: u64) -> Network {
    sample_teacher(act, ni, nh, WeightDistribution::Normal, seed, 0).unwrap()
}

/// A deterministic perturbation of every parameter by `scale · sin(...)`.
fn perturbed(n: &Network, scale: f64) -> Network {
    let p: Vec<f64> = n
        .params()
        .iter()
        .enumerate()
        .map(|(i, v)| v + scale * (1.7 * i as f64 + 0.3).sin())
        .collect();
    n.with_params(&p).unwrap()
}

fn biased(n: Network, b1: bool, b2: bool) -> Network {
    let nh = n.nh();
    n.with_biases(
        b1.then(|| (0..nh).map(|k| 0.3 * (k as f64 + 0.5).cos()).collect()),
        b2.then_some(-0.4),
    )
    .unwrap()
}

/// `(name, teacher, student)`.
fn cases() -> Vec<(&'static str, Network, Option<Network>)> {
    let erf = net(Activation::Erf, 3, 4, 11);
    let wide = {
        // A wider erf student: the teacher's units plus two more, perturbed.
        let t = net(Activation::Erf, 3, 6, 12);
        perturbed(&t, 0.2)
    };
    vec![
        ("erf b1+b2 optimum", biased(erf.clone(), true, true), None),
        (
            "quadratic b2 optimum",
            biased(
                net(Activation::Quadratic { epsilon: 0.7 }, 4, 3, 13),
                false,
                true,
            ),
            None,
        ),
        ("erf b1 optimum", biased(erf.clone(), true, false), None),
        ("erf student near", erf.clone(), Some(perturbed(&erf, 0.05))),
        ("erf wider student", erf.clone(), Some(wide)),
        (
            "tanh student, erf teacher, biases",
            biased(erf.clone(), true, true),
            Some(biased(
                perturbed(&net(Activation::Tanh, 3, 5, 14), 0.1),
                true,
                true,
            )),
        ),
        (
            "relu student, erf teacher, b1",
            erf.clone(),
            Some(biased(net(Activation::Relu, 3, 4, 15), true, false)),
        ),
        (
            "quadratic student far, b2",
            biased(
                net(Activation::Quadratic { epsilon: 1.0 }, 3, 3, 16),
                false,
                true,
            ),
            Some(biased(
                perturbed(&net(Activation::Quadratic { epsilon: 1.0 }, 3, 3, 16), 0.5),
                false,
                true,
            )),
        ),
    ]
}

fn opts(probes: usize, steps: usize, top: usize) -> DensityOptions {
    DensityOptions {
        probes,
        steps,
        top,
        top_tol: 1e-11,
        ..DensityOptions::default()
    }
}

#[test]
fn exact_moments_and_products_equal_the_dense_matrix() {
    for (name, t, s) in cases() {
        let h = ExactHessian::new(&t, s.as_ref()).unwrap();
        let dense = h.dense().unwrap();
        let d = dense.rows();
        let rows = s.as_ref().unwrap_or(&t);
        let tr: f64 = (0..d).map(|i| dense.get(i, i)).sum();
        let fro: f64 = dense.as_slice().iter().map(|v| v * v).sum();
        let scale = dense.as_slice().iter().map(|v| v.abs()).sum::<f64>();
        let est = density_exact(&t, s.as_ref(), &opts(4, 8, 0), &|_, _| {}).unwrap();
        let m = est.moments.expect("exact moments");
        assert_eq!(m.dimension, d, "{name}");
        // Sums of D² terms: 1e-12 of the absolute sum (the trace can cancel at a student).
        assert!(
            (m.trace - tr).abs() <= 1e-12 * scale,
            "{name}: trace {} vs dense {tr}",
            m.trace
        );
        assert!(
            (m.trace_squared - fro).abs() <= 1e-12 * fro,
            "{name}: Tr H² {} vs dense {fro}",
            m.trace_squared
        );
        // The block product, three columns at once, against the dense matrix.
        let op = ExactBlockOperator::new(&h, rows);
        let v: Vec<f64> = (0..3 * d)
            .map(|i| ((i * 7 % 11) as f64 - 5.0) / 5.0)
            .collect();
        let mut out = vec![0.0; 3 * d];
        op.apply_block(&v, &mut out);
        let amax = dense.as_slice().iter().fold(0.0f64, |a, x| a.max(x.abs()));
        for j in 0..3 {
            for i in 0..d {
                let want: f64 = (0..d).map(|k| dense.get(i, k) * v[j * d + k]).sum();
                assert!(
                    (out[j * d + i] - want).abs() <= 1e-13 * amax * d as f64,
                    "{name}: (H v_{j})[{i}] = {} vs dense {want}",
                    out[j * d + i]
                );
            }
        }
        // Can fail: an error of 1e-9 in the Frobenius sum would be visible.
        assert!((m.trace_squared - fro * (1.0 + 1e-9)).abs() > 1e-12 * fro);
    }
}

#[test]
fn top_eigenvalues_and_slq_trace_match_the_dense_spectrum() {
    for (name, t, s) in cases() {
        let h = ExactHessian::new(&t, s.as_ref()).unwrap();
        let ev = symmetric_eigenvalues(&h.dense().unwrap()).unwrap();
        let d = ev.len();
        let amax = ev.iter().fold(0.0f64, |a, x| a.max(x.abs()));
        let est = density_exact(&t, s.as_ref(), &opts(24, 10, 3), &|_, _| {}).unwrap();
        let top = est.top.as_ref().expect("top eigenvalues");
        for (i, (&v, &r)) in top.values.iter().zip(&top.residual_bounds).enumerate() {
            let want = ev[d - 1 - i];
            assert!(
                (v - want).abs() <= 1e-10 * amax,
                "{}", format!("{name}: λ_{} = {v} vs dense {want} (bound {r:e}, converged {:?}, all {:?}, dense top {:?})",
                i + 1,
                top.converged,
                top.values,
                &ev[d - 4..]
            ) + &format!(" products {} basis {} restarts {} thick {} exhausted {}", top.products, top.basis_size, top.restarts, top.thick_restarts, top.exhausted));
            // The residual bound is rigorous: some eigenvalue lies within it.
            let nearest = ev
                .iter()
                .map(|e| (e - v).abs())
                .fold(f64::INFINITY, f64::min);
            assert!(
                nearest <= r * (1.0 + 1e-6) + 1e-14 * amax,
                "{name}: bound {r:e} < {nearest:e}"
            );
        }
        // Hutchinson: the probes' mean of D xᵀHx/|x|² estimates Tr H; 4 standard errors.
        let (m, se) = est.slq_trace;
        let tr = est.moments.unwrap().trace;
        assert!(
            (m - tr).abs() <= 4.0 * se + 1e-12 * amax * d as f64,
            "{name}: SLQ trace {m} ± {se} vs exact {tr}"
        );
        // The SLQ measure has total weight 1.
        let w: f64 = est.weights.iter().sum();
        assert!((w - 1.0).abs() < 1e-12, "{name}: weights sum to {w}");
    }
}

#[test]
fn result_does_not_depend_on_the_thread_count() {
    let (_, t, s) = cases().into_iter().nth(5).unwrap();
    let run = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| density_exact(&t, s.as_ref(), &opts(6, 12, 2), &|_, _| {}).unwrap())
    };
    let (a, b) = (run(1), run(2));
    assert_eq!(a.nodes, b.nodes);
    assert_eq!(a.weights, b.weights);
    assert_eq!(a.top.unwrap().values, b.top.unwrap().values);
    assert_eq!(a.moments, b.moments);
}
