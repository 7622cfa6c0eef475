#!/usr/bin/env bash
# A throwaway PostgreSQL server for tests, from Debian's postgresql package, on a free loopback port.
#   scripts/postgres.sh start   start (or reuse) it and print `export …` lines for the tests and the backend
#   scripts/postgres.sh env     print those lines for a running server
#   scripts/postgres.sh stop    stop it and delete its data
# Data lives in a temp folder named after this checkout. As root, the server runs as the `postgres` user.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# Outside the checkout: the `postgres` user (when we run as root) may not be able to enter it.
dir="${TMPDIR:-/tmp}/kubeai-postgres-$(printf %s "$root" | md5sum | cut -c1-8)"
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -n "$bin" ] || { echo "kubeai postgres: PostgreSQL server binaries not found (apt-get install postgresql)" >&2; exit 1; }
major=$(basename "$(dirname "$bin")")

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

print_env() {
  local port; port=$(cat "$dir/port")
  local url="postgresql://kubeai:kubeai@127.0.0.1:$port"
  echo "export POSTGRES_HOST=127.0.0.1 POSTGRES_PORT=$port POSTGRES_USER=kubeai POSTGRES_PASSWORD=kubeai"
  # Backstage's TestDatabases reads this variable for the POSTGRES_<major> id.
  echo "export BACKSTAGE_TEST_DATABASE_POSTGRES${major}_CONNECTION_STRING=$url"
  echo "export KUBEAI_TEST_POSTGRES_ID=POSTGRES_${major}"
}

running() {
  [ -f "$dir/data/postmaster.pid" ] && as_owner "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1
}

case "${1:-}" in
  start)
    if running; then print_env; exit 0; fi
    rm -rf "$dir"; mkdir -p "$dir"
    [ "$(id -u)" -eq 0 ] && chown postgres "$dir"
    port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
    echo "$port" > "$dir/port"
    echo kubeai > "$dir/pwfile"; [ "$(id -u)" -eq 0 ] && chown postgres "$dir/pwfile"
    as_owner "$bin/initdb" -D "$dir/data" -U kubeai --pwfile="$dir/pwfile" -A scram-sha-256 >"$dir/initdb.log" 2>&1 ||
      { echo "kubeai postgres: initdb failed, see $dir/initdb.log" >&2; exit 1; }
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=200 -c fsync=off" start >/dev/null ||
      { echo "kubeai postgres: server did not start, see $dir/server.log" >&2; exit 1; }
    print_env
    ;;
  env)
    running || { echo "kubeai postgres: not running (scripts/postgres.sh start)" >&2; exit 3; }
    print_env
    ;;
  stop)
    if running; then as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null; fi
    rm -rf "$dir"
    ;;
  *)
    echo "usage: scripts/postgres.sh start|env|stop" >&2; exit 2
    ;;
esac
