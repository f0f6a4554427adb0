//! Over-parameterised students (`nearopt::students`, `experiments::overparam`): the students
//! compute the teacher's function (forward pass written here), the derived flat directions are
//! null vectors of the exact Hessian, the certified ranks equal the derived predictions, the exact
//! Hessian equals the sampled Hessian with its functional term within the Monte Carlo error, and
//! each check fails where it should (a student off the optimum, a direction that is not flat).

use nearopt::experiments::overparam::{self, OverparamConfig};
use nearopt::experiments::{NoProgress, Verdict};

#[test]
fn quick_experiment_every_claim_reproduced() {
    let cfg = OverparamConfig::quick();
    let rows = overparam::measure(&cfg, &NoProgress).unwrap();
    for r in &rows {
        println!(
            "{:9} {:6} Ni={} Nh={} K={} D={:2} rank={:2}{} pred={:?} teacher={} flat={:2} res={:.1e} lmin={:.4e} lmax={:.4e} refdev={:?} z={:.2} mis={:.1e}",
            r.activation, r.optimum.name(), r.ni, r.nh, r.width, r.dim, r.rank,
            if r.certified { "" } else { "?" }, r.predicted_rank, r.teacher_rank,
            r.flat_directions, r.flat_residual, r.lambda_min, r.lambda_max,
            r.reference_deviation, r.mc_max_z, r.output_mismatch
        );
    }
    let (_, claims) = overparam::summarize(&rows);
    for c in &claims {
        println!("{} {:?} {} | {}", c.id, c.verdict, c.value, c.note);
    }
    for c in &claims {
        assert_eq!(c.verdict, Verdict::Reproduced, "{}: {}", c.id, c.note);
    }
}
