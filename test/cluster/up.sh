#!/usr/bin/env bash
# Starts a local control plane for the end-to-end tests, on 127.0.0.1 only:
# etcd, kube-apiserver (TLS, static tokens, RBAC, audit log),
# kube-controller-manager (Job, garbage-collector and TTL controllers) and the
# kubelet simulator (test/cluster/kubelet-sim.ts). State, logs and kubeconfigs
# go to <repo>/.cluster/. Idempotent: does nothing when already up and healthy.
#
# Environment: KJW_APISERVER_PORT (6443), KJW_ETCD_PORT (23790),
# KJW_ETCD_PEER_PORT (23800), KJW_KUBELET_PORT (10250),
# KJW_MIN_REQUEST_TIMEOUT (kube-apiserver --min-request-timeout, seconds),
# KJW_KCM_QPS / KJW_KCM_BURST (controller-manager client rate, 200/400),
# KJW_SIM_CONCURRENCY (simulator writes in flight, 32),
# KJW_TOKEN_WEBHOOK_PORT (KJW_APISERVER_PORT + 10000).
#
# Tokens the static file does not know go to a token webhook on
# 127.0.0.1:KJW_TOKEN_WEBHOOK_PORT, which a test starts when it needs tokens it
# can revoke (test/e2e/credentials.test.ts; its TLS certificate and key are
# pki/token-webhook.*). Without that server such tokens are simply refused.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
TOKEN_WEBHOOK_PORT=${KJW_TOKEN_WEBHOOK_PORT:-$((APISERVER_PORT + 10000))}

t0=$(date +%s.%N)
bash "$HERE/build.sh"
for b in etcd kube-apiserver kube-controller-manager; do
  [ -x "$BIN/$b" ] || die "missing $BIN/$b (build.sh failed?)"
done
command -v openssl >/dev/null || die "openssl is required"
command -v curl >/dev/null || die "curl is required"
command -v kubectl >/dev/null || die "kubectl is required"
mkdir -p "$STATE"
chmod 700 "$STATE"

# ---- already up? --------------------------------------------------------
alive=()
for c in "${COMPONENTS[@]}"; do pid_of "$c" >/dev/null && alive+=("$c"); done
if [ "${#alive[@]}" -eq "${#COMPONENTS[@]}" ] && apiserver_ready && [ -f "$STATE/kubelet-sim.ready" ]; then
  log "already up and healthy: https://127.0.0.1:$APISERVER_PORT (KUBECONFIG=$STATE/admin.kubeconfig)"
  exit 0
fi
if [ "${#alive[@]}" -gt 0 ]; then
  log "partly up (running: ${alive[*]}); stopping it before a fresh start"
  bash "$HERE/down.sh"
fi

for p in "$APISERVER_PORT" "$ETCD_PORT" "$ETCD_PEER_PORT" "$KUBELET_PORT"; do
  port_busy "$p" && die "port 127.0.0.1:$p is already in use by another process (set KJW_APISERVER_PORT/KJW_ETCD_PORT/KJW_ETCD_PEER_PORT/KJW_KUBELET_PORT)"
done

# ---- fresh state ----------------------------------------------------------
rm -rf "$STATE/etcd" "$PKI"
rm -f "$STATE"/*.log "$STATE"/*.kubeconfig "$STATE/sim-writes.jsonl" "$STATE/kubelet-sim.ready" "$STATE/tokens.csv"
mkdir -p "$PKI"

log "generating certificates and tokens"
(
  cd "$PKI"
  ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
  openssl req -x509 "${ec[@]}" -keyout ca.key -out ca.crt -days 3650 -subj "/CN=kjw-ca" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" 2>/dev/null
  sign() { # name subject extensions
    openssl req "${ec[@]}" -keyout "$1.key" -out "$1.csr" -subj "$2" 2>/dev/null
    printf '%b' "$3" >"$1.ext"
    openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 -out "$1.crt" -extfile "$1.ext" 2>/dev/null
    rm -f "$1.csr" "$1.ext"
  }
  sign apiserver "/CN=kube-apiserver" \
    "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost,IP:10.0.0.1,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc\n"
  sign token-webhook "/CN=kjw-token-webhook" \
    "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1\n"
  # admin-equivalent user authenticated by a client certificate (O = group)
  sign cert-admin "/O=system:masters/CN=kjw-cert-admin" \
    "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n"
  # the simulated kubelet's serving certificate (self-signed; the apiserver
  # does not verify it without --kubelet-certificate-authority)
  openssl req -x509 "${ec[@]}" -keyout kubelet.key -out kubelet.crt -days 3650 -subj "/CN=$NODE_NAME" \
    -addext "subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:$NODE_NAME" 2>/dev/null
  openssl ecparam -name prime256v1 -genkey -noout -out sa.key
  openssl ec -in sa.key -pubout -out sa.pub 2>/dev/null
  chmod 600 ./*.key
)

tok() { openssl rand -hex 24; }
ADMIN_TOKEN=$(tok); KCM_TOKEN=$(tok); SIM_TOKEN=$(tok)
ROLE_TOKEN=$(tok); NOWATCH_TOKEN=$(tok); NORIGHTS_TOKEN=$(tok)
cat >"$STATE/tokens.csv" <<EOF
$ADMIN_TOKEN,kjw-admin,kjw-admin,"system:masters"
$KCM_TOKEN,system:kube-controller-manager,kjw-kcm,"system:masters"
$SIM_TOKEN,kjw-kubelet-sim,kjw-kubelet-sim,"system:masters"
$ROLE_TOKEN,kjw-role,kjw-role
$NOWATCH_TOKEN,kjw-nowatch,kjw-nowatch
$NORIGHTS_TOKEN,kjw-norights,kjw-norights
EOF
chmod 600 "$STATE/tokens.csv"

cat >"$STATE/audit-policy.yaml" <<'EOF'
apiVersion: audit.k8s.io/v1
kind: Policy
# One ResponseComplete (and, for watches, a ResponseStarted) line per request.
omitStages: ["RequestReceived"]
rules:
  - level: Metadata
EOF

# A short cache: a token the webhook stops accepting is refused within a second or two.
cat >"$STATE/token-webhook.kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
  - name: token-webhook
    cluster:
      server: https://127.0.0.1:$TOKEN_WEBHOOK_PORT/authenticate
      certificate-authority: $PKI/ca.crt
users:
  - name: kube-apiserver
contexts:
  - name: token-webhook
    context:
      cluster: token-webhook
      user: kube-apiserver
current-context: token-webhook
EOF

# ---- etcd -------------------------------------------------------------------
log "starting etcd on 127.0.0.1:$ETCD_PORT"
start_bg etcd "$BIN/etcd" \
  --name=kjw --data-dir="$STATE/etcd" \
  --listen-client-urls="http://127.0.0.1:$ETCD_PORT" --advertise-client-urls="http://127.0.0.1:$ETCD_PORT" \
  --listen-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" \
  --initial-cluster="kjw=http://127.0.0.1:$ETCD_PEER_PORT" --initial-cluster-state=new \
  --unsafe-no-fsync --log-level=warn
for i in $(seq 1 120); do
  curl -s --max-time 2 "http://127.0.0.1:$ETCD_PORT/health" 2>/dev/null | grep -q '"health":"true"' && break
  pid_of etcd >/dev/null || { show_log_tail etcd; die "etcd exited during startup"; }
  [ "$i" = 120 ] && { show_log_tail etcd; die "etcd not healthy after 30s"; }
  sleep 0.25
done

# ---- kube-apiserver -----------------------------------------------------------
apiserver_args=(
  "$BIN/kube-apiserver"
  --etcd-servers="http://127.0.0.1:$ETCD_PORT"
  --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$APISERVER_PORT"
  --cert-dir="$PKI" --tls-cert-file="$PKI/apiserver.crt" --tls-private-key-file="$PKI/apiserver.key"
  --client-ca-file="$PKI/ca.crt"
  --token-auth-file="$STATE/tokens.csv"
  --authentication-token-webhook-config-file="$STATE/token-webhook.kubeconfig"
  --authentication-token-webhook-version=v1 --authentication-token-webhook-cache-ttl=1s
  --authorization-mode=RBAC
  --service-account-issuer=https://kubernetes.default.svc.cluster.local
  --service-account-key-file="$PKI/sa.pub" --service-account-signing-key-file="$PKI/sa.key"
  --service-cluster-ip-range=10.0.0.0/24
  --endpoint-reconciler-type=none
  --disable-admission-plugins=ServiceAccount
  --audit-policy-file="$STATE/audit-policy.yaml" --audit-log-path="$STATE/audit.log" --audit-log-format=json
  --profiling=false
)
if [ -n "${KJW_MIN_REQUEST_TIMEOUT:-}" ]; then
  apiserver_args+=(--min-request-timeout="$KJW_MIN_REQUEST_TIMEOUT")
fi
printf '%s\n' "${apiserver_args[@]}" >"$STATE/kube-apiserver.args"
log "starting kube-apiserver on https://127.0.0.1:$APISERVER_PORT"
start_apiserver_from_args
wait_apiserver_ready 90
t_ready=$(date +%s.%N)

# ---- kubeconfigs ----------------------------------------------------------------
CA_DATA=$(base64 -w0 <"$PKI/ca.crt")
kubeconfig() { # file user namespace auth-yaml (indented for users[].user)
  umask 077
  cat >"$STATE/$1" <<EOF
apiVersion: v1
kind: Config
clusters:
  - name: kjw
    cluster:
      server: https://127.0.0.1:$APISERVER_PORT
      certificate-authority-data: $CA_DATA
users:
  - name: $2
    user:
$4
contexts:
  - name: $2
    context:
      cluster: kjw
      user: $2
      namespace: $3
current-context: $2
EOF
}
kubeconfig admin.kubeconfig kjw-admin default "      token: $ADMIN_TOKEN"
kubeconfig role.kubeconfig kjw-role kjw-restricted "      token: $ROLE_TOKEN"
kubeconfig nowatch.kubeconfig kjw-nowatch kjw-restricted "      token: $NOWATCH_TOKEN"
kubeconfig norights.kubeconfig kjw-norights kjw-restricted "      token: $NORIGHTS_TOKEN"
kubeconfig cert.kubeconfig kjw-cert-admin default \
"      client-certificate-data: $(base64 -w0 <"$PKI/cert-admin.crt")
      client-key-data: $(base64 -w0 <"$PKI/cert-admin.key")"
kubeconfig kcm.kubeconfig system:kube-controller-manager default "      token: $KCM_TOKEN"
kubeconfig sim.kubeconfig kjw-kubelet-sim default "      token: $SIM_TOKEN"

log "creating namespaces and RBAC"
kubectl --kubeconfig "$STATE/admin.kubeconfig" apply \
  -f "$HERE/namespaces.yaml" -f "$HERE/rbac.yaml" -f "$HERE/rbac-nowatch.yaml" >"$STATE/apply.log" 2>&1 \
  || { cat "$STATE/apply.log" >&2; die "kubectl apply of namespaces/RBAC failed"; }

# ---- kube-controller-manager -------------------------------------------------
log "starting kube-controller-manager (job, garbage-collector, ttl-after-finished)"
start_bg kube-controller-manager "$BIN/kube-controller-manager" \
  --kubeconfig="$STATE/kcm.kubeconfig" \
  --controllers=job-controller,garbage-collector-controller,ttl-after-finished-controller \
  --leader-elect=false --use-service-account-credentials=false --secure-port=0 \
  --kube-api-qps="${KJW_KCM_QPS:-200}" --kube-api-burst="${KJW_KCM_BURST:-400}"

# ---- kubelet simulator ------------------------------------------------------------
log "starting kubelet simulator (node $NODE_NAME, logs on https://127.0.0.1:$KUBELET_PORT)"
start_bg kubelet-sim env KUBECONFIG="$STATE/sim.kubeconfig" KJW_STATE_DIR="$STATE" \
  KJW_KUBELET_PORT="$KUBELET_PORT" KJW_NODE_NAME="$NODE_NAME" \
  "$NODE_BIN" --disable-warning=ExperimentalWarning "$HERE/kubelet-sim.ts"
for i in $(seq 1 120); do
  [ -f "$STATE/kubelet-sim.ready" ] && break
  pid_of kubelet-sim >/dev/null || { show_log_tail kubelet-sim; die "kubelet simulator exited during startup"; }
  [ "$i" = 120 ] && { show_log_tail kubelet-sim; die "kubelet simulator not ready after 30s"; }
  sleep 0.25
done
pid_of kube-controller-manager >/dev/null || { show_log_tail kube-controller-manager; die "kube-controller-manager exited during startup"; }

t1=$(date +%s.%N)
log "$(awk -v a="$t0" -v b="$t_ready" -v c="$t1" 'BEGIN{printf "up in %.1fs (apiserver ready after %.1fs)", c-a, b-a}')"
log "admin:    KUBECONFIG=$STATE/admin.kubeconfig   (or: bash test/cluster/kubectl.sh ...)"
log "users:    role.kubeconfig, nowatch.kubeconfig, norights.kubeconfig, cert.kubeconfig in $STATE"
