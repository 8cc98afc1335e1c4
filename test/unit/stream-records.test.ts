import test from 'ava';

import { commitRuns, recordDecoder, type StreamRecord } from '../../src/streams/stream-records.js';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../../src/time.js';

const rules = { maxAgeMs: () => 10 * DAY_MS, maxFutureMs: 5 * MINUTE_MS, maxReadings: 3 };
let seq = 0;
const record = (body: unknown): StreamRecord => ({
  sequenceNumber: String((seq += 1)),
  partitionKey: 'k',
  arrivedAt: null,
  data: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)),
});
const meter = (at: number) => ({ meterId: 'm', kwhConsumedAc: 1, voltage: 230, timestamp: new Date(at).toISOString() });

test('records decode as the HTTP body does; refusals carry their reason and reading count', (t) => {
  const decode = recordDecoder('meter', rules);
  const now = Date.now();
  const one = decode(record(meter(now - MINUTE_MS)));
  t.true('readings' in one && one.readings.length === 1);
  const refused = (body: unknown) => {
    const decoded = decode(record(body));
    return 'refused' in decoded ? [decoded.refused.reason, decoded.refused.readings] : undefined;
  };
  t.deepEqual(refused('{"meterId":'), ['not_json', 1]);
  t.deepEqual(refused([meter(now), { meterId: 'm' }]), ['invalid_readings', 2]);
  t.deepEqual(refused([meter(now), meter(now), meter(now), meter(now)]), ['invalid_readings', 4]); // over the limit
  t.deepEqual(refused({ vehicleId: 'v', soc: 1, kwhDeliveredDc: 1, batteryTemp: 1, timestamp: meter(now).timestamp }), [
    'invalid_readings',
    1,
  ]);
  t.deepEqual(refused([meter(now), meter(now - 11 * DAY_MS)]), ['too_old', 2]);
  t.deepEqual(refused(meter(now + HOUR_MS)), ['invalid_readings', 1]); // in the future
  // A register with digits a double does not hold (register-precision.ts), as over HTTP.
  const register = (total: string) =>
    `{"meterId":"m","voltage":230,"timestamp":"${meter(now).timestamp}","kwhConsumedAcTotal":${total}}`;
  t.deepEqual(refused(register('999999999.000000001')), ['invalid_readings', 1]);
  t.true('readings' in decode(record(register('999999999.999'))));
});

test('a read is committed in runs of touching hours, each ending on a record', (t) => {
  const decode = recordDecoder('meter', { ...rules, maxAgeMs: () => 30 * DAY_MS });
  const now = Math.floor(Date.now() / HOUR_MS) * HOUR_MS;
  const records = [
    decode(record(meter(now - 10 * MINUTE_MS))),
    decode(record('junk')), // refused: joins the run it is in
    decode(record(meter(now - HOUR_MS))),
    decode(record(meter(now - 5 * DAY_MS))), // late: its own run
    decode(record([meter(now - 5 * DAY_MS + 1), meter(now - 5 * DAY_MS + 2)])),
    decode(record(meter(now - 20 * MINUTE_MS))),
  ];
  const runs = commitRuns(records, 10_000);
  t.deepEqual(
    runs.map((run) => run.length),
    [3, 2, 1],
  );
  t.deepEqual(
    commitRuns(records.slice(0, 3), 1).map((run) => run.length),
    [2, 1],
  );
});
