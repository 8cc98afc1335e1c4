import type { ArchiveRunReport } from './archive-job.js';

/**
 * What `npm run archive` exits with (docs/archive.md, "Exit codes"), so cron and CI notice a
 * run that did not do its work. The report is printed on stdout in every case.
 */
export const EXIT_CODES = {
  /** Every chunk due was archived, or nothing was due (held and busy chunks are not failures). */
  ok: 0,
  /** The command itself failed: the database (or its data folder lock), an unexpected error. */
  error: 1,
  /** Wrong arguments or configuration: the usage is printed. */
  usage: 2,
  /** Some chunks were archived and some failed: the failed ones stay in the database, retried next run. */
  partlyFailed: 3,
  /** Chunks failed and none was archived (the store unreachable, its credentials refused, ...). */
  allFailed: 4,
} as const;

export function runExitCode(report: ArchiveRunReport): number {
  if (report.failed === 0) return EXIT_CODES.ok;
  return report.archived > 0 ? EXIT_CODES.partlyFailed : EXIT_CODES.allFailed;
}
