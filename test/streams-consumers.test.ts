import test from 'ava';
import { sql } from 'kysely';

import { advanceCheckpoint, registerShards, takeLease } from '../src/streams/shard-lease.repository.js';
import type { KinesisEmulator } from '../tools/harness/kinesis-emulator.js';
import {
  caughtUp,
  count,
  leasesOf,
  metricValue,
  testConsumer,
  waitFor,
  startEmulatorAndService,
} from './helpers/streams.js';
import { meterReading, minutesAgo, type TestService } from './helpers/test-service.js';

/**
 * Consumers inside the test process against the emulator and the service's database: leases,
 * fencing, shard splits, stops and retries. (test/streams.test.ts: the service's own consumer.)
 */
let emulator: KinesisEmulator;
let svc: TestService;

test.before(async () => {
  ({ emulator, svc } = await startEmulatorAndService([], {}));
});

test.after.always(async () => {
  await svc?.stop();
  await emulator?.stop();
});

const db = () => svc.dbHandle.db;

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
