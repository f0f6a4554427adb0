//! Spectra and ranks of symmetric matrices: eigenvalues (ascending), optional eigenvectors,
//! numerical rank and the smallest nonzero eigenvalue `λ_min` that sets the long-time decay
//! `e^{−2 λ_min t}` of the loss (paper Eq. 7).

use crate::eigen;
use crate::hessian::{check_dense_fits, DenseMatrix, PopulationHessian};
use crate::network::Network;
use crate::{Error, Result};
use faer::diag::Diag;
use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::evd::{self_adjoint_evd, self_adjoint_evd_scratch, ComputeEigenvectors};
use faer::{Mat, Par};
use rayon::prelude::*;

/// Eigenvalues in ascending order and, if asked for, unit eigenvectors as the columns of a
/// row-major `D × D` matrix (column `i` belongs to `eigenvalues[i]`).
#[derive(Clone, Debug)]
pub struct Spectrum {
    /// Ascending eigenvalues.
    pub eigenvalues: Vec<f64>,
    /// Eigenvectors as columns, when computed.
    pub eigenvectors: Option<DenseMatrix>,
}

/// Which threads one eigensolve may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SolverThreads {
    /// All threads of the current rayon pool (the default for a single large matrix).
    Pool,
    /// One thread: for many small matrices solved side by side (see [`ensemble_eigenvalues`]),
    /// where parallelism across matrices beats parallelism inside each.
    Single,
}

fn parallelism(threads: SolverThreads) -> Par {
    let t = rayon::current_num_threads();
    if t <= 1 || threads == SolverThreads::Single {
        Par::Seq
    } else {
        Par::rayon(t)
    }
}

/// Dimension from which eigenvalues-only solves use the two-stage reduction of [`crate::eigen`]
/// (dense → band → tridiagonal) instead of the one-stage tridiagonalisation. Measured on 2 cores
/// (`docs/performance.md`): below it the matrix fits in cache and the one-stage reduction wins.
/// The choice depends on the dimension only, never on the thread count, so that results are
/// the same whatever `--threads` is.
pub const TWO_STAGE_MIN_DIM: usize = 1200;

/// Eigen-decomposition of the symmetric matrix `h` (only the upper triangle is read, which
/// equals the lower one for a symmetric matrix), using all threads of the current pool.
/// Eigenvectors only when `vectors` is true.
pub fn symmetric_spectrum(h: &DenseMatrix, vectors: bool) -> Result<Spectrum> {
    symmetric_spectrum_with(h, vectors, SolverThreads::Pool)
}

fn validate_symmetric_input(h: &DenseMatrix) -> Result<()> {
    let n = h.rows();
    if n != h.cols() {
        return Err(Error::Shape(format!(
            "a spectrum needs a square matrix, got {} × {}",
            h.rows(),
            h.cols()
        )));
    }
    if let Some(i) = h.as_slice().iter().position(|v| !v.is_finite()) {
        return Err(Error::Invalid(format!(
            "matrix entry ({}, {}) is not finite",
            i / n,
            i % n
        )));
    }
    Ok(())
}

/// Ascending eigenvalues of the symmetric matrix `h` without eigenvectors: the one-stage
/// reduction below [`TWO_STAGE_MIN_DIM`], the two-stage one from there on, then the root-free
/// tridiagonal QL/QR. The result is bit-for-bit the same whatever the thread count (the
/// one-stage path runs on one thread; the two-stage path's parallel matrix products do not
/// split their sums across threads), so `threads` only changes the speed.
pub fn symmetric_eigenvalues_with(h: &DenseMatrix, threads: SolverThreads) -> Result<Vec<f64>> {
    validate_symmetric_input(h)?;
    let n = h.rows();
    let a = h.as_faer_transpose();
    if n >= TWO_STAGE_MIN_DIM {
        check_dense_fits(n, n, "two-stage eigensolver workspace")?;
        eigen::two_stage_eigenvalues(a, None, parallelism(threads))
    } else {
        eigen::one_stage_eigenvalues(a, Par::Seq)
    }
}

/// [`symmetric_spectrum`] with a choice of threads. Without eigenvectors this is
/// [`symmetric_eigenvalues_with`]; with them, faer's self-adjoint eigendecomposition (whose
/// parallel reductions depend on the thread count at the level of rounding).
pub fn symmetric_spectrum_with(
    h: &DenseMatrix,
    vectors: bool,
    threads: SolverThreads,
) -> Result<Spectrum> {
    if !vectors {
        return Ok(Spectrum {
            eigenvalues: symmetric_eigenvalues_with(h, threads)?,
            eigenvectors: None,
        });
    }
    validate_symmetric_input(h)?;
    let n = h.rows();
    if n == 0 {
        return Ok(Spectrum {
            eigenvalues: vec![],
            eigenvectors: Some(DenseMatrix::zeros(0, 0)),
        });
    }
    let par = parallelism(threads);
    let a = h.as_faer_transpose();
    let mut s = Diag::<f64>::zeros(n);
    check_dense_fits(n, n, "eigenvector matrix")?;
    let mut u = Mat::<f64>::zeros(n, n);
    let mut buf = MemBuffer::new(self_adjoint_evd_scratch::<f64>(
        n,
        ComputeEigenvectors::Yes,
        par,
        Default::default(),
    ));
    self_adjoint_evd(
        a,
        s.as_mut(),
        Some(u.as_mut()),
        par,
        MemStack::new(&mut buf),
        Default::default(),
    )
    .map_err(|e| Error::Numerical(format!("symmetric eigensolver did not converge: {e:?}")))?;
    let eigenvalues: Vec<f64> = s.column_vector().iter().copied().collect();
    // faer is column-major: walk each column once, writing it as a strided column.
    let mut data = vec![0.0; n * n];
    for j in 0..n {
        for (i, x) in u.col(j).iter().enumerate() {
            data[i * n + j] = *x;
        }
    }
    Ok(Spectrum {
        eigenvalues,
        eigenvectors: Some(DenseMatrix::from_row_major(n, n, data)),
    })
}

/// Eigenvalues only, ascending, using all threads of the current pool
/// ([`symmetric_eigenvalues_with`]).
pub fn symmetric_eigenvalues(h: &DenseMatrix) -> Result<Vec<f64>> {
    symmetric_eigenvalues_with(h, SolverThreads::Pool)
}

/// Ascending eigenvalues of the exact population Hessian at the optimum of every network in
/// `nets` (assembly + eigensolve per network), the networks spread over the rayon pool and each
/// solved on one thread. The result for each network is the same whatever the thread count.
pub fn ensemble_eigenvalues(nets: &[Network]) -> Result<Vec<Vec<f64>>> {
    nets.par_iter()
        .map(|net| {
            let h = PopulationHessian::at_optimum(net).dense()?;
            symmetric_eigenvalues_with(&h, SolverThreads::Single)
        })
        .collect()
}

/// The default rank tolerance of `INTERFACE.md` (as `numpy.linalg.matrix_rank`):
/// `max|λ| · D · ε_f64`.
pub fn default_rank_tolerance(eigenvalues: &[f64]) -> f64 {
    let max = eigenvalues.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    max * eigenvalues.len() as f64 * f64::EPSILON
}

/// A rank decision with the evidence for it.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct RankDecision {
    /// Number of eigenvalues above `tolerance`.
    pub rank: usize,
    /// The threshold used.
    pub tolerance: f64,
    /// Smallest eigenvalue counted (the smallest nonzero eigenvalue `λ_min`), if any.
    pub smallest_kept: Option<f64>,
    /// Largest eigenvalue `|λ|` not counted, if any.
    pub largest_dropped: Option<f64>,
}

impl RankDecision {
    /// `smallest_kept / largest_dropped`: how clearly the spectrum separates (∞ when nothing was
    /// dropped or the dropped ones are exactly zero).
    pub fn gap_ratio(&self) -> f64 {
        match (self.smallest_kept, self.largest_dropped) {
            (Some(k), Some(d)) if d > 0.0 => k / d,
            _ => f64::INFINITY,
        }
    }
}

/// Numerical rank of a symmetric matrix from its eigenvalues: the count of eigenvalues above
/// `tol` (default [`default_rank_tolerance`]). Negative eigenvalues count by their magnitude,
/// as singular values would.
pub fn rank(eigenvalues: &[f64], tol: Option<f64>) -> RankDecision {
    let tolerance = tol.unwrap_or_else(|| default_rank_tolerance(eigenvalues));
    let mut kept: Option<f64> = None;
    let mut dropped: Option<f64> = None;
    let mut r = 0;
    for &v in eigenvalues {
        let a = v.abs();
        if a > tolerance {
            r += 1;
            kept = Some(kept.map_or(a, |k| k.min(a)));
        } else {
            dropped = Some(dropped.map_or(a, |d| d.max(a)));
        }
    }
    RankDecision {
        rank: r,
        tolerance,
        smallest_kept: kept,
        largest_dropped: dropped,
    }
}

/// The smallest eigenvalue above `tol` (default [`default_rank_tolerance`]): `λ_min` of paper
/// Eq. 7's long-time law.
pub fn smallest_nonzero(eigenvalues: &[f64], tol: Option<f64>) -> Option<f64> {
    let t = tol.unwrap_or_else(|| default_rank_tolerance(eigenvalues));
    eigenvalues
        .iter()
        .copied()
        .filter(|v| *v > t)
        .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.min(v))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::teacher::{sample_teacher, WeightDistribution};
    use crate::Activation;

    #[test]
    fn spectrum_of_a_known_matrix() {
        // Q diag(3, 1, 0) Qᵀ for a rotation Q.
        let (c, s) = (0.6f64, 0.8f64);
        let q = [[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]];
        let d = [3.0, 1.0, 0.0];
        let mut h = DenseMatrix::zeros(3, 3);
        for i in 0..3 {
            for j in 0..3 {
                h.set(i, j, (0..3).map(|k| q[i][k] * d[k] * q[j][k]).sum());
            }
        }
        let sp = symmetric_spectrum(&h, true).unwrap();
        for (a, b) in sp.eigenvalues.iter().zip([0.0, 1.0, 3.0]) {
            assert!((a - b).abs() < 1e-14);
        }
        let v = sp.eigenvectors.unwrap();
        for j in 0..3 {
            let col: Vec<f64> = (0..3).map(|i| v.get(i, j)).collect();
            let mut hv = vec![0.0; 3];
            h.matvec(&col, &mut hv);
            for i in 0..3 {
                assert!((hv[i] - sp.eigenvalues[j] * col[i]).abs() < 1e-13);
            }
        }
        let r = rank(&sp.eigenvalues, None);
        assert_eq!(r.rank, 2);
        assert!((smallest_nonzero(&sp.eigenvalues, None).unwrap() - 1.0).abs() < 1e-14);
    }

    #[test]
    fn non_finite_is_rejected() {
        let mut h = DenseMatrix::zeros(2, 2);
        h.set(1, 0, f64::NAN);
        assert!(symmetric_spectrum(&h, false).is_err());
    }

    /// Cyclic Jacobi rotations: an independent (and slow, O(n³) per sweep) eigenvalue reference.
    fn jacobi_eigenvalues(h: &DenseMatrix) -> Vec<f64> {
        let n = h.rows();
        let mut a: Vec<Vec<f64>> = (0..n).map(|i| h.row(i).to_vec()).collect();
        for _sweep in 0..100 {
            let off: f64 = (0..n)
                .flat_map(|i| (0..n).filter(move |j| *j != i).map(move |j| (i, j)))
                .map(|(i, j)| a[i][j] * a[i][j])
                .sum();
            if off.sqrt() < 1e-300 {
                break;
            }
            for p in 0..n {
                for q in p + 1..n {
                    if a[p][q] == 0.0 {
                        continue;
                    }
                    let theta = (a[q][q] - a[p][p]) / (2.0 * a[p][q]);
                    let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                    let t = if theta == 0.0 { 1.0 } else { t };
                    let c = 1.0 / (t * t + 1.0).sqrt();
                    let s = t * c;
                    for row in a.iter_mut() {
                        let (akp, akq) = (row[p], row[q]);
                        row[p] = c * akp - s * akq;
                        row[q] = s * akp + c * akq;
                    }
                    let (lo, hi) = a.split_at_mut(q);
                    for (x, y) in lo[p].iter_mut().zip(hi[0].iter_mut()) {
                        let (apk, aqk) = (*x, *y);
                        *x = c * apk - s * aqk;
                        *y = s * apk + c * aqk;
                    }
                }
            }
        }
        let mut e: Vec<f64> = (0..n).map(|i| a[i][i]).collect();
        e.sort_by(f64::total_cmp);
        e
    }

    fn max_rel_gap(a: &[f64], b: &[f64]) -> f64 {
        assert_eq!(a.len(), b.len());
        let scale = a.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        a.iter()
            .zip(b)
            .fold(0.0f64, |m, (x, y)| m.max((x - y).abs()))
            / scale
    }

    fn teachers(act: Activation, n: usize, count: u64) -> Vec<Network> {
        (0..count)
            .map(|i| sample_teacher(act.clone(), n, n, WeightDistribution::Normal, 7, i).unwrap())
            .collect()
    }

    // Backward-stable solvers agree to a few ε·D relative to λmax; 1e-12 leaves a wide margin
    // at D ≤ 56 while any real error (a lost or shifted eigenvalue) is far larger.
    const TOL: f64 = 1e-12;

    #[test]
    fn all_paths_agree_with_jacobi_on_population_hessians() {
        for act in [
            Activation::Erf,
            Activation::Quadratic { epsilon: 0.5 },
            Activation::Tanh,
        ] {
            for net in teachers(act, 5, 2)
                .iter()
                .chain(&teachers(Activation::Erf, 7, 1))
            {
                let h = PopulationHessian::at_optimum(net).dense().unwrap();
                let reference = jacobi_eigenvalues(&h);
                let pool = symmetric_eigenvalues(&h).unwrap();
                let single = symmetric_spectrum_with(&h, false, SolverThreads::Single)
                    .unwrap()
                    .eigenvalues;
                assert!(max_rel_gap(&reference, &pool) < TOL, "pool");
                assert!(max_rel_gap(&reference, &single) < TOL, "single");
                let with_vectors = symmetric_spectrum(&h, true).unwrap();
                assert!(
                    max_rel_gap(&reference, &with_vectors.eigenvalues) < TOL,
                    "vectors"
                );
            }
        }
    }

    #[test]
    fn eigenvectors_are_orthonormal_and_diagonalise() {
        let net = &teachers(Activation::Erf, 6, 1)[0];
        let h = PopulationHessian::at_optimum(net).dense().unwrap();
        let sp = symmetric_spectrum(&h, true).unwrap();
        let v = sp.eigenvectors.unwrap();
        let d = h.rows();
        let lmax = sp.eigenvalues[d - 1];
        for j in 0..d {
            let col: Vec<f64> = (0..d).map(|i| v.get(i, j)).collect();
            let mut hv = vec![0.0; d];
            h.matvec(&col, &mut hv);
            for i in 0..d {
                assert!((hv[i] - sp.eigenvalues[j] * col[i]).abs() < 1e-12 * lmax);
            }
            for k in 0..d {
                let dotp: f64 = (0..d).map(|i| v.get(i, j) * v.get(i, k)).sum();
                let expect = if j == k { 1.0 } else { 0.0 };
                assert!((dotp - expect).abs() < 1e-12);
            }
        }
    }

    #[test]
    fn two_stage_path_is_accurate_and_ignores_thread_count() {
        // D = 35·36 = 1260 ≥ TWO_STAGE_MIN_DIM: the two-stage reduction with parallel products.
        let net = &teachers(Activation::Erf, 35, 1)[0];
        let h = PopulationHessian::at_optimum(net).dense().unwrap();
        assert!(h.rows() >= TWO_STAGE_MIN_DIM);
        let runs: Vec<Vec<f64>> = [1, 2, 3]
            .iter()
            .map(|&t| {
                rayon::ThreadPoolBuilder::new()
                    .num_threads(t)
                    .build()
                    .unwrap()
                    .install(|| symmetric_eigenvalues(&h).unwrap())
            })
            .collect();
        assert_eq!(runs[0], runs[1], "1 vs 2 threads");
        assert_eq!(runs[0], runs[2], "1 vs 3 threads");
        // Against faer's one-stage eigensolver (an independent route): both are backward
        // stable, so they agree to a few D·ε·λmax.
        let reference = symmetric_spectrum(&h, true).unwrap().eigenvalues;
        let gap = max_rel_gap(&reference, &runs[0]);
        assert!(gap < 50.0 * h.rows() as f64 * f64::EPSILON, "gap {gap:e}");
    }

    #[test]
    fn ensemble_matches_one_by_one_and_ignores_thread_count() {
        let nets = teachers(Activation::Erf, 4, 6);
        let ens = ensemble_eigenvalues(&nets).unwrap();
        let one = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap()
            .install(|| ensemble_eigenvalues(&nets).unwrap());
        assert_eq!(ens, one, "results must not depend on the thread count");
        for (net, e) in nets.iter().zip(&ens) {
            let h = PopulationHessian::at_optimum(net).dense().unwrap();
            assert!(max_rel_gap(&jacobi_eigenvalues(&h), e) < TOL);
        }
    }
}
