import type { Db } from '../db/database.js';
import type { Logger } from '../logger.js';
import { IngestQueue, type IngestQueueOptions } from './ingest-queue.js';
import { insertMeterReadings, insertVehicleReadings } from './ingestion.repository.js';
import { LateReadingRefresher } from './late-readings.js';
import type { IngestResult, MeterReading, ReadingsByStream, VehicleReading } from './reading.js';

function* timestampsOf(readings: readonly { timestamp: Date }[]): Generator<Date> {
  for (const reading of readings) yield reading.timestamp;
}

/** Ingest: validated readings go through the group-commit queue into one transaction per batch. */
export class IngestionService {
  readonly queue: IngestQueue;
  readonly lateReadings: LateReadingRefresher;

  constructor(
    private readonly db: Db,
    options: IngestQueueOptions,
    logger: Logger,
  ) {
    this.queue = new IngestQueue((batch) => this.writeBatch(batch), options, logger);
    this.lateReadings = new LateReadingRefresher(db, logger);
  }

  ingestMeterReadings(readings: MeterReading[]): Promise<IngestResult> {
    return this.queue.submit('meter', readings);
  }

  ingestVehicleReadings(readings: VehicleReading[]): Promise<IngestResult> {
    return this.queue.submit('vehicle', readings);
  }

  /** Stops taking readings and writes every one already accepted. */
  async drain(): Promise<void> {
    await this.queue.drain();
    await this.lateReadings.settled();
  }

  private async writeBatch(batch: ReadingsByStream): Promise<{ meter: number[]; vehicle: number[] }> {
    const skipped = await this.db.transaction().execute(async (trx) => ({
      meter: await insertMeterReadings(trx, batch.meter),
      vehicle: await insertVehicleReadings(trx, batch.vehicle),
    }));
    this.lateReadings.noteStored('meter', timestampsOf(batch.meter));
    this.lateReadings.noteStored('vehicle', timestampsOf(batch.vehicle));
    return skipped;
  }
}
