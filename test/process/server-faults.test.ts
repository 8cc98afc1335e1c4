import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

import test, { type ExecutionContext } from 'ava';
import postgres from 'postgres';

import { fileDatabaseUrl, serverUnderTest } from '../helpers/test-database.js';
import { startTestService, type TestService } from '../helpers/test-service.js';

/**
 * Faults of a real TimescaleDB server under the service: its backends frozen and resumed, the
 * server stopped (immediate: a crash, as clients see it) and started again under load, and
 * three instances writing overlapping batches. The invariant each time: every 202'd reading is
 * stored, every other answer is a 503 with Retry-After (never a 500), and the service recovers
 * by itself within seconds.
 *
 * It needs a server it may freeze and stop: TEST_DATABASE_URL plus TEST_SERVER_PGDATA (its data
 * directory, on this machine) and TEST_SERVER_PGBIN (the directory of its pg_ctl). It stops the
 * whole server, so run it on its own, not beside other test files on the same server:
 *   TEST_DATABASE_URL=… TEST_SERVER_PGDATA=… TEST_SERVER_PGBIN=… npx ava test/process/server-faults.test.ts
 */
const pgData = process.env.TEST_SERVER_PGDATA;
const pgBin = process.env.TEST_SERVER_PGBIN;
const available = serverUnderTest && pgData !== undefined && pgBin !== undefined;
const serverTest = available ? test.serial : test.skip;
const suffix = available
  ? ''
  : ' [needs TEST_DATABASE_URL, TEST_SERVER_PGDATA and TEST_SERVER_PGBIN: a server it may stop]';

const asRoot = process.getuid?.() === 0;
const pgCtl = (...args: string[]) => {
  const command = join(pgBin!, 'pg_ctl');
  execFileSync(asRoot ? 'runuser' : command, asRoot ? ['-u', 'postgres', '--', command, ...args] : args, {
    stdio: 'pipe',
  });
};
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** Another session on the file's database (what any other instance sees). */
async function withDirect<T>(work: (sql: postgres.Sql) => Promise<T>): Promise<T> {
  const sql = postgres(await fileDatabaseUrl(), { max: 1, onnotice: () => undefined, connect_timeout: 5 });
  try {
    return await work(sql);
  } finally {
    await sql.end();
  }
}

const storedMeterReadings = (prefix: string) =>
  withDirect(async (sql) => {
    const rows = await sql<{ meter_id: string; ts: Date }[]>`
      SELECT meter_id, ts FROM meter_telemetry_history WHERE meter_id LIKE ${`${prefix}%`}`;
    return new Set(rows.map((row) => `${row.meter_id}@${row.ts.toISOString()}`));
  });

interface LoadResult {
  acknowledged: string[];
  statuses: Map<number, number>;
  withoutRetryAfter: number;
}

/** Clients posting single readings (each a new meter + instant) until `until()`; records every answer. */
async function load(service: TestService, prefix: string, clients: number, until: () => boolean): Promise<LoadResult> {
  const result: LoadResult = { acknowledged: [], statuses: new Map(), withoutRetryAfter: 0 };
  const base = Date.now() - 60 * 60_000;
  let next = 0;
  const client = async () => {
    while (!until()) {
      const n = (next += 1);
      const reading = {
        meterId: `${prefix}${n % 40}`,
        kwhConsumedAc: 0.01,
        voltage: 230,
        // 100 ms apart: 36,000 requests fit in the past hour (1 s apart, a fast server ran
        // into the future within the run and got 400s for it).
        timestamp: new Date(base + n * 100).toISOString(),
      };
      try {
        const res = await service.post('/v1/ingestion/meter', reading);
        result.statuses.set(res.status, (result.statuses.get(res.status) ?? 0) + 1);
        if (res.status === 202) result.acknowledged.push(`${reading.meterId}@${reading.timestamp}`);
        else if (res.status === 503 && res.headers.get('retry-after') === null) result.withoutRetryAfter += 1;
      } catch {
        result.statuses.set(0, (result.statuses.get(0) ?? 0) + 1);
      }
    }
  };
  await Promise.all(Array.from({ length: clients }, client));
  return result;
}

async function assertEveryAcknowledgedStored(t: ExecutionContext, prefix: string, result: LoadResult) {
  const stored = await storedMeterReadings(prefix);
  const missing = result.acknowledged.filter((key) => !stored.has(key));
  t.deepEqual(missing, [], `${missing.length} of ${result.acknowledged.length} acknowledged readings are not stored`);
  const statuses = Object.fromEntries(result.statuses);
  t.deepEqual(
    Object.keys(statuses).filter((status) => status !== '202' && status !== '503'),
    [],
    `only 202 and 503: ${JSON.stringify(statuses)}`,
  );
  t.is(result.withoutRetryAfter, 0, 'every 503 carries Retry-After');
}

/** Polls until a reading is acknowledged again; returns how long that took. */
async function recoveryMs(service: TestService, meterId: string, timeoutMs = 30_000): Promise<number> {
  const startedAt = Date.now();
  for (let i = 0; Date.now() - startedAt < timeoutMs; i += 1) {
    const res = await service.post('/v1/ingestion/meter', {
      meterId,
      kwhConsumedAc: 0.01,
      voltage: 230,
      timestamp: new Date(Date.now() - 60_000 - i).toISOString(),
    });
    if (res.status === 202) return Date.now() - startedAt;
    await sleep(100);
  }
  return Infinity;
}

serverTest(`the instance's backends frozen for 15 s and resumed: nothing acknowledged is lost${suffix}`, async (t) => {
  const service = await startTestService({ DATABASE_POOL_MAX: '2', DATABASE_STATEMENT_TIMEOUT_MS: '5000' });
  try {
    let done = false;
    const running = load(service, 'frz-', 4, () => done);
    await sleep(1_000);
    const pids = await withDirect(async (sql) => {
      const rows = await sql<{ pid: number }[]>`
        SELECT pid FROM pg_stat_activity WHERE datname = current_database()
           AND application_name = 'ev-telemetry' AND pid <> pg_backend_pid()`;
      return rows.map((row) => row.pid);
    });
    t.true(pids.length > 0);
    for (const pid of pids) process.kill(pid, 'SIGSTOP');
    await sleep(15_000);
    for (const pid of pids) process.kill(pid, 'SIGCONT');
    t.true((await recoveryMs(service, 'frz-probe')) < 15_000, 'ingest recovers within seconds');
    await sleep(3_000); // keep writing after the resume: a leaked transaction would swallow these
    done = true;
    const result = await running;
    t.true(result.acknowledged.length > 0);
    await assertEveryAcknowledgedStored(t, 'frz-', result);
    const open = await withDirect(
      (sql) => sql<{ n: number }[]>`
        SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database()
           AND application_name = 'ev-telemetry' AND state LIKE 'idle in transaction%'`,
    );
    t.is(open[0]!.n, 0, 'no session of the instance is left inside a transaction');
    t.is((await service.get('/v1/analytics/performance/none')).status, 404, 'reads answer again');
  } finally {
    await service.stop();
  }
});

serverTest(
  `the server stopped (immediate) under load and started again: nothing acknowledged is lost${suffix}`,
  async (t) => {
    const service = await startTestService({ DATABASE_STATEMENT_TIMEOUT_MS: '5000' });
    try {
      let done = false;
      const running = load(service, 'crash-', 4, () => done);
      const reads: number[] = [];
      const reader = (async () => {
        while (!done) {
          reads.push((await service.get('/v1/vehicles/none/live')).status);
          await sleep(50);
        }
      })();
      await sleep(1_500);
      pgCtl('-D', pgData!, '-m', 'immediate', 'stop');
      await sleep(5_000);
      pgCtl('-D', pgData!, '-l', join(pgData!, 'restart.log'), '-w', 'start');
      const recovered = await recoveryMs(service, 'crash-probe');
      t.true(recovered < 15_000, `ingest recovered ${recovered} ms after the server`);
      await sleep(2_000);
      done = true;
      const result = await running;
      await reader;
      await assertEveryAcknowledgedStored(t, 'crash-', result);
      t.deepEqual(
        [...new Set(reads)].filter((status) => status !== 404 && status !== 503),
        [],
        `reads answer 404 (no such vehicle) or 503 while the server is away: ${[...new Set(reads)].join(',')}`,
      );
    } finally {
      await service.stop();
    }
  },
);

serverTest(
  `three instances writing overlapping batches of the same meters in random order never deadlock${suffix}`,
  async (t) => {
    const instances = await Promise.all([0, 1, 2].map(() => startTestService()));
    try {
      const deadlocks = () =>
        withDirect(
          (sql) =>
            sql<{ n: number }[]>`SELECT deadlocks::int AS n FROM pg_stat_database WHERE datname = current_database()`,
        );
      const before = (await deadlocks())[0]!.n;
      const base = Math.floor(Date.now() / 60_000) * 60_000 - 2 * 60 * 60_000;
      const statuses = new Map<number, number>();
      const until = Date.now() + 15_000;
      const writer = async (service: TestService) => {
        for (let round = 0; Date.now() < until; round += 1) {
          // The same 50 meters and the same minutes, shuffled: every batch overlaps every other.
          const minute = base + (round % 60) * 60_000;
          const batch = Array.from({ length: 50 }, (_, m) => ({
            meterId: `dl-${m}`,
            kwhConsumedAc: 0.1,
            voltage: 230,
            timestamp: new Date(minute).toISOString(),
          }));
          for (let i = batch.length - 1; i > 0; i -= 1) {
            const j = Math.floor(Math.random() * (i + 1));
            [batch[i], batch[j]] = [batch[j]!, batch[i]!];
          }
          const res = await service.post('/v1/ingestion/meter', batch);
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        }
      };
      await Promise.all(instances.flatMap((service) => [writer(service), writer(service)]));
      const after = (await deadlocks())[0]!.n;
      t.is(after - before, 0, 'no deadlock on the server');
      t.deepEqual(Object.fromEntries(statuses), { 202: [...statuses.values()].reduce((a, b) => a + b, 0) });
    } finally {
      await Promise.all(instances.map((service) => service.stop()));
    }
  },
);
