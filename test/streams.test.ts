import test from 'ava';
import { sql } from 'kysely';

import { advanceCheckpoint, registerShards, takeLease } from '../src/streams/shard-lease.repository.js';
import { DAY_MS } from '../src/time.js';
import {
  EMULATOR_CREDENTIALS,
  EMULATOR_REGION,
  startKinesisEmulator,
  type KinesisEmulator,
} from '../tools/harness/kinesis-emulator.js';
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
} from './helpers/streams.js';
import {
  meterReading,
  minutesAgo,
  startTestService,
  TEST_ADMIN_KEY,
  vehicleReading,
  type TestService,
} from './helpers/test-service.js';

// One emulator and one service for the file; each test uses its own streams and device ids.
let emulator: KinesisEmulator;
let svc: TestService;

test.before(async () => {
  // The service's consumer takes its credentials from the SDK's default chain, as in production.
  process.env.AWS_ACCESS_KEY_ID = EMULATOR_CREDENTIALS.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = EMULATOR_CREDENTIALS.secretAccessKey;
  const [started] = await Promise.all([startKinesisEmulator()]);
  emulator = started;
  await Promise.all([emulator.createStream('svc-meter', 2), emulator.createStream('svc-vehicle', 1)]);
  svc = await startTestService({
    KINESIS_STREAMS: 'svc-meter:meter,svc-vehicle:vehicle',
    AWS_ENDPOINT_URL_KINESIS: emulator.endpoint,
    AWS_REGION: EMULATOR_REGION,
    KINESIS_LEASE_DURATION_MS: '3000',
    KINESIS_POLL_INTERVAL_MS: '200',
  });
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

test.serial('two consumers racing for the same shards share them, and each record is stored once', async (t) => {
  await emulator.createStream('race', 4);
  const base = Date.now() - 60 * 60_000;
  const records = Array.from({ length: 120 }, (_, i) => ({
    data: meterReading(`race-m${i % 12}`, new Date(base + Math.floor(i / 12) * 60_000)),
    partitionKey: `p${i}`,
  }));
  // Every tenth record twice: a producer's retry.
  const put = await emulator.put('race', [...records, ...records.filter((_, i) => i % 10 === 0)]);
  const streams = [{ name: 'race', kind: 'meter' as const }];
  const a = testConsumer(db(), emulator.client, 'race-a', streams);
  const b = testConsumer(db(), emulator.client, 'race-b', streams);
  t.teardown(() => Promise.all([a.consumer.stop(), b.consumer.stop()]));
  a.consumer.start();
  b.consumer.start();
  await waitFor('both consumers to catch up', () => caughtUp(db(), 'race', put));
  t.is(await count(db(), 'meter_telemetry_history', 'race-'), 120);
  await waitFor(
    'the leases to even out',
    () => a.consumer.heldShards.length === 2 && b.consumer.heldShards.length === 2,
  );
  const leases = await leasesOf(db(), 'race');
  t.deepEqual(leases.map((l) => l.owner).sort(), ['race-a', 'race-a', 'race-b', 'race-b']);

  // A third consumer joins: it steals its share; the others let go; still each reading once.
  const c = testConsumer(db(), emulator.client, 'race-c', streams);
  t.teardown(() => c.consumer.stop());
  c.consumer.start();
  await waitFor('the third consumer to get a lease', () => c.consumer.heldShards.length >= 1);
  const more = await emulator.put(
    'race',
    Array.from({ length: 40 }, (_, i) => ({
      data: meterReading(`race-m${i}`, new Date(base - 60_000)),
      partitionKey: `q${i}`,
    })),
  );
  await waitFor('the new records', () => caughtUp(db(), 'race', more));
  t.is(await count(db(), 'meter_telemetry_history', 'race-'), 160);
  const stolen = metricValue(
    await c.metrics.registry.metrics(),
    'ev_stream_lease_changes_total{stream_name="race",change="stolen"}',
  );
  t.true((stolen ?? 0) >= 1);
  await Promise.all([a.consumer.stop(), b.consumer.stop(), c.consumer.stop()]);
  // Released on stop: free for whoever comes next.
  t.true((await leasesOf(db(), 'race')).every((l) => l.owner === null));
});

test.serial(
  'fencing: a consumer whose lease was taken commits nothing, and the records wait for the new holder',
  async (t) => {
    // The repository's fence by itself.
    await registerShards(db(), 'fence-unit', [{ shardId: 'shard-0', parentShardIds: [] }]);
    const key = { streamName: 'fence-unit', shardId: 'shard-0' };
    const first = (await takeLease(db(), key, 'old', 0, 60_000, false))!;
    t.is(first.counter, 1);
    t.is(await takeLease(db(), key, 'other', 0, 60_000, false), undefined); // live: not free
    const second = (await takeLease(db(), key, 'new', 1, 60_000, true))!;
    t.is(second.counter, 2);
    t.false(await advanceCheckpoint(db(), first, 'old', { checkpoint: '1', finished: false }, 60_000));
    t.true(await advanceCheckpoint(db(), second, 'new', { checkpoint: '1', finished: false }, 60_000));

    // A running consumer: its lease is taken behind its back (as by a consumer that found it
    // expired during a pause); its next commit fails at the fence and it drops the shard.
    await emulator.createStream('fence', 1);
    const first10 = await emulator.put('fence', [{ data: meterReading('fence-m1', minutesAgo(3)), partitionKey: 'a' }]);
    const { consumer, metrics } = testConsumer(db(), emulator.client, 'fence-a', [{ name: 'fence', kind: 'meter' }]);
    consumer.start();
    await waitFor('the first record', () => caughtUp(db(), 'fence', first10));
    const [lease] = await leasesOf(db(), 'fence');
    const taken = await takeLease(
      db(),
      { streamName: 'fence', shardId: lease!.shardId },
      'intruder',
      lease!.counter,
      1_500,
      true,
    );
    t.truthy(taken);
    const late = await emulator.put('fence', [{ data: meterReading('fence-m1', minutesAgo(2)), partitionKey: 'a' }]);
    await waitFor('the consumer to notice', async () => {
      const text = await metrics.registry.metrics();
      return (metricValue(text, 'ev_stream_lease_changes_total{stream_name="fence",change="lost"}') ?? 0) >= 1;
    });
    t.is(await count(db(), 'meter_telemetry_history', 'fence-'), 1);
    t.is((await leasesOf(db(), 'fence'))[0]!.checkpoint, first10[0]!.sequenceNumber);
    // The intruder never reads; its lease expires and the consumer takes the shard back.
    await waitFor('the record after the intruder expired', () => caughtUp(db(), 'fence', late));
    t.is(await count(db(), 'meter_telemetry_history', 'fence-'), 2);
    await consumer.stop();
  },
);

test.serial('a split mid-stream: the parent is read to its end before its children, and never again', async (t) => {
  await emulator.createStream('split', 1);
  const base = Date.now() - 30 * 60_000;
  const reading = (i: number) => ({
    data: meterReading(`split-m${i % 3}`, new Date(base + i * 60_000)),
    partitionKey: `k${i}`,
  });
  const before = await emulator.put(
    'split',
    Array.from({ length: 12 }, (_, i) => reading(i)),
  );
  await emulator.split('split', 'shardId-000000000000');
  const after = await emulator.put(
    'split',
    Array.from({ length: 12 }, (_, i) => reading(12 + i)),
  );
  t.true(after.every((r) => r.shardId !== 'shardId-000000000000'));

  const streams = [{ name: 'split', kind: 'meter' as const }];
  const first = testConsumer(db(), emulator.client, 'split-a', streams, { maxRecords: 5 });
  t.teardown(() => first.consumer.stop());
  first.consumer.start();
  await waitFor('all records', async () => (await caughtUp(db(), 'split', before)) && caughtUp(db(), 'split', after));
  t.is(await count(db(), 'meter_telemetry_history', 'split-'), 24);
  const leases = await leasesOf(db(), 'split');
  t.is(leases.length, 3);
  t.true(leases[0]!.finished);
  t.deepEqual(
    leases.slice(1).map((l) => l.parents),
    [['shardId-000000000000'], ['shardId-000000000000']],
  );
  // Every reading of the parent was committed before any of the children's.
  const committed = await sql<{ parent: boolean; first: Date; last: Date }>`
    SELECT ts < ${new Date(base + 12 * 60_000)} AS parent, min(received_at) AS first, max(received_at) AS last
    FROM meter_telemetry_history WHERE meter_id LIKE 'split-%' GROUP BY 1`.execute(db());
  const parent = committed.rows.find((r) => r.parent)!;
  const children = committed.rows.find((r) => !r.parent)!;
  t.true(parent.last.getTime() <= children.first.getTime());
  await first.consumer.stop();

  // After a restart, the finished parent is not leased (nor read) again.
  const parentCounter = leases[0]!.counter;
  const second = testConsumer(db(), emulator.client, 'split-b', streams);
  t.teardown(() => second.consumer.stop());
  second.consumer.start();
  const more = await emulator.put('split', [reading(30), reading(31)]);
  await waitFor('the records after the restart', () => caughtUp(db(), 'split', more));
  await second.consumer.stop();
  t.is(await count(db(), 'meter_telemetry_history', 'split-'), 26);
  t.is((await leasesOf(db(), 'split'))[0]!.counter, parentCounter);
});

test.serial('a graceful stop lets the batch being committed finish, then releases the leases', async (t) => {
  await emulator.createStream('stop', 1);
  const put = await emulator.put(
    'stop',
    Array.from({ length: 5 }, (_, i) => ({ data: meterReading('stop-m1', minutesAgo(10 - i)), partitionKey: 'a' })),
  );
  let inCommit: () => void = () => undefined;
  const committing = new Promise<void>((resolve) => {
    inCommit = resolve;
  });
  const { consumer } = testConsumer(db(), emulator.client, 'stop-a', [{ name: 'stop', kind: 'meter' }], {
    hooks: {
      beforeCommit: async () => {
        inCommit();
        await new Promise((done) => setTimeout(done, 500)); // a slow commit
      },
    },
  });
  t.teardown(() => consumer.stop());
  consumer.start();
  await committing;
  await consumer.stop();
  t.is(consumer.state, 'stopped');
  t.is(await count(db(), 'meter_telemetry_history', 'stop-'), 5);
  t.true(await caughtUp(db(), 'stop', put));
  t.deepEqual(
    (await leasesOf(db(), 'stop')).map((lease) => lease.owner),
    [null],
  );
});

test.serial('an expired iterator is renewed from the checkpoint; throttling backs off; nothing is lost', async (t) => {
  await emulator.createStream('faults', 1);
  const put = await emulator.put(
    'faults',
    Array.from({ length: 6 }, (_, i) => ({ data: meterReading('faults-m1', minutesAgo(20 - i)), partitionKey: 'a' })),
  );
  // The emulator's client, with a failure injected into the 2nd and 3rd GetRecords.
  let reads = 0;
  const client = emulator.client;
  const faulty = new Proxy(client, {
    get(target, property, receiver) {
      if (property !== 'send') return Reflect.get(target, property, receiver) as unknown;
      return (command: { constructor: { name: string } }, options?: unknown) => {
        if (command.constructor.name === 'GetRecordsCommand') {
          reads += 1;
          const name =
            reads === 2 ? 'ExpiredIteratorException' : reads === 3 ? 'ProvisionedThroughputExceededException' : '';
          if (name) return Promise.reject(Object.assign(new Error(name), { name }));
        }
        return (target.send as (c: unknown, o?: unknown) => Promise<unknown>)(command, options);
      };
    },
  });
  const { consumer, metrics } = testConsumer(db(), faulty, 'faults-a', [{ name: 'faults', kind: 'meter' }], {
    maxRecords: 2,
  });
  t.teardown(() => consumer.stop());
  consumer.start();
  await waitFor('every record', () => caughtUp(db(), 'faults', put));
  await consumer.stop();
  t.is(await count(db(), 'meter_telemetry_history', 'faults-'), 6);
  const text = await metrics.registry.metrics();
  t.is(metricValue(text, 'ev_stream_errors_total{stream_name="faults",kind="expired_iterator"}'), 1);
  t.is(metricValue(text, 'ev_stream_errors_total{stream_name="faults",kind="throttled"}'), 1);
});
