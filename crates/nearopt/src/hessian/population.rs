//! The exact population Hessian at the optimum (student = teacher, `x ~ N(0, I)`).

use super::{check_dense_fits, DenseMatrix, HessianOperator};
use crate::activation::PairMoments;
use crate::gaussian::{dot, Cov2};
use crate::layout::ParamLayout;
use crate::network::Network;
use crate::Result;
use rayon::prelude::*;

/// Dimension below which [`PopulationHessian::dense`] fills the matrix on the calling thread.
const SEQUENTIAL_ASSEMBLY_BELOW: usize = 1000;

/// `H = E[J Jᵀ]` at the optimum, with `J = ∂y/∂θ` — the Hessian of the generalization error
/// `½ E[(y − y*)²]` when student = teacher (paper Eqs. 3–5 with `y = y*`; equal to the Fisher
/// information, Appendix D).
///
/// Stored as the `Nh²` pair moments `K_ab(m, p)` (see the crate docs), so a product costs
/// `O(Nh² Ni)` and the dense matrix `O(D²)`:
///
/// ```text
/// A: H[(m,n),(p,q)] = a_m a_p [δ_nq K11 + w_mn w_mq K31 + (w_mn w_pq + w_pn w_mq) K22 + w_pn w_pq K13]
/// C: H[(m,n), k]    = a_m [w_mn K20(m,k) + w_kn K11(m,k)]
/// B: H[k, j]        = K00(k, j)
/// ```
///
/// For linear `g` this is paper Eqs. 8–10; for quadratic `g` the corrected Eqs. 11–13; for erf
/// Eqs. 16–18.
#[derive(Clone, Debug)]
pub struct PopulationHessian {
    layout: ParamLayout,
    ni: usize,
    nh: usize,
    w1: Vec<f64>,
    a: Vec<f64>,
    /// `moments[m * nh + p]`: the pair `(z_m, z_p)`.
    moments: Vec<PairMoments>,
    /// Why the moments could not be computed (then [`PopulationHessian::dense`] refuses).
    failure: Option<String>,
}

impl PopulationHessian {
    /// The Hessian of the network at the optimum, or the error that prevents it (a quantity
    /// that overflows, quadrature that does not converge, an unsupported combination).
    pub fn try_at_optimum(net: &Network) -> Result<Self> {
        let h = Self::at_optimum(net);
        match &h.failure {
            Some(msg) => Err(crate::Error::Numerical(msg.clone())),
            None => Ok(h),
        }
    }

    /// The Hessian of the network at the optimum (the network is both student and teacher).
    /// Should the moments fail (see [`PopulationHessian::try_at_optimum`]), [`Self::dense`]
    /// returns that error; prefer `try_at_optimum` before matrix-free products.
    pub fn at_optimum(net: &Network) -> Self {
        if net.layout().has_biases() {
            return PopulationHessian {
                layout: net.layout(),
                ni: net.ni(),
                nh: net.nh(),
                w1: net.w1().to_vec(),
                a: net.w2().to_vec(),
                moments: vec![PairMoments::default(); net.nh() * net.nh()],
                failure: Some(
                    "the exact population Hessian with biases is not implemented yet".into(),
                ),
            };
        }
        let (ni, nh) = (net.ni(), net.nh());
        let g = net.activation().function();
        let g = g.as_ref();
        // Upper triangle in parallel, then mirrored.
        let upper: Vec<Vec<PairMoments>> = (0..nh)
            .into_par_iter()
            .map(|m| {
                (m..nh)
                    .map(|p| g.pair_moments(Cov2::of(net.w1_row(m), net.w1_row(p))))
                    .collect()
            })
            .collect();
        let mut moments = vec![PairMoments::default(); nh * nh];
        for (m, row) in upper.into_iter().enumerate() {
            for (off, k) in row.into_iter().enumerate() {
                let p = m + off;
                moments[m * nh + p] = k;
                moments[p * nh + m] = k.swapped();
            }
        }
        PopulationHessian {
            layout: ParamLayout::new(ni, nh),
            ni,
            nh,
            w1: net.w1().to_vec(),
            a: net.w2().to_vec(),
            moments,
            failure: None,
        }
    }

    /// Pair moments of hidden units `m` and `p`.
    pub fn moments(&self, m: usize, p: usize) -> &PairMoments {
        &self.moments[m * self.nh + p]
    }

    fn row(&self, m: usize) -> &[f64] {
        &self.w1[self.layout.w1_row(m)]
    }

    /// The parameter layout of the rows and columns.
    pub fn layout(&self) -> ParamLayout {
        self.layout
    }

    /// Writes the `Ni` rows of hidden unit `m` (a row-major `Ni × D` slice).
    fn fill_w1_rows(&self, m: usize, out: &mut [f64]) {
        let (ni, nh, l) = (self.ni, self.nh, self.layout);
        let d = l.dim();
        let u = self.row(m);
        for n in 0..ni {
            let row = &mut out[n * d..(n + 1) * d];
            for p in 0..nh {
                let k = self.moments(m, p);
                let v = self.row(p);
                let s = self.a[m] * self.a[p];
                let cu = s * (k.k31 * u[n] + k.k22 * v[n]);
                let cv = s * (k.k22 * u[n] + k.k13 * v[n]);
                let block = &mut row[l.w1_row(p)];
                for ((b, uq), vq) in block.iter_mut().zip(u).zip(v) {
                    *b = cu * uq + cv * vq;
                }
                block[n] += s * k.k11;
            }
            for k in 0..nh {
                let km = self.moments(m, k);
                row[l.w2(k)] = self.a[m] * (u[n] * km.k20 + self.row(k)[n] * km.k11);
            }
        }
    }

    /// Writes row `W2[k]` (length `D`).
    fn fill_w2_row(&self, k: usize, row: &mut [f64]) {
        let (nh, l) = (self.nh, self.layout);
        let wk = self.row(k);
        for m in 0..nh {
            let km = self.moments(m, k);
            let u = self.row(m);
            let am = self.a[m];
            for ((r, umn), wkn) in row[l.w1_row(m)].iter_mut().zip(u).zip(wk) {
                *r = am * (umn * km.k20 + wkn * km.k11);
            }
        }
        for j in 0..nh {
            row[l.w2(j)] = self.moments(k, j).k00;
        }
    }

    /// The dense `D × D` matrix, assembled in parallel in `O(D²)`; refuses (with the size it
    /// would need) when it cannot fit in memory.
    pub fn dense(&self) -> Result<DenseMatrix> {
        let (ni, l) = (self.ni, self.layout);
        let d = l.dim();
        if let Some(msg) = &self.failure {
            return Err(crate::Error::Numerical(msg.clone()));
        }
        check_dense_fits(d, d, "population Hessian")?;
        let mut data = vec![0.0; d * d];
        let (w1_part, w2_part) = data.split_at_mut(l.w2_all().start * d);
        if d < SEQUENTIAL_ASSEMBLY_BELOW {
            // Small matrices: filling takes microseconds, less than waking the pool's threads.
            for (m, chunk) in w1_part.chunks_mut(ni * d).enumerate() {
                self.fill_w1_rows(m, chunk);
            }
            for (k, row) in w2_part.chunks_mut(d).enumerate() {
                self.fill_w2_row(k, row);
            }
            return Ok(DenseMatrix::from_row_major(d, d, data));
        }
        rayon::join(
            || {
                w1_part
                    .par_chunks_mut(ni * d)
                    .enumerate()
                    .for_each(|(m, chunk)| self.fill_w1_rows(m, chunk))
            },
            || {
                w2_part
                    .par_chunks_mut(d)
                    .enumerate()
                    .for_each(|(k, row)| self.fill_w2_row(k, row))
            },
        );
        Ok(DenseMatrix::from_row_major(d, d, data))
    }
}

impl HessianOperator for PopulationHessian {
    fn dim(&self) -> usize {
        self.layout.dim()
    }

    /// `O(Nh² Ni)`: with `G[m][p] = w_m · V_p` (`V_p` the W1-part of `v` for unit `p`, `b` its
    /// W2-part), `(Hv)_m = Σ_p a_m a_p [K11 V_p + K31 w_m G_mp + K22 (w_m G_pp + w_p G_mp) + K13 w_p G_pp]
    /// + a_m Σ_k b_k (w_m K20(m,k) + w_k K11(m,k))` and `(Hv)_k = Σ_m a_m (K20(m,k) G_mm + K11(m,k) G_km) + Σ_j K00(k,j) b_j`.
    fn matvec(&self, v: &[f64], out: &mut [f64]) {
        let (ni, nh, l) = (self.ni, self.nh, self.layout);
        let (vw1, b) = v.split_at(l.w2_all().start);
        // G[m][p] = w_m · V_p
        let g: Vec<f64> = (0..nh * nh)
            .into_par_iter()
            .map(|i| dot(self.row(i / nh), &vw1[l.w1_row(i % nh)]))
            .collect();
        let (ow1, ob) = out.split_at_mut(l.w2_all().start);
        ow1.par_chunks_mut(ni).enumerate().for_each(|(m, om)| {
            om.iter_mut().for_each(|x| *x = 0.0);
            let wm = self.row(m);
            let (mut cm, am) = (0.0, self.a[m]);
            for p in 0..nh {
                let k = self.moments(m, p);
                let s = am * self.a[p];
                let (gmp, gpp) = (g[m * nh + p], g[p * nh + p]);
                let vp = &vw1[l.w1_row(p)];
                let wp = self.row(p);
                let cp = s * (k.k22 * gmp + k.k13 * gpp) + am * b[p] * k.k11;
                cm += s * (k.k31 * gmp + k.k22 * gpp) + am * b[p] * k.k20;
                let c11 = s * k.k11;
                for ((o, vq), wq) in om.iter_mut().zip(vp).zip(wp) {
                    *o += c11 * vq + cp * wq;
                }
            }
            for (o, wq) in om.iter_mut().zip(wm) {
                *o += cm * wq;
            }
        });
        ob.par_iter_mut().enumerate().for_each(|(k, o)| {
            let mut s = 0.0;
            for m in 0..nh {
                let km = self.moments(m, k);
                s += self.a[m] * (km.k20 * g[m * nh + m] + km.k11 * g[k * nh + m]);
            }
            for (j, bj) in b.iter().enumerate() {
                s += self.moments(k, j).k00 * bj;
            }
            *o = s;
        });
    }

    fn to_dense(&self) -> Result<DenseMatrix> {
        self.dense()
    }
}
