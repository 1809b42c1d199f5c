#!/usr/bin/env bash
# A throwaway PostgreSQL server on loopback for the database tests (Debian's `postgresql`).
#
#   eval "$(bash Scripts/postgres.sh start)"   # sets MLP_TEST_POSTGRES and MLP_TEST_POSTGRES_DIR
#   bash Scripts/postgres.sh halt              # stops the server, keeping its data (an outage)
#   bash Scripts/postgres.sh resume            # starts it again on the same port
#   bash Scripts/postgres.sh stop              # stops it and removes its folder
#
# The `postgres` user logs in without a password; every other user needs its password
# (scram-sha-256), as on a real server. PostgreSQL refuses to run as root: as root, the server
# runs as the `postgres` user.
set -euo pipefail
port=${MLP_TEST_POSTGRES_PORT:-55432}
bin=$(ls -d /usr/lib/postgresql/*/bin 2> /dev/null | sort -V | tail -1)
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
case "${1:-}" in
  start)
    [ -n "$bin" ] || { echo "postgres.sh: no PostgreSQL server installed (apt-get install postgresql)" >&2; exit 1; }
    dir=$(mktemp -d /tmp/mlp-postgres.XXXXXX)
    [ "$(id -u)" = 0 ] && chown postgres "$dir"
    as_postgres "$bin/initdb" -D "$dir/data" -U postgres --auth=trust > "$dir/initdb.log"
    printf '%s\n' "local all postgres trust" "host all postgres 127.0.0.1/32 trust" \
      "local all all scram-sha-256" "host all all 127.0.0.1/32 scram-sha-256" > "$dir/data/pg_hba.conf"
    echo "$port" > "$dir/port"
    as_postgres "$bin/pg_ctl" -D "$dir/data" -w -l "$dir/log" \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c timezone=UTC -c max_connections=200" start > /dev/null
    echo "export MLP_TEST_POSTGRES=postgresql://postgres@127.0.0.1:$port/postgres MLP_TEST_POSTGRES_DIR=$dir"
    ;;
  halt)
    dir=${MLP_TEST_POSTGRES_DIR:?set by start}
    as_postgres "$bin/pg_ctl" -D "$dir/data" -w -m fast stop > /dev/null
    ;;
  resume)
    dir=${MLP_TEST_POSTGRES_DIR:?set by start}
    as_postgres "$bin/pg_ctl" -D "$dir/data" -w -l "$dir/log" \
      -o "-c listen_addresses=127.0.0.1 -p $(cat "$dir/port") -k $dir -c timezone=UTC -c max_connections=200" start > /dev/null
    ;;
  stop)
    dir=${MLP_TEST_POSTGRES_DIR:?set by start}
    as_postgres "$bin/pg_ctl" -D "$dir/data" -w -m fast stop > /dev/null || true
    rm -rf "$dir"
    ;;
  *) echo "usage: postgres.sh start|halt|resume|stop" >&2; exit 2 ;;
esac
