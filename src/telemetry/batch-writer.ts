import type { Db } from '../db/database.js';
import { hourRuns } from './batch-selection.js';
import { insertReadings } from './ingestion.repository.js';
import type { ReadingsByStream } from './reading.js';

/**
 * Writes a batch as one statement per run of touching hours (see `hourRuns`): a live batch,
 * or late readings of neighbouring hours, is one statement as before. The runs commit one
 * after another; if one fails, the batch is refused (503, retry safe: the runs already
 * committed count as duplicates on the retry). Returns the positions of the readings that
 * were already stored, as positions in the batch.
 */
export async function writeBatch(db: Db, batch: ReadingsByStream): Promise<ReadingsByStream<number>> {
  const meterRuns = hourRuns(batch.meter);
  const vehicleRuns = hourRuns(batch.vehicle);
  const skipped: ReadingsByStream<number> = { meter: [], vehicle: [] };
  // One meter run and one vehicle run per statement: they are different hypertables, each
  // with its own invalidated range.
  for (let i = 0; i < Math.max(meterRuns.length, vehicleRuns.length); i += 1) {
    const meter = meterRuns[i] ?? [];
    const vehicle = vehicleRuns[i] ?? [];
    const result = await insertReadings(db, {
      meter: meter.map((position) => batch.meter[position]!),
      vehicle: vehicle.map((position) => batch.vehicle[position]!),
    });
    for (const position of result.meter) skipped.meter.push(meter[position]!);
    for (const position of result.vehicle) skipped.vehicle.push(vehicle[position]!);
  }
  return skipped;
}
