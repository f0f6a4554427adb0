//! Exact dyadic rationals `m · 2^e`: every finite `f64` is one, and sums and products of them
//! stay dyadic, so the Gram quantities `q = |w|²`, `c = w·w'` and `Δ = (1+q1)(1+q2) − c²` of a
//! network are computed without any rounding.

use num_bigint::BigInt;
use num_integer::Integer;
use num_rational::BigRational;
use num_traits::{One, Signed, Zero};

/// `m · 2^e` exactly.
#[derive(Clone, Debug, PartialEq)]
pub struct Dyadic {
    /// Mantissa.
    pub m: BigInt,
    /// Binary exponent.
    pub e: i64,
}

impl Dyadic {
    /// Zero.
    pub fn zero() -> Self {
        Dyadic {
            m: BigInt::zero(),
            e: 0,
        }
    }

    /// The integer `k`.
    pub fn int(k: i64) -> Self {
        Dyadic {
            m: BigInt::from(k),
            e: 0,
        }
    }

    /// The exact value of a finite `f64` (panics on NaN or ±∞, which networks never hold).
    pub fn from_f64(x: f64) -> Self {
        assert!(x.is_finite(), "Dyadic::from_f64 of a non-finite number");
        if x == 0.0 {
            return Self::zero();
        }
        let bits = x.to_bits();
        let sign = if bits >> 63 == 1 { -1 } else { 1 };
        let exp = ((bits >> 52) & 0x7ff) as i64;
        let frac = bits & ((1u64 << 52) - 1);
        let (mant, e) = if exp == 0 {
            (frac, -1074)
        } else {
            (frac | (1u64 << 52), exp - 1075)
        };
        Dyadic {
            m: BigInt::from(sign) * BigInt::from(mant),
            e,
        }
    }

    fn aligned(&self, e: i64) -> BigInt {
        debug_assert!(e <= self.e);
        &self.m << ((self.e - e) as usize)
    }

    /// `self + o`, exact.
    pub fn add(&self, o: &Dyadic) -> Dyadic {
        let e = self.e.min(o.e);
        Dyadic {
            m: self.aligned(e) + o.aligned(e),
            e,
        }
    }

    /// `self − o`, exact.
    pub fn sub(&self, o: &Dyadic) -> Dyadic {
        let e = self.e.min(o.e);
        Dyadic {
            m: self.aligned(e) - o.aligned(e),
            e,
        }
    }

    /// `self · o`, exact.
    pub fn mul(&self, o: &Dyadic) -> Dyadic {
        Dyadic {
            m: &self.m * &o.m,
            e: self.e + o.e,
        }
    }

    /// Whether the value is zero.
    pub fn is_zero(&self) -> bool {
        self.m.is_zero()
    }

    /// Whether the value is negative.
    pub fn is_negative(&self) -> bool {
        self.m.is_negative()
    }

    /// `⌊self · 2^p⌋` and `⌈self · 2^p⌉`: the tightest enclosure on the grid `2^-p`.
    pub fn floor_ceil_scaled(&self, p: i64) -> (BigInt, BigInt) {
        let s = self.e + p;
        if s >= 0 {
            let v = &self.m << (s as usize);
            (v.clone(), v)
        } else {
            let d = BigInt::one() << ((-s) as usize);
            let (q, r) = self.m.div_mod_floor(&d);
            if r.is_zero() {
                (q.clone(), q)
            } else {
                let q1 = &q + 1;
                (q, q1)
            }
        }
    }

    /// The exact rational value.
    pub fn to_rational(&self) -> BigRational {
        if self.e >= 0 {
            BigRational::from_integer(&self.m << (self.e as usize))
        } else {
            BigRational::new(self.m.clone(), BigInt::one() << ((-self.e) as usize))
        }
    }
}

/// The exact rational value of a finite `f64`.
pub fn rational(x: f64) -> BigRational {
    Dyadic::from_f64(x).to_rational()
}

#[cfg(test)]
mod tests {
    use super::*;
    use num_traits::ToPrimitive;

    #[test]
    fn f64_values_round_trip_exactly() {
        for &x in &[
            1.0,
            -0.1,
            3.5e-300,
            f64::MIN_POSITIVE / 8.0,
            -1.7976931348623157e308,
            0.0,
        ] {
            let r = rational(x);
            assert_eq!(r.to_f64().unwrap(), x, "{x}");
        }
        // 0.1 is not 1/10: the exact dyadic differs from it.
        assert_ne!(rational(0.1), BigRational::new(1.into(), 10.into()));
    }

    #[test]
    fn arithmetic_is_exact_and_enclosures_are_tight() {
        let a = Dyadic::from_f64(0.75);
        let b = Dyadic::from_f64(-2.5);
        assert_eq!(a.mul(&b).to_rational(), rational(-1.875));
        assert_eq!(a.add(&b).to_rational(), rational(-1.75));
        assert_eq!(a.sub(&b).to_rational(), rational(3.25));
        let (lo, hi) = Dyadic::from_f64(-1.0 / 3.0).floor_ceil_scaled(4);
        assert_eq!((lo, hi), (BigInt::from(-6), BigInt::from(-5)));
        let (lo, hi) = Dyadic::from_f64(0.5).floor_ceil_scaled(1);
        assert_eq!((lo, hi), (BigInt::from(1), BigInt::from(1)));
    }
}
