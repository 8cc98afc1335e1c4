import type { Db } from '../db/database.js';
import type { Logger } from '../logger.js';
import { writeBatch } from './batch-writer.js';
import { IngestQueue, type IngestObserver, type IngestQueueOptions } from './ingest-queue.js';
import type { IngestResult, MeterReading, VehicleReading } from './reading.js';

/**
 * Ingest: validated readings go through the group-commit queue into one statement per
 * batch (per run of touching hours for late ones). Nothing else happens on this path: a committed reading is counted by analytics at
 * once (aggregate-freshness.ts), so no refresh is needed before answering.
 */
export class IngestionService {
  private readonly queue: IngestQueue;

  constructor(db: Db, options: IngestQueueOptions, logger: Logger, observer?: IngestObserver) {
    this.queue = new IngestQueue((batch) => writeBatch(db, batch), options, logger, observer);
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
}
