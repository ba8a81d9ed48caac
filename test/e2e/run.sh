#!/usr/bin/env bash
# End-to-end tests: the bundled action (dist/index.js) against the local
# control plane. Starts the cluster (test/cluster/up.sh, which builds missing
# binaries), runs jest with jest.e2e.config.js one scenario at a time, and
# stops the cluster again on every way out, unless it was already up when this
# script started (then it stays up, so that a developer can iterate).
#
#   npm run test:e2e                               # everything
#   npm run test:e2e -- -t "ImagePullBackOff"      # scenarios whose name matches
#   npm run test:e2e -- test/e2e/credentials.test.ts
#
# Arguments go to jest. Exit code: jest's (or up.sh's when the cluster cannot
# start). Each action run's stdout, outputs and summary are kept in
# .cluster/e2e-runs/ for inspection.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
# Node 24 from node_modules (npm scripts put it first on PATH; so does this,
# for bash test/e2e/run.sh run by hand).
export PATH="$ROOT/node_modules/.bin:$PATH"
source "$ROOT/test/cluster/lib.sh"

say() { printf '[e2e] %s\n' "$*"; }

was_up=0
if [ -f "$STATE/kubelet-sim.ready" ] && apiserver_ready; then
  was_up=1
  for c in "${COMPONENTS[@]}"; do pid_of "$c" >/dev/null || was_up=0; done
fi

stop_cluster() {
  if [ "$was_up" = 1 ]; then
    say "the cluster was up before: leaving it up (npm run cluster:down stops it)"
  else
    bash "$ROOT/test/cluster/down.sh" || true
  fi
}
trap stop_cluster EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [ ! -f dist/index.js ]; then
  say "no dist/index.js: npm run bundle"
  npm run -s bundle || exit 1
fi

t0=$(date +%s)
bash "$ROOT/test/cluster/up.sh" || { say "the cluster did not start"; exit 1; }
rm -rf "$STATE/e2e-runs"

NODE_OPTIONS="${NODE_OPTIONS:+$NODE_OPTIONS }--experimental-vm-modules --disable-warning=ExperimentalWarning" \
  jest -c jest.e2e.config.js --runInBand "$@"
rc=$?
say "jest exited $rc after $(( $(date +%s) - t0 ))s (cluster start included)"
exit "$rc"
