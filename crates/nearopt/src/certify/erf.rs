//! Certified ranks for `g(x) = erf(x/√2)`: the Hessian in rigorous interval arithmetic, then an
//! exact inertia count.
//!
//! **Entries.** With `q = |w_m|²`, `q' = |w_p|²`, `c = w_m·w_p` and `Δ = (1+q)(1+q') − c²`
//! (exact dyadics), every pair moment of erf is `2/π` times an expression in `√Δ` and `atan`:
//! `K11 = (2/π)/√Δ`, `K00 = (2/π) atan(c/√Δ)`, `K20 = −K11 c/(1+q)`, `K22 = K11 c/Δ`,
//! `K31 = −K11 (1+q')/Δ` (`docs/derivations.md`). The rank does not change under scaling, so we
//! work with `H' = (π/2) H`, which needs no `π`. Each entry of `H'` (crate docs' formula) is an
//! [`Interval`] on the grid `2^-p` that contains the exact value.
//!
//! **Eigenvalues.** Let `M` be the exact midpoint matrix and `R` the radii, `|H' − M| ≤ R`
//! entrywise. Weyl: `|λ_i(H') − λ_i(M)| ≤ ‖H' − M‖₂ ≤ ‖R‖_F =: ρ`. Sylvester's law of inertia
//! on the exact integer matrix `M − μI` (μ ≥ ρ on the grid) counts, with no rounding at all,
//! `r = #{i : λ_i(M) > μ}`. Then `λ_r(H') > μ − ρ ≥ 0` (so `rank H ≥ r`) and
//! `λ_(r+1)(H') ≤ μ + ρ` (the rest lie in `[0, μ+ρ]`, `H` being positive semidefinite). The
//! structural kernel ([`super::kernel`]) gives `rank H ≤ D − k` exactly. The rank is certified
//! when `r = D − k`; otherwise the precision is doubled (up to a cap) and the test repeated.

use super::bareiss::positive_eigenvalue_count;
use super::dyadic::Dyadic;
use super::interval::{Fixed, Interval};
use crate::network::Network;
use crate::{Error, Result};
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{ToPrimitive, Zero};

/// Interval pair moments of one ordered pair, all scaled by `π/2`.
#[derive(Clone, Debug)]
struct Moments {
    k00: Interval,
    k11: Interval,
    k20: Interval,
    k02: Interval,
    k22: Interval,
    k31: Interval,
    k13: Interval,
}

fn dot(u: &[f64], v: &[f64]) -> Dyadic {
    u.iter().zip(v).fold(Dyadic::zero(), |s, (a, b)| {
        s.add(&Dyadic::from_f64(*a).mul(&Dyadic::from_f64(*b)))
    })
}

fn enclose(ctx: &Fixed, x: &Dyadic) -> Interval {
    let (lo, hi) = x.floor_ceil_scaled(ctx.p as i64);
    Interval { lo, hi }
}

fn pair_moments(ctx: &Fixed, u: &[f64], v: &[f64]) -> Moments {
    let one = Dyadic::int(1);
    let q1p = one.add(&dot(u, u));
    let q2p = one.add(&dot(v, v));
    let c = dot(u, v);
    let delta = q1p.mul(&q2p).sub(&c.mul(&c));
    let (di, ci) = (enclose(ctx, &delta), enclose(ctx, &c));
    let (q1i, q2i) = (enclose(ctx, &q1p), enclose(ctx, &q2p));
    // Δ ≥ 1 + q + q' ≥ 1 (Cauchy–Schwarz), so every division below is by an interval ≥ 1.
    let s = ctx.sqrt(&di).expect("Δ > 0");
    let k11 = ctx.div(&ctx.int(1), &s).expect("√Δ ≥ 1");
    let k00 = ctx.atan(&ctx.div(&ci, &s).expect("√Δ ≥ 1"));
    let k11c = ctx.mul(&k11, &ci);
    let k20 = ctx.div(&k11c, &q1i).expect("1 + q ≥ 1").neg();
    let k02 = ctx.div(&k11c, &q2i).expect("1 + q' ≥ 1").neg();
    let k22 = ctx.div(&k11c, &di).expect("Δ ≥ 1");
    let k31 = ctx.div(&ctx.mul(&k11, &q2i), &di).expect("Δ ≥ 1").neg();
    let k13 = ctx.div(&ctx.mul(&k11, &q1i), &di).expect("Δ ≥ 1").neg();
    Moments {
        k00,
        k11,
        k20,
        k02,
        k22,
        k31,
        k13,
    }
}

fn swapped(k: &Moments) -> Moments {
    Moments {
        k20: k.k02.clone(),
        k02: k.k20.clone(),
        k31: k.k13.clone(),
        k13: k.k31.clone(),
        ..k.clone()
    }
}

/// The `D × D` interval enclosure (row-major) of `(π/2) H` for an erf network at grid `2^-p`;
/// exactly symmetric (the upper triangle is computed and mirrored).
pub fn interval_hessian(net: &Network, p: u32) -> Vec<Interval> {
    let ctx = Fixed { p };
    let (ni, nh, d) = (net.ni(), net.nh(), net.dim());
    let mut mom: Vec<Option<Moments>> = vec![None; nh * nh];
    for m in 0..nh {
        for q in m..nh {
            let k = pair_moments(&ctx, net.w1_row(m), net.w1_row(q));
            mom[q * nh + m] = Some(swapped(&k));
            mom[m * nh + q] = Some(k);
        }
    }
    let k = |m: usize, p: usize| mom[m * nh + p].as_ref().expect("all pairs filled");
    let w = |m: usize, n: usize| Dyadic::from_f64(net.w1()[m * ni + n]);
    let a = |m: usize| Dyadic::from_f64(net.w2()[m]);
    let mut h = vec![Interval::zero(); d * d];
    for i in 0..d {
        for j in i..d {
            let v = if j < nh * ni {
                // Both in W1: i = (m, n), j = (p, q).
                let (m, n, p, q) = (i / ni, i % ni, j / ni, j % ni);
                let km = k(m, p);
                let d1 = w(m, n).mul(&w(m, q));
                let d2 = w(m, n).mul(&w(p, q)).add(&w(p, n).mul(&w(m, q)));
                let d3 = w(p, n).mul(&w(p, q));
                let mut s = ctx.mul(&enclose(&ctx, &d1), &km.k31);
                s = s.add(&ctx.mul(&enclose(&ctx, &d2), &km.k22));
                s = s.add(&ctx.mul(&enclose(&ctx, &d3), &km.k13));
                if n == q {
                    s = s.add(&km.k11);
                }
                ctx.mul(&enclose(&ctx, &a(m).mul(&a(p))), &s)
            } else if i < nh * ni {
                // i = (m, n) in W1, j = W2[kk].
                let (m, n, kk) = (i / ni, i % ni, j - nh * ni);
                let km = k(m, kk);
                let s = ctx
                    .mul(&enclose(&ctx, &w(m, n)), &km.k20)
                    .add(&ctx.mul(&enclose(&ctx, &w(kk, n)), &km.k11));
                ctx.mul(&enclose(&ctx, &a(m)), &s)
            } else {
                k(i - nh * ni, j - nh * ni).k00.clone()
            };
            h[j * d + i] = v.clone();
            h[i * d + j] = v;
        }
    }
    h
}

/// Outcome of one precision level.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Attempt {
    /// Fractional bits of the grid.
    pub bits: u32,
    /// Eigenvalues proven positive at this precision.
    pub proven_positive: usize,
    /// The Weyl bound `ρ = ‖R‖_F` on `‖H − H̃‖₂` (in units of `H`).
    pub error_bound: f64,
}

/// The certificate for an erf network.
#[derive(Clone, Debug, PartialEq)]
pub struct ErfCertificate {
    /// Eigenvalues proven positive at the last precision tried.
    pub rank_lower: usize,
    /// `D −` the exact structural kernel dimension.
    pub rank_upper: usize,
    /// Precision levels tried, in order.
    pub attempts: Vec<Attempt>,
    /// A lower bound on the smallest nonzero eigenvalue `λ_r(H)` (certified runs with
    /// `bound_kept` only).
    pub smallest_kept_lower_bound: Option<f64>,
    /// Every eigenvalue not counted lies in `[0, dropped_upper_bound]`.
    pub dropped_upper_bound: f64,
}

/// Units of `2^-(p+1)` (the midpoint grid) as an `f64` in units of `H = (2/π) H'`.
fn to_h_units(v: &BigInt, p: u32) -> f64 {
    let r = BigRational::new(v.clone(), BigInt::from(1) << (p as usize + 1));
    r.to_f64().unwrap_or(f64::INFINITY) * std::f64::consts::FRAC_2_PI
}

/// `#{λ(M) > μ}` for the integer midpoint matrix, shifting `μ` up by a grid unit while a leading
/// minor is exactly zero. Returns the count and the `μ` used.
fn count_above(mid: &[BigInt], d: usize, mu: &BigInt) -> Result<(usize, BigInt)> {
    for bump in 0..64u32 {
        let mu = mu + bump;
        let mut a = mid.to_vec();
        for i in 0..d {
            a[i * d + i] -= &mu;
        }
        if let Some(c) = positive_eigenvalue_count(&a, d) {
            return Ok((c, mu));
        }
    }
    Err(Error::Numerical(
        "inertia test kept meeting exactly singular leading minors".into(),
    ))
}

/// Midpoints, and `ρ = ⌈‖R‖_F⌉`, both in units of `2^-(p+1)`.
fn midpoint_and_radius(h: &[Interval]) -> (Vec<BigInt>, BigInt) {
    let mid: Vec<BigInt> = h.iter().map(|v| &v.lo + &v.hi).collect();
    let sum: BigInt = h.iter().map(|v| v.width() * v.width()).sum();
    let mut rho = sum.sqrt();
    if &rho * &rho < sum {
        rho += 1;
    }
    (mid, rho)
}

/// A proven lower bound on `λ_r(H)` (`r = count`), by bisection on the exponent `j` of
/// `μ = ρ·2^j` at `bits` (64 more than the certifying precision, so that `ρ` is far below `λ_r`
/// and the bracket is within a factor of about 2). `None` if the count at `ρ` is not `count`.
fn bracket_smallest(net: &Network, d: usize, count: usize, bits: u32) -> Result<Option<f64>> {
    let h = interval_hessian(net, bits);
    let (mid, rho) = midpoint_and_radius(&h);
    let base = if rho.is_zero() {
        BigInt::from(1)
    } else {
        rho.clone()
    };
    if count_above(&mid, d, &base)?.0 != count {
        return Ok(None);
    }
    // Largest j with #{λ(M) > ρ·2^j} = count: then λ_r(H') > ρ(2^j − 1).
    let trace: BigInt = (0..d).map(|i| &mid[i * d + i]).sum();
    let top = (trace.bits() as i64 - base.bits() as i64 + 2).max(1) as u32;
    let (mut lo, mut hi) = (0u32, top);
    while lo < hi {
        let j = (lo + hi).div_ceil(2);
        let (c, _) = count_above(&mid, d, &(&base << j as usize))?;
        if c == count {
            lo = j;
        } else {
            hi = j - 1;
        }
    }
    let bound = (&base << lo as usize) - &rho;
    Ok(Some(to_h_units(&bound, bits) * (1.0 - 1e-12)))
}

/// Tries precisions `start_bits, 2·start_bits, …` up to `max_bits` until `proven positive =
/// rank_upper`. With `bound_kept`, a certified run also brackets `λ_r` by bisection on the
/// exponent of `μ` (about `log₂ p` more inertia counts).
pub fn certify(
    net: &Network,
    rank_upper: usize,
    start_bits: u32,
    max_bits: u32,
    bound_kept: bool,
) -> Result<ErfCertificate> {
    let d = net.dim();
    let mut bits = start_bits.clamp(16, max_bits.max(16));
    let mut attempts = Vec::new();
    loop {
        let h = interval_hessian(net, bits);
        let (mid, rho) = midpoint_and_radius(&h);
        let (count, mu) = count_above(&mid, d, &rho)?;
        attempts.push(Attempt {
            bits,
            proven_positive: count,
            error_bound: to_h_units(&rho, bits),
        });
        if count > rank_upper {
            return Err(Error::Numerical(format!(
                "{count} eigenvalues proven positive but the exact kernel allows at most {rank_upper}: \
                 inconsistent certificate (please report this network)"
            )));
        }
        let done = count == rank_upper || bits >= max_bits;
        if !done {
            bits = bits.saturating_mul(2).min(max_bits);
            continue;
        }
        let dropped = to_h_units(&(&mu + &rho), bits) * (1.0 + 1e-12);
        let mut kept = None;
        if count == rank_upper && count > 0 && bound_kept {
            kept = bracket_smallest(net, d, count, bits + 64)?;
        }
        return Ok(ErfCertificate {
            rank_lower: count,
            rank_upper,
            attempts,
            smallest_kept_lower_bound: kept,
            dropped_upper_bound: dropped,
        });
    }
}
