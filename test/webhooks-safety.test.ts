import test from 'ava';

import { enqueueWebhookEvent } from '../src/webhooks/webhook-outbox.repository.js';
import { startTestService, type TestService } from './helpers/test-service.js';
import { WebhookReceiver } from './helpers/webhook-receiver.js';

/**
 * Webhook targets with the default setting (WEBHOOK_ALLOW_INSECURE_TARGETS=false): plain http,
 * loopback and private addresses are refused at registration, and at delivery too (a webhook
 * registered while they were allowed gets nothing once they are not).
 */
let svc: TestService;
const r = new WebhookReceiver();

test.before(async () => {
  svc = await startTestService();
  await r.start();
});
test.after.always(async () => {
  await r.stop();
  await svc?.stop();
});

test.serial('http, loopback, private and link-local URLs are refused at registration', async (t) => {
  for (const [url, why] of [
    [`http://hooks.example.com/x`, /must be https/],
    [`https://127.0.0.1:${r.port}/x`, /loopback and private/],
    ['https://localhost/x', /loopback and private/],
    ['https://[::1]/x', /loopback and private/],
    ['https://10.1.2.3/x', /loopback and private/],
    ['https://192.168.0.10/x', /loopback and private/],
    ['https://169.254.169.254/x', /never allowed/],
    ['https://[fe80::1]/x', /never allowed/],
    ['https://0.0.0.0/x', /never allowed/],
  ] as const) {
    const res = await svc.post('/v1/webhooks', { url, events: ['alert.firing'] });
    t.is(res.status, 400, url);
    t.is(res.body.error.code, 'webhook_target_refused', url);
    t.regex(res.body.error.details[0].message, why, url);
  }
  t.deepEqual((await svc.get('/v1/webhooks')).body.webhooks, [], 'nothing was stored');
  t.is((await svc.post('/v1/webhooks', { url: 'https://hooks.example.com/x', events: ['alert.firing'] })).status, 201);
});

test.serial(
  'a loopback webhook already stored is refused at delivery: failed, the receiver never reached',
  async (t) => {
    const secret = 'whsec_' + Buffer.alloc(24, 1).toString('base64');
    r.secret = secret;
    const id = '0b7c8f52-6a5e-4c1e-9a0b-2f6f1d3c4e5a';
    await svc.dbHandle.db
      .insertInto('webhooks')
      .values({ id, url: `http://127.0.0.1:${r.port}/stored`, secret, events: ['alert.resolved'] })
      .execute();
    await enqueueWebhookEvent(svc.dbHandle.db, { type: 'alert.resolved', orderingKey: 'a-1', payload: { x: 1 } });
    await svc.webhooks.run();
    const [delivery] = (await svc.get(`/v1/webhooks/${id}/deliveries`)).body.deliveries;
    t.like(delivery, { status: 'failed', attempts: 1, lastStatusCode: null });
    t.regex(delivery.lastError, /must be https/);
    t.is(r.received.length + r.invalid.length, 0);
  },
);
