#!/usr/bin/env bash
# Serves the built app from the backend (production config: PostgreSQL, local control plane) on :7007,
# waits for readiness, runs Playwright in Debian's Chromium, then stops the backend's whole process group.
# Expects `yarn build:all` to have run and POSTGRES_* / KUBEAI_CLUSTER_* in the environment.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
results=${1:-$root/test-results}
mkdir -p "$results"
: "${POSTGRES_PORT:?run scripts/postgres.sh start and export its variables first}"
: "${KUBEAI_CLUSTER_URL:?run yarn cluster:start and export yarn cluster:env first}"
cd "$root/packages/backend"
# The demo users of app-config.yaml (auth.providers.demo), off in the production config: the tests
# sign in as members of different teams, which the ownership policy tells apart.
export KUBEAI_DEMO_SIGN_IN=true
setsid node "$root/.yarn/releases/yarn-4.13.0.cjs" backstage-cli package start \
  --config ../../app-config.yaml --config ../../app-config.production.yaml >"$results/backend.log" 2>&1 &
backend=$!
# A graceful stop hands the informers' leader Lease back (deletes it); up to 30 s before SIGKILL.
# SIGTERM goes to the runner only (yarn → backstage-cli → backend, each passes it on once): a
# signal to the whole group reached the backend twice, and Backstage exits at the second, its stop
# unfinished — the Lease stayed (the backend now ignores a second one: src/stopSignals.ts).
# What the stop did with the Lease is printed.
stop_backend() {
  kill -TERM $backend 2>/dev/null || return 0
  local started=$SECONDS
  for _ in $(seq 1 60); do kill -0 -- -$backend 2>/dev/null || break; sleep 0.5; done
  if kill -0 -- -$backend 2>/dev/null; then
    echo "backend did not stop within 30 s of SIGTERM; killed" >&2
    kill -KILL -- -$backend 2>/dev/null
  fi
  echo "backend stopped in $((SECONDS - started)) s; its leader election:"
  # (the backend's logger masks config secrets, here the database user "kubeai", as ***)
  grep -E "informers: .*(now leads|stops leading|released Lease|could not release)" "$results/backend.log" |
    sed -E 's/^.*(informers: )/  \1/' | tail -8
}
trap stop_backend EXIT

for _ in $(seq 1 120); do
  curl -fs http://localhost:7007/.backstage/health/v1/readiness >/dev/null 2>&1 && break
  # The dev runner outlives a crashed backend; node's crash footer ("Node.js v20…") says it died.
  if ! kill -0 $backend 2>/dev/null || grep -q '^Node\.js v[0-9]' "$results/backend.log"; then
    echo "backend exited; see $results/backend.log" >&2; grep -v incomingRequest "$results/backend.log" | tail -30 >&2; exit 1
  fi
  sleep 1
done
curl -fs http://localhost:7007/.backstage/health/v1/readiness >/dev/null ||
  { echo "backend not ready after 120 s; see $results/backend.log" >&2; tail -20 "$results/backend.log" >&2; exit 1; }

cd "$root"
# The registry's demo content (versions, runs, deployments of the example models), through the API,
# as a platform admin (kubeai.tenancy.platformAdmins): it writes to every team's entities.
node scripts/seed-registry.mjs --url http://localhost:7007 --user user:default/li.wei || exit 1
PLAYWRIGHT_JSON_OUTPUT="$results/e2e.json" node "$root/.yarn/releases/yarn-4.13.0.cjs" playwright test
