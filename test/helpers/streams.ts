import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { sql } from 'kysely';

import type { Db } from '../../src/db/database.js';
import { createLogger } from '../../src/logger.js';
import { createMetrics, type Metrics } from '../../src/metrics/metrics.js';
import {
  KinesisConsumer,
  type ConsumedStream,
  type ConsumerHooks,
  type ConsumerOptions,
} from '../../src/streams/kinesis-consumer.js';
import { DAY_MS, MINUTE_MS } from '../../src/time.js';
import {
  EMULATOR_CREDENTIALS,
  EMULATOR_REGION,
  startKinesisEmulator,
  type KinesisEmulator,
} from '../../tools/harness/kinesis-emulator.js';
import { startTestService, type TestService } from './test-service.js';

/**
 * The local Kinesis emulator with `streams` created (name, shards), and a test service pointed at
 * it with `env` (its consumer takes the credentials from the SDK's default chain, as in production).
 */
export async function startEmulatorAndService(
  streams: [name: string, shards: number][],
  env: Record<string, string>,
): Promise<{ emulator: KinesisEmulator; svc: TestService }> {
  process.env.AWS_ACCESS_KEY_ID = EMULATOR_CREDENTIALS.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = EMULATOR_CREDENTIALS.secretAccessKey;
  const emulator = await startKinesisEmulator();
  await Promise.all(streams.map(([name, shards]) => emulator.createStream(name, shards)));
  const svc = await startTestService({
    AWS_ENDPOINT_URL_KINESIS: emulator.endpoint,
    AWS_REGION: EMULATOR_REGION,
    ...env,
  });
  return { emulator, svc };
}

export const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** Polls `check` until it returns true, failing after `timeoutMs` with `what`. */
export async function waitFor(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** A consumer with test timings (short leases, fast polls), its own metrics, no logs. */
export function testConsumer(
  db: Db,
  kinesis: KinesisClient,
  id: string,
  streams: ConsumedStream[],
  overrides: Partial<ConsumerOptions> & { hooks?: ConsumerHooks } = {},
): { consumer: KinesisConsumer; metrics: Metrics } {
  const metrics = createMetrics();
  const consumer = new KinesisConsumer(
    db,
    kinesis,
    {
      streams,
      consumerId: id,
      leaseDurationMs: 1_500,
      pollIntervalMs: 200,
      maxRecords: 100,
      initialPosition: 'TRIM_HORIZON',
      rules: { maxAgeMs: () => 30 * DAY_MS, maxFutureMs: 5 * MINUTE_MS, maxReadings: 5000 },
      maxReadingsPerCommit: 10_000,
      ...overrides,
    },
    metrics.streams,
    createLogger('silent'),
  );
  return { consumer, metrics };
}

export interface LeaseState {
  shardId: string;
  owner: string | null;
  counter: number;
  checkpoint: string | null;
  finished: boolean;
  parents: string[];
}

export async function leasesOf(db: Db, stream: string): Promise<LeaseState[]> {
  const rows = await db
    .selectFrom('stream_shard_lease')
    .select(['shard_id', 'owner', 'lease_counter', 'checkpoint', 'finished_at', 'parent_shard_ids'])
    .where('stream_name', '=', stream)
    .orderBy('shard_id')
    .execute();
  return rows.map((row) => ({
    shardId: row.shard_id,
    owner: row.owner,
    counter: row.lease_counter,
    checkpoint: row.checkpoint,
    finished: row.finished_at !== null,
    parents: row.parent_shard_ids,
  }));
}

/** Whether every shard's checkpoint reached the last record put to it. */
export async function caughtUp(db: Db, stream: string, put: { sequenceNumber: string; shardId: string }[]) {
  const last = new Map<string, bigint>();
  for (const record of put) {
    const seq = BigInt(record.sequenceNumber);
    if ((last.get(record.shardId) ?? -1n) < seq) last.set(record.shardId, seq);
  }
  const leases = new Map((await leasesOf(db, stream)).map((lease) => [lease.shardId, lease]));
  return [...last].every(([shardId, seq]) => {
    const checkpoint = leases.get(shardId)?.checkpoint;
    return checkpoint != null && BigInt(checkpoint) >= seq;
  });
}

/** The stored meter readings of these meters, as `meterId@iso` (sorted). */
export async function storedMeterReadings(db: Db, prefix: string): Promise<string[]> {
  const rows = await db
    .selectFrom('meter_telemetry_history')
    .select(['meter_id', 'ts'])
    .where('meter_id', 'like', `${prefix}%`)
    .execute();
  return rows.map((row) => `${row.meter_id}@${row.ts.toISOString()}`).sort();
}

export async function count(db: Db, table: 'meter_telemetry_history' | 'vehicle_telemetry_history', prefix: string) {
  const column = table === 'meter_telemetry_history' ? sql.ref('meter_id') : sql.ref('vehicle_id');
  const result = await sql<{
    n: number;
  }>`SELECT count(*)::int AS n FROM ${sql.table(table)} WHERE ${column} LIKE ${`${prefix}%`}`.execute(db);
  return result.rows[0]!.n;
}

export function metricValue(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}
