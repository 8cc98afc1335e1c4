import test from 'ava';

import { createLogger } from '../src/logger.js';
import { DAY_MS } from '../src/time.js';
import { OutboxRetentionJob } from '../src/webhooks/outbox-retention.job.js';
import { startTestService, type TestService } from './helpers/test-service.js';

/**
 * The outbox stays bounded (docs/webhooks.md, WEBHOOK_RETENTION_DAYS): done deliveries and events
 * without deliveries older than the retention go; open deliveries and their events stay, however
 * old; anything younger stays.
 */
let svc: TestService;
test.before(async () => {
  svc = await startTestService();
});
test.after.always(async () => {
  await svc?.stop();
});

test('done deliveries and orphaned events past the retention are pruned; open ones and recent ones stay', async (t) => {
  const db = svc.dbHandle.db;
  const now = new Date();
  const daysAgo = (days: number) => new Date(now.getTime() - days * DAY_MS);
  const webhookId = '0b5e8c0e-8a43-4c4c-9d5e-000000000001';
  await db
    .insertInto('webhooks')
    .values({ id: webhookId, url: 'https://receiver.example/hook', secret: 'whsec_', events: ['alert.firing'] })
    .execute();
  // 'webhook.test' events: the fan-out trigger leaves them alone, so each delivery is the test's.
  const cases = [
    { event: 'msg_old_succeeded', age: 40, status: 'succeeded', kept: false },
    { event: 'msg_old_failed', age: 40, status: 'failed', kept: false },
    { event: 'msg_old_pending', age: 40, status: 'pending', kept: true },
    { event: 'msg_old_delivering', age: 40, status: 'delivering', kept: true },
    { event: 'msg_recent_succeeded', age: 29, status: 'succeeded', kept: true },
  ] as const;
  for (const c of cases) {
    await db
      .insertInto('webhook_events')
      .values({
        id: c.event,
        type: 'webhook.test',
        ordering_key: c.event,
        payload: '{}',
        created_at: daysAgo(c.age),
      })
      .execute();
    await db
      .insertInto('webhook_deliveries')
      .values({
        webhook_id: webhookId,
        event_id: c.event,
        ordering_key: c.event,
        status: c.status,
        created_at: daysAgo(c.age),
      })
      .execute();
  }
  // An old event whose deliveries are gone (none was ever made: no subscriber), and a recent one.
  for (const [id, age] of [
    ['msg_old_orphan', 40],
    ['msg_recent_orphan', 1],
  ] as const) {
    await db
      .insertInto('webhook_events')
      .values({ id, type: 'webhook.test', ordering_key: id, payload: '{}', created_at: daysAgo(age) })
      .execute();
  }

  const job = new OutboxRetentionJob(db, { retentionMs: 30 * DAY_MS }, createLogger('silent'));
  t.deepEqual(await job.run(now), { deliveries: 2, events: 3 });

  const events = (await db.selectFrom('webhook_events').select('id').orderBy('id').execute()).map((e) => e.id);
  t.deepEqual(events, ['msg_old_delivering', 'msg_old_pending', 'msg_recent_orphan', 'msg_recent_succeeded']);
  const deliveries = await db
    .selectFrom('webhook_deliveries')
    .select(['event_id', 'status'])
    .orderBy('event_id')
    .execute();
  t.deepEqual(
    deliveries.map((d) => d.event_id),
    cases
      .filter((c) => c.kept)
      .map((c) => c.event)
      .sort(),
  );
  t.deepEqual(await job.run(now), { deliveries: 0, events: 0 }, 'a second run finds nothing more');
});
