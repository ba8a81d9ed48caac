#!/usr/bin/env bash
# kubectl as the cluster admin of the local test cluster (test/cluster/up.sh).
exec env KUBECONFIG="${KJW_STATE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)/.cluster}/admin.kubeconfig" kubectl "$@"
