//! The parameter layout of `INTERFACE.md`, in one place: θ is `W1` flattened row by row, then
//! `W2`, then `b1` (if present), then `b2` (if present).
//!
//! | index | parameter |
//! |---|---|
//! | `m*Ni + n` | `W1[m][n]` |
//! | `Nh*Ni + k` | `W2[k]` |
//! | `Nh*Ni + Nh + k` | `b1[k]` (only with `b1`) |
//! | last | `b2` (only with `b2`) |
//!
//! Every Hessian, gradient, loss and file uses this type instead of computing offsets by hand.

use std::ops::Range;

/// One parameter of θ, decoded by [`ParamLayout::param`] (in θ's order: `W1`, `W2`, `b1`, `b2`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Param {
    /// `W1[m][n]`.
    W1(usize, usize),
    /// `W2[k]`.
    W2(usize),
    /// `b1[k]`.
    B1(usize),
    /// `b2`.
    B2,
}

/// Where each parameter of a two-layer network sits in θ.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ParamLayout {
    /// Inputs `Ni`.
    pub ni: usize,
    /// Hidden units `Nh`.
    pub nh: usize,
    /// Whether θ has the hidden biases `b1` (`Nh` entries after `W2`).
    pub has_b1: bool,
    /// Whether θ has the output bias `b2` (the last entry).
    pub has_b2: bool,
}

impl ParamLayout {
    /// The bias-free layout of the paper: `D = Nh·Ni + Nh`.
    pub fn new(ni: usize, nh: usize) -> Self {
        ParamLayout {
            ni,
            nh,
            has_b1: false,
            has_b2: false,
        }
    }

    /// The same shape with the given biases.
    pub fn with_biases(self, has_b1: bool, has_b2: bool) -> Self {
        ParamLayout {
            has_b1,
            has_b2,
            ..self
        }
    }

    /// Whether θ has any bias.
    pub fn has_biases(&self) -> bool {
        self.has_b1 || self.has_b2
    }

    /// `D = Nh·Ni + Nh (+ Nh with b1) (+ 1 with b2)`.
    pub fn dim(&self) -> usize {
        self.nh * self.ni
            + self.nh
            + if self.has_b1 { self.nh } else { 0 }
            + usize::from(self.has_b2)
    }

    /// `D`, or `None` when it does not fit in `usize`.
    pub fn checked_dim(&self) -> Option<usize> {
        self.nh
            .checked_mul(self.ni)?
            .checked_add(self.nh)?
            .checked_add(if self.has_b1 { self.nh } else { 0 })?
            .checked_add(usize::from(self.has_b2))
    }

    /// Index of `W1[m][n]`.
    #[inline]
    pub fn w1(&self, m: usize, n: usize) -> usize {
        m * self.ni + n
    }

    /// The `Ni` indices of row `m` of `W1` (the incoming weights of hidden unit `m`).
    #[inline]
    pub fn w1_row(&self, m: usize) -> Range<usize> {
        m * self.ni..(m + 1) * self.ni
    }

    /// All of `W1`: `0 .. Nh·Ni`.
    #[inline]
    pub fn w1_all(&self) -> Range<usize> {
        0..self.nh * self.ni
    }

    /// Index of `W2[k]`.
    #[inline]
    pub fn w2(&self, k: usize) -> usize {
        self.nh * self.ni + k
    }

    /// All of `W2`.
    #[inline]
    pub fn w2_all(&self) -> Range<usize> {
        self.nh * self.ni..self.nh * self.ni + self.nh
    }

    /// Index of `b1[k]`, if θ has `b1`.
    #[inline]
    pub fn b1(&self, k: usize) -> Option<usize> {
        self.has_b1.then(|| self.nh * self.ni + self.nh + k)
    }

    /// All of `b1` (empty without it).
    pub fn b1_all(&self) -> Range<usize> {
        let s = self.nh * self.ni + self.nh;
        s..s + if self.has_b1 { self.nh } else { 0 }
    }

    /// Index of `b2`, if θ has it.
    #[inline]
    pub fn b2(&self) -> Option<usize> {
        self.has_b2.then(|| self.dim() - 1)
    }

    /// What parameter index `i` is, as a [`Param`] (`None` beyond `D`).
    pub fn param(&self, i: usize) -> Option<Param> {
        let w = self.nh * self.ni;
        if i < w {
            Some(Param::W1(i / self.ni, i % self.ni))
        } else if i < w + self.nh {
            Some(Param::W2(i - w))
        } else if self.b1_all().contains(&i) {
            Some(Param::B1(i - self.b1_all().start))
        } else if Some(i) == self.b2() {
            Some(Param::B2)
        } else {
            None
        }
    }

    /// What parameter `i` is (for messages and tables).
    pub fn describe(&self, i: usize) -> String {
        if i < self.nh * self.ni {
            format!("W1[{}][{}]", i / self.ni, i % self.ni)
        } else if self.w2_all().contains(&i) {
            format!("W2[{}]", i - self.nh * self.ni)
        } else if self.b1_all().contains(&i) {
            format!("b1[{}]", i - self.b1_all().start)
        } else if Some(i) == self.b2() {
            "b2".into()
        } else {
            format!("index {i} (beyond D = {})", self.dim())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn param_decodes_every_index_as_the_accessors_place_it() {
        for (b1, b2) in [(false, false), (true, false), (false, true), (true, true)] {
            let l = ParamLayout::new(3, 4).with_biases(b1, b2);
            for i in 0..l.dim() {
                let back = match l.param(i).expect("inside D") {
                    Param::W1(m, n) => l.w1(m, n),
                    Param::W2(k) => l.w2(k),
                    Param::B1(k) => l.b1(k).expect("has b1"),
                    Param::B2 => l.b2().expect("has b2"),
                };
                assert_eq!(back, i, "{}", l.describe(i));
            }
            assert_eq!(l.param(l.dim()), None);
        }
    }

    #[test]
    fn indices_follow_the_interface_table_and_cover_theta_once() {
        for (b1, b2) in [(false, false), (true, false), (false, true), (true, true)] {
            let l = ParamLayout::new(3, 4).with_biases(b1, b2);
            let mut seen = vec![0usize; l.dim()];
            for m in 0..4 {
                for n in 0..3 {
                    seen[l.w1(m, n)] += 1;
                    assert!(l.w1_row(m).contains(&l.w1(m, n)));
                }
                seen[l.w2(m)] += 1;
                if let Some(i) = l.b1(m) {
                    seen[i] += 1;
                }
            }
            if let Some(i) = l.b2() {
                seen[i] += 1;
                assert_eq!(i, l.dim() - 1);
            }
            assert!(seen.iter().all(|&c| c == 1), "{l:?}: {seen:?}");
            assert_eq!(l.dim(), 16 + 4 * usize::from(b1) + usize::from(b2));
            assert_eq!(l.checked_dim(), Some(l.dim()));
        }
        assert_eq!(ParamLayout::new(2, 2).describe(5), "W2[1]");
    }
}
