-- Up Migration
-- A station's connection is a lease (src/ocpp/connection-lease.ts): the instance holding its
-- socket renews `connected_until` every third of OCPP_CONNECTION_LEASE_MS. An instance that
-- dies without closing (SIGKILL, a lost host) cannot record the disconnection; its stations
-- stop counting as connected once their lease runs out instead of staying connected forever.
-- NULL for connections recorded before this column: they count as connected until they end.
ALTER TABLE charge_points ADD COLUMN connected_until timestamptz;

-- Down Migration
ALTER TABLE charge_points DROP COLUMN connected_until;
