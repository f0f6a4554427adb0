//! Two-layer networks `y = W2 g(W1 x + b1) + b2` (biases optional), with the parameter order
//! of `INTERFACE.md` kept by [`ParamLayout`].

use crate::activation::{Activation, ActivationFn};
use crate::layout::ParamLayout;
use crate::{Error, Result};

/// A two-layer network `y = W2 · g(W1 x + b1) + b2` (paper Section 1.1; the biases are optional
/// and absent in the paper): `W1` is `Nh × Ni`, `W2` and `b1` have `Nh` entries, `b2` is a
/// number. Immutable once built; every constructor validates shapes and finiteness.
#[derive(Clone, Debug, PartialEq)]
pub struct Network {
    activation: Activation,
    ni: usize,
    nh: usize,
    /// Row-major `Nh × Ni`.
    w1: Vec<f64>,
    w2: Vec<f64>,
    b1: Option<Vec<f64>>,
    b2: Option<f64>,
}

impl Network {
    /// From `W1` (row-major, `nh × ni`) and `W2` (`nh`). Rejects empty or mismatched shapes and
    /// non-finite numbers with a message naming the row and column.
    pub fn new(
        activation: Activation,
        ni: usize,
        nh: usize,
        w1: Vec<f64>,
        w2: Vec<f64>,
    ) -> Result<Self> {
        activation.validate()?;
        if ni == 0 || nh == 0 {
            return Err(Error::Shape(format!(
                "network needs Ni ≥ 1 and Nh ≥ 1, got Ni = {ni}, Nh = {nh}"
            )));
        }
        if w1.len() != ni * nh {
            return Err(Error::Shape(format!(
                "w1 has {} entries, expected Nh × Ni = {nh} × {ni}",
                w1.len()
            )));
        }
        if w2.len() != nh {
            return Err(Error::Shape(format!(
                "w2 has {} entries but w1 has {nh} rows",
                w2.len()
            )));
        }
        if let Some(i) = w1.iter().position(|v| !v.is_finite()) {
            return Err(Error::Invalid(format!(
                "w1[{}][{}] is not finite ({})",
                i / ni,
                i % ni,
                w1[i]
            )));
        }
        if let Some(k) = w2.iter().position(|v| !v.is_finite()) {
            return Err(Error::Invalid(format!("w2[{k}] is not finite ({})", w2[k])));
        }
        Ok(Network {
            activation,
            ni,
            nh,
            w1,
            w2,
            b1: None,
            b2: None,
        })
    }

    /// The same network with hidden biases `b1` (`Nh` numbers) and/or output bias `b2`
    /// (replacing any it had). Rejects a wrong length or non-finite numbers.
    pub fn with_biases(mut self, b1: Option<Vec<f64>>, b2: Option<f64>) -> Result<Self> {
        if let Some(b) = &b1 {
            if b.len() != self.nh {
                return Err(Error::Shape(format!(
                    "b1 has {} entries but the network has {} hidden units",
                    b.len(),
                    self.nh
                )));
            }
            if let Some(k) = b.iter().position(|v| !v.is_finite()) {
                return Err(Error::Invalid(format!("b1[{k}] is not finite ({})", b[k])));
            }
        }
        if let Some(v) = b2 {
            if !v.is_finite() {
                return Err(Error::Invalid(format!("b2 is not finite ({v})")));
            }
        }
        self.b1 = b1;
        self.b2 = b2;
        Ok(self)
    }

    /// From `W1` as rows.
    pub fn from_rows(activation: Activation, w1: &[Vec<f64>], w2: Vec<f64>) -> Result<Self> {
        let nh = w1.len();
        let ni = w1.first().map_or(0, |r| r.len());
        if let Some((m, r)) = w1.iter().enumerate().find(|(_, r)| r.len() != ni) {
            return Err(Error::Shape(format!(
                "w1 row {m} has {} entries, row 0 has {ni}",
                r.len()
            )));
        }
        Network::new(activation, ni, nh, w1.concat(), w2)
    }

    /// From a bias-free parameter vector θ in the order of `INTERFACE.md`.
    pub fn from_params(
        activation: Activation,
        ni: usize,
        nh: usize,
        theta: &[f64],
    ) -> Result<Self> {
        Network::from_layout_params(activation, ParamLayout::new(ni, nh), theta)
    }

    /// From a parameter vector θ laid out as `layout` says (biases included where it has them).
    pub fn from_layout_params(
        activation: Activation,
        layout: ParamLayout,
        theta: &[f64],
    ) -> Result<Self> {
        if theta.len() != layout.dim() {
            return Err(Error::Shape(format!(
                "θ has {} entries, expected D = {} for Nh = {}, Ni = {}{}{}",
                theta.len(),
                layout.dim(),
                layout.nh,
                layout.ni,
                if layout.has_b1 { " with b1" } else { "" },
                if layout.has_b2 { " with b2" } else { "" },
            )));
        }
        let net = Network::new(
            activation,
            layout.ni,
            layout.nh,
            theta[layout.w1_all()].to_vec(),
            theta[layout.w2_all()].to_vec(),
        )?;
        let b1 = layout.has_b1.then(|| theta[layout.b1_all()].to_vec());
        net.with_biases(b1, layout.b2().map(|i| theta[i]))
    }

    /// An error naming `what` if the network has biases: for the routes that cover the
    /// bias-free Hessian only (the fast block product and its moments, the certified rank),
    /// which must refuse rather than return the spectrum of a different matrix.
    pub fn ensure_bias_free(&self, what: &str) -> Result<()> {
        if self.b1().is_some() || self.b2().is_some() {
            return Err(Error::Invalid(format!(
                "{what} of networks with biases (b1/b2) is not supported yet; \
                 `nearopt spectrum` gives the exact spectrum of such networks"
            )));
        }
        Ok(())
    }

    /// The activation.
    pub fn activation(&self) -> &Activation {
        &self.activation
    }
    /// Input dimension `Ni`.
    pub fn ni(&self) -> usize {
        self.ni
    }
    /// Hidden dimension `Nh`.
    pub fn nh(&self) -> usize {
        self.nh
    }
    /// The parameter layout (`INTERFACE.md`): where each weight and bias sits in θ.
    pub fn layout(&self) -> ParamLayout {
        ParamLayout::new(self.ni, self.nh).with_biases(self.b1.is_some(), self.b2.is_some())
    }
    /// Number of parameters `D = Nh·Ni + Nh` (plus `Nh` with `b1`, plus 1 with `b2`).
    pub fn dim(&self) -> usize {
        self.layout().dim()
    }
    /// The hidden biases `b1`, if the network has them.
    pub fn b1(&self) -> Option<&[f64]> {
        self.b1.as_deref()
    }
    /// The output bias `b2`, if the network has it.
    pub fn b2(&self) -> Option<f64> {
        self.b2
    }
    /// `b1[m]`, 0 without hidden biases.
    #[inline]
    pub fn hidden_bias(&self, m: usize) -> f64 {
        self.b1.as_ref().map_or(0.0, |b| b[m])
    }
    /// `b2`, 0 without an output bias.
    #[inline]
    pub fn output_bias(&self) -> f64 {
        self.b2.unwrap_or(0.0)
    }
    /// `W1`, row-major `Nh × Ni`.
    pub fn w1(&self) -> &[f64] {
        &self.w1
    }
    /// Row `m` of `W1` (the incoming weights of hidden unit `m`).
    pub fn w1_row(&self, m: usize) -> &[f64] {
        &self.w1[m * self.ni..(m + 1) * self.ni]
    }
    /// `W2`.
    pub fn w2(&self) -> &[f64] {
        &self.w2
    }
    /// The parameter vector θ (W1 row by row, then W2, then b1 and b2 where present).
    pub fn params(&self) -> Vec<f64> {
        let mut t = self.w1.clone();
        t.extend_from_slice(&self.w2);
        if let Some(b) = &self.b1 {
            t.extend_from_slice(b);
        }
        if let Some(b) = self.b2 {
            t.push(b);
        }
        t
    }
    /// Index of `W1[m][n]` in θ.
    pub fn w1_index(&self, m: usize, n: usize) -> usize {
        self.layout().w1(m, n)
    }
    /// Index of `W2[k]` in θ.
    pub fn w2_index(&self, k: usize) -> usize {
        self.layout().w2(k)
    }
    /// The same architecture (and the same biases present) with parameters θ.
    pub fn with_params(&self, theta: &[f64]) -> Result<Self> {
        Network::from_layout_params(self.activation.clone(), self.layout(), theta)
    }

    /// Pre-activation `z_m = w_m·x + b1[m]` of hidden unit `m`.
    #[inline]
    pub fn preactivation(&self, m: usize, x: &[f64]) -> f64 {
        let z = crate::gaussian::dot(self.w1_row(m), x);
        match &self.b1 {
            Some(b) => z + b[m],
            None => z,
        }
    }

    /// Output `y = W2 g(W1 x + b1) + b2` for one input.
    pub fn output(&self, x: &[f64]) -> f64 {
        let g = self.activation.function();
        self.output_with(g.as_ref(), x)
    }

    /// Output with a prepared activation (avoids re-boxing in hot loops).
    pub fn output_with(&self, g: &dyn ActivationFn, x: &[f64]) -> f64 {
        let y: f64 = (0..self.nh)
            .map(|m| self.w2[m] * g.derivative(0, self.preactivation(m, x)))
            .sum();
        match self.b2 {
            Some(b) => y + b,
            None => y,
        }
    }

    /// `∂y/∂θ` at input `x`, written into `out` (length `D`, the order of [`ParamLayout`]):
    /// `a_m g'(z_m) x_n`, then `g(z_k)`, then `a_k g'(z_k)` (with `b1`), then 1 (with `b2`).
    /// Returns the output `y`.
    pub fn output_gradient(&self, g: &dyn ActivationFn, x: &[f64], out: &mut [f64]) -> f64 {
        let layout = self.layout();
        let mut y = 0.0;
        for m in 0..self.nh {
            let z = self.preactivation(m, x);
            let h = g.derivative(0, z);
            y += self.w2[m] * h;
            let s = self.w2[m] * g.derivative(1, z);
            for (o, xn) in out[layout.w1_row(m)].iter_mut().zip(x) {
                *o = s * xn;
            }
            out[layout.w2(m)] = h;
            if let Some(i) = layout.b1(m) {
                out[i] = s;
            }
        }
        if let Some(i) = layout.b2() {
            out[i] = 1.0;
            y += self.output_bias();
        }
        y
    }

    /// The network with hidden units reordered: unit `m` of the result is unit `perm[m]` of self.
    /// Rejects a `perm` that is not a permutation of `0..Nh`.
    pub fn permute_hidden(&self, perm: &[usize]) -> Result<Self> {
        if perm.len() != self.nh {
            return Err(Error::Shape(format!(
                "permutation has {} entries, network has {} hidden units",
                perm.len(),
                self.nh
            )));
        }
        let mut seen = vec![false; self.nh];
        for (m, &p) in perm.iter().enumerate() {
            if p >= self.nh || seen[p] {
                return Err(Error::Invalid(format!(
                    "not a permutation of 0..{}: entry {m} is {p}",
                    self.nh
                )));
            }
            seen[p] = true;
        }
        let w1 = perm.iter().flat_map(|&p| self.w1_row(p).to_vec()).collect();
        let w2 = perm.iter().map(|&p| self.w2[p]).collect();
        let b1 = self
            .b1
            .as_ref()
            .map(|b| perm.iter().map(|&p| b[p]).collect());
        Network::new(self.activation.clone(), self.ni, self.nh, w1, w2)?.with_biases(b1, self.b2)
    }
}
