import test from 'ava';
import { sql } from 'kysely';

import { meterReading, minutesAgo, startTestService, type TestService } from './helpers/test-service.js';

let svc: TestService;
test.before(async () => {
  // A queue that holds 6,000 readings: two concurrent 5,000-reading requests cannot both fit.
  svc = await startTestService({ INGEST_MAX_QUEUED_READINGS: '6000' });
});
test.after.always(async () => {
  await svc?.stop();
});

async function storedMeterRows(meterId: string) {
  const result = await sql<{ n: number }>`
    SELECT count(*) AS n FROM meter_telemetry_history WHERE meter_id = ${meterId}`.execute(svc.dbHandle.db);
  return result.rows[0]?.n;
}

test('when the queue is full the request gets 503 overloaded with Retry-After and nothing is written', async (t) => {
  const start = minutesAgo(20_000);
  const batch = (device: string) =>
    Array.from({ length: 5000 }, (_, i) => meterReading(device, new Date(start.getTime() + i * 60_000)));
  const [a, b] = await Promise.all([
    svc.post('/v1/ingestion/meter', batch('ing-over-a')),
    svc.post('/v1/ingestion/meter', batch('ing-over-b')),
  ]);
  const refused = [a, b].filter((r) => r.status === 503);
  const stored = [a, b].filter((r) => r.status === 202);
  t.is(refused.length, 1);
  t.is(stored.length, 1);
  t.is(refused[0]!.body.error.code, 'overloaded');
  t.is(refused[0]!.headers.get('retry-after'), '1');
  const counts = await Promise.all([storedMeterRows('ing-over-a'), storedMeterRows('ing-over-b')]);
  t.deepEqual(counts.sort(), [0, 5000]);
});
