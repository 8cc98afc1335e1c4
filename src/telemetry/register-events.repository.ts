import { sql } from 'kysely';

import type { Db } from '../db/database.js';
import { KIND_TABLES } from './kind-tables.js';
import type { ReadingKind } from './reading.js';
import type { RegisterEvent } from './register-event.js';

export interface RegisterEventRow {
  ts: Date;
  register_event: RegisterEvent;
  kwh_register: number;
  kwh: number;
}

/** A device's register events in [from, to), oldest first, at most `limit`. */
export async function listRegisterEvents(
  db: Db,
  stream: ReadingKind,
  deviceId: string,
  window: { from?: Date | undefined; to?: Date | undefined },
  limit: number,
): Promise<RegisterEventRow[]> {
  const t = KIND_TABLES[stream];
  const result = await sql<RegisterEventRow>`
    SELECT ts, register_event, kwh_register, ${sql.ref(t.energy)} AS kwh
    FROM ${sql.table(t.history)}
    WHERE ${sql.ref(t.id)} = ${deviceId} AND register_event IS NOT NULL
      ${window.from ? sql`AND ts >= ${window.from}` : sql``}
      ${window.to ? sql`AND ts < ${window.to}` : sql``}
    ORDER BY ts
    LIMIT ${limit}`.execute(db);
  return result.rows;
}
