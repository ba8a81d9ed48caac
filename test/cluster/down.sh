#!/usr/bin/env bash
# Stops everything up.sh started: kubelet simulator, kube-controller-manager,
# kube-apiserver, then etcd (in that order). SIGTERM to each process group,
# SIGKILL after ~3 s. Safe to run when nothing is running. Keeps .cluster/
# (logs, audit log, kubeconfigs) for inspection; up.sh starts from scratch.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

[ -d "$STATE" ] || { log "nothing to stop (no $STATE)"; exit 0; }
any=0
for c in "${COMPONENTS[@]}"; do [ -f "$STATE/$c.pid" ] && any=1; done
# everything that talks to etcd through the API first, then etcd
stop_components kubelet-sim kube-controller-manager kube-apiserver
stop_components etcd
rm -f "$STATE/kubelet-sim.ready"
if [ "$any" = 0 ]; then log "nothing was running"; else log "cluster is down"; fi
