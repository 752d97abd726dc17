#!/usr/bin/env bash
# Builds (once) the Kubernetes control plane and kwok that the tests run, from the Go module proxy.
# Binaries are cached outside the repo and rebuilt only when missing:
#   ~/.cache/whistle/kube-<K8S_VERSION>/{kube-apiserver,kube-controller-manager,kube-scheduler}
#   ~/.cache/whistle/kwok-<KWOK_VERSION>/kwok  (+ stages/: the stage files shipped inside the kwok module)
#   ~/.cache/whistle/etcd-<ETCD_VERSION>/etcd
# Prints KUBE_BIN_DIR=..., KWOK_DIR=... and ETCD_BIN=... on its last lines.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
K8S_VERSION="v1.34.4"          # keep in sync with go/go.mod
KWOK_VERSION="v0.8.0"
ETCD_VERSION="v3.6.16"         # keep in sync with etcd/go.mod
CACHE="${WHISTLE_CACHE:-$HOME/.cache/whistle}"
KUBE_DIR="$CACHE/kube-$K8S_VERSION"
KWOK_DIR="$CACHE/kwok-$KWOK_VERSION"
ETCD_DIR="$CACHE/etcd-$ETCD_VERSION"

command -v go >/dev/null || { echo "build.sh: the 'go' command is missing (install Go >= 1.24)" >&2; exit 1; }
export GOFLAGS="${GOFLAGS:--buildvcs=false}"

log() { echo "[kube build $(date -u +%H:%M:%S)] $*" >&2; }

# --- kube-apiserver, kube-controller-manager, kube-scheduler ---------------------------------
if [[ -x "$KUBE_DIR/kube-apiserver" && -x "$KUBE_DIR/kube-controller-manager" && -x "$KUBE_DIR/kube-scheduler" ]]; then
  log "kubernetes $K8S_VERSION cached in $KUBE_DIR"
else
  log "building kubernetes $K8S_VERSION control plane (first time: tens of minutes on 2 cores)"
  start=$(date +%s)
  tmp="$KUBE_DIR.tmp.$$"
  mkdir -p "$tmp"
  minor="${K8S_VERSION#v1.}"; minor="${minor%%.*}"
  # The version stamps kubectl/kwok/clients read through /version; without them the server says v0.0.0.
  ldflags="-s -w"
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
    ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
  done
  (cd "$HERE/go" && go build -trimpath -ldflags "$ldflags" -o "$tmp/" \
      k8s.io/kubernetes/cmd/kube-apiserver \
      k8s.io/kubernetes/cmd/kube-controller-manager \
      k8s.io/kubernetes/cmd/kube-scheduler)
  rm -rf "$KUBE_DIR"; mv "$tmp" "$KUBE_DIR"
  log "kubernetes built in $(( $(date +%s) - start )) s"
fi

# --- etcd (Debian's 3.4.23 is below Kubernetes 1.34's minimum: see etcd/go.mod) --------------
if [[ -x "$ETCD_DIR/etcd" ]]; then
  log "etcd $ETCD_VERSION cached in $ETCD_DIR"
else
  log "building etcd $ETCD_VERSION"
  start=$(date +%s)
  tmp="$ETCD_DIR.tmp.$$"
  mkdir -p "$tmp"
  (cd "$HERE/etcd" && go build -trimpath -ldflags "-s -w" -o "$tmp/etcd" .)
  rm -rf "$ETCD_DIR"; mv "$tmp" "$ETCD_DIR"
  log "etcd built in $(( $(date +%s) - start )) s"
fi

# --- kwok ------------------------------------------------------------------------------------
STAGES=(node/fast/node-initialize.yaml node/heartbeat-with-lease/node-heartbeat-with-lease.yaml
        node/heartbeat/node-heartbeat.yaml pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml)
stages_ok() { for s in "${STAGES[@]}"; do [[ -f "$1/stages/$(basename "$s")" ]] || return 1; done; }
if [[ -x "$KWOK_DIR/kwok" ]] && stages_ok "$KWOK_DIR"; then
  log "kwok $KWOK_VERSION cached in $KWOK_DIR"
else
  log "building kwok $KWOK_VERSION"
  start=$(date +%s)
  tmp="$KWOK_DIR.tmp.$$"
  mkdir -p "$tmp/stages"
  GOBIN="$tmp" go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
  # kwok v0.8 has no built-in stages: the harness passes the module's own stage files with --config.
  src="$(go mod download -json "sigs.k8s.io/kwok@$KWOK_VERSION" | sed -n 's/^\s*"Dir": "\(.*\)",$/\1/p')"
  for s in "${STAGES[@]}"; do
    [[ -f "$src/kustomize/stage/$s" ]] || { echo "build.sh: kwok module has no kustomize/stage/$s ($src)" >&2; exit 1; }
    cp "$src/kustomize/stage/$s" "$tmp/stages/"
  done
  rm -rf "$KWOK_DIR"; mv "$tmp" "$KWOK_DIR"
  log "kwok built in $(( $(date +%s) - start )) s"
fi

echo "KUBE_BIN_DIR=$KUBE_DIR"
echo "KWOK_DIR=$KWOK_DIR"
echo "ETCD_BIN=$ETCD_DIR/etcd"
