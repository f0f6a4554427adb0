//! A dense row-major matrix that hands itself to faer without copying.

use crate::{Error, Result};
use faer::MatRef;

/// Dense `rows × cols` matrix of f64 in row-major order (C order, as `.npy` files store it).
#[derive(Clone, Debug, PartialEq)]
pub struct DenseMatrix {
    rows: usize,
    cols: usize,
    data: Vec<f64>,
}

impl DenseMatrix {
    /// All zeros.
    pub fn zeros(rows: usize, cols: usize) -> Self {
        DenseMatrix {
            rows,
            cols,
            data: vec![0.0; rows * cols],
        }
    }
    /// From row-major data.
    pub fn from_row_major(rows: usize, cols: usize, data: Vec<f64>) -> Self {
        assert_eq!(
            data.len(),
            rows * cols,
            "row-major data has the wrong length"
        );
        DenseMatrix { rows, cols, data }
    }
    /// Rows.
    pub fn rows(&self) -> usize {
        self.rows
    }
    /// Columns.
    pub fn cols(&self) -> usize {
        self.cols
    }
    /// Entry `(i, j)`.
    #[inline]
    pub fn get(&self, i: usize, j: usize) -> f64 {
        self.data[i * self.cols + j]
    }
    /// Sets entry `(i, j)`.
    #[inline]
    pub fn set(&mut self, i: usize, j: usize, v: f64) {
        self.data[i * self.cols + j] = v;
    }
    /// Row `i`.
    pub fn row(&self, i: usize) -> &[f64] {
        &self.data[i * self.cols..(i + 1) * self.cols]
    }
    /// Row-major data.
    pub fn as_slice(&self) -> &[f64] {
        &self.data
    }
    /// Mutable row-major data.
    pub fn as_mut_slice(&mut self) -> &mut [f64] {
        &mut self.data
    }
    /// Consumes into row-major data.
    pub fn into_vec(self) -> Vec<f64> {
        self.data
    }
    /// A faer view of the **transpose** (faer is column-major); for a symmetric matrix that is
    /// the matrix itself.
    pub fn as_faer_transpose(&self) -> MatRef<'_, f64> {
        MatRef::from_column_major_slice(&self.data, self.cols, self.rows)
    }
    /// `max_ij |A_ij − A_ji|` (square matrices).
    pub fn asymmetry(&self) -> f64 {
        let n = self.rows;
        let mut worst = 0.0f64;
        for i in 0..n {
            for j in (i + 1)..n {
                worst = worst.max((self.get(i, j) - self.get(j, i)).abs());
            }
        }
        worst
    }
    /// `y = A x`.
    pub fn matvec(&self, x: &[f64], y: &mut [f64]) {
        for (i, yi) in y.iter_mut().enumerate() {
            *yi = crate::gaussian::dot(self.row(i), x);
        }
    }
    /// `max |A_ij|`.
    pub fn max_abs(&self) -> f64 {
        self.data.iter().fold(0.0f64, |m, v| m.max(v.abs()))
    }
}

/// Memory this process may still allocate, in bytes: the environment variable
/// `NEAROPT_MEMORY_LIMIT` if set (bytes, or with a suffix K, M, G, T — powers of 1024, e.g.
/// `1.5G`), else `MemAvailable` of `/proc/meminfo` where there is one, else unknown. A value of
/// the variable that is not a size is an error, not silently ignored.
pub fn available_memory_bytes() -> Result<Option<u64>> {
    if let Ok(v) = std::env::var("NEAROPT_MEMORY_LIMIT") {
        return parse_byte_size(&v).map(Some).ok_or_else(|| {
            Error::Invalid(format!(
                "NEAROPT_MEMORY_LIMIT must be a size in bytes (optionally with K, M, G or T), got `{v}`"
            ))
        });
    }
    let meminfo = || -> Option<u64> {
        let text = std::fs::read_to_string("/proc/meminfo").ok()?;
        let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
        let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kb * 1024)
    };
    Ok(meminfo())
}

/// `"123"`, `"64K"`, `"1.5G"`, `"2GiB"`, `"512 MB"` → bytes (suffixes are powers of 1024).
fn parse_byte_size(text: &str) -> Option<u64> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let value: f64 = number.parse().ok()?;
    let power = match unit.trim().to_ascii_uppercase().as_str() {
        "" | "B" => 0,
        "K" | "KB" | "KIB" => 1,
        "M" | "MB" | "MIB" => 2,
        "G" | "GB" | "GIB" => 3,
        "T" | "TB" | "TIB" => 4,
        _ => return None,
    };
    let bytes = value * 1024f64.powi(power);
    (bytes.is_finite() && bytes >= 0.0 && bytes < u64::MAX as f64).then_some(bytes as u64)
}

/// Refuses a dense `rows × cols` f64 allocation named `what` that would not fit in available
/// memory, with a message that says how much it would need.
pub fn check_dense_fits(rows: usize, cols: usize, what: &str) -> Result<()> {
    use crate::units::readable_bytes;
    let bytes = (rows as u128) * (cols as u128) * 8;
    if let Some(avail) = available_memory_bytes()? {
        if bytes > avail as u128 {
            return Err(Error::TooLarge(format!(
                "a dense {rows} × {cols} {what} needs {} but only {} of memory is available",
                readable_bytes(bytes),
                readable_bytes(avail as u128)
            )));
        }
    } else if bytes > usize::MAX as u128 / 2 {
        return Err(Error::TooLarge(format!(
            "a dense {rows} × {cols} {what} needs {}",
            readable_bytes(bytes)
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_sizes_parse() {
        assert_eq!(parse_byte_size("123"), Some(123));
        assert_eq!(parse_byte_size(" 64K "), Some(65536));
        assert_eq!(parse_byte_size("1.5G"), Some(1_610_612_736));
        assert_eq!(parse_byte_size("2GiB"), Some(2 << 30));
        assert_eq!(parse_byte_size("512 mb"), Some(512 << 20));
        for bad in ["", "G", "1X", "-5", "1e400", "one"] {
            assert_eq!(parse_byte_size(bad), None, "{bad}");
        }
    }
}
