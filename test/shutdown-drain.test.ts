import test from 'ava';

import { startTestService } from './helpers/test-service.js';

/**
 * Behind a load balancer, a stopping instance must leave the rotation before it refuses
 * connections: /readyz answers 503 for SHUTDOWN_DRAIN_MS while the listener still serves
 * every other request, and only then does the listener close.
 */
test('on stop, /readyz answers 503 during the drain delay while requests are still served, then the listener closes', async (t) => {
  const svc = await startTestService({ SHUTDOWN_DRAIN_MS: '800' });
  t.is((await svc.get('/readyz', {})).status, 200);
  const started = Date.now();
  const stopped = svc.stop();
  const ready = await svc.get('/readyz', {});
  t.is(ready.status, 503);
  t.is(ready.body.error.code, 'not_ready');
  t.regex(ready.body.error.message, /shutting down/);
  const health = await svc.get('/healthz', {});
  t.is(health.status, 200, 'the listener still serves');
  t.is(health.headers.get('connection'), 'close', 'and tells keep-alive clients to reconnect elsewhere');
  t.is((await svc.get('/v1/vehicles/nobody/live')).status, 404, 'and so do API requests');
  await stopped;
  t.true(Date.now() - started >= 800, 'the listener closed after the drain delay');
  await t.throwsAsync(fetch(`${svc.url}/healthz`));
});
