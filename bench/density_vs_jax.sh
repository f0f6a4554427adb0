#!/usr/bin/env bash
# The exact product of `nearopt density` against a sampled JAX Hessian-vector product
# (jvp(grad), float64, 10⁴ inputs) at the same D, measured in one run (docs/performance.md,
# "Large-scale spectra"). Usage, from the repository root:
#   python3 -m venv /tmp/jaxvenv && /tmp/jaxvenv/bin/pip install numpy jax jaxlib
#   JAX_PY=/tmp/jaxvenv/bin/python bash bench/density_vs_jax.sh [N ...]   (default 100 316 1000)
# For each N (Ni = Nh = N, D = N² + N): the Rust roofline bench (product for blocks of 1, 4, 8
# vectors), then bench/jax_hvp.py; prints the ratio JAX / exact per product, on the minimum wall
# time and on CPU seconds (the load-independent figure), with the load average.
set -euo pipefail
py="${JAX_PY:-python3}"
sizes=("$@")
[ ${#sizes[@]} -eq 0 ] && sizes=(100 316 1000)
cargo bench -p nearopt --bench density_roofline --no-run >/dev/null 2>&1
printf "%6s %10s %12s %12s %12s %12s %10s %10s %s\n" N D exact_ms exact_cpu_ms jax_ms jax_cpu_ms ratio_wall ratio_cpu load1
for n in "${sizes[@]}"; do
  load=$(cut -d' ' -f1 /proc/loadavg)
  # Enough repetitions for the 10 ms CPU-time ticks: about 3 GFLOP of products in all.
  reps=$(python3 -c "print(max(${REPS:-5}, int(3e9 / (6 * $n ** 3))))")
  rust=$(NEAROPT_BENCH_N="$n" NEAROPT_BENCH_REPS="$reps" cargo bench -q -p nearopt --bench density_roofline 2>/dev/null \
    | grep 'product k = 1 ')
  jreps=$(python3 -c "print(max(${REPS:-5}, int(2e9 / (8e4 * $n ** 2))))")
  jax=$("$py" bench/jax_hvp.py "$n" --reps "$jreps" --threads "${THREADS:-2}")
  python3 - "$n" "$rust" "$jax" "$load" <<'P'
import json, re, sys
n, rust, jax, load = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), sys.argv[4]
m = re.search(r"min\s+([\d.]+) ms.*CPU\s+([\d.]+) ms", rust)
ex, excpu = float(m.group(1)), float(m.group(2))
jw, jc = 1e3 * jax["min_s"], 1e3 * jax["cpu_s"]
print("%6s %10d %12.2f %12.2f %12.2f %12.2f %10.2f %10.2f %s" % (
    n, jax["dimension"], ex, excpu, jw, jc, jw / ex, jc / excpu, load))
P
done
