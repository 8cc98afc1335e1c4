import { sql } from 'kysely';

import type { Db } from '../db/database.js';
import { usToIso, type ArchiveRow, type StreamFormat } from './archive-format.js';

/** Keeps restored chunks from being dropped again before `until`. */
export async function holdRestored(db: Db, hypertable: string, rangeStarts: Date[], until: Date): Promise<void> {
  if (rangeStarts.length === 0) return;
  await db
    .updateTable('archive_manifest')
    .set({ hold_until: until, updated_at: sql<Date>`now()` })
    .where('hypertable', '=', hypertable)
    .where('range_start', 'in', rangeStarts)
    .execute();
}

/**
 * Inserts archived rows back; rows already stored are skipped. Returns how many were inserted.
 * Registers go back from their text (`::numeric` keeps every digit and the scale) with their
 * events as archived: the energies derived from them are archived too, so nothing is derived again.
 */
export async function insertArchivedRows(db: Db, format: StreamFormat, rows: ArchiveRow[]): Promise<number> {
  if (rows.length === 0) return 0;
  const columns = sql.join([
    sql.ref(format.deviceColumn),
    sql`ts`,
    ...format.valueColumns.map((c) => sql.ref(c)),
    sql`received_at`,
    sql`kwh_register`,
    sql`register_event`,
  ]);
  const values = format.valueColumns.map((_, i) => sql`${rows.map((r) => r.values[i]!)}::float8[]`);
  const result = await sql<{ n: number }>`
    WITH inserted AS (
      INSERT INTO ${sql.table(format.hypertable)} (${columns})
      SELECT * FROM unnest(
        ${rows.map((r) => r.device)}::text[],
        ${rows.map((r) => usToIso(r.tsUs))}::timestamptz[],
        ${sql.join(values)},
        ${rows.map((r) => usToIso(r.receivedAtUs))}::timestamptz[],
        ${rows.map((r) => r.kwhRegister)}::numeric[],
        ${rows.map((r) => r.registerEvent)}::text[])
      ON CONFLICT DO NOTHING
      RETURNING 1)
    SELECT count(*) AS n FROM inserted`.execute(db);
  return result.rows[0]?.n ?? 0;
}
