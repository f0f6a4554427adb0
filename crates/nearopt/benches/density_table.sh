#!/usr/bin/env bash
# Time and peak memory of `nearopt density` against D (docs/performance.md, "Large-scale
# spectra"): erf teachers with Ni = Nh = N, D = N² + N. Usage:
#   cargo build --release -p nearopt-cli
#   bash crates/nearopt/benches/density_table.sh [N ...]        (default: 100 316 1000)
# Each run: log density (P probes × K steps), exact Tr H and Tr H², top-20 eigenvalues; prints
# one line per N with wall time, peak RSS (/usr/bin/time -v) and the load average at the start.
# Environment: PROBES (16), STEPS (60), TOP (20), MAXBASIS (160), TOPTOL (1e-10), MEMORY (1.2G),
# THREADS (2). Also prints CPU seconds (user + sys: the load-independent cost), the load average
# after, and the top bulk's mean (exact trace − SLQ remainder; docs/density.md) with its s.e.
set -euo pipefail
bin="${NEAROPT_BIN:-target/release/nearopt}"
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
sizes=("$@")
[ ${#sizes[@]} -eq 0 ] && sizes=(100 316 1000)
printf "%6s %10s %8s %10s %12s %10s %s\n" N D wall_s peak_MiB products load1 "top bulk (log10 λ of the highest-λ peak)"
for n in "${sizes[@]}"; do
  "$bin" teacher --activation erf --ni "$n" --nh "$n" --seed 1 --out "$dir/net$n.json" 2>/dev/null
  load=$(cut -d' ' -f1 /proc/loadavg)
  /usr/bin/time -v "$bin" --threads "${THREADS:-2}" density --network "$dir/net$n.json" --json \
    --probes "${PROBES:-16}" --steps "${STEPS:-60}" --top "${TOP:-20}" \
    --max-basis "${MAXBASIS:-160}" --top-tol "${TOPTOL:-1e-10}" --memory "${MEMORY:-1.2G}" \
    >"$dir/out$n.json" 2>"$dir/time$n.txt"
  wall=$(python3 -c "import json;print('%.1f'%json.load(open('$dir/out$n.json'))['seconds'])")
  rss=$(awk -F: '/Maximum resident/ {printf "%.0f", $2/1024}' "$dir/time$n.txt")
  cpu=$(awk -F: '/User time|System time/ {s += $2} END {printf "%.1f", s}' "$dir/time$n.txt")
  after=$(cut -d' ' -f1 /proc/loadavg)
  python3 - "$dir/out$n.json" "$n" "$wall" "$rss" "$load" "$cpu" "$after" <<'P'
import json, sys
r = json.load(open(sys.argv[1]))
print("  N=%s: CPU %s s, load %s -> %s, top bulk mean %.6f ± %.1e (SLQ count above split %.1f of %d), median %.5f ± %.1e" % (
    sys.argv[2], sys.argv[6], sys.argv[5], sys.argv[7], r["top_bulk_mean"], r["top_bulk_mean_se"],
    r["top_bulk_count_slq"], r["top_bulk_count"], r["top_bulk_median"], r["top_bulk_median_se"]))
peaks = r["log_peaks"]
top = "%.4f" % peaks[-1][0] if peaks else "-"
print("%6s %10d %8s %10s %12d %10s %s  (λ_max %.6e ± %.1e, converged %d/%d, Tr H %.6e, SLQ %.6e ± %.1e)" % (
    sys.argv[2], r["dimension"], sys.argv[3], sys.argv[4], r["products"], sys.argv[5], top,
    r["top_eigenvalues"][0], r["top_residual_bounds"][0], sum(r["top_converged"]),
    len(r["top_converged"]), r["trace"], r["slq_trace"], r["slq_trace_se"]))
P
done
