//! The exact population Hessian's product as matrix–matrix work, for blocks of vectors.
//!
//! [`BatchedPopulationHessian`] computes `H v` for `k` vectors at once with the formula of
//! [`PopulationHessian`]'s `matvec`, rewritten as GEMMs. With `V` the `Nh × Ni` W1-part of `v`
//! (row `p` = `V_p`), `b` its W2-part, `S = a aᵀ` and `∘` the elementwise product:
//!
//! ```text
//! G      = W1 Vᵀ                                   (Nh × Nh, GEMM, G_mp = w_m · V_p, g_p = G_pp)
//! B_mp   = S_mp (K22_mp G_mp + K13_mp g_p) + a_m b_p K11_mp          (elementwise, O(Nh²))
//! c_m    = Σ_p S_mp (K31_mp G_mp + K22_mp g_p) + a_m b_p K20_mp       (O(Nh²))
//! (Hv)_W1 = (S∘K11) V + (B + diag(c)) W1                             (two GEMMs)
//! (Hv)_k  = Σ_m a_m (K20(m,k) g_m + K11(m,k) G_km) + Σ_j K00(k,j) b_j  (O(Nh²))
//! ```
//!
//! Cost per vector: `6 Nh² Ni` flops in three GEMMs (`2 Nh² Ni` each) plus `O(Nh²)`; memory:
//! nine `Nh × Nh` coefficient matrices and a workspace of `2 k Nh² + O(k Nh)` numbers (kept
//! between calls: no allocation per product once the largest block has been seen).
//!
//! **Determinism.** Every GEMM runs sequentially on a fixed block of [`UNIT_BLOCK`] hidden units
//! and every other sum in a fixed order; rayon only decides which thread runs which block. So
//! the result does not depend on the thread count, and column `j` of a block product is the
//! same arithmetic, bit for bit, as the single product of column `j`
//! (`tests/density_batched.rs` checks both).

use super::rotation::{is_lower_trapezoidal, lower_triangular_inputs};
use super::{HessianOperator, PopulationHessian};
use crate::network::Network;
use crate::Result;
use faer::linalg::matmul::matmul;
use faer::{Accum, MatMut, MatRef, Par};
use rayon::prelude::*;
use std::sync::Mutex;

/// Hidden units per task of the blocked GEMMs (fixed: it fixes the summation order). 256 rather
/// than 128: wider tiles run closer to faer's whole-matrix GEMM rate (at N = 1000 the product
/// took 8–12% less time in three interleaved runs, not confirmed by two later ones on a noisier
/// machine; docs/performance.md).
pub const UNIT_BLOCK: usize = 256;

/// Width of the sub-tiles over which a lower-trapezoidal `W1`'s zero part is skipped (fixed, like
/// [`UNIT_BLOCK`]: it fixes the summation order). The skipped fraction is `½ − SUB_TILE / 2N`.
pub const SUB_TILE: usize = 64;
/// Height of the row blocks of `(B + diag c) W1`'s output over which the zero part is skipped
/// (fixed: the summation order). A multiple of the 48-row AVX-512 micro-kernel of faer's f64
/// GEMM, so no block ends in a partial kernel.
pub const SUB_ROWS: usize = 96;
// Sub-tiles nest in the UNIT_BLOCK tiles (stage 1 runs them as tasks of their own).
const _: () = assert!(UNIT_BLOCK.is_multiple_of(SUB_TILE));

/// A symmetric operator that multiplies several vectors at once.
pub trait BlockOperator: Sync {
    /// `D`.
    fn dim(&self) -> usize;
    /// `out[:, j] = H v[:, j]` for the `k = v.len() / D` columns, each a contiguous `D`-vector
    /// (column-major `D × k`). `out` has the same shape.
    fn apply_block(&self, v: &[f64], out: &mut [f64]);
}

/// Any [`HessianOperator`] as a [`BlockOperator`], one column at a time.
pub struct ColumnByColumn<'a>(pub &'a dyn HessianOperator);

impl BlockOperator for ColumnByColumn<'_> {
    fn dim(&self) -> usize {
        self.0.dim()
    }
    fn apply_block(&self, v: &[f64], out: &mut [f64]) {
        let d = self.0.dim();
        for (vj, oj) in v.chunks(d).zip(out.chunks_mut(d)) {
            self.0.matvec(vj, oj);
        }
    }
}

/// Reusable buffers of [`BatchedPopulationHessian`], sized for `cap` vectors.
#[derive(Default)]
struct Workspace {
    cap: usize,
    /// `gt[(m·k + j)·Nh + p] = G_j[m][p]` (row `m` of `G_j`; column `m` of `G_jᵀ`).
    gt: Vec<f64>,
    /// `bt[(m·k + j)·Nh + p] = B_j[m][p]`.
    bt: Vec<f64>,
    /// `diag[j·Nh + p] = g_p` of vector `j`.
    diag: Vec<f64>,
    /// `ob[m·k + j]`: the W2-part of the result of vector `j`.
    ob: Vec<f64>,
}

impl Workspace {
    fn ensure(&mut self, k: usize, nh: usize) {
        if k <= self.cap {
            return;
        }
        self.cap = k;
        self.gt = vec![0.0; k * nh * nh];
        self.bt = vec![0.0; k * nh * nh];
        self.diag = vec![0.0; k * nh];
        self.ob = vec![0.0; k * nh];
    }
}

/// The exact population Hessian at the optimum (the operator of [`PopulationHessian`]) with a
/// fast block product: see the module docs for the formula, `6 Nh² Ni` flops per vector as
/// GEMMs. Row-major `Nh × Nh` coefficient matrices, index `m·Nh + p`.
pub struct BatchedPopulationHessian {
    ni: usize,
    nh: usize,
    /// `W1`, row-major `Nh × Ni` (= `W1ᵀ` column-major).
    w1: Vec<f64>,
    /// `a_m a_p K11(m,p)`.
    s11: Vec<f64>,
    /// `a_m a_p K22(m,p)`.
    s22: Vec<f64>,
    /// `a_m a_p K13(m,p)`.
    s13: Vec<f64>,
    /// `a_m a_p K31(m,p)`.
    s31: Vec<f64>,
    /// `a_m K20(m,p)`.
    a20: Vec<f64>,
    /// `a_m K11(m,p)`.
    a11: Vec<f64>,
    /// `[k][m] = a_m K20(m,k)`.
    a20t: Vec<f64>,
    /// `[k][m] = a_m K11(m,k)`.
    a11t: Vec<f64>,
    /// `K00(k,j)`.
    k00: Vec<f64>,
    /// Whether `W1` is lower-trapezoidal (`w_p[i] = 0` for `i > p`, as
    /// [`lower_triangular_inputs`] makes it): the GEMMs with `W1` then skip the zero part.
    lower: bool,
    ws: Mutex<Workspace>,
}

impl BatchedPopulationHessian {
    /// The Hessian of `net` at the optimum (pair moments as in [`PopulationHessian::at_optimum`]).
    pub fn at_optimum(net: &Network) -> Self {
        Self::from_population(net, &PopulationHessian::at_optimum(net))
    }

    /// From the pair moments of `h`, which must be the Hessian of `net` at the optimum (same
    /// weights); panics if the dimensions differ.
    pub fn from_population(net: &Network, h: &PopulationHessian) -> Self {
        let (ni, nh) = (net.ni(), net.nh());
        assert_eq!(h.dim(), net.dim(), "Hessian and network differ in size");
        let a = net.w2();
        let n2 = nh * nh;
        let mut mats: Vec<Vec<f64>> = (0..9).map(|_| vec![0.0; n2]).collect();
        for m in 0..nh {
            for p in 0..nh {
                let k = h.moments(m, p);
                let (s, i, it) = (a[m] * a[p], m * nh + p, p * nh + m);
                mats[0][i] = s * k.k11;
                mats[1][i] = s * k.k22;
                mats[2][i] = s * k.k13;
                mats[3][i] = s * k.k31;
                mats[4][i] = a[m] * k.k20;
                mats[5][i] = a[m] * k.k11;
                mats[6][it] = a[m] * k.k20;
                mats[7][it] = a[m] * k.k11;
                mats[8][i] = k.k00;
            }
        }
        let mut it = mats.into_iter();
        let mut next = || it.next().expect("nine matrices");
        BatchedPopulationHessian {
            ni,
            nh,
            w1: net.w1().to_vec(),
            s11: next(),
            s22: next(),
            s13: next(),
            s31: next(),
            a20: next(),
            a11: next(),
            a20t: next(),
            a11t: next(),
            k00: next(),
            lower: is_lower_trapezoidal(net.w1(), nh, ni),
            ws: Mutex::new(Workspace::default()),
        }
    }

    /// Allocates the workspace for blocks of up to `k` vectors now (else on first use).
    pub fn reserve(&self, k: usize) {
        let mut ws = self.ws.lock().unwrap_or_else(|e| e.into_inner());
        ws.ensure(k, self.nh);
    }

    /// Bytes held: coefficient matrices, `W1` and a workspace for blocks of `k` vectors.
    pub fn memory_bytes(nh: usize, ni: usize, k: usize) -> u64 {
        let n2 = (nh * nh) as u64;
        8 * (9 * n2 + (nh * ni) as u64 + 2 * k as u64 * n2 + 2 * (k * nh) as u64)
    }

    /// Floating-point operations of one product (the three GEMMs as performed, i.e. over the
    /// trimmed inner dimensions when `W1` is lower-trapezoidal; the `O(Nh²)` rest is counted as
    /// `24 Nh²`).
    pub fn flops_per_product(&self) -> f64 {
        let (nh, ni) = (self.nh, self.ni);
        let dense = 2.0 * (nh * nh * ni) as f64;
        let with_w1 = if self.lower {
            // Stage 1: column m of Gᵀ over inputs i < min(end of its sub-tile, Ni); stage 3:
            // output rows i < min(Ni, Nh) over units p ≥ start of their sub-tile.
            let mut s1 = 0usize;
            let mut m0 = 0;
            while m0 < nh {
                let tile = UNIT_BLOCK.min(nh - m0);
                let mut s0 = 0;
                while s0 < tile {
                    let sc = SUB_TILE.min(tile - s0);
                    s1 += sc * (m0 + s0 + sc).min(ni);
                    s0 += sc;
                }
                m0 += tile;
            }
            let mut s3 = 0usize;
            let mut i0 = 0;
            while i0 < ni.min(nh) {
                let sr = SUB_ROWS.min(ni.min(nh) - i0);
                s3 += sr * (nh - i0);
                i0 += sr;
            }
            2.0 * (nh * (s1 + s3)) as f64
        } else {
            2.0 * dense
        };
        dense + with_w1 + 24.0 * (nh * nh) as f64
    }

    /// The operator of `net`'s Hessian at the optimum in the input basis of
    /// [`lower_triangular_inputs`] (orthogonally similar, so the same spectrum; about a third
    /// fewer flops per product at `Ni = Nh`): `h` must be the Hessian of `net` at the optimum.
    /// The pair moments depend on `W1` only through `W1 W1ᵀ`, which the rotation keeps, so they
    /// are `h`'s.
    pub fn from_population_triangular(net: &Network, h: &PopulationHessian) -> Result<Self> {
        Ok(Self::from_population(&lower_triangular_inputs(net)?, h))
    }

    /// Whether the product runs on a lower-trapezoidal `W1` (see [`Self::flops_per_product`]).
    pub fn is_triangular(&self) -> bool {
        self.lower
    }

    fn compute(&self, v: &[f64], out: &mut [f64], ws: &mut Workspace) {
        let (ni, nh) = (self.ni, self.nh);
        let d = nh * ni + nh;
        let k = v.len() / d;
        ws.ensure(k, nh);
        let ub = UNIT_BLOCK;
        let stride = k * nh;
        let wt = MatRef::from_column_major_slice(&self.w1, ni, nh);
        // Stage 1: G_jᵀ[:, block] = V_j W1[block]ᵀ, i.e. column m of G_jᵀ is G_j[m][·]. With a
        // lower-trapezoidal W1 the tasks are the SUB_TILE-wide sub-tiles (each its own GEMM
        // either way, so the same bits): their work grows with m, and UNIT_BLOCK tasks of
        // unequal size left one thread idle for about a third of the stage.
        let task = if self.lower { SUB_TILE } else { ub };
        ws.gt[..k * nh * nh]
            .par_chunks_mut(task * stride)
            .enumerate()
            .for_each(|(r, chunk)| {
                let m0 = r * task;
                let cols = chunk.len() / stride;
                for j in 0..k {
                    let vt = MatRef::from_column_major_slice(&v[j * d..j * d + nh * ni], ni, nh);
                    let mut dst = MatMut::from_column_major_slice_with_stride_mut(
                        &mut chunk[j * nh..],
                        nh,
                        cols,
                        stride,
                    );
                    if !self.lower {
                        matmul(
                            dst,
                            Accum::Replace,
                            vt.transpose(),
                            wt.subcols(m0, cols),
                            1.0,
                            Par::Seq,
                        );
                        continue;
                    }
                    // w_m[i] = 0 for i > m: columns m < m0 + s0 + sc need inputs below that.
                    let mut s0 = 0;
                    while s0 < cols {
                        let sc = SUB_TILE.min(cols - s0);
                        let inner = (m0 + s0 + sc).min(ni);
                        matmul(
                            dst.as_mut().subcols_mut(s0, sc),
                            Accum::Replace,
                            vt.subrows(0, inner).transpose(),
                            wt.submatrix(0, m0 + s0, inner, sc),
                            1.0,
                            Par::Seq,
                        );
                        s0 += sc;
                    }
                }
            });
        // g_p = G_pp.
        for j in 0..k {
            for p in 0..nh {
                ws.diag[j * nh + p] = ws.gt[(p * k + j) * nh + p];
            }
        }
        // Stage 2: B_j, c and the W2-part, row by row (all vectors of a row together, so each
        // coefficient row is read once per block).
        let (gt, diag) = (&ws.gt[..k * nh * nh], &ws.diag[..k * nh]);
        ws.bt[..k * nh * nh]
            .par_chunks_mut(ub * stride)
            .zip(ws.ob[..k * nh].par_chunks_mut(ub * k))
            .enumerate()
            .for_each(|(r, (bt, ob))| {
                for (mi, m) in (r * ub..(r * ub + bt.len() / stride)).enumerate() {
                    let row = m * nh..(m + 1) * nh;
                    let (s22, s13, s31) = (
                        &self.s22[row.clone()],
                        &self.s13[row.clone()],
                        &self.s31[row.clone()],
                    );
                    let (a20, a11) = (&self.a20[row.clone()], &self.a11[row.clone()]);
                    let (a20t, a11t, k00) = (
                        &self.a20t[row.clone()],
                        &self.a11t[row.clone()],
                        &self.k00[row],
                    );
                    for j in 0..k {
                        let b = &v[j * d + nh * ni..(j + 1) * d];
                        let gm = &gt[(m * k + j) * nh..(m * k + j + 1) * nh];
                        let g = &diag[j * nh..(j + 1) * nh];
                        let bm = &mut bt[(mi * k + j) * nh..(mi * k + j + 1) * nh];
                        let mut c = 0.0;
                        for p in 0..nh {
                            bm[p] = s22[p] * gm[p] + s13[p] * g[p] + a11[p] * b[p];
                            c += s31[p] * gm[p] + s22[p] * g[p] + a20[p] * b[p];
                        }
                        // diag(c) W1 folds into B W1: (B + diag(c)) W1.
                        bm[m] += c;
                        // (Hv)_m of the W2-part: Σ_q a_q K20(q,m) g_q + a_q K11(q,m) G_mq + K00(m,q) b_q.
                        let mut o = 0.0;
                        for q in 0..nh {
                            o += a20t[q] * g[q] + a11t[q] * gm[q] + k00[q] * b[q];
                        }
                        ob[mi * k + j] = o;
                    }
                }
            });
        // Stage 3: (Hv)_W1ᵀ[:, block] = Vᵀ (S∘K11)ᵀ[:, block] + W1ᵀ (B + diag c)ᵀ[:, block].
        let (bt, ob) = (&ws.bt[..k * nh * nh], &ws.ob[..k * nh]);
        let s11t = MatRef::from_column_major_slice(&self.s11, nh, nh);
        out.par_chunks_mut(d).enumerate().for_each(|(j, oj)| {
            let vt = MatRef::from_column_major_slice(&v[j * d..j * d + nh * ni], ni, nh);
            let (ow1, ow2) = oj.split_at_mut(nh * ni);
            for (m, o) in ow2.iter_mut().enumerate() {
                *o = ob[m * k + j];
            }
            ow1.par_chunks_mut(ub * ni)
                .enumerate()
                .for_each(|(r, chunk)| {
                    let m0 = r * ub;
                    let cols = chunk.len() / ni;
                    let btj = MatRef::from_column_major_slice_with_stride(
                        &bt[(m0 * k + j) * nh..],
                        nh,
                        cols,
                        stride,
                    );
                    let mut dst = MatMut::from_column_major_slice_mut(chunk, ni, cols);
                    matmul(
                        dst.as_mut(),
                        Accum::Replace,
                        vt,
                        s11t.subcols(m0, cols),
                        1.0,
                        Par::Seq,
                    );
                    if !self.lower {
                        matmul(dst, Accum::Add, wt, btj, 1.0, Par::Seq);
                        return;
                    }
                    // Row i of W1ᵀ is zero at units p < i (and entirely for i ≥ Nh).
                    let rows = ni.min(nh);
                    let mut i0 = 0;
                    while i0 < rows {
                        let sr = SUB_ROWS.min(rows - i0);
                        matmul(
                            dst.as_mut().subrows_mut(i0, sr),
                            Accum::Add,
                            wt.submatrix(i0, i0, sr, nh - i0),
                            btj.subrows(i0, nh - i0),
                            1.0,
                            Par::Seq,
                        );
                        i0 += sr;
                    }
                });
        });
    }
}

impl BlockOperator for BatchedPopulationHessian {
    fn dim(&self) -> usize {
        self.nh * self.ni + self.nh
    }

    /// See the module docs; panics if `v` and `out` differ in length or are not a whole number
    /// of `D`-vectors.
    fn apply_block(&self, v: &[f64], out: &mut [f64]) {
        let d = BlockOperator::dim(self);
        assert!(
            v.len() == out.len() && v.len().is_multiple_of(d),
            "block product: {} inputs and {} outputs for D = {d}",
            v.len(),
            out.len()
        );
        if v.is_empty() {
            return;
        }
        let mut ws = self.ws.lock().unwrap_or_else(|e| e.into_inner());
        self.compute(v, out, &mut ws);
    }
}

impl HessianOperator for BatchedPopulationHessian {
    fn dim(&self) -> usize {
        BlockOperator::dim(self)
    }
    fn matvec(&self, v: &[f64], out: &mut [f64]) {
        self.apply_block(v, out);
    }
}

/// The Gram matrix `Q = W1 W1ᵀ` (row-major `Nh × Nh`) by blocked sequential GEMMs (so the same
/// bits whatever the thread count).
pub fn gram(w1: &[f64], nh: usize, ni: usize) -> Vec<f64> {
    let mut q = vec![0.0; nh * nh];
    let wt = MatRef::from_column_major_slice(w1, ni, nh);
    q.par_chunks_mut(UNIT_BLOCK * nh)
        .enumerate()
        .for_each(|(r, chunk)| {
            let cols = chunk.len() / nh;
            let dst = MatMut::from_column_major_slice_mut(chunk, nh, cols);
            matmul(
                dst,
                Accum::Replace,
                wt.transpose(),
                wt.subcols(r * UNIT_BLOCK, cols),
                1.0,
                Par::Seq,
            );
        });
    q
}
