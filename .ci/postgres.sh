#!/usr/bin/env bash
# Start a throwaway PostgreSQL server for the tests and print its URL on stdout.
# Usage: url=$(.ci/postgres.sh start DIR)   ·   .ci/postgres.sh stop DIR
# The server refuses to run as root, so as root it runs as an unprivileged user.
set -euo pipefail
action=${1:?start|stop}
dir=${2:?data directory}
port=${QUIZBOT_PG_PORT:-55432}
pg_user=quizbot-pg

find_bin() {
  local name=$1
  command -v "$name" 2>/dev/null && return 0
  ls /usr/lib/postgresql/*/bin/"$name" 2>/dev/null | sort -V | tail -n 1
}

as_owner() {
  if [ "$(id -u)" = 0 ]; then su -s /bin/bash "$pg_user" -c "$*"; else bash -c "$*"; fi
}

if [ "$action" = stop ]; then
  pg_ctl=$(find_bin pg_ctl) || exit 0
  [ -d "$dir/data" ] && as_owner "'$pg_ctl' -D '$dir/data' -m fast stop" >/dev/null 2>&1 || true
  exit 0
fi

initdb=$(find_bin initdb || true)
if [ -z "$initdb" ]; then
  echo "postgres.sh: initdb not found; installing PostgreSQL from Debian packages" >&2
  apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
  initdb=$(find_bin initdb)
fi
pg_ctl=$(find_bin pg_ctl)

if [ "$(id -u)" = 0 ] && ! id "$pg_user" >/dev/null 2>&1; then
  useradd --system --no-create-home --shell /usr/sbin/nologin "$pg_user"
fi
mkdir -p "$dir"
[ "$(id -u)" = 0 ] && chown "$pg_user" "$dir"
if [ ! -f "$dir/data/PG_VERSION" ]; then
  as_owner "'$initdb' -D '$dir/data' -U postgres -A trust --no-sync -E UTF8" >"$dir/initdb.log" 2>&1
fi
as_owner "'$pg_ctl' -D '$dir/data' -l '$dir/server.log' -w -t 60 \
  -o \"-p $port -k '$dir' -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200\" start" >&2
echo "postgresql://postgres@127.0.0.1:$port/postgres"
