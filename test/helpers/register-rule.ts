import { MAX_INTERVAL_KWH } from '../../src/telemetry/reading-bounds.js';

/** A dip of at most this many watt-hours is meter jitter, not a reset (docs/exactness.md). */
export const JITTER_WH = 10;

/**
 * The register chain rule in watt-hours, by brute force (the oracle of the property tests; the
 * service's own is src/telemetry/register-chain.ts): what a register reading counts after the
 * previous register of its device (undefined: it is the first), and its event.
 */
export function countedWh(previousWh: number | undefined, registerWh: number): { wh: number; event: string | null } {
  if (previousWh === undefined) return { wh: 0, event: 'first' };
  if (registerWh < previousWh) {
    if (previousWh - registerWh <= JITTER_WH) return { wh: 0, event: null };
    return { wh: registerWh > MAX_INTERVAL_KWH * 1000 ? 0 : registerWh, event: 'reset' };
  }
  return registerWh - previousWh > MAX_INTERVAL_KWH * 1000
    ? { wh: 0, event: 'jump' }
    : { wh: registerWh - previousWh, event: null };
}
