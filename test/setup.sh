#!/usr/bin/env bash
# Installs and builds what the tests need, idempotently: Debian packages (etcd, ClickHouse server, Chromium),
# npm packages, and the Kubernetes control plane + kwok built from Go modules (cached under
# ~/.cache/whistle, rebuilt only when missing).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

need_apt=()
[ -x /usr/bin/etcd ] || need_apt+=(etcd-server)
[ -x /usr/bin/etcdctl ] || need_apt+=(etcd-client)
[ -x /usr/sbin/clickhouse-server ] || need_apt+=(clickhouse-server)
[ -x /usr/bin/chromium ] || need_apt+=(chromium)  # headless, for the console's browser tests (test/console/)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "[setup] installing Debian packages: ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  # The packages' own services are not wanted: the tests start private instances on loopback.
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
  for svc in etcd clickhouse-server; do (service "$svc" stop >/dev/null 2>&1 || true); done
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "[setup] npm install (locked versions)"
  npm install --no-fund --no-audit
fi

if [ -x test/harness/kube/build.sh ] || [ -f test/harness/kube/build.sh ]; then
  bash test/harness/kube/build.sh >&2
fi
bash test/harness/kafka/fetch.sh >&2  # Kafka broker jars from Maven Central, cached under ~/.cache/whistle/kafka-3.9.0
