import { spawn, spawnSync } from 'node:child_process';
import { connect } from 'node:net';

import test, { type ImplementationFn } from 'ava';
import postgres from 'postgres';

import { startEmbeddedDb, type EmbeddedDb } from '../../src/embedded/embedded-db.js';
import { embeddedOnly } from '../helpers/test-database.js';

// The embedded server's own behaviour: one database for the file, in memory.
let embedded: EmbeddedDb;
test.before(async () => {
  embedded = await startEmbeddedDb({ dataDir: undefined, host: '127.0.0.1', port: 0 });
  const sql = postgres(embedded.url, { max: 1, onnotice: () => undefined });
  await sql`CREATE TABLE session_probe (id int)`;
  await sql.end();
});
test.after.always(() => embedded?.stop());

const hasPsql = spawnSync('psql', ['--version']).status === 0;
/** A serial test here, or skipped (saying why) when psql is needed and missing. */
const serialTest = (needsPsql: boolean) =>
  needsPsql && !hasPsql
    ? (title: string, implementation: ImplementationFn<[]>) =>
        test.skip(`${title} [psql not installed]`, implementation)
    : embeddedOnly('the embedded server', { serial: true });
const psqlEnv = { ...process.env, PGPASSWORD: 'postgres', PGCONNECT_TIMEOUT: '20' };

/**
 * A client in its own process (postgres.js or psql) that sets statement_timeout, runs
 * `statements` in a transaction, and is SIGKILLed 1 s after it sent the last (long) one: it
 * dies with it in flight.
 */
async function killedMidQuery(kind: 'postgres.js' | 'psql', statements: string[]): Promise<void> {
  const script = `
    import postgres from 'postgres';
    const sql = postgres(${JSON.stringify(embedded.url)}, { max: 1, onnotice: () => undefined });
    await sql\`SELECT 1\`; // a prepared statement the next client must not trip over
    await sql.unsafe('SET statement_timeout = 1234');
    const steps = ${JSON.stringify(statements)};
    await sql.begin(async (tx) => {
      for (const step of steps.slice(0, -1)) await tx.unsafe(step);
      process.stdout.write('sending\\n');
      await tx.unsafe(steps.at(-1));
    });`;
  const child =
    kind === 'psql'
      ? spawn('psql', [embedded.url, '-v', 'ON_ERROR_STOP=1', '-c', 'SET statement_timeout = 1234', '-f', '-'], {
          env: psqlEnv,
          stdio: ['pipe', 'pipe', 'pipe'],
        })
      : spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  if (kind === 'psql') {
    child.stdin!.end(
      ['BEGIN;', ...statements.slice(0, -1).map((s) => `${s};`), '\\echo sending', `${statements.at(-1)};`].join('\n'),
    );
  }
  let output = '';
  const exited = new Promise((done) => child.once('exit', done));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('sending')) resolve();
    });
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    void exited.then(() => reject(new Error(`the client exited before its query:\n${output}`)));
  });
  // The scenario itself (not a wait for something): the statement runs for 3 s, killed at 1 s.
  await new Promise((done) => setTimeout(done, 1000));
  child.kill('SIGKILL');
  await exited;
}

// A session setting, an open transaction with a write, and a statement running when it dies.
const inFlight = ['INSERT INTO session_probe VALUES (1)', 'SELECT pg_sleep(3)'];

for (const kind of ['postgres.js', 'psql'] as const) {
  serialTest(kind === 'psql')(`a ${kind} client killed mid-query leaves a clean session to the next one`, async (t) => {
    await killedMidQuery(kind, inFlight);
    // The next client (postgres.js prepares statements by name, as the dead one did) gets a
    // fresh session: its own answers, no open transaction, none of the dead one's settings.
    const sql = postgres(embedded.url, { max: 1, onnotice: () => undefined, connect_timeout: 30 });
    try {
      const [row] = await sql<{ one: number; rows: string; xact: string | null; timeout: string; path: string }[]>`
        SELECT 1 AS one, (SELECT count(*) FROM session_probe)::text AS rows, txid_current_if_assigned()::text AS xact,
               current_setting('statement_timeout') AS timeout, current_setting('search_path') AS path`;
      t.deepEqual(row, { one: 1, rows: '0', xact: null, timeout: '0', path: 'public' });
      t.is((await sql`SELECT 1 AS again`)[0]!.again, 1);
    } finally {
      await sql.end();
    }
  });
}

serialTest(true)("psql with its default sslmode (prefer) connects: the SSL request is answered 'no'", (t) => {
  const result = spawnSync('psql', [embedded.url, '-Atc', 'SELECT 40 + 2'], { env: psqlEnv, timeout: 60_000 });
  t.is(result.status, 0, result.stderr.toString());
  t.is(result.stdout.toString().trim(), '42');
});

serialTest(false)(
  "SSLRequest and GSSENCRequest are answered 'N', and a startup follows on the same socket",
  async (t) => {
    const { hostname, port } = new URL(embedded.url);
    const socket = connect(Number(port), hostname);
    t.teardown(() => socket.destroy());
    const received: Buffer[] = [];
    let waiting: (() => void) | undefined;
    socket.on('data', (chunk: Buffer) => {
      received.push(chunk);
      waiting?.();
    });
    const next = async (bytes: number) => {
      while (Buffer.concat(received).length < bytes) await new Promise<void>((done) => (waiting = done));
      const all = Buffer.concat(received);
      received.length = 0;
      if (all.length > bytes) received.push(all.subarray(bytes));
      return all.subarray(0, bytes);
    };
    const request = (code: number) => {
      const packet = Buffer.alloc(8);
      packet.writeInt32BE(8, 0);
      packet.writeInt32BE(code, 4);
      socket.write(packet);
    };
    request(80877103);
    t.is((await next(1)).toString(), 'N');
    request(80877104);
    t.is((await next(1)).toString(), 'N');
    const params = Buffer.from('user\0postgres\0database\0postgres\0\0');
    const startup = Buffer.alloc(8);
    startup.writeInt32BE(8 + params.length, 0);
    startup.writeInt32BE(196608, 4);
    socket.write(Buffer.concat([startup, params]));
    const first = await next(1);
    t.true(first.toString() === 'R', `an authentication request, got ${first.toString()}`);
  },
);
