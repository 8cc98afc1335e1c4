import type { Logger } from '../logger.js';
import type { Db } from './database.js';
import { listScheduledJobs, runJob } from './jobs.repository.js';

/**
 * Runs TimescaleDB's policies (aggregate refresh, compression, retention) on their
 * schedule. Only for the embedded database, which has no background workers; a real
 * TimescaleDB runs its own scheduler and this one must stay off there. Analytics never
 * depend on when (or whether) it ran: see src/aggregates/aggregate-freshness.ts.
 */
export class JobScheduler {
  private readonly lastRun = new Map<number, number>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly db: Db,
    private readonly pollIntervalMs: number,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.stopped = false;
    this.tick();
  }

  /** Runs every job whose interval has passed since its last run (all of them the first time). */
  async runDueJobs(now = Date.now()): Promise<void> {
    const jobs = await listScheduledJobs(this.db);
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
