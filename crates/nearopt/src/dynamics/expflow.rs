//! Gradient flow near the optimum with a step not limited by stiffness: an exponential
//! integrator whose linear part is the exact Hessian at the optimum.
//!
//! Write `δ = θ − θ*` and `H* = V Λ Vᵀ` (eigendecomposition once, eigenvalues below the rank
//! tolerance set to 0). In the coordinates `u = Vᵀδ` the flow `dθ/dt = −∇L(θ)` is
//!
//! ```text
//! u' = −Λ u + N(u),   N(u) = Vᵀ(−∇L(θ* + V u)) + Λ u        (the nonlinear remainder, O(|δ|²))
//! ```
//!
//! with the exact gradient of [`PopulationLoss`]. The linear part is integrated exactly: each step
//! is the Cox–Matthews fourth-order exponential time-differencing scheme (ETDRK4; Cox & Matthews,
//! J. Comput. Phys. 176 (2002) 430), mode by mode with `z = −λ_i h`:
//!
//! ```text
//! a  = e^{z/2} u + (h/2) φ1(z/2) N(u)
//! b  = e^{z/2} u + (h/2) φ1(z/2) N(a)
//! c  = e^{z/2} a + (h/2) φ1(z/2) (2 N(b) − N(u))
//! u⁺ = e^{z} u + h [(φ1 − 3φ2 + 4φ3) N(u) + 2 (φ2 − 2φ3) (N(a) + N(b)) + (4φ3 − φ2) N(c)]
//! ```
//!
//! with `φ1(z) = (e^z − 1)/z`, `φ2 = (φ1 − 1)/z`, `φ3 = (φ2 − ½)/z` (Taylor series for |z| < 1).
//! The last line is the variation-of-constants integral of the quadratic through the stage
//! values of `N`, so `N ≡ 0` (a quadratic loss) is integrated exactly for any `h`, and modes with
//! `λ h ≫ 1` land on their slaved value `N/λ` instead of limiting the step.
//!
//! **Error control**: step doubling. One step of `h` and two of `h/2` give `u₁`, `u₂`; the
//! error of `u₂` is estimated as `e = (u₂ − u₁)/15` (fourth order) and the step accepted when
//! `√(eᵀΛe) ≤ rtol √(uᵀΛu)` (the loss norm, relative to the current loss) and
//! `|e| ≤ rtol |u|` (the symmetry directions, which cost no loss), as for the RK45 flow. The step
//! then grows or shrinks by `0.9 ratio^{−1/5}` (within `[0.2, 5]`). Cost: 11 gradients per
//! accepted step, plus two `D × D` products per gradient; near the optimum the step grows in
//! proportion to `t`, so reaching `t` takes `O(log(λ_max t))` steps instead of RK45's
//! `O(λ_max t)`.

use super::loss::PopulationLoss;
use crate::error::{Error, Result};
use crate::hessian::DenseMatrix;
use crate::spectrum::{default_rank_tolerance, symmetric_spectrum};

/// The Hessian at the optimum in its eigenbasis: the linear part of [`expflow`].
#[derive(Clone, Debug)]
pub struct EigenBasis {
    /// Eigenvalues (ascending), those at or below the rank tolerance set to 0.
    pub lambda: Vec<f64>,
    /// Unit eigenvectors as columns (row-major `D × D`).
    pub vectors: DenseMatrix,
}

impl EigenBasis {
    /// Diagonalises `h0`.
    pub fn new(h0: &DenseMatrix) -> Result<Self> {
        let s = symmetric_spectrum(h0, true)?;
        let tol = default_rank_tolerance(&s.eigenvalues);
        let lambda = s
            .eigenvalues
            .iter()
            .map(|&l| if l > tol { l } else { 0.0 })
            .collect();
        Ok(EigenBasis {
            lambda,
            vectors: s.eigenvectors.expect("vectors were asked for"),
        })
    }

    fn dim(&self) -> usize {
        self.lambda.len()
    }

    /// `δ = V u`.
    fn to_delta(&self, u: &[f64], delta: &mut [f64]) {
        self.vectors.matvec(u, delta);
    }

    /// `u = Vᵀ δ`.
    fn to_coords(&self, delta: &[f64], u: &mut [f64]) {
        u.iter_mut().for_each(|v| *v = 0.0);
        for (n, dn) in delta.iter().enumerate() {
            for (ui, v) in u.iter_mut().zip(self.vectors.row(n)) {
                *ui += v * dn;
            }
        }
    }
}

/// `(e^z, φ1(z), φ2(z), φ3(z))` for `z ≤ 0`.
pub fn phi(z: f64) -> (f64, f64, f64, f64) {
    if z.abs() < 1.0 {
        // φ_k(z) = Σ_j z^j / (j + k)!: 22 terms leave < 1e-21 at |z| = 1.
        let (mut p0, mut p1, mut p2, mut p3) = (0.0, 0.0, 0.0, 0.0);
        let mut term = 1.0; // z^j / j!
        for j in 0..22 {
            let jf = j as f64;
            p0 += term;
            p1 += term / (jf + 1.0);
            p2 += term / ((jf + 1.0) * (jf + 2.0));
            p3 += term / ((jf + 1.0) * (jf + 2.0) * (jf + 3.0));
            term *= z / (jf + 1.0);
        }
        (p0, p1, p2, p3)
    } else {
        let e = z.exp();
        let p1 = (e - 1.0) / z;
        let p2 = (p1 - 1.0) / z;
        let p3 = (p2 - 0.5) / z;
        (e, p1, p2, p3)
    }
}

/// Per-mode coefficients of one ETDRK4 step of size `h`.
struct Coeffs {
    e: Vec<f64>,
    e2: Vec<f64>,
    q: Vec<f64>,
    f1: Vec<f64>,
    f2: Vec<f64>,
    f3: Vec<f64>,
}

impl Coeffs {
    fn new(lambda: &[f64], h: f64) -> Self {
        let d = lambda.len();
        let mut c = Coeffs {
            e: vec![0.0; d],
            e2: vec![0.0; d],
            q: vec![0.0; d],
            f1: vec![0.0; d],
            f2: vec![0.0; d],
            f3: vec![0.0; d],
        };
        for (i, &l) in lambda.iter().enumerate() {
            let z = -l * h;
            let (e, p1, p2, p3) = phi(z);
            let (e2, q1, _, _) = phi(0.5 * z);
            c.e[i] = e;
            c.e2[i] = e2;
            c.q[i] = 0.5 * h * q1;
            c.f1[i] = h * (p1 - 3.0 * p2 + 4.0 * p3);
            c.f2[i] = h * 2.0 * (p2 - 2.0 * p3);
            c.f3[i] = h * (4.0 * p3 - p2);
        }
        c
    }
}

/// The remainder `N(u)` and the work buffers it needs.
struct Remainder<'a> {
    loss: &'a PopulationLoss,
    basis: &'a EigenBasis,
    star: &'a [f64],
    delta: Vec<f64>,
    theta: Vec<f64>,
    grad: Vec<f64>,
    evals: usize,
}

impl Remainder<'_> {
    fn eval(&mut self, u: &[f64], out: &mut [f64]) -> Result<()> {
        self.basis.to_delta(u, &mut self.delta);
        for ((t, s), d) in self.theta.iter_mut().zip(self.star).zip(&self.delta) {
            *t = s + d;
        }
        self.loss
            .loss_and_gradient(&self.theta, &mut self.grad)
            .map_err(|e| match e {
                Error::Invalid(_) => Error::Numerical(
                    "exponential flow left the finite range (non-finite parameters)".into(),
                ),
                other => other,
            })?;
        self.basis.to_coords(&self.grad, out);
        for ((o, l), ui) in out.iter_mut().zip(&self.basis.lambda).zip(u) {
            *o = -*o + l * ui;
        }
        self.evals += 1;
        Ok(())
    }

    fn theta_of(&mut self, u: &[f64]) -> Vec<f64> {
        self.basis.to_delta(u, &mut self.delta);
        self.star
            .iter()
            .zip(&self.delta)
            .map(|(s, d)| s + d)
            .collect()
    }
}

/// One ETDRK4 step from `u` (with `nu = N(u)`) into `out`.
fn step(
    r: &mut Remainder,
    c: &Coeffs,
    u: &[f64],
    nu: &[f64],
    out: &mut [f64],
    buf: &mut [Vec<f64>; 5],
) -> Result<()> {
    let d = u.len();
    let [a, na, b, nb, nc] = buf;
    for i in 0..d {
        a[i] = c.e2[i] * u[i] + c.q[i] * nu[i];
    }
    r.eval(a, na)?;
    for i in 0..d {
        b[i] = c.e2[i] * u[i] + c.q[i] * na[i];
    }
    r.eval(b, nb)?;
    // c-stage written into `b` (b is no longer needed).
    for i in 0..d {
        b[i] = c.e2[i] * a[i] + c.q[i] * (2.0 * nb[i] - nu[i]);
    }
    r.eval(b, nc)?;
    for i in 0..d {
        out[i] = c.e[i] * u[i] + c.f1[i] * nu[i] + c.f2[i] * (na[i] + nb[i]) + c.f3[i] * nc[i];
    }
    Ok(())
}

/// Counters of an [`expflow`] run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ExpFlowStats {
    /// Accepted steps.
    pub steps: usize,
    /// Rejected steps.
    pub rejected: usize,
    /// Gradient evaluations.
    pub gradients: usize,
}

/// Integrates `dθ/dt = −∇L(θ)` from `theta0` at t = 0 by the exponential integrator (module docs),
/// returning θ at each of the ascending `times`. Refuses runs needing more than `max_steps`
/// accepted + rejected steps.
pub fn expflow(
    loss: &PopulationLoss,
    basis: &EigenBasis,
    theta0: &[f64],
    times: &[f64],
    rtol: f64,
    max_steps: usize,
) -> Result<(Vec<Vec<f64>>, ExpFlowStats)> {
    let d = basis.dim();
    if theta0.len() != d || loss.dim() != d {
        return Err(Error::Shape(format!(
            "exponential flow: student has {} parameters, the Hessian {d}, the teacher {}",
            theta0.len(),
            loss.dim()
        )));
    }
    if !(rtol > 0.0 && rtol < 1.0) {
        return Err(Error::Invalid(format!(
            "flow rtol must be in (0, 1), got {rtol}"
        )));
    }
    let star = loss.teacher().params();
    let mut r = Remainder {
        loss,
        basis,
        star: &star,
        delta: vec![0.0; d],
        theta: vec![0.0; d],
        grad: vec![0.0; d],
        evals: 0,
    };
    let delta0: Vec<f64> = theta0.iter().zip(&star).map(|(a, b)| a - b).collect();
    let mut u = vec![0.0; d];
    basis.to_coords(&delta0, &mut u);
    let mut nu = vec![0.0; d];
    r.eval(&u, &mut nu)?;
    // Rounding floor of the gradient: its computed value at the optimum (exactly 0 in exact
    // arithmetic), doubled, spread evenly over the modes.
    let g_star = loss.gradient(&star)?;
    let g_noise = (2.0 * crate::gaussian::dot(&g_star, &g_star).sqrt() + 1e-16 * (d as f64).sqrt())
        / (d as f64).sqrt();
    let lmax = basis.lambda.iter().copied().fold(0.0, f64::max);
    let mut h = 0.1 / lmax.max(1e-300);
    let mut stats = ExpFlowStats::default();
    let mut t = 0.0;
    let mut out = Vec::with_capacity(times.len());
    let mut buf: [Vec<f64>; 5] = std::array::from_fn(|_| vec![0.0; d]);
    let (mut u1, mut um, mut num, mut u2) =
        (vec![0.0; d], vec![0.0; d], vec![0.0; d], vec![0.0; d]);
    for &target in times {
        while t < target {
            if stats.steps + stats.rejected >= max_steps {
                return Err(Error::Numerical(format!(
                    "exponential flow needed more than {max_steps} steps to reach t = {target:e} (reached t = {t:e}); loosen rtol or shorten t_max"
                )));
            }
            let last = target - t <= h * (1.0 + 1e-12);
            let hs = if last { target - t } else { h };
            let full = Coeffs::new(&basis.lambda, hs);
            let half = Coeffs::new(&basis.lambda, 0.5 * hs);
            step(&mut r, &full, &u, &nu, &mut u1, &mut buf)?;
            step(&mut r, &half, &u, &nu, &mut um, &mut buf)?;
            r.eval(&um, &mut num)?;
            step(&mut r, &half, &um, &num, &mut u2, &mut buf)?;
            let (mut e_h, mut d_h, mut e_2, mut d_2) = (0.0, 0.0, 0.0, 0.0);
            let (mut f_h, mut f_2) = (0.0, 0.0);
            for i in 0..d {
                let e = (u2[i] - u1[i]) / 15.0;
                let l = basis.lambda[i];
                e_h += l * e * e;
                d_h += l * u2[i] * u2[i];
                e_2 += e * e;
                d_2 += u2[i] * u2[i];
                // What the gradient's rounding alone moves mode i by in one step.
                let eta = g_noise * if l * hs > 1.0 { 1.0 / l } else { hs };
                f_h += l * eta * eta;
                f_2 += eta * eta;
            }
            let ratio = (e_h.sqrt() / (rtol * d_h.sqrt() + f_h.sqrt() + 1e-300))
                .max(e_2.sqrt() / (rtol * d_2.sqrt() + f_2.sqrt() + 1e-300));
            if !ratio.is_finite() {
                return Err(Error::Numerical(format!(
                    "exponential flow error estimate not finite at t = {t:e}"
                )));
            }
            if ratio <= 1.0 || e_2 == 0.0 {
                t = if last { target } else { t + hs };
                std::mem::swap(&mut u, &mut u2);
                r.eval(&u, &mut nu)?;
                stats.steps += 1;
            } else {
                stats.rejected += 1;
            }
            let fac = if ratio > 0.0 {
                0.9 * ratio.powf(-0.2)
            } else {
                5.0
            };
            if !last || ratio > 1.0 {
                h = hs * fac.clamp(0.2, 5.0);
            }
        }
        out.push(r.theta_of(&u));
    }
    stats.gradients = r.evals;
    Ok((out, stats))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phi_functions_match_their_definitions_on_both_branches() {
        for z in [-1e-8, -0.3, -0.999, -1.0, -1.5, -7.0, -300.0] {
            let (e, p1, p2, p3) = phi(z);
            // Direct formulas in high-cancellation-free form where |z| is large enough.
            let ez = z.exp();
            assert!((e - ez).abs() <= 1e-15 * ez.max(1e-300));
            if z.abs() >= 0.3 {
                let d1 = (ez - 1.0) / z;
                let d2 = (ez - 1.0 - z) / (z * z);
                let d3 = (ez - 1.0 - z - 0.5 * z * z) / (z * z * z);
                assert!((p1 - d1).abs() < 1e-14 * d1.abs(), "{z}");
                assert!((p2 - d2).abs() < 1e-13 * d2.abs(), "{z}");
                assert!((p3 - d3).abs() < 1e-12 * d3.abs(), "{z}");
            } else {
                assert!((p1 - 1.0).abs() < 1e-7 && (p2 - 0.5).abs() < 1e-7);
                assert!((p3 - 1.0 / 6.0).abs() < 1e-7);
            }
        }
        // Continuity across the branch switch at |z| = 1 (points 2e-12 apart, |φ_k'| ≤ 1).
        let (a, b) = (phi(-1.0 + 1e-12), phi(-1.0 - 1e-12));
        for (x, y) in [(a.0, b.0), (a.1, b.1), (a.2, b.2), (a.3, b.3)] {
            assert!((x - y).abs() < 1e-11, "{a:?} vs {b:?}");
        }
    }
}
