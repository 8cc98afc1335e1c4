import type { Generated } from 'kysely';

import type { ChunkSummary } from './chunk-summary.js';

/** Per raw hypertable: retention mode (enabled false) or archive mode. Changed by migrations only. */
export interface ArchiveSettingsTable {
  hypertable: string;
  stream: 'meter' | 'vehicle';
  enabled: boolean;
  hot_period: string;
  run_interval: string;
  updated_at: Generated<Date>;
}

export type ArchiveStatus = 'pending' | 'uploaded' | 'verified' | 'dropped';

/** One archived (or being archived) chunk: see migrations/1764201600011_archive.sql. */
export interface ArchiveManifestTable {
  hypertable: string;
  range_start: Date;
  range_end: Date;
  chunk_id: number;
  object_key: string;
  status: Generated<ArchiveStatus>;
  schema_version: number | null;
  row_count: number | null;
  min_ts: Date | null;
  max_ts: Date | null;
  device_summary: ChunkSummary | null;
  sha256: string | null;
  bytes: number | null;
  failures: Generated<number>;
  last_error: string | null;
  last_failed_at: Date | null;
  claimed_by: string | null;
  claimed_until: Date | null;
  hold_until: Date | null;
  verified_at: Date | null;
  dropped_at: Date | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}
