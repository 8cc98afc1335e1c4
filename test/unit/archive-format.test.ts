import test from 'ava';

import { objectKey, usToIso } from '../../src/archive/archive-format.js';
import { compareSummaries, SummaryBuilder } from '../../src/archive/chunk-summary.js';

test('object keys are fixed per chunk, Hive-style', (t) => {
  const start = new Date('2026-09-01T00:00:00Z');
  t.is(objectKey('archive', 'meter', start, 42), 'archive/v1/stream=meter/date=2026-09-01/chunk-42.parquet');
  t.is(objectKey('tenant/a/', 'vehicle', start, 7), 'tenant/a/v1/stream=vehicle/date=2026-09-01/chunk-7.parquet');
  t.is(objectKey('', 'meter', start, 1), 'v1/stream=meter/date=2026-09-01/chunk-1.parquet');
});

test('microsecond instants keep their six decimals', (t) => {
  t.is(usToIso(1_788_307_200_123_456), '2026-09-02T00:00:00.123456Z');
  t.is(usToIso(1_788_307_200_000_001), '2026-09-02T00:00:00.000001Z');
});

test('summaries: equal rows compare equal; any changed value, time, or extra row is named', (t) => {
  const rows = [
    { device: 'a', tsUs: 1_000, values: [0.1, 230], receivedAtUs: 1_500 },
    { device: 'a', tsUs: 2_000, values: [0.2, 231], receivedAtUs: 2_500 },
    { device: 'b', tsUs: 1_000, values: [0.3, 229], receivedAtUs: 1_700 },
  ];
  const summarize = (list: typeof rows) => {
    const builder = new SummaryBuilder();
    for (const row of list) builder.add(row);
    return builder.finish();
  };
  const base = summarize(rows);
  t.like(base, { rows: 3, minUs: 1_000, maxUs: 2_000 });
  t.is(base.devices.a!.sums[0], 0.1 + 0.2);
  t.deepEqual(compareSummaries(base, summarize(rows.map((r) => ({ ...r })))), []);
  t.is(
    compareSummaries(base, summarize([rows[0]!, { ...rows[1]!, values: [0.2000000000000001, 231] }, rows[2]!])).length,
    1,
  );
  t.is(compareSummaries(base, summarize([rows[0]!, { ...rows[1]!, tsUs: 2_001 }, rows[2]!])).length, 2);
  t.regex(compareSummaries(base, summarize(rows.slice(0, 2)))[0]!, /row count/);
  t.throws(() => summarize([rows[1]!, rows[0]!]), { message: /out of order/ });
  t.throws(() => summarize([rows[0]!, rows[2]!, rows[1]!]), { message: /out of order/ });
});
