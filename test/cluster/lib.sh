# Shared by up.sh, down.sh and restart-apiserver.sh (sourced, not run).
# Paths, ports and small helpers for the local control plane.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE="$ROOT/test/cluster"
BIN="$HERE/bin"
STATE="${KJW_STATE_DIR:-$ROOT/.cluster}"
PKI="$STATE/pki"

APISERVER_PORT=${KJW_APISERVER_PORT:-6443}
ETCD_PORT=${KJW_ETCD_PORT:-23790}
ETCD_PEER_PORT=${KJW_ETCD_PEER_PORT:-23800}
KUBELET_PORT=${KJW_KUBELET_PORT:-10250}
NODE_NAME=${KJW_NODE_NAME:-kjw-node}

# Stop order matters: kube-apiserver must go before etcd (with etcd gone first
# it ignores SIGTERM for a long time).
COMPONENTS=(kubelet-sim kube-controller-manager kube-apiserver etcd)

NODE_BIN="$ROOT/node_modules/.bin/node"
[ -x "$NODE_BIN" ] || NODE_BIN=node

log() { printf '[cluster] %s\n' "$*"; }
die() { printf '[cluster] ERROR: %s\n' "$*" >&2; exit 1; }

# A process that has exited stays a zombie until PID 1 reaps it (about 2 s on
# some VMs): kill -0 would still succeed, so look at the state instead.
alive() { # PID: running (not a zombie)
  local st
  st=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
  [ -n "$st" ] && [ "${st#Z}" = "$st" ]
}
group_alive() { # PGID: any non-zombie member left
  ps -e -o pgid=,stat= 2>/dev/null | awk -v g="$1" '$1 == g && $2 !~ /^Z/ { found = 1 } END { exit !found }'
}

pid_of() { # prints the pid recorded for a component if that process is alive
  local f="$STATE/$1.pid" pid
  [ -f "$f" ] || return 1
  pid=$(cat "$f" 2>/dev/null) || return 1
  [ -n "$pid" ] && alive "$pid" || return 1
  echo "$pid"
}

# start_bg NAME CMD... : runs CMD in a new session (so its own process group,
# pgid == pid), output appended to .cluster/NAME.log, pid in .cluster/NAME.pid.
start_bg() {
  local name=$1; shift
  local pidf="$STATE/$name.pid"
  rm -f "$pidf"
  {
    printf '\n===== %s starting %s\n' "$(date -u +%FT%TZ)" "$name"
    printf '%q ' "$@"; printf '\n'
  } >>"$STATE/$name.log"
  setsid bash -c 'echo $$ >"$0"; exec "$@"' "$pidf" "$@" </dev/null >>"$STATE/$name.log" 2>&1 &
  local i
  for i in $(seq 1 100); do [ -s "$pidf" ] && return 0; sleep 0.05; done
  die "$name did not start (no pid file); see $STATE/$name.log"
}

# stop_components NAME...: SIGTERM to each one's process group (all at once),
# SIGKILL to whatever is left after ~3 s, then remove the pid files.
stop_components() {
  local name pid i left
  local -a pids=() names=()
  for name in "$@"; do
    [ -f "$STATE/$name.pid" ] || continue
    pid=$(cat "$STATE/$name.pid" 2>/dev/null || true)
    if [ -n "$pid" ] && group_alive "$pid"; then
      kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
      pids+=("$pid"); names+=("$name")
    else
      rm -f "$STATE/$name.pid"
    fi
  done
  [ "${#pids[@]}" -gt 0 ] || return 0
  for i in $(seq 1 30); do
    left=0
    for pid in "${pids[@]}"; do group_alive "$pid" && left=1; done
    [ "$left" = 0 ] && break
    sleep 0.1
  done
  for i in "${!pids[@]}"; do
    pid=${pids[$i]}
    if group_alive "$pid"; then
      log "${names[$i]} (pid $pid) still running 3 s after SIGTERM: SIGKILL"
      kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  for pid in "${pids[@]}"; do
    for i in $(seq 1 50); do group_alive "$pid" || break; sleep 0.1; done
  done
  for i in "${!pids[@]}"; do
    if group_alive "${pids[$i]}"; then
      log "WARNING: ${names[$i]} (pid ${pids[$i]}) survived SIGKILL"
    else
      log "stopped ${names[$i]} (pid ${pids[$i]})"
      rm -f "$STATE/${names[$i]}.pid"
    fi
  done
}

port_busy() { # true if something listens on 127.0.0.1:PORT
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

apiserver_ready() { # /readyz answers "ok"
  [ -f "$PKI/ca.crt" ] || return 1
  [ "$(curl -s --max-time 3 --cacert "$PKI/ca.crt" "https://127.0.0.1:$APISERVER_PORT/readyz" 2>/dev/null)" = ok ]
}

show_log_tail() {
  printf '\n----- last 40 lines of %s -----\n' "$STATE/$1.log" >&2
  tail -n 40 "$STATE/$1.log" >&2 2>/dev/null || true
  printf -- '-----\n' >&2
}

# wait_apiserver_ready TIMEOUT_SECONDS : fails with the log tail on timeout or
# if the process dies.
wait_apiserver_ready() {
  local timeout=$1 start now
  start=$(date +%s)
  while :; do
    apiserver_ready && return 0
    if ! pid_of kube-apiserver >/dev/null; then
      show_log_tail kube-apiserver
      die "kube-apiserver exited before /readyz answered ok"
    fi
    now=$(date +%s)
    if [ $((now - start)) -ge "$timeout" ]; then
      printf '\n/readyz?verbose said:\n' >&2
      curl -s --max-time 3 --cacert "$PKI/ca.crt" "https://127.0.0.1:$APISERVER_PORT/readyz?verbose" 2>&1 | grep -v '\] ok$' | tail -n 15 >&2 || true
      show_log_tail kube-apiserver
      die "kube-apiserver not ready after ${timeout}s on https://127.0.0.1:$APISERVER_PORT"
    fi
    sleep 0.25
  done
}

start_apiserver_from_args() { # (re)starts kube-apiserver with the saved command line
  [ -f "$STATE/kube-apiserver.args" ] || die "no $STATE/kube-apiserver.args: run up.sh first"
  local args
  mapfile -t args <"$STATE/kube-apiserver.args"
  start_bg kube-apiserver "${args[@]}"
}
