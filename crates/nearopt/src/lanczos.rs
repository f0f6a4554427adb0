//! Matrix-free spectra: Lanczos with full reorthogonalisation for the extreme eigenvalues, and
//! stochastic Lanczos quadrature (SLQ) for the spectral density, on any [`HessianOperator`].
//!
//! The exact population Hessian's product costs `O(Nh² Ni)` (see
//! [`crate::hessian::PopulationHessian`]), so these reach networks whose dense Hessian
//! (`8 D²` bytes) does not fit in memory. Only `O(k D)` memory is used for `k` Lanczos steps.

use crate::gaussian::dot;
use crate::hessian::{DenseMatrix, HessianOperator};
use crate::rng::stream;
use crate::spectrum::symmetric_spectrum;
use crate::{Error, Result};
use rand::Rng as _;

/// The tridiagonal matrix of a Lanczos run and its Ritz pairs.
#[derive(Clone, Debug)]
pub struct LanczosRun {
    /// Ritz values (eigenvalues of the tridiagonal matrix), ascending.
    pub ritz_values: Vec<f64>,
    /// First components of the tridiagonal matrix's unit eigenvectors, squared: the quadrature
    /// weights of the start vector's spectral measure (they sum to one).
    pub weights: Vec<f64>,
    /// Residual bound `|β_k s_k|` of each Ritz value (an upper bound on its distance to an
    /// eigenvalue of the operator).
    pub residuals: Vec<f64>,
}

/// `steps` Lanczos iterations on `op` from the unit vector along `start`, with full
/// reorthogonalisation (so Ritz values do not duplicate). Stops early on an invariant subspace.
pub fn lanczos(op: &dyn HessianOperator, start: &[f64], steps: usize) -> Result<LanczosRun> {
    let d = op.dim();
    if start.len() != d {
        return Err(Error::Shape(format!(
            "start vector has {} entries, operator dimension is {d}",
            start.len()
        )));
    }
    if steps == 0 {
        return Err(Error::Invalid("Lanczos needs at least one step".into()));
    }
    let norm = dot(start, start).sqrt();
    if norm == 0.0 || !norm.is_finite() {
        return Err(Error::Invalid(
            "Lanczos start vector must be finite and nonzero".into(),
        ));
    }
    let steps = steps.min(d);
    let mut basis: Vec<Vec<f64>> = vec![start.iter().map(|v| v / norm).collect()];
    let (mut alpha, mut beta) = (Vec::with_capacity(steps), Vec::with_capacity(steps));
    let mut w = vec![0.0; d];
    for j in 0..steps {
        op.matvec(&basis[j], &mut w);
        let a = dot(&w, &basis[j]);
        alpha.push(a);
        // Full reorthogonalisation, twice ("twice is enough").
        for _ in 0..2 {
            for q in &basis {
                let c = dot(&w, q);
                w.iter_mut().zip(q).for_each(|(wi, qi)| *wi -= c * qi);
            }
        }
        let b = dot(&w, &w).sqrt();
        let scale = alpha.iter().fold(0.0f64, |m, v| m.max(v.abs())).max(1e-300);
        if j + 1 == steps || b <= 1e-13 * scale {
            beta.push(b);
            break;
        }
        beta.push(b);
        basis.push(w.iter().map(|v| v / b).collect());
    }
    let k = alpha.len();
    let mut t = DenseMatrix::zeros(k, k);
    for i in 0..k {
        t.set(i, i, alpha[i]);
        if i + 1 < k {
            t.set(i, i + 1, beta[i]);
            t.set(i + 1, i, beta[i]);
        }
    }
    let sp = symmetric_spectrum(&t, true)?;
    let vecs = sp.eigenvectors.expect("vectors were requested");
    let last_beta = beta[k - 1];
    let weights = (0..k).map(|i| vecs.get(0, i).powi(2)).collect();
    let residuals = (0..k)
        .map(|i| (last_beta * vecs.get(k - 1, i)).abs())
        .collect();
    Ok(LanczosRun {
        ritz_values: sp.eigenvalues,
        weights,
        residuals,
    })
}

/// A spectral density estimate from stochastic Lanczos quadrature: `nodes` with `weights`
/// summing to one approximate the normalised eigenvalue distribution `(1/D) Σ δ(λ − λ_i)`.
#[derive(Clone, Debug)]
pub struct SpectralDensity {
    /// Quadrature nodes (Ritz values of all probes).
    pub nodes: Vec<f64>,
    /// Weights, summing to one.
    pub weights: Vec<f64>,
    /// The seed of the Rademacher probes.
    pub seed: u64,
}

impl SpectralDensity {
    /// `(1/D) Tr f(H)` estimated as `Σ w_i f(node_i)`, e.g. the loss curve of Eq. 7 with
    /// `f(λ) = σ0²/2 · D λ e^{−2λt}` (times `D` for the trace).
    pub fn trace_mean(&self, f: impl Fn(f64) -> f64) -> f64 {
        self.nodes
            .iter()
            .zip(&self.weights)
            .map(|(x, w)| w * f(*x))
            .sum()
    }
}

/// Stochastic Lanczos quadrature with `probes` Rademacher start vectors (probe `i` from stream
/// `i` of `seed`, so the result does not depend on the thread count) and `steps` Lanczos steps each.
pub fn stochastic_lanczos_quadrature(
    op: &dyn HessianOperator,
    probes: usize,
    steps: usize,
    seed: u64,
) -> Result<SpectralDensity> {
    if probes == 0 {
        return Err(Error::Invalid(
            "stochastic Lanczos quadrature needs at least one probe".into(),
        ));
    }
    let d = op.dim();
    let (mut nodes, mut weights) = (Vec::new(), Vec::new());
    for p in 0..probes {
        let mut rng = stream(seed, p as u64);
        let v: Vec<f64> = (0..d)
            .map(|_| if rng.random::<bool>() { 1.0 } else { -1.0 })
            .collect();
        let run = lanczos(op, &v, steps)?;
        nodes.extend_from_slice(&run.ritz_values);
        weights.extend(run.weights.iter().map(|w| w / probes as f64));
    }
    Ok(SpectralDensity {
        nodes,
        weights,
        seed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hessian::PopulationHessian;
    use crate::spectrum::symmetric_eigenvalues;
    use crate::teacher::{sample_teacher, WeightDistribution};
    use crate::Activation;

    #[test]
    fn extreme_ritz_values_match_dense_eigenvalues() {
        let net = sample_teacher(Activation::Erf, 8, 6, WeightDistribution::Normal, 3, 0).unwrap();
        let h = PopulationHessian::at_optimum(&net);
        let dense = symmetric_eigenvalues(&h.dense().unwrap()).unwrap();
        let start: Vec<f64> = (0..h.dim()).map(|i| 1.0 + (i % 5) as f64).collect();
        let run = lanczos(&h, &start, 40).unwrap();
        let top = *run.ritz_values.last().unwrap();
        let lmax = *dense.last().unwrap();
        // The largest eigenvalue converges first; its residual bound certifies the error.
        assert!(
            (top - lmax).abs() <= run.residuals.last().unwrap() + 1e-10 * lmax,
            "{top} vs {lmax}"
        );
        assert!((top - lmax).abs() < 1e-9 * lmax);
        let wsum: f64 = run.weights.iter().sum();
        assert!((wsum - 1.0).abs() < 1e-12);
    }

    #[test]
    fn full_run_recovers_trace_moments() {
        // With steps = D the quadrature is exact for polynomials of degree < 2D: compare the
        // normalised traces (1/D) Tr H and (1/D) Tr H² against the dense matrix, which SLQ
        // estimates without bias; tolerance from the probes' variance is loose, so use many.
        let net = sample_teacher(
            Activation::Quadratic { epsilon: 1.0 },
            4,
            4,
            WeightDistribution::Normal,
            5,
            0,
        )
        .unwrap();
        let h = PopulationHessian::at_optimum(&net);
        let dense = h.dense().unwrap();
        let d = h.dim();
        let tr1: f64 = (0..d).map(|i| dense.get(i, i)).sum::<f64>() / d as f64;
        let density = stochastic_lanczos_quadrature(&h, 400, d, 9).unwrap();
        let est = density.trace_mean(|x| x);
        // Hutchinson with Rademacher probes: Var = 2 Σ_{i≠j} H_ij² / D² per probe.
        let off: f64 = (0..d)
            .flat_map(|i| (0..d).map(move |j| (i, j)))
            .filter(|(i, j)| i != j)
            .map(|(i, j)| dense.get(i, j).powi(2))
            .sum();
        let se = (2.0 * off).sqrt() / d as f64 / (400f64).sqrt();
        assert!(
            (est - tr1).abs() < 5.0 * se + 1e-12,
            "{est} vs {tr1} (se {se})"
        );
    }
}
