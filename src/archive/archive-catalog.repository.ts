import { sql } from 'kysely';

import type { Db } from '../db/database.js';
import { chunkIdOf } from '../timescaledb/timescaledb-catalog.repository.js';

/** A chunk of a raw hypertable, as TimescaleDB's catalog describes it. */
export interface ChunkRef {
  chunkId: number;
  schema: string;
  table: string;
  rangeStart: Date;
  rangeEnd: Date;
  compressed: boolean;
}

/** The chunks of `hypertable` that end at or before `olderThan`, oldest first. */
export async function listChunksEndingBy(db: Db, hypertable: string, olderThan: Date): Promise<ChunkRef[]> {
  const result = await sql<{
    chunk_id: number;
    chunk_schema: string;
    chunk_name: string;
    range_start: Date;
    range_end: Date;
    is_compressed: boolean;
  }>`
    SELECT ${chunkIdOf('c.chunk_schema', 'c.chunk_name')} AS chunk_id, c.chunk_schema, c.chunk_name, c.range_start,
           c.range_end, c.is_compressed
      FROM timescaledb_information.chunks c
     WHERE c.hypertable_schema = current_schema() AND c.hypertable_name = ${hypertable}
       AND c.range_end <= ${olderThan}
     ORDER BY c.range_start`.execute(db);
  return result.rows.map((row) => ({
    chunkId: row.chunk_id,
    schema: row.chunk_schema,
    table: row.chunk_name,
    rangeStart: row.range_start,
    rangeEnd: row.range_end,
    compressed: row.is_compressed,
  }));
}
