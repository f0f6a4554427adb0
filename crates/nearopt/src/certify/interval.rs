//! Rigorous interval arithmetic on the fixed-point grid `2^-p` over big integers.
//!
//! An [`Interval`] `[lo, hi]` stands for `[lo·2^-p, hi·2^-p]` and always contains the exact
//! value: every operation rounds its lower end down (`⌊·⌋`) and its upper end up (`⌈·⌉`) on the
//! grid. Products and quotients take the extremes over the four corner combinations (exact for
//! boxes, since `xy` and `x/y` are monotone in each argument on a box not straddling a pole);
//! `√` is monotone and uses the exact integer square root; `atan` is monotone and is evaluated at
//! each end by argument halving and an alternating Taylor series whose truncation error is bounded
//! by the first omitted term. Nothing here relies on a floating-point library's accuracy claims.

use num_bigint::BigInt;
use num_integer::Integer;
use num_traits::{One, Signed, Zero};

/// `[lo·2^-p, hi·2^-p]` for the context's `p`.
#[derive(Clone, Debug, PartialEq)]
pub struct Interval {
    /// Lower end on the grid.
    pub lo: BigInt,
    /// Upper end on the grid.
    pub hi: BigInt,
}

impl Interval {
    /// The single grid point `v`.
    pub fn point(v: BigInt) -> Self {
        Interval {
            lo: v.clone(),
            hi: v,
        }
    }

    /// `[0, 0]`.
    pub fn zero() -> Self {
        Self::point(BigInt::zero())
    }

    /// `self + o`.
    pub fn add(&self, o: &Interval) -> Interval {
        Interval {
            lo: &self.lo + &o.lo,
            hi: &self.hi + &o.hi,
        }
    }

    /// `self − o`.
    pub fn sub(&self, o: &Interval) -> Interval {
        Interval {
            lo: &self.lo - &o.hi,
            hi: &self.hi - &o.lo,
        }
    }

    /// `−self`.
    pub fn neg(&self) -> Interval {
        Interval {
            lo: -&self.hi,
            hi: -&self.lo,
        }
    }

    /// Whether zero lies in the interval.
    pub fn contains_zero(&self) -> bool {
        !self.lo.is_positive() && !self.hi.is_negative()
    }

    /// Width `hi − lo` in grid units.
    pub fn width(&self) -> BigInt {
        &self.hi - &self.lo
    }

    fn abs_max(&self) -> BigInt {
        self.lo.abs().max(self.hi.abs())
    }
}

/// `⌈a / b⌉` for `b > 0`.
fn div_ceil(a: &BigInt, b: &BigInt) -> BigInt {
    -((-a).div_floor(b))
}

/// The precision context: all intervals of one computation live on the grid `2^-p`.
#[derive(Clone, Copy, Debug)]
pub struct Fixed {
    /// Fractional bits.
    pub p: u32,
}

impl Fixed {
    fn one_raw(&self) -> BigInt {
        BigInt::one() << self.p as usize
    }

    /// The integer `k` (exact).
    pub fn int(&self, k: i64) -> Interval {
        Interval::point(BigInt::from(k) << self.p as usize)
    }

    /// Rounds the scaled product `v · 2^-2p` outward to the grid.
    fn round_down2(&self, v: &BigInt) -> BigInt {
        v.div_floor(&self.one_raw())
    }

    fn round_up2(&self, v: &BigInt) -> BigInt {
        div_ceil(v, &self.one_raw())
    }

    /// `a · b`.
    pub fn mul(&self, a: &Interval, b: &Interval) -> Interval {
        let c = [&a.lo * &b.lo, &a.lo * &b.hi, &a.hi * &b.lo, &a.hi * &b.hi];
        let min = c.iter().min().expect("four products");
        let max = c.iter().max().expect("four products");
        Interval {
            lo: self.round_down2(min),
            hi: self.round_up2(max),
        }
    }

    /// `a²` (tighter than `mul(a, a)` when `a` straddles zero).
    pub fn square(&self, a: &Interval) -> Interval {
        if a.contains_zero() {
            let m = a.abs_max();
            Interval {
                lo: BigInt::zero(),
                hi: self.round_up2(&(&m * &m)),
            }
        } else {
            self.mul(a, a)
        }
    }

    /// `a / b`; `None` when `b` contains zero.
    pub fn div(&self, a: &Interval, b: &Interval) -> Option<Interval> {
        if b.contains_zero() {
            return None;
        }
        let one = self.one_raw();
        let mut lo: Option<BigInt> = None;
        let mut hi: Option<BigInt> = None;
        for x in [&a.lo, &a.hi] {
            for y in [&b.lo, &b.hi] {
                // x/y on the grid: (x · 2^p) / y, with y's sign folded into the numerator.
                let (num, den) = if y.is_negative() {
                    (-(x * &one), -y.clone())
                } else {
                    (x * &one, y.clone())
                };
                let f = num.div_floor(&den);
                let c = div_ceil(&num, &den);
                lo = Some(lo.map_or(f.clone(), |l| l.min(f)));
                hi = Some(hi.map_or(c.clone(), |h| h.max(c)));
            }
        }
        Some(Interval {
            lo: lo.expect("four quotients"),
            hi: hi.expect("four quotients"),
        })
    }

    /// `a / k` for a positive integer `k`.
    pub fn div_int(&self, a: &Interval, k: u64) -> Interval {
        let k = BigInt::from(k);
        Interval {
            lo: a.lo.div_floor(&k),
            hi: div_ceil(&a.hi, &k),
        }
    }

    /// `√a`; `None` when `a` has a negative part.
    pub fn sqrt(&self, a: &Interval) -> Option<Interval> {
        if a.lo.is_negative() {
            return None;
        }
        let lo = (&a.lo << self.p as usize).sqrt();
        let n = &a.hi << self.p as usize;
        let mut hi = n.sqrt();
        if &hi * &hi < n {
            hi += 1;
        }
        Some(Interval { lo, hi })
    }

    /// An enclosure of `atan(x)` for the grid point `x`.
    fn atan_point(&self, x: &BigInt) -> Interval {
        let t0 = Interval::point(x.clone());
        if x.is_zero() {
            return t0;
        }
        // atan(t) = 2 atan(t / (1 + √(1 + t²))): the first step brings |t| below 1, each further
        // one roughly halves it. Stop at |t| ≤ 2^-8 (cheap series: 16 bits per term).
        let one = self.int(1);
        let small = BigInt::one() << (self.p.saturating_sub(8)) as usize;
        let mut t = t0;
        let mut doublings = 0u32;
        while t.abs_max() > small && doublings < 4096 {
            let r = self
                .sqrt(&one.add(&self.square(&t)))
                .expect("1 + t² is positive");
            t = self.div(&t, &one.add(&r)).expect("1 + √(1+t²) ≥ 1");
            doublings += 1;
        }
        // Σ_{j<N} (−1)^j t^{2j+1}/(2j+1); for |t| < 1 the terms decrease and alternate, so the
        // remainder is at most |t|^{2N+1}/(2N+1) in magnitude.
        let t2 = self.square(&t);
        let mut power = t.clone();
        let mut sum = Interval::zero();
        let mut j: u64 = 0;
        loop {
            let term = self.div_int(&power, 2 * j + 1);
            sum = if j.is_multiple_of(2) {
                sum.add(&term)
            } else {
                sum.sub(&term)
            };
            power = self.mul(&power, &t2);
            j += 1;
            // The next term's magnitude bound; stop once it is below one grid unit.
            let bound = div_ceil(&power.abs_max(), &BigInt::from(2 * j + 1));
            if bound <= BigInt::one() || j > 4 * self.p as u64 + 8 {
                sum.lo -= &bound;
                sum.hi += &bound;
                break;
            }
        }
        Interval {
            lo: sum.lo << doublings as usize,
            hi: sum.hi << doublings as usize,
        }
    }

    /// `atan(a)` (monotone: the lower end of the enclosure at `a.lo`, the upper at `a.hi`).
    pub fn atan(&self, a: &Interval) -> Interval {
        if a.lo == a.hi {
            return self.atan_point(&a.lo);
        }
        Interval {
            lo: self.atan_point(&a.lo).lo,
            hi: self.atan_point(&a.hi).hi,
        }
    }

    /// `a` rounded to `f64` (midpoint; for display and tests only).
    pub fn to_f64(&self, a: &Interval) -> f64 {
        let mid = num_rational::BigRational::new(&a.lo + &a.hi, BigInt::from(2) * self.one_raw());
        num_traits::ToPrimitive::to_f64(&mid).unwrap_or(f64::NAN)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encloses(ctx: &Fixed, a: &Interval, x: f64, tol: f64) -> bool {
        // `x` (an f64 reference, accurate to ~1 ulp) must lie within the interval widened by
        // the reference's own error `tol`.
        let s = (1u128 << ctx.p) as f64;
        let lo = num_traits::ToPrimitive::to_f64(&a.lo).unwrap() / s;
        let hi = num_traits::ToPrimitive::to_f64(&a.hi).unwrap() / s;
        lo - tol <= x && x <= hi + tol
    }

    #[test]
    fn elementary_operations_enclose_f64_references() {
        let ctx = Fixed { p: 80 };
        let third = ctx.div(&ctx.int(1), &ctx.int(3)).unwrap();
        assert!(encloses(&ctx, &third, 1.0 / 3.0, 1e-16));
        assert!(third.width() <= BigInt::from(2));
        let r = ctx.sqrt(&ctx.int(2)).unwrap();
        assert!(encloses(&ctx, &r, 2f64.sqrt(), 1e-16));
        let sq = ctx.square(&r);
        assert!(sq.lo <= ctx.int(2).lo && ctx.int(2).hi <= sq.hi);
        for &x in &[0.001f64, 0.3, -0.9, 1.0, 7.5, -1234.5, 1e6] {
            // The grid point nearest x·2^10, and its exact value as f64.
            let k = (x * 1024.0).round() as i64;
            let x = k as f64 / 1024.0;
            let xi = Interval::point(BigInt::from(k) << (ctx.p as usize - 10));
            let a = ctx.atan(&xi);
            assert!(
                encloses(&ctx, &a, x.atan(), 4e-16 * x.atan().abs()),
                "atan({x})"
            );
            assert!(a.width() < BigInt::from(1u64 << 20), "atan({x}) too wide");
        }
        assert!(ctx.div(&ctx.int(1), &Interval::zero()).is_none());
        assert!(ctx.sqrt(&ctx.int(-1)).is_none());
    }

    /// π/4 = 4 atan(1/5) − atan(1/239) (Machin) at 300 bits against atan(1) = π/4: the two
    /// enclosures must overlap and both be narrow — a check at a precision f64 cannot reach.
    #[test]
    fn machin_formula_holds_at_high_precision() {
        let ctx = Fixed { p: 300 };
        let one = ctx.int(1);
        let a = ctx.atan(&ctx.div_int(&one, 5));
        let b = ctx.atan(&ctx.div_int(&one, 239));
        let four_a = a.add(&a).add(&a).add(&a);
        let machin = four_a.sub(&b);
        let direct = ctx.atan(&one);
        assert!(
            machin.lo <= direct.hi && direct.lo <= machin.hi,
            "{machin:?} {direct:?}"
        );
        assert!(machin.width() < BigInt::from(1u64 << 16));
        assert!(direct.width() < BigInt::from(1u64 << 16));
        // And a wrong identity is told apart: 4 atan(1/5) alone is not π/4.
        assert!(four_a.lo > direct.hi);
    }
}
