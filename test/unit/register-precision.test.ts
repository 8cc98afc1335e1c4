import test from 'ava';

import type { MeterReading } from '../../src/telemetry/reading.js';
import { registerPrecisionIssues } from '../../src/telemetry/register-precision.js';
import { seededRandom } from '../../tools/simulator/random.js';

/** Unit tier: registers are kept as sent or refused, read from the body's source text. */

const readingsOf = (source: string): MeterReading[] => {
  const body: unknown = JSON.parse(source);
  return (Array.isArray(body) ? body : [body]).map((r: Record<string, number>) => ({
    meterId: 'm',
    kwhConsumedAc: r.kwhConsumedAc ?? null,
    kwhConsumedAcTotal: r.kwhConsumedAcTotal ?? null,
    voltage: 230,
    timestamp: new Date(0),
  }));
};
const issues = (source: string) => registerPrecisionIssues(source, readingsOf(source), 'kwhConsumedAcTotal');

test('digits a double does not hold are refused, naming the reading and the field', (t) => {
  const [issue] = issues('{"kwhConsumedAcTotal": 999999999.000000001, "voltage": 230}');
  t.like(issue, { index: 0, path: 'kwhConsumedAcTotal' });
  t.regex(issue!.message, /999999999\.000000001 would be stored as 999999999 /);
  const batch = issues(
    '[{"kwhConsumedAcTotal": 1.5}, {"kwhConsumedAc": 0.12345678901234567}, {"kwhConsumedAcTotal": 12345678.1234567891}]',
  );
  t.deepEqual(
    batch.map((d) => [d.index, d.path]),
    [[2, 'kwhConsumedAcTotal']],
    'only registers are checked: an interval energy is a double column',
  );
  // A key written with an escape is the same key.
  t.is(issues('{"kwhConsumedAc\\u0054otal": 999999999.000000001}').length, 1);
  // Numbers inside strings are not tokens.
  t.is(issues('{"note": "1.000000000000000000001", "kwhConsumedAcTotal": 5}').length, 0);
});

test('the same value in another notation is kept: trailing zeros, exponents, 17 digits a double holds', (t) => {
  for (const text of ['1000.40', '1.0004e3', '0.30000000000000004', '0', '0.000', '1E-7', '999999999.999', '5e+2'])
    t.deepEqual(issues(`{"kwhConsumedAcTotal": ${text}}`), [], text);
});

test('every value of up to 15 significant digits is kept (generated)', (t) => {
  const rnd = seededRandom(7);
  for (let i = 0; i < 20_000; i += 1) {
    const digits = String(Math.floor(rnd() * 10 ** (1 + Math.floor(rnd() * 15))));
    const point = Math.floor(rnd() * (digits.length + 1));
    const text = point === digits.length ? digits : `${digits.slice(0, point) || '0'}.${digits.slice(point)}`;
    if (Number(text) > 1e9) continue;
    t.deepEqual(issues(`{"kwhConsumedAcTotal": ${text}}`), [], text);
  }
});
