//! Laws of `nearopt::theory`: normalisation, means, CDF consistency (independent quadrature).

use nearopt::theory::quadrature::gauss_kronrod;
use nearopt::theory::{
    ChiSquareMpConvolution, Law, LinearSpectrumLaw, MarchenkoPastur, ScaledChiSquare,
};

#[test]
fn smoke_print() {
    for (ni, nh) in [(10, 20), (20, 10), (10, 10), (50, 1), (1, 50), (100, 400)] {
        let l = LinearSpectrumLaw::new(ni, nh).unwrap();
        let (lo, hi) = l.support();
        let t = std::time::Instant::now();
        let q = gauss_kronrod(|x| l.pdf(x), lo, hi, 1e-10, 0.0, 400);
        let m = gauss_kronrod(|x| x * l.pdf(x), lo, hi, 1e-10, 0.0, 400);
        println!(
            "{ni} {nh} int {:?} mean {:?} vs {} cdf(hi) {} {:?}",
            q,
            m.value,
            l.mean(),
            l.cdf(hi),
            t.elapsed()
        );
    }
    let _ = (
        ChiSquareMpConvolution::new(1, 1),
        MarchenkoPastur::new(1, 1),
        ScaledChiSquare::new(1),
    );
}
