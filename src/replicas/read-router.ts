import type { Db } from '../db/database.js';
import { isDatabaseUnavailable, isRecoveryConflict } from '../db/pg-errors.js';
import { within } from '../db/time-limit.js';
import type { Logger } from '../logger.js';
import { replayPosition, takeFence, type Fence, type ReplayPosition } from './replication.repository.js';

/** Where a read was answered, and up to when the answer is complete. */
export type ReadSource =
  | {
      kind: 'primary';
      /** The read began after this instant: every write acknowledged before it is in the answer. */
      asOf: Date;
    }
  | {
      kind: 'replica';
      name: string;
      /** The primary's clock at the fence: every write acknowledged before it is in the answer. */
      asOf: Date;
      /** Upper bound of the replica's delay: from taking the fence to seeing it replayed. */
      lagMs: number;
    };

/** Why a read that could have gone to a replica did not (metrics). */
export type SkipReason = 'lagging' | 'unreachable' | 'recovery_conflict';

export interface ReadObserver {
  served(replica: string, lagMs: number): void;
  skipped(replica: string, reason: SkipReason): void;
  /** The primary answered although replicas are configured. */
  fellBack(reason: SkipReason): void;
}

/** The two questions the router asks; tests replace them (an embedded stand-in is never in recovery). */
export interface ReplicaProbe {
  fence: (primary: Db) => Promise<Fence>;
  position: (replica: Db, fenceLsn: string, name: string) => Promise<ReplayPosition>;
}

export const defaultProbe: ReplicaProbe = {
  fence: takeFence,
  position: (replica, fenceLsn) => replayPosition(replica, fenceLsn),
};

export interface Replica {
  /** host:port/database, for logs, metrics and /readyz (never the credentials). */
  name: string;
  db: Db;
}

export interface ReplicaReport {
  name: string;
  status: 'ok' | 'lagging' | 'unreachable';
  /** False: the server is not a standby and serves its own data (see docs/production.md, Read replicas). */
  inRecovery: boolean | null;
  lagMs: number | null;
}

export interface ReadRouterOptions {
  /** Longest a read waits for a replica to replay the fence; a replica further behind is skipped. */
  maxLagMs: number;
  logger: Logger;
  probe?: ReplicaProbe;
  observer?: ReadObserver;
}

/** The URL's host, port and database: what names a replica without its password. */
export function replicaName(url: string): string {
  const parsed = new URL(url);
  return `${parsed.hostname}:${parsed.port || '5432'}${parsed.pathname}`;
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

const FIRST_POLL_MS = 2;
const MAX_POLL_MS = 50;

/**
 * Sends reads to read replicas and everything else to the primary, one read (a whole
 * analytics transaction, a live lookup) at a time.
 *
 * The rule kept: an answer holds every reading acknowledged (202) before the request, from
 * any instance. Before each replica read the router takes a fence on the primary (its WAL
 * position, one tiny query) and waits until the replica has replayed up to it (polling
 * `pg_last_wal_replay_lsn()`), at most `maxLagMs` after the fence. A replica that does not
 * get there in time is skipped, and for `maxLagMs` after that it is skipped without waiting;
 * when no replica qualifies, the primary answers. Unlike kysely-replication (which routes
 * per statement and knows no lag), the choice is per read and includes this wait.
 *
 * A replica read cancelled by a recovery conflict, or whose connection dies, is run again
 * once on the primary. The work must therefore be a read with no effect outside the database
 * transaction it opens (every caller is).
 */
export class ReadRouter {
  private next = 0;
  /**
   * Replica name -> until when it is skipped without being asked, and why: it missed a fence
   * (lagging) or did not answer (unreachable). A replica that is down or hung would otherwise
   * cost every read the whole wait.
   */
  private readonly skippedUntil = new Map<string, { until: number; reason: SkipReason }>();
  private readonly warnedNotInRecovery = new Set<string>();
  private readonly probe: ReplicaProbe;

  constructor(
    readonly primary: Db,
    readonly replicas: readonly Replica[],
    private readonly options: ReadRouterOptions,
  ) {
    this.probe = options.probe ?? defaultProbe;
  }

  async read<T>(work: (db: Db) => Promise<T>): Promise<{ value: T; source: ReadSource }> {
    if (this.replicas.length === 0) return this.onPrimary(work);
    const fencedAt = Date.now();
    const fence = await this.probe.fence(this.primary);
    const deadline = fencedAt + this.options.maxLagMs;
    const start = this.next++ % this.replicas.length;
    let reason: SkipReason | undefined;
    for (let i = 0; i < this.replicas.length; i += 1) {
      const replica = this.replicas[(start + i) % this.replicas.length]!;
      const skip = await this.qualify(replica, fence, deadline);
      if (skip !== undefined) {
        this.options.observer?.skipped(replica.name, skip);
        reason ??= skip;
        continue;
      }
      const lagMs = Date.now() - fencedAt;
      try {
        const value = await work(replica.db);
        this.options.observer?.served(replica.name, lagMs);
        return { value, source: { kind: 'replica', name: replica.name, asOf: fence.at, lagMs } };
      } catch (error) {
        const failure = isRecoveryConflict(error)
          ? 'recovery_conflict'
          : isDatabaseUnavailable(error)
            ? 'unreachable'
            : undefined;
        if (failure === undefined) throw error;
        this.options.logger.warn('replica read failed, retrying on the primary', { replica: replica.name, err: error });
        this.options.observer?.skipped(replica.name, failure);
        // Once, on the primary: another replica would likely hit the same conflict.
        reason = failure;
        break;
      }
    }
    this.options.observer?.fellBack(reason ?? 'unreachable');
    return this.onPrimary(work);
  }

  /** Each replica now: reachable, a standby, and how long it took to replay a fresh fence. */
  async report(timeoutMs: number): Promise<ReplicaReport[]> {
    if (this.replicas.length === 0) return [];
    const fencedAt = Date.now();
    const fence = await this.probe.fence(this.primary);
    const deadline = fencedAt + Math.min(this.options.maxLagMs, timeoutMs);
    return Promise.all(
      this.replicas.map(async (replica): Promise<ReplicaReport> => {
        try {
          const position = await this.waitForReplay(replica, fence, deadline);
          return position.reached
            ? { name: replica.name, status: 'ok', inRecovery: position.inRecovery, lagMs: Date.now() - fencedAt }
            : { name: replica.name, status: 'lagging', inRecovery: position.inRecovery, lagMs: null };
        } catch {
          return { name: replica.name, status: 'unreachable', inRecovery: null, lagMs: null };
        }
      }),
    );
  }

  private async onPrimary<T>(work: (db: Db) => Promise<T>): Promise<{ value: T; source: ReadSource }> {
    const asOf = new Date();
    return { value: await work(this.primary), source: { kind: 'primary', asOf } };
  }

  /** Undefined when the replica may answer; otherwise why not. */
  private async qualify(replica: Replica, fence: Fence, deadline: number): Promise<SkipReason | undefined> {
    const skipped = this.skippedUntil.get(replica.name);
    if (skipped && skipped.until > Date.now()) return skipped.reason;
    const skipFor = (reason: SkipReason) => {
      this.skippedUntil.set(replica.name, { until: Date.now() + this.options.maxLagMs, reason });
      return reason;
    };
    let position: ReplayPosition;
    try {
      position = await this.waitForReplay(replica, fence, deadline);
    } catch (error) {
      this.options.logger.warn('replica unreachable', { replica: replica.name, err: error });
      return skipFor('unreachable');
    }
    if (!position.reached) return skipFor('lagging');
    this.skippedUntil.delete(replica.name);
    if (!position.inRecovery && !this.warnedNotInRecovery.has(replica.name)) {
      this.warnedNotInRecovery.add(replica.name);
      this.options.logger.warn(
        'ANALYTICS_DATABASE_URL names a server that is not a standby: it is read as up to date (right only if it is the primary)',
        { replica: replica.name },
      );
    }
    return undefined;
  }

  /**
   * Polls the replica (2, 4, 8 ... 50 ms apart) until it replayed the fence or the deadline
   * passes. Each probe is bounded by the deadline too: a stopped, frozen or half-dead replica
   * (whose probe would wait for a connect or statement timeout) fails at the deadline, so a
   * read never waits longer than `maxLagMs` for a replica.
   */
  private async waitForReplay(replica: Replica, fence: Fence, deadline: number): Promise<ReplayPosition> {
    for (let delay = FIRST_POLL_MS; ; delay = Math.min(delay * 2, MAX_POLL_MS)) {
      const position = await within(
        this.probe.position(replica.db, fence.lsn, replica.name),
        Math.max(0, deadline - Date.now()),
        'the replica did not answer in time',
      );
      if (position.reached || Date.now() + delay > deadline) return position;
      await sleep(delay);
    }
  }
}
