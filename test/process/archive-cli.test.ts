import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import test from 'ava';
import { sql } from 'kysely';

import { queryArchive } from '../../src/archive/archive-restore.js';
import { S3ObjectStore } from '../../src/archive/object-store.js';
import { loadConfig } from '../../src/config/config.js';
import { MINUTE_MS, SECOND_MS } from '../../src/time.js';
import { startTestS3, type TestS3 } from '../../tools/harness/s3-server.js';
import { DEMO_DAYS } from '../../tools/local/archive-demo-data.js';
import { freePort } from '../../tools/net/free-port.js';
import { waitFor } from '../helpers/streams.js';
import { embeddedOnly, serverUnderTest } from '../helpers/test-database.js';
import { startTestService } from '../helpers/test-service.js';

/*
 * `npm run archive -- run` as cron runs it, on an embedded data folder prepared by
 * `npm run local:archive-demo` (5 days x 2 streams: 10 chunks due): its exit code when the
 * store is unreachable, and a run killed with SIGKILL in the middle of a chunk.
 */
const CHUNKS = 2 * (DEMO_DAYS.from - DEMO_DAYS.to);
let dir: string;
let dataDir: string;
let demo: { from: string; to: string; meterReadings: number; vehicleReadings: number };
let s3: TestS3 | undefined;

interface Cli {
  pid: number;
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
  kill(): void;
}

/** Runs a script as npm does (node with tsx), DATA_DIR the test's folder, no DATABASE_URL. */
function runScript(path: string, args: string[], env: Record<string, string> = {}): Cli {
  const inherited = { ...process.env };
  delete inherited.DATABASE_URL;
  const child = spawn(process.execPath, ['--import', 'tsx', path, ...args], {
    env: { ...inherited, DATA_DIR: dataDir, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return {
    pid: child.pid!,
    done: new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }))),
    kill: () => child.kill('SIGKILL'),
  };
}

const lastJson = (stdout: string) => JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;

test.before(async () => {
  if (serverUnderTest) return;
  dir = await mkdtemp(join(tmpdir(), 'ev-archive-cli-'));
  dataDir = join(dir, 'data');
  const seeded = await runScript('tools/local/archive-demo.ts', []).done;
  if (seeded.code !== 0) throw new Error(`archive-demo failed: ${seeded.stderr}`);
  demo = JSON.parse(seeded.stdout) as typeof demo;
});

test.after.always(async () => {
  await s3?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

embeddedOnly('the CLI runs on an embedded data folder', { serial: true })(
  'a run in which every chunk failed (the store unreachable) exits 4, with its report',
  async (t) => {
    t.timeout(3 * 60_000);
    const closed = await freePort();
    const run = await runScript('src/runtime/archive-cli.ts', ['run'], {
      ARCHIVE_BUCKET: 'nowhere',
      AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${closed}`,
      AWS_ACCESS_KEY_ID: 'x',
      AWS_SECRET_ACCESS_KEY: 'x',
      AWS_MAX_ATTEMPTS: '1',
    }).done;
    t.like(lastJson(run.stdout), { archived: 0, failed: CHUNKS });
    t.is(run.code, 4, run.stderr);
  },
);

embeddedOnly('the CLI runs on an embedded data folder', { serial: true })(
  'a run killed mid-chunk: its claim lapses within a minute, the next run archives everything once',
  async (t) => {
    t.timeout(5 * 60_000);
    s3 = await startTestS3();
    const killed = runScript('src/runtime/archive-cli.ts', ['run'], s3.env);
    let killedAt = 0;
    // The first object is written: the run is between its upload and its read-back.
    s3.onPut(() => {
      if (killedAt !== 0) return;
      killedAt = Date.now();
      killed.kill();
    });
    const end = await killed.done;
    t.is(end.signal, 'SIGKILL', `the run ended before it was killed: ${end.stdout} ${end.stderr}`);

    // The dead run's claim is left behind, but only for one lease period.
    const svc = await startTestService({ DATA_DIR: dataDir, ...s3.env });
    const db = svc.dbHandle.maintenanceDb;
    const claims = await db
      .selectFrom('archive_manifest')
      .select(['claimed_by', 'claimed_until'])
      .where('claimed_by', 'is not', null)
      .execute();
    t.is(claims.length, 1);
    t.regex(claims[0]!.claimed_by!, new RegExp(`:${killed.pid}:`));
    const until = claims[0]!.claimed_until!.getTime();
    t.true(until <= killedAt + MINUTE_MS + SECOND_MS, `claimed until ${until - killedAt} ms after the kill`);
    await waitFor(
      'the dead claim to lapse',
      async () =>
        (await sql<{ lapsed: boolean }>`SELECT ${new Date(until)} < now() AS lapsed`.execute(db)).rows[0]!.lapsed,
      MINUTE_MS + 30 * SECOND_MS,
    );
    await svc.stop();

    const next = await runScript('src/runtime/archive-cli.ts', ['run'], s3.env).done;
    t.is(next.code, 0, next.stderr);
    t.like(lastJson(next.stdout), { archived: CHUNKS, failed: 0, busy: 0 });

    // Nothing lost, nothing doubled: one object per chunk, every reading once in the archive.
    const store = new S3ObjectStore(loadConfig(s3.env).archive!);
    t.teardown(() => store.destroy());
    t.is((await store.list('archive/')).length, CHUNKS);
    const after = await startTestService({ DATA_DIR: dataDir, ...s3.env });
    try {
      const range = { from: new Date(demo.from), to: new Date(demo.to) };
      for (const [stream, written] of [
        ['meter', demo.meterReadings],
        ['vehicle', demo.vehicleReadings],
      ] as const) {
        const keys = new Set<string>();
        let rows = 0;
        for await (const batch of queryArchive(after.dbHandle.maintenanceDb, store, { stream, ...range })) {
          for (const row of batch) keys.add(`${row.device}/${row.tsUs}`);
          rows += batch.length;
        }
        t.deepEqual([rows, keys.size], [written, written], `${stream}: every reading archived once`);
      }
      const left = await sql<{ n: number }>`SELECT count(*)::int AS n FROM meter_telemetry_history`.execute(
        after.dbHandle.maintenanceDb,
      );
      t.is(left.rows[0]!.n, 0, 'the archived chunks were dropped');
    } finally {
      await after.stop();
    }
  },
);
