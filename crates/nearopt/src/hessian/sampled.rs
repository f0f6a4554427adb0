//! The Hessian estimated from `n` Gaussian inputs at any student (paper Eqs. 3–5):
//!
//! ```text
//! H = (1/n) Σ_i [ J_i J_iᵀ + (y_i − y*_i) ∂²y_i ],   J_i = ∂y/∂θ at x_i,
//! ∂²y/∂W1[m][n]∂W1[m][q] = a_m g''(z_m) x_n x_q,     ∂²y/∂W1[m][n]∂W2[m] = g'(z_m) x_n,
//! ```
//!
//! and its outer-product part `JᵀJ/n` (the empirical Fisher/Gauss–Newton matrix) with the NTK
//! Gram `JJᵀ/n`, whose nonzero spectra coincide (paper Section 2 and Appendix D).
//!
//! Inputs come in chunks of [`CHUNK`] samples, chunk `c` drawn from stream `c` of the seed, and
//! every sum runs in sample order: the result is bit-identical whatever the thread count.

use super::{check_dense_fits, DenseMatrix};
use crate::activation::ActivationFn;
use crate::network::Network;
use crate::rng::stream;
use crate::spectrum::symmetric_eigenvalues;
use crate::{Error, Result};
use faer::linalg::matmul::matmul;
use faer::{Accum, MatMut, MatRef, Par};
use rand_distr::{Distribution, StandardNormal};
use rayon::prelude::*;

/// Samples per chunk (the unit of seeding).
pub const CHUNK: usize = 256;

/// Inputs `x_i ~ N(0, I_ni)` for samples `start .. start + len` of chunk-aligned stream `seed`,
/// row-major `len × ni`. `start` must be a multiple of [`CHUNK`].
pub fn gaussian_inputs(ni: usize, seed: u64, start: usize, len: usize) -> Vec<f64> {
    assert!(
        start.is_multiple_of(CHUNK),
        "input blocks start on a chunk boundary"
    );
    let mut x = Vec::with_capacity(len * ni);
    let mut c = start / CHUNK;
    while x.len() < len * ni {
        let mut rng = stream(seed, c as u64);
        let take = CHUNK.min(len - x.len() / ni);
        x.extend((0..take * ni).map(|_| -> f64 { StandardNormal.sample(&mut rng) }));
        c += 1;
    }
    x
}

/// Jacobian rows `J_i = ∂y/∂θ(x_i)` (row-major `b × D`, written to `jac`) and residuals
/// `y_i − y*_i` for the inputs `x` (row-major `b × Ni`).
fn jacobian_block(
    student: &Network,
    teacher: Option<&Network>,
    g: &dyn ActivationFn,
    x: &[f64],
    jac: &mut [f64],
) -> Vec<f64> {
    let (ni, d) = (student.ni(), student.dim());
    let gt = teacher.map(|t| t.activation().function());
    jac.par_chunks_mut(d)
        .zip(x.par_chunks(ni))
        .map(|(row, xi)| {
            let y = student.output_gradient(g, xi, row);
            match (teacher, &gt) {
                (Some(t), Some(gt)) => y - t.output_with(gt.as_ref(), xi),
                _ => 0.0,
            }
        })
        .collect()
}

fn check_pair(student: &Network, teacher: &Network) -> Result<()> {
    if student.ni() != teacher.ni() {
        return Err(Error::Shape(format!(
            "student is {}×{} (Nh×Ni) but teacher is {}×{}: the inputs Ni must agree",
            student.nh(),
            student.ni(),
            teacher.nh(),
            teacher.ni()
        )));
    }
    Ok(())
}

fn check_samples(n: usize) -> Result<()> {
    if n == 0 {
        return Err(Error::Invalid(
            "the number of samples must be at least 1".into(),
        ));
    }
    Ok(())
}

/// `acc (D×D, column-major) += Jᵀ J` for a row-major `b × D` block `J`, parallel over column
/// blocks of `acc` so that each entry is summed in a fixed order.
fn add_gram_transposed(acc: &mut [f64], jac: &[f64], b: usize, d: usize) {
    // Row-major b×D is column-major D×b: that is Jᵀ.
    let jt = MatRef::from_column_major_slice(jac, d, b);
    let cols_per_task = d.div_ceil(4 * rayon::current_num_threads()).max(16);
    acc.par_chunks_mut(d * cols_per_task)
        .enumerate()
        .for_each(|(t, block)| {
            let c0 = t * cols_per_task;
            let nc = block.len() / d;
            let dst = MatMut::from_column_major_slice_mut(block, d, nc);
            let rhs = jt.subrows(c0, nc).transpose();
            matmul(dst, Accum::Add, jt, rhs, 1.0, Par::Seq);
        });
}

/// The full sampled Hessian of `½ (1/n) Σ (y − y*)²` at `student` against `teacher` (Eqs. 3–5),
/// functional term included, from `n` inputs of stream `seed`.
pub fn sampled_hessian(
    student: &Network,
    teacher: &Network,
    n: usize,
    seed: u64,
) -> Result<DenseMatrix> {
    check_pair(student, teacher)?;
    accumulate(student, Some(teacher), n, seed)
}

/// The outer-product part `JᵀJ/n` (empirical Fisher / Gauss–Newton matrix) at `net`: the
/// sampled Hessian at the optimum.
pub fn sampled_outer_product(net: &Network, n: usize, seed: u64) -> Result<DenseMatrix> {
    accumulate(net, None, n, seed)
}

fn accumulate(
    student: &Network,
    teacher: Option<&Network>,
    n: usize,
    seed: u64,
) -> Result<DenseMatrix> {
    check_samples(n)?;
    let (ni, nh, d) = (student.ni(), student.nh(), student.dim());
    let layout = student.layout();
    check_dense_fits(d, d, "sampled Hessian")?;
    let g = student.activation().function();
    let mut acc = vec![0.0; d * d];
    // Functional term: per hidden unit `m` the local inputs `e = (x, 1)` (the 1 only with b1)
    // of the parameters (W1[m][·], b1[m]); ∂²y/∂e∂e = a_m g''(z_m) e eᵀ (block `func_a`,
    // `ne × ne`) and ∂²y/∂e∂W2[m] = g'(z_m) e (column `func_c`).
    let ne = ni + usize::from(layout.has_b1);
    let local = |m: usize, a: usize| -> usize {
        if a < ni {
            layout.w1(m, a)
        } else {
            layout
                .b1(m)
                .expect("the local index ni exists only with b1")
        }
    };
    let mut func_a = vec![0.0; nh * ne * ne];
    let mut func_c = vec![0.0; nh * ne];
    let mut jac = vec![0.0; CHUNK * d];
    let mut start = 0;
    while start < n {
        let b = CHUNK.min(n - start);
        let x = gaussian_inputs(ni, seed, start, b);
        let r = jacobian_block(student, teacher, g.as_ref(), &x, &mut jac[..b * d]);
        add_gram_transposed(&mut acc, &jac[..b * d], b, d);
        if teacher.is_some() {
            func_a
                .par_chunks_mut(ne * ne)
                .zip(func_c.par_chunks_mut(ne))
                .enumerate()
                .for_each(|(m, (fa, fc))| {
                    let am = student.w2()[m];
                    let mut e = vec![1.0; ne];
                    for (xi, ri) in x.chunks(ni).zip(&r) {
                        let z = student.preactivation(m, xi);
                        let sa = ri * am * g.derivative(2, z);
                        let sc = ri * g.derivative(1, z);
                        e[..ni].copy_from_slice(xi);
                        for (nn, en) in e.iter().enumerate() {
                            let f = sa * en;
                            for (o, eq) in fa[nn * ne..(nn + 1) * ne].iter_mut().zip(&e) {
                                *o += f * eq;
                            }
                            fc[nn] += sc * en;
                        }
                    }
                });
        }
        start += b;
    }
    let inv = 1.0 / n as f64;
    // acc is column-major JᵀJ; symmetrise and scale into row-major.
    let mut h = DenseMatrix::zeros(d, d);
    h.as_mut_slice()
        .par_chunks_mut(d)
        .enumerate()
        .for_each(|(i, row)| {
            for (j, v) in row.iter_mut().enumerate() {
                *v = 0.5 * (acc[j * d + i] + acc[i * d + j]) * inv;
            }
        });
    if teacher.is_some() {
        for m in 0..nh {
            let fa = &func_a[m * ne * ne..(m + 1) * ne * ne];
            for a in 0..ne {
                for q in 0..ne {
                    let (i, j) = (local(m, a), local(m, q));
                    let v = h.get(i, j) + 0.5 * (fa[a * ne + q] + fa[q * ne + a]) * inv;
                    h.set(i, j, v);
                }
                let (i, k) = (local(m, a), layout.w2(m));
                let v = h.get(i, k) + func_c[m * ne + a] * inv;
                h.set(i, k, v);
                h.set(k, i, v);
            }
        }
    }
    Ok(h)
}

/// The Jacobian `J` (row-major `n × D`, row `i` = `∂y/∂θ(x_i)`) on `n` inputs of stream `seed`.
pub fn sampled_jacobian(net: &Network, n: usize, seed: u64) -> Result<DenseMatrix> {
    check_samples(n)?;
    let d = net.dim();
    check_dense_fits(n, d, "Jacobian")?;
    let g = net.activation().function();
    let x = gaussian_inputs(net.ni(), seed, 0, n);
    let mut jac = vec![0.0; n * d];
    jacobian_block(net, None, g.as_ref(), &x, &mut jac);
    Ok(DenseMatrix::from_row_major(n, d, jac))
}

/// The NTK Gram matrix `J Jᵀ / n` (`n × n`) on the same inputs as [`sampled_outer_product`].
pub fn ntk_gram(net: &Network, n: usize, seed: u64) -> Result<DenseMatrix> {
    check_dense_fits(n, n, "NTK Gram matrix")?;
    let jac = sampled_jacobian(net, n, seed)?;
    let d = net.dim();
    // Row-major n×D J is column-major D×n, i.e. Jᵀ; Gram = (Jᵀ)ᵀ Jᵀ.
    let jt = MatRef::from_column_major_slice(jac.as_slice(), d, n);
    let mut out = vec![0.0; n * n];
    let dst = MatMut::from_column_major_slice_mut(&mut out, n, n);
    matmul(
        dst,
        Accum::Replace,
        jt.transpose(),
        jt,
        1.0 / n as f64,
        Par::Seq,
    );
    let mut g = DenseMatrix::from_row_major(n, n, out);
    for i in 0..n {
        for j in (i + 1)..n {
            let v = 0.5 * (g.get(i, j) + g.get(j, i));
            g.set(i, j, v);
            g.set(j, i, v);
        }
    }
    Ok(g)
}

/// Eigenvalues (ascending, `D` of them) of the outer-product Hessian `JᵀJ/n`, through the NTK
/// Gram `JJᵀ/n` when `n < D` (padded with `D − n` zeros), else directly.
pub fn sampled_outer_eigenvalues(net: &Network, n: usize, seed: u64) -> Result<Vec<f64>> {
    let d = net.dim();
    if n < d {
        let mut ev = symmetric_eigenvalues(&ntk_gram(net, n, seed)?)?;
        let mut out = vec![0.0; d - n];
        out.append(&mut ev);
        out.sort_by(|a, b| a.total_cmp(b));
        Ok(out)
    } else {
        symmetric_eigenvalues(&sampled_outer_product(net, n, seed)?)
    }
}
