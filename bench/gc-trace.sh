#!/usr/bin/env bash
# What the peak RSS of a large wait is made of: one Job of N pods (default
# 5,000) on the local control plane (npm run cluster:up), ours waiting for
# phase Succeeded with Node's --trace-gc. Prints the peak RSS and CPU
# (GNU time), the live heap after each full GC (Mark-Compact), the heap V8
# kept committed, and how many young-generation GCs (Scavenge) ran.
#
#   bash bench/gc-trace.sh [N]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
N=${1:-5000}
KC=${KUBECONFIG_ADMIN:-$ROOT/.cluster/admin.kubeconfig}
NODE=$ROOT/node_modules/node/bin/node
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
name=gc-trace-$RANDOM
cat > "$work/job.json" <<JOB
{"apiVersion":"batch/v1","kind":"Job","metadata":{"name":"$name","namespace":"default"},
 "spec":{"completions":$N,"parallelism":$N,"backoffLimit":0,
  "template":{"metadata":{"annotations":{"sim.kjw.dev/start-ms":"200","sim.kjw.dev/run-ms":"2000"}},
   "spec":{"restartPolicy":"Never","containers":[{"name":"c","image":"x"}]}}}}
JOB
kubectl --kubeconfig "$KC" apply -f "$work/job.json" > /dev/null
touch "$work/output" "$work/summary"
env -i PATH="$PATH" HOME="$work" KUBECONFIG="$KC" GITHUB_OUTPUT="$work/output" GITHUB_STEP_SUMMARY="$work/summary" \
  RUNNER_TEMP="$work" INPUT_JOB="$name" INPUT_NAMESPACE=default INPUT_PHASE=Succeeded INPUT_TIMEOUT=600s \
  /usr/bin/time -f 'peak RSS %M KiB, CPU %U s user + %S s sys, %e s' \
  "$NODE" --trace-gc "$ROOT/dist/index.js" > "$work/gc.log" 2> "$work/time.log" || true
kubectl --kubeconfig "$KC" delete job "$name" --wait=false > /dev/null
grep -h '^result<<' -A1 "$work/output" | tail -1 | sed 's/^/result: /'
tail -1 "$work/time.log"
# "Mark-Compact 21.0 (149.8) -> 15.2 (146.2) MB": used (committed) before -> after; a line
# not of this form (at 10,000 pods some were) is left out, not read as numbers
grep 'Mark-Compact' "$work/gc.log" | sed -nE 's/.*Mark-Compact [0-9.]+ \(([0-9.]+)\) -> ([0-9.]+) \(([0-9.]+)\) MB.*/\2 \3/p' |
  awk '{ if (min == "" || $1 < min) min = $1; if ($1 > max) max = $1; if ($2 > c) c = $2; n++ }
       END { printf "full GCs: %d; live heap after them %s to %s MB; committed up to %s MB\n", n, min, max, c }'
grep -c 'Scavenge' "$work/gc.log" | sed 's/^/young-generation GCs (Scavenge): /'
grep 'Scavenge' "$work/gc.log" | sed -nE 's/.*Scavenge ([0-9.]+) \(([0-9.]+)\) -> ([0-9.]+).*/\1 \3/p' |
  awk '{ d += $1 - $2; n++ } END { if (n) printf "freed by them: %.0f MB in all, %.1f MB each on average\n", d, d / n }'
