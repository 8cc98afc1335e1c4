import type { BenchMode } from './mode.js';

/** What every benchmark section gets from the run: its mode and a place for scratch data. */
export interface BenchContext {
  readonly mode: BenchMode;
  /** A fresh temporary directory, removed when the run ends. */
  readonly tempDir: (label: string) => Promise<string>;
}
