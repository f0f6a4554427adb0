use faer::linalg::matmul::matmul;
use faer::linalg::matmul::triangular::{self as tri, BlockStructure as BS};
use faer::{Accum, Mat, Par};
use std::time::Instant;
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let m: usize = args[1].parse().unwrap();
    let b: usize = args[2].parse().unwrap();
    let par = Par::rayon(2);
    let a = Mat::<f64>::from_fn(m, m, |i, j| ((i * 7 + j * 3) % 11) as f64 - 5.0);
    let v = Mat::<f64>::from_fn(m, b, |i, j| ((i * 5 + j) % 13) as f64 - 6.0);
    let mut y = Mat::<f64>::zeros(m, b);
    let mut yt = Mat::<f64>::zeros(b, m);
    let gf = |t: f64, flops: f64| flops / t / 1e9;
    let fl = 2.0 * (m * m * b) as f64;
    for _ in 0..3 {
        let t = Instant::now();
        matmul(y.as_mut(), Accum::Replace, a.as_ref(), v.as_ref(), 1.0, par);
        println!(
            "full A V          {:.1} GF/s",
            gf(t.elapsed().as_secs_f64(), fl)
        );
        let t = Instant::now();
        matmul(
            yt.as_mut(),
            Accum::Replace,
            v.transpose(),
            a.as_ref(),
            1.0,
            par,
        );
        println!(
            "full Vᵀ A         {:.1} GF/s",
            gf(t.elapsed().as_secs_f64(), fl)
        );
        let t = Instant::now();
        tri::matmul(
            y.as_mut(),
            BS::Rectangular,
            Accum::Replace,
            a.as_ref(),
            BS::TriangularLower,
            v.as_ref(),
            BS::Rectangular,
            1.0,
            par,
        );
        tri::matmul(
            y.as_mut(),
            BS::Rectangular,
            Accum::Add,
            a.transpose(),
            BS::StrictTriangularUpper,
            v.as_ref(),
            BS::Rectangular,
            1.0,
            par,
        );
        println!(
            "symm via 2 tri    {:.1} GF/s (sym flops)",
            gf(t.elapsed().as_secs_f64(), fl)
        );
        let t = Instant::now();
        tri::matmul(
            yt.as_mut(),
            BS::Rectangular,
            Accum::Replace,
            v.transpose(),
            BS::Rectangular,
            a.as_ref(),
            BS::TriangularLower,
            1.0,
            par,
        );
        tri::matmul(
            yt.as_mut(),
            BS::Rectangular,
            Accum::Add,
            v.transpose(),
            BS::Rectangular,
            a.transpose(),
            BS::StrictTriangularUpper,
            1.0,
            par,
        );
        println!(
            "symm rhs 2 tri    {:.1} GF/s (sym flops)",
            gf(t.elapsed().as_secs_f64(), fl)
        );
        let mut c = a.clone();
        let w = Mat::<f64>::from_fn(m, 2 * b, |i, j| ((i * 3 + j) % 7) as f64 - 3.0);
        let t = Instant::now();
        tri::matmul(
            c.as_mut(),
            BS::TriangularLower,
            Accum::Add,
            w.as_ref(),
            BS::Rectangular,
            w.transpose(),
            BS::Rectangular,
            -1.0,
            par,
        );
        println!(
            "syr2k lower       {:.1} GF/s (half flops)",
            gf(t.elapsed().as_secs_f64(), 2.0 * fl / 2.0)
        );
        let t = Instant::now();
        matmul(c.as_mut(), Accum::Add, w.as_ref(), w.transpose(), -1.0, par);
        println!(
            "syr2k full        {:.1} GF/s",
            gf(t.elapsed().as_secs_f64(), 2.0 * fl)
        );
    }
}
