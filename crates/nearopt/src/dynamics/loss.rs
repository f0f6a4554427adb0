//! The exact population loss and its gradient at any student (not only at the optimum).
//!
//! With `y_s = Σ_m a_m g(s_m·x)` (student) and `y_t = Σ_j â_j g(t_j·x)` (teacher), `x ~ N(0, I)`:
//!
//! ```text
//! L = ½ E[(y_s − y_t)²] = ½ Σ_jk [a_j a_k K00(s_j,s_k) − 2 a_j â_k K00(s_j,t_k) + â_j â_k K00(t_j,t_k)]
//! ∂L/∂a_k     = Σ_m a_m K00(s_k,s_m) − Σ_j â_j K00(s_k,t_j)
//! ∂L/∂W1[m][n] = a_m E[(y_s − y_t) g'(z_m) x_n]
//!             = a_m [Σ_k a_k (s_mn K20(s_m,s_k) + s_kn K11(s_m,s_k)) − Σ_j â_j (s_mn K20(s_m,t_j) + t_jn K11(s_m,t_j))]
//! ```
//!
//! (Stein's lemma `E[x_n F(x)] = E[∂_n F]`), with the pair moments `K_ab` of
//! [`crate::activation::ActivationFn::pair_moments`]. This is the loss whose quadratic
//! expansion at the optimum gives paper Eq. 6, `L ≈ ½ δθᵀ H δθ`.
//!
//! Precision: `L` is a difference of `O(1)` sums, so its absolute rounding error is about
//! `1e-16 × Σ|terms|` (≈ 1e-15 for unit-scale networks); losses far below that are noise.

use crate::activation::{ActivationFn, PairMoments};
use crate::error::{Error, Result};
use crate::gaussian::Cov2;
use crate::network::Network;

/// The population loss `L(θ) = ½ E[(y_θ(x) − y_teacher(x))²]` against a fixed teacher, exactly.
pub struct PopulationLoss {
    teacher: Network,
    g: Box<dyn ActivationFn>,
    /// `Σ_jk â_j â_k K00(t_j, t_k)`, computed once.
    teacher_energy: f64,
}

impl PopulationLoss {
    /// The loss against `teacher` (students share its architecture and activation).
    pub fn new(teacher: &Network) -> Self {
        let g = teacher.activation().function();
        let nh = teacher.nh();
        let a = teacher.w2();
        let mut e = 0.0;
        for j in 0..nh {
            for k in 0..nh {
                let k00 = if teacher.layout().has_biases() {
                    g.moments(gauss_of(teacher, j, teacher, k))
                        .map_or(f64::NAN, |m| m.pair.k00)
                } else {
                    g.pair_moments(Cov2::of(teacher.w1_row(j), teacher.w1_row(k)))
                        .k00
                };
                e += a[j] * a[k] * k00;
            }
        }
        PopulationLoss {
            teacher: teacher.clone(),
            g,
            teacher_energy: e,
        }
    }

    /// The teacher.
    pub fn teacher(&self) -> &Network {
        &self.teacher
    }

    /// Number of parameters `D`.
    pub fn dim(&self) -> usize {
        self.teacher.dim()
    }

    fn check(&self, theta: &[f64]) -> Result<()> {
        if !self.teacher_energy.is_finite() {
            return Err(Error::Numerical(
                "the teacher's Gaussian moments E[g g] are not finite (overflow or quadrature failure)"
                    .into(),
            ));
        }
        if theta.len() != self.dim() {
            return Err(Error::Shape(format!(
                "student has {} parameters, the teacher {}",
                theta.len(),
                self.dim()
            )));
        }
        if let Some(i) = theta.iter().position(|v| !v.is_finite()) {
            return Err(Error::Invalid(format!(
                "student parameter {i} is not finite"
            )));
        }
        Ok(())
    }

    /// For a linear network the function is the linear map `x ↦ (W1ᵀW2)·x` (paper Section 3.2),
    /// so `L = ½ |W1ᵀW2 − Ŵ1ᵀŴ2|²`. Evaluated this way the loss has no cancellation: the
    /// pair-moment sum subtracts O(1) terms to get O(|δθ|²) and bottoms out near 1e-16, which
    /// would cut the long-time tail of Figure 3 short.
    fn linear_loss(&self, theta: &[f64]) -> Option<f64> {
        if !matches!(self.teacher.activation(), crate::Activation::Linear) {
            return None;
        }
        let (ni, nh, l) = (self.teacher.ni(), self.teacher.nh(), self.teacher.layout());
        let a = &theta[l.w2_all()];
        let mut v = vec![0.0; ni];
        for m in 0..nh {
            let (s, t) = (&theta[l.w1_row(m)], self.teacher.w1_row(m));
            let (am, tm) = (a[m], self.teacher.w2()[m]);
            for (vn, (sn, tn)) in v.iter_mut().zip(s.iter().zip(t)) {
                *vn += am * sn - tm * tn;
            }
        }
        Some(0.5 * v.iter().map(|x| x * x).sum::<f64>())
    }

    /// `L(θ)` (exact; see the module docs).
    pub fn loss(&self, theta: &[f64]) -> Result<f64> {
        self.check(theta)?;
        if self.teacher.layout().has_biases() {
            return self.biased(theta, None);
        }
        if let Some(l) = self.linear_loss(theta) {
            return Ok(l);
        }
        let (nh, l) = (self.teacher.nh(), self.teacher.layout());
        let row = |m: usize| &theta[l.w1_row(m)];
        let a = &theta[l.w2_all()];
        let at = self.teacher.w2();
        let mut ss = 0.0;
        let mut st = 0.0;
        for m in 0..nh {
            for k in m..nh {
                let k00 = self.g.pair_moments(Cov2::of(row(m), row(k))).k00;
                ss += if k == m { 1.0 } else { 2.0 } * a[m] * a[k] * k00;
            }
            for (j, aj) in at.iter().enumerate() {
                let k00 = self
                    .g
                    .pair_moments(Cov2::of(row(m), self.teacher.w1_row(j)))
                    .k00;
                st += a[m] * aj * k00;
            }
        }
        Ok(0.5 * (ss - 2.0 * st + self.teacher_energy))
    }

    /// `L(θ)` and `∇L(θ)` (written to `grad`, length `D`), exactly (see the module docs).
    pub fn loss_and_gradient(&self, theta: &[f64], grad: &mut [f64]) -> Result<f64> {
        self.check(theta)?;
        if grad.len() != theta.len() {
            return Err(Error::Shape(format!(
                "gradient buffer has {} entries, expected {}",
                grad.len(),
                theta.len()
            )));
        }
        if self.teacher.layout().has_biases() {
            return self.biased(theta, Some(grad));
        }
        let (nh, l) = (self.teacher.nh(), self.teacher.layout());
        let row = |m: usize| &theta[l.w1_row(m)];
        let a = &theta[l.w2_all()];
        let at = self.teacher.w2();
        // Student–student moments (m ≤ k computed, the rest by swapping).
        let mut ssm = vec![PairMoments::default(); nh * nh];
        for m in 0..nh {
            for k in m..nh {
                let pm = self.g.pair_moments(Cov2::of(row(m), row(k)));
                ssm[m * nh + k] = pm;
                ssm[k * nh + m] = pm.swapped();
            }
        }
        grad.iter_mut().for_each(|v| *v = 0.0);
        let mut ss = 0.0;
        let mut st = 0.0;
        for m in 0..nh {
            let u = row(m);
            // Coefficients of u_n and of the other rows in ∂L/∂W1[m][·] / a_m.
            let mut cu = 0.0;
            let (head, tail) = grad.split_at_mut(l.w2_all().start);
            let gm = &mut head[l.w1_row(m)];
            let mut ga = 0.0;
            for k in 0..nh {
                let pm = &ssm[m * nh + k];
                ss += a[m] * a[k] * pm.k00;
                ga += a[k] * pm.k00;
                cu += a[k] * pm.k20;
                let w = a[k] * pm.k11;
                for (o, v) in gm.iter_mut().zip(row(k)) {
                    *o += w * v;
                }
            }
            for (j, aj) in at.iter().enumerate() {
                let t = self.teacher.w1_row(j);
                let pm = self.g.pair_moments(Cov2::of(u, t));
                st += a[m] * aj * pm.k00;
                ga -= aj * pm.k00;
                cu -= aj * pm.k20;
                let w = aj * pm.k11;
                for (o, v) in gm.iter_mut().zip(t) {
                    *o -= w * v;
                }
            }
            for (o, un) in gm.iter_mut().zip(u) {
                *o = a[m] * (*o + cu * un);
            }
            tail[m] = ga;
        }
        if let Some(l) = self.linear_loss(theta) {
            return Ok(l);
        }
        Ok(0.5 * (ss - 2.0 * st + self.teacher_energy))
    }

    /// Loss (and gradient) of a network with biases, `z_m = s_m·x + b1[m]`, output bias `b2`
    /// (`docs/biases.md`): with `δ = b2 − b̂2` and the non-centred moments,
    /// `L = ½[Σ a a K00 − 2 Σ a â K00 + Σ â â K00] + δ (Σ a_m m0(s_m) − Σ â_j m0(t_j)) + ½ δ²`,
    /// `∂L/∂W1[m][n] = a_m [Σ_k a_k (s_mn K20 + s_kn K11) − Σ_j â_j (s_mn K20 + t_jn K11) + δ s_mn m2]`,
    /// `∂L/∂a_k = Σ_m a_m K00(s_k,s_m) − Σ_j â_j K00(s_k,t_j) + δ m0(s_k)`,
    /// `∂L/∂b1_m = a_m [Σ_k a_k K10(s_m,s_k) − Σ_j â_j K10(s_m,t_j) + δ m1(s_m)]`,
    /// `∂L/∂b2 = Σ a_m m0(s_m) − Σ â_j m0(t_j) + δ`.
    fn biased(&self, theta: &[f64], grad: Option<&mut [f64]>) -> Result<f64> {
        let t = &self.teacher;
        let student = t.with_params(theta)?;
        let (nh, l) = (t.nh(), t.layout());
        let (a, at) = (student.w2(), t.w2());
        let g = self.g.as_ref();
        let delta = student.output_bias() - t.output_bias();
        let unit = |net: &Network, m: usize| -> Result<crate::activation::UnitMoments> {
            let w = net.w1_row(m);
            g.unit_moments(net.hidden_bias(m), crate::gaussian::dot(w, w))
        };
        let mut grad = grad;
        if let Some(gr) = grad.as_deref_mut() {
            gr.iter_mut().for_each(|v| *v = 0.0);
        }
        let (mut ss, mut st, mut mean_s, mut mean_t) = (0.0, 0.0, 0.0, 0.0);
        for (j, aj) in at.iter().enumerate() {
            mean_t += aj * unit(t, j)?.m0;
        }
        for m in 0..nh {
            let um = unit(&student, m)?;
            mean_s += a[m] * um.m0;
            let u = student.w1_row(m);
            let (mut cu, mut ga, mut gb) = (delta * um.m2, delta * um.m0, delta * um.m1);
            let mut gm = vec![0.0; t.ni()];
            for (k, ak) in a.iter().enumerate() {
                let pm = g.moments(gauss_of(&student, m, &student, k))?;
                ss += a[m] * ak * pm.pair.k00;
                ga += ak * pm.pair.k00;
                cu += ak * pm.pair.k20;
                gb += ak * pm.k10;
                for (o, v) in gm.iter_mut().zip(student.w1_row(k)) {
                    *o += ak * pm.pair.k11 * v;
                }
            }
            for (j, aj) in at.iter().enumerate() {
                let pm = g.moments(gauss_of(&student, m, t, j))?;
                st += a[m] * aj * pm.pair.k00;
                ga -= aj * pm.pair.k00;
                cu -= aj * pm.pair.k20;
                gb -= aj * pm.k10;
                for (o, v) in gm.iter_mut().zip(t.w1_row(j)) {
                    *o -= aj * pm.pair.k11 * v;
                }
            }
            if let Some(gr) = grad.as_deref_mut() {
                for (n, (o, un)) in gm.iter().zip(u).enumerate() {
                    gr[l.w1(m, n)] = a[m] * (o + cu * un);
                }
                gr[l.w2(m)] = ga;
                if let Some(i) = l.b1(m) {
                    gr[i] = a[m] * gb;
                }
            }
        }
        if let (Some(gr), Some(i)) = (grad, l.b2()) {
            gr[i] = mean_s - mean_t + delta;
        }
        let value = 0.5 * (ss - 2.0 * st + self.teacher_energy)
            + delta * (mean_s - mean_t)
            + 0.5 * delta * delta;
        if !value.is_finite() {
            return Err(Error::Numerical(
                "the population loss is not finite (the moments overflow)".into(),
            ));
        }
        Ok(value)
    }

    /// `∇L(θ)` alone.
    pub fn gradient(&self, theta: &[f64]) -> Result<Vec<f64>> {
        let mut g = vec![0.0; theta.len()];
        self.loss_and_gradient(theta, &mut g)?;
        Ok(g)
    }
}

/// The pre-activations of unit `m` of `a` and unit `p` of `b` (biases as means).
fn gauss_of(a: &Network, m: usize, b: &Network, p: usize) -> crate::activation::Gauss2 {
    crate::activation::Gauss2::of(a.w1_row(m), a.hidden_bias(m), b.w1_row(p), b.hidden_bias(p))
}
