#!/usr/bin/env bash
# A demo of kube-job-wait on the local control plane (test/cluster/): applies
# a sample Job, runs the bundled action (dist/index.js) against it the way the
# GitHub runner does, and prints the step log, the outputs and the job
# summary markdown of each run.
#
#   npm run demo            # test/demo/job.yaml: 3 pods that run ~3 s, one of
#                           # them fails and is replaced; waits for Running,
#                           # then for condition Finished with logs: follow
#                           # (both met); then test/demo/create.yaml in one
#                           # step: created from the manifest input, its logs
#                           # followed, deleted on success (met)
#   npm run demo -- fail    # test/demo/fail-crash.yaml: a Job whose pods exit 3
#                           # (condition Complete → failed, with their log);
#                           # test/demo/fail-imagepull.yaml: a Job stuck in
#                           # ImagePullBackOff (phase Running, pod-error-grace
#                           # 10s → failed)
#   npm run demo -- several # test/demo/several.yaml: three Jobs of a release,
#                           # one of which exits 3; waits for all three by name
#                           # with fail-fast false (failed: two met, one failed),
#                           # then, applied again, by selector release=kjw-demo
#                           # with expected-jobs 3 and delete on-success (failed
#                           # at once, fail-fast: nothing deleted)
#
# Works on a fresh clone after `npm ci`: builds what is missing (the cluster
# binaries through up.sh, dist/ through `npm run bundle`), starts the cluster
# and stops it on the way out, unless it was already up (then it stays up and
# only the demo's Jobs are deleted). KJW_DEMO_OUT=DIR also writes each
# summary to DIR/<job>-<n>.md. Exits 0 when every run ended with the result the
# demo expects (met, met, met; failed, failed; failed, failed), 1 otherwise.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
export PATH="$ROOT/node_modules/.bin:$PATH"
source "$ROOT/test/cluster/lib.sh"
DEMO="$ROOT/test/demo"
variant=${1:-ok}
case "$variant" in
  ok) manifests=("$DEMO/job.yaml" "$DEMO/create.yaml") ;;
  fail) manifests=("$DEMO/fail-crash.yaml" "$DEMO/fail-imagepull.yaml") ;;
  several) manifests=("$DEMO/several.yaml") ;;
  *) echo "usage: bash test/demo/run.sh [ok|fail|several]" >&2; exit 2 ;;
esac

say() { printf '\n\033[1m[demo] %s\033[0m\n' "$*"; }
kc() { kubectl --kubeconfig "$STATE/admin.kubeconfig" "$@"; }

was_up=0
if [ -f "$STATE/kubelet-sim.ready" ] && apiserver_ready; then
  was_up=1
  for c in "${COMPONENTS[@]}"; do pid_of "$c" >/dev/null || was_up=0; done
fi
finish() {
  if [ "$was_up" = 1 ]; then
    for m in "${manifests[@]}"; do kc delete -f "$m" --ignore-not-found --wait=false >/dev/null 2>&1 || true; done
    say "the cluster was up before: leaving it up (npm run cluster:down stops it)"
  else
    bash "$ROOT/test/cluster/down.sh" || true
  fi
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [ ! -f dist/index.js ]; then
  say "no dist/index.js: npm run bundle"
  npm run -s bundle || exit 1
fi
bash "$ROOT/test/cluster/up.sh" || exit 1

runs=0
unexpected=0
# run_action EXPECTED TITLE INPUT=VALUE...: dist/index.js with INPUT_* variables and
# fresh GITHUB_OUTPUT / GITHUB_STEP_SUMMARY files, as the runner does; the
# kubeconfig input is the admin kubeconfig (as from secrets.KUBECONFIG).
run_action() {
  local expected=$1 title=$2; shift 2
  local dir kv name job=""
  dir=$(mktemp -d)
  : >"$dir/output"; : >"$dir/summary"
  local -a envs=(PATH="$PATH" HOME="$dir" RUNNER_TEMP="$dir" GITHUB_OUTPUT="$dir/output" GITHUB_STEP_SUMMARY="$dir/summary")
  for kv in "$@"; do
    name=${kv%%=*}
    [ "$name" = job ] && job=${kv#*=} && job=${job%%,*}
    [ "$name" = selector ] && [ -z "$job" ] && job=selector
    envs+=("INPUT_$(printf '%s' "$name" | tr '[:lower:]' '[:upper:]')=${kv#*=}")
  done
  envs+=("INPUT_KUBECONFIG=$(cat "$STATE/admin.kubeconfig")")
  runs=$((runs + 1))
  say "run $runs: $title"
  printf '  with:\n'; printf '    %s\n' "${@/=/: }"; printf '    kubeconfig: (admin kubeconfig)\n'
  say "step log"
  # ::add-mask:: commands carry the secrets to the runner, which shows none of them
  env -i "${envs[@]}" "$NODE_BIN" "$ROOT/dist/index.js" | grep -v '^::add-mask::'
  local rc=${PIPESTATUS[0]}
  say "exit code $rc; outputs"
  # the runner's file format: name<<DELIMITER, value lines, DELIMITER
  awk '
    !d && match($0, /^[^=<]+<</) { n = substr($0, 1, RLENGTH - 2); d = substr($0, RLENGTH + 1); v = ""; first = 1; next }
    d && $0 == d { printf "%s: %s\n", n, v; d = ""; next }
    d { v = first ? $0 : v "\n" $0; first = 0 }
  ' "$dir/output"
  say "job summary (markdown)"
  cat "$dir/summary"
  local result
  result=$(awk '!d && /^result<</ { d = substr($0, 9); next } d && $0 == d { exit } d { print }' "$dir/output")
  if [ "$result" != "$expected" ]; then
    say "UNEXPECTED: result '$result', the demo expects '$expected'"
    unexpected=$((unexpected + 1))
  fi
  if [ -n "${KJW_DEMO_OUT:-}" ]; then
    mkdir -p "$KJW_DEMO_OUT"
    cp "$dir/summary" "$KJW_DEMO_OUT/${job:-run}-$runs.md"
  fi
  rm -rf "$dir"
}

apply() { # a fresh copy of the manifest's Jobs (a demo run before may have left them)
  say "kubectl apply -f test/demo/$(basename "$1")"
  kc delete -f "$1" --ignore-not-found --wait=true >/dev/null 2>&1 || true
  kc apply -f "$1" || exit 1
}

if [ "$variant" = ok ]; then
  apply "$DEMO/job.yaml"
  run_action met "wait until the pods run" job=kjw-demo namespace=kjw-e2e phase=Running timeout=2m
  run_action met "wait until the Job finishes, its logs followed" job=kjw-demo namespace=kjw-e2e condition=Finished timeout=2m logs=follow
  run_action met "one step, no kubectl apply: create the Job from the manifest input, follow its logs, delete it on success" \
    manifest="$(cat "$DEMO/create.yaml")" condition=Finished timeout=2m logs=follow delete=on-success
elif [ "$variant" = several ]; then
  apply "$DEMO/several.yaml"
  run_action failed "three Jobs of a release, one of which fails: wait for all of them (fail-fast false)" \
    job=kjw-demo-migrate,kjw-demo-seed,kjw-demo-smoke namespace=kjw-e2e condition=Complete fail-fast=false timeout=2m
  apply "$DEMO/several.yaml"
  run_action failed "the same Jobs applied again, by selector: fail fast, delete on success (so nothing is deleted)" \
    selector=release=kjw-demo expected-jobs=3 namespace=kjw-e2e condition=Complete delete=on-success timeout=2m
else
  apply "$DEMO/fail-crash.yaml"
  run_action failed "a Job whose pods exit 3: wait for condition Complete" job=kjw-demo-crash namespace=kjw-e2e condition=Complete timeout=2m
  apply "$DEMO/fail-imagepull.yaml"
  run_action failed "a Job whose image cannot be pulled: wait for Running" job=kjw-demo-imagepull namespace=kjw-e2e phase=Running pod-error-grace=10s timeout=2m
fi
[ "$unexpected" = 0 ] || { say "$unexpected run(s) did not end as the demo expects"; exit 1; }
exit 0
