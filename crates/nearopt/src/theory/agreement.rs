//! Agreement between samples of eigenvalues and a theoretical [`Law`]: the one-sample
//! Kolmogorov–Smirnov test and the Wasserstein-1 distance.

use super::quadrature::gauss_kronrod;
use super::Law;
use serde::{Deserialize, Serialize};
use std::f64::consts::PI;

/// Outcome of a one-sample Kolmogorov–Smirnov test.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct KsResult {
    /// `D_n = sup_x |F_n(x) − F(x)|`.
    pub distance: f64,
    /// `P(D_n ≥ observed)` under the law, from the Kolmogorov distribution with Stephens'
    /// finite-`n` correction (see [`kolmogorov_sf`]).
    pub p_value: f64,
    /// Number of (finite) samples used.
    pub n: usize,
}

/// Survival function of the Kolmogorov distribution, `Q(λ) = P(K > λ)` with
/// `K = sup |B(t)|` of the Brownian bridge: `2 Σ_{k≥1} (−1)^{k−1} e^{−2k²λ²}` for `λ ≥ 1`, and
/// `1 − (√(2π)/λ) Σ_{k≥1} e^{−(2k−1)²π²/(8λ²)}` below (both series converge fast where used).
pub fn kolmogorov_sf(lambda: f64) -> f64 {
    if lambda.is_nan() {
        return f64::NAN;
    }
    if lambda <= 0.0 {
        return 1.0;
    }
    if lambda < 1.0 {
        let mut s = 0.0;
        for k in 1..=20 {
            let m = (2 * k - 1) as f64;
            s += (-m * m * PI * PI / (8.0 * lambda * lambda)).exp();
        }
        (1.0 - (2.0 * PI).sqrt() / lambda * s).clamp(0.0, 1.0)
    } else {
        let mut s = 0.0;
        for k in 1..=100 {
            let kf = k as f64;
            let t = (-2.0 * kf * kf * lambda * lambda).exp();
            s += if k % 2 == 1 { t } else { -t };
            if t < 1e-300 {
                break;
            }
        }
        (2.0 * s).clamp(0.0, 1.0)
    }
}

/// One-sample Kolmogorov–Smirnov test of `samples` against `law` (non-finite samples are dropped).
///
/// `D_n = max_i max(i/n − F(x_(i)), F(x_(i)) − (i−1)/n)` over the sorted samples. The p-value is
/// the exact finite-`n` one, `1 − P(D_n < d)` by [`kolmogorov_cdf_exact`], whenever that is cheap
/// (`n ≤ 2000` and `⌈n d⌉ ≤ 100`); otherwise `Q((√n + 0.12 + 0.11/√n) D_n)` (Stephens 1970,
/// accurate to about a percent, and then only relevant in the far tail or for large `n` where it is
/// better still). With no finite sample the distance is 0 and the p-value 1.
pub fn ks_test(samples: &[f64], law: &dyn Law) -> KsResult {
    let mut xs: Vec<f64> = samples.iter().copied().filter(|x| x.is_finite()).collect();
    let n = xs.len();
    if n == 0 {
        return KsResult {
            distance: 0.0,
            p_value: 1.0,
            n: 0,
        };
    }
    xs.sort_by(f64::total_cmp);
    let nf = n as f64;
    let distance = xs.iter().enumerate().fold(0.0f64, |d, (i, &x)| {
        let f = law.cdf(x);
        d.max((i + 1) as f64 / nf - f).max(f - i as f64 / nf)
    });
    let p_value = ks_p_value(n, distance);
    KsResult {
        distance,
        p_value,
        n,
    }
}

/// The p-value `P(D_n ≥ d)` used by [`ks_test`]: exact where cheap, else Stephens' approximation.
pub fn ks_p_value(n: usize, d: f64) -> f64 {
    if d.is_nan() {
        return f64::NAN;
    }
    if n == 0 || d <= 0.0 {
        return 1.0;
    }
    if d >= 1.0 {
        return 0.0;
    }
    let nf = n as f64;
    if n <= 2000 && (nf * d).ceil() <= 100.0 {
        if let Some(c) = kolmogorov_cdf_exact(n, d) {
            return (1.0 - c).clamp(0.0, 1.0);
        }
    }
    let sn = nf.sqrt();
    kolmogorov_sf((sn + 0.12 + 0.11 / sn) * d)
}

/// `P(D_n < d)` for the two-sided one-sample statistic with `n` samples from a continuous law,
/// exactly, by the matrix method of Marsaglia, Tsang & Wang (J. Stat. Softw. 8(18), 2003):
/// with `k = ⌊nd⌋ + 1`, `m = 2k − 1`, `h = k − nd`, it is `n!/nⁿ · (Hⁿ)_{kk}` for an `m×m` matrix `H`
/// (powers kept in range by decimal exponent bookkeeping). `None` if the matrix would be larger
/// than 199×199, for `n = 0`, or for a NaN `d`.
pub fn kolmogorov_cdf_exact(n: usize, d: f64) -> Option<f64> {
    if n == 0 || d.is_nan() {
        return None;
    }
    if d <= 0.0 {
        return Some(0.0);
    }
    if d >= 1.0 {
        return Some(1.0);
    }
    let nd = n as f64 * d;
    let k = nd.floor() as usize + 1;
    let m = 2 * k - 1;
    if m > 199 {
        return None;
    }
    let h = k as f64 - nd;
    let mut hm = vec![0.0f64; m * m];
    for i in 0..m {
        for j in 0..m {
            if i + 1 >= j {
                hm[i * m + j] = 1.0;
            }
        }
    }
    for i in 0..m {
        hm[i * m] -= h.powi(i as i32 + 1);
        hm[(m - 1) * m + i] -= h.powi((m - i) as i32);
    }
    if 2.0 * h - 1.0 > 0.0 {
        hm[(m - 1) * m] += (2.0 * h - 1.0).powi(m as i32);
    }
    for i in 0..m {
        for j in 0..m {
            if i + 1 > j {
                for g in 1..=(i + 1 - j) {
                    hm[i * m + j] /= g as f64;
                }
            }
        }
    }
    let (q, mut eq) = matrix_power(&hm, 0, m, n);
    let mut s = q[(k - 1) * m + k - 1];
    for i in 1..=n {
        s = s * i as f64 / n as f64;
        if s < 1e-140 {
            s *= 1e140;
            eq -= 140;
        }
    }
    Some(s * 10f64.powi(eq))
}

fn matrix_mul(a: &[f64], b: &[f64], m: usize) -> Vec<f64> {
    let mut c = vec![0.0; m * m];
    for i in 0..m {
        for l in 0..m {
            let ail = a[i * m + l];
            if ail != 0.0 {
                for j in 0..m {
                    c[i * m + j] += ail * b[l * m + j];
                }
            }
        }
    }
    c
}

/// `Aⁿ` with a decimal exponent: returns `(B, e)` with `Aⁿ = B · 10^e` (`A = a · 10^ea`).
fn matrix_power(a: &[f64], ea: i32, m: usize, n: usize) -> (Vec<f64>, i32) {
    if n == 1 {
        return (a.to_vec(), ea);
    }
    let (half, eh) = matrix_power(a, ea, m, n / 2);
    let mut b = matrix_mul(&half, &half, m);
    let mut eb = 2 * eh;
    if n % 2 == 1 {
        b = matrix_mul(a, &b, m);
        eb += ea;
    }
    if b[(m / 2) * m + m / 2] > 1e140 {
        for v in b.iter_mut() {
            *v *= 1e-140;
        }
        eb += 140;
    }
    (b, eb)
}

/// `∫_lo^hi F(x) dx` by adaptive Gauss–Kronrod.
fn integral_of_cdf(law: &dyn Law, lo: f64, hi: f64) -> f64 {
    gauss_kronrod(|x| law.cdf(x), lo, hi, 1e-12, 1e-10, 200).value
}

/// The tails are followed for at most this many steps of one support width (or 1).
const MAX_TAIL_STEPS: usize = 1000;

/// Pieces over which the CDF rises by at most this much use the piecewise-linear model.
const FAST_PIECE: f64 = 1e-3;

/// `∫ |level − F|` over a piece of width `h` on which `F` is linear from `f0` to `f1`.
fn abs_area_linear(level: f64, f0: f64, f1: f64, h: f64) -> f64 {
    let (d0, d1) = (f0 - level, f1 - level);
    if d0 * d1 >= 0.0 {
        0.5 * h * (d0.abs() + d1.abs())
    } else {
        0.5 * h * (d0 * d0 + d1 * d1) / (d1 - d0).abs()
    }
}

/// `∫_a^b |level − F|` by adaptive Gauss–Kronrod, split where `F` crosses `level` (bisection).
fn abs_area_adaptive(law: &dyn Law, level: f64, a: f64, b: f64, f_lo: f64, f_hi: f64) -> f64 {
    let piece = |lo: f64, hi: f64| -> f64 {
        // ∫ |level − F| over [lo, hi] where the sign does not change.
        let mid = law.cdf(0.5 * (lo + hi));
        let int_f = integral_of_cdf(law, lo, hi);
        if mid <= level {
            level * (hi - lo) - int_f
        } else {
            int_f - level * (hi - lo)
        }
    };
    if f_lo < level && f_hi > level {
        let (mut l, mut h) = (a, b);
        for _ in 0..100 {
            let m = 0.5 * (l + h);
            if m <= l || m >= h {
                break;
            }
            if law.cdf(m) < level {
                l = m;
            } else {
                h = m;
            }
        }
        let c = 0.5 * (l + h);
        piece(a, c).max(0.0) + piece(c, b).max(0.0)
    } else {
        piece(a, b).abs()
    }
}

/// Wasserstein-1 distance `∫ |F_n(x) − F(x)| dx` between the empirical law of `samples`
/// (non-finite ones dropped) and `law`.
///
/// Between consecutive order statistics `F_n` is constant. A piece over which `F` rises by more
/// than `1e-3` is integrated by adaptive Gauss–Kronrod, split at the point where `F` crosses the
/// constant (found by bisection) so the integrand is smooth; a narrower piece uses `F` at its end
/// points and midpoint, piecewise linearly (error `O(h³ f')` per piece). So the cost is about two
/// CDF evaluations per sample for large samples. The tails `(−∞, x_(1))` and `(x_(n), ∞)` are integrated out to where
/// `F` (resp. `1 − F`) falls below `1e-14` (at most 1000 support widths; a NaN CDF stops them). Returns 0 for no samples.
pub fn wasserstein1(samples: &[f64], law: &dyn Law) -> f64 {
    let mut xs: Vec<f64> = samples.iter().copied().filter(|x| x.is_finite()).collect();
    let n = xs.len();
    if n == 0 {
        return 0.0;
    }
    xs.sort_by(f64::total_cmp);
    let nf = n as f64;
    let (slo, shi) = law.support();
    let step = (shi - slo).abs().max(1.0);
    let mut total = 0.0;
    // Lower tail: ∫_{-∞}^{x_(1)} F.
    {
        let mut hi = xs[0];
        for _ in 0..MAX_TAIL_STEPS {
            let lo = hi.min(slo) - if hi <= slo { step } else { 0.0 };
            let lo = if lo >= hi { hi - step } else { lo };
            total += integral_of_cdf(law, lo, hi);
            let f = law.cdf(lo);
            if f.is_nan() || f < 1e-14 {
                break;
            }
            hi = lo;
        }
    }
    // Upper tail: ∫_{x_(n)}^{∞} (1 − F).
    {
        let mut lo = xs[n - 1];
        for _ in 0..MAX_TAIL_STEPS {
            let hi = if lo < shi { shi } else { lo + step };
            total += (hi - lo) - integral_of_cdf(law, lo, hi);
            let f = law.cdf(hi);
            if f.is_nan() || 1.0 - f < 1e-14 {
                break;
            }
            lo = hi;
        }
    }
    // Interior pieces [x_(i), x_(i+1)] with F_n = (i+1)/n.
    let mut f_lo = law.cdf(xs[0]);
    for i in 0..n - 1 {
        let (a, b) = (xs[i], xs[i + 1]);
        let f_hi = law.cdf(b);
        if b > a {
            let level = (i + 1) as f64 / nf;
            if f_hi - f_lo <= FAST_PIECE {
                // F changes little over the piece: model it piecewise linearly through the end
                // points and the midpoint (error O(h³ f') per piece, negligible against W1).
                let m = 0.5 * (a + b);
                let f_m = law.cdf(m);
                total += abs_area_linear(level, f_lo, f_m, m - a)
                    + abs_area_linear(level, f_m, f_hi, b - m);
            } else {
                total += abs_area_adaptive(law, level, a, b, f_lo, f_hi);
            }
        }
        f_lo = f_hi;
    }
    total
}
