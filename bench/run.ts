/**
 * Benchmarks: `npm run bench` (full) or `npm run bench -- --quick` (under 3 minutes).
 * Every comparison is measured in the same run on the same machine, so ratios hold on a
 * noisy machine. Prints tables and writes bench/results/latest[-quick].json.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import type { BenchContext } from './context.js';
import { evaluateGoals } from './goals.js';
import { loadDataset } from './lib/analytics-dataset.js';
import { log } from './lib/log.js';
import { describeMachine, gitCommit } from './lib/provenance.js';
import { round } from './lib/stats.js';
import { TempDirs } from './lib/temp-dirs.js';
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
    out: { type: 'string' },
  },
});
const mode: BenchMode = benchMode({ ...args, logLevel: process.env.BENCH_LOG_LEVEL });
const resultsFile =
  args.out ?? join('bench', 'results', byMode(mode, { full: 'latest.json', quick: 'latest-quick.json' }));

async function main(context: BenchContext) {
  const startedAt = new Date();
  const machine = describeMachine();
  const ingest = await ingestSection(context);
  const dataset = await loadDataset(context, mode.vehicles, mode.longHistoryVehicles);
  const analytics = await analyticsSection(context, dataset);
  const scaling = await scalingSection(context, new Map([[mode.vehicles, dataset]]), ingest.batched);

  const results: BenchResults = {
    command: `npm run bench${process.argv.length > 2 ? ' -- ' + process.argv.slice(2).join(' ') : ''}`,
    mode: mode.name,
    commit: gitCommit(),
    startedAt: startedAt.toISOString(),
    durationSeconds: round((Date.now() - startedAt.getTime()) / 1000, 0),
    machine,
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
main({ mode, tempDir: (label) => tempDirs.make(label) })
  .catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  })
  .finally(() => tempDirs.removeAll());
