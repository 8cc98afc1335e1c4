import { performance } from 'node:perf_hooks';

import type { Db } from '../db/database.js';
import type { Logger } from '../logger.js';
import { ClaimLostError, renewClaim, type Claim } from './archive-claims.repository.js';

/** Renewals per lease period: a live run's lease survives three missed renewals in a row. */
const RENEWALS_PER_LEASE = 4;

/**
 * Keeps a claim alive while its run works on the chunk: renews the lease every quarter of its
 * length, so a live run, however slow, keeps the chunk, and a dead one (killed, crashed, its
 * host gone) stops renewing and its lease lapses within one lease period. The lease end is the
 * database's clock (`now()`), never a host's, so hosts with skewed clocks agree on it.
 *
 * A renewal that is late (the embedded database has one connection, busy with a long statement
 * of this very run) does no harm by itself: nothing is taken from a lapsed claim until another
 * instance claims the row, and every write of the row requires `claimed_by` to be this owner.
 * A renewal that finds another owner ends the claim: `lost` is set, `signal` aborts (an upload
 * in flight stops) and `check()` throws, so the run stops at its next step.
 */
export class ClaimHeartbeat {
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;
  private renewing: Promise<void> = Promise.resolve();
  private lostError: Error | undefined;
  /** performance.now() when the last renewal that succeeded was sent. */
  private confirmedAt = performance.now();

  constructor(
    private readonly db: Db,
    readonly claim: Claim,
    private readonly logger: Logger,
  ) {
    this.timer = setInterval(() => void this.renew(), claim.leaseMs / RENEWALS_PER_LEASE);
    // The run itself keeps the process alive; a forgotten heartbeat must not.
    this.timer.unref();
  }

  /** Aborts once the claim is lost (or, during an upload, no longer known to be held). */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Renews now; throws when the claim was lost or the renewal failed (before an upload: it must be held). */
  async renewNow(): Promise<void> {
    await this.renew(true);
  }

  /** Throws when a renewal found the claim taken by another instance. */
  check(): void {
    if (this.lostError) throw this.lostError;
  }

  /**
   * Runs `work` (an upload) with a signal that aborts when the claim is lost, or when no renewal
   * succeeded for a whole lease period meanwhile (the lease may have lapsed and been taken: an
   * object written now could overwrite the new holder's).
   */
  async guard<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const guard = new AbortController();
    const onLost = () => guard.abort(this.lostError);
    this.controller.signal.addEventListener('abort', onLost, { once: true });
    const watch = setInterval(() => {
      if (performance.now() - this.confirmedAt > this.claim.leaseMs) {
        guard.abort(new Error('the claim on this chunk could not be renewed for a whole lease period'));
      }
    }, this.claim.leaseMs / RENEWALS_PER_LEASE);
    try {
      this.check();
      return await work(guard.signal);
    } finally {
      clearInterval(watch);
      this.controller.signal.removeEventListener('abort', onLost);
    }
  }

  /** Stops renewing (the claim is released, recorded or dropped by the caller). */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.renewing;
  }

  /** One renewal at a time: a slow one is not overtaken by the next tick. `strict`: any failure throws. */
  private renew(strict = false): Promise<void> {
    const renewal = this.renewing.then(async () => {
      this.check();
      const sent = performance.now();
      try {
        await renewClaim(this.db, this.claim);
        this.confirmedAt = sent;
      } catch (error) {
        if (error instanceof ClaimLostError) {
          this.lostError = error;
          this.controller.abort(error);
        } else if (!strict) {
          // The database did not answer this time: the next tick tries again.
          this.logger.warn('renewing the claim on a chunk failed', { err: error });
          return;
        }
        throw error;
      }
    });
    // The chain goes on whatever this renewal did; the caller (renewNow) sees its failure.
    this.renewing = renewal.catch(() => undefined);
    return strict ? renewal : this.renewing;
  }
}
