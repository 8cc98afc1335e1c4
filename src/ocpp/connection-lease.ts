import type { Db } from '../db/database.js';
import type { Logger } from '../logger.js';
import { renewConnections, type HeldConnection } from './charge-point.repository.js';

/** Renewals per lease period: a live instance's connections survive two missed renewals in a row. */
const RENEWALS_PER_LEASE = 3;

/**
 * The leases of the station connections this instance holds (docs/ocpp.md#several-instances).
 * A connection counts as connected while its lease runs; this instance renews all of its own in
 * one statement every third of the lease. An instance that dies without closing its sockets
 * (SIGKILL, its host gone) cannot record the disconnections, but it stops renewing: its stations
 * show as disconnected within one lease period, whichever instance is asked.
 */
export class ConnectionLeases {
  private readonly held = new Set<HeldConnection>();
  private readonly timer: NodeJS.Timeout;
  private renewing: Promise<void> | undefined;

  constructor(
    private readonly db: Db,
    readonly leaseMs: number,
    private readonly logger: Logger,
  ) {
    this.timer = setInterval(() => this.renew(), leaseMs / RENEWALS_PER_LEASE);
    // The sockets keep the process alive, not the renewals.
    this.timer.unref();
  }

  /** Holds a connection recorded by markConnected; returns what `release` takes. */
  hold(chargePointId: string, connectedAt: Date): HeldConnection {
    const connection = { chargePointId, connectedAt };
    this.held.add(connection);
    return connection;
  }

  release(connection: HeldConnection): void {
    this.held.delete(connection);
  }

  /** Stops renewing (at shutdown, once the sockets are closed), after a renewal under way. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.renewing;
  }

  private renew(): void {
    // One renewal at a time: a slow database must not pile them up (the next tick catches up).
    if (this.renewing) return;
    this.renewing = renewConnections(this.db, [...this.held], this.leaseMs)
      .catch((error: unknown) =>
        // The next renewal tries again; a lease outlives two failed ones.
        this.logger.warn('ocpp: could not renew the connection leases', {
          connections: this.held.size,
          error: String(error),
        }),
      )
      .finally(() => (this.renewing = undefined));
  }
}
