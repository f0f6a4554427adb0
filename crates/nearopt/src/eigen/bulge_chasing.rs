//! Stage 2 of the two-stage symmetric eigensolver: a symmetric band matrix (half-bandwidth `b`)
//! to tridiagonal form by Householder bulge chasing (Lang's algorithm, as in LAPACK's `dsytrd_sb2st`
//! kernels), eigenvalues only, so no transformation is kept.
//!
//! Sweep `j` zeroes column `j` below its subdiagonal with one reflector of length `b` acting on rows
//! `j+1 .. j+b`. Applied from the right to the `b × b` block below, the reflector fills that block's
//! lower triangle (the bulge); the next reflector zeroes only the bulge's first column, moves down
//! by `b`, and so on to the end of the matrix. The bulge's other columns are zeroed by the next
//! sweeps, whose blocks contain them. Cost `≈ 6 n² b` flops in cache-resident `b × b` blocks.

use super::band_reduction::{axpy, dot, make_reflector};

/// A symmetric band matrix in lower band storage with room for the bulge: element `(i, j)`,
/// `0 ≤ i − j < ld`, at `data[j·ld + i − j]`, with `ld = 2b + 1`.
pub struct BandMatrix {
    n: usize,
    b: usize,
    ld: usize,
    data: Vec<f64>,
}

impl BandMatrix {
    /// Copies the lower band `0 ≤ i − j ≤ b` of `get(i, j)` (rows `i ≥ j`).
    pub fn from_lower(n: usize, b: usize, get: impl Fn(usize, usize) -> f64) -> Self {
        let ld = 2 * b + 1;
        let mut data = vec![0.0; n * ld];
        for j in 0..n {
            for i in j..n.min(j + b + 1) {
                data[j * ld + i - j] = get(i, j);
            }
        }
        BandMatrix { n, b, ld, data }
    }

    /// Dimension.
    pub fn dim(&self) -> usize {
        self.n
    }

    /// Reduces the matrix to tridiagonal form by an orthogonal similarity and returns its
    /// diagonal and subdiagonal.
    pub fn into_tridiagonal(mut self) -> (Vec<f64>, Vec<f64>) {
        let (n, b, ld) = (self.n, self.b, self.ld);
        if b > 1 && n > 2 {
            let s = ld - 1; // column stride of a block view
            let data = &mut self.data[..];
            let mut v = vec![0.0; b];
            let mut v_next = vec![0.0; b];
            let mut w = vec![0.0; b];
            for j in 0..n - 2 {
                let mut cur = j + 1;
                let mut cur_len = b.min(n - cur);
                // Reflector zeroing column j below row j+1.
                let mut tau = {
                    let x = &mut data[j * ld + 1..j * ld + 1 + cur_len];
                    let tau = make_reflector(x);
                    v[0] = 1.0;
                    v[1..cur_len].copy_from_slice(&x[1..]);
                    x[1..].fill(0.0);
                    tau
                };
                loop {
                    if tau != 0.0 {
                        symmetric_update(data, cur * ld, s, cur_len, &v[..cur_len], tau, &mut w);
                    }
                    let next = cur + cur_len;
                    if next >= n {
                        break;
                    }
                    let next_len = b.min(n - next);
                    // B = rows next.., cols cur..: element (r, c) at base + c·s + r.
                    let base = cur * ld + next - cur;
                    if tau != 0.0 {
                        right_update(data, base, s, next_len, &v[..cur_len], tau, &mut w);
                    }
                    if next_len < 2 {
                        break;
                    }
                    // Reflector zeroing the bulge's first column, applied to the rest of B.
                    let tau_next = {
                        let x = &mut data[base..base + next_len];
                        let t = make_reflector(x);
                        v_next[0] = 1.0;
                        v_next[1..next_len].copy_from_slice(&x[1..]);
                        x[1..].fill(0.0);
                        t
                    };
                    if tau_next != 0.0 {
                        for c in 1..cur_len {
                            let x = &mut data[base + c * s..base + c * s + next_len];
                            let h = tau_next * dot(&v_next[..next_len], x);
                            axpy(-h, &v_next[..next_len], x);
                        }
                    }
                    std::mem::swap(&mut v, &mut v_next);
                    tau = tau_next;
                    cur = next;
                    cur_len = next_len;
                }
            }
        }
        let d = (0..n).map(|i| self.data[i * ld]).collect();
        let e = (0..n.saturating_sub(1))
            .map(|i| self.data[i * ld + 1])
            .collect();
        (d, e)
    }
}

/// `S ← H S H` for the symmetric `len × len` block whose lower triangle starts at `data[base]`
/// (element `(r, c)`, `r ≥ c`, at `base + c·s + r`), `H = I − τ v vᵀ`.
fn symmetric_update(
    data: &mut [f64],
    base: usize,
    s: usize,
    len: usize,
    v: &[f64],
    tau: f64,
    p: &mut [f64],
) {
    let p = &mut p[..len];
    p.fill(0.0);
    // p = S v from the lower triangle.
    for c in 0..len {
        let col = &data[base + c * s + c..base + c * s + len];
        p[c] += col[0] * v[c] + dot(&col[1..], &v[c + 1..]);
        axpy(v[c], &col[1..], &mut p[c + 1..]);
    }
    for x in p.iter_mut() {
        *x *= tau;
    }
    let alpha = 0.5 * tau * dot(p, v);
    for (x, vi) in p.iter_mut().zip(v) {
        *x -= alpha * vi;
    }
    // S ← S − v pᵀ − p vᵀ (lower triangle).
    for c in 0..len {
        let col = &mut data[base + c * s + c..base + c * s + len];
        let (vc, pc) = (v[c], p[c]);
        for ((x, vr), pr) in col.iter_mut().zip(&v[c..]).zip(&p[c..]) {
            *x -= vr * pc + pr * vc;
        }
    }
}

/// `B ← B H` for the `rows × v.len()` block at `base` (column stride `s`), `H = I − τ v vᵀ`.
fn right_update(
    data: &mut [f64],
    base: usize,
    s: usize,
    rows: usize,
    v: &[f64],
    tau: f64,
    w: &mut [f64],
) {
    let w = &mut w[..rows];
    w.fill(0.0);
    for (c, vc) in v.iter().enumerate() {
        axpy(*vc, &data[base + c * s..base + c * s + rows], w);
    }
    for (c, vc) in v.iter().enumerate() {
        axpy(-tau * vc, w, &mut data[base + c * s..base + c * s + rows]);
    }
}
