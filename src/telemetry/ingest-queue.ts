import { AppError } from '../http/app-error.js';
import type { Logger } from '../logger.js';
import {
  deviceIdOf,
  type IngestResult,
  type MeterReading,
  type ReadingsByStream,
  type Stream,
  type VehicleReading,
} from './reading.js';

export interface WrittenBatch {
  /** Per stream, the positions of the readings not inserted (already stored). */
  skipped: ReadingsByStream<number>;
  /** Settles once the committed readings are visible to analytics (late-data refresh). */
  visible: Promise<void>;
}

/** Writes one merged batch in one transaction, resolving once it has committed. */
export type BatchWriter = (batch: ReadingsByStream) => Promise<WrittenBatch>;

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
  answered?(stream: Stream, accepted: number, duplicates: number): void;
}

type Pending = {
  [S in Stream]: {
    stream: S;
    readings: S extends 'meter' ? MeterReading[] : VehicleReading[];
    resolve(result: IngestResult): void;
    reject(error: unknown): void;
  };
}[Stream];

/**
 * Group commit: requests that arrive close together are merged into one transaction, and
 * each request is answered only after the transaction holding its readings has committed.
 * One batch is written at a time; whatever arrives meanwhile forms the next batch.
 */
export class IngestQueue {
  private pending: Pending[] = [];
  private pendingReadings = 0;
  private inFlightReadings = 0;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  /** Committed batches waiting to become visible before they are answered. */
  private readonly answering = new Set<Promise<void>>();
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
  submit(stream: Stream, readings: MeterReading[] | VehicleReading[]): Promise<IngestResult> {
    if (this.closed) {
      return Promise.reject(
        new AppError('shutting_down', 'The service is shutting down; retry later.', {
          headers: { 'Retry-After': '1' },
        }),
      );
    }
    if (this.depth + readings.length > this.options.maxQueuedReadings) {
      return Promise.reject(AppError.overloaded(1));
    }
    return new Promise<IngestResult>((resolve, reject) => {
      this.pending.push({ stream, readings, resolve, reject } as Pending);
      this.pendingReadings += readings.length;
      this.schedule();
    });
  }

  /** Refuses new readings and resolves once every accepted one has been written (or failed). */
  async drain(): Promise<void> {
    this.closed = true;
    while (this.pending.length > 0 || this.flushing || this.answering.size > 0) {
      if (!this.flushing) this.startFlush();
      await Promise.all([this.flushing, ...this.answering]);
    }
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

  /** Takes whole requests, oldest first, up to the flush size (always at least one). */
  private takeBatch(): Pending[] {
    let count = 0;
    let taken = 0;
    while (taken < this.pending.length) {
      const next = this.pending[taken]!;
      if (taken > 0 && count + next.readings.length > this.options.flushReadings) break;
      count += next.readings.length;
      taken += 1;
    }
    const batch = this.pending.splice(0, taken);
    this.pendingReadings -= count;
    this.inFlightReadings += count;
    return batch;
  }

  private async flush(batch: Pending[]): Promise<void> {
    const size = batch.reduce((n, p) => n + p.readings.length, 0);
    // A (stream, device, ts) seen earlier in the batch is a duplicate: first write wins,
    // and the first request that carried it owns it.
    const owners: ReadingsByStream<number> = { meter: [], vehicle: [] };
    const rows: ReadingsByStream = { meter: [], vehicle: [] };
    const seen = new Set<string>();
    const accepted = batch.map(() => 0);
    batch.forEach((request, index) => {
      for (const reading of request.readings) {
        const key = `${request.stream}\u0000${deviceIdOf(reading)}\u0000${reading.timestamp.getTime()}`;
        if (seen.has(key)) continue;
        seen.add(key);
        (rows[request.stream] as (MeterReading | VehicleReading)[]).push(reading);
        owners[request.stream].push(index);
        accepted[index]! += 1;
      }
    });
    let written: WrittenBatch;
    const started = performance.now();
    try {
      written = await this.write(rows);
      this.observer.batchWritten?.(size, (performance.now() - started) / 1000);
    } catch (error) {
      this.inFlightReadings -= size;
      this.logger.error('ingest batch failed; nothing of it was stored', { readings: size, err: error });
      const refusal = error instanceof AppError ? error : AppError.databaseUnavailable();
      for (const request of batch) request.reject(refusal);
      return;
    }
    for (const stream of ['meter', 'vehicle'] as const) {
      for (const position of written.skipped[stream]) accepted[owners[stream][position]!]! -= 1;
    }
    // The next batch may be written while this one waits to become visible.
    const answered = written.visible
      .then(
        () =>
          batch.forEach((request, index) => {
            const duplicates = request.readings.length - accepted[index]!;
            this.observer.answered?.(request.stream, accepted[index]!, duplicates);
            request.resolve({ accepted: accepted[index]!, duplicates });
          }),
        () => {
          // Stored but not yet in the aggregates: refuse, so that the client's retry (then
          // counted as duplicates) runs the refresh again. Nothing acknowledged is ever missing.
          for (const request of batch) request.reject(AppError.databaseUnavailable());
        },
      )
      .finally(() => {
        this.inFlightReadings -= size;
        this.answering.delete(answered);
      });
    this.answering.add(answered);
  }
}
