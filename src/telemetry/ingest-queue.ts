import { AppError } from '../http/app-error.js';
import type { Logger } from '../logger.js';
import { describeRequest, selectBatch, type QueuedRequest } from './batch-selection.js';
import { batchSlices, dedupeBatch } from './batch-writer.js';
import type { IngestResult, MeterReading, ReadingsByKind, ReadingKind, VehicleReading } from './reading.js';

/**
 * Writes one merged batch (one transaction per run of touching hours), resolving once it has
 * committed, with the positions (per stream) of the readings it did not insert because they
 * were already stored.
 */
export type BatchWriter = (batch: ReadingsByKind) => Promise<ReadingsByKind<number>>;

export interface IngestQueueOptions {
  /** Flush as soon as this many readings wait. */
  flushReadings: number;
  /** Otherwise flush this long after the first reading arrived (group commit window). */
  flushIntervalMs: number;
  /** Readings waiting or being written; beyond this, requests are refused with 503. */
  maxQueuedReadings: number;
}

/** What the queue reports as it works (metrics); every method is optional. */
export interface IngestObserver {
  batchWritten?(readings: number, seconds: number): void;
  answered?(stream: ReadingKind, accepted: number, duplicates: number): void;
}

interface Pending extends QueuedRequest {
  resolve(result: IngestResult): void;
  reject(error: unknown): void;
}

/**
 * Group commit: requests that arrive close together are merged into one transaction, and
 * each request is answered as soon as the transaction holding its readings has committed
 * (analytics count a committed reading at once: see aggregate-freshness.ts).
 *
 * States:
 * - accepting: `submit` queues requests; a batch is written when `flushReadings` wait or
 *   `flushIntervalMs` after the first arrival;
 * - flushing: one batch is being written; what arrives meanwhile is written right after;
 * - draining (`drain`, at shutdown): new requests are refused with 503, everything queued
 *   is still written and answered.
 * Which requests share a batch is decided by `selectBatch` (live and late readings apart).
 * Late requests may fill at most half the queue, so a backlog of them never refuses live
 * readings for lack of room.
 *
 * A late batch is written one slice (run of touching hours, one transaction) at a time, and
 * live readings waiting meanwhile are written between two slices: a sparse backlog (5,000
 * register readings over 330 separate hours is 330 transactions) holds live readings for at
 * most one slice, not for all of it. Its requests are still answered only once every slice
 * has committed; if one fails they are refused (503), and the slices already committed count
 * as duplicates on the retry.
 */
export class IngestQueue {
  private pending: Pending[] = [];
  private pendingReadings = 0;
  private pendingLateReadings = 0;
  private inFlightReadings = 0;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private lateTurn = false;
  private closed = false;

  constructor(
    private readonly write: BatchWriter,
    private readonly options: IngestQueueOptions,
    private readonly logger: Logger,
    private readonly observer: IngestObserver = {},
  ) {}

  /** Readings accepted into the queue and not yet answered. */
  get depth(): number {
    return this.pendingReadings + this.inFlightReadings;
  }

  submit(stream: 'meter', readings: MeterReading[]): Promise<IngestResult>;
  submit(stream: 'vehicle', readings: VehicleReading[]): Promise<IngestResult>;
  submit(stream: ReadingKind, readings: MeterReading[] | VehicleReading[]): Promise<IngestResult> {
    if (this.closed) {
      return Promise.reject(
        new AppError('shutting_down', 'The service is shutting down; retry later.', {
          headers: { 'Retry-After': '1' },
        }),
      );
    }
    const described = describeRequest(readings, Date.now());
    const lateRoom = this.pendingLateReadings === 0 || this.pendingLateReadings + readings.length <= this.lateCapacity;
    if (this.depth + readings.length > this.options.maxQueuedReadings || (!described.live && !lateRoom)) {
      return Promise.reject(AppError.overloaded(1));
    }
    return new Promise<IngestResult>((resolve, reject) => {
      this.pending.push({ stream, readings, ...described, resolve, reject });
      this.pendingReadings += readings.length;
      if (!described.live) this.pendingLateReadings += readings.length;
      this.schedule();
    });
  }

  /** Refuses new readings and resolves once every accepted one has been written (or failed). */
  async drain(): Promise<void> {
    this.closed = true;
    while (this.pending.length > 0 || this.flushing) {
      if (!this.flushing) this.startFlush();
      await this.flushing;
    }
  }

  private get lateCapacity(): number {
    return Math.floor(this.options.maxQueuedReadings / 2);
  }

  private schedule(): void {
    if (this.flushing) return; // the running flush picks the rest up when it ends
    if (this.pendingReadings >= this.options.flushReadings) {
      this.startFlush();
    } else if (!this.timer) {
      this.timer = setTimeout(() => this.startFlush(), this.options.flushIntervalMs);
    }
  }

  private startFlush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.flushing || this.pending.length === 0) return;
    const batch = this.takeBatch();
    this.flushing = this.flush(batch).finally(() => {
      this.flushing = undefined;
      // Whatever arrived during that write has waited long enough: write it now. The
      // timer only batches arrivals while the database is idle.
      if (this.pending.length > 0) this.startFlush();
    });
  }

  private takeBatch(lateTurn = this.lateTurn): Pending[] {
    const chosen = new Set(selectBatch(this.pending, this.options.flushReadings, lateTurn));
    const batch = this.pending.filter((_, index) => chosen.has(index));
    this.pending = this.pending.filter((_, index) => !chosen.has(index));
    const readings = batch.reduce((n, request) => n + request.readings.length, 0);
    this.pendingReadings -= readings;
    this.inFlightReadings += readings;
    const late = batch[0]?.live === false;
    if (late) this.pendingLateReadings -= readings;
    this.lateTurn = !late;
    return batch;
  }

  private async flush(batch: Pending[]): Promise<void> {
    const size = batch.reduce((n, request) => n + request.readings.length, 0);
    const { rows, owners, contributed } = dedupeBatch(batch);
    try {
      const late = batch[0]?.live === false;
      const { skipped, seconds } = late ? await this.writeSlices(rows) : await this.timedWrite(rows);
      this.observer.batchWritten?.(size, seconds);
      const accepted = [...contributed];
      for (const stream of ['meter', 'vehicle'] as const) {
        for (const position of skipped[stream]) accepted[owners[stream][position]!]! -= 1;
      }
      batch.forEach((request, index) => {
        const duplicates = request.readings.length - accepted[index]!;
        this.observer.answered?.(request.stream, accepted[index]!, duplicates);
        request.resolve({ accepted: accepted[index]!, duplicates });
      });
    } catch (error) {
      this.logger.error('ingest batch failed; nothing of it was stored', { readings: size, err: error });
      const refusal = error instanceof AppError ? error : AppError.databaseUnavailable();
      for (const request of batch) request.reject(refusal);
    } finally {
      this.inFlightReadings -= size;
    }
  }

  private async timedWrite(rows: ReadingsByKind): Promise<{ skipped: ReadingsByKind<number>; seconds: number }> {
    const started = performance.now();
    const skipped = await this.write(rows);
    return { skipped, seconds: (performance.now() - started) / 1000 };
  }

  /** A late batch slice by slice, the live readings waiting meanwhile written in between. */
  private async writeSlices(rows: ReadingsByKind): Promise<{ skipped: ReadingsByKind<number>; seconds: number }> {
    const skipped: ReadingsByKind<number> = { meter: [], vehicle: [] };
    let seconds = 0;
    for (const [index, slice] of batchSlices(rows).entries()) {
      if (index > 0) await this.writeWaitingLive();
      const result = await this.timedWrite(slice.rows);
      seconds += result.seconds;
      for (const stream of ['meter', 'vehicle'] as const) {
        for (const position of result.skipped[stream]) skipped[stream].push(slice.positions[stream][position]!);
      }
    }
    return { skipped, seconds };
  }

  /** Writes (and answers) one live batch if live requests wait; never throws (`flush` answers failures). */
  private async writeWaitingLive(): Promise<void> {
    if (!this.pending.some((request) => request.live)) return;
    await this.flush(this.takeBatch(false));
  }
}
