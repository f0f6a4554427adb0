//! Figure 3's quick configuration: the flow reproduces the long-time rate 2 λ_min and Eq. 7.

use nearopt::dynamics::figure3::{run, Figure3Config};
use nearopt::experiments::{NoProgress, Series, Verdict};

#[test]
fn quick_figure3_runs_and_its_linear_claims_hold() {
    let out = run(&Figure3Config::quick(), &NoProgress).unwrap();
    for c in &out.claims {
        eprintln!("{} {} {:?} {}", c.id, c.value, c.verdict, c.note);
    }
    let ids: Vec<&str> = out.claims.iter().map(|c| c.id.as_str()).collect();
    for id in [
        "fig3-linear-decay-rate",
        "fig3-linear-eq7",
        "fig3-erf-eq7",
        "fig3-quadratic-eq7",
        "fig3-sigma-sweep",
    ] {
        assert!(ids.contains(&id), "missing claim {id}");
    }
    assert!(out.claims.iter().all(|c| c.id.starts_with("fig3")));
    let lin = out.cases.iter().find(|c| c.name == "linear").unwrap();
    // Linear network: the late-time fit sees one mode (4 decades of decay reached), so the
    // rate is 2 λ_min up to the O(σ0) shift of the Hessian along the run and the integrator
    // tolerance: 2% as in the issue.
    assert!(lin.asymptotic_decay < 1e-3);
    assert!(
        lin.rate_deviation.abs() < 0.02,
        "rate deviation {}",
        lin.rate_deviation
    );
    // Nonlinear corrections: the Hessian moves by O(σ0) = 1e-3 relative along the run, which
    // shifts ln L by O(σ0 · 2 λ t) ≲ 1e-3 × ln(1e4) ≈ 1e-2 at the end; 5e-2 is the bound.
    for c in &out.cases {
        assert!(
            c.nonlinear_deviation < 5e-2,
            "{}: nonlinear deviation {}",
            c.name,
            c.nonlinear_deviation
        );
        // Eq. 7 vs the mean of 64 draws: within 5 standard errors plus the nonlinear part.
        assert!(
            c.eq7_deviation < 5.0 * c.eq7_stderr_at_worst + c.nonlinear_deviation,
            "{}: Eq. 7 deviation {} with relative standard error {}",
            c.name,
            c.eq7_deviation,
            c.eq7_stderr_at_worst
        );
    }
    // Linear network: λ_min is O(1), so the O(σ0) functional term and drift move the tracked
    // eigenvalue by well under 5%. The functional term's eigenvalues scale with the residual,
    // i.e. with √L: after 4 decades of loss they have shrunk ~100-fold, so the most negative
    // eigenvalue must have shrunk at least tenfold and the rank cannot have grown.
    for cp in &lin.hessian_trajectory {
        assert!(
            (cp.lambda_tracked / lin.lambda_min - 1.0).abs() < 0.05,
            "linear: {cp:?}"
        );
    }
    let (first, last) = (
        &lin.hessian_trajectory[0],
        lin.hessian_trajectory.last().unwrap(),
    );
    assert!(first.most_negative < 0.0, "{first:?}");
    assert!(
        last.most_negative.abs() <= 0.1 * first.most_negative.abs(),
        "{first:?} → {last:?}"
    );
    assert!(
        last.rank <= first.rank && last.rank >= lin.rank,
        "{first:?} → {last:?}"
    );
    let sweep = out
        .figures
        .iter()
        .find(|f| f.id == "fig3-sigma-sweep")
        .unwrap();
    let Series::Points { y, .. } = &sweep.series[0] else {
        panic!("sweep series kind")
    };
    // The departure from the quadratic model grows with σ0 (from ~1e-3 to O(1)).
    assert!(y.last().unwrap() > &(10.0 * y[0]), "sweep {y:?}");
    let lin_claim = out
        .claims
        .iter()
        .find(|c| c.id == "fig3-linear-decay-rate")
        .unwrap();
    assert_eq!(lin_claim.verdict, Verdict::Reproduced);
}
