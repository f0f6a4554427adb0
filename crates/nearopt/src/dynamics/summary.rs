//! What a training run is compared with: paper Eq. 7, the long-time law, the quadratic model of
//! the first draw and the fitted late-time decay rate — one computation for `nearopt train` and
//! the Python package's `nearopt.train`.

use super::predict::{fitted_decay_rate, Prediction};

/// The predictions on a run's time grid and how the run's mean loss compares with them.
#[derive(Clone, Debug, PartialEq)]
pub struct RunSummary {
    /// Eq. 7, `⟨L(t)⟩ = σ0²/2 Tr(e^{−2Ht} H)`, at each time.
    pub eq7: Vec<f64>,
    /// The long-time law `α e^{−2 λ_min t}`, `α` set by the mean loss at the last time.
    pub asymptote: Vec<f64>,
    /// The quadratic model `½ Σ_i λ_i e^{−2 λ_i t} (u_iᵀ δ0)²` of the first draw.
    pub draw0_quadratic_model: Vec<f64>,
    /// The decay rate of the mean loss fitted on `[t_end/2, t_end]` (None when the fit is not
    /// possible: fewer than 3 points, or a loss that is not positive).
    pub fitted_rate: Option<f64>,
    /// `fitted_rate / (2 λ_min) − 1` (Eq. 7's late-time rate is `2 λ_min`).
    pub rate_relative_deviation: Option<f64>,
    /// `max_t |mean − Eq. 7| / Eq. 7`.
    pub eq7_max_relative_deviation: f64,
}

/// The [`RunSummary`] of a run with mean loss `mean` on `times` (ascending, not empty), started
/// at `teacher + δ0` with `δ0 ~ N(0, σ0²)` (`delta0` the first draw's), against `pred`.
/// Cost `O(T · r)` for `T` times and rank `r`.
pub fn summarize(
    pred: &Prediction,
    sigma0: f64,
    times: &[f64],
    mean: &[f64],
    delta0: &[f64],
) -> RunSummary {
    let eq7: Vec<f64> = times.iter().map(|&t| pred.eq7(sigma0, t)).collect();
    let (t_end, l_end) = match (times.last(), mean.last()) {
        (Some(&t), Some(&l)) => (t, l),
        _ => (0.0, 0.0),
    };
    let asym = pred.asymptote(t_end, l_end);
    let asymptote = times.iter().map(|&t| asym(t)).collect();
    let p0 = pred.projections(delta0);
    let draw0_quadratic_model = times
        .iter()
        .map(|&t| pred.quadratic_model(&p0, t))
        .collect();
    let fitted_rate = fitted_decay_rate(times, mean, 0.5 * t_end, t_end).ok();
    let eq7_max_relative_deviation = mean
        .iter()
        .zip(&eq7)
        .map(|(m, e)| (m - e).abs() / e)
        .fold(0.0, f64::max);
    RunSummary {
        eq7,
        asymptote,
        draw0_quadratic_model,
        fitted_rate,
        rate_relative_deviation: fitted_rate.map(|r| r / (2.0 * pred.lambda_min) - 1.0),
        eq7_max_relative_deviation,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hessian::DenseMatrix;

    /// `H = diag(1, 3, 0)`: Eq. 7 and the quadratic model in closed form, a run that follows
    /// Eq. 7 exactly, and one that decays at another rate.
    #[test]
    fn summary_of_a_run_on_a_diagonal_hessian() {
        let h =
            DenseMatrix::from_row_major(3, 3, vec![1.0, 0.0, 0.0, 0.0, 3.0, 0.0, 0.0, 0.0, 0.0]);
        let pred = Prediction::new(&h).unwrap();
        let sigma0 = 0.1;
        let times: Vec<f64> = (0..=40).map(|i| 0.25 * i as f64).collect();
        let closed = |t: f64| 0.5 * sigma0 * sigma0 * ((-2.0 * t).exp() + 3.0 * (-6.0 * t).exp());
        let mean: Vec<f64> = times.iter().map(|&t| closed(t)).collect();
        let delta0 = [0.2, -0.1, 5.0];
        let s = summarize(&pred, sigma0, &times, &mean, &delta0);
        for (i, &t) in times.iter().enumerate() {
            assert!((s.eq7[i] - closed(t)).abs() <= 1e-14 * closed(t));
            // ½ Σ λ e^{−2λt} (u·δ0)², the null direction (5.0) not counted.
            let q = 0.5 * (0.04 * (-2.0 * t).exp() + 3.0 * 0.01 * (-6.0 * t).exp());
            assert!((s.draw0_quadratic_model[i] - q).abs() <= 1e-14 * q);
        }
        assert!(s.eq7_max_relative_deviation <= 1e-14);
        // Late times: the 3·e^{−6t} term is below e^{−20} of the total, so the rate is 2 λ_min.
        let rate = s.fitted_rate.unwrap();
        assert!((rate - 2.0).abs() < 1e-7, "{rate}");
        assert!(s.rate_relative_deviation.unwrap().abs() < 1e-7);
        let last = *mean.last().unwrap();
        assert!((s.asymptote.last().unwrap() - last).abs() <= 1e-15 * last);
        // A run that decays twice as fast is told apart.
        let fast: Vec<f64> = mean
            .iter()
            .zip(&times)
            .map(|(m, t)| m * (-2.0 * t).exp())
            .collect();
        let f = summarize(&pred, sigma0, &times, &fast, &delta0);
        assert!((f.rate_relative_deviation.unwrap() - 1.0).abs() < 1e-6);
        assert!(f.eq7_max_relative_deviation > 0.9);
    }
}
