import { sql } from 'kysely';

import type { Db } from '../db/database.js';

export interface ScheduledJob {
  jobId: number;
  procName: string;
  scheduleIntervalMs: number;
}

/** TimescaleDB's registered background jobs (policies). */
export async function listScheduledJobs(db: Db): Promise<ScheduledJob[]> {
  const result = await sql<{ job_id: number; proc_name: string; interval_ms: number }>`
    SELECT job_id, proc_name, (extract(epoch FROM schedule_interval) * 1000)::float8 AS interval_ms
    FROM timescaledb_information.jobs
    WHERE scheduled AND job_id >= 1000
    ORDER BY job_id`.execute(db);
  return result.rows.map((row) => ({
    jobId: row.job_id,
    procName: row.proc_name,
    scheduleIntervalMs: row.interval_ms,
  }));
}

export async function runJob(db: Db, jobId: number): Promise<void> {
  await sql`CALL run_job(${jobId})`.execute(db);
}
