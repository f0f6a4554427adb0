//! The population loss near the optimum without the cancellation floor of the pair-moment sum.
//!
//! [`PopulationLoss::loss`] subtracts O(1) sums to get `L = O(|δθ|²)`, so its absolute rounding
//! error is ~1e-15 whatever `L` is. Figure 3 follows the loss for 10/λ_min and beyond, down to
//! 1e-20 and below, so here:
//!
//! * **linear** (bias-free): `L = ½ |W1ᵀW2 − Ŵ1ᵀŴ2|²` (done by [`PopulationLoss::loss`] itself);
//! * **quadratic** `g(z) = z + ε z²` (bias-free): the network is `x ↦ wᵀx + ε xᵀMx` with
//!   `w = Σ_m a_m s_m`, `M = Σ_m a_m s_m s_mᵀ`, so with `Δw`, `ΔM` the differences from the
//!   teacher's, `L = ½ (|Δw|² + ε² (2 tr ΔM² + (tr ΔM)²))` (`E[(xᵀAx)²] = 2 tr A² + (tr A)²`,
//!   the odd moment `E[Δwᵀx xᵀΔMx]` vanishes). Rounding: ~1e-16 × |ΔM|, i.e. relative, no floor.
//!   Cost `O(Nh Ni²)`.
//! * **any other activation**, for `max|δθ| ≤` [`RAY_MAX`]: `L(θ* + δ) = ∫₀¹ ∇L(θ* + sδ)·δ ds`
//!   (`L(θ*) = 0`), by Gauss–Legendre with [`RAY_NODES`] nodes. The gradient's absolute rounding
//!   (~1e-16 × Σ|terms|) enters multiplied by `|δ|`, so the floor falls with the loss
//!   (relative error ~1e-16 / (λ |δ|)). The integrand is analytic in `s`; the rule is exact for
//!   polynomials of degree 15, so the truncation is ~`(|δ|/ρ)^16` relative (`ρ` = O(1) the
//!   analyticity radius in the weights). Cost: `RAY_NODES` gradients.
//!
//! Beyond [`RAY_MAX`] (far from the optimum, where the loss is large anyway) the plain sum.

use super::loss::PopulationLoss;
use crate::error::Result;
use crate::Activation;

/// Gauss–Legendre nodes of the ray integral.
pub const RAY_NODES: usize = 8;
/// Largest `max|δθ|` for which the ray integral is used.
pub const RAY_MAX: f64 = 0.5;

/// Gauss–Legendre nodes and weights on `[0, 1]` (Newton on `P_n`, to rounding).
fn gauss_legendre(n: usize) -> Vec<(f64, f64)> {
    (0..n)
        .map(|i| {
            let mut x = (std::f64::consts::PI * (i as f64 + 0.75) / (n as f64 + 0.5)).cos();
            let mut dp = 1.0;
            for _ in 0..100 {
                let (mut p0, mut p1) = (1.0, x);
                for k in 2..=n {
                    let p2 = ((2 * k - 1) as f64 * x * p1 - (k - 1) as f64 * p0) / k as f64;
                    p0 = p1;
                    p1 = p2;
                }
                dp = n as f64 * (x * p1 - p0) / (x * x - 1.0);
                let dx = p1 / dp;
                x -= dx;
                if dx.abs() < 1e-16 {
                    break;
                }
            }
            let w = 2.0 / ((1.0 - x * x) * dp * dp);
            (0.5 * (1.0 + x), 0.5 * w)
        })
        .collect()
}

fn quadratic_loss(loss: &PopulationLoss, theta: &[f64], eps: f64) -> f64 {
    let t = loss.teacher();
    let (ni, nh) = (t.ni(), t.nh());
    let a = &theta[nh * ni..nh * ni + nh];
    let mut dw = vec![0.0; ni];
    let mut dm = vec![0.0; ni * ni];
    for m in 0..nh {
        let (s, u) = (&theta[m * ni..(m + 1) * ni], t.w1_row(m));
        let (am, bm) = (a[m], t.w2()[m]);
        for p in 0..ni {
            dw[p] += am * s[p] - bm * u[p];
            for q in 0..ni {
                dm[p * ni + q] += am * s[p] * s[q] - bm * u[p] * u[q];
            }
        }
    }
    let tr: f64 = (0..ni).map(|p| dm[p * ni + p]).sum();
    let tr2: f64 = dm.iter().map(|v| v * v).sum();
    0.5 * (dw.iter().map(|v| v * v).sum::<f64>() + eps * eps * (2.0 * tr2 + tr * tr))
}

/// `L(θ)` to relative precision near the optimum (see the module docs).
pub fn precise_loss(loss: &PopulationLoss, theta: &[f64]) -> Result<f64> {
    let t = loss.teacher();
    let bias_free = theta.len() == t.nh() * t.ni() + t.nh() && t.dim() == theta.len();
    match t.activation() {
        Activation::Linear => return loss.loss(theta),
        Activation::Quadratic { epsilon } if bias_free => {
            loss.loss(theta)?; // validates θ
            return Ok(quadratic_loss(loss, theta, *epsilon));
        }
        _ => {}
    }
    let star = t.params();
    if star.len() != theta.len() {
        return loss.loss(theta);
    }
    let delta: Vec<f64> = theta.iter().zip(&star).map(|(a, b)| a - b).collect();
    if !delta.iter().all(|d| d.abs() <= RAY_MAX) {
        return loss.loss(theta);
    }
    let mut total = 0.0;
    let mut p = vec![0.0; theta.len()];
    let mut g = vec![0.0; theta.len()];
    for (s, w) in gauss_legendre(RAY_NODES) {
        for ((pi, a), d) in p.iter_mut().zip(&star).zip(&delta) {
            *pi = a + s * d;
        }
        loss.loss_and_gradient(&p, &mut g)?;
        total += w * crate::gaussian::dot(&g, &delta);
    }
    Ok(total.max(0.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gauss_legendre_integrates_degree_15_exactly() {
        let r = gauss_legendre(RAY_NODES);
        assert!((r.iter().map(|p| p.1).sum::<f64>() - 1.0).abs() < 1e-15);
        for k in 0..16 {
            let q: f64 = r.iter().map(|(x, w)| w * x.powi(k)).sum();
            assert!((q - 1.0 / (k + 1) as f64).abs() < 1e-15, "degree {k}: {q}");
        }
        // Degree 16 is not exact (the rule is Gauss, not better): the test can fail.
        let q: f64 = r.iter().map(|(x, w)| w * x.powi(16)).sum();
        assert!((q - 1.0 / 17.0).abs() > 1e-12);
    }
}
