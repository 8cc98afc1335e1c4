import type { EfficiencyStatus } from './analytics.schema.js';

/**
 * The one rule that turns a window's (or bucket's) AC and DC energy into the ratio and status
 * every analytics answer shows, the fleet filters on and the fleet sorts by. It is exact
 * integer arithmetic on the energies as shown, so the SQL of the fleet query
 * (fleet.repository.ts, `efficiencySql`) and this TypeScript give the same answer to the last
 * digit: the fleet row shows what its filter and sort used, and the performance endpoint the
 * same figures for the same window.
 *
 * 1. Each energy is taken as PostgreSQL's `float8::numeric` does (15 significant digits) and
 *    rounded half away from zero to 9 decimals (a microwatt-hour): an integer of nano-kWh.
 * 2. The ratio DC/AC is rounded half up to 6 decimals: an integer of millionths,
 *    `(2·10⁶·D + A) div (2·A)`; none without AC energy.
 * 3. The status: `no_data` without a ratio; `insufficient_data` when neither side reached
 *    MIN_JUDGED_KWH (an idle hour's standby draw, a stray reading: too little charging to
 *    judge); then `implausible` above 1, `low` below the threshold, else `normal`.
 */

/** Below this DC/AC ratio a charger or battery loses energy it should not: a fault. */
export const EFFICIENCY_FAULT_THRESHOLD = 0.85;

/**
 * The charging needed before a ratio is judged: 1 kWh of AC or of DC energy in the window or
 * bucket (a few minutes of the slowest charging; an idle vehicle's standby draw stays far
 * below it in an hour). A wrong mapping (DC delivered with next to no AC) is still judged.
 */
export const MIN_JUDGED_KWH = 1;

/** Energies are shown (and compared) to this many decimals of a kWh: a microwatt-hour. */
export const KWH_DECIMALS = 9;
/** Ratios are shown to this many decimals. */
export const RATIO_DECIMALS = 6;

const NANO = 10n ** BigInt(KWH_DECIMALS);
const MICRO = 10n ** BigInt(RATIO_DECIMALS);
export const THRESHOLD_MICRO = BigInt(Math.round(EFFICIENCY_FAULT_THRESHOLD * 10 ** RATIO_DECIMALS));
export const MIN_JUDGED_NANO = BigInt(MIN_JUDGED_KWH) * NANO;

/** `value` in units of 10^-decimals, as PostgreSQL's round(value::numeric, decimals). */
export function toScaledInteger(value: number, decimals = KWH_DECIMALS): bigint {
  if (!Number.isFinite(value)) throw new RangeError(`not a finite energy: ${value}`);
  const negative = value < 0;
  // PostgreSQL converts float8 to numeric through 15 significant digits (DBL_DIG).
  const [mantissa, exponent = '0'] = Math.abs(value).toPrecision(15).split('e');
  const [whole, fraction = ''] = mantissa!.split('.');
  const digits = BigInt(whole! + fraction);
  const shift = Number(exponent) - fraction.length + decimals;
  let scaled: bigint;
  if (shift >= 0) scaled = digits * 10n ** BigInt(shift);
  else {
    const divisor = 10n ** BigInt(-shift);
    scaled = digits / divisor + (2n * (digits % divisor) >= divisor ? 1n : 0n);
  }
  return negative ? -scaled : scaled;
}

/** An integer of 10^-decimals units as the exact decimal it is, then the nearest double. */
export function fromScaledInteger(scaled: bigint, decimals: number): number {
  const negative = scaled < 0n;
  const text = (negative ? -scaled : scaled).toString().padStart(decimals + 1, '0');
  const decimal = `${text.slice(0, -decimals)}.${text.slice(-decimals)}`;
  return Number(negative ? `-${decimal}` : decimal);
}

/** An energy as every answer shows it. */
export const shownKwh = (value: number) => fromScaledInteger(toScaledInteger(value), KWH_DECIMALS);

export interface Efficiency {
  acKwh: number;
  dcKwh: number;
  ratio: number | null;
  status: EfficiencyStatus;
}

/** The status of a ratio in millionths (null: none) given both energies in nano-kWh. */
export function statusOf(ratioMicro: bigint | null, acNano: bigint, dcNano: bigint): EfficiencyStatus {
  if (ratioMicro === null) return 'no_data';
  if (acNano < MIN_JUDGED_NANO && dcNano < MIN_JUDGED_NANO) return 'insufficient_data';
  if (ratioMicro > MICRO) return 'implausible';
  if (ratioMicro < THRESHOLD_MICRO) return 'low';
  return 'normal';
}

/** The figures of the rule for one window or bucket. */
export function efficiencyOf(acKwh: number, dcKwh: number): Efficiency {
  const ac = toScaledInteger(acKwh);
  const dc = toScaledInteger(dcKwh);
  const ratioMicro = ac > 0n ? (2n * MICRO * dc + ac) / (2n * ac) : null;
  return {
    acKwh: fromScaledInteger(ac, KWH_DECIMALS),
    dcKwh: fromScaledInteger(dc, KWH_DECIMALS),
    ratio: ratioMicro === null ? null : fromScaledInteger(ratioMicro, RATIO_DECIMALS),
    status: statusOf(ratioMicro, ac, dc),
  };
}
