#!/usr/bin/env bash
# The README's test command: every check CI runs, on this machine.
#   system packages → yarn install --immutable → pinned upstream CRDs (yarn crds:fetch) → local control plane → PostgreSQL →
#   tsc → lint → unit + integration tests (jest, SQLite + PostgreSQL + the apiserver) → script tests →
#   production build → Playwright e2e in Chromium against the built portal served by the backend.
# Ends with one line `N passed, N failed` (tests of every suite plus the tsc/lint/build checks).
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
results="$root/test-results"
rm -rf "$results" && mkdir -p "$results"
steps="$results/steps.tsv"
: >"$steps"

export npm_config_nodedir=${npm_config_nodedir:-/usr} # native modules build against Node's own headers
export BACKSTAGE_TEST_DISABLE_DOCKER=1                  # databases come from scripts/postgres.sh, never Docker
yarn() { node "$root/.yarn/releases/yarn-4.13.0.cjs" "$@"; }

# step NAME COMMAND… — runs a check, records pass/fail and its duration.
step() {
  local name=$1 start=$SECONDS; shift
  echo "::: $name" >&2 # stderr: a step's stdout may be captured (postgres.env is eval'ed)
  if "$@"; then
    printf '%s\tpassed\t%s\n' "$name" $((SECONDS - start)) >>"$steps"
  else
    printf '%s\tfailed\t%s\n' "$name" $((SECONDS - start)) >>"$steps"
    return 1
  fi
}
finish() {
  node scripts/test-summary.mjs "$results"
  exit $?
}

# Setup: without it nothing else can run, so a failure here ends the run (and counts as failed).
step system-packages bash scripts/system-deps.sh || finish
step yarn-install yarn install --immutable || finish
# The pinned upstream CRDs (scripts/crds/sources.json) into the verified cache, before the control plane installs
# them: from KUBEAI_CRDS_DIR / the shared folder beside the repo, else downloaded. Ends the run with one line if neither.
step crds node scripts/crds/crds.mjs fetch || finish
step control-plane yarn cluster:start || finish
eval "$(node scripts/cluster/cluster.mjs env)"
step postgres bash scripts/postgres.sh start >"$results/postgres.env" || finish
eval "$(cat "$results/postgres.env")"

step tsc yarn tsc
step lint yarn backstage-cli repo lint
# Every object of the shared control plane before the tests: what they leave is compared to it below.
node scripts/test-cleanup.mjs snapshot "$results/cluster-before.json"
# CI=true: run once, no watch mode. ESM-only @kubernetes/client-node needs vm modules in jest.
# The suites get a temporary directory of their own (jest's transform cache stays in the system's), so that
# what they leave in it is seen below.
jest_tmp="$results/tmp" && mkdir -p "$jest_tmp"
step jest env CI=true TMPDIR="$jest_tmp" NODE_OPTIONS="--experimental-vm-modules ${NODE_OPTIONS:-}" \
  node "$root/.yarn/releases/yarn-4.13.0.cjs" backstage-cli repo test --cacheDirectory="${TMPDIR:-/tmp}/jest_$(id -u)" \
  --json --outputFile="$results/jest.json"
# Fails if the suites left temporary files or directories, then removes them.
step jest-temp-leftovers node scripts/test-cleanup.mjs temp "$jest_tmp"
# Fails if the suites left namespaces or objects on the control plane (the portal would show them), then removes them.
step jest-leftovers node scripts/test-cleanup.mjs check --baseline "$results/cluster-before.json" --purge
# The control-plane script's own promises (idempotent start, stop, clear errors) on a throwaway cluster,
# and the CRD fetcher's (checksums, mirror, download from a local server, the one-line error).
step scripts node --test --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=tap --test-reporter-destination="$results/scripts.tap" scripts/cluster/*.test.mjs \
  scripts/crds/crds.test.mjs
step build yarn build:all && step e2e bash scripts/e2e.sh "$results"
step e2e-leftovers node scripts/test-cleanup.mjs check --baseline "$results/cluster-before.json" --purge

finish
