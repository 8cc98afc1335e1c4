import { MAX_INTERVAL_KWH } from './reading-bounds.js';
import type { RegisterEvent } from './register-event.js';

/**
 * The register chain of a device: its register readings in timestamp order. The energy of
 * a register reading is a function of its register and of the register of the reading just
 * before it in that chain, never of arrival order (`chainEnergy`):
 *
 *   no earlier register reading   0 kWh, event `first` (the baseline)
 *   register >= previous          register - previous, or 0 and event `jump` above the bound
 *   register <  previous          event `reset`: counts from zero, i.e. the register itself
 *                                 (0 if that is above the bound)
 *
 * So storing readings changes the energies of those readings and of the stored ones between
 * and just after them, nothing else: `deriveChain` computes those from the stored neighbours
 * (register-chain.repository.ts fetches them), which keeps every stored energy equal to the
 * rule for any arrival order, any batches and any duplicates (a duplicate is not stored, so it
 * changes nothing). Energy across a gap in the readings is counted by the reading that closes
 * it. Interval readings of the same device are not part of the chain.
 */

export interface ChainEnergy {
  kwh: number;
  event: RegisterEvent | null;
}

/** The energy a register reading counts after `previous` (undefined: none is stored). */
export function chainEnergy(previous: number | undefined, register: number): ChainEnergy {
  if (previous === undefined) return { kwh: 0, event: 'first' };
  if (register < previous) return { kwh: register > MAX_INTERVAL_KWH ? 0 : register, event: 'reset' };
  const kwh = exactDifference(register, previous);
  return kwh > MAX_INTERVAL_KWH ? { kwh: 0, event: 'jump' } : { kwh, event: null };
}

/** A stored register reading of one device. */
export interface StoredLink {
  ts: number;
  register: number;
  kwh: number;
  event: RegisterEvent | null;
}

/** A register reading about to be stored, by its position in the batch. */
export interface IncomingLink {
  ts: number;
  register: number;
  position: number;
}

export interface DerivedChain {
  /** The energy of each incoming reading that is not a duplicate of a stored one. */
  incoming: Map<number, ChainEnergy>;
  /** Stored readings whose energy or event changes. */
  changed: (ChainEnergy & { ts: number })[];
}

/**
 * One device's chain after storing `incoming`. `stored` must hold every stored register
 * reading from the one just before the oldest incoming reading to the one just after the
 * newest (fewer at the ends when there are none). An incoming reading at the timestamp of a
 * stored one is a duplicate: left out.
 */
export function deriveChain(stored: StoredLink[], incoming: IncomingLink[]): DerivedChain {
  const storedTimes = new Set(stored.map((link) => link.ts));
  const links = [
    ...stored.map((link) => ({ ...link, incoming: undefined })),
    ...incoming.filter((link) => !storedTimes.has(link.ts)).map((link) => ({ ...link, incoming: link })),
  ].sort((a, b) => a.ts - b.ts);
  const result: DerivedChain = { incoming: new Map(), changed: [] };
  const oldestIncoming = Math.min(...incoming.map((link) => link.ts));
  let previous: number | undefined;
  for (const link of links) {
    // Readings before the oldest incoming one keep their energy: their predecessors are unchanged.
    if (link.ts >= oldestIncoming) {
      const energy = chainEnergy(previous, link.register);
      if (link.incoming) result.incoming.set(link.incoming.position, energy);
      else if (energy.kwh !== link.kwh || energy.event !== link.event) result.changed.push({ ts: link.ts, ...energy });
    }
    previous = link.register;
  }
  return result;
}

/**
 * a - b, exact in decimal and then rounded once to the nearest double, as PostgreSQL's
 * `(a::numeric - b::numeric)::float8` does: 1000.4 - 1000.2 is 0.2, not 0.19999999999993.
 * A register sent as 0.2 kWh steps thus stores the same energies as interval readings of 0.2.
 */
export function exactDifference(a: number, b: number): number {
  const x = decimalOf(a);
  const y = decimalOf(b);
  const scale = Math.max(x.scale, y.scale);
  const difference = x.digits * 10n ** BigInt(scale - x.scale) - y.digits * 10n ** BigInt(scale - y.scale);
  const negative = difference < 0n;
  const text = (negative ? -difference : difference).toString().padStart(scale + 1, '0');
  const decimal = scale > 0 ? `${text.slice(0, -scale)}.${text.slice(-scale)}` : text;
  return Number((negative ? '-' : '') + decimal);
}

/** A finite non-negative number as an integer and a decimal scale, from its shortest decimal form. */
function decimalOf(value: number): { digits: bigint; scale: number } {
  const [mantissa = '0', exponent = '0'] = String(value).split('e');
  const [whole = '0', fraction = ''] = mantissa.split('.');
  const scale = fraction.length - Number(exponent);
  const digits = BigInt(whole + fraction);
  return scale < 0 ? { digits: digits * 10n ** BigInt(-scale), scale: 0 } : { digits, scale };
}
