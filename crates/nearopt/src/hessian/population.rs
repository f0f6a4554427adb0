//! The exact population Hessian at the optimum (student = teacher, `x ~ N(0, I)`).

use super::{check_dense_fits, DenseMatrix, HessianOperator};
use crate::activation::{Gauss2, Moments, PairMoments, UnitMoments};
use crate::gaussian::dot;
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
/// Eqs. 16–18. With biases (`z_m = w_m·x + b1[m]`, non-centred; `docs/biases.md`) the moments
/// are those of the non-centred pairs and the bias rows are
///
/// ```text
/// H[(m,n), b1_p] = a_m a_p [w_mn K21(m,p) + w_pn K12(m,p)]     H[(m,n), b2] = a_m w_mn m2(m)
/// H[W2_k, b1_p]  = a_p K01(k,p)                                  H[W2_k, b2]  = m0(k)
/// H[b1_k, b1_p]  = a_k a_p K11(k,p)     H[b1_k, b2] = a_k m1(k)     H[b2, b2] = 1
/// ```
///
/// with `m0, m1, m2 = E[g(z)], E[g'(z)], E[g''(z)]` of one unit ([`UnitMoments`]).
#[derive(Clone, Debug)]
pub struct PopulationHessian {
    layout: ParamLayout,
    ni: usize,
    nh: usize,
    w1: Vec<f64>,
    a: Vec<f64>,
    /// `moments[m * nh + p]`: the pair `(z_m, z_p)`.
    moments: Vec<PairMoments>,
    /// `[K10, K01, K21, K12]` per pair (only with `b1`).
    bias_moments: Vec<[f64; 4]>,
    /// Per unit (only with `b2`).
    units: Vec<UnitMoments>,
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
        let (ni, nh, layout) = (net.ni(), net.nh(), net.layout());
        let g = net.activation().function();
        let g = g.as_ref();
        let mut failure = None;
        if let Some(m) = (0..nh).find(|&m| !dot(net.w1_row(m), net.w1_row(m)).is_finite()) {
            failure = Some(format!(
                "|w_{m}|² (row {m} of W1) overflows: the pre-activation variance is not finite"
            ));
        }
        // Upper triangle in parallel, then mirrored.
        let upper: Vec<Vec<std::result::Result<Moments, String>>> = if failure.is_none() {
            (0..nh)
                .into_par_iter()
                .map(|m| (m..nh).map(|p| pair(g, net, m, p)).collect())
                .collect()
        } else {
            Vec::new()
        };
        let mut moments = vec![PairMoments::default(); nh * nh];
        let mut bias_moments = vec![[0.0; 4]; if layout.has_b1 { nh * nh } else { 0 }];
        for (m, row) in upper.into_iter().enumerate() {
            for (off, k) in row.into_iter().enumerate() {
                let p = m + off;
                match k {
                    Ok(k) => {
                        moments[m * nh + p] = k.pair;
                        moments[p * nh + m] = k.pair.swapped();
                        if layout.has_b1 {
                            bias_moments[m * nh + p] = [k.k10, k.k01, k.k21, k.k12];
                            bias_moments[p * nh + m] = [k.k01, k.k10, k.k12, k.k21];
                        }
                    }
                    Err(e) => {
                        failure.get_or_insert(e);
                    }
                }
            }
        }
        let mut units = Vec::new();
        if layout.has_b2 && failure.is_none() {
            for m in 0..nh {
                let w = net.w1_row(m);
                match g.unit_moments(net.hidden_bias(m), dot(w, w)) {
                    Ok(u) if [u.m0, u.m1, u.m2].iter().all(|v| v.is_finite()) => units.push(u),
                    Ok(_) => {
                        failure = Some(format!(
                            "E[g(z)], E[g'(z)] or E[g''(z)] of hidden unit {m} is not finite (overflow)"
                        ));
                        break;
                    }
                    Err(e) => {
                        failure = Some(format!("hidden unit {m}: {e}"));
                        break;
                    }
                }
            }
        }
        PopulationHessian {
            layout,
            ni,
            nh,
            w1: net.w1().to_vec(),
            a: net.w2().to_vec(),
            moments,
            bias_moments,
            units,
            failure,
        }
    }

    /// Pair moments of hidden units `m` and `p`.
    pub fn moments(&self, m: usize, p: usize) -> &PairMoments {
        &self.moments[m * self.nh + p]
    }

    /// `[K10, K01, K21, K12]` of hidden units `m` and `p` (`E[g'(z_m) g(z_p)]`,
    /// `E[g(z_m) g'(z_p)]`, `E[g''(z_m) g'(z_p)]`, `E[g'(z_m) g''(z_p)]`); `None` without `b1`.
    pub fn bias_moments(&self, m: usize, p: usize) -> Option<[f64; 4]> {
        self.layout
            .has_b1
            .then(|| self.bias_moments[m * self.nh + p])
    }

    /// `E[g(z_m)], E[g'(z_m)], E[g''(z_m)]` of hidden unit `m`; `None` without `b2`.
    pub fn unit_moments(&self, m: usize) -> Option<&UnitMoments> {
        self.units.get(m)
    }

    /// The single entry `H[i][j]` in `O(1)` (the formulas of the type's docs), for sums over a
    /// few entries without forming `H` (e.g. `⟨E[J Jᵀ], F⟩` of [`crate::density`]); panics if
    /// `i` or `j` is not below `D` or the moments failed.
    pub fn entry(&self, i: usize, j: usize) -> f64 {
        use crate::layout::Param::{B1, B2, W1, W2};
        assert!(
            self.failure.is_none(),
            "entry of a Hessian whose moments failed"
        );
        let l = self.layout;
        let (pi, pj) = (
            l.param(i).expect("row index below D"),
            l.param(j).expect("column index below D"),
        );
        let (x, y) = if pi <= pj { (pi, pj) } else { (pj, pi) };
        let a = &self.a;
        match (x, y) {
            (W1(m, n), W1(p, q)) => {
                let k = self.moments(m, p);
                let (u, v) = (self.row(m), self.row(p));
                let s = a[m] * a[p];
                let mut e = s
                    * (k.k31 * u[n] * u[q]
                        + k.k22 * (v[n] * u[q] + u[n] * v[q])
                        + k.k13 * v[n] * v[q]);
                if n == q {
                    e += s * k.k11;
                }
                e
            }
            (W1(m, n), W2(k)) => {
                let km = self.moments(m, k);
                a[m] * (self.row(m)[n] * km.k20 + self.row(k)[n] * km.k11)
            }
            (W1(m, n), B1(p)) => {
                let [_, _, k21, k12] = self.bias_moments[m * self.nh + p];
                a[m] * a[p] * (self.row(m)[n] * k21 + self.row(p)[n] * k12)
            }
            (W1(m, n), B2) => a[m] * self.row(m)[n] * self.units[m].m2,
            (W2(k), W2(j)) => self.moments(k, j).k00,
            (W2(k), B1(p)) => a[p] * self.bias_moments[k * self.nh + p][1],
            (W2(k), B2) => self.units[k].m0,
            (B1(k), B1(p)) => a[k] * a[p] * self.moments(k, p).k11,
            (B1(k), B2) => a[k] * self.units[k].m1,
            (B2, B2) => 1.0,
            _ => unreachable!("the pair is ordered as θ"),
        }
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
            if l.has_b1 {
                for p in 0..nh {
                    let [_, _, k21, k12] = self.bias_moments[m * nh + p];
                    row[l.b1_all().start + p] =
                        self.a[m] * self.a[p] * (u[n] * k21 + self.row(p)[n] * k12);
                }
            }
            if let Some(i) = l.b2() {
                row[i] = self.a[m] * u[n] * self.units[m].m2;
            }
        }
    }

    /// Writes row `b1[k]` (length `D`).
    fn fill_b1_row(&self, k: usize, row: &mut [f64]) {
        let (nh, l) = (self.nh, self.layout);
        let ak = self.a[k];
        let wk = self.row(k);
        for m in 0..nh {
            // H[b1_k, (m,n)] = a_k a_m [w_mn K21(m,k) + w_kn K12(m,k)]
            let [_, _, k21, k12] = self.bias_moments[m * nh + k];
            let s = ak * self.a[m];
            for ((r, umn), wkn) in row[l.w1_row(m)].iter_mut().zip(self.row(m)).zip(wk) {
                *r = s * (umn * k21 + wkn * k12);
            }
            // H[b1_k, W2_m] = a_k K01(m,k) = a_k E[g(z_m) g'(z_k)]
            row[l.w2(m)] = ak * self.bias_moments[m * nh + k][1];
            row[l.b1_all().start + m] = ak * self.a[m] * self.moments(k, m).k11;
        }
        if let Some(i) = l.b2() {
            row[i] = ak * self.units[k].m1;
        }
    }

    /// Writes row `b2` (length `D`).
    fn fill_b2_row(&self, row: &mut [f64]) {
        let (nh, l) = (self.nh, self.layout);
        for m in 0..nh {
            let u = &self.units[m];
            let s = self.a[m] * u.m2;
            for (r, umn) in row[l.w1_row(m)].iter_mut().zip(self.row(m)) {
                *r = s * umn;
            }
            row[l.w2(m)] = u.m0;
            if let Some(i) = l.b1(m) {
                row[i] = self.a[m] * u.m1;
            }
        }
        row[l.dim() - 1] = 1.0;
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
        if l.has_b1 {
            for p in 0..nh {
                row[l.b1_all().start + p] = self.a[p] * self.bias_moments[k * nh + p][1];
            }
        }
        if let Some(i) = l.b2() {
            row[i] = self.units[k].m0;
        }
    }

    /// Fills the bias rows (after W2) and checks that no entry overflowed.
    fn finish(&self, data: &mut [f64]) -> Result<()> {
        let (l, d) = (self.layout, self.layout.dim());
        let bias_rows = &mut data[l.b1_all().start * d..];
        for (k, row) in bias_rows.chunks_mut(d).enumerate() {
            if l.has_b1 && k < self.nh {
                self.fill_b1_row(k, row);
            } else {
                self.fill_b2_row(row);
            }
        }
        if let Some(i) = data.iter().position(|v| !v.is_finite()) {
            return Err(crate::Error::Numerical(format!(
                "population Hessian entry ({}, {}) is not finite: the product of weights and \
                 moments overflows",
                l.describe(i / d),
                l.describe(i % d)
            )));
        }
        Ok(())
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
        let (w1_part, rest) = data.split_at_mut(l.w2_all().start * d);
        let w2_part = &mut rest[..self.nh * d];
        if d < SEQUENTIAL_ASSEMBLY_BELOW {
            // Small matrices: filling takes microseconds, less than waking the pool's threads.
            for (m, chunk) in w1_part.chunks_mut(ni * d).enumerate() {
                self.fill_w1_rows(m, chunk);
            }
            for (k, row) in w2_part.chunks_mut(d).enumerate() {
                self.fill_w2_row(k, row);
            }
            self.finish(&mut data)?;
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
        self.finish(&mut data)?;
        Ok(DenseMatrix::from_row_major(d, d, data))
    }
}

/// The moments of hidden units `m` and `p`, or a message naming them and the quantity that
/// failed or overflowed.
fn pair(
    g: &dyn crate::activation::ActivationFn,
    net: &Network,
    m: usize,
    p: usize,
) -> std::result::Result<Moments, String> {
    let gauss = Gauss2::of(
        net.w1_row(m),
        net.hidden_bias(m),
        net.w1_row(p),
        net.hidden_bias(p),
    );
    if let Some(why) = crate::activation::moments::nearly_parallel_refusal(g, gauss) {
        return Err(format!("hidden units {m} and {p}: {why}"));
    }
    let k = g
        .moments(gauss)
        .map_err(|e| format!("hidden units {m} and {p}: {e}"))?;
    if let Some(i) = k.components().iter().position(|v| !v.is_finite()) {
        return Err(format!(
            "the pair moment {} of hidden units {m} and {p} is not finite (|w_{m}|² = {:e}, \
             |w_{p}|² = {:e}): overflow",
            Moments::component_name(i),
            gauss.cov.q1,
            gauss.cov.q2
        ));
    }
    Ok(k)
}

impl HessianOperator for PopulationHessian {
    fn dim(&self) -> usize {
        self.layout.dim()
    }

    /// `O(Nh² Ni)`: with `G[m][p] = w_m · V_p` (`V_p` the W1-part of `v` for unit `p`, `b` its
    /// W2-part), `(Hv)_m = Σ_p a_m a_p [K11 V_p + K31 w_m G_mp + K22 (w_m G_pp + w_p G_mp) + K13 w_p G_pp]
    /// + a_m Σ_k b_k (w_m K20(m,k) + w_k K11(m,k))` and `(Hv)_k = Σ_m a_m (K20(m,k) G_mm + K11(m,k) G_km) + Σ_j K00(k,j) b_j`.
    fn matvec(&self, v: &[f64], out: &mut [f64]) {
        if !self.layout.has_biases() {
            return self.matvec_weights(v, out);
        }
        let wdim = self.layout.b1_all().start;
        self.matvec_weights(&v[..wdim], &mut out[..wdim]);
        self.add_bias_products(v, out);
    }

    fn to_dense(&self) -> Result<DenseMatrix> {
        self.dense()
    }
}

impl PopulationHessian {
    /// The product restricted to the weights (`v`, `out` of length `Nh·Ni + Nh`).
    fn matvec_weights(&self, v: &[f64], out: &mut [f64]) {
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

    /// Adds the bias rows and columns to a product whose weight part is done (`O(Nh² Ni)`).
    pub(crate) fn add_bias_products(&self, v: &[f64], out: &mut [f64]) {
        let (nh, l) = (self.nh, self.layout);
        let c: Vec<f64> = l.b1_all().map(|i| v[i]).collect();
        let d = l.b2().map_or(0.0, |i| v[i]);
        for m in 0..nh {
            let am = self.a[m];
            // Column b1_p and b2 of the W1 rows of unit m: coefficients of w_m and of w_p.
            let mut cm = if l.has_b2 {
                am * d * self.units[m].m2
            } else {
                0.0
            };
            let mut w2_extra = if l.has_b2 { self.units[m].m0 * d } else { 0.0 };
            for (p, cp) in c.iter().enumerate() {
                let [_, k01, k21, k12] = self.bias_moments[m * nh + p];
                let s = am * self.a[p] * cp;
                cm += s * k21;
                let cpw = s * k12;
                for (o, wq) in out[l.w1_row(m)].iter_mut().zip(self.row(p)) {
                    *o += cpw * wq;
                }
                w2_extra += self.a[p] * k01 * cp;
            }
            for (o, wq) in out[l.w1_row(m)].iter_mut().zip(self.row(m)) {
                *o += cm * wq;
            }
            out[l.w2(m)] += w2_extra;
        }
        let mut row = vec![0.0; l.dim()];
        if l.has_b1 {
            for k in 0..nh {
                self.fill_b1_row(k, &mut row);
                out[l.b1_all().start + k] = dot(&row, v);
            }
        }
        if let Some(i) = l.b2() {
            self.fill_b2_row(&mut row);
            out[i] = dot(&row, v);
        }
    }
}
