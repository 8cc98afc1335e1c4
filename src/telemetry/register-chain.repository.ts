import { sql } from 'kysely';

import type { Db } from '../db/database.js';
import { KIND_TABLES } from './kind-tables.js';
import type { ReadingKind } from './reading.js';
import type { ChainContext, LinkEnergy, StoredLink } from './register-chain.js';
import type { RegisterEvent } from './register-event.js';

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
export async function lockRegisterDevices(trx: Db, stream: ReadingKind, deviceIds: readonly string[]): Promise<void> {
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

/** One device's stored chain around a span (what `deriveChain` needs). */
export interface StoredChain extends ChainContext {
  links: StoredLink[];
  occupied: number[];
}

interface ChainRow {
  device_id: string;
  ts: Date;
  register: number | null;
  kwh: number;
  event: RegisterEvent | null;
  previous_ts: Date | null;
  previous_register: number | null;
  live: boolean;
}

/**
 * Each device's stored register readings from the one just before `from` to the one just
 * after `to`, the instants of its interval readings between them, and its live row's
 * register reading (the newest ever stored: it stands in when retention dropped them all).
 */
export async function findChainLinks(
  trx: Db,
  stream: ReadingKind,
  spans: readonly ChainSpan[],
): Promise<Map<string, StoredChain>> {
  const chains = new Map<string, StoredChain>();
  if (spans.length === 0) return chains;
  const t = KIND_TABLES[stream];
  const history = sql.table(t.history);
  const id = sql.ref(t.id);
  const energy = sql.ref(t.energy);
  const columns = sql`h.ts, h.kwh_register AS register, h.${energy} AS kwh, h.register_event AS event,
    h.previous_ts, h.previous_register, false AS live`;
  const result = await sql<ChainRow>`
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
       WHERE h.${id} = s.device_id AND h.ts BETWEEN s.from_ts AND s.to_ts)
      UNION ALL
      (SELECT ${columns} FROM ${history} h
       WHERE h.${id} = s.device_id AND h.ts > s.to_ts AND h.kwh_register IS NOT NULL
       ORDER BY h.ts LIMIT 1)
      UNION ALL
      (SELECT v.ts, v.kwh_register, 0, NULL, NULL, NULL, true FROM ${sql.table(t.live)} v
       WHERE v.${id} = s.device_id AND v.kwh_register IS NOT NULL)
    ) AS l
    ORDER BY s.device_id, l.ts`.execute(trx);
  for (const row of result.rows) {
    let chain = chains.get(row.device_id);
    if (!chain) chains.set(row.device_id, (chain = { links: [], occupied: [] }));
    if (row.live) {
      if (row.register !== null) chain.newest = { ts: row.ts.getTime(), register: row.register };
      continue;
    }
    if (row.register === null) {
      chain.occupied.push(row.ts.getTime());
      continue;
    }
    chain.links.push({
      ts: row.ts.getTime(),
      register: row.register,
      kwh: row.kwh,
      event: row.event,
      previous:
        row.previous_ts && row.previous_register !== null
          ? { ts: row.previous_ts.getTime(), register: row.previous_register }
          : null,
    });
  }
  return chains;
}

/** A stored register reading whose energy or link changes (a late reading landed before it). */
export interface ChainUpdate extends LinkEnergy {
  deviceId: string;
  ts: number;
}

/** Writes changed energies and links of stored register readings, and the energies of the live rows showing them. */
export async function updateChainEnergies(
  trx: Db,
  stream: ReadingKind,
  updates: readonly ChainUpdate[],
): Promise<void> {
  if (updates.length === 0) return;
  const t = KIND_TABLES[stream];
  const id = sql.ref(t.id);
  const energy = sql.ref(t.energy);
  await sql`
    WITH changed AS (
      SELECT * FROM unnest(
        ${updates.map((u) => u.deviceId)}::text[],
        ${updates.map((u) => new Date(u.ts).toISOString())}::timestamptz[],
        ${updates.map((u) => u.kwh)}::float8[],
        ${updates.map((u) => u.event)}::text[],
        ${updates.map((u) => (u.previous ? new Date(u.previous.ts).toISOString() : null))}::timestamptz[],
        ${updates.map((u) => u.previous?.register ?? null)}::numeric[]
      ) AS c (device_id, ts, kwh, event, previous_ts, previous_register)
    ), live_updated AS (
      UPDATE ${sql.table(t.live)} l SET ${energy} = c.kwh
      FROM changed c WHERE l.${id} = c.device_id AND l.ts = c.ts
    )
    UPDATE ${sql.table(t.history)} h
    SET ${energy} = c.kwh, register_event = c.event, previous_ts = c.previous_ts, previous_register = c.previous_register
    FROM changed c WHERE h.${id} = c.device_id AND h.ts = c.ts`.execute(trx);
}
