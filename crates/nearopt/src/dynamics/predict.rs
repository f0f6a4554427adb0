//! Predictions from the spectrum at the optimum (paper Eqs. 6–7) and fits to simulated losses.
//!
//! Near the optimum `L ≈ ½ δθᵀ H δθ` (Eq. 6) and gradient flow gives `δθ(t) = e^{−Ht} δθ₀`, so
//! one draw's loss is `½ δθ₀ᵀ e^{−Ht} H e^{−Ht} δθ₀ = ½ Σ_i λ_i e^{−2λ_i t} (v_iᵀδθ₀)²` and its mean
//! over `δθ₀ ~ N(0, σ0² I)` is Eq. 7, `⟨L(t)⟩ = σ0²/2 Tr(e^{−2Ht} H) = σ0²/2 Σ_i λ_i e^{−2λ_i t}`.
//!
//! Zero eigenvalues (the symmetry directions: hidden-unit rescalings for the linear network,
//! and whatever else the rank deficit holds) contribute nothing: the noise component along them
//! does not decay but costs no loss to second order. They are dropped with the rank tolerance
//! [`crate::spectrum::default_rank_tolerance`] (eigenvalues below it are zero to rounding).
//! At long times the smallest nonzero eigenvalue dominates: `⟨L⟩ ≈ α e^{−2 λ_min t}`, with `α`
//! fitted to the simulated mean at the final time as in the paper.

use crate::error::{Error, Result};
use crate::hessian::DenseMatrix;
use crate::spectrum::{default_rank_tolerance, symmetric_spectrum};

/// The spectrum of the optimum Hessian, ready for the predictions.
#[derive(Clone, Debug)]
pub struct Prediction {
    /// All eigenvalues, ascending.
    pub eigenvalues: Vec<f64>,
    /// Unit eigenvectors as the columns of a row-major `D × D` matrix.
    pub eigenvectors: DenseMatrix,
    /// Eigenvalues at or below this are zero.
    pub tolerance: f64,
    /// The smallest nonzero eigenvalue `λ_min`.
    pub lambda_min: f64,
    /// The largest eigenvalue.
    pub lambda_max: f64,
    /// Number of nonzero eigenvalues (the rank).
    pub rank: usize,
}

impl Prediction {
    /// Diagonalises `h0` (the population Hessian at the optimum).
    pub fn new(h0: &DenseMatrix) -> Result<Self> {
        let s = symmetric_spectrum(h0, true)?;
        let tolerance = default_rank_tolerance(&s.eigenvalues);
        let nonzero: Vec<f64> = s
            .eigenvalues
            .iter()
            .copied()
            .filter(|v| *v > tolerance)
            .collect();
        let (Some(&lambda_min), Some(&lambda_max)) = (nonzero.first(), nonzero.last()) else {
            return Err(Error::Numerical(
                "the Hessian at the optimum has no positive eigenvalue".into(),
            ));
        };
        Ok(Prediction {
            rank: nonzero.len(),
            eigenvalues: s.eigenvalues,
            eigenvectors: s.eigenvectors.expect("vectors were asked for"),
            tolerance,
            lambda_min,
            lambda_max,
        })
    }

    fn nonzero(&self) -> impl Iterator<Item = (usize, f64)> + '_ {
        self.eigenvalues
            .iter()
            .copied()
            .enumerate()
            .filter(move |(_, v)| *v > self.tolerance)
    }

    /// Paper Eq. 7: `⟨L(t)⟩ = σ0²/2 Σ_i λ_i e^{−2λ_i t}` over the nonzero eigenvalues.
    pub fn eq7(&self, sigma0: f64, t: f64) -> f64 {
        0.5 * sigma0
            * sigma0
            * self
                .nonzero()
                .map(|(_, l)| l * (-2.0 * l * t).exp())
                .sum::<f64>()
    }

    /// The squared projections `(v_iᵀ δθ₀)²` of a displacement on the eigenvectors.
    pub fn projections(&self, delta0: &[f64]) -> Vec<f64> {
        let d = self.eigenvalues.len();
        let mut p = vec![0.0; d];
        for (n, dn) in delta0.iter().enumerate() {
            for (pi, v) in p.iter_mut().zip(self.eigenvectors.row(n)) {
                *pi += v * dn;
            }
        }
        p.into_iter().map(|x| x * x).collect()
    }

    /// The quadratic-model loss of one draw, `½ δθ₀ᵀ e^{−Ht} H e^{−Ht} δθ₀`, from its
    /// [`Prediction::projections`].
    pub fn quadratic_model(&self, projections: &[f64], t: f64) -> f64 {
        0.5 * self
            .nonzero()
            .map(|(i, l)| l * (-2.0 * l * t).exp() * projections[i])
            .sum::<f64>()
    }

    /// The long-time law `α e^{−2 λ_min t}` with `α` chosen to pass through `(t_fit, l_fit)`.
    pub fn asymptote(&self, t_fit: f64, l_fit: f64) -> impl Fn(f64) -> f64 {
        let lm = self.lambda_min;
        let alpha = l_fit * (2.0 * lm * t_fit).exp();
        move |t| alpha * (-2.0 * lm * t).exp()
    }
}

/// The decay rate `r` of `L ≈ c e^{−r t}` fitted by least squares on `ln L` over the points with
/// `t_from ≤ t ≤ t_to` (at least 3, all losses positive).
pub fn fitted_decay_rate(times: &[f64], loss: &[f64], t_from: f64, t_to: f64) -> Result<f64> {
    let pts: Vec<(f64, f64)> = times
        .iter()
        .zip(loss)
        .filter(|(t, _)| **t >= t_from && **t <= t_to)
        .map(|(t, l)| (*t, *l))
        .collect();
    if pts.len() < 3 {
        return Err(Error::Invalid(format!(
            "decay-rate fit needs ≥ 3 points in [{t_from}, {t_to}], found {}",
            pts.len()
        )));
    }
    if let Some((t, l)) = pts
        .iter()
        .find(|(_, l)| l.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater))
    {
        return Err(Error::Numerical(format!(
            "decay-rate fit: loss {l} at t = {t} is not positive"
        )));
    }
    let n = pts.len() as f64;
    let mt = pts.iter().map(|p| p.0).sum::<f64>() / n;
    let my = pts.iter().map(|p| p.1.ln()).sum::<f64>() / n;
    let sxy: f64 = pts.iter().map(|p| (p.0 - mt) * (p.1.ln() - my)).sum();
    let sxx: f64 = pts.iter().map(|p| (p.0 - mt).powi(2)).sum();
    Ok(-sxy / sxx)
}
