import { execSync } from 'node:child_process';
import { cpus, freemem, totalmem } from 'node:os';

import { round } from './stats.js';

/** The machine the figures were measured on: they only compare with figures from the same one. */
export function describeMachine() {
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGiB: round(totalmem() / 2 ** 30, 1),
    freeMemoryGiB: round(freemem() / 2 ** 30, 1),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  };
}

export type Machine = ReturnType<typeof describeMachine>;

/** The commit measured, marked `+dirty` when the code under test has uncommitted changes. */
export function gitCommit(): string {
  try {
    const sha = execSync('git rev-parse --short HEAD', { encoding: 'utf8' }).trim();
    const dirty = execSync('git status --porcelain -- src bench migrations', { encoding: 'utf8' }).trim() !== '';
    return dirty ? `${sha}+dirty` : sha;
  } catch {
    return 'unknown';
  }
}
