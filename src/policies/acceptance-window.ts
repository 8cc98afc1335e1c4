import { ALL_AGGREGATE_VIEWS } from '../aggregates/aggregate-levels.js';
import type { Db } from '../db/database.js';
import type { Logger } from '../logger.js';
import { DAY_MS, SECOND_MS } from '../time.js';
import { readPolicies, type PolicyRow } from './policies.repository.js';

const RAW_HISTORY = ['meter_telemetry_history', 'vehicle_telemetry_history'] as const;

/**
 * How much older than the refresh window's start an accepted reading stays: the refresh
 * policies (every 5 minutes) may be stalled this long and still materialize it while it is
 * inside their window.
 */
export const REFRESH_MARGIN_MS = DAY_MS;
/** The same from the raw retention: one day-long chunk plus the refresh margin. */
export const RETENTION_MARGIN_MS = 2 * DAY_MS;
/** Policies change only through migrations: a look every half minute is plenty. */
const RELOAD_INTERVAL_MS = 30 * SECOND_MS;

export interface Acceptance {
  /** Oldest reading the API accepts, relative to now (Infinity: no limit). */
  maxAgeMs: number;
  /** Policy settings that break the guarantees in docs/exactness.md, for the log. */
  problems: string[];
}

/**
 * The oldest reading the API may accept, derived from the policies really in the database.
 * A reading must (1) be materialized by a refresh policy before retention drops its raw
 * chunk, or the long-lived aggregates lose it, and (2) never make a refresh run over a
 * dropped chunk, which would empty the aggregate there. So every accepted reading lies a
 * margin inside every refresh window, and every refresh window inside the raw retention.
 */
export function deriveAcceptance(policies: readonly PolicyRow[]): Acceptance {
  const problems: string[] = [];
  // In archive mode the hot period is what drop_after is in retention mode: chunks older than
  // it leave the database (after archiving), and the same margins apply.
  const policyOf = (kind: PolicyRow['kind'], relation: string) =>
    policies.find((p) => p.kind === kind && p.relation === relation)?.offsetMs ?? null;
  const retention = (relation: string) => policyOf('retention', relation) ?? policyOf('archive', relation);
  for (const relation of RAW_HISTORY) {
    if (policyOf('retention', relation) !== null && policyOf('archive', relation) !== null) {
      problems.push(
        `${relation} has a retention policy and archive mode: retention drops chunks unarchived ` +
          '(switch with archive_mode_on / archive_mode_off, docs/archive.md)',
      );
    }
  }
  let maxAgeMs = Infinity;
  for (const relation of RAW_HISTORY) {
    const dropAfter = retention(relation);
    if (dropAfter !== null) maxAgeMs = Math.min(maxAgeMs, dropAfter - RETENTION_MARGIN_MS);
  }
  const shortestRetention = Math.min(...RAW_HISTORY.map((r) => retention(r) ?? Infinity));
  for (const view of ALL_AGGREGATE_VIEWS) {
    const refresh = policies.find((p) => p.kind === 'refresh' && p.relation === view);
    if (!refresh) {
      problems.push(`${view} has no refresh policy: late and backfilled readings are never materialized into it`);
      continue;
    }
    if (!refresh.scheduled) problems.push(`the refresh policy of ${view} is paused`);
    if (refresh.offsetMs === null || refresh.offsetMs >= shortestRetention) {
      problems.push(
        `the refresh policy of ${view} reaches back as far as the raw retention or further: ` +
          'a refresh over dropped chunks empties the aggregate there (keep start_offset below drop_after)',
      );
    }
    if (refresh.offsetMs !== null) maxAgeMs = Math.min(maxAgeMs, refresh.offsetMs - REFRESH_MARGIN_MS);
  }
  if (maxAgeMs <= 0) {
    problems.push('the policies leave no room for late readings: only readings newer than a day are accepted');
    maxAgeMs = DAY_MS;
  }
  return { maxAgeMs, problems };
}

/**
 * The current acceptance window, reloaded from the database in the background. A failed
 * reload keeps the last value. Several instances each read it; a policy change reaches them
 * within RELOAD_INTERVAL_MS, far less than the margins above.
 */
export class AcceptanceWindow {
  private current: Acceptance = { maxAgeMs: Infinity, problems: [] };
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: Db,
    private readonly logger: Logger,
  ) {}

  get maxAgeMs(): number {
    return this.current.maxAgeMs;
  }

  /** Loads the policies once (failing start-up if the database cannot say), then keeps them fresh. */
  async start(): Promise<void> {
    await this.reload();
    this.timer = setInterval(() => {
      this.reload().catch((error: unknown) => this.logger.warn('reading the policies failed', { err: error }));
    }, RELOAD_INTERVAL_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** Reads the policies now (tests; otherwise every RELOAD_INTERVAL_MS). */
  async reload(): Promise<void> {
    const next = deriveAcceptance(await readPolicies(this.db));
    if (next.problems.join('\n') !== this.current.problems.join('\n')) {
      for (const problem of next.problems) this.logger.error(`policy problem: ${problem}`);
    }
    if (next.maxAgeMs !== this.current.maxAgeMs) {
      this.logger.info('oldest accepted reading', { maxAgeDays: next.maxAgeMs / DAY_MS });
    }
    this.current = next;
  }
}
