import test from 'ava';

import { meterReading, minutesAgo, startTestService, type TestService } from './helpers/test-service.js';

let svc: TestService;
test.before(async () => {
  svc = await startTestService();
});
test.after.always(async () => {
  await svc?.stop();
});

const metricValue = (text: string, line: string) => {
  const match = text.split('\n').find((l) => l.startsWith(line + ' '));
  return match === undefined ? undefined : Number(match.slice(line.length + 1));
};

test('GET /metrics: Prometheus text with ingest, HTTP, analytics and process metrics', async (t) => {
  const at = minutesAgo(2);
  await svc.post('/v1/ingestion/meter', [
    meterReading('met-m', at),
    meterReading('met-m', at),
    meterReading('met-m', minutesAgo(1)),
  ]);
  await svc.post('/v1/ingestion/meter', [{ meterId: 'bad id' }, {}]);
  await svc.put('/v1/vehicles/met-v/meter', { meterId: 'met-m' });
  await svc.get('/v1/analytics/performance/met-v');

  const res = await fetch(`${svc.url}/metrics`); // open, like /healthz
  t.is(res.status, 200);
  t.regex(res.headers.get('content-type') ?? '', /text\/plain/);
  const text = await res.text();
  t.is(metricValue(text, 'ev_readings_total{stream="meter",outcome="accepted"}'), 2);
  t.is(metricValue(text, 'ev_readings_total{stream="meter",outcome="duplicate"}'), 1);
  t.is(metricValue(text, 'ev_readings_total{stream="meter",outcome="rejected"}'), 2);
  t.is(metricValue(text, 'ev_ingest_batch_readings_count'), 1);
  t.is(metricValue(text, 'ev_analytics_query_seconds_count'), 1);
  t.is(metricValue(text, 'ev_ingest_queue_readings'), 0);
  t.true(
    (metricValue(
      text,
      'ev_http_request_duration_seconds_count{method="POST",route="/v1/ingestion/meter",status="202"}',
    ) ?? 0) >= 1,
  );
  t.regex(text, /process_resident_memory_bytes/);
});
