import type { Db } from '../db/database.js';
import type { Logger } from '../logger.js';
import { IngestQueue, type IngestObserver, type IngestQueueOptions, type WrittenBatch } from './ingest-queue.js';
import { insertReadings } from './ingestion.repository.js';
import { LateReadingRefresher } from './late-readings.js';
import type { IngestResult, MeterReading, ReadingsByStream, VehicleReading } from './reading.js';

function* timestampsOf(readings: readonly { timestamp: Date }[]): Generator<Date> {
  for (const reading of readings) yield reading.timestamp;
}

/** Ingest: validated readings go through the group-commit queue into one statement per batch. */
export class IngestionService {
  private readonly queue: IngestQueue;
  private readonly lateReadings: LateReadingRefresher;

  constructor(
    private readonly db: Db,
    options: IngestQueueOptions,
    logger: Logger,
    observer?: IngestObserver,
  ) {
    this.queue = new IngestQueue((batch) => this.writeBatch(batch), options, logger, observer);
    this.lateReadings = new LateReadingRefresher(db, logger);
  }

  ingestMeterReadings(readings: MeterReading[]): Promise<IngestResult> {
    return this.queue.submit('meter', readings);
  }

  ingestVehicleReadings(readings: VehicleReading[]): Promise<IngestResult> {
    return this.queue.submit('vehicle', readings);
  }

  /** Readings queued or being written. */
  get queueDepth(): number {
    return this.queue.depth;
  }

  /** Stops taking readings and writes every one already accepted. */
  drain(): Promise<void> {
    return this.queue.drain();
  }

  private async writeBatch(batch: ReadingsByStream): Promise<WrittenBatch> {
    // One statement for the whole batch: atomic without an explicit transaction.
    const skipped = await insertReadings(this.db, batch);
    // Duplicates count too: a client retrying after a failed refresh gets it run again.
    const visible = Promise.all([
      this.lateReadings.refreshFor('meter', timestampsOf(batch.meter)),
      this.lateReadings.refreshFor('vehicle', timestampsOf(batch.vehicle)),
    ]).then(() => undefined);
    return { skipped, visible };
  }
}
