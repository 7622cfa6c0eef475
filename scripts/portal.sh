#!/usr/bin/env bash
# The README's start command: installs everything, starts the local Kubernetes control plane and the
# portal (frontend http://localhost:3000, backend http://localhost:7007) with the cluster registered
# under `kubernetes:` in app-config through KUBEAI_CLUSTER_URL / KUBEAI_CLUSTER_TOKEN.
# Set KUBEAI_CLUSTER_URL and KUBEAI_CLUSTER_TOKEN yourself to use your own cluster instead.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export npm_config_nodedir=${npm_config_nodedir:-/usr}
# The embedded SQLite databases (app-config.yaml backend.database): kept across restarts; delete to reset.
export KUBEAI_DATA_DIR=${KUBEAI_DATA_DIR:-$root/.kubeai/data}
yarn() { node "$root/.yarn/releases/yarn-4.13.0.cjs" "$@"; }

bash scripts/system-deps.sh
yarn install --immutable
if [ -z "${KUBEAI_CLUSTER_URL:-}" ]; then
  # The pinned upstream CRDs for the local control plane (yarn crds:fetch); without internet or KUBEAI_CRDS_DIR
  # the cluster gets the project's minimal CRDs instead, which is enough for the portal.
  if ! node scripts/crds/crds.mjs fetch; then
    echo "kubeai: continuing with the minimal CRDs in scripts/cluster/crds (the portal works without the upstream ones)" >&2
  fi
  yarn cluster:start
  eval "$(node scripts/cluster/cluster.mjs env)"
fi
# Once the backend is up, fill the registry with the demo versions, runs and deployments.
node scripts/seed-registry.mjs --url http://localhost:7007 --timeout 600 &
echo "kubeai: portal starting — http://localhost:3000 (backend http://localhost:7007); Ctrl-C stops it"
exec node "$root/.yarn/releases/yarn-4.13.0.cjs" start
