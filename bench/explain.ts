/**
 * Where the time of one analytics request goes, statement by statement, on a server:
 * `npx tsx bench/explain.ts --database-url postgres://... [--vehicles 1000] [--fleet-limit 100]`.
 * Creates (once) and keeps a database of its own, `ev_explain_<vehicles>`, loaded like the
 * bench's analytics dataset (24 h of minute data, 7 days for the first 50, aggregates
 * materialized up to an hour ago); then runs one 24 h performance request and one fleet page
 * through the service's own code, records every statement it sends (and the round trips), and
 * prints each statement's `EXPLAIN (ANALYZE, BUFFERS)` inside the same kind of snapshot.
 * Rerun with `--reload` for fresh data (a window ending within the last hour needs raw edges).
 */
import { parseArgs } from 'node:util';

import { PostgresQueryCompiler, sql, type KyselyPlugin } from 'kysely';
import postgres from 'postgres';

import { getFleetPage } from '../src/analytics/fleet.service.js';
import { getPerformance } from '../src/analytics/performance.service.js';
import { createDb } from '../src/db/create-db.js';
import { migrate } from '../src/db/migrate.js';
import { createLogger } from '../src/logger.js';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../src/time.js';
import { connectDirect } from '../tools/harness/direct-db.js';
import { benchVehicle, loadHistory, materialize } from './lib/direct-queries.js';

const { values: args } = parseArgs({
  options: {
    'database-url': { type: 'string' },
    vehicles: { type: 'string', default: '1000' },
    'fleet-limit': { type: 'string', default: '100' },
    repeat: { type: 'string', default: '30' },
    reload: { type: 'boolean', default: false },
    /** Only this request: performance or fleet. */
    only: { type: 'string' },
  },
});
const url = args['database-url'];
if (url === undefined) throw new Error('--database-url is required');
const vehicles = Number(args.vehicles);
const name = `ev_explain_${vehicles}`;
const target = new URL(url);
target.pathname = `/${name}`;

async function prepareDatabase(): Promise<number> {
  const admin = postgres(url!, { max: 1, onnotice: () => undefined });
  try {
    const exists = await admin`SELECT 1 FROM pg_database WHERE datname = ${name}`;
    if (exists.length > 0 && args.reload) await admin.unsafe(`DROP DATABASE ${name} WITH (FORCE)`);
    if (exists.length === 0 || args.reload) await admin.unsafe(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  await migrate({ databaseUrl: target.toString() });
  const direct = await connectDirect(target.toString());
  try {
    const loaded = await sql<{ now: Date | null }>`SELECT max(ts) AS now FROM vehicle_telemetry_history`.execute(
      direct.handle.db,
    );
    const last = loaded.rows[0]?.now;
    if (last) return last.getTime() + MINUTE_MS;
    const now = Math.floor(Date.now() / MINUTE_MS) * MINUTE_MS;
    console.log(`loading ${vehicles} vehicles x 24 h into ${name}`);
    await loadHistory(direct, 0, vehicles, new Date(now - DAY_MS), new Date(now));
    await loadHistory(direct, 0, Math.min(50, vehicles), new Date(now - 7 * DAY_MS), new Date(now - DAY_MS));
    await materialize(direct, new Date(now - 8 * DAY_MS), new Date(now - HOUR_MS));
    await sql`ANALYZE`.execute(direct.handle.db);
    return now;
  } finally {
    await direct.close();
  }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

interface Recorded {
  sql: string;
  parameters: readonly unknown[];
  ms: number;
}

async function main() {
  const now = await prepareDatabase();
  // The service's own client (prepared statements, as on a server), recording what it sends.
  const handle = createDb({
    url: target.toString(),
    max: 1,
    prepare: true,
    logger: createLogger('silent'),
    statementTimeoutMs: 60_000,
    lockTimeoutMs: 60_000,
  });
  const compiler = new PostgresQueryCompiler();
  let recorded: Recorded[] = [];
  const started = new Map<unknown, { at: number; entry: Recorded }>();
  const recorder: KyselyPlugin = {
    transformQuery({ node, queryId }) {
      const compiled = compiler.compileQuery(node, queryId);
      const entry = { sql: compiled.sql, parameters: compiled.parameters, ms: 0 };
      recorded.push(entry);
      started.set(queryId, { at: performance.now(), entry });
      return node;
    },
    transformResult({ result, queryId }) {
      const start = started.get(queryId);
      if (start) start.entry.ms = performance.now() - start.at;
      started.delete(queryId);
      return Promise.resolve(result);
    },
  };
  const db = handle.db.withPlugin(recorder);
  const pool = postgres(target.toString(), { max: 1, onnotice: () => undefined });
  // The window of the bench: 24 h ending inside the last hour, so both edges are read raw.
  const to = new Date(now - 17 * MINUTE_MS - 13_000);
  const window = { from: new Date(to.getTime() - DAY_MS), to };
  const requests = {
    performance: () => getPerformance(db, benchVehicle(7), window),
    fleet: () => getFleetPage(db, { ...window, limit: Number(args['fleet-limit']) }),
  };
  for (const [label, run] of Object.entries(requests)) {
    if (args.only !== undefined && args.only !== label) continue;
    const times: number[] = [];
    const perStatement: number[][] = [];
    let statements: Recorded[] = [];
    for (let i = 0; i < Number(args.repeat); i += 1) {
      recorded = [];
      const started = performance.now();
      await run();
      times.push(performance.now() - started);
      // Subqueries are compiled (and seen here) too: a statement sent is one that got a result.
      statements = recorded.filter((entry) => entry.ms > 0);
      statements.forEach((entry, index) => (perStatement[index] ??= []).push(entry.ms));
    }
    const floor: number[] = [];
    for (let i = 0; i < Number(args.repeat); i += 1) {
      const started = performance.now();
      await sql`SELECT 1`.execute(handle.db);
      floor.push(performance.now() - started);
    }
    console.log(
      `\n=== ${label}: ${statements.length} statements + BEGIN/COMMIT = ${statements.length + 2} round trips`,
    );
    console.log(
      `    in-process request p50 ${median(times).toFixed(1)} ms (${times.length} runs); SELECT 1 p50 ${median(floor).toFixed(2)} ms`,
    );
    for (const [i, statement] of statements.entries()) {
      console.log(`\n--- statement ${i + 1} (client-side p50 ${median(perStatement[i]!).toFixed(1)} ms)`);
      console.log(statement.sql.length > 600 ? statement.sql.slice(0, 600) + ' ...' : statement.sql);
      // Twice, the second printed: the first warms this connection's catalog caches.
      const explain = () =>
        pool.begin('ISOLATION LEVEL REPEATABLE READ READ ONLY', (trx) =>
          trx.unsafe(
            `EXPLAIN (ANALYZE, BUFFERS) ${statement.sql}`,
            statement.parameters as postgres.ParameterOrJSON<never>[],
          ),
        );
      await explain();
      const plan = await explain();
      for (const row of plan) console.log(String(Object.values(row)[0]));
    }
  }
  await pool.end();
  await handle.close();
}

await main();
