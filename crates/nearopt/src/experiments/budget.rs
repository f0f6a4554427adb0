//! What a [`ReproduceConfig`] implies before it runs: the peak memory and the work, estimated
//! from the shapes and counts of every experiment, so that a configuration that cannot fit or
//! cannot finish in reasonable time is refused at once (issue 8) instead of aborting on an
//! allocation or running for days.
//!
//! Model (all in `f64`/`u128` arithmetic, so no size overflows):
//! * a dense Hessian of dimension `D` costs `8·D²` bytes, and its eigenvalues about `3·8·D²`
//!   bytes while computed (matrix, band copy, workspace) — `4·8·D²` with the erf certificate's
//!   second matrix; as many are alive as rayon has workers (at most the teacher count);
//! * its work is `D³` "flop units" for the eigenvalues plus `Nh²·Ni²` for the assembly;
//! * pooled eigenvalues cost 24 bytes each (value, CDF value, sort copy), histograms 8 bytes
//!   per bin per series.
//!
//! Figure 3 (dynamics) and the polynomial rank grid are estimated by their own modules' sizes
//! (small, fixed by their configurations) and not counted here.

use super::ReproduceConfig;
use crate::error::{Error, Result};

/// The largest work accepted: about 20 times the paper's configuration (about 1e12 units, a few
/// minutes on 2 cores), i.e. about an hour on such a machine.
pub const MAX_WORK: f64 = 2e13;

/// Bins above this cannot be drawn (the figures are 1000 pixels wide) and are refused.
pub const MAX_BINS: usize = 100_000;

/// Peak memory and total work of a configuration.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Estimate {
    /// Peak bytes alive at once.
    pub peak_bytes: f64,
    /// Total work in flop units (`D³` per dense eigenproblem, ...).
    pub work: f64,
    /// The experiment that sets the peak.
    pub peak_from: &'static str,
}

/// [`crate::units::readable_bytes`] of a size estimated in floating point.
fn readable_bytes(b: f64) -> String {
    crate::units::readable_bytes(b as u128)
}

fn dim(ni: usize, nh: usize) -> f64 {
    ni as f64 * nh as f64 + nh as f64
}

struct Acc {
    workers: f64,
    peak: f64,
    peak_from: &'static str,
    work: f64,
}

impl Acc {
    fn memory(&mut self, what: &'static str, bytes: f64) {
        if bytes > self.peak {
            self.peak = bytes;
            self.peak_from = what;
        }
    }
    /// `teachers` dense `D × D` eigenproblems with `copies` matrices alive per worker.
    fn dense(&mut self, what: &'static str, ni: usize, nh: usize, teachers: usize, copies: f64) {
        let d = dim(ni, nh);
        let alive = self.workers.min(teachers as f64);
        self.memory(what, alive * copies * 8.0 * d * d);
        self.work += teachers as f64 * (d * d * d + (ni as f64 * nh as f64).powi(2));
    }
}

/// Estimates `cfg` (which [`ReproduceConfig::validate`] has accepted).
pub fn estimate(cfg: &ReproduceConfig) -> Estimate {
    let mut a = Acc {
        workers: rayon::current_num_threads().max(1) as f64,
        peak: 0.0,
        peak_from: "",
        work: 0.0,
    };
    let mut pooled = 0.0f64;
    for &(ni, nh) in &cfg.linear_shapes {
        a.dense("Figure 2", ni, nh, cfg.linear_teachers, 3.0);
        pooled = pooled.max(cfg.linear_teachers as f64 * ni as f64);
    }
    for &(ni, nh) in cfg.linear_shapes.iter().take(2) {
        let n = cfg
            .distribution_teachers
            .saturating_mul(cfg.distributions.len() + 1);
        a.dense("Figures 8-9", ni, nh, n, 3.0);
        pooled = pooled.max(cfg.distribution_teachers as f64 * ni as f64);
    }
    let families = |sizes: &[usize], teachers: usize| -> Vec<(usize, usize, usize)> {
        let mut v: Vec<(usize, usize, usize)> = sizes.iter().map(|&n| (n, n, teachers)).collect();
        for &(x, y) in &cfg.shape_families {
            for &s in &cfg.family_scales {
                v.push((
                    x.saturating_mul(s),
                    y.saturating_mul(s),
                    cfg.family_teachers,
                ));
            }
        }
        v
    };
    for (ni, nh, t) in families(&cfg.quadratic_sizes, cfg.quadratic_teachers) {
        a.dense("Figure 4", ni, nh, t, 3.0);
        pooled = pooled.max(t as f64 * dim(ni, nh));
    }
    for (ni, nh, t) in families(&cfg.erf_sizes, cfg.erf_teachers) {
        a.dense("Figure 5", ni, nh, t, 4.0);
        pooled = pooled.max(t as f64 * dim(ni, nh));
    }
    for &nh in &cfg.chi_hidden {
        a.dense("Figure 6", cfg.chi_inputs, nh, cfg.chi_teachers, 3.0);
    }
    for &(ni, nh) in &cfg.mp_shapes {
        // The B block: Nh² pair moments (about 128 bytes each) and an Nh × Nh matrix.
        let (nif, nhf) = (ni as f64, nh as f64);
        let alive = a.workers.min(cfg.mp_teachers as f64);
        a.memory("Figure 7", alive * (136.0 * nhf * nhf + 8.0 * nif * nhf));
        a.work += cfg.mp_teachers as f64 * (nhf * nhf * (nif + nhf));
        pooled = pooled.max(cfg.mp_teachers as f64 * nhf.min(nif));
    }
    // The rank grids Ni, Nh ∈ 1..=rank_quadratic_max (linear and quadratic, one teacher each):
    // the largest cell dominates; Σ over the grid of D³ ≤ q² · (q² + q)³.
    let q = cfg.rank_quadratic_max as f64;
    let dq = q * q + q;
    a.memory("the rank grid", 3.0 * 8.0 * dq * dq);
    a.work += 2.0 * q * q * dq * dq * dq;
    for &(ni, nh) in &cfg.rank_erf_shapes {
        a.dense("the erf rank check", ni, nh, 1, 3.0);
    }
    // Large-N Figures 4–5 (SLQ): flops of the block products, the Lanczos vectors' bytes.
    a.work += super::large_n::estimate_flops(cfg);
    a.memory(
        "the large-N figures",
        super::large_n::estimate_peak_bytes(cfg),
    );
    a.memory("pooled eigenvalues", 24.0 * pooled);
    a.memory("histograms", 8.0 * cfg.bins as f64 * 64.0);
    Estimate {
        peak_bytes: a.peak,
        work: a.work,
        peak_from: a.peak_from,
    }
}

/// Refuses a configuration whose estimate exceeds the available memory
/// (`hessian::available_memory_bytes`, `NEAROPT_MEMORY_LIMIT`) or [`MAX_WORK`], or asks for more
/// than [`MAX_BINS`] bins; the message gives the sizes in readable units and the limit.
pub fn check(cfg: &ReproduceConfig) -> Result<Estimate> {
    if cfg.bins > MAX_BINS {
        return Err(Error::TooLarge(format!(
            "config: bins = {} is more than the {MAX_BINS} a figure can draw",
            cfg.bins
        )));
    }
    let e = estimate(cfg);
    if let Some(avail) = crate::hessian::available_memory_bytes()? {
        if e.peak_bytes > avail as f64 {
            return Err(Error::TooLarge(format!(
                "config: {} would need about {} of memory at once, but {} is available (the limit \
                 is the machine's available memory, or NEAROPT_MEMORY_LIMIT)",
                e.peak_from,
                readable_bytes(e.peak_bytes),
                readable_bytes(avail as f64)
            )));
        }
    }
    let large_n = super::large_n::estimate_flops(cfg);
    if large_n > MAX_WORK {
        return Err(Error::TooLarge(format!(
            "config: the large-N figures (large_n_sizes {:?}) would take about {:.0} min on 2 cores \
             ({large_n:.1e} flops); the limit is {MAX_WORK:.0e} (about an hour): use fewer or \
             smaller sizes, probes or steps",
            cfg.large_n_sizes,
            super::large_n::estimate_seconds(cfg) / 60.0
        )));
    }
    if e.work > MAX_WORK {
        return Err(Error::TooLarge(format!(
            "config: the run would take about {:.1e} units of work, {:.0}× the paper's configuration \
             ({:.1e}, a few minutes on 2 cores); the limit is {MAX_WORK:.0e} (about an hour): use \
             fewer teachers or smaller sizes",
            e.work,
            e.work / estimate(&ReproduceConfig::paper()).work,
            estimate(&ReproduceConfig::paper()).work
        )));
    }
    Ok(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_readable_and_never_zero() {
        assert_eq!(readable_bytes(512.0), "512 B");
        assert_eq!(readable_bytes(1536.0), "1.5 KiB");
        assert_eq!(readable_bytes(3.0 * (1u64 << 30) as f64), "3.0 GiB");
        assert!(readable_bytes(1e30).ends_with("TiB"));
    }

    #[test]
    fn the_paper_and_quick_configurations_pass_and_absurd_ones_do_not() {
        let p = check(&ReproduceConfig::paper()).unwrap();
        let q = check(&ReproduceConfig::quick()).unwrap();
        assert!(q.work < p.work && p.work < MAX_WORK / 10.0, "{p:?} {q:?}");
        // The case of issue 8: a million linear teachers (hours of work) is refused.
        for f in [
            |c: &mut ReproduceConfig| c.linear_teachers = 1_000_000,
            |c: &mut ReproduceConfig| c.chi_inputs = 1 << 40,
            |c: &mut ReproduceConfig| c.rank_quadratic_max = 1 << 30,
            |c: &mut ReproduceConfig| c.bins = 1 << 40,
            |c: &mut ReproduceConfig| c.quadratic_sizes = vec![5, 100_000],
            |c: &mut ReproduceConfig| c.family_teachers = usize::MAX,
        ] {
            let mut c = ReproduceConfig::paper();
            f(&mut c);
            let e = check(&c).unwrap_err().to_string();
            assert!(e.contains("config:"), "{e}");
        }
    }
}
