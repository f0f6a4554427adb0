//! The fast routes of the cross moments at a student (`activation::cross`: exact Wick sums for
//! polynomial pairs, checked tensor Gauss–Hermite rules for smooth pairs) against the general
//! nested adaptive route (`adaptive_cross_moments`, which shares no code with either), on pairs
//! of every activation kind: random rows, with and without biases, nearly parallel and exactly
//! parallel rows, large and small weights.
//!
//! Tolerance: both routes hold each component `E[G_a(z1) F_b(z2)]` to `1e-11` of its `L¹` mass
//! `E|G_a F_b|`, which Cauchy–Schwarz bounds by `σ_k = √(E[G_a²] E[F_b²])` (1-D expectations,
//! computed here by a 192-node Gauss–Hermite rule: only a scale). Every component must agree to
//! `3e-11 σ_k`; the worst ratio is printed (typically ~1e-13). Checks that the comparison can
//! fail: a polynomial whose coefficient is moved by `1e-7`, and a smooth pair whose bias is moved
//! by `1e-7`, must both be caught.

use nearopt::activation::cross::{
    adaptive_cross_moments, cross_moments_with_route, CrossMoments, CrossRoute,
};
use nearopt::activation::{
    ActivationFn, Erf, Gauss2, Gelu, Linear, Polynomial, Quadratic, Relu, Sigmoid, Silu, Softplus,
    Tanh,
};
use nearopt::gaussian::HermiteRule;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const TOL: f64 = 3e-11;

fn activations() -> Vec<(&'static str, Box<dyn ActivationFn>)> {
    vec![
        ("linear", Box::new(Linear)),
        ("quadratic", Box::new(Quadratic { epsilon: 0.6 })),
        (
            "polynomial",
            Box::new(Polynomial::new(vec![0.1, 1.0, -0.3, 0.2, 0.05])),
        ),
        ("erf", Box::new(Erf)),
        ("tanh", Box::new(Tanh)),
        ("gelu", Box::new(Gelu)),
        ("silu", Box::new(Silu)),
        ("softplus", Box::new(Softplus)),
        ("sigmoid", Box::new(Sigmoid)),
    ]
}

/// `E[h(μ + √q ξ)²]` for the 1-D functions `h`, by a 192-node rule.
fn second_moments(mu: f64, q: f64, h: &dyn Fn(f64) -> [f64; 5]) -> [f64; 5] {
    let rule = HermiteRule::cached(192);
    let mut out = [0.0; 5];
    for (x, w) in rule.nodes.iter().zip(&rule.weights) {
        let v = h(mu + q.sqrt() * x);
        for k in 0..5 {
            out[k] += w * v[k] * v[k];
        }
    }
    out
}

/// `σ_k` of the module docs for the components in `CrossMoments::components` order.
fn scales(g: &dyn ActivationFn, f: &dyn ActivationFn, gauss: Gauss2) -> [f64; 9] {
    let [mu1, mu2] = gauss.mean;
    let gm = second_moments(mu1, gauss.cov.q1, &|z| {
        let (d, t) = (g.derivatives(z), z - mu1);
        [d[2], d[2] * t, d[2] * t * t, d[1], d[1] * t]
    });
    let fm = second_moments(mu2, gauss.cov.q2, &|z| {
        let d = f.derivatives(z);
        [d[0], d[1], d[2], 0.0, 0.0]
    });
    // (a, b) per component: a0, a11, a12, a22, b0, b1, b2, c1, c2.
    let ab = [
        (0, 0),
        (2, 0),
        (1, 1),
        (0, 2),
        (3, 0),
        (4, 0),
        (3, 1),
        (1, 0),
        (0, 1),
    ];
    ab.map(|(a, b)| (gm[a] * fm[b]).sqrt())
}

/// The worst `|x − y| / σ_k` over the components.
fn worst_ratio(x: &CrossMoments, y: &CrossMoments, sigma: &[f64; 9]) -> (f64, usize) {
    let (x, y) = (x.components(), y.components());
    let mut worst = (0.0, 0);
    for k in 0..9 {
        let d = (x[k] - y[k]).abs();
        let r = if d == 0.0 { 0.0 } else { d / sigma[k] };
        if r > worst.0 || r.is_nan() {
            worst = (r, k);
        }
    }
    worst
}

fn random_row(rng: &mut ChaCha8Rng, n: usize, scale: f64) -> Vec<f64> {
    (0..n)
        .map(|_| scale * (rng.random::<f64>() * 2.0 - 1.0))
        .collect()
}

/// One geometry: (label, s, μ1, w, μ2).
type Geometry = (String, Vec<f64>, f64, Vec<f64>, f64);

/// The geometries tried.
fn geometries() -> Vec<Geometry> {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let mut out = Vec::new();
    for rep in 0..2 {
        let s = random_row(&mut rng, 4, 0.8);
        let w = random_row(&mut rng, 4, 0.8);
        out.push((format!("random {rep}"), s.clone(), 0.0, w.clone(), 0.0));
        let (m1, m2) = (rng.random::<f64>() - 0.5, 1.2 * (rng.random::<f64>() - 0.5));
        out.push((format!("random biased {rep}"), s, m1, w, m2));
    }
    let s = random_row(&mut rng, 4, 0.7);
    let noise = random_row(&mut rng, 4, 1e-5);
    let near: Vec<f64> = s.iter().zip(&noise).map(|(a, e)| -0.8 * a + e).collect();
    out.push(("nearly parallel".into(), s.clone(), 0.2, near, -0.3));
    out.push(("identical".into(), s.clone(), 0.3, s.clone(), 0.3));
    let opp: Vec<f64> = s.iter().map(|a| -1.5 * a).collect();
    out.push(("exactly parallel".into(), s.clone(), -0.1, opp, 0.4));
    let big_s: Vec<f64> = s.iter().map(|a| 6.0 * a).collect();
    let big_w = random_row(&mut rng, 4, 4.0);
    out.push(("large weights".into(), big_s, 0.5, big_w, -1.0));
    let small_s: Vec<f64> = s.iter().map(|a| 0.02 * a).collect();
    let small_w = random_row(&mut rng, 4, 0.03);
    out.push(("small weights".into(), small_s, 0.3, small_w, -0.2));
    out
}

#[test]
fn fast_routes_agree_with_adaptive_quadrature() {
    let acts = activations();
    let mut worst = (0.0, String::new());
    let mut fast = 0;
    for (label, s, m1, w, m2) in geometries() {
        let gauss = Gauss2::of(&s, m1, &w, m2);
        for (gn, g) in &acts {
            for (fname, f) in &acts {
                let (got, route) = cross_moments_with_route(g.as_ref(), f.as_ref(), gauss).unwrap();
                if route == CrossRoute::Adaptive {
                    continue;
                }
                fast += (route == CrossRoute::Fast) as usize;
                let want = adaptive_cross_moments(g.as_ref(), f.as_ref(), gauss).unwrap();
                let sigma = scales(g.as_ref(), f.as_ref(), gauss);
                let (r, k) = worst_ratio(&got, &want, &sigma);
                let what = format!(
                    "{label}, g = {gn}, f = {fname}, {route:?}: {} = {:e} vs adaptive {:e}",
                    CrossMoments::component_name(k),
                    got.components()[k],
                    want.components()[k]
                );
                assert!(r <= TOL, "{what}: |Δ|/σ = {r:e}");
                if r > worst.0 {
                    worst = (r, what);
                }
            }
        }
    }
    eprintln!(
        "worst |Δ|/σ = {:e} ({}); {fast} pairs on the fast rule",
        worst.0, worst.1
    );
}

/// Which pairs take which route: polynomial pairs are exact, smooth pairs with weights of order
/// one take the checked Gauss–Hermite rules (the speed-up), kinked activations and weights too
/// large for the rules stay on the adaptive route.
#[test]
fn routes_are_the_expected_ones() {
    let gauss = Gauss2::of(&[0.5, -0.3, 0.2], 0.1, &[0.1, 0.6, -0.4], -0.2);
    let route =
        |g: &dyn ActivationFn, f: &dyn ActivationFn, gauss| cross_moments_with_route(g, f, gauss);
    let q = Quadratic { epsilon: 0.3 };
    assert_eq!(route(&q, &Linear, gauss).unwrap().1, CrossRoute::Closed);
    for f in [
        &Erf as &dyn ActivationFn,
        &Tanh,
        &Gelu,
        &Silu,
        &Softplus,
        &Sigmoid,
        &q,
    ] {
        assert_eq!(route(&Tanh, f, gauss).unwrap().1, CrossRoute::Fast);
        assert_eq!(route(f, &Erf, gauss).unwrap().1, CrossRoute::Fast);
    }
    assert_eq!(route(&Relu, &Erf, gauss).unwrap().1, CrossRoute::Adaptive);
    assert_eq!(route(&Erf, &Relu, gauss).unwrap().1, CrossRoute::Adaptive);
    let big = Gauss2::of(&[5.0, -3.0, 2.0], 0.1, &[1.0, 6.0, -4.0], -0.2);
    assert_eq!(route(&Tanh, &Erf, big).unwrap().1, CrossRoute::Adaptive);
}

/// The comparison catches a wrong closed form (one coefficient moved by 1e-7) and a wrong fast
/// rule (the bias moved by 1e-7).
#[test]
fn the_comparison_can_fail() {
    let gauss = Gauss2::of(&[0.5, -0.3, 0.2], 0.1, &[0.1, 0.6, -0.4], -0.2);
    let coef = vec![0.1, 1.0, -0.3, 0.2];
    let p = Polynomial::new(coef.clone());
    let mut moved = coef;
    moved[2] += 1e-7;
    let p_moved = Polynomial::new(moved);
    let (got, route) = cross_moments_with_route(&p_moved, &Tanh, gauss).unwrap();
    assert_eq!(route, CrossRoute::Fast);
    let want = adaptive_cross_moments(&p, &Tanh, gauss).unwrap();
    let (r, _) = worst_ratio(&got, &want, &scales(&p, &Tanh, gauss));
    assert!(r > 100.0 * TOL, "a moved coefficient went unnoticed: {r:e}");
    let (got, route) = cross_moments_with_route(&p_moved, &Linear, gauss).unwrap();
    assert_eq!(route, CrossRoute::Closed);
    let want = adaptive_cross_moments(&p, &Linear, gauss).unwrap();
    let (r, _) = worst_ratio(&got, &want, &scales(&p, &Linear, gauss));
    assert!(r > 100.0 * TOL, "a moved coefficient went unnoticed: {r:e}");
    let mut shifted = gauss;
    shifted.mean[0] += 1e-7;
    let (got, route) = cross_moments_with_route(&Erf, &Tanh, shifted).unwrap();
    assert_eq!(route, CrossRoute::Fast);
    let want = adaptive_cross_moments(&Erf, &Tanh, gauss).unwrap();
    let (r, _) = worst_ratio(&got, &want, &scales(&Erf, &Tanh, gauss));
    assert!(r > 100.0 * TOL, "a moved bias went unnoticed: {r:e}");
}
