//! The exact population Hessian at a student (`StudentHessian`, `ExactHessian`) against
//! independent routes:
//!
//! 1. **Finite differences of the exact population gradient** (`PopulationLoss`, which shares no
//!    code with the functional term: it integrates the pair moments `K00, K20, K11` of
//!    `ActivationFn::moments`), same widths and activation, with and without biases. Central
//!    differences with `h = 1e-4`: truncation `h²/6 |∂⁴L| ≈ 2e-9`, rounding and quadrature noise
//!    `≈ 1e-13 / h = 1e-9` (the gradient's moments are held to ~1e-11 of their mass and usually
//!    far better); tolerance `2e-7 · max|H|`, the worst deviation printed.
//! 2. **Monte Carlo** (`sampled_hessian`, Eqs. 3–5 on Gaussian inputs, functional term included)
//!    for different widths, activations (kinked ones too) and biases on one side: `B = 40`
//!    independent batches (seeds `1..=B`) of `n` inputs; per entry the mean of the batch
//!    estimates and its standard error `sd / √B` (`sd` the sample standard deviation over
//!    batches). Every entry must lie within 5 standard errors (with 39 degrees of freedom a
//!    false alarm has probability ≈ 1e-5 per entry, ≈ 1e-3 over the ~150 entries; the draws are
//!    seeded, so the outcome is fixed). Entries that are exact in every batch (SE 0, e.g. the
//!    `b2–b2` entry) must agree to 1e-12. The Gauss–Newton term alone must fail the same test
//!    (the check can fail). For kinked students the Dirac part of `g''`, which sampling never
//!    hits, is estimated by a Stein identity that needs only `g'` ([`kink_part`]).
//! 3. Structural: student = teacher gives `PopulationHessian` bit for bit; at an optimum reached
//!    by a wider student the functional term vanishes; matrix-free products equal the dense
//!    matrix; 1 and 2 threads give identical results.

#![allow(clippy::needless_range_loop)]

use nearopt::dynamics::train::initial_noise;
use nearopt::dynamics::PopulationLoss;
use nearopt::hessian::sampled::{gaussian_inputs, sampled_hessian};
use nearopt::hessian::{DenseMatrix, ExactHessian, HessianOperator, StudentHessian};
use nearopt::students::{widen, Optimum};
use nearopt::teacher::{sample_teacher, WeightDistribution};
use nearopt::{Activation, Network, PopulationHessian};

/// A random network with the biases asked for (drawn `N(0, 0.3²)`).
fn net(act: Activation, ni: usize, nh: usize, b1: bool, b2: bool, seed: u64) -> Network {
    let t = sample_teacher(act, ni, nh, WeightDistribution::Normal, seed, 0).unwrap();
    let noise = initial_noise(nh + 1, 0.3, seed, 7);
    let b1 = b1.then(|| noise[..nh].to_vec());
    let b2 = b2.then_some(noise[nh]);
    t.with_biases(b1, b2).unwrap()
}

/// `theta + N(0, scale²)` noise.
fn perturbed(n: &Network, scale: f64, seed: u64) -> Network {
    let theta = n.params();
    let noise = initial_noise(theta.len(), scale, seed, 3);
    let p: Vec<f64> = theta.iter().zip(noise).map(|(a, b)| a + b).collect();
    n.with_params(&p).unwrap()
}

fn max_abs(h: &DenseMatrix) -> f64 {
    h.as_slice().iter().fold(0.0f64, |m, v| m.max(v.abs()))
}

/// Central differences of the exact population gradient, symmetrised.
fn fd_hessian(loss: &PopulationLoss, theta: &[f64], h: f64) -> DenseMatrix {
    let d = theta.len();
    let cols: Vec<Vec<f64>> = (0..d)
        .map(|j| {
            let mut p = theta.to_vec();
            p[j] += h;
            let gp = loss.gradient(&p).unwrap();
            p[j] = theta[j] - h;
            let gm = loss.gradient(&p).unwrap();
            gp.iter()
                .zip(&gm)
                .map(|(a, b)| (a - b) / (2.0 * h))
                .collect()
        })
        .collect();
    let mut m = DenseMatrix::zeros(d, d);
    for i in 0..d {
        for j in 0..d {
            m.set(i, j, 0.5 * (cols[j][i] + cols[i][j]));
        }
    }
    m
}

#[test]
fn matches_finite_differences_of_the_exact_gradient() {
    let acts = [
        Activation::Erf,
        Activation::Tanh,
        Activation::Quadratic { epsilon: 0.6 },
        Activation::Relu,
        Activation::LeakyRelu { slope: 0.2 },
        Activation::Gelu,
    ];
    for act in acts {
        for (b1, b2) in [(false, false), (true, true)] {
            let teacher = net(act.clone(), 3, 2, b1, b2, 21);
            let student = perturbed(&teacher, 0.4, 5);
            let exact = StudentHessian::new(&teacher, &student)
                .unwrap()
                .dense()
                .unwrap();
            let fd = fd_hessian(&PopulationLoss::new(&teacher), &student.params(), 1e-4);
            let scale = max_abs(&exact);
            let dev = exact
                .as_slice()
                .iter()
                .zip(fd.as_slice())
                .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
            // The functional term must matter at this point, or the test proves nothing.
            let gn = StudentHessian::new(&teacher, &student)
                .unwrap()
                .gauss_newton()
                .dense()
                .unwrap();
            let func = exact
                .as_slice()
                .iter()
                .zip(gn.as_slice())
                .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
            println!(
                "{} b1={b1} b2={b2}: max|H| {scale:.3e}, max|functional| {func:.3e}, \
                 FD deviation {:.2e} relative",
                act.name(),
                dev / scale
            );
            assert!(func > 1e-2 * scale, "{act:?}: functional term too small");
            assert!(
                dev < 2e-7 * scale,
                "{act:?} b1={b1} b2={b2}: deviation {dev:e} (max|H| {scale:e})"
            );
        }
    }
}

/// For a kinked student `sampled_hessian` sees `g'' = 0` almost everywhere and misses the
/// Dirac part of `E[r g''(z_m) ·]`. This adds an unbiased estimate of that part computed with
/// `g'` only: Stein's identity along `v = s_m/|s_m|²` (`v·∇ g'(z_m) = g''(z_m)`) gives
/// `E[g''(z_m) H] = E[g'(z_m) (H t_m/|s_m|² − v·∇H)]` for `H = r x xᵀ, r x, r`, with
/// `v·∇r = Σ_u κ_u f_u'(z_u) (w_u·s_m)/|s_m|²`. Returns the `D × D` increment (row-major).
fn kink_part(student: &Network, teacher: &Network, x: &[f64]) -> Vec<f64> {
    let (ni, nh, l) = (student.ni(), student.nh(), student.layout());
    let d = l.dim();
    let g = student.activation().function();
    let h = teacher.activation().function();
    let n = x.len() / ni;
    let mut acc = vec![0.0; d * d];
    let dotp = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(p, q)| p * q).sum::<f64>();
    for xi in x.chunks(ni) {
        let r = student.output(xi) - teacher.output(xi);
        for m in 0..nh {
            let s = student.w1_row(m);
            let q = dotp(s, s);
            let t1 = dotp(s, xi);
            let gp = g.derivative(1, t1 + student.hidden_bias(m));
            let mut rs = 0.0;
            for k in 0..nh {
                let z = student.preactivation(k, xi);
                rs += student.w2()[k] * g.derivative(1, z) * dotp(student.w1_row(k), s) / q;
            }
            for j in 0..teacher.nh() {
                let z = teacher.preactivation(j, xi);
                rs -= teacher.w2()[j] * h.derivative(1, z) * dotp(teacher.w1_row(j), s) / q;
            }
            let am = student.w2()[m];
            let c = am * gp * (r * t1 / q - rs);
            let cr = am * gp * r / q;
            for a in 0..ni {
                let i = l.w1(m, a);
                for b in 0..ni {
                    acc[i * d + l.w1(m, b)] +=
                        c * xi[a] * xi[b] - cr * (s[a] * xi[b] + xi[a] * s[b]);
                }
                if let Some(j) = l.b1(m) {
                    let v = c * xi[a] - cr * s[a];
                    acc[i * d + j] += v;
                    acc[j * d + i] += v;
                }
            }
            if let Some(j) = l.b1(m) {
                acc[j * d + j] += c;
            }
        }
    }
    acc.iter_mut().for_each(|v| *v /= n as f64);
    acc
}

/// Mean and standard error per entry of `batches` sampled Hessians of `n` inputs each (seeds
/// `1..=batches`), with [`kink_part`] added for kinked students.
fn monte_carlo(
    student: &Network,
    teacher: &Network,
    n: usize,
    batches: u64,
) -> (Vec<f64>, Vec<f64>) {
    let d = student.dim();
    let kinked = !student.activation().function().kinks().is_empty();
    let mut sum = vec![0.0; d * d];
    let mut sq = vec![0.0; d * d];
    for seed in 1..=batches {
        let mut h = sampled_hessian(student, teacher, n, seed)
            .unwrap()
            .into_vec();
        if kinked {
            let x = gaussian_inputs(student.ni(), seed, 0, n);
            for (a, b) in h.iter_mut().zip(kink_part(student, teacher, &x)) {
                *a += b;
            }
        }
        for (i, v) in h.iter().enumerate() {
            sum[i] += v;
            sq[i] += v * v;
        }
    }
    let b = batches as f64;
    let mean: Vec<f64> = sum.iter().map(|s| s / b).collect();
    let se = sq
        .iter()
        .zip(&mean)
        .map(|(q, m)| ((q / b - m * m).max(0.0) * b / (b - 1.0) / b).sqrt())
        .collect();
    (mean, se)
}

/// `max |exact − mean| / SE` over entries with SE > 0, and the largest deviation where SE = 0.
fn worst_z(exact: &DenseMatrix, mean: &[f64], se: &[f64]) -> (f64, f64) {
    let mut z = 0.0f64;
    let mut exact_dev = 0.0f64;
    for ((e, m), s) in exact.as_slice().iter().zip(mean).zip(se) {
        if *s > 1e-14 * (1.0 + m.abs()) {
            z = z.max((e - m).abs() / s);
        } else {
            exact_dev = exact_dev.max((e - m).abs());
        }
    }
    (z, exact_dev)
}

#[test]
fn matches_monte_carlo_for_other_widths_activations_and_biases() {
    // (teacher, student): widths differ, activations differ, biases on one side only.
    let cases = [
        (
            net(Activation::Erf, 3, 2, false, false, 31),
            net(Activation::Tanh, 3, 3, true, true, 32),
        ),
        (
            net(Activation::Relu, 3, 3, true, false, 33),
            net(Activation::Erf, 3, 2, false, false, 34),
        ),
        (
            net(Activation::Tanh, 3, 2, false, true, 35),
            net(Activation::Relu, 3, 3, true, false, 36),
        ),
        (
            net(Activation::Erf, 3, 2, true, true, 37),
            net(Activation::LeakyRelu { slope: 0.1 }, 3, 2, false, false, 38),
        ),
        (
            net(Activation::Sigmoid, 3, 3, false, false, 39),
            net(Activation::Gelu, 3, 2, false, true, 40),
        ),
    ];
    for (teacher, student) in &cases {
        let h = StudentHessian::new(teacher, student).unwrap();
        let exact = h.dense().unwrap();
        let (mean, se) = monte_carlo(student, teacher, 5000, 40);
        let (z, exact_dev) = worst_z(&exact, &mean, &se);
        let gn = h.gauss_newton().dense().unwrap();
        let (z_gn, _) = worst_z(&gn, &mean, &se);
        println!(
            "teacher {} (Nh {}), student {} (Nh {}, D {}): max |z| = {z:.2}, \
             Gauss–Newton alone {z_gn:.1}",
            teacher.activation().name(),
            teacher.nh(),
            student.activation().name(),
            student.nh(),
            student.dim()
        );
        assert!(z < 5.0, "max |z| = {z}");
        assert!(
            exact_dev < 1e-12,
            "entries without sampling noise differ by {exact_dev}"
        );
        // The wrong variant (functional term left out) must be caught.
        assert!(
            z_gn > 10.0,
            "the test cannot tell the Gauss–Newton term alone: {z_gn}"
        );
    }
}

#[test]
fn student_equal_to_teacher_gives_the_optimum_bit_for_bit() {
    for act in [Activation::Erf, Activation::Tanh, Activation::Relu] {
        for (b1, b2) in [(false, false), (true, false), (false, true), (true, true)] {
            let t = net(act.clone(), 3, 3, b1, b2, 41);
            let at_opt = PopulationHessian::try_at_optimum(&t)
                .unwrap()
                .dense()
                .unwrap();
            let s = StudentHessian::new(&t, &t).unwrap();
            assert!(s.functional().is_zero());
            assert_eq!(s.dense().unwrap(), at_opt);
            let e = ExactHessian::new(&t, Some(&t)).unwrap().dense().unwrap();
            assert_eq!(e, at_opt);
            let e0 = ExactHessian::new(&t, None).unwrap().dense().unwrap();
            assert_eq!(e0, at_opt);
        }
    }
}

#[test]
fn functional_term_vanishes_at_wider_optima() {
    for act in [Activation::Erf, Activation::Tanh] {
        let teacher = net(act.clone(), 3, 2, false, false, 51);
        for optimum in [
            Optimum::Zero,
            Optimum::Split,
            Optimum::Cancel,
            Optimum::Mirror,
        ] {
            let wide = widen(&teacher, 4, optimum, 9).unwrap().network;
            let h = StudentHessian::new(&teacher, &wide).unwrap();
            let full = h.dense().unwrap();
            let gn = h.gauss_newton().dense().unwrap();
            let dev = full
                .as_slice()
                .iter()
                .zip(gn.as_slice())
                .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
            println!("{} {optimum:?}: max|H − GN| = {dev:e}", act.name());
            assert!(dev <= 1e-13 * max_abs(&gn), "{act:?} {optimum:?}: {dev:e}");
            // Away from it (a perturbed wide student) it does not vanish.
            let off = perturbed(&wide, 0.2, 3);
            let h = StudentHessian::new(&teacher, &off).unwrap();
            assert!(!h.functional().is_zero());
        }
    }
}

#[test]
fn matrix_free_products_equal_the_dense_matrix() {
    let teacher = net(Activation::Relu, 4, 3, true, false, 61);
    for student in [
        net(Activation::Tanh, 4, 5, true, true, 62),
        net(Activation::Erf, 4, 2, false, false, 63),
        net(Activation::Relu, 4, 3, true, true, 64),
    ] {
        let h = ExactHessian::new(&teacher, Some(&student)).unwrap();
        let dense = h.dense().unwrap();
        let d = h.dim();
        for k in 0..3 {
            let v = initial_noise(d, 1.0, 70 + k, 0);
            let mut out = vec![0.0; d];
            h.matvec(&v, &mut out);
            let mut want = vec![0.0; d];
            dense.matvec(&v, &mut want);
            let scale = want.iter().fold(0.0f64, |m, x| m.max(x.abs()));
            let dev = out
                .iter()
                .zip(&want)
                .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
            assert!(dev <= 1e-13 * scale, "deviation {dev:e} of {scale:e}");
        }
        let asym = dense.asymmetry();
        assert!(asym <= 1e-14 * max_abs(&dense), "asymmetry {asym:e}");
    }
}

#[test]
fn identical_for_one_and_two_threads() {
    let teacher = net(Activation::Erf, 3, 3, true, true, 81);
    let student = net(Activation::Tanh, 3, 4, true, false, 82);
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let h = ExactHessian::new(&teacher, Some(&student)).unwrap();
            let v = initial_noise(h.dim(), 1.0, 5, 0);
            let mut out = vec![0.0; h.dim()];
            h.matvec(&v, &mut out);
            (h.dense().unwrap(), out)
        })
    };
    assert_eq!(run(1), run(2));
}

#[test]
fn errors_name_what_is_wrong() {
    let teacher = net(Activation::Erf, 3, 2, false, false, 91);
    let student = net(Activation::Erf, 4, 2, false, false, 92);
    let e = StudentHessian::new(&teacher, &student)
        .unwrap_err()
        .to_string();
    assert!(e.contains("Ni = 4") && e.contains("Ni = 3"), "{e}");
    let e = ExactHessian::new(&teacher, Some(&student))
        .unwrap_err()
        .to_string();
    assert!(e.contains("Ni = 4"), "{e}");
}

/// Along a trajectory (students close to the teacher, where the functional term is a small
/// difference of teacher and student parts) the exact route of `population_hessian_at` agrees
/// with the finite-difference oracle (step 1e-5: error ≈ 1e-10 plus quadrature noise / h).
#[test]
fn trajectory_hessian_is_exact_and_agrees_with_finite_differences() {
    use nearopt::dynamics::trajectory::{finite_difference_hessian_at, population_hessian_at};
    for act in [Activation::Erf, Activation::Tanh] {
        let teacher = net(act.clone(), 3, 2, false, false, 71);
        let loss = PopulationLoss::new(&teacher);
        for scale in [1e-1, 1e-3] {
            let theta = perturbed(&teacher, scale, 4).params();
            let exact = population_hessian_at(&loss, &theta).unwrap();
            let fd = finite_difference_hessian_at(&loss, &theta).unwrap();
            let dev = exact
                .as_slice()
                .iter()
                .zip(fd.as_slice())
                .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
            println!("{} σ = {scale:e}: exact vs FD {dev:.2e}", act.name());
            assert!(dev < 1e-7 * max_abs(&exact), "{act:?} {scale}: {dev:e}");
        }
    }
}
