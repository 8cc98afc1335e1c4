import { createHash, type Hash } from 'node:crypto';

import { REGISTER_EVENTS, type RegisterEvent } from '../telemetry/register-event.js';
import type { ArchiveRow } from './archive-format.js';

/**
 * What is compared between a chunk in the database, its Parquet object read back and the
 * manifest: per device, the row count, first, last and summed timestamps and the sums of each
 * value column. Sums are added in time order per device, in JavaScript here and with
 * `sum(x ORDER BY ts)` in SQL: the same IEEE additions in the same order, so equal data gives
 * bit-equal sums and a comparison can be exact. Timestamps are microseconds; the sum of a
 * device's timestamps exceeds 2^53 and is kept as a decimal string (BigInt).
 *
 * Register readings add the count of registers, the count of each event and a digest of the
 * register readings. The registers are decimal texts, not doubles: a sum would need decimal
 * arithmetic mirroring NUMERIC's scale rules on both sides, and would still miss a register
 * moved to another reading or a changed scale ('1000.40' read back as '1000.4'). The digest
 * sees all of it: SHA-256 (hex) of the device's register readings in time order, one line
 * `<ts in µs>:<kwh_register::text>:<register_event or empty>` each, joined by '\n' (in SQL:
 * `sha256(string_agg(... ORDER BY ts))`, archive-chunk.repository.ts); null without register readings.
 */
export interface DeviceSummary {
  rows: number;
  firstUs: number;
  lastUs: number;
  tsSumUs: string;
  sums: number[];
  /** Rows with a register (kwh_register not null). */
  registers: number;
  /** Rows per register_event, every event present (0 when none). */
  events: Record<RegisterEvent, number>;
  registerDigest: string | null;
}

/** One register reading's line in the digest; the SQL side builds the same text. */
export const registerDigestLine = (tsUs: number, register: string, event: RegisterEvent | null) =>
  `${tsUs}:${register}:${event ?? ''}`;

export const noEvents = (): Record<RegisterEvent, number> => ({ first: 0, reset: 0, jump: 0 });

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
  private readonly digests = new Map<string, Hash>();
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
      device = {
        rows: 0,
        firstUs: row.tsUs,
        lastUs: row.tsUs,
        tsSumUs: '0',
        sums: row.values.map(() => 0),
        registers: 0,
        events: noEvents(),
        registerDigest: null,
      };
      this.devices[row.device] = device;
    }
    if (row.registerEvent !== null) device.events[row.registerEvent] += 1;
    if (row.kwhRegister !== null) {
      // Hashed on the way (one hash per device), as string_agg's '\n' separator: before every line but the first.
      let digest = this.digests.get(row.device);
      if (digest) digest.update('\n');
      else this.digests.set(row.device, (digest = createHash('sha256')));
      digest.update(registerDigestLine(row.tsUs, row.kwhRegister, row.registerEvent));
      device.registers += 1;
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
    for (const [device, digest] of this.digests) this.devices[device]!.registerDigest = digest.digest('hex');
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
      a.sums.some((sum, i) => !Object.is(sum, b.sums[i])) ||
      !sameRegisters(a, b)
    ) {
      problems.push(`device ${name}: ${JSON.stringify(b)}, expected ${JSON.stringify(a)}`);
    }
    if (problems.length >= limit) break;
  }
  return problems;
}

/**
 * Summaries recorded before register readings were archived (manifests of schema version 1)
 * have none of the register figures: their objects hold no registers, so they read as none.
 * A chunk restored from such an object holds none either and compares equal.
 */
function registerFigures(
  summary: Partial<DeviceSummary>,
): Pick<DeviceSummary, 'registers' | 'events' | 'registerDigest'> {
  return {
    registers: summary.registers ?? 0,
    events: { ...noEvents(), ...summary.events },
    registerDigest: summary.registerDigest ?? null,
  };
}

function sameRegisters(expected: DeviceSummary, actual: DeviceSummary): boolean {
  const a = registerFigures(expected);
  const b = registerFigures(actual);
  return (
    a.registers === b.registers &&
    a.registerDigest === b.registerDigest &&
    REGISTER_EVENTS.every((event) => a.events[event] === b.events[event])
  );
}
