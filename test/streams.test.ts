import test from 'ava';
import { sql } from 'kysely';

import { DAY_MS } from '../src/time.js';
import type { KinesisEmulator } from '../tools/harness/kinesis-emulator.js';
import { KinesisSink } from '../tools/simulator/kinesis-sink.js';
import { runSimulation } from '../tools/simulator/simulation.js';
import {
  caughtUp,
  count,
  leasesOf,
  metricValue,
  storedMeterReadings,
  testConsumer,
  waitFor,
  startEmulatorAndService,
} from './helpers/streams.js';
import { meterReading, minutesAgo, TEST_ADMIN_KEY, vehicleReading, type TestService } from './helpers/test-service.js';

// One emulator and one service consuming its streams for the file; each test uses its own
// streams and device ids.
let emulator: KinesisEmulator;
let svc: TestService;

test.before(async () => {
  ({ emulator, svc } = await startEmulatorAndService(
    [
      ['svc-meter', 2],
      ['svc-vehicle', 1],
    ],
    {
      KINESIS_STREAMS: 'svc-meter:meter,svc-vehicle:vehicle',
      KINESIS_LEASE_DURATION_MS: '3000',
      KINESIS_POLL_INTERVAL_MS: '200',
    },
  ));
});

test.after.always(async () => {
  await svc?.stop();
  await emulator?.stop();
});

const db = () => svc.dbHandle.db;

test.serial(
  'the service consumes its streams: one reading or an array per record; duplicates change nothing',
  async (t) => {
    const t1 = minutesAgo(10);
    const t2 = minutesAgo(9);
    const meterPut = await emulator.put('svc-meter', [
      { data: meterReading('svc-m1', t1), partitionKey: 'svc-m1' },
      { data: [meterReading('svc-m1', t2), meterReading('svc-m2', t1)], partitionKey: 'svc-m2' },
      { data: meterReading('svc-m1', t1), partitionKey: 'svc-m1' }, // the same record again
      { data: [meterReading('svc-m1', t2), meterReading('svc-m3', t1, 2)], partitionKey: 'svc-m3' },
    ]);
    const vehiclePut = await emulator.put('svc-vehicle', [
      { data: vehicleReading('svc-v1', t1), partitionKey: 'svc-v1' },
      { data: vehicleReading('svc-v1', t1), partitionKey: 'svc-v1' },
    ]);
    await waitFor('the service to consume', async () => {
      return (await caughtUp(db(), 'svc-meter', meterPut)) && (await caughtUp(db(), 'svc-vehicle', vehiclePut));
    });

    t.deepEqual(await storedMeterReadings(db(), 'svc-m'), [
      `svc-m1@${t1.toISOString()}`,
      `svc-m1@${t2.toISOString()}`,
      `svc-m2@${t1.toISOString()}`,
      `svc-m3@${t1.toISOString()}`,
    ]);
    t.is(await count(db(), 'vehicle_telemetry_history', 'svc-v'), 1);
    // Same rules as HTTP ingest: the live state moved to the newest reading.
    const live = await svc.get('/v1/meters/svc-m1/live');
    t.is(live.status, 200);
    t.is(live.body.timestamp, t2.toISOString());

    const metrics = await (await fetch(`${svc.url}/metrics`)).text();
    t.is(metricValue(metrics, 'ev_stream_records_total{stream_name="svc-meter",outcome="stored"}'), 4);
    t.is(metricValue(metrics, 'ev_stream_readings_total{stream_name="svc-meter",outcome="accepted"}'), 4);
    t.is(metricValue(metrics, 'ev_stream_readings_total{stream_name="svc-meter",outcome="duplicate"}'), 2);
    t.is(metricValue(metrics, 'ev_stream_readings_total{stream_name="svc-vehicle",outcome="duplicate"}'), 1);
    t.true((metricValue(metrics, 'ev_stream_lease_changes_total{stream_name="svc-meter",change="taken"}') ?? 0) >= 2);
    t.regex(metrics, /ev_stream_millis_behind_latest\{stream_name="svc-meter",shard_id="shardId-\d+"\} \d+/);
    // Every shard leased by the service's consumer.
    const owners = new Set((await leasesOf(db(), 'svc-meter')).map((lease) => lease.owner));
    t.is(owners.size, 1);
    t.is([...owners][0], svc.streamConsumer!.id);
  },
);

test.serial(
  'the simulator puts a backfill on the streams (--sink kinesis); the service stores all of it',
  async (t) => {
    const kinesis = new KinesisSink({
      client: emulator.client,
      meterStream: 'svc-meter',
      vehicleStream: 'svc-vehicle',
      readingsPerRecord: 10,
    });
    const stats = await runSimulation({
      url: svc.url,
      apiKey: TEST_ADMIN_KEY,
      vehicles: 3,
      seed: 3,
      faultyShare: 0,
      backfillMs: 30 * 60_000,
      backfillEndMs: Date.now(),
      speed: 1,
      batch: 45,
      concurrency: 2,
      kinesis,
    });
    t.is(stats.errors, 0);
    t.is(stats.sent, 3 * 30 * 2);
    await waitFor('the backfill to be stored', async () => {
      const meters = await count(db(), 'meter_telemetry_history', 'sim-meter-');
      const vehicles = await count(db(), 'vehicle_telemetry_history', 'sim-ev-');
      return meters === 90 && vehicles === 90;
    });
    const report = await svc.get('/v1/analytics/performance/sim-ev-00000');
    t.is(report.status, 200);
    t.true(report.body.acEnergyKwh > 0);
  },
);

test.serial(
  'invalid records are dead-lettered with their reason, listed to admins, and the shard moves on',
  async (t) => {
    await emulator.createStream('dl', 1);
    const validAt = minutesAgo(5);
    const put = await emulator.put('dl', [
      { data: 'not json {', partitionKey: 'a' },
      { data: [meterReading('dl-m1', minutesAgo(5)), { meterId: 'dl-m1', voltage: 230 }], partitionKey: 'a' },
      { data: meterReading('dl-m2', new Date(Date.now() - 400 * DAY_MS)), partitionKey: 'a' },
      { data: Buffer.from([0xff, 0x00, 0xfe]), partitionKey: 'a' },
      { data: meterReading('dl-m3', validAt), partitionKey: 'a' },
    ]);
    const { consumer, metrics } = testConsumer(db(), emulator.client, 'dl-1', [{ name: 'dl', kind: 'meter' }]);
    consumer.start();
    await waitFor('the dead letters', () => caughtUp(db(), 'dl', put));
    await consumer.stop();

    // The valid record after them is stored; nothing of the invalid ones (a record is all or nothing).
    t.deepEqual(await storedMeterReadings(db(), 'dl-'), [`dl-m3@${validAt.toISOString()}`]);

    const page = await svc.get('/v1/streams/dead-letters?stream=dl&limit=2');
    t.is(page.status, 200);
    t.is(page.body.items.length, 2);
    const rest = await svc.get(`/v1/streams/dead-letters?stream=dl&before=${page.body.nextBefore}`);
    t.is(rest.body.nextBefore, null);
    const letters = [...page.body.items, ...rest.body.items].reverse();
    t.deepEqual(
      letters.map((l: { reason: string; sequenceNumber: string }) => [l.reason, l.sequenceNumber]),
      [
        ['not_json', put[0]!.sequenceNumber],
        ['invalid_readings', put[1]!.sequenceNumber],
        ['too_old', put[2]!.sequenceNumber],
        ['not_json', put[3]!.sequenceNumber],
      ],
    );
    t.is(letters[0].text, 'not json {');
    t.like(
      letters[1].details.find((d: { path: string }) => d.path === 'kwhConsumedAc'),
      { index: 1, path: 'kwhConsumedAc' },
      "the missing energy is named with the reading's other problems",
    );
    t.regex(letters[2].details[0].message, /older than/);
    t.is(letters[3].text, null);
    t.is(letters[3].payload, Buffer.from([0xff, 0x00, 0xfe]).toString('base64'));
    const text = await metrics.registry.metrics();
    t.is(metricValue(text, 'ev_stream_dead_letters_total{stream_name="dl",reason="not_json"}'), 2);
    t.is(metricValue(text, 'ev_stream_readings_total{stream_name="dl",outcome="rejected"}'), 5); // 1 + 2 + 1 + 1

    // Read again from the start (as after a crash): nothing changes.
    await sql`UPDATE stream_shard_lease SET checkpoint = NULL WHERE stream_name = 'dl'`.execute(db());
    const again = testConsumer(db(), emulator.client, 'dl-2', [{ name: 'dl', kind: 'meter' }]).consumer;
    again.start();
    await waitFor('the second pass', () => caughtUp(db(), 'dl', put));
    await again.stop();
    t.is((await svc.get('/v1/streams/dead-letters?stream=dl')).body.items.length, 4);
    t.is(await count(db(), 'meter_telemetry_history', 'dl-'), 1);

    // Admin only.
    const key = await svc.post('/v1/keys', { name: 'reader', scopes: ['read'] });
    const refused = await svc.get('/v1/streams/dead-letters', { authorization: `Bearer ${key.body.key}` });
    t.is(refused.status, 403);
  },
);
