import type { Db } from '../db/database.js';
import type { Logger } from '../logger.js';
import { listScheduledJobs, runJob } from './jobs.repository.js';

/**
 * A job of the service itself (not TimescaleDB's), e.g. the archive job: it runs wherever the
 * service runs, embedded or not, and must itself be safe when several instances run it (the
 * archive job claims each chunk with a lease in its manifest).
 */
export interface ServiceJob {
  readonly name: string;
  /** Read before each run: a job may change it (from its settings in the database). */
  readonly intervalMs: number;
  run(): Promise<unknown>;
}

export interface SchedulerOptions {
  /**
   * Run TimescaleDB's policies (aggregate refresh, compression, retention): only for the
   * embedded database, which has no background workers. A real TimescaleDB runs its own
   * scheduler and this must stay off there. Default true.
   */
  policies?: boolean;
  serviceJobs?: readonly ServiceJob[];
}

/**
 * Runs due jobs every poll: TimescaleDB's policies on their schedule when embedded (see
 * SchedulerOptions.policies), and the service's own jobs. Analytics never depend on when (or
 * whether) it ran: see src/aggregates/aggregate-freshness.ts.
 */
export class JobScheduler {
  private readonly lastRun = new Map<number, number>();
  private readonly lastServiceRun = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly db: Db,
    private readonly pollIntervalMs: number,
    private readonly logger: Logger,
    private readonly options: SchedulerOptions = {},
  ) {}

  /** Whether it runs TimescaleDB's policies (only for the embedded database). */
  get runsPolicies(): boolean {
    return this.options.policies !== false;
  }

  start(): void {
    this.stopped = false;
    this.tick();
  }

  /** Runs every job whose interval has passed since its last run (all of them the first time). */
  async runDueJobs(now = Date.now()): Promise<void> {
    const jobs = this.options.policies === false ? [] : await listScheduledJobs(this.db);
    for (const job of jobs) {
      if (this.stopped) return;
      const last = this.lastRun.get(job.jobId);
      if (last !== undefined && now - last < job.scheduleIntervalMs) continue;
      const started = Date.now();
      try {
        await runJob(this.db, job.jobId);
        this.logger.debug('job ran', { jobId: job.jobId, proc: job.procName, durationMs: Date.now() - started });
      } catch (error) {
        this.logger.warn('job failed', { jobId: job.jobId, proc: job.procName, err: error });
      }
      this.lastRun.set(job.jobId, started);
    }
    for (const job of this.options.serviceJobs ?? []) {
      if (this.stopped) return;
      const last = this.lastServiceRun.get(job.name);
      if (last !== undefined && now - last < job.intervalMs) continue;
      const started = Date.now();
      try {
        await job.run();
        this.logger.debug('job ran', { job: job.name, durationMs: Date.now() - started });
      } catch (error) {
        this.logger.warn('job failed', { job: job.name, err: error });
      }
      this.lastServiceRun.set(job.name, started);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  private tick(): void {
    this.running = this.runDueJobs()
      .catch((error: unknown) => this.logger.warn('job scheduling failed', { err: error }))
      .finally(() => {
        this.running = undefined;
        if (!this.stopped) this.timer = setTimeout(() => this.tick(), this.pollIntervalMs);
      });
  }
}
