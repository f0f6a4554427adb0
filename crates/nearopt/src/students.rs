//! Over-parameterised students at an optimum: networks of width `K ≥ N_h` that compute exactly the
//! teacher's function (paper Section 6, future work). See `docs/overparam.md`.
//!
//! At such a point `y_s ≡ y_t`, so the functional term `E[(y_s − y_t) ∇²y_s]` of the population
//! Hessian vanishes and the exact Hessian is `E[J_s J_sᵀ]`, which
//! [`crate::PopulationHessian::at_optimum`] computes for the student itself.
//!
//! The teacher's units keep their place `0..N_h` (and their weights, except the output weights of
//! split units); the extra units follow, in the order they are drawn:
//!
//! * [`Optimum::Zero`]: extra units `(w_k, a_k = 0)` with `w_k ~ N(0, I/N_i)`;
//! * [`Optimum::Split`]: extra unit `i` is a copy of teacher unit `j = i mod N_h`; the copies of
//!   unit `j` (itself included) share `w_j` and get output weights `a_j t_c` with seeded
//!   fractions `t_c ∝ U(0.5, 1.5)`, `Σ_c t_c = 1` (the last fraction is `1 − Σ` of the others);
//! * [`Optimum::Cancel`]: pairs `(u, c)`, `(u, −c)`, `u ~ N(0, I/N_i)`, `c ~ N(0, 1)`;
//! * [`Optimum::Mirror`]: pairs `(u, c)`, `(−u, c)`, for odd activations only.
//!
//! Each construction comes with its exact flat directions (null vectors of `E[J Jᵀ]` implied by
//! the construction, [`WideStudent::flat_directions`]); cost `O(K·N_i)` to build, `O(K·N_i·D)` for
//! the directions.

use crate::activation::Activation;
use crate::network::Network;
use crate::rng::stream;
use crate::{Error, Result};
use rand::Rng as _;
use rand_distr::{Distribution, StandardNormal};

/// How the extra units of a wider student reach the optimum.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Optimum {
    /// Extra units with zero output weight and any input weights.
    Zero,
    /// Teacher units split into copies whose output weights sum to the teacher's.
    Split,
    /// Pairs with identical input weights and opposite output weights.
    Cancel,
    /// Pairs with opposite input weights and equal output weights (odd `g` only).
    Mirror,
}

impl Optimum {
    /// Every kind, in report order.
    pub const ALL: [Optimum; 4] = [
        Optimum::Zero,
        Optimum::Split,
        Optimum::Cancel,
        Optimum::Mirror,
    ];

    /// `zero`, `split`, `cancel` or `mirror`.
    pub fn name(&self) -> &'static str {
        match self {
            Optimum::Zero => "zero",
            Optimum::Split => "split",
            Optimum::Cancel => "cancel",
            Optimum::Mirror => "mirror",
        }
    }

    /// The kind named `s` (case-insensitive), or an error listing the known names.
    pub fn parse(s: &str) -> Result<Self> {
        let t = s.trim().to_ascii_lowercase();
        Optimum::ALL
            .into_iter()
            .find(|o| o.name() == t)
            .ok_or_else(|| {
                Error::Invalid(format!(
                    "unknown optimum `{t}` (known: zero, split, cancel, mirror)"
                ))
            })
    }

    /// Whether a student of `extra` extra units can be built this way for `act` (pairs need an
    /// even number; mirror needs an odd `g`).
    pub fn applies(&self, act: &Activation, extra: usize) -> bool {
        match self {
            Optimum::Zero | Optimum::Split => true,
            Optimum::Cancel => extra.is_multiple_of(2),
            Optimum::Mirror => extra.is_multiple_of(2) && is_odd(act),
        }
    }
}

/// Whether `g(−x) = −g(x)` holds exactly for `act` (linear, erf, tanh, `x + 0·x²`, polynomials
/// with only odd powers).
pub fn is_odd(act: &Activation) -> bool {
    match act {
        Activation::Linear | Activation::Erf | Activation::Tanh => true,
        Activation::Quadratic { epsilon } => *epsilon == 0.0,
        Activation::Polynomial { coefficients } => {
            coefficients.iter().step_by(2).all(|c| *c == 0.0)
        }
        // x for x > 0, s·x otherwise: odd only when s = 1 (then it is the identity).
        Activation::LeakyRelu { slope } => *slope == 1.0,
        // Not odd (relu, gelu, silu, softplus: g(x) − g(−x) = x, sigmoid: g(x) + g(−x) = 1);
        // a user-supplied activation is not assumed to be.
        Activation::Relu
        | Activation::Gelu
        | Activation::Silu
        | Activation::Softplus
        | Activation::Sigmoid
        | Activation::Custom(_) => false,
    }
}

/// A wider student at an optimum and what the construction says about its Hessian.
#[derive(Clone, Debug, PartialEq)]
pub struct WideStudent {
    /// The student (`K` hidden units, the teacher's activation).
    pub network: Network,
    /// How it was built.
    pub optimum: Optimum,
    /// `N_h` of the teacher.
    pub teacher_units: usize,
    /// The seed of the extra units' draws.
    pub seed: u64,
    /// Exact null vectors of `E[J Jᵀ]` implied by the construction (linearly independent; their
    /// number is the predicted kernel dimension beyond the teacher's own).
    pub flat_directions: Vec<Vec<f64>>,
    /// One line per family of flat directions.
    pub flat_reasons: Vec<String>,
}

/// Random stream of the extra units (one per seed; unit draws are sequential in it).
const STREAM: u64 = 0x5754_5544; // "WTUD"

/// A student of width `width ≥ N_h` that computes exactly `teacher`'s function, built as
/// `optimum` says (module docs), with extra units drawn from `seed`. Refuses biased teachers
/// (not supported yet), `width < N_h`, an odd number of extra units for the pair kinds, and
/// mirror pairs for activations that are not odd.
pub fn widen(teacher: &Network, width: usize, optimum: Optimum, seed: u64) -> Result<WideStudent> {
    let (ni, nh) = (teacher.ni(), teacher.nh());
    if teacher.layout().has_biases() {
        return Err(Error::Invalid(
            "wider students of teachers with biases are not supported yet".into(),
        ));
    }
    if width < nh {
        return Err(Error::Shape(format!(
            "the student width {width} is below the teacher's Nh = {nh}"
        )));
    }
    let extra = width - nh;
    if matches!(optimum, Optimum::Cancel | Optimum::Mirror) && !extra.is_multiple_of(2) {
        return Err(Error::Invalid(format!(
            "a {} student needs an even number of extra units (pairs), got width {width} − Nh {nh} = {extra}",
            optimum.name()
        )));
    }
    if optimum == Optimum::Mirror && !is_odd(teacher.activation()) {
        return Err(Error::Invalid(format!(
            "a mirror student needs an odd activation (g(−x) = −g(x)); {} is not",
            teacher.activation().name()
        )));
    }
    let mut rng = stream(seed, STREAM);
    let s1 = 1.0 / (ni as f64).sqrt();
    let normal_row = |rng: &mut crate::rng::Rng| -> Vec<f64> {
        (0..ni)
            .map(|_| s1 * <StandardNormal as Distribution<f64>>::sample(&StandardNormal, rng))
            .collect()
    };
    let mut rows: Vec<Vec<f64>> = (0..nh).map(|m| teacher.w1_row(m).to_vec()).collect();
    let mut a: Vec<f64> = teacher.w2().to_vec();
    match optimum {
        Optimum::Zero => {
            for _ in 0..extra {
                rows.push(normal_row(&mut rng));
                a.push(0.0);
            }
        }
        Optimum::Split => {
            // copies[j]: the units carrying teacher unit j (j itself first).
            let mut copies: Vec<Vec<usize>> = (0..nh).map(|j| vec![j]).collect();
            for i in 0..extra {
                let j = i % nh;
                copies[j].push(nh + i);
                rows.push(teacher.w1_row(j).to_vec());
                a.push(0.0);
            }
            for (j, units) in copies.iter().enumerate() {
                if units.len() == 1 {
                    continue;
                }
                let raw: Vec<f64> = units.iter().map(|_| rng.random_range(0.5..1.5)).collect();
                let total: f64 = raw.iter().sum();
                let mut used = 0.0;
                for (c, &u) in units.iter().enumerate() {
                    let t = if c + 1 == units.len() {
                        1.0 - used
                    } else {
                        raw[c] / total
                    };
                    used += t;
                    a[u] = teacher.w2()[j] * t;
                }
            }
        }
        Optimum::Cancel | Optimum::Mirror => {
            for _ in 0..extra / 2 {
                let u = normal_row(&mut rng);
                let c: f64 = StandardNormal.sample(&mut rng);
                let (second_row, second_a) = if optimum == Optimum::Cancel {
                    (u.clone(), -c)
                } else {
                    (u.iter().map(|v| -v).collect(), c)
                };
                rows.push(u);
                a.push(c);
                rows.push(second_row);
                a.push(second_a);
            }
        }
    }
    let network = Network::from_rows(teacher.activation().clone(), &rows, a)?;
    let (flat_directions, flat_reasons) = flat_directions(&network, nh, optimum);
    Ok(WideStudent {
        network,
        optimum,
        teacher_units: nh,
        seed,
        flat_directions,
        flat_reasons,
    })
}

/// The flat directions of a student built by [`widen`] (see `docs/overparam.md`):
///
/// * zero: `e_(k,n)` for every extra unit `k` and input `n` (`∂y/∂w_kn = a_k g' x_n = 0`);
/// * split, copies `p` of unit `j`: `e_{a_j} − e_{a_p}` (moving output weight between copies)
///   and `a_p e_(j,n) − a_j e_(p,n)` (input weights, flat at first order only);
/// * cancel pair `(p, q)`: `e_{a_p} − e_{a_q}` and `e_(p,n) + e_(q,n)`;
/// * mirror pair `(p, q)`: `e_{a_p} + e_{a_q}` and `e_(p,n) − e_(q,n)`.
fn flat_directions(net: &Network, nh: usize, optimum: Optimum) -> (Vec<Vec<f64>>, Vec<String>) {
    let (ni, k, d) = (net.ni(), net.nh(), net.dim());
    let mut out = Vec::new();
    let mut reasons = Vec::new();
    let vec_with = |entries: &[(usize, f64)]| {
        let mut v = vec![0.0; d];
        for &(i, x) in entries {
            v[i] += x;
        }
        v
    };
    let a = net.w2();
    match optimum {
        Optimum::Zero => {
            for u in nh..k {
                reasons.push(format!("unit {u}: a = 0, its {ni} input weights are flat"));
                for n in 0..ni {
                    out.push(vec_with(&[(net.w1_index(u, n), 1.0)]));
                }
            }
        }
        Optimum::Split => {
            for p in nh..k {
                let j = (p - nh) % nh;
                reasons.push(format!(
                    "unit {p} copies unit {j}: output weight moves between them; input weights \
                     a_{p} e_({j},n) − a_{j} e_({p},n) (first order)"
                ));
                out.push(vec_with(&[(net.w2_index(j), 1.0), (net.w2_index(p), -1.0)]));
                for n in 0..ni {
                    out.push(vec_with(&[
                        (net.w1_index(j, n), a[p]),
                        (net.w1_index(p, n), -a[j]),
                    ]));
                }
            }
        }
        Optimum::Cancel | Optimum::Mirror => {
            let s = if optimum == Optimum::Cancel {
                1.0
            } else {
                -1.0
            };
            for p in (nh..k).step_by(2) {
                let q = p + 1;
                reasons.push(format!(
                    "units {p}, {q} {}: {} output weights, {} input weights",
                    if s > 0.0 {
                        "cancel (same w, opposite a)"
                    } else {
                        "mirror (opposite w, same a)"
                    },
                    if s > 0.0 {
                        "e_ap − e_aq"
                    } else {
                        "e_ap + e_aq"
                    },
                    if s > 0.0 {
                        "e_(p,n) + e_(q,n)"
                    } else {
                        "e_(p,n) − e_(q,n)"
                    }
                ));
                out.push(vec_with(&[(net.w2_index(p), 1.0), (net.w2_index(q), -s)]));
                for n in 0..ni {
                    out.push(vec_with(&[
                        (net.w1_index(p, n), 1.0),
                        (net.w1_index(q, n), s),
                    ]));
                }
            }
        }
    }
    (out, reasons)
}

/// The rank of `E[J Jᵀ]` at a [`widen`] student with generic (randomly drawn) weights, derived in
/// `docs/overparam.md`, for the activations where it is known: `None` otherwise.
///
/// With `e = K − N_h`, `P = e/2` pairs, `ν = max(N_i − N_h, 0)`:
/// * linear: `N_i` for every kind (all Jacobian components are linear functions of `x`);
/// * quadratic (`ε ≠ 0`), `r(N_i, N_h)` = Eq. 14: zero `r(N_i, N_h) + min(e, ν + ν(ν+1)/2)`,
///   split `r(N_i, N_h)`, cancel `r(N_i, N_h + P)`;
/// * erf: zero `N_h(N_i+1) + e`, split `N_h(N_i+1)`, cancel and mirror `(N_h + P)(N_i+1)`.
pub fn predicted_rank(
    act: &Activation,
    ni: usize,
    nh: usize,
    optimum: Optimum,
    width: usize,
) -> Option<usize> {
    use crate::theory::effective_params::quadratic_eq14;
    if width < nh || !optimum.applies(act, width - nh) {
        return None;
    }
    let e = width - nh;
    let pairs = e / 2;
    match act {
        Activation::Linear => Some(ni),
        Activation::Quadratic { epsilon } if *epsilon != 0.0 => Some(match optimum {
            Optimum::Zero => {
                let nu = ni.saturating_sub(nh);
                quadratic_eq14(ni, nh) + e.min(nu + nu * (nu + 1) / 2)
            }
            Optimum::Split => quadratic_eq14(ni, nh),
            Optimum::Cancel | Optimum::Mirror => quadratic_eq14(ni, nh + pairs),
        }),
        Activation::Erf => Some(match optimum {
            Optimum::Zero => nh * (ni + 1) + e,
            Optimum::Split => nh * (ni + 1),
            Optimum::Cancel | Optimum::Mirror => (nh + pairs) * (ni + 1),
        }),
        _ => None,
    }
}

/// The reference network whose Hessian determines the student's nonzero spectrum, and the
/// diagonal `d` with `nonzero λ(H_student) = nonzero λ(diag(d)^{1/2} H_ref diag(d)^{1/2})`
/// (`docs/overparam.md`): split — the teacher, `d = Σ_c t_c²` on `w_j`, `d = #copies` on `a_j`;
/// cancel and mirror — the network of the teacher's units and one unit `(u, c)` per pair,
/// `d = 2` on the pair units' parameters. `None` for zero (no such reduction).
pub fn reference(student: &WideStudent, teacher: &Network) -> Option<(Network, Vec<f64>)> {
    let net = &student.network;
    let (ni, nh, k) = (net.ni(), student.teacher_units, net.nh());
    match student.optimum {
        Optimum::Zero => None,
        Optimum::Split => {
            let mut t2 = vec![0.0; nh];
            let mut copies = vec![0usize; nh];
            for u in 0..k {
                let j = if u < nh { u } else { (u - nh) % nh };
                let aj = teacher.w2()[j];
                let t = if aj == 0.0 { 0.0 } else { net.w2()[u] / aj };
                t2[j] += t * t;
                copies[j] += 1;
            }
            let lay = teacher.layout();
            let mut d = vec![0.0; lay.dim()];
            for j in 0..nh {
                for n in 0..ni {
                    d[lay.w1(j, n)] = if teacher.w2()[j] == 0.0 { 1.0 } else { t2[j] };
                }
                d[lay.w2(j)] = copies[j] as f64;
            }
            Some((teacher.clone(), d))
        }
        Optimum::Cancel | Optimum::Mirror => {
            let mut rows: Vec<Vec<f64>> = (0..nh).map(|m| net.w1_row(m).to_vec()).collect();
            let mut a = net.w2()[..nh].to_vec();
            for p in (nh..k).step_by(2) {
                rows.push(net.w1_row(p).to_vec());
                a.push(net.w2()[p]);
            }
            let r = Network::from_rows(net.activation().clone(), &rows, a).ok()?;
            let lay = r.layout();
            let mut d = vec![1.0; lay.dim()];
            for u in nh..r.nh() {
                for n in 0..ni {
                    d[lay.w1(u, n)] = 2.0;
                }
                d[lay.w2(u)] = 2.0;
            }
            Some((r, d))
        }
    }
}
