import type { Db } from '../db/database.js';
import { hourRuns } from './batch-selection.js';
import { insertReadings } from './ingestion.repository.js';
import { deviceIdOf, registerOf, type MeterReading, type ReadingsByStream, type VehicleReading } from './reading.js';
import { deriveRegisterEnergy, lockRegisterDevices, type RegisterKey } from './register-chain.repository.js';

/**
 * Writes a batch as one statement per run of touching hours (see `hourRuns`): a live batch,
 * or late readings of neighbouring hours, is one statement as before. The runs commit one
 * after another; if one fails, the batch is refused (503, retry safe: the runs already
 * committed count as duplicates on the retry). Returns the positions of the readings that
 * were already stored, as positions in the batch.
 *
 * A run holding register readings is one transaction instead: lock those devices' register
 * chains, insert, then derive the energies the new readings change
 * (register-chain.repository.ts), so a reading and the energies it implies commit together.
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
    const run: ReadingsByStream = {
      meter: meter.map((position) => batch.meter[position]!),
      vehicle: vehicle.map((position) => batch.vehicle[position]!),
    };
    const result = hasRegisters(run) ? await writeRegisterRun(db, run) : await insertReadings(db, run);
    for (const position of result.meter) skipped.meter.push(meter[position]!);
    for (const position of result.vehicle) skipped.vehicle.push(vehicle[position]!);
  }
  return skipped;
}

function hasRegisters(run: ReadingsByStream): boolean {
  return (
    run.meter.some((r) => r.kwhConsumedAcTotal !== null) || run.vehicle.some((r) => r.kwhDeliveredDcTotal !== null)
  );
}

function writeRegisterRun(db: Db, run: ReadingsByStream): Promise<ReadingsByStream<number>> {
  return db.transaction().execute(async (trx) => {
    await lockRegisterDevices(trx, 'meter', registerDevices(run.meter));
    await lockRegisterDevices(trx, 'vehicle', registerDevices(run.vehicle));
    const skipped = await insertReadings(trx, run);
    await deriveRegisterEnergy(trx, 'meter', storedRegisters(run.meter, skipped.meter));
    await deriveRegisterEnergy(trx, 'vehicle', storedRegisters(run.vehicle, skipped.vehicle));
    return skipped;
  });
}

function registerDevices(readings: (MeterReading | VehicleReading)[]): string[] {
  return [...new Set(readings.filter((r) => registerOf(r) !== null).map(deviceIdOf))];
}

/** The register readings of `readings` that were stored (not at a skipped position). */
function storedRegisters(readings: (MeterReading | VehicleReading)[], skipped: number[]): RegisterKey[] {
  const duplicate = new Set(skipped);
  return readings.flatMap((reading, position) =>
    registerOf(reading) === null || duplicate.has(position)
      ? []
      : [{ deviceId: deviceIdOf(reading), timestamp: reading.timestamp }],
  );
}
