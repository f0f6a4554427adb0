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
use std::sync::atomic::{AtomicUsize, Ordering};

/// A symmetric band matrix in lower band storage with room for the bulge: element `(i, j)`,
/// `0 ≤ i − j < ld`, at `data[j·ld + i − j]`, with `ld = 2b + 1` ([`leading_dimension`]).
pub struct BandMatrix {
    n: usize,
    b: usize,
    data: Vec<f64>,
}

/// Storage per column of a band matrix with half-bandwidth `b`, room for the bulge included.
fn leading_dimension(b: usize) -> usize {
    2 * b + 1
}

impl BandMatrix {
    /// Copies the lower band `0 ≤ i − j ≤ b` of `get(i, j)` (rows `i ≥ j`).
    /// A half-bandwidth of 0 (a diagonal matrix) is stored as bandwidth 1 with a zero
    /// off-diagonal.
    pub fn from_lower(n: usize, b: usize, get: impl Fn(usize, usize) -> f64) -> Self {
        let copied = b;
        let b = b.max(1);
        let ld = leading_dimension(b);
        let mut data = vec![0.0; n * ld];
        for j in 0..n {
            for i in j..n.min(j + copied + 1) {
                data[j * ld + i - j] = get(i, j);
            }
        }
        BandMatrix { n, b, data }
    }

    /// Reduces the matrix to tridiagonal form by an orthogonal similarity and returns its
    /// diagonal and subdiagonal.
    pub fn into_tridiagonal(self) -> (Vec<f64>, Vec<f64>) {
        self.into_tridiagonal_with(1)
    }

    /// [`BandMatrix::into_tridiagonal`] with the sweeps spread over `threads` threads: sweep `j`
    /// runs on thread `j mod threads`, at least three blocks behind sweep `j − 1`, so that no
    /// two threads ever touch the same columns and every block sees exactly the updates it
    /// would see sequentially. The result is bit-for-bit the same for any `threads`.
    pub fn into_tridiagonal_with(mut self, threads: usize) -> (Vec<f64>, Vec<f64>) {
        let (n, b) = (self.n, self.b);
        let ld = leading_dimension(b);
        if b > 1 && n > 2 {
            let threads = threads.clamp(1, (n - 2).max(1));
            if threads == 1 {
                let ptr = BandPtr(self.data.as_mut_ptr());
                // SAFETY: one thread owns the whole storage.
                unsafe { run_sweeps(&ptr, SweepPlan::new(n, b, 0, 1, None)) };
            } else {
                let progress: Vec<AtomicUsize> = (0..n).map(|_| AtomicUsize::new(0)).collect();
                let ptr = BandPtr(self.data.as_mut_ptr());
                std::thread::scope(|scope| {
                    for t in 1..threads {
                        let (ptr, progress) = (&ptr, &progress[..]);
                        scope.spawn(move || {
                            // SAFETY: the progress protocol keeps the threads' columns apart.
                            unsafe {
                                run_sweeps(ptr, SweepPlan::new(n, b, t, threads, Some(progress)))
                            }
                        });
                    }
                    // SAFETY: as above.
                    unsafe { run_sweeps(&ptr, SweepPlan::new(n, b, 0, threads, Some(&progress))) };
                });
            }
        }
        let d = (0..n).map(|i| self.data[i * ld]).collect();
        let e = (0..n.saturating_sub(1))
            .map(|i| self.data[i * ld + 1])
            .collect();
        (d, e)
    }
}

/// The band storage shared by the sweeping threads.
struct BandPtr(*mut f64);
// SAFETY: the threads access disjoint columns at any time (see `sweep`).
unsafe impl Send for BandPtr {}
// SAFETY: as above.
unsafe impl Sync for BandPtr {}

/// Which sweeps one thread runs: `first, first + stride, …` of the `n × n` band matrix with
/// half-bandwidth `b` (storage of leading dimension `2b + 1`), waiting on `progress` (one counter per
/// sweep: blocks finished) when other threads run the other sweeps.
#[derive(Clone, Copy)]
struct SweepPlan<'a> {
    n: usize,
    b: usize,
    first: usize,
    stride: usize,
    progress: Option<&'a [AtomicUsize]>,
}

impl<'a> SweepPlan<'a> {
    fn new(
        n: usize,
        b: usize,
        first: usize,
        stride: usize,
        progress: Option<&'a [AtomicUsize]>,
    ) -> Self {
        SweepPlan {
            n,
            b,
            first,
            stride,
            progress,
        }
    }
}

/// Sweeps `first, first + stride, …` on the band storage behind `ptr`.
///
/// # Safety
/// `ptr` must point to `n·ld` values; with `progress`, all threads must run this with the same
/// `stride` and distinct `first`, and nothing else may touch the storage meanwhile.
unsafe fn run_sweeps(ptr: &BandPtr, plan: SweepPlan<'_>) {
    #[cfg(target_arch = "x86_64")]
    {
        if super::simd::has_avx2_fma() {
            // SAFETY: the CPU supports the features `run_sweeps_avx2` is compiled for; the rest
            // is the caller's contract.
            return unsafe { run_sweeps_avx2(ptr, plan) };
        }
        super::simd::clear_upper_state();
    }
    // SAFETY: the caller's contract.
    unsafe { run_sweeps_impl(ptr, plan) }
}

/// [`run_sweeps_impl`] compiled for AVX2 + FMA (wider vectors, and VEX-encoded instructions that
/// do not pay the penalty for upper vector state left dirty by faer's AVX-512 kernels); the same
/// arithmetic, so the same results.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn run_sweeps_avx2(ptr: &BandPtr, plan: SweepPlan<'_>) {
    // SAFETY: the caller's contract.
    unsafe { run_sweeps_impl(ptr, plan) }
}

/// How many blocks sweep `j − 1` must have finished before sweep `j` starts block `k`: block `k`
/// of sweep `j` touches columns `j+1+kb .. j+1+(k+1)b` (and column `j` for `k = 0`), which
/// blocks `k` and `k + 1` of sweep `j − 1` also touch; one more block of margin.
const LAG_BLOCKS: usize = 3;

#[inline(always)]
unsafe fn run_sweeps_impl(ptr: &BandPtr, plan: SweepPlan<'_>) {
    let SweepPlan {
        n,
        b,
        first,
        stride,
        progress,
    } = plan;
    let ld = leading_dimension(b);
    let mut bufs = [vec![0.0; b], vec![0.0; b], vec![0.0; b]];
    let mut j = first;
    while j < n - 2 {
        let wait = |k: usize| {
            if let Some(p) = progress {
                if j > 0 {
                    let mut spins = 0u32;
                    while p[j - 1].load(Ordering::Acquire) < k + LAG_BLOCKS {
                        spins += 1;
                        if spins < 1 << 10 {
                            std::hint::spin_loop();
                        } else {
                            std::thread::yield_now();
                        }
                    }
                }
            }
        };
        let done = |k: usize| {
            if let Some(p) = progress {
                p[j].store(k, Ordering::Release);
            }
        };
        // SAFETY: the caller's contract and the waits above.
        unsafe { sweep(ptr.0, n, b, ld, j, &mut bufs, wait, done) };
        done(usize::MAX);
        j += stride;
    }
}

/// The storage of columns `lo..hi`.
///
/// # Safety
/// `ptr` points to `n·ld` values, `hi ≤ n`, and no one else touches these columns meanwhile.
#[inline(always)]
unsafe fn columns<'a>(ptr: *mut f64, ld: usize, lo: usize, hi: usize) -> &'a mut [f64] {
    // SAFETY: the caller's contract.
    unsafe { std::slice::from_raw_parts_mut(ptr.add(lo * ld), (hi - lo) * ld) }
}

/// Sweep `j`: zero column `j` below its subdiagonal and chase the bulge to the end. Block `k`
/// (one pass of the loop) touches only the columns `cur .. cur + cur_len` of the block's
/// reflector; `wait(k)` is called before block `k` starts and `done(k + 1)` after it ends.
///
/// # Safety
/// As [`columns`], for the columns of each block while it runs.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
unsafe fn sweep(
    ptr: *mut f64,
    n: usize,
    b: usize,
    ld: usize,
    j: usize,
    bufs: &mut [Vec<f64>; 3],
    wait: impl Fn(usize),
    done: impl Fn(usize),
) {
    let s = ld - 1; // column stride of a block view
    let [v, v_next, w] = bufs;
    let mut cur = j + 1;
    let mut cur_len = b.min(n - cur);
    wait(0);
    // Reflector zeroing column j below row j+1.
    let mut tau = {
        // SAFETY: column j, covered by wait(0).
        let col = unsafe { columns(ptr, ld, j, j + 1) };
        let x = &mut col[1..1 + cur_len];
        let tau = make_reflector(x);
        v[0] = 1.0;
        v[1..cur_len].copy_from_slice(&x[1..]);
        x[1..].fill(0.0);
        tau
    };
    let mut k = 0;
    loop {
        if k > 0 {
            wait(k);
        }
        // SAFETY: the columns of block k, covered by wait(k).
        let data = unsafe { columns(ptr, ld, cur, cur + cur_len) };
        if tau != 0.0 {
            symmetric_update(data, 0, s, cur_len, &v[..cur_len], tau, w);
        }
        let next = cur + cur_len;
        if next >= n {
            break;
        }
        let next_len = b.min(n - next);
        // B = rows next.., cols cur..: element (r, c) at base + c·s + r.
        let base = next - cur;
        if tau != 0.0 {
            right_update(data, base, s, next_len, &v[..cur_len], tau, w);
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
        std::mem::swap(v, v_next);
        tau = tau_next;
        cur = next;
        cur_len = next_len;
        k += 1;
        done(k);
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
            let (px, py) = (BandPtr(x.data.as_mut_ptr()), BandPtr(y.data.as_mut_ptr()));
            // SAFETY: one thread, whole storage; AVX2 and FMA were detected above.
            unsafe {
                run_sweeps_impl(&px, SweepPlan::new(n, b, 0, 1, None));
                run_sweeps_avx2(&py, SweepPlan::new(n, b, 0, 1, None));
            }
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
    fn parallel_sweeps_give_the_sequential_result_bit_for_bit() {
        for (n, b) in [(3, 2), (40, 3), (97, 8), (300, 16), (333, 32)] {
            let seq = band(n, b).into_tridiagonal_with(1);
            for threads in [2, 3, 5] {
                let par = band(n, b).into_tridiagonal_with(threads);
                let same =
                    |x: &[f64], y: &[f64]| x.iter().zip(y).all(|(p, q)| p.to_bits() == q.to_bits());
                assert!(
                    same(&seq.0, &par.0) && same(&seq.1, &par.1),
                    "n={n} b={b} threads={threads}"
                );
            }
        }
    }

    #[test]
    fn leaves_a_tridiagonal_matrix_with_the_same_invariants() {
        // Orthogonal similarity keeps the trace and the Frobenius norm.
        let (n, b) = (120, 9);
        let x = band(n, b);
        let ld = leading_dimension(x.b);
        let get = |i: usize, j: usize| x.data[j * ld + i - j];
        let (d0, e0) = BandMatrix::from_lower(4, 0, |i, _| i as f64).into_tridiagonal();
        assert_eq!(
            (d0, e0),
            (vec![0.0, 1.0, 2.0, 3.0], vec![0.0; 3]),
            "diagonal input"
        );
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
