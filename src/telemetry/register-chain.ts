import { MAX_INTERVAL_KWH } from './reading-bounds.js';
import type { RegisterEvent } from './register-event.js';

/**
 * The register chain of a device: its register readings in timestamp order. The energy of
 * a register reading is a function of its register and of the register of the reading just
 * before it in that chain, never of arrival order (`chainEnergy`):
 *
 *   no earlier register reading     0 kWh, event `first` (the baseline)
 *   register >= previous            register - previous, or 0 and event `jump` above the bound
 *   previous - register <= 10 Wh    0 kWh, no event: meter jitter (`JITTER_KWH`), not a reset
 *   register <  previous otherwise  event `reset`: counts from zero, i.e. the register itself
 *                                   (0 if that is above the bound)
 *
 * So storing readings changes the energies of those readings and of the stored ones between
 * and just after them, nothing else: `deriveChain` computes those from the stored neighbours
 * (register-chain.repository.ts fetches them), which keeps every stored energy equal to the
 * rule for any arrival order, any batches and any duplicates. A reading at the instant of any
 * stored reading of the device, register or interval, is a duplicate: it is not stored, so it
 * changes nothing. Energy across a gap in the readings is counted by the reading that closes
 * it. Interval readings of the same device are not part of the chain.
 *
 * Dropped data (raw retention, the archive): each stored register reading records the link
 * it was derived from (`previous`: the timestamp and register of the reading before it). When
 * that reading is no longer stored, the link stands in for it as a *ghost*: a fixed member of
 * the chain that is never changed or stored again. So a late reading landing between a
 * dropped reading and the first kept one takes its share from the kept one, exactly as if
 * nothing had been dropped, whatever dropped it (TimescaleDB's own retention policy included).
 * When no reading of the device is kept at all, its live row (the newest reading ever stored,
 * never dropped) is the ghost, if that reading was a register reading.
 */

/** A decrease of at most this much (10 Wh, decimal-exact) is meter jitter: 0 kWh, no reset. */
export const JITTER_KWH = 0.01;

export interface ChainEnergy {
  kwh: number;
  event: RegisterEvent | null;
}

/** A member of a chain: a reading's timestamp (epoch ms) and register. */
export interface ChainPoint {
  ts: number;
  register: number;
}

/** The energy a register reading counts after `previous` (undefined: none is stored). */
export function chainEnergy(previous: number | undefined, register: number): ChainEnergy {
  if (previous === undefined) return { kwh: 0, event: 'first' };
  if (register < previous) {
    if (withinJitter(previous, register)) return { kwh: 0, event: null };
    return { kwh: register > MAX_INTERVAL_KWH ? 0 : register, event: 'reset' };
  }
  const kwh = exactDifference(register, previous);
  return kwh > MAX_INTERVAL_KWH ? { kwh: 0, event: 'jump' } : { kwh, event: null };
}

/** What is stored for a register reading: its energy and the link it was derived from. */
export interface LinkEnergy extends ChainEnergy {
  /** The register reading before it in the chain; null for a `first`. */
  previous: ChainPoint | null;
}

/** A stored register reading of one device. */
export interface StoredLink extends ChainPoint, ChainEnergy {
  /** Its recorded link; null for a `first`, and for readings stored before links were (migration 0012). */
  previous: ChainPoint | null;
}

/** A register reading about to be stored, by its position in the batch. */
export interface IncomingLink extends ChainPoint {
  position: number;
}

export interface DerivedChain {
  /** The energy of each incoming reading that is not a duplicate of a stored one. */
  incoming: Map<number, LinkEnergy>;
  /** Stored readings whose energy, event or link changes. */
  changed: (LinkEnergy & { ts: number })[];
}

type Member = ChainPoint & { kind: 'ghost' | 'stored' | 'incoming'; stored?: StoredLink; position?: number };

/** Ghosts sort before a reading at the same instant (only possible when policies were broken). */
const KIND_ORDER = { ghost: 0, stored: 1, incoming: 1 } as const;

/** What else is stored of a device besides its register readings around the incoming ones. */
export interface ChainContext {
  /** The instants of its stored interval readings in the span: an incoming reading there is a duplicate. */
  occupied?: readonly number[];
  /** Its newest reading ever stored (the live row), if a register reading. */
  newest?: ChainPoint;
}

/**
 * One device's chain after storing `incoming`. `stored` must hold every stored register
 * reading from the one just before the oldest incoming reading to the one just after the
 * newest (fewer at the ends when there are none). An incoming reading at the instant of a
 * stored reading of either form is a duplicate: left out, and it changes nothing.
 */
export function deriveChain(
  stored: readonly StoredLink[],
  incoming: readonly IncomingLink[],
  { occupied = [], newest }: ChainContext = {},
): DerivedChain {
  const result: DerivedChain = { incoming: new Map(), changed: [] };
  const taken = new Set([...stored.map((link) => link.ts), ...occupied]);
  const fresh = incoming.filter((link) => !taken.has(link.ts));
  if (fresh.length === 0) return result;
  const sortedStored = [...stored].sort((a, b) => a.ts - b.ts);
  const members: Member[] = [
    ...sortedStored.map((link) => ({ ts: link.ts, register: link.register, kind: 'stored' as const, stored: link })),
    ...ghostsOf(sortedStored, newest),
    ...fresh.map((link) => ({
      ts: link.ts,
      register: link.register,
      kind: 'incoming' as const,
      position: link.position,
    })),
  ].sort((a, b) => a.ts - b.ts || KIND_ORDER[a.kind] - KIND_ORDER[b.kind]);
  const oldestIncoming = Math.min(...fresh.map((link) => link.ts));
  let previous: ChainPoint | null = null;
  for (const member of members) {
    // Readings before the oldest incoming one keep their energy: their predecessors are unchanged.
    if (member.ts >= oldestIncoming && member.kind !== 'ghost') {
      const energy: LinkEnergy = { ...chainEnergy(previous?.register, member.register), previous };
      if (member.kind === 'incoming') result.incoming.set(member.position!, energy);
      else if (!sameLink(member.stored!, energy)) result.changed.push({ ts: member.ts, ...energy });
    }
    previous = { ts: member.ts, register: member.register };
  }
  return result;
}

/**
 * The readings known to have been stored that are no longer: the recorded links of stored
 * readings whose predecessor is not the stored one before them, and the live row's reading
 * if it is not stored. (A stored live reading not among `sorted` is newer than all of them:
 * as a ghost it would precede nothing, so it needs no check.)
 */
function ghostsOf(sorted: readonly StoredLink[], newest: ChainPoint | undefined): Member[] {
  const ghosts: Member[] = [];
  sorted.forEach((link, i) => {
    if (link.previous && sorted[i - 1]?.ts !== link.previous.ts) ghosts.push({ ...link.previous, kind: 'ghost' });
  });
  if (newest && !sorted.some((link) => link.ts === newest.ts)) ghosts.push({ ...newest, kind: 'ghost' });
  return ghosts;
}

function sameLink(stored: StoredLink, derived: LinkEnergy): boolean {
  return (
    stored.kwh === derived.kwh &&
    stored.event === derived.event &&
    stored.previous?.ts === derived.previous?.ts &&
    stored.previous?.register === derived.previous?.register
  );
}

/**
 * a - b, exact in decimal and then rounded once to the nearest double, as PostgreSQL's
 * `(a::numeric - b::numeric)::float8` does: 1000.4 - 1000.2 is 0.2, not 0.19999999999993.
 * A register sent as 0.2 kWh steps thus stores the same energies as interval readings of 0.2.
 */
export function exactDifference(a: number, b: number): number {
  const { digits, scale } = decimalDifference(a, b);
  const negative = digits < 0n;
  const text = (negative ? -digits : digits).toString().padStart(scale + 1, '0');
  const decimal = scale > 0 ? `${text.slice(0, -scale)}.${text.slice(-scale)}` : text;
  return Number((negative ? '-' : '') + decimal);
}

/** Whether a - b is at most `JITTER_KWH`, compared in decimal (no rounding at the boundary). */
function withinJitter(a: number, b: number): boolean {
  const { digits, scale } = decimalDifference(a, b);
  const tolerance = decimalOf(JITTER_KWH);
  return digits * 10n ** BigInt(tolerance.scale) <= tolerance.digits * 10n ** BigInt(scale);
}

/** a - b exactly, as an integer and a decimal scale. */
function decimalDifference(a: number, b: number): { digits: bigint; scale: number } {
  const x = decimalOf(a);
  const y = decimalOf(b);
  const scale = Math.max(x.scale, y.scale);
  return { digits: x.digits * 10n ** BigInt(scale - x.scale) - y.digits * 10n ** BigInt(scale - y.scale), scale };
}

/** A finite non-negative number as an integer and a decimal scale, from its shortest decimal form. */
function decimalOf(value: number): { digits: bigint; scale: number } {
  const [mantissa = '0', exponent = '0'] = String(value).split('e');
  const [whole = '0', fraction = ''] = mantissa.split('.');
  const scale = fraction.length - Number(exponent);
  const digits = BigInt(whole + fraction);
  return scale < 0 ? { digits: digits * 10n ** BigInt(-scale), scale: 0 } : { digits, scale };
}
