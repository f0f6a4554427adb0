//! Eigenvalues of dense symmetric matrices by a two-stage reduction: dense → band by blocked
//! Householder panels whose two-sided updates are matrix products ([`band_reduction`]), band →
//! tridiagonal by bulge chasing ([`bulge_chasing`]), then the root-free tridiagonal QL/QR of [`tridiagonal`].
//!
//! Eigenvalues only. A one-stage tridiagonalisation (LAPACK `dsytrd`, faer's `tridiag`) spends
//! half its `4n³/3` flops in symmetric matrix–vector products bound by memory bandwidth; here
//! almost all the work is in matrix products, which is why this path is the default for the
//! large spectra of `nearopt` (see `docs/performance.md` for measurements). Every transformation
//! is orthogonal, so the eigenvalues are backward stable: errors of a few `n ε ‖A‖`.

pub mod band_reduction;
pub mod bulge_chasing;
mod simd;
pub mod tridiagonal;

pub use tridiagonal::tridiagonal_eigenvalues;

use crate::{Error, Result};
use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::evd::tridiag;
use faer::{Mat, MatRef, Par};

/// Half-bandwidth of the intermediate band matrix for dimension `n`: wide enough for efficient
/// matrix products in stage 1, narrow enough to keep stage 2 (`≈ 6 n² b` flops) cheap.
pub fn default_bandwidth(n: usize) -> usize {
    // Measured on 2 cores (docs/performance.md): at n = 5000, b = 24 / 32 / 48 took
    // 2.56 / 2.49 / 2.63 s; at n = 10,100, b = 32 and 48 both 14.7 s.
    match n {
        0..=255 => 8,
        256..=1023 => 16,
        _ => 32,
    }
}

/// The dimension of the square matrix `a`, or a shape error.
fn square_dimension(a: MatRef<'_, f64>) -> Result<usize> {
    if a.nrows() != a.ncols() {
        return Err(Error::Shape(format!(
            "eigenvalues need a square matrix, got {} × {}",
            a.nrows(),
            a.ncols()
        )));
    }
    Ok(a.nrows())
}

/// Ascending eigenvalues of the symmetric matrix whose lower triangle is given by `a` (the
/// upper triangle is not read), by the two-stage reduction with half-bandwidth `bandwidth`
/// (`None`: [`default_bandwidth`]). Stage 1's matrix products run with `par`.
pub fn two_stage_eigenvalues(
    a: MatRef<'_, f64>,
    bandwidth: Option<usize>,
    par: Par,
) -> Result<Vec<f64>> {
    let n = square_dimension(a)?;
    if n == 0 {
        return Ok(vec![]);
    }
    let b = bandwidth
        .unwrap_or_else(|| default_bandwidth(n))
        .clamp(1, n.max(2) - 1);
    let mut work = Mat::<f64>::zeros(n, n);
    work.copy_from_triangular_lower(a);
    band_reduction::reduce_to_band(work.as_mut(), b, par);
    let band = bulge_chasing::BandMatrix::from_lower(n, b, |i, j| work[(i, j)]);
    drop(work);
    // The chase's threads wait on each other block by block: never more than the machine has.
    let cores = std::thread::available_parallelism().map_or(1, |c| c.get());
    let threads = match par {
        Par::Seq => 1,
        Par::Rayon(t) => t.get().min(cores),
    };
    let (d, e) = band.into_tridiagonal_with(threads);
    tridiagonal_eigenvalues(&d, &e)
}

/// Ascending eigenvalues of the symmetric matrix whose lower triangle is `a`, by faer's one-stage
/// blocked tridiagonalisation followed by the root-free QL/QR of [`tridiagonal`]. Faster than
/// [`two_stage_eigenvalues`] for small matrices, which fit in cache.
pub fn one_stage_eigenvalues(a: MatRef<'_, f64>, par: Par) -> Result<Vec<f64>> {
    let n = square_dimension(a)?;
    if n <= 1 {
        return Ok((0..n).map(|i| a[(i, i)]).collect());
    }
    let mut work = Mat::<f64>::zeros(n, n);
    work.copy_from_triangular_lower(a);
    let bs = faer::linalg::qr::no_pivoting::factor::recommended_block_size::<f64>(n, n);
    let mut householder = Mat::<f64>::zeros(bs, n - 1);
    let mut buf = MemBuffer::new(tridiag::tridiag_in_place_scratch::<f64>(
        n,
        par,
        Default::default(),
    ));
    tridiag::tridiag_in_place(
        work.as_mut(),
        householder.as_mut(),
        par,
        MemStack::new(&mut buf),
        Default::default(),
    );
    let d: Vec<f64> = (0..n).map(|i| work[(i, i)]).collect();
    let e: Vec<f64> = (0..n - 1).map(|i| work[(i + 1, i)]).collect();
    tridiagonal_eigenvalues(&d, &e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    fn random_symmetric(n: usize, seed: u64) -> Mat<f64> {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let mut m = Mat::<f64>::zeros(n, n);
        for j in 0..n {
            for i in j..n {
                let x: f64 = rng.random_range(-1.0..1.0);
                m[(i, j)] = x;
                m[(j, i)] = x;
            }
        }
        m
    }

    fn reference(a: &Mat<f64>) -> Vec<f64> {
        let mut e: Vec<f64> = a
            .self_adjoint_eigenvalues(faer::Side::Lower)
            .unwrap()
            .into_iter()
            .collect();
        e.sort_by(f64::total_cmp);
        e
    }

    #[test]
    fn agrees_with_faer_on_random_matrices() {
        for (n, b) in [
            (1, None),
            (2, None),
            (3, None),
            (7, Some(2)),
            (40, Some(3)),
            (97, Some(8)),
            (130, Some(16)),
            (300, None),
            (64, Some(63)),
            (50, Some(1)),
        ] {
            let a = random_symmetric(n, n as u64);
            let theirs = reference(&a);
            // Backward-stable solvers: within a few n·ε·λmax of each other.
            let scale = theirs.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            let tol = 1e-13 * scale.max(1.0) * (n as f64).sqrt();
            let gap = |ours: &[f64]| {
                ours.iter()
                    .zip(&theirs)
                    .fold(0.0f64, |m, (x, y)| m.max((x - y).abs()))
            };
            let one = gap(&one_stage_eigenvalues(a.as_ref(), Par::Seq).unwrap());
            assert!(one <= tol, "one-stage n={n}: {one}");
            let two = gap(&two_stage_eigenvalues(a.as_ref(), b, Par::Seq).unwrap());
            assert!(two <= tol, "two-stage n={n} b={b:?}: {two}");
        }
    }
}
