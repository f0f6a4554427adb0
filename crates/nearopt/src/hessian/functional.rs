//! The functional term `F = E[(y_s − y_t) ∇²_θ y_s]` of the population Hessian at a student
//! (paper Eq. 3, second term), exactly, for a teacher of any width, activation and biases.
//!
//! `∇²y_s` is block-diagonal per student unit `m` (parameters `W1[m][·]`, `a_m = W2[m]`,
//! `b1[m]`); with the residual `r = Σ_u κ_u f_u(z_u) + δ` (`u` over the student's units,
//! `κ_u = a_u`, `f_u = g`, and the teacher's, `κ_u = −â_u`, `f_u = h`; `δ = b2 − b̂2`):
//!
//! ```text
//! F[W1_m, W1_m] = a_m E[r g''(z_m) x xᵀ] = α_m I + c_m s sᵀ + s y_mᵀ + y_m sᵀ + Σ_u d_mu w_u w_uᵀ
//! F[W1_m, a_m]  = E[r g'(z_m) x]  =: p_m         F[W1_m, b1_m] = a_m E[r g''(z_m) x] =: q_m
//! F[a_m, b1_m]  = E[r g'(z_m)]                   F[b1_m, b1_m] = a_m E[r g''(z_m)] = α_m
//! ```
//!
//! (`s = s_m`; nothing couples two units, nothing involves `b2`, nothing `a`–`a`), with the
//! coefficients from [`crate::activation::cross`]: `d_mu = a_m κ_u A22`,
//! `e_mu = a_m κ_u A12/q − ρ_u d_mu`, `y_m = Σ_u e_mu w_u`,
//! `c_m = −α_m/q + a_m (Σ κ_u A11 + δ A11°)/q² − 2 a_m Σ κ_u ρ_u A12/q + Σ_u d_mu ρ_u²`
//! (`q = |s|²`, `ρ_u = s·w_u/q`, `°` the `f ≡ 1` moments). Identical units of the residual
//! (same activation, row and bias) are merged first, so at the optimum every `κ_u` is exactly 0
//! and `F` is exactly zero.
//!
//! Cost: `Nh_s · U` pair quadratures (`U ≤ Nh_s + Nh_t` merged units), `O(Nh_s U Ni)` storage
//! of nothing but `Nh_s U` numbers and `2 Nh_s Ni` vectors; a product costs `O(Nh_s U Ni)`, the
//! dense blocks `O(Nh_s U Ni²)`.

use crate::activation::cross::{cross_moments, unit_cross_moments, CrossMoments};
use crate::activation::{ActivationFn, Gauss2};
use crate::gaussian::dot;
use crate::layout::ParamLayout;
use crate::network::Network;
use crate::{Error, Result};
use rayon::prelude::*;
use std::collections::HashMap;

/// One unit of the residual `r`: coefficient, row, bias, and whether its activation is the
/// student's (else the teacher's).
#[derive(Clone, Debug)]
struct ResidualUnit {
    coef: f64,
    row: Vec<f64>,
    bias: f64,
    student_activation: bool,
    /// Where it came from, for messages.
    name: String,
}

/// The functional term at a student against a teacher (module docs), matrix-free.
#[derive(Clone, Debug)]
pub struct FunctionalTerm {
    layout: ParamLayout,
    ni: usize,
    nh: usize,
    /// Student `W1` (row-major `Nh × Ni`).
    s: Vec<f64>,
    /// Rows `w_u` of the merged residual units (row-major `U × Ni`).
    w: Vec<f64>,
    nu: usize,
    /// `α_m`.
    alpha: Vec<f64>,
    /// `c_m`.
    css: Vec<f64>,
    /// `y_m` (row-major `Nh × Ni`).
    y: Vec<f64>,
    /// `d_mu` (row-major `Nh × U`).
    d: Vec<f64>,
    /// `p_m` (row-major `Nh × Ni`).
    p: Vec<f64>,
    /// `q_m` (row-major `Nh × Ni`, only with `b1`).
    q: Vec<f64>,
    /// `E[r g'(z_m)]` (only with `b1`).
    ab: Vec<f64>,
    /// Whether every coefficient is exactly zero (the residual vanishes identically).
    zero: bool,
}

impl FunctionalTerm {
    /// The functional term of `½ E[(y_student − y_teacher)²]` at `student`. Errors: `Ni`
    /// mismatch, moments that do not converge or overflow (naming the units).
    pub fn new(teacher: &Network, student: &Network) -> Result<Self> {
        if teacher.ni() != student.ni() {
            return Err(Error::Shape(format!(
                "the student has Ni = {} inputs but the teacher has Ni = {}: they must agree",
                student.ni(),
                teacher.ni()
            )));
        }
        let (ni, nh, layout) = (student.ni(), student.nh(), student.layout());
        let g = student.activation().function();
        let h = teacher.activation().function();
        // Custom activations compare equal only when they share the implementation.
        let same_activation = teacher.activation() == student.activation();
        let units = residual_units(teacher, student, same_activation);
        let delta = student.output_bias() - teacher.output_bias();
        let nu = units.len();
        let mut w = Vec::with_capacity(nu * ni);
        for u in &units {
            w.extend_from_slice(&u.row);
        }
        let zero = nu == 0 && delta == 0.0;
        let mut term = FunctionalTerm {
            layout,
            ni,
            nh,
            s: student.w1().to_vec(),
            w,
            nu,
            alpha: vec![0.0; nh],
            css: vec![0.0; nh],
            y: vec![0.0; nh * ni],
            d: vec![0.0; nh * nu],
            p: vec![0.0; nh * ni],
            q: vec![0.0; if layout.has_b1 { nh * ni } else { 0 }],
            ab: vec![0.0; if layout.has_b1 { nh } else { 0 }],
            zero,
        };
        if zero {
            return Ok(term);
        }
        if let Some(m) = (0..nh).find(|&m| !dot(student.w1_row(m), student.w1_row(m)).is_finite()) {
            return Err(Error::Numerical(format!(
                "|s_{m}|² (row {m} of the student's W1) overflows"
            )));
        }
        let g = g.as_ref();
        let h = h.as_ref();
        // Per student unit: its moments with every residual unit (and f ≡ 1), in parallel over
        // units; each unit's sums run in a fixed order (the same whatever the thread count).
        let per_unit: Vec<Result<UnitCoefficients>> = (0..nh)
            .into_par_iter()
            .map(|m| unit_coefficients(g, h, student, m, &units, delta))
            .collect();
        for (m, r) in per_unit.into_iter().enumerate() {
            let c = r?;
            term.alpha[m] = c.alpha;
            term.css[m] = c.css;
            term.y[m * ni..(m + 1) * ni].copy_from_slice(&c.y);
            term.d[m * nu..(m + 1) * nu].copy_from_slice(&c.d);
            term.p[m * ni..(m + 1) * ni].copy_from_slice(&c.p);
            if layout.has_b1 {
                term.q[m * ni..(m + 1) * ni].copy_from_slice(&c.q);
                term.ab[m] = c.ab;
            }
        }
        let all = term
            .alpha
            .iter()
            .chain(&term.css)
            .chain(&term.y)
            .chain(&term.d)
            .chain(&term.p)
            .chain(&term.q)
            .chain(&term.ab);
        if all.clone().any(|v| !v.is_finite()) {
            return Err(Error::Numerical(
                "the functional term E[(y_s − y_t) ∇²y_s] is not finite: the products of weights \
                 and moments overflow"
                    .into(),
            ));
        }
        term.zero = all.clone().all(|v| *v == 0.0);
        Ok(term)
    }

    /// `D` (the student's).
    pub fn dim(&self) -> usize {
        self.layout.dim()
    }

    /// Whether the term is exactly zero (the residual `y_s − y_t` vanishes identically, as at
    /// the optimum).
    pub fn is_zero(&self) -> bool {
        self.zero
    }

    /// Number of distinct residual units after merging (`U`).
    pub fn residual_units(&self) -> usize {
        self.nu
    }

    fn srow(&self, m: usize) -> &[f64] {
        &self.s[m * self.ni..(m + 1) * self.ni]
    }

    fn wrow(&self, u: usize) -> &[f64] {
        &self.w[u * self.ni..(u + 1) * self.ni]
    }

    /// `out += F v`, `O(Nh_s U Ni)`.
    pub fn add_matvec(&self, v: &[f64], out: &mut [f64]) {
        if self.zero {
            return;
        }
        let (ni, nh, nu, l) = (self.ni, self.nh, self.nu, self.layout);
        let va = &v[l.w2_all()];
        let vb: Vec<f64> = l.b1_all().map(|i| v[i]).collect();
        // Per unit: the W1 rows' increment and the two scalars (a_m and b1_m rows).
        let rows: Vec<(Vec<f64>, f64, f64)> = (0..nh)
            .into_par_iter()
            .map(|m| {
                let vm = &v[l.w1_row(m)];
                let s = self.srow(m);
                let y = &self.y[m * ni..(m + 1) * ni];
                let p = &self.p[m * ni..(m + 1) * ni];
                let (sv, yv, pv) = (dot(s, vm), dot(y, vm), dot(p, vm));
                let mut o: Vec<f64> = vm.iter().map(|x| self.alpha[m] * x).collect();
                let cs = self.css[m] * sv + yv;
                for ((oi, si), yi) in o.iter_mut().zip(s).zip(y) {
                    *oi += cs * si + sv * yi;
                }
                for u in 0..nu {
                    let du = self.d[m * nu + u];
                    if du != 0.0 {
                        let wu = self.wrow(u);
                        let c = du * dot(wu, vm);
                        for (oi, wi) in o.iter_mut().zip(wu) {
                            *oi += c * wi;
                        }
                    }
                }
                for (oi, pi) in o.iter_mut().zip(p) {
                    *oi += va[m] * pi;
                }
                let mut out_a = pv;
                let mut out_b = 0.0;
                if l.has_b1 {
                    let q = &self.q[m * ni..(m + 1) * ni];
                    for (oi, qi) in o.iter_mut().zip(q) {
                        *oi += vb[m] * qi;
                    }
                    out_a += self.ab[m] * vb[m];
                    out_b = dot(q, vm) + self.ab[m] * va[m] + self.alpha[m] * vb[m];
                }
                (o, out_a, out_b)
            })
            .collect();
        for (m, (o, oa, ob)) in rows.into_iter().enumerate() {
            for (x, y) in out[l.w1_row(m)].iter_mut().zip(&o) {
                *x += y;
            }
            out[l.w2(m)] += oa;
            if let Some(i) = l.b1(m) {
                out[i] += ob;
            }
        }
    }

    /// The `W1_m`–`W1_m` block `α_m I + c_m s sᵀ + s y_mᵀ + y_m sᵀ + Σ_u d_mu w_u w_uᵀ`
    /// (row-major `Ni × Ni`), `O(U Ni²)`.
    fn unit_block(&self, m: usize) -> Vec<f64> {
        let (ni, nu) = (self.ni, self.nu);
        let s = self.srow(m);
        let y = &self.y[m * ni..(m + 1) * ni];
        let mut b = vec![0.0; ni * ni];
        for n in 0..ni {
            let row = &mut b[n * ni..(n + 1) * ni];
            let (cs, cy) = (self.css[m] * s[n] + y[n], s[n]);
            for ((r, sq), yq) in row.iter_mut().zip(s).zip(y) {
                *r = cs * sq + cy * yq;
            }
            row[n] += self.alpha[m];
            for u in 0..nu {
                let du = self.d[m * nu + u];
                if du != 0.0 {
                    let wu = self.wrow(u);
                    let c = du * wu[n];
                    for (r, wq) in row.iter_mut().zip(wu) {
                        *r += c * wq;
                    }
                }
            }
        }
        b
    }

    /// Calls `f(i, j, F_ij)` once for every entry of the term's support (the per-unit blocks of
    /// the module docs; each `(i, j)` at most once, both triangles), in a fixed order;
    /// `O(Nh_s U Ni²)`. Nothing is called when the term is exactly zero.
    pub fn for_each_entry(&self, mut f: impl FnMut(usize, usize, f64)) {
        if self.zero {
            return;
        }
        for m in 0..self.nh {
            self.unit_entries(m, &self.unit_block(m), &mut f);
        }
    }

    /// The entries of unit `m` given its `W1` block `b` ([`Self::unit_block`]).
    fn unit_entries(&self, m: usize, b: &[f64], f: &mut impl FnMut(usize, usize, f64)) {
        let (ni, l) = (self.ni, self.layout);
        let r0 = l.w1_row(m).start;
        for n in 0..ni {
            let i = r0 + n;
            for (qq, bv) in b[n * ni..(n + 1) * ni].iter().enumerate() {
                f(i, r0 + qq, *bv);
            }
            let pv = self.p[m * ni + n];
            f(i, l.w2(m), pv);
            f(l.w2(m), i, pv);
            if let Some(j) = l.b1(m) {
                let qv = self.q[m * ni + n];
                f(i, j, qv);
                f(j, i, qv);
            }
        }
        if let Some(j) = l.b1(m) {
            let k = l.w2(m);
            f(k, j, self.ab[m]);
            f(j, k, self.ab[m]);
            f(j, j, self.alpha[m]);
        }
    }

    /// Adds the term to a dense row-major `D × D` matrix, `O(Nh_s U Ni²)` (the blocks in
    /// parallel).
    pub fn add_to_dense(&self, data: &mut [f64]) {
        if self.zero {
            return;
        }
        let d = self.layout.dim();
        let blocks: Vec<Vec<f64>> = (0..self.nh)
            .into_par_iter()
            .map(|m| self.unit_block(m))
            .collect();
        for (m, b) in blocks.iter().enumerate() {
            self.unit_entries(m, b, &mut |i, j, v| data[i * d + j] += v);
        }
    }
}

/// The residual's units, identical ones merged (coefficients summed in order: student units,
/// then teacher units), zero coefficients dropped.
fn residual_units(
    teacher: &Network,
    student: &Network,
    same_activation: bool,
) -> Vec<ResidualUnit> {
    let mut units: Vec<ResidualUnit> = Vec::new();
    let mut index: HashMap<(bool, u64, Vec<u64>), usize> = HashMap::new();
    let mut add = |coef: f64, row: &[f64], bias: f64, student_activation: bool, name: String| {
        let key = (
            student_activation,
            bias.to_bits(),
            row.iter().map(|v| v.to_bits()).collect::<Vec<u64>>(),
        );
        match index.get(&key) {
            Some(&i) => units[i].coef += coef,
            None => {
                index.insert(key, units.len());
                units.push(ResidualUnit {
                    coef,
                    row: row.to_vec(),
                    bias,
                    student_activation,
                    name,
                });
            }
        }
    };
    for k in 0..student.nh() {
        add(
            student.w2()[k],
            student.w1_row(k),
            student.hidden_bias(k),
            true,
            format!("student unit {k}"),
        );
    }
    for j in 0..teacher.nh() {
        add(
            -teacher.w2()[j],
            teacher.w1_row(j),
            teacher.hidden_bias(j),
            same_activation,
            format!("teacher unit {j}"),
        );
    }
    units.retain(|u| u.coef != 0.0);
    units
}

struct UnitCoefficients {
    alpha: f64,
    css: f64,
    y: Vec<f64>,
    d: Vec<f64>,
    p: Vec<f64>,
    q: Vec<f64>,
    ab: f64,
}

fn checked(m: CrossMoments, what: impl Fn() -> String) -> Result<CrossMoments> {
    if let Some(i) = m.components().iter().position(|v| !v.is_finite()) {
        return Err(Error::Numerical(format!(
            "the moment {} of {} is not finite (overflow)",
            CrossMoments::component_name(i),
            what()
        )));
    }
    Ok(m)
}

/// The coefficients of student unit `m` (module docs).
fn unit_coefficients(
    g: &dyn ActivationFn,
    h: &dyn ActivationFn,
    student: &Network,
    m: usize,
    units: &[ResidualUnit],
    delta: f64,
) -> Result<UnitCoefficients> {
    let ni = student.ni();
    let s = student.w1_row(m);
    let mu = student.hidden_bias(m);
    let am = student.w2()[m];
    let q = dot(s, s);
    let (mut e_r2, mut e_r2tt, mut e_r1) = (0.0, 0.0, 0.0);
    let mut sum_a12_rho = 0.0;
    let mut d = vec![0.0; units.len()];
    let mut e = vec![0.0; units.len()];
    // Coefficients of w_u in p_m (E[r g' x]) and q_m / a_m (E[r g'' x]), and of s.
    let mut pw = vec![0.0; units.len()];
    let mut qw = vec![0.0; units.len()];
    let (mut ps, mut qs) = (0.0, 0.0);
    for (i, u) in units.iter().enumerate() {
        let f = if u.student_activation { g } else { h };
        let gauss = Gauss2::of(s, mu, &u.row, u.bias);
        let k = cross_moments(g, f, gauss)
            .map_err(|err| Error::Numerical(format!("student unit {m} and {}: {err}", u.name)))?;
        let k = checked(k, || format!("student unit {m} and {}", u.name))?;
        let kappa = u.coef;
        e_r2 += kappa * k.a0;
        e_r2tt += kappa * k.a11;
        e_r1 += kappa * k.b0;
        let (rho, inv_q) = if q > 0.0 {
            (gauss.cov.c / q, 1.0 / q)
        } else {
            (0.0, 0.0)
        };
        d[i] = am * kappa * k.a22;
        e[i] = am * kappa * k.a12 * inv_q - rho * d[i];
        sum_a12_rho += kappa * k.a12 * rho;
        // w' = w − ρ s.
        pw[i] = kappa * k.b2;
        ps += kappa * (k.b1 * inv_q - rho * k.b2);
        qw[i] = kappa * k.c2;
        qs += kappa * (k.c1 * inv_q - rho * k.c2);
    }
    if delta != 0.0 {
        let k = unit_cross_moments(g, mu, q)
            .map_err(|err| Error::Numerical(format!("student unit {m} (output bias): {err}")))?;
        let k = checked(k, || format!("student unit {m} (output bias)"))?;
        e_r2 += delta * k.a0;
        e_r2tt += delta * k.a11;
        e_r1 += delta * k.b0;
        if q > 0.0 {
            ps += delta * k.b1 / q;
            qs += delta * k.c1 / q;
        }
    }
    let alpha = am * e_r2;
    let mut css = 0.0;
    if q > 0.0 {
        css = -alpha / q + am * e_r2tt / (q * q) - 2.0 * am * sum_a12_rho / q;
        for (i, u) in units.iter().enumerate() {
            let rho = dot(s, &u.row) / q;
            css += d[i] * rho * rho;
        }
    }
    let mut y = vec![0.0; ni];
    let mut p: Vec<f64> = s.iter().map(|v| ps * v).collect();
    let mut qv: Vec<f64> = s.iter().map(|v| am * qs * v).collect();
    for (i, u) in units.iter().enumerate() {
        for n in 0..ni {
            y[n] += e[i] * u.row[n];
            p[n] += pw[i] * u.row[n];
            qv[n] += am * qw[i] * u.row[n];
        }
    }
    Ok(UnitCoefficients {
        alpha,
        css,
        y,
        d,
        p,
        q: if student.layout().has_b1 {
            qv
        } else {
            Vec::new()
        },
        ab: e_r1,
    })
}
