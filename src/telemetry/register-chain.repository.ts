import { sql } from 'kysely';

import type { Db } from '../db/database.js';
import type { Stream } from './reading.js';
import type { ChainEnergy, StoredLink } from './register-chain.js';
import type { RegisterEvent } from './register-event.js';
import { STREAM_TABLES } from './stream-tables.js';

/**
 * SQL of the register chains (the rule is in register-chain.ts).
 *
 * Several writers (API instances, stream consumers) on a server: two transactions storing
 * neighbouring readings of one device could each derive against a chain without the other's
 * reading and count the same energy twice. `lockRegisterDevices` serialises writers per
 * device for the rest of the transaction, and since every statement at READ COMMITTED takes a
 * fresh snapshot, the statements after the lock (`findChainLinks`, the insert, `updateChainEnergies`)
 * see every chain change committed before it. Locks are taken in key order, so two batches
 * sharing devices cannot deadlock. The embedded database has one session: the lock never waits.
 */

/** Advisory lock class of the register chains (the first key of pg_advisory_xact_lock). */
const REGISTER_CHAIN_LOCK_CLASS = 7_100_001;

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

/** What to fetch of one device's chain: the span of the readings about to be stored. */
export interface ChainSpan {
  deviceId: string;
  from: Date;
  to: Date;
}

/**
 * Each device's stored register readings from the one just before `from` to the one just
 * after `to` (what `deriveChain` needs), oldest first.
 */
export async function findChainLinks(
  trx: Db,
  stream: Stream,
  spans: readonly ChainSpan[],
): Promise<Map<string, StoredLink[]>> {
  const links = new Map<string, StoredLink[]>();
  if (spans.length === 0) return links;
  const t = STREAM_TABLES[stream];
  const history = sql.table(t.history);
  const id = sql.ref(t.id);
  const energy = sql.ref(t.energy);
  const columns = sql`h.ts, h.kwh_register AS register, h.${energy} AS kwh, h.register_event AS event`;
  const result = await sql<{ device_id: string; ts: Date; register: number; kwh: number; event: RegisterEvent | null }>`
    SELECT s.device_id, l.*
    FROM unnest(
      ${spans.map((span) => span.deviceId)}::text[],
      ${spans.map((span) => span.from.toISOString())}::timestamptz[],
      ${spans.map((span) => span.to.toISOString())}::timestamptz[]
    ) AS s (device_id, from_ts, to_ts)
    CROSS JOIN LATERAL (
      (SELECT ${columns} FROM ${history} h
       WHERE h.${id} = s.device_id AND h.ts < s.from_ts AND h.kwh_register IS NOT NULL
       ORDER BY h.ts DESC LIMIT 1)
      UNION ALL
      (SELECT ${columns} FROM ${history} h
       WHERE h.${id} = s.device_id AND h.ts BETWEEN s.from_ts AND s.to_ts AND h.kwh_register IS NOT NULL)
      UNION ALL
      (SELECT ${columns} FROM ${history} h
       WHERE h.${id} = s.device_id AND h.ts > s.to_ts AND h.kwh_register IS NOT NULL
       ORDER BY h.ts LIMIT 1)
    ) AS l
    ORDER BY s.device_id, l.ts`.execute(trx);
  for (const row of result.rows) {
    const link: StoredLink = { ts: row.ts.getTime(), register: row.register, kwh: row.kwh, event: row.event };
    const list = links.get(row.device_id);
    if (list) list.push(link);
    else links.set(row.device_id, [link]);
  }
  return links;
}

/** A stored register reading whose energy changes (a late reading landed before it). */
export interface ChainUpdate extends ChainEnergy {
  deviceId: string;
  ts: number;
}

/** Writes changed energies of stored register readings, and of the live rows showing them. */
export async function updateChainEnergies(trx: Db, stream: Stream, updates: readonly ChainUpdate[]): Promise<void> {
  if (updates.length === 0) return;
  const t = STREAM_TABLES[stream];
  const id = sql.ref(t.id);
  const energy = sql.ref(t.energy);
  await sql`
    WITH changed AS (
      SELECT * FROM unnest(
        ${updates.map((u) => u.deviceId)}::text[],
        ${updates.map((u) => new Date(u.ts).toISOString())}::timestamptz[],
        ${updates.map((u) => u.kwh)}::float8[],
        ${updates.map((u) => u.event)}::text[]
      ) AS c (device_id, ts, kwh, event)
    ), live_updated AS (
      UPDATE ${sql.table(t.live)} l SET ${energy} = c.kwh
      FROM changed c WHERE l.${id} = c.device_id AND l.ts = c.ts
    )
    UPDATE ${sql.table(t.history)} h SET ${energy} = c.kwh, register_event = c.event
    FROM changed c WHERE h.${id} = c.device_id AND h.ts = c.ts`.execute(trx);
}
