import type { ErrorDetail } from '../http/app-error.js';
import type { MeterReading, VehicleReading } from './reading.js';

/**
 * Registers are kept exactly as sent, or refused. A JSON number is parsed to a double before
 * the service sees it, so `999999999.000000001` would silently become `999999999`: the chain,
 * the live state, the events and the archive all work on the value the double holds (the
 * database stores its shortest decimal form in the NUMERIC column). Keeping more digits than a
 * double would mean decimal strings through every one of those paths and answers that still
 * print doubles; refusing exactly the values that would change keeps what is stored,
 * computed and answered equal to what was sent. Every value of up to 15 significant digits
 * is kept (a double holds any such decimal); a longer one only if the double holds it exactly
 * (`0.30000000000000004` is).
 *
 * The digits sent are read from the body's source text (koa-bodyparser keeps it as
 * `rawBody`; a stream record's data): every number token outside a string is turned into a
 * marked string and the text parsed again, which puts each number's source at its place in
 * the body (keys written with escapes included), without a parser of our own.
 */

export type RegisterField = 'kwhConsumedAcTotal' | 'kwhDeliveredDcTotal';

/** Strings (skipped whole, escapes included) or JSON number tokens. */
const TOKENS = /"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g;
/** What a marked number's string starts with once parsed (written as the escape `\u0000`). */
const MARK = '\u0000';

/**
 * One detail per register of `readings` (the body as validated) whose value as sent is not
 * the value kept. `source` is the body's JSON text; it must parse (the body parser checked it).
 */
export function registerPrecisionIssues(
  source: string,
  readings: readonly (MeterReading | VehicleReading)[],
  field: RegisterField,
): ErrorDetail[] {
  const kept = readings.map((reading) => (reading as unknown as Record<string, number | null>)[field] ?? null);
  if (kept.every((value) => value === null)) return [];
  const marked: unknown = JSON.parse(
    source.replace(TOKENS, (token) => (token.startsWith('"') ? token : `"\\u0000${token}"`)),
  );
  const bodies: unknown[] = Array.isArray(marked) ? marked : [marked];
  const issues: ErrorDetail[] = [];
  kept.forEach((value, index) => {
    const sent = (bodies[index] as Record<string, unknown> | undefined)?.[field];
    if (value === null || typeof sent !== 'string' || !sent.startsWith(MARK)) return;
    const text = sent.slice(MARK.length);
    if (sameDecimal(text, String(value))) return;
    issues.push({
      index, // as the schema's details: a single reading is index 0
      path: field,
      message:
        `has more significant digits than are kept: ${text} would be stored as ${String(value)} ` +
        '(every value of up to 15 significant digits is kept exactly)',
    });
  });
  return issues;
}

/** Whether two decimal texts (JSON number syntax) denote the same value. */
export function sameDecimal(a: string, b: string): boolean {
  const x = normalized(a);
  const y = normalized(b);
  return x.negative === y.negative && x.digits === y.digits && x.exponent === y.exponent;
}

/** A decimal as its significant digits (no leading or trailing zeros) and the exponent of the last one. */
function normalized(text: string): { negative: boolean; digits: string; exponent: number } {
  const match = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (!match) return { negative: false, digits: text, exponent: NaN };
  const [, sign = '', whole = '', fraction = '', exponent = '0'] = match;
  let digits = (whole + fraction).replace(/^0+/, '');
  let scale = Number(exponent) - fraction.length;
  const trailing = digits.length - digits.replace(/0+$/, '').length;
  digits = digits.slice(0, digits.length - trailing);
  scale += trailing;
  if (digits === '') return { negative: false, digits: '0', exponent: 0 };
  return { negative: sign === '-', digits, exponent: scale };
}
