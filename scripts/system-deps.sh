#!/usr/bin/env bash
# Installs the Debian packages the portal and its tests need, only those that are missing.
# Used by scripts/portal.sh, scripts/test.sh and .ci/run. Safe to run again.
set -euo pipefail

# chromium: e2e tests; etcd-server + golang-go rsync jq dpkg-dev reflect2: the local control plane
# (kube-apiserver is built once from Debian source); postgresql: integration tests; make g++: native modules.
want=(chromium etcd-server golang-go rsync jq dpkg-dev golang-github-modern-go-reflect2-dev openssl
  postgresql python3 make g++)
missing=()
for pkg in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null; then
  echo "kubeai: missing system packages (${missing[*]}) and no apt-get to install them; install them by hand" >&2
  exit 1
fi
if [ "$(id -u)" -eq 0 ]; then SUDO=(); elif sudo -n true 2>/dev/null; then SUDO=(sudo -n); else
  echo "kubeai: missing system packages (${missing[*]}); run as root or with passwordless sudo, or: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
echo "kubeai: installing system packages: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq >/dev/null
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
