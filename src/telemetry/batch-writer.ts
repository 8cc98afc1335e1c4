import type { Db } from '../db/database.js';
import { HOUR_MS } from '../time.js';
import type { QueuedRequest } from './batch-selection.js';
import { insertReadings } from './ingestion.repository.js';
import {
  deviceIdOf,
  registerOf,
  type MeterReading,
  type ReadingsByKind,
  type ReadingKind,
  type VehicleReading,
} from './reading.js';
import { deriveChain, type IncomingLink, type LinkEnergy } from './register-chain.js';
import {
  findChainLinks,
  lockRegisterDevices,
  updateChainEnergies,
  type ChainUpdate,
} from './register-chain.repository.js';

/**
 * Writes a batch as one statement per run of touching hours (see `batchSlices`): a live
 * batch, or late readings of neighbouring hours, is one statement as before. The runs commit one
 * after another; if one fails, the batch is refused (503, retry safe: the runs already
 * committed count as duplicates on the retry). Returns the positions of the readings that
 * were already stored, as positions in the batch.
 *
 * A run holding register readings is one transaction instead: lock those devices' register
 * chains, read the stored links around the new readings (and the instants of interval
 * readings among them: a reading there is a duplicate), derive their energies and those of
 * the stored readings they change (register-chain.ts), insert, update. A reading and the
 * energies it implies commit together; a live batch (newer than everything stored) changes
 * no stored reading.
 *
 * `db` may itself be a transaction (a stream consumer commits a batch with its checkpoint):
 * then everything runs in it, and the register devices of the whole batch are locked first, in
 * key order, since the locks of every run are held until that transaction ends: locking run by
 * run could take them in an order another writer takes the other way round (a deadlock).
 */
export async function writeBatch(db: Db, batch: ReadingsByKind): Promise<ReadingsByKind<number>> {
  const skipped: ReadingsByKind<number> = { meter: [], vehicle: [] };
  if (db.isTransaction) await lockRegisters(db, batch);
  for (const { rows, positions } of batchSlices(batch)) {
    const result = hasRegisters(rows) ? await writeRegisterRun(db, rows) : await insertReadings(db, rows);
    for (const stream of ['meter', 'vehicle'] as const) {
      for (const position of result[stream]) skipped[stream].push(positions[stream][position]!);
    }
  }
  return skipped;
}

function hasRegisters(run: ReadingsByKind): boolean {
  return (
    run.meter.some((r) => r.kwhConsumedAcTotal !== null) || run.vehicle.some((r) => r.kwhDeliveredDcTotal !== null)
  );
}

/** Locks the register chains of the batch's devices until the transaction ends. */
async function lockRegisters(trx: Db, batch: ReadingsByKind): Promise<void> {
  await lockRegisterDevices(trx, 'meter', registerDevices(batch.meter));
  await lockRegisterDevices(trx, 'vehicle', registerDevices(batch.vehicle));
}

function writeRegisterRun(db: Db, run: ReadingsByKind): Promise<ReadingsByKind<number>> {
  const inTransaction = <T>(work: (trx: Db) => Promise<T>) =>
    db.isTransaction ? work(db) : db.transaction().execute(work);
  return inTransaction(async (trx) => {
    await lockRegisters(trx, run); // again when `db` is a transaction: the locks are re-entrant
    const meter = await deriveRun(trx, 'meter', run.meter);
    const vehicle = await deriveRun(trx, 'vehicle', run.vehicle);
    const skipped = await insertReadings(trx, run, { meter: meter.energies, vehicle: vehicle.energies });
    assertDerivedStored(skipped.meter, meter.energies);
    assertDerivedStored(skipped.vehicle, vehicle.energies);
    await updateChainEnergies(trx, 'meter', meter.updates);
    await updateChainEnergies(trx, 'vehicle', vehicle.updates);
    return skipped;
  });
}

/**
 * A reading derived as new but not inserted: an interval reading at its instant was committed
 * by another writer (on a server) after the chain was read; interval writers take no chain
 * lock. The derived energies would then be wrong, so the run rolls back and the batch is
 * refused (503, retry safe: the retry sees that reading and treats this one as a duplicate).
 */
function assertDerivedStored(skipped: readonly number[], energies: readonly (LinkEnergy | undefined)[]): void {
  if (skipped.some((position) => energies[position] !== undefined)) {
    throw new Error('a reading of a register chain was stored by another writer meanwhile');
  }
}

function registerDevices(readings: (MeterReading | VehicleReading)[]): string[] {
  return [...new Set(readings.filter((r) => registerOf(r) !== null).map(deviceIdOf))];
}

/**
 * The energies of a run's register readings (by position) and the stored readings they
 * change, from each device's stored chain around them (register-chain.ts).
 */
async function deriveRun(
  trx: Db,
  stream: ReadingKind,
  readings: (MeterReading | VehicleReading)[],
): Promise<{ energies: (LinkEnergy | undefined)[]; updates: ChainUpdate[] }> {
  const byDevice = new Map<string, IncomingLink[]>();
  readings.forEach((reading, position) => {
    const register = registerOf(reading);
    if (register === null) return;
    const link = { ts: reading.timestamp.getTime(), register, position };
    const list = byDevice.get(deviceIdOf(reading));
    if (list) list.push(link);
    else byDevice.set(deviceIdOf(reading), [link]);
  });
  const spans = [...byDevice].map(([deviceId, links]) => ({
    deviceId,
    from: new Date(Math.min(...links.map((link) => link.ts))),
    to: new Date(Math.max(...links.map((link) => link.ts))),
  }));
  const stored = await findChainLinks(trx, stream, spans);
  const energies: (LinkEnergy | undefined)[] = [];
  const updates: ChainUpdate[] = [];
  for (const [deviceId, links] of byDevice) {
    const { links: storedLinks = [], ...context } = stored.get(deviceId) ?? {};
    const chain = deriveChain(storedLinks, links, context);
    for (const [position, energy] of chain.incoming) energies[position] = energy;
    for (const change of chain.changed) updates.push({ deviceId, ...change });
  }
  return { energies, updates };
}

/** A batch ready to write: each (stream, device, ts) once, and who sent each row. */
export interface DedupedBatch {
  rows: ReadingsByKind;
  /** Per stream and row, the index (in the batch) of the request that carried it first. */
  owners: ReadingsByKind<number>;
  /** Per request, the readings it contributed (not repeated earlier in the batch). */
  contributed: number[];
}

/** A (stream, device, ts) seen earlier in the batch is a duplicate: the first one wins. */
export function dedupeBatch(requests: readonly Pick<QueuedRequest, 'stream' | 'readings'>[]): DedupedBatch {
  const rows: ReadingsByKind = { meter: [], vehicle: [] };
  const owners: ReadingsByKind<number> = { meter: [], vehicle: [] };
  const seen = new Set<string>();
  const contributed = requests.map(() => 0);
  requests.forEach((request, index) => {
    for (const reading of request.readings) {
      const key = `${request.stream}\u0000${deviceIdOf(reading)}\u0000${reading.timestamp.getTime()}`;
      if (seen.has(key)) continue;
      seen.add(key);
      (rows[request.stream] as (MeterReading | VehicleReading)[]).push(reading);
      owners[request.stream].push(index);
      contributed[index]! += 1;
    }
  });
  return { rows, owners, contributed };
}

/**
 * Positions of `readings` grouped into runs of touching UTC hours, oldest run first. A
 * batch is written one run per transaction, so the range TimescaleDB invalidates (oldest to
 * newest change of each transaction) covers the hours that received readings, even when one
 * request holds a 20-day-old and a 90-minute-old reading.
 */
export function hourRuns(readings: readonly { timestamp: Date }[]): number[][] {
  // The usual case (a live batch, a backfill of neighbouring hours) is one run: no sort.
  const hours = new Set(readings.map((reading) => Math.floor(reading.timestamp.getTime() / HOUR_MS)));
  if (hours.size > 0 && Math.max(...hours) - Math.min(...hours) === hours.size - 1) return [readings.map((_, i) => i)];
  const order = readings
    .map((reading, position) => ({ position, hour: Math.floor(reading.timestamp.getTime() / HOUR_MS) }))
    .sort((a, b) => a.hour - b.hour);
  const runs: number[][] = [];
  let lastHour = -Infinity;
  for (const { position, hour } of order) {
    if (hour > lastHour + 1) runs.push([]);
    runs.at(-1)!.push(position);
    lastHour = hour;
  }
  return runs;
}

/** Part of a batch, and the position in the batch of each of its readings. */
export interface BatchSlice {
  rows: ReadingsByKind;
  positions: ReadingsByKind<number>;
}

/**
 * A batch cut into its runs of touching hours (`hourRuns`), the i-th meter run with the i-th
 * vehicle run (different hypertables, each with its own invalidated range): what one
 * transaction writes. A live batch, or late readings of neighbouring hours, is one slice.
 */
export function batchSlices(batch: ReadingsByKind): BatchSlice[] {
  const meterRuns = hourRuns(batch.meter);
  const vehicleRuns = hourRuns(batch.vehicle);
  return Array.from({ length: Math.max(meterRuns.length, vehicleRuns.length) }, (_, i) => {
    const positions = { meter: meterRuns[i] ?? [], vehicle: vehicleRuns[i] ?? [] };
    return {
      rows: {
        meter: positions.meter.map((position) => batch.meter[position]!),
        vehicle: positions.vehicle.map((position) => batch.vehicle[position]!),
      },
      positions,
    };
  });
}
