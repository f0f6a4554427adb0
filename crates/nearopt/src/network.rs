//! Two-layer networks `y = W2 g(W1 x)` without biases, and the parameter order of `INTERFACE.md`:
//! θ = W1 flattened row by row, then W2; `θ[m*Ni + n] = W1[m][n]`, `θ[Nh*Ni + k] = W2[k]`.

use crate::activation::{Activation, ActivationFn};
use crate::{Error, Result};

/// A two-layer network `y = W2 · g(W1 x)` (paper Section 1.1): `W1` is `Nh × Ni`, `W2` has `Nh`
/// entries. Immutable once built; every constructor validates shapes and finiteness.
#[derive(Clone, Debug, PartialEq)]
pub struct Network {
    activation: Activation,
    ni: usize,
    nh: usize,
    /// Row-major `Nh × Ni`.
    w1: Vec<f64>,
    w2: Vec<f64>,
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
        })
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

    /// From a parameter vector θ in the order of `INTERFACE.md`.
    pub fn from_params(
        activation: Activation,
        ni: usize,
        nh: usize,
        theta: &[f64],
    ) -> Result<Self> {
        if theta.len() != nh * ni + nh {
            return Err(Error::Shape(format!(
                "θ has {} entries, expected Nh·Ni + Nh = {}",
                theta.len(),
                nh * ni + nh
            )));
        }
        Network::new(
            activation,
            ni,
            nh,
            theta[..nh * ni].to_vec(),
            theta[nh * ni..].to_vec(),
        )
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
    /// Number of parameters `D = Nh·Ni + Nh`.
    pub fn dim(&self) -> usize {
        self.nh * self.ni + self.nh
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
    /// The parameter vector θ (W1 row by row, then W2).
    pub fn params(&self) -> Vec<f64> {
        let mut t = self.w1.clone();
        t.extend_from_slice(&self.w2);
        t
    }
    /// Index of `W1[m][n]` in θ.
    pub fn w1_index(&self, m: usize, n: usize) -> usize {
        m * self.ni + n
    }
    /// Index of `W2[k]` in θ.
    pub fn w2_index(&self, k: usize) -> usize {
        self.nh * self.ni + k
    }
    /// The same architecture with parameters θ.
    pub fn with_params(&self, theta: &[f64]) -> Result<Self> {
        Network::from_params(self.activation.clone(), self.ni, self.nh, theta)
    }

    /// Output `y = W2 g(W1 x)` for one input.
    pub fn output(&self, x: &[f64]) -> f64 {
        let g = self.activation.function();
        self.output_with(g.as_ref(), x)
    }

    /// Output with a prepared activation (avoids re-boxing in hot loops).
    pub fn output_with(&self, g: &dyn ActivationFn, x: &[f64]) -> f64 {
        (0..self.nh)
            .map(|m| self.w2[m] * g.derivative(0, crate::gaussian::dot(self.w1_row(m), x)))
            .sum()
    }

    /// `∂y/∂θ` at input `x`, written into `out` (length `D`): `a_m g'(z_m) x_n` then `g(z_k)`.
    /// Returns the output `y`.
    pub fn output_gradient(&self, g: &dyn ActivationFn, x: &[f64], out: &mut [f64]) -> f64 {
        let mut y = 0.0;
        for m in 0..self.nh {
            let z = crate::gaussian::dot(self.w1_row(m), x);
            let h = g.derivative(0, z);
            y += self.w2[m] * h;
            let s = self.w2[m] * g.derivative(1, z);
            for (o, xn) in out[m * self.ni..(m + 1) * self.ni].iter_mut().zip(x) {
                *o = s * xn;
            }
            out[self.nh * self.ni + m] = h;
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
        Network::new(self.activation.clone(), self.ni, self.nh, w1, w2)
    }
}
