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
            chase_dispatch(&mut self.data, n, b, ld);
        }
        let d = (0..n).map(|i| self.data[i * ld]).collect();
        let e = (0..n.saturating_sub(1))
            .map(|i| self.data[i * ld + 1])
            .collect();
        (d, e)
    }
}

/// [`chase`] compiled for AVX2 + FMA where the CPU has them (wider vectors, and VEX-encoded
/// instructions that do not pay the penalty for upper vector state left dirty by faer's
/// AVX-512 kernels); the same arithmetic, so the same results, either way.
fn chase_dispatch(data: &mut [f64], n: usize, b: usize, ld: usize) {
    #[cfg(target_arch = "x86_64")]
    {
        if super::simd::has_avx2_fma() {
            // SAFETY: the CPU supports the features `chase_avx2` is compiled for.
            unsafe { chase_avx2(data, n, b, ld) };
            return;
        }
        super::simd::clear_upper_state();
    }
    chase(data, n, b, ld)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn chase_avx2(data: &mut [f64], n: usize, b: usize, ld: usize) {
    chase(data, n, b, ld)
}

/// All sweeps of the bulge chase on the band storage `data` (see [`BandMatrix`]).
#[inline(always)]
fn chase(data: &mut [f64], n: usize, b: usize, ld: usize) {
    let s = ld - 1; // column stride of a block view
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

/// `S ← H S H` for the symmetric `len × len` block whose lower triangle starts at `data[base]`
/// (element `(r, c)`, `r ≥ c`, at `base + c·s + r`), `H = I − τ v vᵀ`.
#[inline(always)]
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
#[inline(always)]
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

#[cfg(test)]
mod tests {
    use super::*;

    fn band(n: usize, b: usize) -> BandMatrix {
        BandMatrix::from_lower(n, b, |i, j| ((i * 37 + j * 11) % 23) as f64 / 11.0 - 1.0)
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn simd_and_baseline_builds_give_identical_results() {
        if !crate::eigen::simd::has_avx2_fma() {
            return; // nothing to compare on this CPU
        }
        for (n, b) in [(50, 4), (131, 16), (200, 33)] {
            let mut x = band(n, b);
            let mut y = band(n, b);
            chase(&mut x.data, n, b, x.ld);
            // SAFETY: AVX2 and FMA were detected above.
            unsafe { chase_avx2(&mut y.data, n, b, y.ld) };
            assert!(
                x.data
                    .iter()
                    .zip(&y.data)
                    .all(|(p, q)| p.to_bits() == q.to_bits()),
                "n={n} b={b}"
            );
        }
    }

    #[test]
    fn leaves_a_tridiagonal_matrix_with_the_same_invariants() {
        // Orthogonal similarity keeps the trace and the Frobenius norm.
        let (n, b) = (120, 9);
        let x = band(n, b);
        let get = |i: usize, j: usize| x.data[j * x.ld + i - j];
        let trace: f64 = (0..n).map(|i| get(i, i)).sum();
        let mut frob = 0.0;
        for j in 0..n {
            for i in j..n.min(j + b + 1) {
                frob += if i == j { 1.0 } else { 2.0 } * get(i, j).powi(2);
            }
        }
        let (d, e) = x.into_tridiagonal();
        let t2: f64 = d.iter().sum();
        let f2: f64 =
            d.iter().map(|v| v * v).sum::<f64>() + 2.0 * e.iter().map(|v| v * v).sum::<f64>();
        assert!((trace - t2).abs() < 1e-11 * frob.sqrt() * n as f64);
        assert!((frob - f2).abs() < 1e-11 * frob);
    }
}
