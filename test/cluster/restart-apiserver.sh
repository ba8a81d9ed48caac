#!/usr/bin/env bash
# Fault injection for tests: kill -9 kube-apiserver (its whole process group)
# and start it again with exactly the command line up.sh used
# (.cluster/kube-apiserver.args), then wait for /readyz.
#
#   restart-apiserver.sh          kill -9, start again, wait until ready
#   restart-apiserver.sh stop     kill -9 only (the API is down until "start")
#   restart-apiserver.sh start    start it again and wait until ready
# KJW_RESTART_DOWN_SECONDS=N keeps it down N seconds between kill and start.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

mode=${1:-restart}
kill9() {
  local pid i
  if pid=$(pid_of kube-apiserver); then
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    for i in $(seq 1 100); do
      group_alive "$pid" || break
      sleep 0.05
    done
    log "killed kube-apiserver (pid $pid) with SIGKILL"
  else
    log "kube-apiserver was not running"
  fi
  rm -f "$STATE/kube-apiserver.pid"
}
start() {
  local t0 i pid
  if pid=$(pid_of kube-apiserver); then log "kube-apiserver already running (pid $pid)"; return 0; fi
  pid_of etcd >/dev/null || die "etcd is not running: use up.sh"
  t0=$(date +%s.%N)
  # the old listening socket can linger for a moment after SIGKILL
  for i in $(seq 1 100); do port_busy "$APISERVER_PORT" || break; sleep 0.05; done
  start_apiserver_from_args
  wait_apiserver_ready 90
  log "$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "kube-apiserver ready again after %.1fs", b-a}')"
}
case "$mode" in
  stop) kill9 ;;
  start) start ;;
  restart)
    kill9
    sleep "${KJW_RESTART_DOWN_SECONDS:-0}"
    start ;;
  *) die "usage: $0 [restart|stop|start]" ;;
esac
