import { z } from 'zod';

import { DAY_MS, HOUR_MS, MINUTE_MS, SECOND_MS } from '../time.js';

/**
 * ISO 8601 durations of fixed length: weeks, days, hours, minutes and whole seconds
 * (`PT15M`, `PT24H`, `P1DT12H`). Years and months are refused: their length depends on the
 * calendar, and a rule's window must mean the same span every time it is evaluated.
 */
const DURATION = /^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/;

/** The duration in milliseconds, or why the text is not one. */
export function parseIsoDuration(text: string): number | { error: string } {
  if (/^P[^T]*\d[YM]/.test(text)) {
    return { error: 'years and months have no fixed length: use weeks or days (e.g. P30D)' };
  }
  const match = DURATION.exec(text);
  if (!match || text === 'P' || text.endsWith('T')) {
    return { error: 'must be an ISO 8601 duration such as PT15M, PT24H or P1DT12H (W, D, H, M and whole S)' };
  }
  const [weeks = 0, days = 0, hours = 0, minutes = 0, seconds = 0] = match.slice(1).map((part) => Number(part ?? 0));
  return weeks * 7 * DAY_MS + days * DAY_MS + hours * HOUR_MS + minutes * MINUTE_MS + seconds * SECOND_MS;
}

/** A duration in milliseconds of a stored (already validated) text. */
export function isoDurationMs(text: string): number {
  const parsed = parseIsoDuration(text);
  if (typeof parsed !== 'number') throw new RangeError(`not a duration: ${text} (${parsed.error})`);
  return parsed;
}

/** A duration field of a request: the text kept as given, checked to lie in [min, max]. */
export function isoDurationField(limits: { min: number; max: number; minText: string; maxText: string }) {
  return z.string('must be an ISO 8601 duration string, e.g. "PT15M"').superRefine((text, ctx) => {
    const parsed = parseIsoDuration(text);
    if (typeof parsed !== 'number') ctx.addIssue({ code: 'custom', message: parsed.error });
    else if (parsed < limits.min) ctx.addIssue({ code: 'custom', message: `must be at least ${limits.minText}` });
    else if (parsed > limits.max) ctx.addIssue({ code: 'custom', message: `must be at most ${limits.maxText}` });
  });
}
