import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { sql } from 'kysely';

import { QUERY_TIMEOUT_GRACE_MS } from '../../src/db/create-db.js';
import { SECOND_MS } from '../../src/time.js';
import { openDirect } from '../../tools/harness/direct-db.js';
import { adminHeaders, spawnService } from '../../tools/harness/service-process.js';
import { embeddedOnly } from '../helpers/test-database.js';

/** The service's default, stated here because the answer-time bound below derives from it. */
const STATEMENT_TIMEOUT_MS = 10_000;

async function tempDataDir(t: { teardown(fn: () => unknown): void }) {
  const dir = await mkdtemp(join(tmpdir(), 'ev-faults-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function batch(meterId: string, size: number, base: number) {
  return Array.from({ length: size }, (_, j) => ({
    meterId,
    kwhConsumedAc: 0.1,
    voltage: 230,
    timestamp: new Date(base + j * SECOND_MS).toISOString(),
  }));
}

const post = (url: string, body: unknown) =>
  fetch(`${url}/v1/ingestion/meter`, { method: 'POST', headers: adminHeaders, body: JSON.stringify(body) });

embeddedOnly('it kills the embedded database process')(
  'crash: SIGKILL of the service and its database mid-ingest loses no acknowledged reading',
  async (t) => {
    const dataDir = await tempDataDir(t);
    const service = await spawnService({ DATA_DIR: dataDir });
    const acknowledged: string[] = [];
    let killed = false;
    const base = Date.now() - 10 * 60 * SECOND_MS;
    const client = async (id: number) => {
      for (let i = 0; !killed; i += 1) {
        const meterId = `crash-${id}-${i}`; // one meter per request: easy to check whole
        try {
          const res = await post(service.url, batch(meterId, 50, base));
          if (res.status === 202) acknowledged.push(meterId);
        } catch {
          return; // the server is gone: this request was not acknowledged
        }
      }
    };
    const clients = Array.from({ length: 4 }, (_, id) => client(id));
    // Kill mid-stream: once some requests were acknowledged (a fixed delay flakes on a loaded machine).
    for (let waited = 0; acknowledged.length < 5 && waited < 60 * SECOND_MS; waited += 100) {
      await new Promise((done) => setTimeout(done, 100));
    }
    killed = true;
    if (service.databasePid) process.kill(service.databasePid, 'SIGKILL');
    service.child.kill('SIGKILL');
    await Promise.all(clients);
    await service.exited;
    t.true(acknowledged.length > 0);

    // Reopen the same data directory (crash recovery runs) and check every acknowledged request.
    const direct = await openDirect(dataDir);
    try {
      const rows = await sql<{ meter_id: string; n: number }>`
      SELECT meter_id, count(*) AS n FROM meter_telemetry_history GROUP BY meter_id`.execute(direct.handle.db);
      const stored = new Map(rows.rows.map((r) => [r.meter_id, r.n]));
      const incomplete = acknowledged.filter((meterId) => stored.get(meterId) !== 50);
      t.deepEqual(incomplete, [], 'every acknowledged request is stored whole');
      // Requests cut off by the crash are either whole or absent: a batch is one statement.
      t.true([...stored.values()].every((n) => n === 50));
      t.log(`acknowledged ${acknowledged.length} requests, stored ${stored.size}`);
    } finally {
      await direct.close();
    }
  },
);

embeddedOnly('it kills the embedded database process')(
  'database killed while the API lives: 503 quickly, not ready, then recovers by itself',
  async (t) => {
    const dataDir = await tempDataDir(t);
    const service = await spawnService({
      DATA_DIR: dataDir,
      DATABASE_STATEMENT_TIMEOUT_MS: String(STATEMENT_TIMEOUT_MS),
    });
    t.teardown(() => {
      service.child.kill('SIGTERM');
      return service.exited;
    });
    const base = Date.now() - 5 * 60 * SECOND_MS;
    t.is((await post(service.url, batch('outage-before', 10, base))).status, 202);

    process.kill(service.databasePid!, 'SIGKILL');
    // Once the service has seen its database die (it restarts it at once; this may already be back).
    for (let waited = 0; !/embedded database exited/.test(service.output()); waited += 50) {
      if (waited > 60 * SECOND_MS) throw new Error(`the service never noticed:\n${service.output().slice(-3000)}`);
      await new Promise((done) => setTimeout(done, 50));
    }
    const started = Date.now();
    const during = await post(service.url, batch('outage-during', 10, base)).catch((error: unknown) => {
      throw new Error(`request failed (${String(error)}); service output:\n${service.output().slice(-4000)}`);
    });
    // docs/api.md's promise (Ingest): an unreachable database is a 503 within the statement timeout + 2 s.
    const elapsed = Date.now() - started;
    t.true(elapsed <= STATEMENT_TIMEOUT_MS + QUERY_TIMEOUT_GRACE_MS, `answered after ${elapsed} ms`);
    if (during.status !== 202) {
      t.is(during.status, 503);
      const body = (await during.json()) as { error: { code: string } };
      t.is(body.error.code, 'database_unavailable');
      t.truthy(during.headers.get('retry-after'));
      const ready = await fetch(`${service.url}/readyz`);
      t.true(ready.status === 503 || ready.status === 200); // may already be back
    }

    // The supervisor restarts the database on the same port; the pool reconnects.
    const deadline = Date.now() + 60_000;
    let readyStatus = 0;
    while (Date.now() < deadline) {
      readyStatus = await fetch(`${service.url}/readyz`).then(
        (res) => res.status,
        () => 0, // a keep-alive socket closed under us: ask again
      );
      if (readyStatus === 200) break;
      await new Promise((done) => setTimeout(done, 250));
    }
    t.is(readyStatus, 200, service.output().slice(-3000));
    let after = await post(service.url, batch('outage-after', 10, base));
    for (let i = 0; i < 20 && after.status !== 202; i += 1) {
      await new Promise((done) => setTimeout(done, 250));
      after = await post(service.url, batch('outage-after', 10, base));
    }
    t.is(after.status, 202);
    const live = await fetch(`${service.url}/v1/meters/outage-before/live`, { headers: adminHeaders });
    t.is(live.status, 200, 'data written before the outage is still there');
    t.regex(service.output(), /embedded database restarted/);
  },
);

/**
 * Issue 24: a restarted embedded database used to wedge the service's one connection for good
 * (postgres.js handed a reserved connection that had closed back to its pool twice; see the
 * Lease in src/db/postgres-js-dialect.ts). Failed 2 of 2 runs on a loaded machine before the fix.
 * It still failed about 1 run in 6 (the one connection stranded in the pool, every later reserve
 * and query timing out) until the pool is replaced after each restart (src/db/replaceable-pool.ts).
 */
embeddedOnly('it kills the embedded database process')(
  'database killed repeatedly under write load: the service recovers each time and stores every 202',
  async (t) => {
    const dataDir = await tempDataDir(t);
    const service = await spawnService({ DATA_DIR: dataDir });
    let stopped = false;
    let load = true;
    t.teardown(() => {
      // A failed wait throws past `load = false`: stop the clients, or they spin forever.
      load = false;
      if (stopped) return;
      service.child.kill('SIGKILL');
      return service.exited;
    });
    const base = Date.now() - 10 * 60 * SECOND_MS;
    const acknowledged: { meterId: string; size: number }[] = [];
    const answers = new Map<number, number>();
    // Interval readings (one statement) and register readings (a transaction: chain locks,
    // derivation, insert, updates), each request its own meter so it can be checked whole.
    const client = async (id: number) => {
      for (let i = 0; load; i += 1) {
        const meterId = `kill-${id}-${i}`;
        const register = id % 2 === 1;
        const readings = batch(meterId, 20, base).map((reading, j) =>
          register
            ? { meterId, kwhConsumedAcTotal: 1000 + j * 0.25, voltage: 230, timestamp: reading.timestamp }
            : reading,
        );
        const res = await post(service.url, readings).catch(() => undefined);
        if (!res) continue; // a keep-alive socket closed under us: nothing was acknowledged
        answers.set(res.status, (answers.get(res.status) ?? 0) + 1);
        if (res.status === 202) acknowledged.push({ meterId, size: readings.length });
        else await res.arrayBuffer();
      }
    };
    const clients = Array.from({ length: 4 }, (_, id) => client(id));
    const waitFor = async (what: string, condition: () => boolean | Promise<boolean>) => {
      for (const deadline = Date.now() + 120 * SECOND_MS; !(await condition());) {
        if (Date.now() > deadline) throw new Error(`${what}: not within 120 s\n${service.output().slice(-4000)}`);
        await new Promise((done) => setTimeout(done, 100));
      }
    };
    const childOf = async (pid: number) => {
      const { readFile } = await import('node:fs/promises');
      const text = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => '');
      return Number(text.trim().split(/\s+/)[0]) || undefined;
    };
    const kills = 4;
    for (let kill = 0; kill < kills; kill += 1) {
      // Kill only while writes are flowing, and wait for the service to have recovered.
      const before = acknowledged.length;
      await waitFor('writes acknowledged before the kill', () => acknowledged.length >= before + 5);
      const databasePid = await childOf(service.child.pid!);
      t.truthy(databasePid);
      process.kill(databasePid!, 'SIGKILL');
      await waitFor('a new database process', async () => {
        const next = await childOf(service.child.pid!);
        return next !== undefined && next !== databasePid;
      });
      const after = acknowledged.length;
      await waitFor('writes acknowledged after the restart', () => acknowledged.length >= after + 5);
    }
    load = false;
    await Promise.all(clients);
    t.regex(service.output(), /embedded database restarted/);
    t.notRegex(service.output(), /current transaction is aborted/);
    const ready = await fetch(`${service.url}/readyz`);
    t.is(ready.status, 200);
    service.child.kill('SIGTERM');
    t.is(await service.exited, 0);
    stopped = true;

    const direct = await openDirect(dataDir);
    try {
      const rows = await sql<{ meter_id: string; n: number }>`
        SELECT meter_id, count(*) AS n FROM meter_telemetry_history GROUP BY meter_id`.execute(direct.handle.db);
      const stored = new Map(rows.rows.map((r) => [r.meter_id, r.n]));
      const lost = acknowledged.filter(({ meterId, size }) => stored.get(meterId) !== size);
      t.deepEqual(lost, [], 'every acknowledged request is stored whole');
      t.log(
        `${kills} kills; answers by status: ${JSON.stringify(Object.fromEntries(answers))}; stored ${stored.size} requests`,
      );
    } finally {
      await direct.close();
    }
  },
);
