//! Property tests over random network sizes: the CDF route alone (no density) reproduces the
//! closed-form mean, the CDF is a distribution function, and the density is its derivative.

use nearopt::theory::quadrature::gauss_kronrod;
use nearopt::theory::{Law, LinearSpectrumLaw, MarchenkoPastur};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn linear_law_cdf_is_consistent(ni in 1usize..300, nh in 1usize..300) {
        let law = LinearSpectrumLaw::new(ni, nh).unwrap();
        let (lo, hi) = law.support();
        // The laws are supported on [lo, ∞) with lo ≥ 0, so E X = lo + ∫_lo^∞ (1 − F); the part
        // beyond `hi` is below 1e-12 · (tail length) and negligible at this tolerance.
        let (a, b) = MarchenkoPastur::new(ni, nh).unwrap().edges();
        let mut pts = vec![lo, hi];
        pts.extend([a, b, 1.0 + a, 1.0 + b].iter().copied().filter(|p| *p > lo && *p < hi));
        pts.sort_by(f64::total_cmp);
        let tail: f64 = pts
            .windows(2)
            .map(|w| gauss_kronrod(|x| 1.0 - law.cdf(x), w[0], w[1], 1e-11, 1e-11, 400).value)
            .sum();
        let mean = lo + tail;
        prop_assert!((mean - law.mean()).abs() < 1e-7 * law.mean(), "{}x{}: {} vs {}", ni, nh, mean, law.mean());
        prop_assert!(law.cdf(lo - 1e-9) == 0.0);
        prop_assert!(law.cdf(hi) > 1.0 - 1e-9);
        // Central difference of the CDF equals the density away from the edges of the support.
        for f in [0.2, 0.45, 0.7] {
            let x = a + 1.0 + f * (b - a);
            let h = 1e-4 * (b - a).max(0.05);
            let deriv = (law.cdf(x + h) - law.cdf(x - h)) / (2.0 * h);
            let p = law.pdf(x);
            prop_assert!((deriv - p).abs() < 1e-4 * (1.0 + p) , "{}x{} at {}: {} vs {}", ni, nh, x, deriv, p);
        }
    }
}
