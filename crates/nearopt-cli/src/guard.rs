//! The CLI's gates: every numeric result passes [`ensure_finite`] (printed reports and tables)
//! or [`ensure_finite_matrix`] (matrices, before they are written or decomposed), so nothing
//! non-finite is ever written or printed; every request is sized before it starts
//! ([`check_memory`], [`check_work`]) with checked arithmetic, and refused in readable units.
//! `docs/reliability.md` lists the families of bad input and the tests that check them.

use anyhow::{bail, Result};
use nearopt::Network;
use std::path::Path;

pub use nearopt::units::readable_bytes;

/// Bytes of `count` f64 numbers; `None` when the count itself overflowed.
pub fn f64_bytes(count: Option<u128>) -> Option<u128> {
    count?.checked_mul(8)
}

/// `a × b` in u128 (sizes of dense matrices and work counts never wrap round).
pub fn mul(a: impl Into<u128>, b: impl Into<u128>) -> Option<u128> {
    a.into().checked_mul(b.into())
}

/// Refuses a request of `bytes` (None: more than 2¹²⁸ bytes) named `what` when it exceeds the
/// memory available ([`nearopt::hessian::available_memory_bytes`]: `NEAROPT_MEMORY_LIMIT` or
/// `MemAvailable`), or — where that is unknown — the address space.
pub fn check_memory(bytes: Option<u128>, what: &str) -> Result<()> {
    let Some(bytes) = bytes else {
        bail!("{what} would need more than 2^128 bytes: refused");
    };
    match nearopt::hessian::available_memory_bytes()? {
        Some(avail) if bytes > avail as u128 => {
            let source = if std::env::var_os("NEAROPT_MEMORY_LIMIT").is_some() {
                "NEAROPT_MEMORY_LIMIT allows"
            } else {
                "the machine has available"
            };
            bail!(
                "{what} needs {} but {source} only {}: refused",
                readable_bytes(bytes),
                readable_bytes(avail as u128)
            )
        }
        None if bytes > (isize::MAX as u128) => {
            bail!(
                "{what} needs {}, more than this machine can address: refused",
                readable_bytes(bytes)
            )
        }
        _ => Ok(()),
    }
}

/// The default limit on the floating-point operations one request may imply: 10¹⁵, about a
/// day at 10 GFLOP/s. `NEAROPT_WORK_LIMIT` (a number of operations, e.g. `1e17`) changes it.
pub const DEFAULT_WORK_LIMIT: f64 = 1e15;

/// The work limit in floating-point operations (`NEAROPT_WORK_LIMIT` or [`DEFAULT_WORK_LIMIT`]).
pub fn work_limit() -> Result<f64> {
    match std::env::var("NEAROPT_WORK_LIMIT") {
        Err(_) => Ok(DEFAULT_WORK_LIMIT),
        Ok(v) => match v.trim().parse::<f64>() {
            Ok(x) if x.is_finite() && x > 0.0 => Ok(x),
            _ => bail!(
                "NEAROPT_WORK_LIMIT must be a positive number of floating-point operations (e.g. 1e16), got `{}`",
                truncate(&v, 40)
            ),
        },
    }
}

/// Refuses a request of `flops` floating-point operations (None: beyond 2¹²⁸) named `what`
/// (which names the flag responsible) above [`work_limit`], before it starts.
pub fn check_work(flops: Option<u128>, what: &str) -> Result<()> {
    let limit = work_limit()?;
    let too_much = match flops {
        None => true,
        Some(f) => f as f64 > limit,
    };
    if too_much {
        let amount = flops.map_or("more than 2^128".to_string(), |f| {
            format!("{:.1e}", f as f64)
        });
        bail!(
            "{what} would take {amount} floating-point operations, more than the limit of {limit:.0e} \
             (about {} at 10 GFLOP/s; set NEAROPT_WORK_LIMIT to allow more): refused",
            readable_seconds(limit / 1e10)
        );
    }
    Ok(())
}

/// A duration in the unit that shows it (`3 s`, `17 min`, `28 h`, `12 days`).
pub fn readable_seconds(s: f64) -> String {
    if s < 120.0 {
        format!("{s:.0} s")
    } else if s < 7200.0 {
        format!("{:.0} min", s / 60.0)
    } else if s < 3.0 * 86400.0 {
        format!("{:.0} h", s / 3600.0)
    } else {
        format!("{:.0} days", s / 86400.0)
    }
}

/// At most `max` characters of `s`, with `…` when cut (error messages never echo unbounded
/// input).
pub fn truncate(s: &str, max: usize) -> String {
    let mut t: String = s.chars().take(max).collect();
    if t.len() < s.len() {
        t.push('…');
    }
    t
}

/// The name of parameter `i` of `net` in the order of `INTERFACE.md`.
pub fn parameter_name(net: &Network, i: usize) -> String {
    let (ni, nh) = (net.ni(), net.nh());
    if i < nh * ni {
        format!("W1[{}][{}]", i / ni, i % ni)
    } else if i < nh * ni + nh {
        format!("W2[{}]", i - nh * ni)
    } else {
        format!("parameter {i}")
    }
}

/// What in `net` can make float64 overflow: the largest weights and the activation.
pub fn overflow_suspects(net: &Network) -> String {
    let max = |v: &[f64]| v.iter().fold(0.0f64, |m, x| m.max(x.abs()));
    let act = serde_json::to_string(net.activation()).unwrap_or_default();
    let degree = match net.activation() {
        nearopt::Activation::Polynomial { coefficients } => format!(
            " (degree {}, |c_k| up to {:.3e})",
            coefficients.len().saturating_sub(1),
            max(coefficients)
        ),
        _ => String::new(),
    };
    format!(
        "weights |W1| up to {:.3e}, |W2| up to {:.3e}, activation {}{degree}",
        max(net.w1()),
        max(net.w2()),
        truncate(&act, 80)
    )
}

/// The matrix gate: refuses a `rows × cols` row-major `data` with a non-finite entry, naming
/// `quantity`, the first bad entry (through `entry_name`), `source` (the input file) and what in
/// it overflowed (`cause`).
pub fn ensure_finite_matrix(
    data: &[f64],
    cols: usize,
    quantity: &str,
    source: &Path,
    entry_name: impl Fn(usize, usize) -> String,
    cause: impl FnOnce() -> String,
) -> Result<()> {
    let Some(k) = data.iter().position(|v| !v.is_finite()) else {
        return Ok(());
    };
    let (i, j) = (k / cols.max(1), k % cols.max(1));
    let bad = data.iter().filter(|v| !v.is_finite()).count();
    bail!(
        "{quantity} of {}: entry [{i}, {j}] ({}) is {} ({bad} of {} entries non-finite): the float64 \
         range overflowed ({}); refusing to write or print a non-finite result",
        source.display(),
        entry_name(i, j),
        data[k],
        data.len(),
        cause()
    )
}

/// The Hessian gate shared by `hessian` and `spectrum`: a `D × D` Hessian of `net` (read from
/// `source`) must be finite; entries are named by their parameters.
pub fn ensure_finite_hessian(
    data: &[f64],
    net: &Network,
    quantity: &str,
    source: &Path,
) -> Result<()> {
    ensure_finite_matrix(
        data,
        net.dim(),
        quantity,
        source,
        |i, j| format!("∂²/∂{} ∂{}", parameter_name(net, i), parameter_name(net, j)),
        || overflow_suspects(net),
    )
}

/// The gate of printed results: refuses `value` (a report or a table row) if any float in it is
/// non-finite, naming the field (`eigenvalues[3]`) and `context` (what it is a result of).
/// Serialising to JSON would silently print such a number as `null`.
pub fn ensure_finite<T: serde::Serialize + ?Sized>(value: &T, context: &str) -> Result<()> {
    let mut finder = FloatFinder::default();
    // The visitor only fails on the first non-finite float.
    if value.serialize(&mut finder).is_err() {
        if let Some((path, v)) = finder.found {
            bail!(
                "{context}: `{}` is {v}; refusing to print a non-finite result",
                truncate(&path, 80)
            );
        }
        bail!("{context}: the result could not be checked");
    }
    Ok(())
}

/// A serde serializer that writes nothing: it walks a value and stops at the first non-finite
/// float, remembering the path to it.
#[derive(Default)]
struct FloatFinder {
    path: Vec<String>,
    found: Option<(String, f64)>,
    index: Vec<usize>,
}

#[derive(Debug)]
struct Found;

impl std::fmt::Display for Found {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("non-finite float")
    }
}
impl std::error::Error for Found {}
impl serde::ser::Error for Found {
    fn custom<T: std::fmt::Display>(_: T) -> Self {
        Found
    }
}

impl FloatFinder {
    fn float(&mut self, v: f64) -> std::result::Result<(), Found> {
        if v.is_finite() {
            return Ok(());
        }
        self.found = Some((self.path.concat(), v));
        Err(Found)
    }
    fn push_index(&mut self) {
        let i = self.index.last_mut().map_or(0, |i| {
            *i += 1;
            *i - 1
        });
        self.path.push(format!("[{i}]"));
    }
    fn push_field(&mut self, key: &str) {
        let sep = if self.path.is_empty() { "" } else { "." };
        self.path.push(format!("{sep}{key}"));
    }
}

type R = std::result::Result<(), Found>;

macro_rules! ignore {
    ($($name:ident($t:ty)),*) => {$(
        fn $name(self, _: $t) -> R { Ok(()) }
    )*};
}

impl serde::Serializer for &mut FloatFinder {
    type Ok = ();
    type Error = Found;
    type SerializeSeq = Self;
    type SerializeTuple = Self;
    type SerializeTupleStruct = Self;
    type SerializeTupleVariant = Self;
    type SerializeMap = Self;
    type SerializeStruct = Self;
    type SerializeStructVariant = Self;
    ignore!(
        serialize_bool(bool),
        serialize_i8(i8),
        serialize_i16(i16),
        serialize_i32(i32),
        serialize_i64(i64),
        serialize_u8(u8),
        serialize_u16(u16),
        serialize_u32(u32),
        serialize_u64(u64),
        serialize_char(char),
        serialize_str(&str),
        serialize_bytes(&[u8])
    );
    fn serialize_f32(self, v: f32) -> R {
        self.float(v as f64)
    }
    fn serialize_f64(self, v: f64) -> R {
        self.float(v)
    }
    fn serialize_none(self) -> R {
        Ok(())
    }
    fn serialize_some<T: serde::Serialize + ?Sized>(self, v: &T) -> R {
        v.serialize(self)
    }
    fn serialize_unit(self) -> R {
        Ok(())
    }
    fn serialize_unit_struct(self, _: &'static str) -> R {
        Ok(())
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, _: &'static str) -> R {
        Ok(())
    }
    fn serialize_newtype_struct<T: serde::Serialize + ?Sized>(self, _: &'static str, v: &T) -> R {
        v.serialize(self)
    }
    fn serialize_newtype_variant<T: serde::Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        v: &T,
    ) -> R {
        v.serialize(self)
    }
    fn serialize_seq(self, _: Option<usize>) -> std::result::Result<Self, Found> {
        self.index.push(0);
        Ok(self)
    }
    fn serialize_tuple(self, _: usize) -> std::result::Result<Self, Found> {
        self.index.push(0);
        Ok(self)
    }
    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> std::result::Result<Self, Found> {
        self.index.push(0);
        Ok(self)
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> std::result::Result<Self, Found> {
        self.index.push(0);
        Ok(self)
    }
    fn serialize_map(self, _: Option<usize>) -> std::result::Result<Self, Found> {
        self.index.push(0);
        Ok(self)
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> std::result::Result<Self, Found> {
        self.index.push(0);
        Ok(self)
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> std::result::Result<Self, Found> {
        self.index.push(0);
        Ok(self)
    }
}

impl FloatFinder {
    fn element<T: serde::Serialize + ?Sized>(&mut self, v: &T) -> R {
        self.push_index();
        v.serialize(&mut *self)?;
        self.path.pop();
        Ok(())
    }
    fn field<T: serde::Serialize + ?Sized>(&mut self, key: &str, v: &T) -> R {
        self.push_field(key);
        v.serialize(&mut *self)?;
        self.path.pop();
        Ok(())
    }
    fn end(&mut self) -> R {
        self.index.pop();
        Ok(())
    }
}

macro_rules! seq_like {
    ($($tr:ident :: $m:ident),*) => {$(
        impl serde::ser::$tr for &mut FloatFinder {
            type Ok = ();
            type Error = Found;
            fn $m<T: serde::Serialize + ?Sized>(&mut self, v: &T) -> R {
                self.element(v)
            }
            fn end(self) -> R {
                FloatFinder::end(self)
            }
        }
    )*};
}
seq_like!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

impl serde::ser::SerializeMap for &mut FloatFinder {
    type Ok = ();
    type Error = Found;
    fn serialize_key<T: serde::Serialize + ?Sized>(&mut self, _: &T) -> R {
        Ok(())
    }
    fn serialize_value<T: serde::Serialize + ?Sized>(&mut self, v: &T) -> R {
        self.element(v)
    }
    fn end(self) -> R {
        FloatFinder::end(self)
    }
}

macro_rules! struct_like {
    ($($tr:ident),*) => {$(
        impl serde::ser::$tr for &mut FloatFinder {
            type Ok = ();
            type Error = Found;
            fn serialize_field<T: serde::Serialize + ?Sized>(
                &mut self,
                key: &'static str,
                v: &T,
            ) -> R {
                self.field(key, v)
            }
            fn end(self) -> R {
                FloatFinder::end(self)
            }
        }
    )*};
}
struct_like!(SerializeStruct, SerializeStructVariant);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finder_names_the_field() {
        #[derive(serde::Serialize)]
        struct Inner {
            x: Vec<f64>,
            y: Option<f64>,
        }
        #[derive(serde::Serialize)]
        struct Outer {
            a: f64,
            inner: Inner,
        }
        let ok = Outer {
            a: 1.0,
            inner: Inner {
                x: vec![1.0, 2.0],
                y: None,
            },
        };
        assert!(ensure_finite(&ok, "t").is_ok());
        let bad = Outer {
            a: 1.0,
            inner: Inner {
                x: vec![1.0, 2.0, f64::NAN],
                y: Some(1.0),
            },
        };
        let e = ensure_finite(&bad, "t").unwrap_err().to_string();
        assert!(e.contains("`inner.x[2]` is NaN"), "{e}");
        let e = ensure_finite(&vec![vec![0.0], vec![1.0, f64::INFINITY]], "t")
            .unwrap_err()
            .to_string();
        assert!(e.contains("`[1][1]` is inf"), "{e}");
    }

    #[test]
    fn sizes_never_wrap() {
        assert_eq!(
            mul(u64::MAX, u64::MAX),
            Some(u64::MAX as u128 * u64::MAX as u128)
        );
        assert_eq!(f64_bytes(mul(u64::MAX, u64::MAX)), None);
        assert!(check_memory(None, "x").is_err());
        assert!(check_work(None, "x").is_err());
        assert!(check_work(Some(10), "x").is_ok());
    }
}
