//! Matrix-free spectra: Lanczos with full reorthogonalisation for the extreme eigenvalues, and
//! stochastic Lanczos quadrature (SLQ) for the spectral density, on any [`HessianOperator`].
//!
//! The exact population Hessian's product costs `O(Nh² Ni)` (see
//! [`crate::hessian::PopulationHessian`], and [`crate::hessian::batched`] for the block product
//! as GEMMs), so these reach networks whose dense Hessian (`8 D²` bytes) does not fit in
//! memory. Only `O(k D)` memory is used for `k` Lanczos vectors.
//!
//! * [`lanczos`], [`stochastic_lanczos_quadrature`]: one start vector at a time on any
//!   [`HessianOperator`].
//! * [`lanczos_probes`]: several probes stepped in lockstep, so that each step is one block
//!   product of a [`BlockOperator`]; full reorthogonalisation; a probe whose Krylov space is
//!   exhausted (breakdown, as on rank-deficient operators) stops there, with a quadrature that
//!   is then exact for its spectral measure.
//! * [`top_eigenpairs`]: block Krylov with full reorthogonalisation and Rayleigh–Ritz, with
//!   deflation and random restarts on breakdown, and rigorous residual bounds.
//!
//! Every reduction over the `D` coordinates is summed in fixed chunks of [`CHUNK`] in a fixed
//! order, so results do not depend on the thread count.

use crate::gaussian::dot;
use crate::hessian::batched::BlockOperator;
use crate::hessian::{DenseMatrix, HessianOperator};
use crate::rng::stream;
use crate::spectrum::{symmetric_spectrum, symmetric_spectrum_with, SolverThreads};
use crate::{Error, Result};
use faer::linalg::matmul::matmul;
use faer::{Accum, MatMut, MatRef, Par};
use rand::Rng as _;
use rand_distr::{Distribution, StandardNormal};
use rayon::prelude::*;

/// The tridiagonal matrix of a Lanczos run and its Ritz pairs.
#[derive(Clone, Debug)]
pub struct LanczosRun {
    /// Ritz values (eigenvalues of the tridiagonal matrix), ascending.
    pub ritz_values: Vec<f64>,
    /// First components of the tridiagonal matrix's unit eigenvectors, squared: the quadrature
    /// weights of the start vector's spectral measure (they sum to one).
    pub weights: Vec<f64>,
    /// Residual bound `|β_k s_k|` of each Ritz value (an upper bound on its distance to an
    /// eigenvalue of the operator).
    pub residuals: Vec<f64>,
}

/// `steps` Lanczos iterations on `op` from the unit vector along `start`, with full
/// reorthogonalisation (so Ritz values do not duplicate). Stops early on an invariant subspace.
pub fn lanczos(op: &dyn HessianOperator, start: &[f64], steps: usize) -> Result<LanczosRun> {
    let d = op.dim();
    if start.len() != d {
        return Err(Error::Shape(format!(
            "start vector has {} entries, operator dimension is {d}",
            start.len()
        )));
    }
    if steps == 0 {
        return Err(Error::Invalid("Lanczos needs at least one step".into()));
    }
    let norm = dot(start, start).sqrt();
    if norm == 0.0 || !norm.is_finite() {
        return Err(Error::Invalid(
            "Lanczos start vector must be finite and nonzero".into(),
        ));
    }
    let steps = steps.min(d);
    let mut basis: Vec<Vec<f64>> = vec![start.iter().map(|v| v / norm).collect()];
    let (mut alpha, mut beta) = (Vec::with_capacity(steps), Vec::with_capacity(steps));
    let mut w = vec![0.0; d];
    for j in 0..steps {
        op.matvec(&basis[j], &mut w);
        let a = dot(&w, &basis[j]);
        alpha.push(a);
        // Full reorthogonalisation, twice ("twice is enough").
        for _ in 0..2 {
            for q in &basis {
                let c = dot(&w, q);
                w.iter_mut().zip(q).for_each(|(wi, qi)| *wi -= c * qi);
            }
        }
        let b = dot(&w, &w).sqrt();
        let scale = alpha.iter().fold(0.0f64, |m, v| m.max(v.abs())).max(1e-300);
        if j + 1 == steps || b <= 1e-13 * scale {
            beta.push(b);
            break;
        }
        beta.push(b);
        basis.push(w.iter().map(|v| v / b).collect());
    }
    let k = alpha.len();
    let mut t = DenseMatrix::zeros(k, k);
    for i in 0..k {
        t.set(i, i, alpha[i]);
        if i + 1 < k {
            t.set(i, i + 1, beta[i]);
            t.set(i + 1, i, beta[i]);
        }
    }
    let sp = symmetric_spectrum(&t, true)?;
    let vecs = sp.eigenvectors.expect("vectors were requested");
    let last_beta = beta[k - 1];
    let weights = (0..k).map(|i| vecs.get(0, i).powi(2)).collect();
    let residuals = (0..k)
        .map(|i| (last_beta * vecs.get(k - 1, i)).abs())
        .collect();
    Ok(LanczosRun {
        ritz_values: sp.eigenvalues,
        weights,
        residuals,
    })
}

/// A spectral density estimate from stochastic Lanczos quadrature: `nodes` with `weights`
/// summing to one approximate the normalised eigenvalue distribution `(1/D) Σ δ(λ − λ_i)`.
#[derive(Clone, Debug)]
pub struct SpectralDensity {
    /// Quadrature nodes (Ritz values of all probes).
    pub nodes: Vec<f64>,
    /// Weights, summing to one.
    pub weights: Vec<f64>,
    /// The seed of the Rademacher probes.
    pub seed: u64,
}

impl SpectralDensity {
    /// `(1/D) Tr f(H)` estimated as `Σ w_i f(node_i)`, e.g. the loss curve of Eq. 7 with
    /// `f(λ) = σ0²/2 · D λ e^{−2λt}` (times `D` for the trace).
    pub fn trace_mean(&self, f: impl Fn(f64) -> f64) -> f64 {
        self.nodes
            .iter()
            .zip(&self.weights)
            .map(|(x, w)| w * f(*x))
            .sum()
    }
}

/// Stochastic Lanczos quadrature with `probes` Rademacher start vectors (probe `i` from stream
/// `i` of `seed`, so the result does not depend on the thread count) and `steps` Lanczos steps each.
pub fn stochastic_lanczos_quadrature(
    op: &dyn HessianOperator,
    probes: usize,
    steps: usize,
    seed: u64,
) -> Result<SpectralDensity> {
    if probes == 0 {
        return Err(Error::Invalid(
            "stochastic Lanczos quadrature needs at least one probe".into(),
        ));
    }
    let d = op.dim();
    let (mut nodes, mut weights) = (Vec::new(), Vec::new());
    for p in 0..probes {
        let mut rng = stream(seed, p as u64);
        let v: Vec<f64> = (0..d)
            .map(|_| if rng.random::<bool>() { 1.0 } else { -1.0 })
            .collect();
        let run = lanczos(op, &v, steps)?;
        nodes.extend_from_slice(&run.ritz_values);
        weights.extend(run.weights.iter().map(|w| w / probes as f64));
    }
    Ok(SpectralDensity {
        nodes,
        weights,
        seed,
    })
}

/// Rows per chunk of the `D`-long reductions (fixed: it fixes the summation order).
pub const CHUNK: usize = 1 << 14;

/// `coef = Qᵀ W` for the first `n` columns of `q` (column-major `d × n`) and the `k` columns of
/// `w` (column-major `d × k`); `coef` is column-major `n × k`. Partial sums over fixed row
/// chunks, added in chunk order: the same bits whatever the thread count.
fn project(q: &[f64], n: usize, d: usize, w: &[f64], k: usize, coef: &mut [f64]) {
    coef[..n * k].iter_mut().for_each(|c| *c = 0.0);
    if n == 0 || k == 0 {
        return;
    }
    let chunks = d.div_ceil(CHUNK);
    let partials: Vec<Vec<f64>> = (0..chunks)
        .into_par_iter()
        .map(|c| {
            let r0 = c * CHUNK;
            let rows = CHUNK.min(d - r0);
            let qc = MatRef::from_column_major_slice_with_stride(&q[r0..], rows, n, d);
            let wc = MatRef::from_column_major_slice_with_stride(&w[r0..], rows, k, d);
            let mut part = vec![0.0; n * k];
            matmul(
                MatMut::from_column_major_slice_mut(&mut part, n, k),
                Accum::Replace,
                qc.transpose(),
                wc,
                1.0,
                Par::Seq,
            );
            part
        })
        .collect();
    for part in partials {
        coef[..n * k]
            .iter_mut()
            .zip(&part)
            .for_each(|(c, p)| *c += p);
    }
}

/// A pointer that may cross threads (row chunks of one buffer, disjoint by construction).
#[derive(Clone, Copy)]
struct SharedMut(*mut f64);
// SAFETY: used only in `subtract`, where each task writes a disjoint set of rows.
unsafe impl Send for SharedMut {}
unsafe impl Sync for SharedMut {}

impl SharedMut {
    /// The pointer (a method, so that closures capture the whole `SharedMut`).
    fn get(&self) -> *mut f64 {
        self.0
    }
}

/// `W −= Q coef` (shapes as in [`project`]), one GEMM per fixed row chunk (so `Q` is read
/// once for all `k` columns).
fn subtract(q: &[f64], n: usize, d: usize, coef: &[f64], w: &mut [f64], k: usize) {
    if n == 0 || k == 0 {
        return;
    }
    assert!(w.len() >= k * d && q.len() >= n * d && coef.len() >= n * k);
    let cm = MatRef::from_column_major_slice(&coef[..n * k], n, k);
    let base = SharedMut(w.as_mut_ptr());
    (0..d.div_ceil(CHUNK)).into_par_iter().for_each(|c| {
        let r0 = c * CHUNK;
        let rows = CHUNK.min(d - r0);
        let qc = MatRef::from_column_major_slice_with_stride(&q[r0..], rows, n, d);
        // SAFETY: rows r0..r0+rows of the k columns (column stride d) lie inside `w`
        // (checked above) and no other task touches these rows; `w` is borrowed mutably for
        // the whole call.
        let wc = unsafe { MatMut::from_raw_parts_mut(base.get().add(r0), rows, k, 1, d as isize) };
        matmul(wc, Accum::Add, qc, cm, -1.0, Par::Seq);
    });
}

/// `‖x‖` summed in fixed chunks.
fn norm(x: &[f64]) -> f64 {
    let parts: Vec<f64> = x.par_chunks(CHUNK).map(|c| dot(c, c)).collect();
    parts.iter().sum::<f64>().sqrt()
}

/// Orthogonalises the `k` columns of `w` against the first `n` columns of `q`, twice
/// ("twice is enough"), and returns the total coefficients (`n × k`, column-major).
fn orthogonalise(q: &[f64], n: usize, d: usize, w: &mut [f64], k: usize) -> Vec<f64> {
    let mut total = vec![0.0; n * k];
    let mut coef = vec![0.0; n * k];
    for _ in 0..2 {
        project(q, n, d, w, k, &mut coef);
        subtract(q, n, d, &coef, w, k);
        total.iter_mut().zip(&coef).for_each(|(t, c)| *t += c);
    }
    total
}

/// Full reorthogonalisation of a Lanczos residual `w = H q_j` at a cost of about one pass
/// over the basis instead of two: first the three-term recurrence `w −= α q_j + β q_{j−1}`
/// (`O(D)`), then one classical Gram–Schmidt pass against all `j + 1` basis vectors, and a
/// second pass only when the first removed a sizeable part of what was left (the
/// Daniel–Gragg–Kaufman–Stewart criterion `‖w′‖ < ‖w‖/√2`, "twice is enough"). After the
/// recurrence the remaining components along the basis are rounding-sized, so the second pass
/// is taken only near a breakdown (exhausted Krylov space), where it matters. The decision is
/// a deterministic function of the numbers: the result does not depend on the thread count.
fn reorthogonalise_lanczos(
    q: &[f64],
    j: usize,
    d: usize,
    w: &mut [f64],
    alpha: f64,
    beta_prev: Option<f64>,
) {
    let qj = &q[j * d..(j + 1) * d];
    match beta_prev {
        Some(b) if j > 0 => {
            let qp = &q[(j - 1) * d..j * d];
            w.par_chunks_mut(CHUNK)
                .zip(qj.par_chunks(CHUNK).zip(qp.par_chunks(CHUNK)))
                .for_each(|(wc, (a, p))| {
                    for ((x, u), v) in wc.iter_mut().zip(a).zip(p) {
                        *x -= alpha * u + b * v;
                    }
                });
        }
        _ => w
            .par_chunks_mut(CHUNK)
            .zip(qj.par_chunks(CHUNK))
            .for_each(|(wc, a)| {
                for (x, u) in wc.iter_mut().zip(a) {
                    *x -= alpha * u;
                }
            }),
    }
    let n = j + 1;
    let mut coef = vec![0.0; n];
    let before = norm(w);
    project(q, n, d, w, 1, &mut coef);
    subtract(q, n, d, &coef, w, 1);
    if norm(w) < std::f64::consts::FRAC_1_SQRT_2 * before {
        project(q, n, d, w, 1, &mut coef);
        subtract(q, n, d, &coef, w, 1);
    }
}

/// Eigenvalues (ascending), quadrature weights and last components of the eigenvectors of the
/// symmetric tridiagonal matrix with diagonal `alpha` and off-diagonal `beta`.
fn tridiagonal_ritz(alpha: &[f64], beta: &[f64]) -> Result<(Vec<f64>, Vec<f64>, Vec<f64>)> {
    let k = alpha.len();
    let mut t = DenseMatrix::zeros(k, k);
    for i in 0..k {
        t.set(i, i, alpha[i]);
        if i + 1 < k {
            t.set(i, i + 1, beta[i]);
            t.set(i + 1, i, beta[i]);
        }
    }
    let sp = symmetric_spectrum_with(&t, true, SolverThreads::Single)?;
    let vecs = sp.eigenvectors.expect("vectors were requested");
    let weights = (0..k).map(|i| vecs.get(0, i).powi(2)).collect();
    let last = (0..k).map(|i| vecs.get(k - 1, i)).collect();
    Ok((sp.eigenvalues, weights, last))
}

/// The Lanczos quadrature of one probe: the Ritz values of its tridiagonal matrix and the
/// squared first eigenvector components, the Gauss quadrature of the probe's spectral measure
/// `μ_x = Σ_i (u_iᵀx)²/‖x‖² δ(λ − λ_i)`.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ProbeQuadrature {
    /// Ritz values, ascending.
    pub nodes: Vec<f64>,
    /// Weights (sum one).
    pub weights: Vec<f64>,
    /// Diagonal of the tridiagonal matrix.
    pub alpha: Vec<f64>,
    /// Off-diagonal (`alpha.len() − 1` entries) and, last, the final `β` (0 after breakdown).
    pub beta: Vec<f64>,
    /// True when the Krylov space was exhausted before `steps` (the quadrature is then exact).
    pub breakdown: bool,
}

/// Relative size of `β` below which the Krylov space counts as exhausted.
pub const BREAKDOWN_TOL: f64 = 1e-12;

/// `steps` Lanczos steps from each of the start vectors `starts` (column-major `D × P`),
/// stepped in lockstep so that every step is one block product with `op`, with full
/// reorthogonalisation (the three-term recurrence, then one classical Gram–Schmidt pass against all earlier vectors and a second one when the DGKS criterion asks: `reorthogonalise_lanczos`). A probe
/// whose residual falls below [`BREAKDOWN_TOL`] times the largest `|α|, β` so far has exhausted
/// its Krylov space (always the case after `rank + 1` steps on a rank-deficient operator): it
/// stops there and its quadrature is exact. Memory: `steps · D` numbers per probe.
/// `on_step` is called after every block product. The result of a probe does not depend on
/// the other probes nor on the thread count.
pub fn lanczos_probes(
    op: &dyn BlockOperator,
    starts: &[f64],
    steps: usize,
    on_step: &(dyn Fn() + Sync),
) -> Result<Vec<ProbeQuadrature>> {
    let d = op.dim();
    if d == 0 || !starts.len().is_multiple_of(d) {
        return Err(Error::Shape(format!(
            "start vectors: {} numbers is not a multiple of D = {d}",
            starts.len()
        )));
    }
    if steps == 0 {
        return Err(Error::Invalid("Lanczos needs at least one step".into()));
    }
    let steps = steps.min(d);
    struct State {
        basis: Vec<f64>,
        alpha: Vec<f64>,
        beta: Vec<f64>,
        done: bool,
        breakdown: bool,
    }
    let mut states = Vec::new();
    for (i, x) in starts.chunks(d).enumerate() {
        let nx = norm(x);
        if nx == 0.0 || !nx.is_finite() {
            return Err(Error::Invalid(format!(
                "Lanczos start vector {i} must be finite and nonzero"
            )));
        }
        let mut basis = Vec::with_capacity(steps * d);
        basis.extend(x.iter().map(|v| v / nx));
        states.push(State {
            basis,
            alpha: Vec::with_capacity(steps),
            beta: Vec::with_capacity(steps),
            done: false,
            breakdown: false,
        });
    }
    let mut block = Vec::new();
    let mut image = Vec::new();
    for j in 0..steps {
        let active: Vec<usize> = (0..states.len()).filter(|&i| !states[i].done).collect();
        if active.is_empty() {
            break;
        }
        block.clear();
        for &i in &active {
            block.extend_from_slice(&states[i].basis[j * d..(j + 1) * d]);
        }
        image.resize(block.len(), 0.0);
        op.apply_block(&block, &mut image);
        on_step();
        let mut act: Vec<&mut State> = states.iter_mut().filter(|s| !s.done).collect();
        act.par_iter_mut()
            .zip(image.par_chunks_mut(d))
            .for_each(|(s, w)| {
                let a = dot(w, &s.basis[j * d..(j + 1) * d]);
                s.alpha.push(a);
                reorthogonalise_lanczos(&s.basis, j, d, w, a, s.beta.last().copied());
                let b = norm(w);
                let scale = s
                    .alpha
                    .iter()
                    .chain(&s.beta)
                    .fold(0.0f64, |m, v| m.max(v.abs()))
                    .max(f64::MIN_POSITIVE);
                if b <= BREAKDOWN_TOL * scale {
                    s.beta.push(0.0);
                    s.done = true;
                    s.breakdown = true;
                } else if j + 1 == steps {
                    s.beta.push(b);
                    s.done = true;
                } else {
                    s.beta.push(b);
                    s.basis.extend(w.iter().map(|v| v / b));
                }
            });
    }
    states
        .into_iter()
        .map(|s| {
            let (nodes, weights, _) = tridiagonal_ritz(&s.alpha, &s.beta[..s.alpha.len() - 1])?;
            Ok(ProbeQuadrature {
                nodes,
                weights,
                alpha: s.alpha,
                beta: s.beta,
                breakdown: s.breakdown,
            })
        })
        .collect()
}

/// `count` Rademacher probes (entries ±1, norm `√D`), probe `i` drawn from stream `i` of
/// `seed`, column-major `D × count`.
pub fn rademacher_probes(d: usize, first: usize, count: usize, seed: u64) -> Vec<f64> {
    let mut v = Vec::with_capacity(d * count);
    for p in first..first + count {
        let mut rng = stream(seed, p as u64);
        v.extend((0..d).map(|_| if rng.random::<bool>() { 1.0 } else { -1.0 }));
    }
    v
}

/// Options of [`top_eigenpairs`].
#[derive(Clone, Debug)]
pub struct TopOptions {
    /// Number of largest eigenvalues wanted.
    pub count: usize,
    /// Block size (vectors per block product); resolves multiplicities up to it.
    pub block: usize,
    /// Largest basis (number of `D`-vectors kept); memory `8 · D · max_basis` bytes.
    pub max_basis: usize,
    /// Stop when every wanted Ritz value has residual bound `≤ tol · |θ|`.
    pub tol: f64,
    /// Seed of the random start block and restarts (streams `2³² + i`).
    pub seed: u64,
    /// Stop after this many operator applications (thick restarts keep the basis within
    /// `max_basis`, so this bounds the work).
    pub max_products: usize,
}

/// The largest eigenvalues of a symmetric operator with rigorous residual bounds.
#[derive(Clone, Debug, serde::Serialize)]
pub struct TopEigenpairs {
    /// Ritz values, descending (the `i`-th is at most the operator's `i`-th largest eigenvalue:
    /// Cauchy interlacing for Rayleigh–Ritz).
    pub values: Vec<f64>,
    /// `‖H y − θ y‖` bound for each unit Ritz vector `y`: an eigenvalue of the operator lies in
    /// `[θ − r, θ + r]`.
    pub residual_bounds: Vec<f64>,
    /// Sharper, gap-dependent bound `r² / gap` (Kato–Temple), `gap` the distance to the nearest
    /// other Ritz value: valid once the Ritz values have converged to separated eigenvalues.
    pub gap_bounds: Vec<f64>,
    /// Whether each value met the tolerance.
    pub converged: Vec<bool>,
    /// Basis vectors used.
    pub basis_size: usize,
    /// Operator applications (vectors).
    pub products: usize,
    /// Columns dropped on breakdown and replaced by random vectors.
    pub restarts: usize,
    /// Thick restarts (basis compressed to the leading Ritz vectors when full).
    pub thick_restarts: usize,
    /// The basis spans the whole space (the values are then exact to rounding).
    pub exhausted: bool,
}

/// The `count` largest eigenvalues of `op` by block Krylov (block Lanczos) with full
/// reorthogonalisation and Rayleigh–Ritz on the projected matrix `T = Qᵀ H Q`.
///
/// Each block of `b` basis vectors is multiplied by `H` in one block product; the images are
/// orthogonalised against the basis (twice), which gives column `c` of `T`; the remainders are
/// orthonormalised into the next block. A remainder below `1e-12 ‖H‖` (breakdown: the Krylov
/// space of the start block is exhausted, typical of rank-deficient operators) is dropped,
/// its norm `δ_c` recorded, and replaced by a fresh random vector orthogonal to the basis
/// (restart). With `S` the Ritz vectors of `T`, the residual of Ritz pair `(θ, Qs)` satisfies
/// `‖H Q s − θ Q s‖ ≤ ‖R s_last‖ + Σ_c δ_c |s_c| + ‖T − Tᵀ‖_F` (`R` the coefficients of the last
/// block's images on the next block; the last term bounds the rounding asymmetry), which is
/// what `residual_bounds` reports. Stops when the `count` largest meet `tol`, when the basis
/// reaches `max_basis`, or when it spans the space. Cost per block: one block product and
/// `O(n b D)` for the reorthogonalisation; memory `n D`.
pub fn top_eigenpairs(
    op: &dyn BlockOperator,
    opts: &TopOptions,
    on_block: &(dyn Fn(usize) + Sync),
) -> Result<TopEigenpairs> {
    let d = op.dim();
    if opts.count == 0 || opts.block == 0 {
        return Err(Error::Invalid(
            "top eigenvalues: count and block must be at least 1".into(),
        ));
    }
    let nmax = opts.max_basis.min(d);
    let b = opts.block.min(nmax);
    if opts.count > nmax {
        return Err(Error::Invalid(format!(
            "top eigenvalues: {} wanted but the basis holds at most {nmax} vectors",
            opts.count
        )));
    }
    let mut q: Vec<f64> = Vec::with_capacity(nmax * d);
    // T column-major nmax × nmax: t[c * nmax + i] = q_iᵀ H q_c as computed from column c.
    let mut t = vec![0.0; nmax * nmax];
    let mut dropped: Vec<(usize, f64)> = Vec::new();
    let mut restarts = 0usize;
    let mut rng_index = 0u64;
    let mut random_unit = |q: &[f64], n: usize| -> Option<Vec<f64>> {
        for _ in 0..4 {
            let mut rng = stream(opts.seed, (1u64 << 32) + rng_index);
            rng_index += 1;
            let mut v: Vec<f64> = (0..d).map(|_| StandardNormal.sample(&mut rng)).collect();
            let n0 = norm(&v);
            orthogonalise(q, n, d, &mut v, 1);
            let nv = norm(&v);
            if nv > 1e-6 * n0 {
                v.iter_mut().for_each(|x| *x /= nv);
                return Some(v);
            }
        }
        None
    };
    // Start block.
    for _ in 0..b {
        let n = q.len() / d;
        match random_unit(&q, n) {
            Some(v) => q.extend_from_slice(&v),
            None => break,
        }
    }
    let mut scale = 0.0f64;
    let mut products = 0usize;
    let mut thick_restarts = 0usize;
    let mut start = 0usize;
    let mut image = Vec::new();
    loop {
        let n_old = q.len() / d;
        let bb = n_old - start;
        if bb == 0 {
            break;
        }
        image.resize(bb * d, 0.0);
        op.apply_block(&q[start * d..n_old * d], &mut image);
        products += bb;
        for c in 0..bb {
            scale = scale.max(norm(&image[c * d..(c + 1) * d]));
        }
        let coef = orthogonalise(&q, n_old, d, &mut image, bb);
        for c in 0..bb {
            for i in 0..n_old {
                t[(start + c) * nmax + i] = coef[c * n_old + i];
            }
        }
        // Orthonormalise the remainders into the next block.
        for c in 0..bb {
            let n = q.len() / d;
            let col = start + c;
            let w = &mut image[c * d..(c + 1) * d];
            if n > n_old {
                let cn = orthogonalise(&q[n_old * d..], n - n_old, d, w, 1);
                for (i, v) in cn.iter().enumerate() {
                    t[col * nmax + n_old + i] = *v;
                }
            }
            let nu = norm(w);
            if nu > 1e-12 * scale && n < nmax {
                t[col * nmax + n] = nu;
                q.extend(w.iter().map(|v| v / nu));
            } else {
                if nu > 0.0 {
                    dropped.push((col, nu));
                }
                if n < nmax && n < d && nu <= 1e-12 * scale {
                    if let Some(v) = random_unit(&q, n) {
                        q.extend_from_slice(&v);
                        restarts += 1;
                    }
                }
            }
        }
        on_block(n_old);
        // Rayleigh–Ritz on the first n_old vectors: the upper triangle of T (column c
        // projected on every earlier vector), mirrored. The relation H Q = Q T_rel + E uses
        // column c as computed (its lower part from the orthonormalisation); their difference
        // is bounded by `asym`.
        let mut ts = DenseMatrix::zeros(n_old, n_old);
        let mut asym = 0.0f64;
        for c in 0..n_old {
            for i in 0..=c {
                let v = t[c * nmax + i];
                ts.set(i, c, v);
                ts.set(c, i, v);
                if i < c {
                    asym = asym.hypot(t[i * nmax + c] - v);
                }
            }
        }
        let sp = symmetric_spectrum_with(&ts, true, SolverThreads::Single)?;
        let s = sp.eigenvectors.expect("vectors were requested");
        let n_new = q.len() / d;
        let want = opts.count.min(n_old);
        let mut res = Vec::with_capacity(want);
        let mut idxs = Vec::with_capacity(want);
        for r in 0..want {
            let idx = n_old - 1 - r;
            idxs.push(idx);
            // ‖R s_last‖: coefficients of the last block's images on the new vectors.
            let mut rs = vec![0.0; n_new - n_old];
            for c in start..n_old {
                let sc = s.get(c, idx);
                for (i, x) in rs.iter_mut().enumerate() {
                    *x += t[c * nmax + n_old + i] * sc;
                }
            }
            let mut bound = rs.iter().map(|x| x * x).sum::<f64>().sqrt();
            for &(c, delta) in &dropped {
                bound += delta * s.get(c, idx).abs();
            }
            res.push(bound + asym);
        }
        let exhausted = n_old == d;
        let lead = sp.eigenvalues[n_old - 1].abs();
        let floor = 1e3 * f64::EPSILON * lead;
        let converged: Vec<bool> = idxs
            .iter()
            .zip(&res)
            .map(|(&i, r)| exhausted || *r <= opts.tol * sp.eigenvalues[i].abs() + floor)
            .collect();
        let done = want == opts.count && converged.iter().all(|c| *c);
        let keep = (opts.count + 2 * b).min(n_old.saturating_sub(1));
        let can_restart = keep >= opts.count && keep + (n_new - n_old) + b <= nmax;
        let full = n_new + b > nmax;
        // A full basis that cannot restart still applies its last block (the remainders that
        // find no room are dropped into the bounds); it stops once nothing new fits
        // (`n_new = n_old`) — or is exact once the basis spans the whole space (small `D`).
        if done || exhausted || n_new == n_old || products + b > opts.max_products {
            return Ok(finish(
                &sp.eigenvalues,
                &idxs,
                res,
                converged,
                n_old,
                products,
                restarts,
                thick_restarts,
                exhausted,
            ));
        }
        if full && can_restart {
            // Thick restart (Wu–Simon): keep the `keep` largest Ritz vectors Y = Q S and the
            // next block; T becomes diag(θ) coupled to the next block by R s, and the
            // residual terms of the old basis fold into one bound per kept vector.
            let nb = n_new - n_old;
            let sel: Vec<usize> = (0..keep).map(|r| n_old - 1 - r).collect();
            let mut smat = vec![0.0; n_old * keep];
            for (r, &idx) in sel.iter().enumerate() {
                for c in 0..n_old {
                    smat[r * n_old + c] = s.get(c, idx);
                }
            }
            rotate_basis(&mut q, d, n_old, &smat, keep);
            q.copy_within(n_old * d..n_new * d, keep * d);
            q.truncate((keep + nb) * d);
            let mut t_new = vec![0.0; nmax * nmax];
            let mut dropped_new = Vec::with_capacity(keep);
            for (r, &idx) in sel.iter().enumerate() {
                t_new[r * nmax + r] = sp.eigenvalues[idx];
                for i in 0..nb {
                    let mut v = 0.0;
                    for c in start..n_old {
                        v += s.get(c, idx) * t[c * nmax + n_old + i];
                    }
                    t_new[r * nmax + keep + i] = v;
                }
                let mut e = asym;
                for &(c, delta) in &dropped {
                    e += delta * s.get(c, idx).abs();
                }
                if e > 0.0 {
                    dropped_new.push((r, e));
                }
            }
            t = t_new;
            dropped = dropped_new;
            start = keep;
            thick_restarts += 1;
            continue;
        }
        start = n_old;
    }
    Err(Error::Invalid(
        "top eigenvalues: the start block could not be built".into(),
    ))
}

/// Packs the result; the gap bounds use the distance to the neighbouring Ritz values.
#[allow(clippy::too_many_arguments)]
fn finish(
    ritz: &[f64],
    idxs: &[usize],
    residual_bounds: Vec<f64>,
    converged: Vec<bool>,
    basis_size: usize,
    products: usize,
    restarts: usize,
    thick_restarts: usize,
    exhausted: bool,
) -> TopEigenpairs {
    let values: Vec<f64> = idxs.iter().map(|&i| ritz[i]).collect();
    let gap_bounds = idxs
        .iter()
        .zip(&residual_bounds)
        .map(|(&i, r)| {
            let below = if i > 0 {
                ritz[i] - ritz[i - 1]
            } else {
                f64::INFINITY
            };
            let above = if i + 1 < ritz.len() {
                ritz[i + 1] - ritz[i]
            } else {
                f64::INFINITY
            };
            let gap = below.min(above);
            if gap > *r {
                (r * r / (gap - r)).min(*r)
            } else {
                *r
            }
        })
        .collect();
    TopEigenpairs {
        values,
        residual_bounds,
        gap_bounds,
        converged,
        basis_size,
        products,
        restarts,
        thick_restarts,
        exhausted,
    }
}

/// `Q[:, 0..m] = Q[:, 0..n] S` in place (`S` column-major `n × m`, `m ≤ n`), by fixed row
/// chunks: each chunk's rows are independent of the others.
fn rotate_basis(q: &mut [f64], d: usize, n: usize, smat: &[f64], m: usize) {
    assert!(q.len() >= n * d && smat.len() >= n * m && m <= n);
    let sm = MatRef::from_column_major_slice(&smat[..n * m], n, m);
    let base = SharedMut(q.as_mut_ptr());
    (0..d.div_ceil(CHUNK)).into_par_iter().for_each(|c| {
        let r0 = c * CHUNK;
        let rows = CHUNK.min(d - r0);
        let mut tmp = vec![0.0; rows * m];
        {
            // SAFETY: this task alone reads and writes rows r0..r0+rows of the n columns
            // (column stride d), which lie inside `q` (checked above).
            let qc = unsafe {
                MatRef::from_raw_parts(base.get().add(r0) as *const f64, rows, n, 1, d as isize)
            };
            matmul(
                MatMut::from_column_major_slice_mut(&mut tmp, rows, m),
                Accum::Replace,
                qc,
                sm,
                1.0,
                Par::Seq,
            );
        }
        for j in 0..m {
            // SAFETY: as above; the read view is dropped.
            let col = unsafe { std::slice::from_raw_parts_mut(base.get().add(j * d + r0), rows) };
            col.copy_from_slice(&tmp[j * rows..(j + 1) * rows]);
        }
    });
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::hessian::PopulationHessian;
    use crate::spectrum::symmetric_eigenvalues;
    use crate::teacher::{sample_teacher, WeightDistribution};
    use crate::Activation;

    #[test]
    fn extreme_ritz_values_match_dense_eigenvalues() {
        let net = sample_teacher(Activation::Erf, 8, 6, WeightDistribution::Normal, 3, 0).unwrap();
        let h = PopulationHessian::at_optimum(&net);
        let dense = symmetric_eigenvalues(&h.dense().unwrap()).unwrap();
        let start: Vec<f64> = (0..h.dim()).map(|i| 1.0 + (i % 5) as f64).collect();
        let run = lanczos(&h, &start, 40).unwrap();
        let top = *run.ritz_values.last().unwrap();
        let lmax = *dense.last().unwrap();
        // The largest eigenvalue converges first; its residual bound certifies the error.
        assert!(
            (top - lmax).abs() <= run.residuals.last().unwrap() + 1e-10 * lmax,
            "{top} vs {lmax}"
        );
        assert!((top - lmax).abs() < 1e-9 * lmax);
        let wsum: f64 = run.weights.iter().sum();
        assert!((wsum - 1.0).abs() < 1e-12);
    }

    #[test]
    fn full_run_recovers_trace_moments() {
        // With steps = D the quadrature is exact for polynomials of degree < 2D: compare the
        // normalised traces (1/D) Tr H and (1/D) Tr H² against the dense matrix, which SLQ
        // estimates without bias; tolerance from the probes' variance is loose, so use many.
        let net = sample_teacher(
            Activation::Quadratic { epsilon: 1.0 },
            4,
            4,
            WeightDistribution::Normal,
            5,
            0,
        )
        .unwrap();
        let h = PopulationHessian::at_optimum(&net);
        let dense = h.dense().unwrap();
        let d = h.dim();
        let tr1: f64 = (0..d).map(|i| dense.get(i, i)).sum::<f64>() / d as f64;
        let density = stochastic_lanczos_quadrature(&h, 400, d, 9).unwrap();
        let est = density.trace_mean(|x| x);
        // Hutchinson with Rademacher probes: Var = 2 Σ_{i≠j} H_ij² / D² per probe.
        let off: f64 = (0..d)
            .flat_map(|i| (0..d).map(move |j| (i, j)))
            .filter(|(i, j)| i != j)
            .map(|(i, j)| dense.get(i, j).powi(2))
            .sum();
        let se = (2.0 * off).sqrt() / d as f64 / (400f64).sqrt();
        assert!(
            (est - tr1).abs() < 5.0 * se + 1e-12,
            "{est} vs {tr1} (se {se})"
        );
    }
}
