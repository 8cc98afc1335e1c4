/**
 * Benchmarks: `npm run bench` (full) or `npm run bench -- --quick` (under 3 minutes), on the
 * embedded database; `-- --database-url postgres://...` runs the same tables on a TimescaleDB
 * server (each section in a database of its own, created and dropped by the run; services use
 * DATABASE_POOL_MAX connections, default 10).
 * Every comparison is measured in the same run on the same machine, so ratios hold on a
 * noisy machine. Prints tables and writes bench/results/latest[-quick].json.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { TempDirs } from '../tools/harness/temp-dirs.js';
import type { BenchContext } from './context.js';
import { evaluateGoals } from './goals.js';
import { loadDataset } from './lib/analytics-dataset.js';
import { embeddedTarget, serverTarget, type DatabaseTarget } from './lib/bench-database.js';
import { log } from './lib/log.js';
import { describeMachine, gitCommit } from './lib/provenance.js';
import { round } from './lib/stats.js';
import { benchMode, byMode, type BenchMode } from './mode.js';
import { renderReport } from './report.js';
import type { BenchResults } from './results.js';
import { analyticsSection } from './sections/analytics.js';
import { ingestSection } from './sections/ingest.js';
import { scalingSection } from './sections/scaling.js';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    /** Tiny sizes and one-second phases: the test suite runs this so the harness never rots. */
    smoke: { type: 'boolean', default: false },
    vehicles: { type: 'string' },
    'database-url': { type: 'string' },
    out: { type: 'string' },
  },
});
const mode: BenchMode = benchMode({ ...args, logLevel: process.env.BENCH_LOG_LEVEL });
const onServer = args['database-url'] !== undefined;
const resultsFile =
  args.out ??
  join(
    'bench',
    'results',
    onServer
      ? byMode(mode, { full: 'latest-server.json', quick: 'latest-server-quick.json' })
      : byMode(mode, { full: 'latest.json', quick: 'latest-quick.json' }),
  );

/** The command line as results record it, without the server's password. */
function repeatableCommand(): string {
  const argv = process.argv.slice(2).map((arg) => {
    if (!/^postgres(ql)?:\/\//.test(arg))
      return arg.replace(/^(--database-url=postgres(ql)?:\/\/[^:@/]*):[^@]*@/, '$1:***@');
    return arg.replace(/^(postgres(ql)?:\/\/[^:@/]*):[^@]*@/, '$1:***@');
  });
  return `npm run bench${argv.length > 0 ? ' -- ' + argv.join(' ') : ''}`;
}

async function main(context: BenchContext) {
  const startedAt = new Date();
  const machine = describeMachine();
  const ingest = await ingestSection(context);
  const dataset = await loadDataset(context, mode.vehicles, mode.longHistoryVehicles);
  const analytics = await analyticsSection(context, dataset);
  const scaling = await scalingSection(context, new Map([[mode.vehicles, dataset]]), ingest.batched);

  const results: BenchResults = {
    command: repeatableCommand(),
    mode: mode.name,
    commit: gitCommit(),
    startedAt: startedAt.toISOString(),
    durationSeconds: round((Date.now() - startedAt.getTime()) / 1000, 0),
    machine,
    database: { kind: context.target.kind, poolMax: context.target.poolMax },
    ingest,
    analytics,
    scaling,
  };
  const goals = evaluateGoals(results);
  process.stdout.write(renderReport(results, goals) + '\n');
  await writeFile(resultsFile, JSON.stringify({ ...results, goals }, null, 2) + '\n');
  log(`results written to ${resultsFile}`);
}

const tempDirs = new TempDirs();
const target: DatabaseTarget = args['database-url']
  ? serverTarget(args['database-url'], Number(process.env.DATABASE_POOL_MAX || 10))
  : embeddedTarget(tempDirs);
main({ mode, target, database: (label) => target.make(label) })
  .catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  })
  .finally(async () => {
    await target.cleanUp();
    await tempDirs.removeAll();
  });
