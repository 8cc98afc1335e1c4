import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import test from 'ava';

import { MINUTE_MS } from '../../src/time.js';
import { adminHeaders, SPAWNED_ADMIN_KEY, spawnService, stopService } from '../../tools/harness/service-process.js';
import { freePort } from '../../tools/net/free-port.js';
import { databaseEnv, embeddedOnly } from '../helpers/test-database.js';

test('an invalid environment stops start-up with a message naming the variable', async (t) => {
  const main = fileURLToPath(new URL('../../src/runtime/main.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', main], {
    env: { ...process.env, PORT: 'not-a-port', INGEST_FLUSH_INTERVAL_MS: '-3' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise((done) => child.once('exit', done));
  t.is(code, 2);
  t.regex(stderr, /PORT/);
  t.regex(stderr, /INGEST_FLUSH_INTERVAL_MS/);
});

test('SIGTERM under load: every 202 is stored after a restart, every other answer is a clean 503', async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'ev-lifecycle-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  const first = await spawnService(await databaseEnv(dataDir));

  const base = Date.now() - 600 * MINUTE_MS;
  let acknowledged = 0;
  let refused = 0;
  let unreachable = 0;
  let sent = 0;
  let stopping = false;
  const client = async (id: number) => {
    for (let i = 0; i < 400 && !(stopping && unreachable > 0); i += 1) {
      const readings = Array.from({ length: 50 }, (_, j) => ({
        meterId: `life-${id}`,
        kwhConsumedAc: 0.25,
        voltage: 230,
        timestamp: new Date(base + (i * 50 + j) * 1000).toISOString(),
      }));
      try {
        const res = await fetch(`${first.url}/v1/ingestion/meter`, {
          method: 'POST',
          headers: adminHeaders,
          body: JSON.stringify(readings),
        });
        const body = (await res.json()) as { accepted?: number; error?: { code: string } };
        sent += 1;
        if (res.status === 202) acknowledged += body.accepted ?? 0;
        else if (res.status === 503) refused += 1;
        else throw new Error(`unexpected ${res.status}`);
      } catch (error) {
        if (!stopping) throw error;
        unreachable += 1; // the server no longer accepts connections: nothing was acknowledged
        return;
      }
    }
  };
  let finished = 0;
  const clients = Array.from({ length: 4 }, (_, id) => client(id).finally(() => (finished += 1)));
  // Stop under load: once 16 requests were acknowledged (a fixed delay flakes on a loaded
  // machine), with every client still sending.
  for (let waited = 0; acknowledged < 4 * 4 * 50 && finished === 0; waited += 50) {
    if (waited > 120_000) throw new Error('no load within 2 minutes');
    await new Promise((done) => setTimeout(done, 50));
  }
  stopping = true;
  first.child.kill('SIGTERM');
  await Promise.all(clients);
  t.is(await first.exited, 0);
  t.regex(first.output(), /"msg":"stopped"/);
  t.regex(first.output(), /"requestId":"[^"]+".*"msg":"request"}/, 'one structured line per request');
  t.false(first.output().includes(SPAWNED_ADMIN_KEY), 'keys never reach the logs');
  t.true(acknowledged > 0, 'some readings were acknowledged before the stop');
  t.log(
    `requests answered: ${sent}, readings acknowledged: ${acknowledged}, 503: ${refused}, unreachable: ${unreachable}`,
  );

  const second = await spawnService(await databaseEnv(dataDir));
  try {
    t.is(await countMeterReadings(second.url), acknowledged);
  } finally {
    second.child.kill('SIGTERM');
    await second.exited;
  }
});

/** Counts the stored readings of the four meters through the analytics endpoint. */
async function countMeterReadings(url: string): Promise<number> {
  let total = 0;
  for (let id = 0; id < 4; id += 1) {
    await fetch(`${url}/v1/vehicles/life-v${id}/meter`, {
      method: 'PUT',
      headers: adminHeaders,
      body: JSON.stringify({ meterId: `life-${id}` }),
    });
    const from = new Date(Date.now() - 24 * 60 * MINUTE_MS).toISOString();
    const res = await fetch(`${url}/v1/analytics/performance/life-v${id}?from=${from}`, { headers: adminHeaders });
    const body = (await res.json()) as { readings: { meter: number } };
    total += body.readings.meter;
  }
  return total;
}

const ARCHIVE_CLI = fileURLToPath(new URL('../../src/runtime/archive-cli.ts', import.meta.url));

/** Runs a script to its end: exit code and what it printed. */
async function runScript(script: string, args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    env: { ...process.env, ADMIN_API_KEY: SPAWNED_ADMIN_KEY, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((done) => child.once('exit', done));
  return { code, output };
}

async function postReadings(url: string, meterId: string, count: number, base: number): Promise<number> {
  const readings = Array.from({ length: count }, (_, j) => ({
    meterId,
    kwhConsumedAc: 0.25,
    voltage: 230,
    timestamp: new Date(base + j * 1000).toISOString(),
  }));
  const res = await fetch(`${url}/v1/ingestion/meter`, {
    method: 'POST',
    headers: adminHeaders,
    body: JSON.stringify(readings),
  });
  if (res.status !== 202) throw new Error(`ingest answered ${res.status}`);
  return ((await res.json()) as { accepted: number }).accepted;
}

embeddedOnly('it opens the embedded data folder from several processes', { serial: true })(
  'a second process on the same data folder refuses, naming the first, which keeps serving',
  async (t) => {
    const dataDir = await mkdtemp(join(tmpdir(), 'ev-lock-'));
    t.teardown(() => rm(dataDir, { recursive: true, force: true }));
    const first = await spawnService({ DATA_DIR: dataDir });
    const base = Date.now() - 60 * MINUTE_MS;
    let acknowledged = await postReadings(first.url, 'life-0', 30, base);

    const port = String(await freePort());
    const second = await runScript(fileURLToPath(new URL('../../src/runtime/main.ts', import.meta.url)), [], {
      DATA_DIR: dataDir,
      PORT: port,
      HOST: '127.0.0.1',
    });
    t.is(second.code, 1);
    t.regex(second.output, new RegExp(`in use by process ${first.child.pid} \\(`));
    t.notRegex(second.output, /embedded TimescaleDB started/, 'refused before opening the folder');

    // The archive command refuses the same way (and before touching the folder).
    const archive = await runScript(ARCHIVE_CLI, ['run'], { DATA_DIR: dataDir, ARCHIVE_BUCKET: 'unused' });
    t.is(archive.code, 1, archive.output);
    t.regex(archive.output, new RegExp(`in use by process ${first.child.pid} \\(`));
    const query = await runScript(
      ARCHIVE_CLI,
      ['query', '--stream', 'meter', '--from', '2026-01-01T00:00:00Z', '--to', '2026-01-02T00:00:00Z'],
      { DATA_DIR: dataDir, ARCHIVE_BUCKET: 'unused' },
    );
    t.is(query.code, 1, query.output);
    t.regex(query.output, /in use by process/);

    // The first still serves, and the folder starts again afterwards with every reading.
    acknowledged += await postReadings(first.url, 'life-1', 30, base);
    await stopService(first);
    const again = await spawnService({ DATA_DIR: dataDir });
    try {
      t.is(await countMeterReadings(again.url), acknowledged);
    } finally {
      await stopService(again);
    }
  },
);

embeddedOnly('it kills the process holding the embedded data folder', { serial: true })(
  'a SIGKILLed holder releases the data folder: the next process starts on it with every reading',
  async (t) => {
    const dataDir = await mkdtemp(join(tmpdir(), 'ev-lock-'));
    t.teardown(() => rm(dataDir, { recursive: true, force: true }));
    const base = Date.now() - 60 * MINUTE_MS;
    let acknowledged = 0;
    // The service alone (its database process then closes the folder and exits), then both.
    for (const victims of ['service', 'service and database'] as const) {
      const holder = await spawnService({ DATA_DIR: dataDir });
      acknowledged += await postReadings(holder.url, `life-${acknowledged / 20}`, 20, base);
      if (victims === 'service and database') process.kill(holder.databasePid!, 'SIGKILL');
      holder.child.kill('SIGKILL');
      await holder.exited;
    }
    const next = await spawnService({ DATA_DIR: dataDir });
    try {
      t.is(await countMeterReadings(next.url), acknowledged);
    } finally {
      await stopService(next);
    }
  },
);
