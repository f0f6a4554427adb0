//! Stage 1 of the two-stage symmetric eigensolver: orthogonal reduction of a dense symmetric
//! matrix to band form, `A ← Qᵀ A Q` with `Qᵀ A Q` of half-bandwidth `b`.
//!
//! Panel by panel (width `b`), the columns below the band are factored `P = Q̃ R` by Householder
//! reflectors in compact WY form `Q̃ = I − V T Vᵀ` (LAPACK `dgeqr2` + `dlarft`), and the trailing
//! matrix is updated two-sidedly as in LAPACK's `dsytrd`/`dsyrdb`:
//!
//! ```text
//! X = A₂₂ V T,   M = Tᵀ Vᵀ X,   W = X − ½ V M,   A₂₂ ← A₂₂ − V Wᵀ − W Vᵀ
//! ```
//!
//! (`Q̃ᵀ A₂₂ Q̃` expanded; `M` is symmetric because `A₂₂` is). Nearly all the work, `2n³` flops,
//! is in two matrix products per panel (faer's `matmul`, parallel on the pool), which is what
//! makes this faster than a one-stage tridiagonalisation whose symmetric matrix–vector products
//! are bound by memory bandwidth.

use faer::linalg::matmul::matmul;
use faer::linalg::matmul::triangular::{self as tri, BlockStructure as BS};
use faer::reborrow::{Reborrow, ReborrowMut};
use faer::{Accum, Mat, MatMut, MatRef, Par};

/// Householder reflector `H = I − τ v vᵀ` with `v₀ = 1` that maps `x` to `β e₀` (LAPACK `dlarfg`).
/// On return `x[0] = β`, `x[1..]` holds `v[1..]`; the result is `τ` (0 when `x[1..]` is zero,
/// i.e. `H = I`).
#[inline(always)]
pub(crate) fn make_reflector(x: &mut [f64]) -> f64 {
    let (head, tail) = x.split_first_mut().expect("a reflector needs a vector");
    let sigma = norm2(tail);
    if sigma == 0.0 {
        return 0.0;
    }
    let alpha = *head;
    let beta = -alpha.signum() * alpha.hypot(sigma);
    // signum(0) = 1 in Rust, so beta ≠ 0 here.
    let tau = (beta - alpha) / beta;
    let scale = 1.0 / (alpha - beta);
    for t in tail.iter_mut() {
        *t *= scale;
    }
    *head = beta;
    tau
}

/// Euclidean norm without overflow or harmful underflow (scaled sum of squares).
#[inline(always)]
pub(crate) fn norm2(x: &[f64]) -> f64 {
    let amax = x.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    if amax == 0.0 || !amax.is_finite() {
        return amax;
    }
    if (1e-150..1e150).contains(&amax) {
        return x.iter().map(|v| v * v).sum::<f64>().sqrt();
    }
    let inv = 1.0 / amax;
    amax * x.iter().map(|v| (v * inv) * (v * inv)).sum::<f64>().sqrt()
}

/// Width of the column blocks inside a panel factorisation: reflectors are generated and applied
/// one by one within a block (level 2), and the block's compact WY form updates the rest of the
/// panel with matrix products.
const INNER_BLOCK: usize = 8;

/// Householder QR of the `m × w` panel `p` in place, `nr ≤ min(w, m − 1)` reflectors: on return
/// `p`'s upper triangle is `R`, `v` (`m × nr`) holds the explicit unit lower trapezoidal `V`, and
/// `t` (`nr × nr`) the upper triangular `T` with `H₀ ⋯ H_{nr−1} = I − V T Vᵀ`.
fn factor_panel(p: MatMut<'_, f64>, nr: usize, v: MatMut<'_, f64>, t: MatMut<'_, f64>) {
    #[cfg(target_arch = "x86_64")]
    {
        if super::simd::has_avx2_fma() {
            // SAFETY: the CPU supports the features `factor_panel_avx2` is compiled for.
            unsafe { factor_panel_avx2(p, nr, v, t) };
            return;
        }
        super::simd::clear_upper_state();
    }
    factor_panel_impl(p, nr, v, t)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn factor_panel_avx2(p: MatMut<'_, f64>, nr: usize, v: MatMut<'_, f64>, t: MatMut<'_, f64>) {
    factor_panel_impl(p, nr, v, t)
}

#[inline(always)]
fn factor_panel_impl(
    mut p: MatMut<'_, f64>,
    nr: usize,
    mut v: MatMut<'_, f64>,
    mut t: MatMut<'_, f64>,
) {
    let (m, w) = (p.nrows(), p.ncols());
    let mut taus = vec![0.0; nr];
    let mut c0 = 0;
    while c0 < nr {
        let c1 = (c0 + INNER_BLOCK).min(nr);
        for c in c0..c1 {
            let tau = {
                let col = p.rb_mut().col_mut(c).try_as_col_major_mut().unwrap();
                make_reflector(&mut col.as_slice_mut()[c..])
            };
            taus[c] = tau;
            {
                let col = p.rb().col(c).try_as_col_major().unwrap().as_slice();
                let dst = v.rb_mut().col_mut(c).try_as_col_major_mut().unwrap();
                let dst = dst.as_slice_mut();
                dst[..c].fill(0.0);
                dst[c] = 1.0;
                dst[c + 1..].copy_from_slice(&col[c + 1..]);
            }
            if tau == 0.0 {
                continue;
            }
            let vc = &v.rb().col(c).try_as_col_major().unwrap().as_slice()[c..];
            for j in c + 1..c1 {
                let col = p.rb_mut().col_mut(j).try_as_col_major_mut().unwrap();
                let x = &mut col.as_slice_mut()[c..];
                let s = tau * dot(vc, x);
                axpy(-s, vc, x);
            }
        }
        if c1 < w {
            // Rest of the panel: R ← (I − V_b T_b Vᵀ_b)ᵀ R = R − V_b (T_bᵀ (V_bᵀ R)).
            let vb = v.rb().submatrix(c0, c0, m - c0, c1 - c0);
            let mut tb = Mat::<f64>::zeros(c1 - c0, c1 - c0);
            build_t(vb, &taus[c0..c1], tb.as_mut());
            let mut rest = p.rb_mut().submatrix_mut(c0, c1, m - c0, w - c1);
            let mut z = Mat::<f64>::zeros(c1 - c0, w - c1);
            matmul(
                z.as_mut(),
                Accum::Replace,
                vb.transpose(),
                rest.rb(),
                1.0,
                Par::Seq,
            );
            let mut tz = Mat::<f64>::zeros(c1 - c0, w - c1);
            matmul(
                tz.as_mut(),
                Accum::Replace,
                tb.transpose(),
                z.as_ref(),
                1.0,
                Par::Seq,
            );
            matmul(rest.rb_mut(), Accum::Add, vb, tz.as_ref(), -1.0, Par::Seq);
        }
        c0 = c1;
    }
    build_t(v.rb(), &taus, t.rb_mut());
}

/// `T` of the compact WY form `H₀ ⋯ H_{k−1} = I − V T Vᵀ` (LAPACK `dlarft`, forward, columnwise),
/// from `G = VᵀV`.
fn build_t(v: MatRef<'_, f64>, taus: &[f64], mut t: MatMut<'_, f64>) {
    let k = taus.len();
    let mut g = Mat::<f64>::zeros(k, k);
    matmul(g.as_mut(), Accum::Replace, v.transpose(), v, 1.0, Par::Seq);
    for c in 0..k {
        for r in 0..c {
            let s: f64 = (r..c).map(|l| t[(r, l)] * g[(l, c)]).sum();
            t[(r, c)] = -taus[c] * s;
        }
        t[(c, c)] = taus[c];
        for r in c + 1..k {
            t[(r, c)] = 0.0;
        }
    }
}

/// Reduces the symmetric matrix `a` (its lower triangle holds the matrix; the upper triangle is
/// neither read nor kept) to half-bandwidth `b` by an orthogonal similarity. On return the lower
/// band `a[i][j], 0 ≤ i − j ≤ b` holds the band matrix; other entries are workspace garbage.
///
/// # Panics
/// If `a` is not square or `b` is 0.
pub fn reduce_to_band(mut a: MatMut<'_, f64>, b: usize, par: Par) {
    let n = a.nrows();
    assert_eq!(n, a.ncols(), "reduce_to_band needs a square matrix");
    assert!(b >= 1, "bandwidth must be at least 1");
    let mut v_buf = Mat::<f64>::zeros(n, b);
    let mut y_buf = Mat::<f64>::zeros(n, b);
    let mut lr_buf = Mat::<f64>::zeros(n, 2 * b);
    let mut rr_buf = Mat::<f64>::zeros(n, 2 * b);
    let mut t = Mat::<f64>::zeros(b, b);
    let mut k = 0;
    // Panel k..k+b is factored below row k+b; with fewer than 2 rows there is nothing to zero.
    while k + b + 1 < n {
        let m = n - k - b;
        let nr = b.min(m - 1); // reflectors of length ≥ 2
        let (_, rest) = a.rb_mut().split_at_col_mut(k);
        let (panel_cols, trailing_cols) = rest.split_at_col_mut(b);
        let (_, panel) = panel_cols.split_at_row_mut(k + b);
        let mut v = v_buf.as_mut().submatrix_mut(0, 0, m, nr);
        let mut tm = t.as_mut().submatrix_mut(0, 0, nr, nr);
        factor_panel(panel, nr, v.rb_mut(), tm.rb_mut());
        let (v, tm) = (v.rb(), tm.rb());
        // --- two-sided update of the trailing matrix A₂₂ = a[k+b.., k+b..] (lower triangle) ---
        let (_, mut a22) = trailing_cols.split_at_row_mut(k + b);
        // Y = A₂₂ V from the lower triangle: tril(A₂₂) V + stril(A₂₂)ᵀ V.
        let mut y = y_buf.as_mut().submatrix_mut(0, 0, m, nr);
        tri::matmul(
            y.rb_mut(),
            BS::Rectangular,
            Accum::Replace,
            a22.rb(),
            BS::TriangularLower,
            v,
            BS::Rectangular,
            1.0,
            par,
        );
        tri::matmul(
            y.rb_mut(),
            BS::Rectangular,
            Accum::Add,
            a22.rb().transpose(),
            BS::StrictTriangularUpper,
            v,
            BS::Rectangular,
            1.0,
            par,
        );
        // X = Y T, kept in the right half of lr = [V | W].
        let mut lr = lr_buf.as_mut().submatrix_mut(0, 0, m, 2 * nr);
        let (mut lv, mut lw) = lr.rb_mut().split_at_col_mut(nr);
        lv.copy_from(v);
        matmul(lw.rb_mut(), Accum::Replace, y.rb(), tm, 1.0, Par::Seq);
        // M = Tᵀ (Vᵀ X);  W = X − ½ V M.
        let mut vtx = Mat::<f64>::zeros(nr, nr);
        matmul(
            vtx.as_mut(),
            Accum::Replace,
            v.transpose(),
            lw.rb(),
            1.0,
            Par::Seq,
        );
        let mut mm = Mat::<f64>::zeros(nr, nr);
        matmul(
            mm.as_mut(),
            Accum::Replace,
            tm.transpose(),
            vtx.as_ref(),
            1.0,
            Par::Seq,
        );
        matmul(lw.rb_mut(), Accum::Add, v, mm.as_ref(), -0.5, Par::Seq);
        // rr = [W | V];  tril(A₂₂) ← tril(A₂₂ − [V W] [W V]ᵀ).
        let mut rr = rr_buf.as_mut().submatrix_mut(0, 0, m, 2 * nr);
        {
            let (mut rw, mut rv) = rr.rb_mut().split_at_col_mut(nr);
            rw.copy_from(lw.rb());
            rv.copy_from(v);
        }
        tri::matmul(
            a22.rb_mut(),
            BS::TriangularLower,
            Accum::Add,
            lr.rb(),
            BS::Rectangular,
            rr.rb().transpose(),
            BS::Rectangular,
            -1.0,
            par,
        );
        k += b;
    }
}

#[inline(always)]
pub(crate) fn dot(a: &[f64], b: &[f64]) -> f64 {
    // Eight accumulators let the compiler vectorise without reassociating a single sum.
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0.0f64; 8];
    let chunks = n / 8;
    for i in 0..chunks {
        for l in 0..8 {
            acc[l] += a[8 * i + l] * b[8 * i + l];
        }
    }
    let mut s = 0.0;
    for i in 8 * chunks..n {
        s += a[i] * b[i];
    }
    ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7])) + s
}

#[inline(always)]
pub(crate) fn axpy(alpha: f64, x: &[f64], y: &mut [f64]) {
    for (yi, xi) in y.iter_mut().zip(x) {
        *yi += alpha * xi;
    }
}
