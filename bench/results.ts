import type { Machine } from './lib/provenance.js';
import type { BenchModeName } from './mode.js';
import type { AnalyticsResults } from './sections/analytics.js';
import type { IngestResults } from './sections/ingest.js';
import type { ScalingRow } from './sections/scaling.js';

/** Everything a run measured, in the order bench/results/*.json lists it (goals follow). */
export interface BenchResults {
  /** How to repeat the run. */
  command: string;
  mode: BenchModeName;
  commit: string;
  startedAt: string;
  durationSeconds: number;
  machine: Machine;
  /** Embedded (default) or a server (`--database-url`), and the pool each service used. */
  database: { kind: 'embedded' | 'server'; poolMax: number };
  ingest: IngestResults;
  analytics: AnalyticsResults;
  scaling: ScalingRow[];
}
