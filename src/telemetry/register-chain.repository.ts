import { sql } from 'kysely';

import type { Db } from '../db/database.js';
import { MAX_INTERVAL_KWH } from './reading-bounds.js';
import type { Stream } from './reading.js';

/**
 * The register chain of a device: its register readings in timestamp order. The energy of
 * a register reading is a function of its register and of the register of the reading just
 * before it in that chain (never of arrival order):
 *
 *   no earlier register reading   0 kWh, event `first` (the baseline)
 *   register >= previous          register - previous, or 0 and event `jump` above the bound
 *   register <  previous          event `reset`: counts from zero, i.e. the register itself
 *                                 (0 if that is above the bound)
 *
 * So storing a reading changes at most two energies: its own and that of the next register
 * reading of the same device (a late reading lands between two stored ones). That is all
 * `deriveRegisterEnergy` recomputes, which keeps the chain equal to the rule above for any
 * arrival order, any batches and any duplicates (a duplicate is not stored, so it changes
 * nothing). Energy across a gap in the readings is counted by the reading that closes it.
 *
 * Interval readings of the same device (energy columns given directly) are not part of the
 * chain: a device should send one form.
 *
 * Several writers (API instances, stream consumers) on a server: two transactions storing
 * neighbouring readings of one device could each compute against a chain without the other's
 * reading and count the same energy twice. `lockRegisterDevices` serialises writers per
 * device for the rest of the transaction, and since every statement at READ COMMITTED takes a
 * fresh snapshot, the statements after the lock see every chain change committed before it.
 * Locks are taken in key order, so two batches sharing devices cannot deadlock. The embedded
 * database has one session, where the lock never waits.
 */

/** Advisory lock class of the register chains (the first key of pg_advisory_xact_lock). */
const REGISTER_CHAIN_LOCK_CLASS = 7_100_001;

const CHAIN_TABLES = {
  meter: { history: 'meter_telemetry_history', live: 'meter_live', id: 'meter_id', energy: 'kwh_consumed_ac' },
  vehicle: { history: 'vehicle_telemetry_history', live: 'vehicle_live', id: 'vehicle_id', energy: 'kwh_delivered_dc' },
} as const;

/** A stored register reading, by device and timestamp. */
export interface RegisterKey {
  deviceId: string;
  timestamp: Date;
}

/** Serialises register-chain writers per device until the transaction ends. */
export async function lockRegisterDevices(trx: Db, stream: Stream, deviceIds: readonly string[]): Promise<void> {
  if (deviceIds.length === 0) return;
  await sql`
    SELECT pg_advisory_xact_lock(${REGISTER_CHAIN_LOCK_CLASS}, key)
    FROM (
      SELECT DISTINCT hashtext(${stream} || ':' || id) AS key FROM unnest(${[...deviceIds]}::text[]) AS t (id)
      ORDER BY key
    ) AS keys`.execute(trx);
}

/**
 * Sets the energy and event of the register readings just stored and of the next register
 * reading after each (see the header), and the live row's energy where it shows one of
 * them. Runs in the transaction that stored the readings, after `lockRegisterDevices`.
 * Returns how many stored energies changed.
 */
export async function deriveRegisterEnergy(trx: Db, stream: Stream, stored: readonly RegisterKey[]): Promise<number> {
  if (stored.length === 0) return 0;
  const t = CHAIN_TABLES[stream];
  const history = sql.table(t.history);
  const id = sql.ref(t.id);
  const energy = sql.ref(t.energy);
  const result = await sql<{ changed: number }>`
    WITH stored AS (
      SELECT * FROM unnest(
        ${stored.map((key) => key.deviceId)}::text[],
        ${stored.map((key) => key.timestamp.toISOString())}::timestamptz[]
      ) AS s (device_id, ts)
    ), affected AS (
      SELECT device_id, ts FROM stored
      UNION
      SELECT s.device_id, next.ts
      FROM stored s
      CROSS JOIN LATERAL (
        SELECT h.ts FROM ${history} h
        WHERE h.${id} = s.device_id AND h.ts > s.ts AND h.kwh_register IS NOT NULL
        ORDER BY h.ts LIMIT 1
      ) next
    ), chain AS (
      SELECT a.device_id, a.ts, cur.kwh_register AS register, prev.kwh_register AS previous
      FROM affected a
      JOIN ${history} cur ON cur.${id} = a.device_id AND cur.ts = a.ts
      LEFT JOIN LATERAL (
        SELECT h.kwh_register FROM ${history} h
        WHERE h.${id} = a.device_id AND h.ts < a.ts AND h.kwh_register IS NOT NULL
        ORDER BY h.ts DESC LIMIT 1
      ) prev ON true
    ), derived AS (
      SELECT device_id, ts,
        CASE
          WHEN previous IS NULL THEN 'first'
          WHEN register < previous THEN 'reset'
          WHEN register - previous > ${MAX_INTERVAL_KWH} THEN 'jump'
        END AS event,
        (CASE
          WHEN previous IS NULL THEN 0
          WHEN register < previous THEN CASE WHEN register > ${MAX_INTERVAL_KWH} THEN 0 ELSE register END
          WHEN register - previous > ${MAX_INTERVAL_KWH} THEN 0
          ELSE register - previous
        END)::float8 AS kwh
      FROM chain
    ), history_updated AS (
      UPDATE ${history} h SET ${energy} = d.kwh, register_event = d.event
      FROM derived d
      WHERE h.${id} = d.device_id AND h.ts = d.ts
        AND (h.${energy}, h.register_event) IS DISTINCT FROM (d.kwh, d.event)
      RETURNING 1
    ), live_updated AS (
      UPDATE ${sql.table(t.live)} l SET ${energy} = d.kwh
      FROM derived d
      WHERE l.${id} = d.device_id AND l.ts = d.ts AND l.${energy} IS DISTINCT FROM d.kwh
      RETURNING 1
    )
    SELECT (SELECT count(*) FROM history_updated)::int AS changed, (SELECT count(*) FROM live_updated) AS live`.execute(
    trx,
  );
  return result.rows[0]?.changed ?? 0;
}
