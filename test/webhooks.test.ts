import test from 'ava';
import { sql } from 'kysely';

import { loadConfig } from '../src/config/config.js';
import { createLogger } from '../src/logger.js';
import { claimDueDeliveries, recordOutcome } from '../src/webhooks/delivery.repository.js';
import { WebhookDeliveryJob } from '../src/webhooks/webhook-delivery.job.js';
import { enqueueWebhookEvent, type WebhookEventInput } from '../src/webhooks/webhook-outbox.repository.js';
import { startTestService, type TestService } from './helpers/test-service.js';
import { WebhookReceiver } from './helpers/webhook-receiver.js';

/**
 * Webhook delivery end to end (docs/webhooks.md): events written to the outbox as the alerts do,
 * delivered by the service's worker to a real receiver that verifies every signature with the
 * `standardwebhooks` library. The worker runs when a test runs it (no scheduler in tests), with
 * millisecond backoff and a short timeout. Serial: one worker delivers every test's webhooks.
 */
let svc: TestService;
const receivers: WebhookReceiver[] = [];

const ENV = {
  WEBHOOK_ALLOW_INSECURE_TARGETS: 'true',
  WEBHOOK_RETRY_BASE_MS: '20',
  WEBHOOK_RETRY_MAX_MS: '80',
  WEBHOOK_TIMEOUT_MS: '400',
};

test.before(async () => {
  svc = await startTestService(ENV);
});
// Each test's webhooks go with it: the worker must not deliver one test's events to another's.
test.afterEach.always(async () => {
  for (const { id } of (await svc.get('/v1/webhooks')).body.webhooks as { id: string }[]) {
    await svc.delete(`/v1/webhooks/${id}`);
  }
});
test.after.always(async () => {
  await Promise.all(receivers.map((r) => r.stop()));
  await svc?.stop();
});

async function receiver(): Promise<WebhookReceiver> {
  const r = new WebhookReceiver();
  await r.start();
  receivers.push(r);
  return r;
}

/** A webhook on the receiver (its own path), with the receiver verifying its secret. */
async function subscribe(r: WebhookReceiver, path: string, events = ['alert.firing', 'alert.resolved']) {
  const res = await svc.post('/v1/webhooks', { url: r.url + path, events });
  if (res.status !== 201) throw new Error(`webhook not created: ${JSON.stringify(res.body)}`);
  r.secret = res.body.secret as string;
  return res.body as { id: string; secret: string };
}

const event = (orderingKey: string, n = 1, type: WebhookEventInput['type'] = 'alert.firing'): WebhookEventInput => ({
  type,
  orderingKey,
  payload: { alertId: orderingKey, n },
});
const enqueue = (input: WebhookEventInput) => enqueueWebhookEvent(svc.dbHandle.db, input);

/** Runs the worker until `done` holds (or fails after `timeoutMs`). */
async function deliverUntil(done: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error('not delivered in time');
    await svc.webhooks.run();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const deliveriesOf = async (webhookId: string) =>
  (await svc.get(`/v1/webhooks/${webhookId}/deliveries`)).body.deliveries;

test.serial('a subscribed event is delivered once, signed; unsubscribed types get no delivery', async (t) => {
  const r = await receiver();
  const hook = await subscribe(r, '/signed', ['alert.firing']);
  t.regex(hook.secret, /^whsec_[A-Za-z0-9+/]{32}$/);
  const firing = await enqueue(event('alert-a'));
  await enqueue(event('alert-a', 2, 'alert.resolved'));
  await deliverUntil(() => r.at('/signed').length === 1);
  t.deepEqual(r.invalid, []);
  const [message] = r.at('/signed');
  t.is(message!.id, firing);
  t.is(message!.type, 'alert.firing');
  t.deepEqual(message!.data, { alertId: 'alert-a', n: 1 });
  const log = await deliveriesOf(hook.id);
  t.is(log.length, 1, 'alert.resolved is not subscribed: no delivery');
  t.like(log[0], { eventId: firing, status: 'succeeded', attempts: 1, lastStatusCode: 204, nextAttemptAt: null });
  const metrics = (await svc.get('/metrics', {})).body as string;
  t.regex(metrics, /ev_webhook_deliveries_total\{type="alert.firing",outcome="succeeded"\} [1-9]/);
  t.regex(metrics, /ev_webhook_outbox_pending 0/);
  t.regex(metrics, /ev_webhook_events\{type="alert.resolved"\} 1/);
});

test.serial('the webhook routes: secret shown once, validation, list, get, test event, delete', async (t) => {
  const r = await receiver();
  const given = 'whsec_' + Buffer.alloc(32, 7).toString('base64');
  const created = await svc.post('/v1/webhooks', { url: r.url + '/routes', secret: given, events: ['alert.resolved'] });
  t.is(created.status, 201);
  t.is(created.body.secret, given);
  r.secret = given;
  const listed = await svc.get('/v1/webhooks');
  const mine = listed.body.webhooks.find((w: { id: string }) => w.id === created.body.id);
  t.deepEqual(Object.keys(mine).sort(), ['createdAt', 'events', 'id', 'url']);
  t.is((await svc.get(`/v1/webhooks/${created.body.id}`)).body.secret, undefined);

  for (const [body, path] of [
    [{ url: r.url, secret: 'nope', events: ['alert.firing'] }, 'secret'],
    [{ url: r.url, secret: 'whsec_' + Buffer.alloc(8).toString('base64'), events: ['alert.firing'] }, 'secret'],
    [{ url: r.url, events: ['alert.exploded'] }, 'events.0'],
    [{ url: r.url, events: [] }, 'events'],
    [{ url: 'not a url', events: ['alert.firing'] }, 'url'],
  ] as const) {
    const res = await svc.post('/v1/webhooks', body);
    t.is(res.status, 400, JSON.stringify(body));
    t.is(res.body.error.code, 'validation_failed');
    t.true(
      res.body.error.details.some((d: { path: string }) => d.path === path),
      JSON.stringify(res.body.error.details),
    );
  }
  const linkLocal = await svc.post('/v1/webhooks', { url: 'http://169.254.169.254/latest', events: ['alert.firing'] });
  t.is(linkLocal.status, 400);
  t.is(linkLocal.body.error.code, 'webhook_target_refused');
  t.is(linkLocal.body.error.details[0].path, 'url');
  t.is((await svc.post('/v1/webhooks', { url: 'http://[fe80::1]/', events: ['alert.firing'] })).status, 400);

  const tested = await svc.post(`/v1/webhooks/${created.body.id}/test`, {});
  t.is(tested.status, 202);
  await deliverUntil(() => r.at('/routes').length === 1);
  t.is(r.at('/routes')[0]!.type, 'webhook.test');
  t.is(r.at('/routes')[0]!.id, tested.body.eventId);

  // Redeliver: the same event id again, now.
  const again = await svc.post(`/v1/webhooks/${created.body.id}/deliveries/${tested.body.deliveryId}/redeliver`, {});
  t.is(again.status, 202);
  t.is(again.body.status, 'pending');
  await deliverUntil(() => r.at('/routes').length === 2);
  t.is(r.at('/routes')[1]!.id, tested.body.eventId);
  const missing = await svc.post(`/v1/webhooks/${created.body.id}/deliveries/999999/redeliver`, {});
  t.is(missing.body.error.code, 'webhook_delivery_not_found');
  // Being sent right now (claimed, lease unexpired): not reset under the sender's feet.
  await svc.post(`/v1/webhooks/${created.body.id}/deliveries/${tested.body.deliveryId}/redeliver`, {});
  const [claimed] = await claimDueDeliveries(svc.dbHandle.db, 10, 60_000);
  t.is(claimed!.id, tested.body.deliveryId);
  const busy = await svc.post(`/v1/webhooks/${created.body.id}/deliveries/${tested.body.deliveryId}/redeliver`, {});
  t.is(busy.status, 409);
  t.is(busy.body.error.code, 'webhook_delivery_in_flight');
  t.true(await recordOutcome(svc.dbHandle.db, claimed!, { status: 'succeeded', statusCode: 204 }));

  await svc.post(`/v1/webhooks/${created.body.id}/test`, {});
  const page = await svc.get(`/v1/webhooks/${created.body.id}/deliveries?limit=1`);
  t.is(page.body.deliveries.length, 1);
  t.is(page.body.deliveries[0].status, 'pending', 'newest first');
  const older = await svc.get(`/v1/webhooks/${created.body.id}/deliveries?limit=1&before=${page.body.nextCursor}`);
  t.is(older.body.deliveries[0].id, tested.body.deliveryId);

  t.is((await svc.delete(`/v1/webhooks/${created.body.id}`)).status, 204);
  t.is((await svc.get(`/v1/webhooks/${created.body.id}`)).body.error.code, 'webhook_not_found');
  t.is((await svc.delete(`/v1/webhooks/${created.body.id}`)).status, 404);
  const cancelled = await svc.dbHandle.db
    .selectFrom('webhook_deliveries')
    .select(['status', 'last_error'])
    .where('webhook_id', '=', created.body.id)
    .where('id', '>', tested.body.deliveryId)
    .execute();
  t.deepEqual(cancelled, [{ status: 'failed', last_error: 'the webhook was deleted' }]);
  await enqueue(event('alert-after-delete', 1, 'alert.resolved'));
  t.is(
    (
      await svc.dbHandle.db
        .selectFrom('webhook_deliveries')
        .select('id')
        .where('webhook_id', '=', created.body.id)
        .execute()
    ).length,
    2,
    'a deleted webhook gets no new deliveries',
  );
});

test.serial('a receiver that is down gets everything once it is up, in order per ordering key', async (t) => {
  const r = await receiver();
  const hook = await subscribe(r, '/down');
  await r.stop();
  const ids = [];
  for (let n = 1; n <= 3; n += 1) ids.push(await enqueue(event('alert-down-1', n)));
  const other = await enqueue(event('alert-down-2', 1));
  for (let i = 0; i < 5; i += 1) {
    await svc.webhooks.run();
    await new Promise((resolve) => setTimeout(resolve, 30));
  }
  const log = await deliveriesOf(hook.id);
  const byEvent = new Map(log.map((d: { eventId: string }) => [d.eventId, d]));
  t.like(byEvent.get(ids[0]), { status: 'pending' });
  t.true((byEvent.get(ids[0]) as { attempts: number }).attempts >= 2);
  t.regex((byEvent.get(ids[0]) as { lastError: string }).lastError, /ECONNREFUSED/);
  t.like(byEvent.get(ids[1]), { attempts: 0 }, 'held back behind the older event of its key');
  t.like(byEvent.get(ids[2]), { attempts: 0 });
  t.true((byEvent.get(other) as { attempts: number }).attempts >= 1, 'another key is not held back');

  await r.start();
  await deliverUntil(() => r.at('/down').length >= 4);
  t.deepEqual(r.invalid, []);
  t.deepEqual(
    r
      .at('/down')
      .filter((m) => m.data.alertId === 'alert-down-1')
      .map((m) => m.id),
    ids,
  );
});

test.serial('500, then success: retried with the same webhook-id', async (t) => {
  const r = await receiver();
  const hook = await subscribe(r, '/flaky');
  r.answer = (_, attempt) => ({ status: attempt === 1 ? 500 : 200 });
  const id = await enqueue(event('alert-flaky'));
  await deliverUntil(async () => (await deliveriesOf(hook.id))[0]?.status === 'succeeded');
  t.deepEqual(
    r.at('/flaky').map((m) => m.id),
    [id, id],
  );
  t.like((await deliveriesOf(hook.id))[0], { attempts: 2, lastStatusCode: 200, lastError: null });
});

test.serial('429 with Retry-After: the next attempt waits as asked', async (t) => {
  const r = await receiver();
  const hook = await subscribe(r, '/busy');
  r.answer = (_, attempt) => (attempt === 1 ? { status: 429, headers: { 'Retry-After': '1' } } : { status: 200 });
  await enqueue(event('alert-busy'));
  const started = Date.now();
  await deliverUntil(() => r.at('/busy').length === 1);
  await svc.webhooks.run();
  const [waiting] = await deliveriesOf(hook.id);
  t.like(waiting, { status: 'pending', lastStatusCode: 429 });
  t.true(new Date(waiting.nextAttemptAt).getTime() - started >= 900, waiting.nextAttemptAt);
  t.is(r.at('/busy').length, 1, 'not retried before Retry-After');
  await deliverUntil(() => r.at('/busy').length === 2);
  t.true(r.at('/busy')[1]!.at - r.at('/busy')[0]!.at >= 950);
});

test.serial('a slow receiver times out (the worker is not held) and is retried', async (t) => {
  const r = await receiver();
  const hook = await subscribe(r, '/slow');
  r.answer = (_, attempt) => ({ status: 200, delayMs: attempt === 1 ? 3_000 : 0 });
  await enqueue(event('alert-slow'));
  const started = Date.now();
  await svc.webhooks.run();
  t.true(Date.now() - started < 2_000, 'the run ended at the timeout, not when the receiver answered');
  await deliverUntil(async () => (await deliveriesOf(hook.id))[0]?.status === 'succeeded');
  t.is(r.at('/slow').length, 2);
  t.like((await deliveriesOf(hook.id))[0], { attempts: 2, lastStatusCode: 200 });
  const metrics = (await svc.get('/metrics', {})).body as string;
  t.regex(metrics, /ev_webhook_deliveries_total\{type="alert.firing",outcome="retried"\} [1-9]/);
});

test.serial('a redirect is not followed: the delivery fails with the 3xx', async (t) => {
  const r = await receiver();
  const hook = await subscribe(r, '/moved');
  r.answer = (m) =>
    m.path === '/moved' ? { status: 302, headers: { Location: r.url + '/elsewhere' } } : { status: 200 };
  await enqueue(event('alert-moved'));
  await deliverUntil(async () => (await deliveriesOf(hook.id))[0]?.status === 'failed');
  t.like((await deliveriesOf(hook.id))[0], { lastStatusCode: 302, attempts: 1 });
  t.regex((await deliveriesOf(hook.id))[0].lastError, /redirects are not followed/);
  t.is(r.at('/elsewhere').length, 0);
});

test.serial('two workers on one outbox never send the same delivery at once, nor twice', async (t) => {
  const r = await receiver();
  await subscribe(r, '/pair');
  r.answer = () => ({ status: 200, delayMs: 20 });
  const ids = new Set<string>();
  for (let n = 0; n < 30; n += 1) ids.add(await enqueue(event(`alert-pair-${n % 10}`, n)));
  // A second instance's worker on the same outbox (smaller batches, so both get work).
  const config = { ...loadConfig(ENV).webhooks, batchSize: 4 };
  const second = new WebhookDeliveryJob(svc.dbHandle.db, config, createLogger('silent'));
  const work = async (job: { run(): Promise<number> }) => {
    while (r.at('/pair').length < ids.size) {
      await job.run();
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  };
  await Promise.race([
    Promise.all([work(svc.webhooks), work(second)]),
    new Promise((_, reject) => setTimeout(() => reject(new Error('timed out')), 10_000)),
  ]);
  t.is(r.at('/pair').length, ids.size, 'each event once');
  t.deepEqual(
    r
      .at('/pair')
      .map((m) => m.id)
      .sort(),
    [...ids].sort(),
  );
  t.is(r.maxConcurrentPerId, 1);
  t.deepEqual(r.invalid, []);
});

test.serial(
  'a claim whose worker died is taken over once its lease expires; the dead claim records nothing',
  async (t) => {
    const r = await receiver();
    const hook = await subscribe(r, '/lease');
    const id = await enqueue(event('alert-lease'));
    // A worker claims it, then is SIGKILLed before it sends (or records).
    const [dead] = await claimDueDeliveries(svc.dbHandle.db, 10, 60_000);
    t.is(dead!.eventId, id);
    await svc.webhooks.run();
    t.is(r.at('/lease').length, 0, 'not sent while the lease holds');
    await sql`UPDATE webhook_deliveries SET lease_until = now() - interval '1 second' WHERE id = ${dead!.id}`.execute(
      svc.dbHandle.db,
    );
    await deliverUntil(() => r.at('/lease').length === 1).catch(async (error) => {
      t.log(await deliveriesOf(hook.id), r.invalid);
      throw error;
    });
    t.like((await deliveriesOf(hook.id))[0], { status: 'succeeded', attempts: 2 });
    t.false(await recordOutcome(svc.dbHandle.db, dead!, { status: 'failed', statusCode: null, error: 'late' }));
    t.like((await deliveriesOf(hook.id))[0], { status: 'succeeded' });
  },
);

test.serial('a delivery still failing after the maximum age is marked failed', async (t) => {
  const r = await receiver();
  const hook = await subscribe(r, '/gone');
  r.answer = () => ({ status: 503 });
  await enqueue(event('alert-gone'));
  await sql`UPDATE webhook_deliveries SET retry_from = now() - interval '25 hours' WHERE webhook_id = ${hook.id}`.execute(
    svc.dbHandle.db,
  );
  await deliverUntil(async () => (await deliveriesOf(hook.id))[0]?.status === 'failed');
  t.regex((await deliveriesOf(hook.id))[0].lastError, /HTTP 503; gave up after retrying/);
  t.is(r.at('/gone').length, 1);
});
