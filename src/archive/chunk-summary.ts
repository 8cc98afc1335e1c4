import type { ArchiveRow } from './archive-format.js';

/**
 * What is compared between a chunk in the database, its Parquet object read back and the
 * manifest: per device, the row count, first, last and summed timestamps and the sums of each
 * value column. Sums are added in time order per device, in JavaScript here and with
 * `sum(x ORDER BY ts)` in SQL: the same IEEE additions in the same order, so equal data gives
 * bit-equal sums and a comparison can be exact. Timestamps are microseconds; the sum of a
 * device's timestamps exceeds 2^53 and is kept as a decimal string (BigInt).
 */
export interface DeviceSummary {
  rows: number;
  firstUs: number;
  lastUs: number;
  tsSumUs: string;
  sums: number[];
}

export interface ChunkSummary {
  rows: number;
  minUs: number | null;
  maxUs: number | null;
  devices: Record<string, DeviceSummary>;
}

/**
 * Accumulates rows that arrive grouped by device, each device's in time order (the order chunks
 * are written in: the primary key's, devices in the database's collation).
 */
export class SummaryBuilder {
  // No prototype: a device may be called "__proto__".
  private readonly devices = Object.create(null) as Record<string, DeviceSummary>;
  private readonly tsSums = new Map<string, bigint>();
  private rows = 0;
  private minUs: number | null = null;
  private maxUs: number | null = null;
  private current: string | null = null;

  add(row: ArchiveRow): void {
    let device = this.devices[row.device];
    if (device && (this.current !== row.device || row.tsUs <= device.lastUs)) {
      throw new Error(`rows out of order at ${row.device} ${row.tsUs}`);
    }
    this.current = row.device;
    if (!device) {
      device = { rows: 0, firstUs: row.tsUs, lastUs: row.tsUs, tsSumUs: '0', sums: row.values.map(() => 0) };
      this.devices[row.device] = device;
    }
    device.rows += 1;
    device.lastUs = row.tsUs;
    for (let i = 0; i < row.values.length; i++) device.sums[i] = device.sums[i]! + row.values[i]!;
    this.tsSums.set(row.device, (this.tsSums.get(row.device) ?? 0n) + BigInt(row.tsUs));
    this.rows += 1;
    if (this.minUs === null || row.tsUs < this.minUs) this.minUs = row.tsUs;
    if (this.maxUs === null || row.tsUs > this.maxUs) this.maxUs = row.tsUs;
  }

  finish(): ChunkSummary {
    for (const [device, sum] of this.tsSums) this.devices[device]!.tsSumUs = sum.toString();
    return { rows: this.rows, minUs: this.minUs, maxUs: this.maxUs, devices: this.devices };
  }
}

/** Every difference between two summaries, as short sentences (empty: equal). */
export function compareSummaries(expected: ChunkSummary, actual: ChunkSummary, limit = 5): string[] {
  const problems: string[] = [];
  if (expected.rows !== actual.rows) problems.push(`row count ${actual.rows}, expected ${expected.rows}`);
  if (expected.minUs !== actual.minUs || expected.maxUs !== actual.maxUs) {
    problems.push(`time range ${actual.minUs}..${actual.maxUs}, expected ${expected.minUs}..${expected.maxUs}`);
  }
  const names = new Set([...Object.keys(expected.devices), ...Object.keys(actual.devices)]);
  for (const name of [...names].sort()) {
    const a = expected.devices[name];
    const b = actual.devices[name];
    if (!a || !b) {
      problems.push(`device ${name} ${a ? 'missing' : 'unexpected'}`);
    } else if (
      a.rows !== b.rows ||
      a.firstUs !== b.firstUs ||
      a.lastUs !== b.lastUs ||
      a.tsSumUs !== b.tsSumUs ||
      a.sums.length !== b.sums.length ||
      a.sums.some((sum, i) => !Object.is(sum, b.sums[i]))
    ) {
      problems.push(`device ${name}: ${JSON.stringify(b)}, expected ${JSON.stringify(a)}`);
    }
    if (problems.length >= limit) break;
  }
  return problems;
}
