#!/bin/sh
# Runs once, when the primary's data directory is first initialized (docker-entrypoint-initdb.d):
# a role for streaming replication and the pg_hba.conf line that lets it connect. Harmless
# without a replica; an existing volume needs `docker compose down -v` once to get it.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<SQL
CREATE ROLE replicator WITH REPLICATION LOGIN PASSWORD '${REPLICATION_PASSWORD:-replicator}';
SQL
echo "host replication replicator all scram-sha-256" >> "$PGDATA/pg_hba.conf"
