//! The network file format of `INTERFACE.md` (JSON): reading with messages that name the key,
//! row or column at fault, and writing numbers in the shortest form that reads back bit for bit.
//! The CLI and the Python package both use this module, so the format lives in one place.

use crate::activation::Activation;
use crate::network::Network;
use crate::{Error, Result};
use serde_json::Value;

/// The largest network file the readers accept (256 MiB). A network with `D = 10⁷` parameters
/// written in full precision is about 250 MB, far above any real two-layer teacher; the cap keeps
/// a wrong path such as `/dev/zero` from being read without end.
pub const MAX_NETWORK_FILE_BYTES: u64 = 256 << 20;

/// An error of the file format (the message alone, no prefix).
macro_rules! format_err {
    ($($t:tt)*) => { Error::Format(format!($($t)*)) };
}
macro_rules! fail {
    ($($t:tt)*) => { return Err(format_err!($($t)*)) };
}

/// At most 60 characters of `s` (error messages echo keys, which may be huge).
fn truncate(s: &str) -> String {
    let mut t: String = s.chars().take(60).collect();
    if t.len() < s.len() {
        t.push('…');
    }
    t
}

/// A message of at most ~300 characters: its head and tail around `…` (a library's message may
/// quote a huge value in the middle, e.g. serde's ``unknown variant `…`, expected …``).
fn shorten(s: &str) -> String {
    let n = s.chars().count();
    if n <= 300 {
        return s.to_string();
    }
    let head: String = s.chars().take(200).collect();
    let tail: String = s.chars().skip(n - 90).collect();
    format!("{head}…{tail}")
}

/// Parses a network file's text (`INTERFACE.md`): messages name the key, row or column at fault.
pub fn parse_network(text: &str) -> Result<Network> {
    let value = parse_json_exact(text)?;
    let obj = value
        .as_object()
        .ok_or_else(|| format_err!("the top level must be a JSON object"))?;
    for key in obj.keys() {
        if !["activation", "w1", "w2", "b1", "b2"].contains(&key.as_str()) {
            fail!(
                "unknown key `{}` (expected activation, w1, w2 and the optional b1, b2)",
                truncate(key)
            );
        }
    }
    let act = obj
        .get("activation")
        .ok_or_else(|| format_err!("missing key `activation`"))?;
    let activation: Activation = serde_json::from_value(act.clone())
        .map_err(|e| format_err!("{}", shorten(&e.to_string())))?;
    let w1 = obj
        .get("w1")
        .ok_or_else(|| format_err!("missing key `w1`"))?;
    let rows = w1
        .as_array()
        .ok_or_else(|| format_err!("`w1` must be an array of rows"))?;
    if rows.is_empty() {
        fail!("`w1` is empty: it needs Nh ≥ 1 rows");
    }
    let mut w1v: Vec<Vec<f64>> = Vec::with_capacity(rows.len());
    for (m, row) in rows.iter().enumerate() {
        let r = row
            .as_array()
            .ok_or_else(|| format_err!("`w1` row {m} is not an array"))?;
        if r.is_empty() {
            fail!("`w1` row {m} is empty: it needs Ni ≥ 1 numbers");
        }
        let vals = r
            .iter()
            .enumerate()
            .map(|(n, v)| {
                number(v).ok_or_else(|| {
                    format_err!(
                        "`w1` row {m} column {n} is not a finite number ({})",
                        truncate(&v.to_string())
                    )
                })
            })
            .collect::<Result<Vec<f64>>>()?;
        if let Some(first) = w1v.first() {
            if vals.len() != first.len() {
                fail!(
                    "`w1` is ragged: row {m} has {} numbers but row 0 has {}",
                    vals.len(),
                    first.len()
                );
            }
        }
        w1v.push(vals);
    }
    let w2 = obj
        .get("w2")
        .ok_or_else(|| format_err!("missing key `w2`"))?;
    let w2a = w2
        .as_array()
        .ok_or_else(|| format_err!("`w2` must be an array of numbers"))?;
    let w2v = w2a
        .iter()
        .enumerate()
        .map(|(k, v)| {
            number(v).ok_or_else(|| {
                format_err!(
                    "`w2` entry {k} is not a finite number ({})",
                    truncate(&v.to_string())
                )
            })
        })
        .collect::<Result<Vec<f64>>>()?;
    if w2v.len() != w1v.len() {
        fail!(
            "`w2` has {} numbers but `w1` has {} rows (one per hidden unit)",
            w2v.len(),
            w1v.len()
        );
    }
    let b1 = match obj.get("b1") {
        None => None,
        Some(v) => {
            let arr = v.as_array().ok_or_else(|| {
                format_err!("`b1` must be an array of numbers (one per hidden unit)")
            })?;
            let b = arr
                .iter()
                .enumerate()
                .map(|(k, v)| {
                    number(v)
                        .ok_or_else(|| format_err!("`b1` entry {k} is not a finite number ({v})"))
                })
                .collect::<Result<Vec<f64>>>()?;
            if b.len() != w1v.len() {
                fail!(
                    "`b1` has {} numbers but `w1` has {} rows (one per hidden unit)",
                    b.len(),
                    w1v.len()
                );
            }
            Some(b)
        }
    };
    let b2 = match obj.get("b2") {
        None => None,
        Some(v) => {
            Some(number(v).ok_or_else(|| format_err!("`b2` must be one finite number, got {v}"))?)
        }
    };
    Network::from_rows(activation, &w1v, w2v)?.with_biases(b1, b2)
}

/// Parses JSON text like `serde_json::from_str`, but with every number converted by Rust's
/// correctly rounded `f64::from_str`: serde_json (without its `float_roundtrip` feature) may
/// read a float one unit in the last place off, so a network file would not give back the
/// weights that were written (Python's `json` and NumPy read them exactly).
pub fn parse_json_exact(text: &str) -> Result<Value> {
    // serde_json validates and words the syntax errors (line and column) ...
    serde_json::from_str::<Value>(text).map_err(|e| format_err!("not valid JSON: {e}"))?;
    // ... then the text, known to be valid, is read again with exact numbers.
    let mut p = ExactJson {
        text,
        bytes: text.as_bytes(),
        pos: 0,
    };
    let v = p.value()?;
    Ok(v)
}

/// Recursive-descent reader of JSON text that serde_json has already validated.
struct ExactJson<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
}

impl ExactJson<'_> {
    fn skip_ws(&mut self) {
        while self.pos < self.bytes.len() && self.bytes[self.pos].is_ascii_whitespace() {
            self.pos += 1;
        }
    }

    fn peek(&mut self) -> Result<u8> {
        self.skip_ws();
        self.bytes
            .get(self.pos)
            .copied()
            .ok_or_else(|| format_err!("not valid JSON: unexpected end of input"))
    }

    fn expect(&mut self, b: u8) -> Result<()> {
        if self.peek()? != b {
            fail!(
                "not valid JSON: expected `{}` at byte {}",
                b as char,
                self.pos
            );
        }
        self.pos += 1;
        Ok(())
    }

    fn value(&mut self) -> Result<Value> {
        match self.peek()? {
            b'{' => {
                self.pos += 1;
                let mut map = serde_json::Map::new();
                if self.peek()? == b'}' {
                    self.pos += 1;
                    return Ok(Value::Object(map));
                }
                loop {
                    let key = self.string()?;
                    self.expect(b':')?;
                    let v = self.value()?;
                    if map.contains_key(&key) {
                        fail!("duplicate key `{}` at byte {}", truncate(&key), self.pos);
                    }
                    map.insert(key, v);
                    match self.peek()? {
                        b',' => self.pos += 1,
                        b'}' => {
                            self.pos += 1;
                            return Ok(Value::Object(map));
                        }
                        _ => fail!("not valid JSON: expected `,` or `}}` at byte {}", self.pos),
                    }
                }
            }
            b'[' => {
                self.pos += 1;
                let mut items = Vec::new();
                if self.peek()? == b']' {
                    self.pos += 1;
                    return Ok(Value::Array(items));
                }
                loop {
                    items.push(self.value()?);
                    match self.peek()? {
                        b',' => self.pos += 1,
                        b']' => {
                            self.pos += 1;
                            return Ok(Value::Array(items));
                        }
                        _ => fail!("not valid JSON: expected `,` or `]` at byte {}", self.pos),
                    }
                }
            }
            b'"' => Ok(Value::String(self.string()?)),
            b't' => self.literal("true", Value::Bool(true)),
            b'f' => self.literal("false", Value::Bool(false)),
            b'n' => self.literal("null", Value::Null),
            _ => self.number(),
        }
    }

    fn literal(&mut self, word: &str, v: Value) -> Result<Value> {
        if !self.text[self.pos..].starts_with(word) {
            fail!("not valid JSON: unexpected token at byte {}", self.pos);
        }
        self.pos += word.len();
        Ok(v)
    }

    fn string(&mut self) -> Result<String> {
        if self.peek()? != b'"' {
            fail!("not valid JSON: expected a string at byte {}", self.pos);
        }
        let start = self.pos;
        self.pos += 1;
        while self.pos < self.bytes.len() {
            match self.bytes[self.pos] {
                b'\\' => self.pos += 2,
                b'"' => {
                    self.pos += 1;
                    return serde_json::from_str(&self.text[start..self.pos])
                        .map_err(|e| format_err!("not valid JSON: {e}"));
                }
                _ => self.pos += 1,
            }
        }
        fail!("not valid JSON: unterminated string")
    }

    fn number(&mut self) -> Result<Value> {
        let start = self.pos;
        while self.pos < self.bytes.len()
            && matches!(
                self.bytes[self.pos],
                b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E'
            )
        {
            self.pos += 1;
        }
        let tok = &self.text[start..self.pos];
        let integral = !tok.contains(['.', 'e', 'E']);
        if integral {
            if let Ok(u) = tok.parse::<u64>() {
                return Ok(Value::from(u));
            }
            if let Ok(i) = tok.parse::<i64>() {
                return Ok(Value::from(i));
            }
        }
        let x: f64 = tok.parse().map_err(|_| {
            format_err!(
                "not valid JSON: bad number `{}` at byte {start}",
                truncate(tok)
            )
        })?;
        // serde_json has already refused out-of-range numbers; should one get here as ±∞ it
        // becomes null, which the network reader rejects as not a finite number.
        Ok(serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number))
    }
}

fn number(v: &Value) -> Option<f64> {
    v.as_f64().filter(|x| x.is_finite())
}

/// The network file's JSON text (`INTERFACE.md`), one `w1` row per line; numbers are written
/// in the shortest form that reads back to the same f64.
pub fn network_json(net: &Network) -> String {
    let rows: Vec<String> = (0..net.nh())
        .map(|m| format!("    {}", compact(net.w1_row(m))))
        .collect();
    let mut biases = String::new();
    if let Some(b1) = net.b1() {
        biases.push_str(&format!(",\n  \"b1\": {}", compact(b1)));
    }
    if let Some(b2) = net.b2() {
        biases.push_str(&format!(",\n  \"b2\": {}", compact(&b2)));
    }
    format!(
        "{{\n  \"activation\": {},\n  \"w1\": [\n{}\n  ],\n  \"w2\": {}{}\n}}",
        compact(net.activation()),
        rows.join(",\n"),
        compact(net.w2()),
        biases
    )
}

/// Compact JSON text of a value that always serialises (numbers, activations).
fn compact<T: serde::Serialize + ?Sized>(v: &T) -> String {
    serde_json::to_string(v).expect("numbers and activations serialise")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_fault() {
        let cases = [
            (
                r#"{"activation":{"kind":"erf"},"w1":[[1,2],[3]],"w2":[1,2]}"#,
                "row 1",
            ),
            (
                r#"{"activation":{"kind":"erf"},"w1":[[1,2]],"w2":[1,2]}"#,
                "`w2` has 2",
            ),
            (r#"{"activation":{"kind":"erf"},"w1":[],"w2":[]}"#, "empty"),
            (
                r#"{"activation":{"kind":"erf"},"w1":[[1,"a"]],"w2":[1]}"#,
                "row 0 column 1",
            ),
            (
                r#"{"activation":{"kind":"erf"},"w1":[[1]],"w2":[1],"bias":[0]}"#,
                "`bias`",
            ),
            (
                r#"{"activation":{"kind":"swish3"},"w1":[[1]],"w2":[1]}"#,
                "swish3",
            ),
            (
                r#"{"activation":{"kind":"quadratic"},"w1":[[1]],"w2":[1]}"#,
                "epsilon",
            ),
            (r#"{"w1":[[1]],"w2":[1]}"#, "activation"),
            (
                r#"{"activation":{"kind":"erf"},"w1":[[1]],"w2":[1],"w2":[2]}"#,
                "duplicate key `w2`",
            ),
            (
                r#"{"activation":{"kind":"erf","kind":"tanh"},"w1":[[1]],"w2":[1]}"#,
                "duplicate key `kind`",
            ),
        ];
        for (text, needle) in cases {
            let err = parse_network(text).unwrap_err().to_string();
            assert!(err.contains(needle), "{text}: {err}");
        }
    }

    #[test]
    fn errors_never_echo_unbounded_input() {
        let huge = "x".repeat(1 << 20);
        let cases = [
            format!(r#"{{"activation":{{"kind":"{huge}"}},"w1":[[1]],"w2":[1]}}"#),
            format!(r#"{{"activation":{{"kind":"erf"}},"w1":[["{huge}"]],"w2":[1]}}"#),
            format!(r#"{{"activation":{{"kind":"erf"}},"w1":[[1]],"w2":["{huge}"]}}"#),
            format!(r#"{{"activation":{{"kind":"erf"}},"w1":[[1]],"w2":[1],"{huge}":1}}"#),
            format!(r#"{{"activation":{{"kind":"erf","{huge}":1}},"w1":[[1]],"w2":[1]}}"#),
            format!(
                r#"{{"activation":{{"kind":"erf"}},"w1":[[1]],"w2":[1e{}]}}"#,
                "9".repeat(1000)
            ),
        ];
        for text in cases {
            let err = parse_network(&text).unwrap_err().to_string();
            assert!(err.len() < 600, "{} bytes: {}", err.len(), &err[..200]);
        }
    }

    #[test]
    fn numbers_round_trip_exactly() {
        // Weights with all 53 mantissa bits in use, over many magnitudes: written in the
        // shortest form and read back correctly rounded, they come back bit for bit.
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move || {
            // splitmix64: a random mantissa, sign and binary exponent in [-40, 40).
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            let exp = 1023 - 40 + (z >> 56) % 80;
            f64::from_bits((z & (1 << 63)) | (exp << 52) | (z & ((1 << 52) - 1)))
        };
        let (ni, nh) = (7, 300);
        let w1: Vec<f64> = (0..ni * nh).map(|_| next()).collect();
        let w2: Vec<f64> = (0..nh).map(|_| next()).collect();
        let net = Network::new(Activation::Erf, ni, nh, w1, w2).unwrap();
        let back = parse_network(&network_json(&net)).unwrap();
        for (a, b) in back.params().iter().zip(net.params()) {
            assert_eq!(a.to_bits(), b.to_bits(), "{a} vs {b}");
        }
    }

    #[test]
    fn exact_reader_matches_serde_json_on_structure() {
        let text = r#" {"a": [1, -2, 3.5e-3, true, false, null, "x\"y\u00e9", {}, []],
                        "b": {"c": 18446744073709551615, "d": -9223372036854775808, "e": 1E2}} "#;
        let ours = parse_json_exact(text).unwrap();
        let theirs: Value = serde_json::from_str(text).unwrap();
        assert_eq!(ours, theirs);
        assert!(parse_json_exact("[1, 2")
            .unwrap_err()
            .to_string()
            .contains("not valid JSON"));
    }

    #[test]
    fn biases_are_optional_and_round_trip() {
        let base = r#"{"activation":{"kind":"erf"},"w1":[[0.1,-0.2],[0.3,0.4]],"w2":[1.5,-2]"#;
        let plain = parse_network(&format!("{base}}}")).unwrap();
        assert_eq!((plain.b1(), plain.b2(), plain.dim()), (None, None, 6));
        let both = parse_network(&format!(r#"{base},"b1":[0.5,-0.25],"b2":0.125}}"#)).unwrap();
        assert_eq!(both.b1(), Some(&[0.5, -0.25][..]));
        assert_eq!((both.b2(), both.dim()), (Some(0.125), 9));
        assert_eq!(parse_network(&network_json(&both)).unwrap(), both);
        let only_b2 = parse_network(&format!(r#"{base},"b2":-1}}"#)).unwrap();
        assert_eq!((only_b2.b1(), only_b2.dim()), (None, 7));
        assert_eq!(parse_network(&network_json(&only_b2)).unwrap(), only_b2);
        // Without biases the text is the bias-free format exactly.
        assert!(!network_json(&plain).contains("b1"));
        for (tail, needle) in [
            (r#","b1":[1]}"#, "`b1` has 1"),
            (r#","b1":[1,"x"]}"#, "`b1` entry 1"),
            (r#","b1":2}"#, "`b1` must be an array"),
            (r#","b2":[1]}"#, "`b2` must be one"),
        ] {
            let err = parse_network(&format!("{base}{tail}"))
                .unwrap_err()
                .to_string();
            assert!(err.contains(needle), "{tail}: {err}");
        }
    }

    #[test]
    fn round_trip() {
        let text = r#"{"activation":{"kind":"polynomial","coefficients":[0,1,0.5]},"w1":[[0.1,-0.2],[0.3,0.4]],"w2":[1.5,-2]}"#;
        let net = parse_network(text).unwrap();
        assert_eq!(parse_network(&network_json(&net)).unwrap(), net);
    }
}
