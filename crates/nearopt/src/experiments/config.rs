//! The configuration of `nearopt reproduce`: the paper's settings as defaults (serde, so a JSON
//! file can override any field).

use crate::error::{Error, Result};
use crate::teacher::WeightDistribution;
use serde::{Deserialize, Serialize};

/// Settings of every experiment. Unknown keys are rejected; missing keys take the defaults of
/// [`ReproduceConfig::paper`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReproduceConfig {
    /// Smaller ensembles (for tests and a quick look).
    pub quick: bool,
    /// Master seed: teacher `t` of experiment `e` uses `rng::stream(seed, (e << 32) | t)`.
    pub seed: u64,
    /// Histogram bins for spectral figures.
    pub bins: usize,
    /// Figure 2: linear spectra, shapes `(Ni, Nh)`.
    pub linear_shapes: Vec<(usize, usize)>,
    /// Figure 2: teachers per shape.
    pub linear_teachers: usize,
    /// Figures 8–9: non-Gaussian teacher weight laws.
    pub distributions: Vec<WeightDistribution>,
    /// Figures 8–9: teachers per shape and law.
    pub distribution_teachers: usize,
    /// Figure 4: ε of the quadratic activation `g(x) = x + εx²`.
    pub quadratic_epsilon: f64,
    /// Figure 4: sizes `N = Ni = Nh`.
    pub quadratic_sizes: Vec<usize>,
    /// Figure 4: teachers per size.
    pub quadratic_teachers: usize,
    /// Figure 5: sizes `N = Ni = Nh`.
    pub erf_sizes: Vec<usize>,
    /// Figure 5: teachers per size.
    pub erf_teachers: usize,
    /// Figure 6: hidden sizes `Nh` for the A-block eigenvalue `‖W2‖²`.
    pub chi_hidden: Vec<usize>,
    /// Figure 6: input size used for the network whose Hessian is built.
    pub chi_inputs: usize,
    /// Figure 3: run the learning-dynamics experiment (`experiments::figure3`, its paper or quick
    /// configuration, seeded with `seed`).
    pub dynamics: bool,
    /// Figure 6: teachers per `Nh`.
    pub chi_teachers: usize,
    /// Figure 7: shapes `(Ni, Nh)` for the B block.
    pub mp_shapes: Vec<(usize, usize)>,
    /// Figure 7: teachers per shape.
    pub mp_teachers: usize,
    /// Ranks: largest `Ni` and `Nh` of the quadratic grid (Eq. 14).
    pub rank_quadratic_max: usize,
    /// Ranks: coefficients of the cubic polynomial activation (Section 4.2).
    pub rank_cubic: Vec<f64>,
    /// Ranks: coefficients of the quartic polynomial activation (Section 4.2).
    pub rank_quartic: Vec<f64>,
    /// Ranks: input sizes of the polynomial grid.
    pub rank_poly_inputs: Vec<usize>,
    /// Ranks: hidden sizes of the polynomial grid.
    pub rank_poly_hidden: Vec<usize>,
    /// Ranks: shapes `(Ni, Nh)` for the erf full-rank check.
    pub rank_erf_shapes: Vec<(usize, usize)>,

    // --- Off-diagonal shapes (issue 9): Figures 4 and 5 measured beyond Ni = Nh. ---
    /// Figures 4–5: shape families `(a, b)`: shapes `(a·s, b·s)` for each `s` in
    /// `family_scales` (e.g. `(1, 4)` gives `(5, 20)`, `(10, 40)`, ...).
    pub shape_families: Vec<(usize, usize)>,
    /// Figures 4–5: the scales `s` of every shape family (at least two: trends are checked).
    pub family_scales: Vec<usize>,
    /// Figures 4–5: teachers per off-diagonal shape.
    pub family_teachers: usize,

    // --- Large N (issue 11): Figures 4 and 5 by SLQ without forming the Hessian. ---
    /// Large-N Figures 4–5 (`experiments::large_n`): sizes `N = Ni = Nh` (empty: skipped).
    pub large_n_sizes: Vec<usize>,
    /// Large-N: Rademacher probes per teacher.
    pub large_n_probes: usize,
    /// Large-N: Lanczos steps per probe.
    pub large_n_steps: usize,
    /// Large-N: teachers per size.
    pub large_n_teachers: usize,
    /// Large-N: which figures, `"fig4"` (quadratic) and/or `"fig5"` (erf).
    pub large_n_figures: Vec<String>,
}

impl Default for ReproduceConfig {
    fn default() -> Self {
        Self::paper()
    }
}

impl ReproduceConfig {
    /// The paper's settings (Figures 2, 4–9; Sections 3.2, 4.1.1, 4.2, 5).
    pub fn paper() -> Self {
        Self {
            quick: false,
            seed: 1,
            bins: 60,
            linear_shapes: vec![(10, 20), (30, 10)],
            linear_teachers: 1000,
            distributions: vec![
                WeightDistribution::Uniform,
                WeightDistribution::Rademacher,
                WeightDistribution::Laplace,
                WeightDistribution::StudentT { nu: 5.0 },
            ],
            distribution_teachers: 500,
            quadratic_epsilon: 1.0,
            // The paper's N = 5..40, and 60 (a wider range for the trends).
            quadratic_sizes: vec![5, 10, 20, 40, 60],
            quadratic_teachers: 8,
            erf_sizes: vec![5, 10, 20, 40, 60],
            erf_teachers: 8,
            chi_hidden: vec![3, 100],
            chi_inputs: 2,
            dynamics: true,
            chi_teachers: 4000,
            mp_shapes: vec![(30, 30), (100, 30)],
            mp_teachers: 400,
            rank_quadratic_max: 6,
            rank_cubic: vec![0.0, 1.0, 0.5, 0.25],
            rank_quartic: vec![0.0, 1.0, 0.5, 0.25, 0.125],
            rank_poly_inputs: vec![1, 2, 3, 4],
            rank_poly_hidden: vec![1, 2, 4, 8, 16],
            rank_erf_shapes: vec![
                (2, 2),
                (3, 3),
                (5, 5),
                (10, 10),
                (20, 20),
                (40, 40),
                (10, 40),
                // Few inputs, many hidden units: λ_min/λ_max falls below float64's resolution,
                // and the report says so instead of claiming a rank deficit.
                (3, 12),
                (2, 20),
            ],
            shape_families: vec![(1, 4), (1, 2), (2, 1), (3, 1)],
            family_scales: vec![5, 10, 20],
            family_teachers: 6,
            large_n_sizes: vec![50, 100, 200],
            large_n_probes: 10,
            large_n_steps: 60,
            large_n_teachers: 2,
            large_n_figures: vec!["fig4".into(), "fig5".into()],
        }
    }

    /// Smaller ensembles and sizes: the whole run takes seconds.
    pub fn quick() -> Self {
        Self {
            quick: true,
            bins: 30,
            linear_teachers: 120,
            distribution_teachers: 60,
            quadratic_sizes: vec![4, 8, 12],
            // Five: the fewest a bootstrap standard error is trusted with.
            quadratic_teachers: 5,
            erf_sizes: vec![4, 8, 12],
            erf_teachers: 5,
            chi_teachers: 600,
            mp_teachers: 40,
            rank_quadratic_max: 4,
            rank_poly_inputs: vec![1, 2, 3],
            rank_poly_hidden: vec![1, 2, 4, 8],
            rank_erf_shapes: vec![(2, 2), (3, 3), (5, 5), (10, 10)],
            // Still (5, 20), (10, 20), (20, 10), (30, 10) among the shapes.
            family_scales: vec![5, 10],
            family_teachers: 5,
            large_n_sizes: vec![20, 40],
            large_n_probes: 6,
            large_n_steps: 30,
            // At N = 20, 40 the teachers' spread dominates: measure it.
            large_n_teachers: 3,
            ..Self::paper()
        }
    }

    /// Refuses empty lists, zero sizes or counts, and a non-finite ε, naming the field.
    pub fn validate(&self) -> Result<()> {
        let bad = |what: &str| Err(Error::Invalid(format!("config: {what}")));
        if self.bins == 0 {
            return bad("bins must be at least 1");
        }
        for (name, n) in [
            ("linear_teachers", self.linear_teachers),
            ("distribution_teachers", self.distribution_teachers),
            ("quadratic_teachers", self.quadratic_teachers),
            ("erf_teachers", self.erf_teachers),
            ("chi_teachers", self.chi_teachers),
            ("chi_inputs", self.chi_inputs),
            ("mp_teachers", self.mp_teachers),
            ("rank_quadratic_max", self.rank_quadratic_max),
            ("family_teachers", self.family_teachers),
        ] {
            if n == 0 {
                return bad(&format!("{name} must be at least 1"));
            }
        }
        if self.chi_teachers < 2 || self.linear_teachers < 2 {
            return bad("chi_teachers and linear_teachers must be at least 2");
        }
        for (name, v) in [
            ("linear_shapes", &self.linear_shapes),
            ("mp_shapes", &self.mp_shapes),
            ("rank_erf_shapes", &self.rank_erf_shapes),
            ("shape_families", &self.shape_families),
        ] {
            if v.iter().any(|&(a, b)| a == 0 || b == 0) {
                return bad(&format!("{name} has a zero size"));
            }
            // An empty list would silently drop its claims.
            if v.is_empty() && name != "shape_families" {
                return bad(&format!(
                    "{name} must not be empty (its claims would be dropped)"
                ));
            }
        }
        if self.linear_shapes.len() < 2 {
            return bad("linear_shapes needs two shapes (Figures 8 and 9 use the first two)");
        }
        if self.distributions.is_empty() {
            return bad("distributions must not be empty (the Figure 8–9 claims would be dropped)");
        }
        for (name, v) in [
            ("quadratic_sizes", &self.quadratic_sizes),
            ("erf_sizes", &self.erf_sizes),
            ("chi_hidden", &self.chi_hidden),
            ("rank_poly_inputs", &self.rank_poly_inputs),
            ("rank_poly_hidden", &self.rank_poly_hidden),
            ("family_scales", &self.family_scales),
        ] {
            if v.is_empty() || v.contains(&0) {
                return bad(&format!(
                    "{name} must be a non-empty list of positive sizes"
                ));
            }
        }
        for (name, v) in [
            ("quadratic_sizes", &self.quadratic_sizes),
            ("erf_sizes", &self.erf_sizes),
            ("family_scales", &self.family_scales),
        ] {
            let mut d = v.clone();
            d.sort_unstable();
            d.dedup();
            if d.len() < 2 {
                return bad(&format!(
                    "{name} needs at least two different sizes (trends are checked)"
                ));
            }
        }
        if !self.quadratic_epsilon.is_finite() || self.quadratic_epsilon == 0.0 {
            return bad("quadratic_epsilon must be finite and non-zero");
        }
        for d in &self.distributions {
            d.validate()?;
        }
        super::large_n::validate(self)?;
        for (name, c) in [
            ("rank_cubic", &self.rank_cubic),
            ("rank_quartic", &self.rank_quartic),
        ] {
            if c.len() < 2 || c.iter().any(|x| !x.is_finite()) || c.last() == Some(&0.0) {
                return bad(&format!(
                    "{name} must be finite coefficients with a non-zero leading one"
                ));
            }
        }
        Ok(())
    }
}
