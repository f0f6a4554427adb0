//! Certified ranks of the exact population Hessian at the optimum (student = teacher,
//! `x ~ N(0, I)`), decided where float64 cannot decide them. See `docs/certified-rank.md`.
//!
//! * Polynomial activations (linear, quadratic, polynomial), with or without biases: exact
//!   rational arithmetic ([`polynomial`]): `rank H = rank C` for the exact coefficient matrix `C`
//!   of the Jacobian's components in the monomial basis, by Bareiss elimination over ℤ. Always
//!   certified (biases are dyadic rationals like the weights, so `C` stays exact).
//! * erf: rigorous interval enclosure of every entry, Weyl's bound and an exact inertia count
//!   ([`erf`]), against the exact structural kernel ([`kernel`]); precision doubled until the
//!   count meets the kernel bound or a cap is reached.
//! * Other activations (tanh, relu, gelu, …), and erf with biases (the interval route has the
//!   bias-free closed forms only): float64 eigenvalues and the `numpy` tolerance,
//!   `certified: false`.

pub mod bareiss;
pub mod dyadic;
pub mod erf;
pub mod interval;
pub mod kernel;
pub mod polynomial;

use crate::activation::Activation;
use crate::hessian::PopulationHessian;
use crate::network::Network;
use crate::spectrum::{rank, symmetric_eigenvalues};
use crate::{Error, Result};
use kernel::{structural_kernel, Symmetry};

/// Options of [`certified_rank`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RankOptions {
    /// First precision tried for erf (fractional bits).
    pub start_bits: u32,
    /// Precision cap for erf: beyond it the rank is reported as not certified.
    pub max_bits: u32,
    /// Also bracket the smallest nonzero eigenvalue (erf; about `log₂ bits` extra inertia counts).
    pub bound_kept: bool,
}

impl Default for RankOptions {
    fn default() -> Self {
        RankOptions {
            start_bits: 64,
            max_bits: 1024,
            bound_kept: true,
        }
    }
}

/// Largest work, in big-integer operations (`D·M·min(D, M)` for polynomials; `D³/6` per
/// inertia count times the growth of the numbers for erf), that [`certified_rank`] accepts.
pub const MAX_WORK: f64 = 4e9;

/// The answer and its evidence.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct RankCertificate {
    /// `D`.
    pub dimension: usize,
    /// The rank: exact when `certified`, else the best estimate (see `note`).
    pub rank: usize,
    /// True only when `rank_lower = rank_upper` was proven.
    pub certified: bool,
    /// `exact-rational`, `interval-inertia` or `float64`.
    pub method: &'static str,
    /// Proven lower bound on the rank.
    pub rank_lower: usize,
    /// Proven upper bound on the rank.
    pub rank_upper: usize,
    /// Fractional bits of the last interval evaluation (erf).
    pub precision_bits: Option<u32>,
    /// Rigorous bound on `‖H − H̃‖₂` for the computed matrix `H̃` (erf; 0 for exact).
    pub error_bound: Option<f64>,
    /// Rigorous lower bound on the smallest nonzero eigenvalue (erf, certified).
    pub smallest_kept_lower_bound: Option<f64>,
    /// Every eigenvalue not counted lies in `[0, dropped_upper_bound]` (erf).
    pub dropped_upper_bound: Option<f64>,
    /// Dimension of the exact structural kernel (erf, tanh).
    pub structural_kernel: Option<usize>,
    /// The identities behind the structural kernel.
    pub kernel_reasons: Vec<String>,
    /// Monomials in the Jacobian's components (polynomial activations).
    pub monomials: Option<usize>,
    /// Precision levels tried (erf).
    pub attempts: Vec<erf::Attempt>,
    /// Float64 numerical rank tolerance (float64 method).
    pub float64_tolerance: Option<f64>,
    /// What was decided and how, or why it was not.
    pub note: String,
}

fn polynomial_degree(act: &Activation) -> Option<usize> {
    match act {
        Activation::Linear => Some(1),
        Activation::Quadratic { .. } => Some(2),
        Activation::Polynomial { coefficients } => Some(coefficients.len().saturating_sub(1)),
        _ => None,
    }
}

/// Estimated work of [`certified_rank`] in big-integer operations (see [`MAX_WORK`]).
pub fn estimate_work(net: &Network, opts: &RankOptions) -> f64 {
    let d = net.dim() as f64;
    match (net.activation(), polynomial_degree(net.activation())) {
        (_, Some(deg)) => {
            let m = polynomial::monomial_count(net.ni(), deg) as f64;
            d * m * d.min(m)
        }
        (Activation::Erf, _) => {
            // Per inertia count: D³/6 updates of numbers up to D·p bits (cost ∝ limbs^1.6,
            // relative to 64-bit limbs); the ladder and the bisection multiply it by ~10.
            let limbs = (d * opts.max_bits as f64 / 64.0).max(1.0);
            d * d * d / 6.0 * limbs.powf(1.6) / 64.0
        }
        _ => d * d * d,
    }
}

/// Refuses networks whose certificate would take more than [`MAX_WORK`] operations, saying the
/// size and the limit.
pub fn check_work(net: &Network, opts: &RankOptions) -> Result<()> {
    let w = estimate_work(net, opts);
    if w > MAX_WORK {
        return Err(Error::TooLarge(format!(
            "a certified rank of this {} network (D = {}) needs about {w:.1e} big-integer operations, \
             above the limit {MAX_WORK:.0e} (about ten minutes); use `nearopt spectrum` for the \
             float64 rank",
            net.activation().name(),
            net.dim()
        )));
    }
    Ok(())
}

/// The rank of the exact population Hessian at the optimum of `net`, certified where the
/// arithmetic allows (see the module docs). Refuses (with [`check_work`]) what cannot finish.
pub fn certified_rank(net: &Network, opts: &RankOptions) -> Result<RankCertificate> {
    check_work(net, opts)?;
    let biased = net.b1().is_some() || net.b2().is_some();
    let d = net.dim();
    let base = RankCertificate {
        dimension: d,
        rank: 0,
        certified: false,
        method: "float64",
        rank_lower: 0,
        rank_upper: d,
        precision_bits: None,
        error_bound: None,
        smallest_kept_lower_bound: None,
        dropped_upper_bound: None,
        structural_kernel: None,
        kernel_reasons: Vec::new(),
        monomials: None,
        attempts: Vec::new(),
        float64_tolerance: None,
        note: String::new(),
    };
    if let Some((r, m)) = polynomial::exact_rank(net) {
        return Ok(RankCertificate {
            rank: r,
            certified: true,
            method: "exact-rational",
            rank_lower: r,
            rank_upper: r,
            error_bound: Some(0.0),
            monomials: Some(m),
            note: format!(
                "exact: rank of the {d} × {m} rational coefficient matrix of the Jacobian's \
                 components in the monomial basis (H = C G Cᵀ with G positive definite): the rank \
                 modulo the prime 2^61 − 1 where it reaches min(D, M), else Bareiss elimination \
                 over the integers"
            ),
            ..base
        });
    }
    if biased {
        // The structural kernel's identities and the interval closed forms are bias-free.
        let eig = symmetric_eigenvalues(&PopulationHessian::try_at_optimum(net)?.dense()?)?;
        let dec = rank(&eig, None);
        return Ok(RankCertificate {
            rank: dec.rank,
            float64_tolerance: Some(dec.tolerance),
            note: format!(
                "not certified: the {} network has biases, which the certified routes support only                  for polynomial activations, so the rank is the float64 count of eigenvalues above                  λ_max·D·ε = {:.2e} (spectral gap ratio {:.2e})",
                net.activation().name(),
                dec.tolerance,
                dec.gap_ratio()
            ),
            ..base
        });
    }
    // Odd activations with g(0) = 0 in this crate: erf, tanh.
    let sym = Symmetry {
        odd: matches!(net.activation(), Activation::Erf | Activation::Tanh),
        zero_at_zero: matches!(net.activation(), Activation::Erf | Activation::Tanh),
    };
    let kernel = structural_kernel(net, sym);
    let upper = d - kernel.dimension;
    if let Activation::Erf = net.activation() {
        let c = erf::certify(net, upper, opts.start_bits, opts.max_bits, opts.bound_kept)?;
        let last = c.attempts.last().cloned().expect("at least one attempt");
        let certified = c.rank_lower == c.rank_upper;
        let note = if certified {
            format!(
                "certified at {} bits: {} eigenvalues proven positive (interval entries, Weyl bound \
                 ‖H − H̃‖₂ ≤ {:.2e}, exact inertia of H̃ − μI), and {} exact null vectors from the \
                 structure",
                last.bits,
                c.rank_lower,
                last.error_bound,
                kernel.dimension
            )
        } else {
            format!(
                "not certified: at the cap of {} bits only {} of at most {} eigenvalues are proven \
                 positive; the other {} lie in [0, {:.2e}] but are not explained by an exact null \
                 vector. Deciding them needs more than {} bits (retry with a higher --max-bits), or \
                 they are zero for a reason the structural kernel does not know",
                last.bits,
                c.rank_lower,
                c.rank_upper,
                d - c.rank_lower,
                c.dropped_upper_bound,
                last.bits
            )
        };
        return Ok(RankCertificate {
            rank: c.rank_lower,
            certified,
            method: "interval-inertia",
            rank_lower: c.rank_lower,
            rank_upper: c.rank_upper,
            precision_bits: Some(last.bits),
            error_bound: Some(last.error_bound),
            smallest_kept_lower_bound: c.smallest_kept_lower_bound,
            dropped_upper_bound: Some(c.dropped_upper_bound),
            structural_kernel: Some(kernel.dimension),
            kernel_reasons: kernel.reasons,
            attempts: c.attempts,
            note,
            ..base
        });
    }
    let eig = symmetric_eigenvalues(&PopulationHessian::at_optimum(net).dense()?)?;
    let dec = rank(&eig, None);
    Ok(RankCertificate {
        rank: dec.rank.min(upper),
        rank_upper: upper,
        structural_kernel: Some(kernel.dimension),
        kernel_reasons: kernel.reasons,
        float64_tolerance: Some(dec.tolerance),
        note: format!(
            "not certified: the {} activation has no closed-form Gaussian moments here (entries \
             come from quadrature converged to ~1e-12, not a rigorous bound), so the rank is the \
             float64 count of eigenvalues above λ_max·D·ε = {:.2e}",
            net.activation().name(),
            dec.tolerance
        ),
        ..base
    })
}
