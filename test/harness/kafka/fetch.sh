#!/usr/bin/env bash
# Fetches the Kafka broker's jars (KRaft, single node for tests) from Maven Central once, into
# ~/.cache/whistle/kafka-<version>/lib. Idempotent: does nothing when the classpath is complete.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
version="3.9.0"
dest="${WHISTLE_CACHE:-$HOME/.cache/whistle}/kafka-${version}"
marker="$dest/.complete"
if [ -f "$marker" ] && [ -f "$dest/lib/kafka_2.13-${version}.jar" ]; then
  exit 0
fi
need_apt=()
command -v java >/dev/null || need_apt+=(openjdk-17-jre-headless)
command -v mvn >/dev/null || need_apt+=(maven)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "[kafka] installing Debian packages: ${need_apt[*]}" >&2
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi
echo "[kafka] fetching kafka_2.13:${version} jars from Maven Central into $dest/lib" >&2
rm -rf "$dest/lib.tmp"
mkdir -p "$dest"
mvn -q -B -f "$here/pom.xml" -Dkafka.version="$version" dependency:copy-dependencies \
  -DincludeScope=runtime -DoutputDirectory="$dest/lib.tmp" >&2
rm -rf "$dest/lib"
mv "$dest/lib.tmp" "$dest/lib"
touch "$marker"
echo "[kafka] $(ls "$dest/lib" | wc -l) jars in $dest/lib" >&2
