#!/bin/sh
# A hot standby of the timescaledb service: on first start, copy the primary with
# pg_basebackup (-R writes primary_conninfo and standby.signal), then run PostgreSQL on it.
# It replays the primary's WAL continuously and answers read-only queries
# (ANALYTICS_DATABASE_URL); TimescaleDB's jobs do not run on a standby.
set -eu
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  until pg_isready -h timescaledb -U "$POSTGRES_USER" >/dev/null 2>&1; do sleep 1; done
  PGPASSWORD="${REPLICATION_PASSWORD:-replicator}" pg_basebackup -h timescaledb -U replicator \
    -D "$PGDATA" -R -X stream --checkpoint=fast
  chmod 700 "$PGDATA"
fi
# hot_standby_feedback: the primary keeps the rows a running replica query still reads, so
# fewer queries are cancelled by recovery conflicts (those that still are, the service
# retries on the primary). max_standby_streaming_delay: how long replay waits for them.
exec postgres -c hot_standby=on -c hot_standby_feedback=on -c max_standby_streaming_delay=30s
