//! Seeded teacher networks: weights of variance `1/fan_in` (paper Section 1.1; Appendix E for
//! the non-Gaussian choices).

use crate::activation::Activation;
use crate::network::Network;
use crate::rng::{stream, Rng};
use crate::{Error, Result};
use rand::Rng as _;
use rand_distr::{Distribution, StandardNormal, StudentT};

/// Distribution of the teacher's weights; every choice is centred and rescaled to variance
/// `1/fan_in` (`Ni` for `W1`, `Nh` for `W2`).
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum WeightDistribution {
    /// `N(0, 1/fan_in)`: the paper's default.
    Normal,
    /// Uniform on `[-√(3/fan_in), √(3/fan_in)]`.
    Uniform,
    /// `±1/√fan_in` with equal probability.
    Rademacher,
    /// Laplace with scale `1/√(2 fan_in)`.
    Laplace,
    /// Student-t with `nu > 2` degrees of freedom, times `√((ν−2)/(ν fan_in))`.
    StudentT {
        /// Degrees of freedom ν (> 2 for a finite variance).
        nu: f64,
    },
}

impl WeightDistribution {
    /// Rejects Student-t with ν ≤ 2 (infinite variance).
    pub fn validate(&self) -> Result<()> {
        match self {
            WeightDistribution::StudentT { nu } if !(nu.is_finite() && *nu > 2.0) => {
                Err(Error::Invalid(format!(
                    "Student-t weights need ν > 2 for a finite variance, got ν = {nu}"
                )))
            }
            _ => Ok(()),
        }
    }

    /// Short name.
    pub fn name(&self) -> String {
        match self {
            WeightDistribution::Normal => "normal".into(),
            WeightDistribution::Uniform => "uniform".into(),
            WeightDistribution::Rademacher => "rademacher".into(),
            WeightDistribution::Laplace => "laplace".into(),
            WeightDistribution::StudentT { nu } => format!("student-t(ν={nu})"),
        }
    }

    /// One draw with unit variance.
    pub fn sample_unit(&self, rng: &mut Rng) -> f64 {
        match *self {
            WeightDistribution::Normal => StandardNormal.sample(rng),
            WeightDistribution::Uniform => 3f64.sqrt() * (2.0 * rng.random::<f64>() - 1.0),
            WeightDistribution::Rademacher => {
                if rng.random::<bool>() {
                    1.0
                } else {
                    -1.0
                }
            }
            WeightDistribution::Laplace => {
                // Inverse CDF with scale b = 1/√2 (variance 2b² = 1).
                let u: f64 = rng.random::<f64>() - 0.5;
                -(u.signum()) * (1.0 - 2.0 * u.abs()).ln() / std::f64::consts::SQRT_2
            }
            WeightDistribution::StudentT { nu } => {
                let t: f64 = StudentT::new(nu).expect("validated ν").sample(rng);
                t * ((nu - 2.0) / nu).sqrt()
            }
        }
    }
}

/// A teacher with `ni` inputs and `nh` hidden units whose weights are drawn from `dist` with
/// variance `1/Ni` (W1) and `1/Nh` (W2), from stream `stream_id` of `seed`.
pub fn sample_teacher(
    activation: Activation,
    ni: usize,
    nh: usize,
    dist: WeightDistribution,
    seed: u64,
    stream_id: u64,
) -> Result<Network> {
    dist.validate()?;
    let mut rng = stream(seed, stream_id);
    let s1 = 1.0 / (ni as f64).sqrt();
    let s2 = 1.0 / (nh as f64).sqrt();
    let w1 = (0..ni * nh)
        .map(|_| s1 * dist.sample_unit(&mut rng))
        .collect();
    let w2 = (0..nh).map(|_| s2 * dist.sample_unit(&mut rng)).collect();
    Network::new(activation, ni, nh, w1, w2)
}

/// Stream offset of the bias draws: the weights of stream `s` are unchanged when biases are
/// added, and the biases come from stream `s + BIAS_STREAM_OFFSET` of the same seed.
pub const BIAS_STREAM_OFFSET: u64 = 1 << 48;

/// `net` with biases drawn from `N(0, std²)`: `b1` (one per hidden unit) when `b1_std` is given,
/// `b2` when `b2_std` is given, from stream `stream_id + BIAS_STREAM_OFFSET` of `seed` (the
/// weights are those of [`sample_teacher`] with the same seed and stream).
pub fn with_sampled_biases(
    net: Network,
    b1_std: Option<f64>,
    b2_std: Option<f64>,
    seed: u64,
    stream_id: u64,
) -> Result<Network> {
    for (name, s) in [("b1", b1_std), ("b2", b2_std)] {
        if let Some(s) = s {
            if !(s.is_finite() && s >= 0.0) {
                return Err(Error::Invalid(format!(
                    "the standard deviation of {name} must be finite and ≥ 0, got {s}"
                )));
            }
        }
    }
    let mut rng = stream(seed, stream_id.wrapping_add(BIAS_STREAM_OFFSET));
    let b1 = b1_std.map(|s| {
        (0..net.nh())
            .map(|_| s * <StandardNormal as Distribution<f64>>::sample(&StandardNormal, &mut rng))
            .collect()
    });
    let b2 = b2_std
        .map(|s| s * <StandardNormal as Distribution<f64>>::sample(&StandardNormal, &mut rng));
    net.with_biases(b1, b2)
}

#[cfg(test)]
mod tests {
    #[test]
    fn biases_leave_the_weights_unchanged() {
        let plain =
            sample_teacher(Activation::Erf, 3, 4, WeightDistribution::Normal, 5, 1).unwrap();
        let biased = with_sampled_biases(plain.clone(), Some(0.5), Some(1.0), 5, 1).unwrap();
        assert_eq!(biased.w1(), plain.w1());
        assert_eq!(biased.w2(), plain.w2());
        assert_eq!(biased.b1().unwrap().len(), 4);
        assert!(biased.b2().is_some());
        assert_eq!(biased.dim(), plain.dim() + 5);
        let b1_only = with_sampled_biases(plain.clone(), Some(0.5), None, 5, 1).unwrap();
        assert_eq!(b1_only.b1(), biased.b1());
        assert!(with_sampled_biases(plain, Some(f64::NAN), None, 5, 1).is_err());
    }

    use super::*;

    #[test]
    fn every_distribution_has_unit_variance_and_zero_mean() {
        let n = 200_000;
        for d in [
            WeightDistribution::Normal,
            WeightDistribution::Uniform,
            WeightDistribution::Rademacher,
            WeightDistribution::Laplace,
            WeightDistribution::StudentT { nu: 5.0 },
        ] {
            let mut rng = stream(7, 0);
            let xs: Vec<f64> = (0..n).map(|_| d.sample_unit(&mut rng)).collect();
            let mean = xs.iter().sum::<f64>() / n as f64;
            let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
            // Standard error of the mean is 1/√n ≈ 0.0022; 5 sigma.
            assert!(mean.abs() < 5.0 / (n as f64).sqrt(), "{d:?} mean {mean}");
            // The variance's standard error is √((κ−1)/n), κ the kurtosis (9 for t₅): 5 sigma.
            assert!(
                (var - 1.0).abs() < 5.0 * (8.0 / n as f64).sqrt(),
                "{d:?} var {var}"
            );
        }
    }

    #[test]
    fn same_seed_same_teacher() {
        let a = sample_teacher(Activation::Erf, 4, 3, WeightDistribution::Normal, 11, 2).unwrap();
        let b = sample_teacher(Activation::Erf, 4, 3, WeightDistribution::Normal, 11, 2).unwrap();
        let c = sample_teacher(Activation::Erf, 4, 3, WeightDistribution::Normal, 11, 3).unwrap();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn student_t_needs_finite_variance() {
        assert!(sample_teacher(
            Activation::Linear,
            2,
            2,
            WeightDistribution::StudentT { nu: 2.0 },
            1,
            0
        )
        .is_err());
    }
}
