import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import test from 'ava';

import { createDb, type DbHandle } from '../../src/db/create-db.js';
import { migrate } from '../../src/db/migrate.js';
import { waitForDatabase } from '../../src/db/wait-for-database.js';
import { startEmbeddedDb, type EmbeddedDb } from '../../src/embedded/embedded-db.js';
import { createLogger } from '../../src/logger.js';
import {
  EMULATOR_CREDENTIALS,
  EMULATOR_REGION,
  startKinesisEmulator,
  type KinesisEmulator,
  type PutRecord,
} from '../../tools/harness/kinesis-emulator.js';
import { caughtUp, leasesOf, storedMeterReadings, testConsumer, waitFor } from '../helpers/streams.js';
import { meterReading } from '../helpers/test-service.js';

// The embedded database serves one client at a time: the consumer child while it runs, the
// test (through `withDb`) in between.
let edb: EmbeddedDb;
let emulator: KinesisEmulator;
let persistDir: string;

test.before(async () => {
  persistDir = await mkdtemp(join(tmpdir(), 'kinesis-'));
  [edb, emulator] = await Promise.all([
    startEmbeddedDb({ dataDir: undefined, host: '127.0.0.1', port: 0 }),
    startKinesisEmulator({ persistDir }),
  ]);
  await migrate({ databaseUrl: edb.url });
});

test.after.always(async () => {
  await emulator?.stop();
  await edb?.stop();
  if (persistDir) await rm(persistDir, { recursive: true, force: true });
});

async function withDb<T>(run: (handle: DbHandle) => Promise<T>): Promise<T> {
  const handle = createDb({
    url: edb.url,
    max: 1,
    statementTimeoutMs: 10_000,
    lockTimeoutMs: 5_000,
    logger: createLogger('silent'),
  });
  try {
    await waitForDatabase(handle.db, 20_000);
    return await run(handle);
  } finally {
    await handle.close();
  }
}

interface Child {
  process: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The last checkpoint reported per shard. */
  checkpoints: Map<string, string>;
  output: () => string;
}

function startChild(stream: string, env: Record<string, string> = {}): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/stream-consumer-child.ts'], {
    env: {
      PATH: process.env.PATH,
      DATABASE_URL: edb.url,
      DATABASE_POOL_MAX: '1',
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'warn',
      KINESIS_STREAMS: `${stream}:meter`,
      KINESIS_LEASE_DURATION_MS: '2000',
      KINESIS_POLL_INTERVAL_MS: '200',
      KINESIS_MAX_RECORDS: '10',
      AWS_ENDPOINT_URL_KINESIS: emulator.endpoint,
      AWS_REGION: EMULATOR_REGION,
      AWS_ACCESS_KEY_ID: EMULATOR_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: EMULATOR_CREDENTIALS.secretAccessKey,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-8000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const checkpoints = new Map<string, string>();
  child.on('message', (message: { type: string; shardId?: string; checkpoint?: string }) => {
    if (message.type === 'committed' && message.checkpoint) checkpoints.set(message.shardId!, message.checkpoint);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
    child.once('exit', (code, signal) => done({ code, signal })),
  );
  return { process: child, exited, checkpoints, output: () => output };
}

function reachedEnd(child: Child, put: PutRecord[]): boolean {
  return put.every((record) => {
    const checkpoint = child.checkpoints.get(record.shardId);
    return checkpoint !== undefined && BigInt(checkpoint) >= BigInt(record.sequenceNumber);
  });
}

test.serial(
  'a consumer killed (SIGKILL) inside a commit, then restarted: exactly the records on the stream are stored',
  async (t) => {
    await emulator.createStream('crash', 2);
    const base = Date.now() - 60 * 60_000;
    const records = Array.from({ length: 60 }, (_, i) => ({
      // Each record two readings; some records repeat (a producer's retry).
      data: [0, 1].map((j) => meterReading(`crash-m${i % 6}`, new Date(base + (i * 2 + j) * 30_000))),
      partitionKey: `p${i % 6}`,
    }));
    const put = await emulator.put('crash', [...records, ...records.filter((_, i) => i % 7 === 0)]);
    const expected = records
      .flatMap((r) => r.data)
      .map((reading) => `${reading.meterId}@${new Date(reading.timestamp).toISOString()}`)
      .sort();

    const first = startChild('crash', { CRASH_ON_COMMIT: '4' });
    const { signal } = await first.exited;
    t.is(signal, 'SIGKILL', first.output());

    // What the killed consumer left: each shard's rows are exactly those of its records up to
    // its checkpoint (three commits), nothing of the fourth.
    const afterCrash = await withDb(async ({ db }) => ({
      leases: await leasesOf(db, 'crash'),
      stored: await storedMeterReadings(db, 'crash-'),
    }));
    const upTo = (shard: string, checkpoint: string | null) =>
      put
        .map((record, i) => ({ record, data: [...records, ...records.filter((_, k) => k % 7 === 0)][i]!.data }))
        .filter(
          ({ record }) =>
            record.shardId === shard && checkpoint !== null && BigInt(record.sequenceNumber) <= BigInt(checkpoint),
        )
        .flatMap(({ data }) => data.map((r) => `${r.meterId}@${new Date(r.timestamp).toISOString()}`));
    const committed = [...new Set(afterCrash.leases.flatMap((lease) => upTo(lease.shardId, lease.checkpoint)))].sort();
    t.true(committed.length > 0);
    t.true(committed.length < expected.length);
    t.deepEqual(afterCrash.stored, committed);

    // Restarted: it waits for the dead consumer's lease to expire, resumes from the checkpoints.
    const second = startChild('crash');
    await waitFor('the restarted consumer to reach the end', () => reachedEnd(second, put), 60_000);
    second.process.send({ type: 'stop' });
    t.is((await second.exited).code, 0, second.output());
    const final = await withDb(async ({ db }) => ({
      stored: await storedMeterReadings(db, 'crash-'),
      leases: await leasesOf(db, 'crash'),
    }));
    t.deepEqual(final.stored, expected);
    t.true(final.leases.every((lease) => lease.owner === null)); // released on a graceful stop
  },
);

test.serial('the emulator restarted: the consumer backs off and resumes from its checkpoint', async (t) => {
  await emulator.createStream('restart', 1);
  const base = Date.now() - 30 * 60_000;
  const batch = (from: number) =>
    Array.from({ length: 20 }, (_, i) => ({
      data: meterReading('restart-m1', new Date(base + (from + i) * 30_000)),
      partitionKey: 'k',
    }));
  await withDb(async ({ db }) => {
    const { consumer, metrics } = testConsumer(db, emulator.client, 'restart-a', [{ name: 'restart', kind: 'meter' }]);
    t.teardown(() => consumer.stop());
    consumer.start();
    const before = await emulator.put('restart', batch(0));
    await waitFor('the first records', () => caughtUp(db, 'restart', before));
    // Restart the emulator once its file holds these records (it writes every 200 ms, a loaded machine later).
    const persisted = join(persistDir, 'kinesis-data.json');
    await waitFor('the emulator to persist the first records', async () => {
      const text = await readFile(persisted, 'utf8').catch(() => '');
      return before.every((record) => text.includes(`"SequenceNumber":"${record.sequenceNumber}"`));
    });
    await emulator.restart();
    const after = await emulator.put('restart', batch(20));
    await waitFor('the records after the restart', () => caughtUp(db, 'restart', after), 60_000);
    t.is((await storedMeterReadings(db, 'restart-')).length, 40);
    const text = await metrics.registry.metrics();
    t.regex(text, /ev_stream_errors_total\{stream_name="restart",kind="kinesis"\} [1-9]/);
    await consumer.stop();
  });
});
