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
/// `NEAROPT_MEMORY_LIMIT` (bytes) if set, else `MemAvailable` of `/proc/meminfo` where there is
/// one, else unknown.
pub fn available_memory_bytes() -> Option<u64> {
    if let Some(v) = std::env::var("NEAROPT_MEMORY_LIMIT")
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
    {
        return Some(v);
    }
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Refuses a dense `rows × cols` f64 allocation named `what` that would not fit in available
/// memory, with a message that says how much it would need.
pub fn check_dense_fits(rows: usize, cols: usize, what: &str) -> Result<()> {
    let bytes = (rows as u128) * (cols as u128) * 8;
    let gib = bytes as f64 / (1u64 << 30) as f64;
    if let Some(avail) = available_memory_bytes() {
        if bytes > avail as u128 {
            return Err(Error::TooLarge(format!(
                "a dense {rows} × {cols} {what} needs {gib:.1} GiB but only {:.1} GiB of memory is available",
                avail as f64 / (1u64 << 30) as f64
            )));
        }
    } else if bytes > usize::MAX as u128 / 2 {
        return Err(Error::TooLarge(format!(
            "a dense {rows} × {cols} {what} needs {gib:.1} GiB"
        )));
    }
    Ok(())
}
