//! The batched population-Hessian product (`nearopt::hessian::batched`) against the reference
//! `PopulationHessian::matvec` and the dense matrix, and its determinism: a block of `k`
//! products equals `k` single products bit for bit, whatever the thread count.

use nearopt::hessian::batched::{BatchedPopulationHessian, BlockOperator, SUB_TILE, UNIT_BLOCK};
use nearopt::hessian::{HessianOperator, PopulationHessian};
use nearopt::rng::stream;
use nearopt::teacher::{sample_teacher, WeightDistribution};
use nearopt::Activation;
use rand_distr::{Distribution, StandardNormal};

fn vectors(d: usize, k: usize, seed: u64) -> Vec<f64> {
    let mut rng = stream(seed, 7);
    (0..d * k)
        .map(|_| StandardNormal.sample(&mut rng))
        .collect()
}

/// `max_i |x_i − y_i|`.
fn max_diff(x: &[f64], y: &[f64]) -> f64 {
    x.iter()
        .zip(y)
        .fold(0.0, |m, (a, b)| f64::max(m, (a - b).abs()))
}

#[test]
fn batched_product_equals_reference_product() {
    // Shapes with Nh above UNIT_BLOCK exercise several blocks per GEMM.
    let cases = [
        (Activation::Erf, 9, 5),
        (Activation::Quadratic { epsilon: 0.7 }, 6, 11),
        (Activation::Erf, 5, UNIT_BLOCK + 23),
        (Activation::Tanh, 4, 3),
        (
            Activation::Polynomial {
                coefficients: vec![0.1, 1.0, -0.5, 0.3],
            },
            4,
            7,
        ),
    ];
    for (act, ni, nh) in cases {
        let net = sample_teacher(act.clone(), ni, nh, WeightDistribution::Normal, 3, 0).unwrap();
        let h = PopulationHessian::at_optimum(&net);
        let fast = BatchedPopulationHessian::from_population(&net, &h);
        let d = h.dim();
        let k = 3;
        let v = vectors(d, k, 11);
        let mut out = vec![0.0; d * k];
        fast.apply_block(&v, &mut out);
        // Scale of the rounding error: (|H| |v|)_i, from the dense matrix. Both routes sum the
        // same O(D) products in different groupings, so they agree to a few hundred ulps of it.
        let dense = h.dense().unwrap();
        for j in 0..k {
            let vj = &v[j * d..(j + 1) * d];
            let mut reference = vec![0.0; d];
            h.matvec(vj, &mut reference);
            let scale = (0..d)
                .map(|i| {
                    dense
                        .row(i)
                        .iter()
                        .zip(vj)
                        .map(|(a, b)| (a * b).abs())
                        .sum::<f64>()
                })
                .fold(0.0, f64::max);
            let err = max_diff(&out[j * d..(j + 1) * d], &reference);
            assert!(
                err <= 1e-13 * scale,
                "{act:?} Ni={ni} Nh={nh}: |fast − reference| = {err:e}, scale {scale:e}"
            );
            // The test can fail: a wrong coefficient in one entry shows.
            let mut wrong = reference.clone();
            wrong[d - 1] += 1e-9 * scale;
            assert!(max_diff(&out[j * d..(j + 1) * d], &wrong) > 1e-13 * scale);
        }
    }
}

#[test]
fn block_equals_single_products_bit_for_bit_for_any_thread_count() {
    // The plain product, and the one in the triangular input basis (`hessian::rotation`, whose
    // stage 1 runs SUB_TILE-wide tasks) on a network wide enough for it to skip work.
    for (ni, triangular) in [(7, false), (SUB_TILE + 7, true)] {
        let net = sample_teacher(
            Activation::Erf,
            ni,
            UNIT_BLOCK + 9,
            WeightDistribution::Normal,
            5,
            0,
        )
        .unwrap();
        let h = PopulationHessian::at_optimum(&net);
        let fast = if triangular {
            BatchedPopulationHessian::from_population_triangular(&net, &h).unwrap()
        } else {
            BatchedPopulationHessian::from_population(&net, &h)
        };
        assert_eq!(fast.is_triangular(), triangular);
        let d = BlockOperator::dim(&fast);
        let k = 5;
        let v = vectors(d, k, 2);
        let run = |threads: usize, block: usize| -> Vec<f64> {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| {
                let mut out = vec![0.0; d * k];
                for (vs, os) in v.chunks(block * d).zip(out.chunks_mut(block * d)) {
                    fast.apply_block(vs, os);
                }
                out
            })
        };
        let reference = run(1, 1);
        for (threads, block) in [(1, k), (2, k), (3, 2), (2, 1), (4, 3)] {
            let out = run(threads, block);
            let same = out
                .iter()
                .zip(&reference)
                .all(|(a, b)| a.to_bits() == b.to_bits());
            assert!(
                same,
                "triangular {triangular}, threads {threads}, block {block}: not bit-identical"
            );
        }
    }
}
