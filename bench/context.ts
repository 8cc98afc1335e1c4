import type { BenchDatabase, DatabaseTarget } from './lib/bench-database.js';
import type { BenchMode } from './mode.js';

/** What every benchmark section gets from the run: its mode and where its databases live. */
export interface BenchContext {
  readonly mode: BenchMode;
  /** Embedded (default) or a server (`--database-url`). */
  readonly target: DatabaseTarget;
  /** A fresh, migrated database for one section's data, removed when the run ends. */
  readonly database: (label: string) => Promise<BenchDatabase>;
}
