//! Biases (paper Section 6, future work: "the same results incremented by one"; not measured in
//! the paper): the rank of the exact population Hessian at the optimum with `b2` only, `b1` only
//! and both, against the bias-free rank of the same weights.
//!
//! * Polynomial activations (linear, quadratic `x + εx²`, a cubic): ranks decided exactly
//!   ([`crate::certify::certified_rank`], exact rational arithmetic; biases are dyadic rationals
//!   like the weights), against the predictions of [`super::activations::predicted_rank`]
//!   derived in `docs/biases.md` ("Rank with biases: derivation").
//! * erf and the other activations: the rank in float64 with its evidence
//!   ([`super::activations::Float64Evidence`]; the certified erf route has no biases), against
//!   full rank (smooth) or `D − Nh` (relu, leaky_relu).

use super::activations::{cell_text, measure_rank, predicted_rank, rank_verdict, RankMeasure};
use super::common::{claim, stream_id, teacher};
use super::{Figure, Output, Progress, ReproduceConfig, Series, Verdict};
use crate::activation::Activation;
use crate::error::Result;
use crate::network::Network;
use crate::teacher::{with_sampled_biases, WeightDistribution};
use rayon::prelude::*;

/// Which biases a network has.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum Biases {
    /// Neither (the paper's networks).
    None,
    /// The output bias `b2` only.
    B2,
    /// The hidden biases `b1` only.
    B1,
    /// Both.
    Both,
}

impl Biases {
    /// Every variant, in report order.
    pub const ALL: [Biases; 4] = [Biases::None, Biases::B2, Biases::B1, Biases::Both];

    /// Short name.
    pub fn name(self) -> &'static str {
        match self {
            Biases::None => "none",
            Biases::B2 => "b2",
            Biases::B1 => "b1",
            Biases::Both => "b1+b2",
        }
    }

    /// Whether `b1` is present.
    pub fn has_b1(self) -> bool {
        matches!(self, Biases::B1 | Biases::Both)
    }

    /// Whether `b2` is present.
    pub fn has_b2(self) -> bool {
        matches!(self, Biases::B2 | Biases::Both)
    }
}

/// Settings of the biases experiment.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct BiasConfig {
    /// Master seed (teachers: experiment stream `1100 + activation`, teacher = cell index; the
    /// biases from the same stream offset by `teacher::BIAS_STREAM_OFFSET`).
    pub seed: u64,
    /// Polynomial activations (exact ranks).
    pub polynomial: Vec<Activation>,
    /// Their shapes `(Ni, Nh)`.
    pub polynomial_shapes: Vec<(usize, usize)>,
    /// The other activations (float64 ranks).
    pub other: Vec<Activation>,
    /// Their shapes.
    pub other_shapes: Vec<(usize, usize)>,
    /// Standard deviation of `b1` and `b2`.
    pub bias_std: f64,
}

impl BiasConfig {
    /// Linear, quadratic (ε = 0.5) and the cubic `x + x²/2 + x³/4` on `Ni ∈ 1..=4` ×
    /// `Nh ∈ {1, 2, 3, 4, 6}`; erf, tanh, gelu, silu, softplus, sigmoid, relu and leaky_relu (0.1)
    /// on `(3, 2)`, `(2, 3)`, `(3, 3)`, `(4, 3)` (at `(2, 2)` some `λ_min/λ_max` fall below what
    /// float64 resolves from quadrature entries); biases from `N(0, 0.5²)`.
    pub fn paper() -> Self {
        let mut polynomial_shapes = Vec::new();
        for ni in 1..=4 {
            for nh in [1, 2, 3, 4, 6] {
                polynomial_shapes.push((ni, nh));
            }
        }
        BiasConfig {
            seed: 1,
            polynomial: vec![
                Activation::Linear,
                Activation::Quadratic { epsilon: 0.5 },
                Activation::Polynomial {
                    coefficients: vec![0.0, 1.0, 0.5, 0.25],
                },
            ],
            polynomial_shapes,
            other: vec![
                Activation::Erf,
                Activation::Tanh,
                Activation::Gelu,
                Activation::Silu,
                Activation::Softplus,
                Activation::Sigmoid,
                Activation::Relu,
                Activation::LeakyRelu { slope: 0.1 },
            ],
            other_shapes: vec![(3, 2), (2, 3), (3, 3), (4, 3)],
            bias_std: 0.5,
        }
    }

    /// `Ni ∈ 1..=3` × `Nh ∈ {1, 2, 3}` for the polynomials; erf, tanh, gelu and relu on `(3, 2)`
    /// and `(2, 3)`.
    pub fn quick() -> Self {
        let mut polynomial_shapes = Vec::new();
        for ni in 1..=3 {
            for nh in 1..=3 {
                polynomial_shapes.push((ni, nh));
            }
        }
        BiasConfig {
            polynomial_shapes,
            other: vec![
                Activation::Erf,
                Activation::Tanh,
                Activation::Gelu,
                Activation::Relu,
            ],
            other_shapes: vec![(3, 2), (2, 3)],
            ..Self::paper()
        }
    }

    /// [`Self::quick`] or [`Self::paper`] as `cfg.quick` says, seeded with `cfg.seed`.
    pub fn from_reproduce(cfg: &ReproduceConfig) -> Self {
        let base = if cfg.quick {
            Self::quick()
        } else {
            Self::paper()
        };
        BiasConfig {
            seed: cfg.seed,
            ..base
        }
    }
}

/// One measurement: an activation, a shape and a set of biases.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct BiasRow {
    /// Activation name (`polynomial` for the cubic).
    pub activation: String,
    /// Polynomial degree (None for the others).
    pub degree: Option<usize>,
    /// Inputs.
    pub ni: usize,
    /// Hidden units.
    pub nh: usize,
    /// The biases.
    pub biases: Biases,
    /// Parameters `D`.
    pub dim: usize,
    /// Rank and evidence.
    pub measure: RankMeasure,
    /// Rank of the bias-free network with the same weights.
    pub bias_free_rank: usize,
    /// The prediction ([`predicted_rank`]).
    pub predicted: Option<usize>,
}

impl BiasRow {
    /// `rank − bias-free rank`.
    pub fn increment(&self) -> i64 {
        self.measure.rank as i64 - self.bias_free_rank as i64
    }
}

/// The network of teacher `t` of experiment `exp` with the biases `b`.
pub fn network(
    act: &Activation,
    ni: usize,
    nh: usize,
    b: Biases,
    cfg: &BiasConfig,
    exp: u64,
    t: usize,
) -> Result<Network> {
    let net = teacher(act, ni, nh, WeightDistribution::Normal, cfg.seed, exp, t)?;
    let s = cfg.bias_std;
    with_sampled_biases(
        net,
        b.has_b1().then_some(s),
        b.has_b2().then_some(s),
        cfg.seed,
        stream_id(exp, t),
    )
}

/// Every row: for each activation and shape the four bias variants of the same weights.
pub fn measure(cfg: &BiasConfig, progress: &dyn Progress) -> Result<Vec<BiasRow>> {
    let mut jobs = Vec::new();
    for (set, (acts, shapes)) in [
        (&cfg.polynomial, &cfg.polynomial_shapes),
        (&cfg.other, &cfg.other_shapes),
    ]
    .into_iter()
    .enumerate()
    {
        for (a, act) in acts.iter().enumerate() {
            for (s, &(ni, nh)) in shapes.iter().enumerate() {
                for b in Biases::ALL {
                    jobs.push((1100 + 20 * set as u64 + a as u64, act.clone(), s, ni, nh, b));
                }
            }
        }
    }
    progress.start("biases", jobs.len() as u64);
    let measured = jobs
        .par_iter()
        .map(|(exp, act, s, ni, nh, b)| {
            let net = network(act, *ni, *nh, *b, cfg, *exp, *s)?;
            let m = measure_rank(&net)?;
            progress.inc(1);
            Ok((net, m))
        })
        .collect::<Result<Vec<_>>>();
    progress.finish();
    let measured = measured?;
    // Jobs come in groups of four (None first) sharing the weights.
    let mut rows = Vec::with_capacity(jobs.len());
    for (k, ((_, act, _, ni, nh, b), (net, m))) in jobs.iter().zip(measured.iter()).enumerate() {
        let r0 = measured[k - k % 4].1.rank;
        rows.push(BiasRow {
            activation: act.name().to_string(),
            degree: match act {
                Activation::Linear => Some(1),
                Activation::Quadratic { .. } => Some(2),
                Activation::Polynomial { coefficients } => Some(coefficients.len() - 1),
                _ => None,
            },
            ni: *ni,
            nh: *nh,
            biases: *b,
            dim: net.dim(),
            measure: m.clone(),
            bias_free_rank: r0,
            predicted: predicted_rank(net),
        });
    }
    Ok(rows)
}

const SECTION: &str = "6 (future work; new, not in the paper)";

fn label(r: &BiasRow) -> String {
    match r.degree {
        Some(n) if n >= 3 => format!("degree {n}"),
        _ => r.activation.clone(),
    }
}

fn figures(rows: &[BiasRow]) -> Vec<Figure> {
    let mut inc = Vec::new();
    let mut other = Vec::new();
    let mut labels: Vec<String> = rows.iter().map(label).collect();
    labels.dedup();
    for l in &labels {
        for b in &Biases::ALL[1..] {
            let sel: Vec<&BiasRow> = rows
                .iter()
                .filter(|r| &label(r) == l && r.biases == *b)
                .collect();
            if sel.is_empty() {
                continue;
            }
            let series = if sel[0].degree.is_some() {
                &mut inc
            } else {
                &mut other
            };
            series.push(Series::Points {
                label: format!("{l} {}", b.name()),
                x: sel.iter().map(|r| r.bias_free_rank as f64).collect(),
                y: sel.iter().map(|r| r.increment() as f64).collect(),
            });
        }
    }
    let xmax = rows.iter().map(|r| r.bias_free_rank).max().unwrap_or(1) as f64;
    for s in [&mut inc, &mut other] {
        s.push(Series::Line {
            label: "Section 6: +1".into(),
            x: vec![0.0, xmax],
            y: vec![1.0, 1.0],
        });
    }
    vec![
        Figure {
            id: "biases-rank-polynomial".into(),
            title: "Polynomial networks: exact rank with biases minus the bias-free rank".into(),
            x_label: "bias-free rank (same weights)".into(),
            y_label: "rank increment".into(),
            log_x: false,
            log_y: false,
            series: inc,
        },
        Figure {
            id: "biases-rank-other".into(),
            title: "erf and other activations: rank with biases minus the bias-free rank".into(),
            x_label: "bias-free rank (same weights)".into(),
            y_label: "rank increment".into(),
            log_x: false,
            log_y: false,
            series: other,
        },
    ]
}

fn table(rows: &[&BiasRow]) -> String {
    rows.iter()
        .map(|r| {
            format!(
                "{} {}: {}",
                label(r),
                r.biases.name(),
                cell_text(r.ni, r.nh, r.dim, &r.measure, r.predicted)
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The "+1" verdict: `reproduced` if every biased polynomial cell adds exactly one to the
/// bias-free rank, `reproduced with correction` if some do not but every cell equals the
/// corrected prediction (exactly decided), `not reproduced` otherwise.
pub fn plus_one_verdict(rows: &[&BiasRow]) -> Verdict {
    let biased: Vec<&&BiasRow> = rows.iter().filter(|r| r.biases != Biases::None).collect();
    if biased.is_empty() || rows.iter().any(|r| !r.measure.decided()) {
        return Verdict::Inconclusive;
    }
    if biased.iter().all(|r| r.increment() == 1) {
        Verdict::Reproduced
    } else if rows.iter().all(|r| r.predicted == Some(r.measure.rank)) {
        Verdict::ReproducedWithCorrection
    } else {
        Verdict::NotReproduced
    }
}

/// Figures and claims from the rows.
pub fn summarize(rows: &[BiasRow]) -> Output {
    let mut out = Output {
        figures: figures(rows),
        claims: Vec::new(),
    };
    let poly: Vec<&BiasRow> = rows.iter().filter(|r| r.degree.is_some()).collect();
    let off = poly
        .iter()
        .filter(|r| r.predicted != Some(r.measure.rank))
        .count();
    let certified = poly.iter().filter(|r| r.measure.certified).count();
    let n_acts = poly
        .iter()
        .map(|r| label(r))
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    out.claims.push(claim(
        "fig-biases-polynomial-rank",
        "biases-rank-polynomial",
        SECTION,
        "New claim: for polynomial networks with b2, b1 or both, the exact rank at the optimum is \
         the prediction of docs/biases.md: linear Ni + 1, quadratic Eq. 14 + 1; cubic: bias-free \
         + 1 with b2 only, and with b1 min(D, the Terracini dimension of Nh + 1 points on the \
         cubic Veronese of P^Ni) (Alexander–Hirschowitz: one less at Ni = 4, Nh = 6)",
        "cells_off_prediction",
        off as f64,
        0.0,
        rank_verdict(poly.iter().map(|r| (&r.measure, r.predicted))),
        format!(
            "{} cells ({} shapes × 4 bias sets × {} activations), {certified} certified \
             (exact rational arithmetic with the biases); rank/D: {}",
            poly.len(),
            poly.len() / 4 / n_acts.max(1),
            n_acts,
            table(&poly)
        ),
    ));
    let biased: Vec<&&BiasRow> = poly.iter().filter(|r| r.biases != Biases::None).collect();
    let not_one: Vec<String> = biased
        .iter()
        .filter(|r| r.increment() != 1)
        .map(|r| {
            format!(
                "{} {} {}x{}: +{}",
                label(r),
                r.biases.name(),
                r.ni,
                r.nh,
                r.increment()
            )
        })
        .collect();
    let by = |b: Biases| {
        let s: Vec<&&&BiasRow> = biased.iter().filter(|r| r.biases == b).collect();
        format!(
            "{}: +1 at {}/{}",
            b.name(),
            s.iter().filter(|r| r.increment() == 1).count(),
            s.len()
        )
    };
    out.claims.push(claim(
        "fig-biases-plus-one",
        "biases-rank-polynomial",
        SECTION,
        "Section 6 (future work): with biases, 'the same results incremented by one' — adding \
         b2, b1 or both adds exactly one effective parameter (the Hessian rank grows by one)",
        "cells_not_plus_one",
        not_one.len() as f64,
        0.0,
        plus_one_verdict(&poly),
        format!(
            "Exact ranks, same weights with and without biases. {}, {}, {}. {}",
            by(Biases::B2),
            by(Biases::B1),
            by(Biases::Both),
            if not_one.is_empty() {
                "Every biased cell adds exactly one.".to_string()
            } else {
                format!(
                    "Not +1 (b1 gives every unit a second radial degree of freedom, which a \
                     degree ≥ 3 network uses until the C(Ni+n, n) polynomials are exhausted; \
                     docs/biases.md): {}",
                    not_one.join(", ")
                )
            }
        ),
    ));
    let mut names: Vec<String> = rows
        .iter()
        .filter(|r| r.degree.is_none())
        .map(|r| r.activation.clone())
        .collect();
    names.dedup();
    let erf: Vec<&BiasRow> = rows
        .iter()
        .filter(|r| r.activation == "erf" && r.biases != Biases::None)
        .collect();
    if !erf.is_empty() {
        out.claims.push(claim(
            "fig-biases-erf-rank",
            "biases-rank-other",
            SECTION,
            "New claim: the erf Hessian at the optimum stays full rank with b2, b1 or both",
            "cells_off_prediction",
            erf.iter()
                .filter(|r| r.predicted != Some(r.measure.rank))
                .count() as f64,
            0.0,
            rank_verdict(erf.iter().map(|r| (&r.measure, r.predicted))),
            format!(
                "float64 only (the certified erf route has no biases; the entries come from \
                 quadrature to ~1e-11): a rank counts as decided when the separation (smallest \
                 kept / max(largest dropped, λ_max·D·ε)) is ≥ 1e6 and λ_min exceeds 100× the \
                 quadrature noise D·1e-11·λ_max. {}",
                table(&erf)
            ),
        ));
    }
    let others: Vec<&BiasRow> = rows
        .iter()
        .filter(|r| r.degree.is_none() && r.activation != "erf" && r.biases != Biases::None)
        .collect();
    if !others.is_empty() {
        let list: Vec<&String> = names.iter().filter(|n| *n != "erf").collect();
        out.claims.push(claim(
            "fig-biases-other-rank",
            "biases-rank-other",
            SECTION,
            "New claim: with biases the Hessian at the optimum is full rank for the smooth \
             activations and has rank D − Nh for relu and leaky_relu (the rescaling \
             (w_m, b1_m, a_m) → (c w_m, c b1_m, a_m/c) keeps one flat direction per unit)",
            "cells_off_prediction",
            others
                .iter()
                .filter(|r| r.predicted != Some(r.measure.rank))
                .count() as f64,
            0.0,
            rank_verdict(others.iter().map(|r| (&r.measure, r.predicted))),
            format!(
                "Activations {list:?}; float64 (quadrature entries), decided as for erf. {}",
                table(&others)
            ),
        ));
    }
    out
}

/// Runs the experiment: [`measure`] then [`summarize`].
pub fn run(cfg: &BiasConfig, progress: &dyn Progress) -> Result<Output> {
    let rows = measure(cfg, progress)?;
    Ok(summarize(&rows))
}
