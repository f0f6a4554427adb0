//! Theory curves for the Hessian spectrum at the optimum (paper Section 3, Appendices A–B).
//!
//! * [`Law`]: a univariate law of eigenvalues (density, CDF, support, mean).
//! * [`ScaledChiSquare`]: `‖W2‖² ~ χ²_{N_h}/N_h`, the eigenvalue of the `W2W2ᵀ ⊗ I` block (App. A.1, Fig. 6).
//! * [`MarchenkoPastur`]: the *nonzero* eigenvalues of `W1 W1ᵀ` with `W1` (`N_h×N_i`) entries
//!   `N(0, 1/N_i)` (corrected Eq. 15, Fig. 7).
//! * [`ChiSquareMpConvolution`]: the law `C` of `λ₂ + λ₁` (independent), Section 3.1.
//! * [`LinearSpectrumLaw`]: the `N_i` nonzero Hessian eigenvalues of the linear network (Fig. 2).
//! * [`effective_params`]: ranks / effective numbers of parameters (Section 3.2, Eq. 14, Section 4.2).
//! * [`agreement`]: Kolmogorov–Smirnov test and Wasserstein-1 distance between samples and a law.
//! * [`quadrature`]: the deterministic quadratures behind the densities and CDFs.
//! * [`UniformLaw`], [`Shifted`], [`quantile`]: reference laws and inversion, for tests and sampling.
//!
//! Derivations and the corrections to the paper are in `docs/theory.md`.

pub mod agreement;
mod chi_square;
pub mod effective_params;
mod linear;
mod marchenko_pastur;
pub mod quadrature;

pub use chi_square::ScaledChiSquare;
pub use linear::{ChiSquareMpConvolution, LinearSpectrumLaw};
pub use marchenko_pastur::MarchenkoPastur;

use crate::error::{Error, Result};

/// A univariate law of eigenvalues.
///
/// Laws with an atom (none of the laws here has one) describe it outside `pdf`; `pdf` is the
/// density of the continuous part and `cdf` the full distribution function.
pub trait Law: Sync {
    /// Density of the continuous part at `x` (zero outside the support).
    fn pdf(&self, x: f64) -> f64;
    /// Distribution function `P(X ≤ x)`.
    fn cdf(&self, x: f64) -> f64;
    /// An interval holding (almost) all the mass, for plotting and integration.
    fn support(&self) -> (f64, f64);
    /// The mean `E[X]` (closed form).
    fn mean(&self) -> f64;
}

/// The uniform law on `[lo, hi]` (a reference law for tests and calibration).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct UniformLaw {
    /// Lower end.
    pub lo: f64,
    /// Upper end.
    pub hi: f64,
}

impl UniformLaw {
    /// The uniform law on `[lo, hi]`; refuses non-finite ends and `hi ≤ lo`.
    pub fn new(lo: f64, hi: f64) -> Result<Self> {
        if !(lo.is_finite() && hi.is_finite() && hi > lo) {
            return Err(Error::Invalid(format!(
                "uniform law needs finite lo < hi, got [{lo}, {hi}]"
            )));
        }
        Ok(Self { lo, hi })
    }
}

impl Law for UniformLaw {
    fn pdf(&self, x: f64) -> f64 {
        if x >= self.lo && x <= self.hi {
            1.0 / (self.hi - self.lo)
        } else {
            0.0
        }
    }
    fn cdf(&self, x: f64) -> f64 {
        ((x - self.lo) / (self.hi - self.lo)).clamp(0.0, 1.0)
    }
    fn support(&self) -> (f64, f64) {
        (self.lo, self.hi)
    }
    fn mean(&self) -> f64 {
        0.5 * (self.lo + self.hi)
    }
}

/// The law of `X + shift` for `X ~ inner`.
#[derive(Clone, Copy, Debug)]
pub struct Shifted<L> {
    /// The law being shifted.
    pub inner: L,
    /// The shift added to every value.
    pub shift: f64,
}

impl<L: Law> Law for Shifted<L> {
    fn pdf(&self, x: f64) -> f64 {
        self.inner.pdf(x - self.shift)
    }
    fn cdf(&self, x: f64) -> f64 {
        self.inner.cdf(x - self.shift)
    }
    fn support(&self) -> (f64, f64) {
        let (lo, hi) = self.inner.support();
        (lo + self.shift, hi + self.shift)
    }
    fn mean(&self) -> f64 {
        self.inner.mean() + self.shift
    }
}

/// The `x` with `F(x) = p` for a continuous law, by bisection on the CDF.
///
/// The search starts on [`Law::support`] and widens it while needed (at most 64 doublings);
/// 200 halvings at most. `p = 0` and `p = 1` give the ends of the support; `p` outside `[0, 1]`
/// or NaN gives NaN.
pub fn quantile(law: &dyn Law, p: f64) -> f64 {
    let (mut lo, mut hi) = law.support();
    if !(0.0..=1.0).contains(&p) {
        return f64::NAN;
    }
    if p == 0.0 {
        return lo;
    }
    if p == 1.0 {
        return hi;
    }
    let mut width = (hi - lo).max(1.0);
    for _ in 0..64 {
        if law.cdf(lo) <= p {
            break;
        }
        lo -= width;
        width *= 2.0;
    }
    for _ in 0..64 {
        if law.cdf(hi) >= p {
            break;
        }
        hi += width;
        width *= 2.0;
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        if law.cdf(mid) < p {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// `points` equally spaced abscissae from `lo` to `hi` (inclusive; a single point gives `lo`).
fn grid(lo: f64, hi: f64, points: usize) -> Vec<f64> {
    match points {
        0 => vec![],
        1 => vec![lo],
        _ => (0..points)
            .map(|i| lo + (hi - lo) * i as f64 / (points - 1) as f64)
            .collect(),
    }
}

/// The density on `points` equally spaced points of `[lo, hi]`, as `(x, pdf(x))` pairs, evaluated
/// in parallel (each point independently, so the result does not depend on the thread count).
/// For plotting theory curves (Figs. 2, 6, 7); `law.support()` is the natural range.
pub fn pdf_curve(law: &dyn Law, lo: f64, hi: f64, points: usize) -> Vec<(f64, f64)> {
    use rayon::prelude::*;
    grid(lo, hi, points)
        .into_par_iter()
        .map(|x| (x, law.pdf(x)))
        .collect()
}

/// The distribution function on `points` equally spaced points of `[lo, hi]`, as `(x, cdf(x))`
/// pairs, evaluated in parallel like [`pdf_curve`].
pub fn cdf_curve(law: &dyn Law, lo: f64, hi: f64, points: usize) -> Vec<(f64, f64)> {
    use rayon::prelude::*;
    grid(lo, hi, points)
        .into_par_iter()
        .map(|x| (x, law.cdf(x)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn curves_are_the_pointwise_values_on_an_even_grid() {
        let law = LinearSpectrumLaw::new(8, 5).unwrap();
        let (lo, hi) = law.support();
        let p = pdf_curve(&law, lo, hi, 33);
        let c = cdf_curve(&law, lo, hi, 33);
        assert_eq!(p.len(), 33);
        assert_eq!(p[0].0, lo);
        assert!((p[32].0 - hi).abs() < 1e-12 * hi);
        for (i, ((x, y), (x2, f))) in p.iter().zip(&c).enumerate() {
            assert_eq!(x, x2);
            assert!((x - (lo + (hi - lo) * i as f64 / 32.0)).abs() < 1e-12 * hi);
            assert_eq!(*y, law.pdf(*x));
            assert_eq!(*f, law.cdf(*x));
        }
        assert!(pdf_curve(&law, lo, hi, 0).is_empty());
        assert_eq!(cdf_curve(&law, 1.0, 2.0, 1), vec![(1.0, law.cdf(1.0))]);
    }

    #[test]
    fn uniform_shift_and_quantile() {
        let u = UniformLaw::new(-1.0, 3.0).unwrap();
        assert_eq!(u.mean(), 1.0);
        assert_eq!(u.cdf(0.0), 0.25);
        assert_eq!(u.pdf(5.0), 0.0);
        let s = Shifted {
            inner: u,
            shift: 2.0,
        };
        assert_eq!(s.support(), (1.0, 5.0));
        assert_eq!(s.cdf(2.0), 0.25);
        assert_eq!(s.mean(), 3.0);
        for p in [0.01, 0.25, 0.5, 0.99] {
            assert!((quantile(&u, p) - (-1.0 + 4.0 * p)).abs() < 1e-12);
        }
        assert!(
            quantile(&u, -0.1).is_nan()
                && quantile(&u, f64::NAN).is_nan()
                && quantile(&u, 1.5).is_nan()
        );
        assert_eq!((quantile(&u, 0.0), quantile(&u, 1.0)), (-1.0, 3.0));
        let chi = ScaledChiSquare::new(3).unwrap();
        for p in [1e-6, 0.3, 0.999999] {
            assert!((chi.cdf(quantile(&chi, p)) - p).abs() < 1e-12);
        }
    }
}
