//! Linear networks: Figure 2 (Gaussian teachers against the law `C` / the mixture, Section 3.1)
//! and Figures 8–9 (non-Gaussian teacher weights against the Gaussian prediction, App. D).

use super::common::{
    ensemble, exact_eigenvalues, histogram, ks_with_se, pdf_line, range, teacher, undecided_note,
    verdict_at_least, verdict_at_most, BOOTSTRAP_STREAM_BASE, KS_TOLERANCE,
};
use super::{common, Figure, Output, Progress, ReproduceConfig};
use crate::activation::Activation;
use crate::error::{Error, Result};
use crate::teacher::WeightDistribution;
use crate::theory::agreement::{ks_test, wasserstein1};
use crate::theory::LinearSpectrumLaw;

/// The `Ni` nonzero Hessian eigenvalues of `teachers` linear teachers with weights from `dist`,
/// pooled; checks each Hessian has exactly `Ni` eigenvalues above the rank tolerance.
pub fn linear_ensemble(
    ni: usize,
    nh: usize,
    dist: WeightDistribution,
    teachers: usize,
    seed: u64,
    experiment: u64,
    progress: &dyn Progress,
) -> Result<Vec<f64>> {
    Ok(
        linear_ensemble_per_teacher(ni, nh, dist, teachers, seed, experiment, progress)?
            .into_iter()
            .flatten()
            .collect(),
    )
}

/// As [`linear_ensemble`], one vector per teacher (for the bootstrap over teachers).
pub fn linear_ensemble_per_teacher(
    ni: usize,
    nh: usize,
    dist: WeightDistribution,
    teachers: usize,
    seed: u64,
    experiment: u64,
    progress: &dyn Progress,
) -> Result<Vec<Vec<f64>>> {
    let name = format!("linear spectra {ni}x{nh} {}", dist.name());
    let per = ensemble(teachers, &name, progress, |t| {
        let net = teacher(&Activation::Linear, ni, nh, dist, seed, experiment, t)?;
        let eig = exact_eigenvalues(&net)?;
        let r = crate::spectrum::rank(&eig, None);
        if r.rank != ni {
            return Err(Error::Numerical(format!(
                "linear Hessian {ni}x{nh} teacher {t} has rank {} (expected Ni = {ni})",
                r.rank
            )));
        }
        Ok(eig[eig.len() - ni..].to_vec())
    })?;
    Ok(per)
}

/// Figure 2: linear spectra against `C` (Ni ≤ Nh) or the χ²/C mixture (Ni > Nh).
pub fn figure2(cfg: &ReproduceConfig, progress: &dyn Progress) -> Result<Output> {
    let mut out = Output::default();
    for (k, &(ni, nh)) in cfg.linear_shapes.iter().enumerate() {
        let letter = (b'a' + k as u8) as char;
        let id = format!("fig2{letter}");
        let per = linear_ensemble_per_teacher(
            ni,
            nh,
            WeightDistribution::Normal,
            cfg.linear_teachers,
            cfg.seed,
            200 + k as u64,
            progress,
        )?;
        let law = LinearSpectrumLaw::new(ni, nh)?;
        let (ks_d, se) = ks_with_se(&per, &law, cfg.seed, BOOTSTRAP_STREAM_BASE + 200 + k as u64);
        let eig: Vec<f64> = per.into_iter().flatten().collect();
        let ks = ks_test(&eig, &law);
        let w1 = wasserstein1(&eig, &law);
        let thr = KS_TOLERANCE;
        let v = verdict_at_most(ks_d, se, thr);
        let (lo, hi) = range(&eig);
        let which = if ni <= nh {
            "the convolution C"
        } else {
            "the mixture of χ²/Nh and C"
        };
        out.figures.push(Figure {
            id: id.clone(),
            title: format!(
                "Linear Hessian spectrum, Ni={ni}, Nh={nh} ({} teachers)",
                cfg.linear_teachers
            ),
            x_label: "eigenvalue λ".into(),
            y_label: "density".into(),
            log_x: false,
            log_y: false,
            series: vec![
                histogram("Hessian eigenvalues (exact)", &eig, lo, hi, cfg.bins),
                pdf_line(&format!("theory: {which}"), &law, lo, hi, 400),
            ],
        });
        out.claims.push(
            common::claim(
                &format!("{id}-linear-spectrum"),
                &format!("Figure 2{letter}"),
                "3.1",
                &format!("linear spectrum (Ni={ni}, Nh={nh}) follows {which}"),
                "ks_distance",
                ks_d,
                thr,
                v,
                format!(
                    "{} eigenvalues pooled from {} Gaussian teachers; KS distance {:.4} ± {:.4} (bootstrap \
                     over teachers; nominal p {:.3}, not valid as eigenvalues of one teacher are correlated), \
                     Wasserstein-1 {:.4}, mean {:.4} vs law mean {:.4}. Verdict: KS ≤ {thr} (the tolerance \
                     of docs/report.md) beyond 3 standard errors.{}",
                    eig.len(),
                    cfg.linear_teachers,
                    ks_d,
                    se,
                    ks.p_value,
                    w1,
                    common::mean(&eig),
                    crate::theory::Law::mean(&law),
                    undecided_note(v, ks_d, se, thr),
                ),
            )
            .with_se(se),
        );
    }
    Ok(out)
}

/// Figures 8 (Ni=10, Nh=20: agreement) and 9 (Ni=30, Nh=10: disagreement): linear spectra for
/// non-Gaussian teacher weights against the Gaussian law (App. D). Uses the first two
/// `linear_shapes` as the Figure 8 and Figure 9 shapes.
pub fn figures8_9(cfg: &ReproduceConfig, progress: &dyn Progress) -> Result<Output> {
    let mut out = Output::default();
    let thr = KS_TOLERANCE;
    for (k, &(ni, nh)) in cfg.linear_shapes.iter().take(2).enumerate() {
        let (fig, agree) = if k == 0 { ("8", true) } else { ("9", false) };
        let law = LinearSpectrumLaw::new(ni, nh)?;
        let gauss = linear_ensemble(
            ni,
            nh,
            WeightDistribution::Normal,
            cfg.distribution_teachers,
            cfg.seed,
            800 + 100 * k as u64,
            progress,
        )?;
        let ks_gauss = ks_test(&gauss, &law).distance;
        for (j, &dist) in cfg.distributions.iter().enumerate() {
            let experiment = 801 + 100 * k as u64 + j as u64;
            let per = linear_ensemble_per_teacher(
                ni,
                nh,
                dist,
                cfg.distribution_teachers,
                cfg.seed,
                experiment,
                progress,
            )?;
            let (ks_d, se) = ks_with_se(&per, &law, cfg.seed, BOOTSTRAP_STREAM_BASE + experiment);
            let eig: Vec<f64> = per.into_iter().flatten().collect();
            let w1 = wasserstein1(&eig, &law);
            let slug: String = dist
                .name()
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect();
            let id = format!("fig{fig}-{slug}");
            let (lo, hi) = range(&eig);
            out.figures.push(Figure {
                id: id.clone(),
                title: format!(
                    "Linear spectrum, {} teacher weights, Ni={ni}, Nh={nh}",
                    dist.name()
                ),
                x_label: "eigenvalue λ".into(),
                y_label: "density".into(),
                log_x: false,
                log_y: false,
                series: vec![
                    histogram(&format!("{} teachers", dist.name()), &eig, lo, hi, cfg.bins),
                    pdf_line("Gaussian-teacher prediction", &law, lo, hi, 400),
                ],
            });
            let v = if agree {
                verdict_at_most(ks_d, se, thr)
            } else {
                verdict_at_least(ks_d, se, thr)
            };
            out.claims.push(
                common::claim(
                &id,
                &format!("Figure {fig}"),
                "App. D",
                &format!(
                    "{} teacher weights {} the Gaussian prediction at Ni={ni}, Nh={nh}",
                    dist.name(),
                    if agree {
                        "agree with"
                    } else {
                        "visibly differ from"
                    }
                ),
                "ks_distance",
                ks_d,
                thr,
                v,
                format!(
                    "{} teachers; KS {:.4} ± {:.4} (bootstrap over teachers; Gaussian-teacher control: \
                     {:.4}, the finite-sample and finite-N floor), Wasserstein-1 {:.4}. Paper expects {} \
                     (KS {} {thr} beyond 3 standard errors).{}",
                    cfg.distribution_teachers,
                    ks_d,
                    se,
                    ks_gauss,
                    w1,
                    if agree { "agreement" } else { "disagreement" },
                    if agree { "≤" } else { "≥" },
                    undecided_note(v, ks_d, se, thr),
                ),
            )
            .with_se(se),
            );
        }
    }
    Ok(out)
}
