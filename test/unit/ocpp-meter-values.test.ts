import test from 'ava';

import { registerKwh, registerReadings, SampleError } from '../../src/ocpp/meter-values.js';

/** Decimal shift by text (the oracle): `digits` Wh as kWh. */
function whAsKwhText(digits: string): string {
  const padded = digits.padStart(4, '0');
  const whole = padded.slice(0, -3).replace(/^0+(?=\d)/, '');
  const fraction = padded.slice(-3).replace(/0+$/, '');
  return fraction ? `${whole}.${fraction}` : whole;
}

test('Wh registers convert to kWh exactly, for generated values of up to 15 digits', (t) => {
  let seed = 21;
  const next = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31);
  for (let i = 0; i < 2_000; i += 1) {
    const length = 1 + (next() % 12); // registers up to 1e9 kWh = 1e12 Wh
    const digits = Array.from({ length }, () => String(next() % 10)).join('');
    const kwh = registerKwh(digits, i % 2 === 0 ? 'Wh' : undefined, 'v');
    t.is(String(kwh), whAsKwhText(digits), digits);
  }
  t.is(registerKwh('1236000.1', 'Wh', 'v'), 1236.0001);
  t.is(registerKwh('1240.0001', 'kWh', 'v'), 1240.0001);
  t.is(registerKwh('1.5e3', 'Wh', 'v'), 1.5);
  t.throws(() => registerKwh('12', 'W', 'v'), { instanceOf: SampleError, message: /Wh or kWh/ });
  t.throws(() => registerKwh('1,5', 'Wh', 'v'), { instanceOf: SampleError });
  t.throws(() => registerKwh('123456789.123456789', 'Wh', 'v'), { instanceOf: SampleError, message: /digits/ });
});

test('only the unphased outlet register in Raw format is a reading; the voltage follows the phase rule', (t) => {
  const { readings, ignored } = registerReadings('cp:1', [
    {
      timestamp: '2026-12-01T00:00:00Z',
      sampledValue: [
        { value: '1000' },
        { value: '400', phase: 'L1' },
        { value: '900', location: 'Inlet' },
        { value: 'abc', format: 'SignedData' },
        { value: '10', measurand: 'Current.Import' },
        { value: '229', measurand: 'Voltage', phase: 'L1' },
        { value: '231', measurand: 'Voltage', phase: 'L1-N' },
      ],
    },
  ]);
  t.deepEqual(
    readings.map((r) => r.reading),
    [{ meterId: 'cp:1', kwhConsumedAcTotal: 1, voltage: 231, timestamp: '2026-12-01T00:00:00Z' }],
  );
  t.is(ignored, 4);
});
