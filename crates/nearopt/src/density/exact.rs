//! The density of any exact population Hessian ([`ExactHessian`]): with biases, and at any
//! student (functional term included). The Gauss–Newton term's weight block goes through the
//! GEMM product of [`BatchedPopulationHessian`] (its `6 Nh² Ni` flops per vector), the bias rows
//! and columns through [`PopulationHessian`]'s `O(Nh² Ni)` loop, and the functional term
//! ([`crate::hessian::FunctionalTerm`], `O(Nh U Ni)`) per vector. The exact `Tr H` and `‖H‖_F²`
//! come from [`trace_moments`] (biases) or [`student_trace_moments`] (module docs of
//! [`super::moments`]).

use super::moments::{student_trace_moments, trace_moments};
use super::{
    check_options, density_at_optimum, estimate_density, operator_bytes, probes_per_block,
    working_set_bytes,
};
use super::{DensityEstimate, DensityOptions};
use crate::hessian::batched::{BatchedPopulationHessian, BlockOperator};
use crate::hessian::{check_dense_fits, ExactHessian, PopulationHessian};
use crate::network::Network;
use crate::{Error, Result};

/// [`ExactHessian`] as a [`BlockOperator`] (module docs). Column `j` of a block product is the
/// same arithmetic as the product of column `j` alone, whatever the thread count.
pub struct ExactBlockOperator<'a> {
    h: &'a ExactHessian,
    gauss_newton: &'a PopulationHessian,
    weights: BatchedPopulationHessian,
    /// `Nh·Ni + Nh`.
    wdim: usize,
    d: usize,
}

impl<'a> ExactBlockOperator<'a> {
    /// The operator of `h`, the Hessian with rows and columns of `net`'s parameters (the
    /// student's at a student, the network's at the optimum).
    pub fn new(h: &'a ExactHessian, net: &Network) -> Self {
        let gauss_newton = match h {
            ExactHessian::Optimum(p) => p,
            ExactHessian::Student(s) => s.gauss_newton(),
        };
        let wdim = net.nh() * net.ni() + net.nh();
        ExactBlockOperator {
            h,
            gauss_newton,
            weights: BatchedPopulationHessian::from_population(net, gauss_newton),
            wdim,
            d: net.dim(),
        }
    }

    /// Allocates the block product's workspace for `k` vectors now.
    pub fn reserve(&self, k: usize) {
        self.weights.reserve(k);
    }
}

impl BlockOperator for ExactBlockOperator<'_> {
    fn dim(&self) -> usize {
        self.d
    }

    fn apply_block(&self, v: &[f64], out: &mut [f64]) {
        let (d, wd) = (self.d, self.wdim);
        assert!(
            v.len() == out.len() && v.len().is_multiple_of(d),
            "block product: {} inputs and {} outputs for D = {d}",
            v.len(),
            out.len()
        );
        if wd == d {
            self.weights.apply_block(v, out);
        } else {
            let vw: Vec<f64> = v.chunks(d).flat_map(|c| c[..wd].iter().copied()).collect();
            let mut ow = vec![0.0; vw.len()];
            self.weights.apply_block(&vw, &mut ow);
            for ((vj, oj), owj) in v.chunks(d).zip(out.chunks_mut(d)).zip(ow.chunks(wd)) {
                oj[..wd].copy_from_slice(owj);
                self.gauss_newton.add_bias_products(vj, oj);
            }
        }
        if let ExactHessian::Student(s) = self.h {
            if !s.functional().is_zero() {
                for (vj, oj) in v.chunks(d).zip(out.chunks_mut(d)) {
                    s.functional().add_matvec(vj, oj);
                }
            }
        }
    }
}

/// Bytes held by the operator of [`density_exact`] for `net` (the Hessian's rows) against a
/// teacher of `teacher_nh` units: the block product's matrices and workspace, the pair moments
/// (11 numbers per pair), and the functional term's coefficients.
pub fn exact_operator_bytes(net: &Network, teacher_nh: usize, opts: &DensityOptions) -> u64 {
    let (nh, ni) = (net.nh() as u64, net.ni() as u64);
    let k = opts.block.max(probes_per_block(net.dim(), opts));
    let units = nh + teacher_nh as u64;
    BatchedPopulationHessian::memory_bytes(net.nh(), net.ni(), k)
        + 8 * (11 * nh * nh + nh * units + units * ni + 4 * nh * ni)
        + 16 * (k as u64) * (net.dim() as u64)
}

/// Whether [`density_exact`] takes [`density_at_optimum`] (the bias-free optimum).
fn fast_route(teacher: &Network, student: Option<&Network>) -> bool {
    student.is_none() && !teacher.layout().has_biases()
}

/// Estimated peak bytes of [`density_exact`] for the same arguments: the operator it takes
/// ([`operator_bytes`] at the bias-free optimum, else [`exact_operator_bytes`]) plus the Lanczos
/// vectors ([`working_set_bytes`]).
pub fn density_memory_bytes(
    teacher: &Network,
    student: Option<&Network>,
    opts: &DensityOptions,
) -> u64 {
    let net = student.unwrap_or(teacher);
    let d = net.dim();
    let operator = if fast_route(teacher, student) {
        operator_bytes(net, opts)
    } else {
        exact_operator_bytes(net, teacher.nh(), opts)
    };
    operator + working_set_bytes(d, opts, probes_per_block(d, opts))
}

/// [`estimate_density`] of the exact population Hessian of `½ E[(y_s − y_t)²]`: at the optimum
/// of `teacher` (`student = None`) or at `student`, any biases, with the exact `Tr H` and
/// `‖H‖_F²`. The bias-free optimum takes [`density_at_optimum`] (which also estimates the top
/// bulk); everything else [`ExactBlockOperator`].
pub fn density_exact(
    teacher: &Network,
    student: Option<&Network>,
    opts: &DensityOptions,
    progress: &(dyn Fn(u64, u64) + Sync),
) -> Result<DensityEstimate> {
    if fast_route(teacher, student) {
        return density_at_optimum(teacher, opts, progress);
    }
    let net = student.unwrap_or(teacher);
    check_options(net.dim(), opts)?;
    let nh = net.nh();
    check_dense_fits(nh, 20 * nh, "set of Nh × Nh coefficient matrices")?;
    let h = ExactHessian::new(teacher, student)?;
    let moments = match &h {
        ExactHessian::Optimum(p) => trace_moments(net, p),
        ExactHessian::Student(s) => student_trace_moments(s, net),
    };
    if !(moments.trace.is_finite() && moments.trace_squared.is_finite()) {
        return Err(Error::Numerical(format!(
            "Tr H = {:e} or Tr H² = {:e} is not finite: the weights' products overflow",
            moments.trace, moments.trace_squared
        )));
    }
    let op = ExactBlockOperator::new(&h, net);
    op.reserve(opts.block.max(probes_per_block(net.dim(), opts)));
    estimate_density(&op, Some(moments), opts, progress)
}
