import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import test from 'ava';

import { backoffMs, parseRetryAfter, verdict } from '../../src/webhooks/retry-policy.js';
import { sendWebhook, type Resolver } from '../../src/webhooks/webhook-sender.js';

/**
 * The webhook sender against a loopback server, with DNS stood in for: the addresses a name
 * resolves to are checked and the connection goes to the checked one (no rebinding), a slow
 * receiver costs the timeout and no more; and the retry policy's arithmetic.
 */
let server: Server;
let port: number;
const hits: string[] = [];
let delayMs = 0;

test.before(async () => {
  server = createServer((req, res) => {
    hits.push(req.url ?? '');
    req.resume();
    setTimeout(() => res.writeHead(200).end('x'.repeat(200_000)), delayMs);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
test.after.always(() => {
  server.closeAllConnections();
  server.close();
});

const resolvingTo =
  (...addresses: string[]): Resolver =>
  () =>
    Promise.resolve(addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })));
const send = (url: string, allowInsecureTargets: boolean, resolve?: Resolver, timeoutMs = 2_000) =>
  sendWebhook(new URL(url), '{}', {}, { timeoutMs, allowInsecureTargets, ...(resolve ? { resolve } : {}) });

test.serial(
  'a name that resolves to a link-local address is refused, even with insecure targets allowed',
  async (t) => {
    const result = await send(`http://metadata.test:${port}/a`, true, resolvingTo('169.254.169.254'));
    t.is(result.kind, 'refused');
    t.regex((result as { message: string }).message, /metadata\.test targets 169\.254\.169\.254/);
    const mixed = await send(`http://mixed.test:${port}/b`, true, resolvingTo('93.184.216.34', 'fe80::1'));
    t.is(mixed.kind, 'refused', 'one bad address refuses the name');
    t.false(hits.some((h) => h === '/a' || h === '/b'));
  },
);

test.serial('the connection goes to the checked address: a loopback answer only when allowed', async (t) => {
  const allowed = await send(`http://rebind.test:${port}/c`, true, resolvingTo('127.0.0.1'));
  t.deepEqual(allowed, { kind: 'response', status: 200, retryAfter: undefined });
  t.true(hits.includes('/c'));
  const refused = await send(`http://rebind.test:${port}/d`, false, resolvingTo('127.0.0.1'));
  t.is(refused.kind, 'refused', 'plain http refused first');
  t.false(hits.includes('/d'));
  const literal = await send(`http://127.0.0.1:${port}/e`, false);
  t.is(literal.kind, 'refused');
  t.false(hits.includes('/e'));
});

test.serial('a slow receiver costs the timeout, no more; a large response body is not read to its end', async (t) => {
  delayMs = 2_000;
  const started = Date.now();
  t.deepEqual(await send(`http://127.0.0.1:${port}/slow`, true, undefined, 200), { kind: 'timeout', timeoutMs: 200 });
  t.true(Date.now() - started < 1_000);
  delayMs = 0;
  t.like(await send(`http://127.0.0.1:${port}/big`, true), { kind: 'response', status: 200 });
});

test('connection errors are results, not exceptions', async (t) => {
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const closedPort = (closed.address() as AddressInfo).port;
  await new Promise((resolve) => closed.close(resolve));
  const result = await send(`http://127.0.0.1:${closedPort}/`, true);
  t.is(result.kind, 'error');
  t.regex((result as { message: string }).message, /ECONNREFUSED/);
});

test('Retry-After: seconds or an HTTP date; backoff doubles with jitter, capped', (t) => {
  const now = Date.parse('2026-12-04T12:00:00Z');
  t.is(parseRetryAfter('120', now), 120_000);
  t.is(parseRetryAfter(' 0 ', now), 0);
  t.is(parseRetryAfter('Fri, 04 Dec 2026 12:00:30 GMT', now), 30_000);
  t.is(parseRetryAfter('Fri, 04 Dec 2026 11:00:00 GMT', now), 0, 'a date in the past: now');
  t.is(parseRetryAfter('soon', now), undefined);
  t.is(parseRetryAfter(undefined, now), undefined);
  const config = { retryBaseMs: 1_000, retryMaxMs: 60_000 };
  t.is(
    backoffMs(1, config, () => 1),
    1_000,
  );
  t.is(
    backoffMs(1, config, () => 0),
    500,
  );
  t.is(
    backoffMs(4, config, () => 1),
    8_000,
  );
  t.is(
    backoffMs(30, config, () => 1),
    60_000,
  );
});

test('verdicts: 2xx succeeds; 5xx, 408, 429, timeouts and connection errors retry; other answers fail', (t) => {
  const config = { retryBaseMs: 1_000, retryMaxMs: 60_000, maxAgeMs: 86_400_000 };
  const now = Date.now();
  const from = new Date(now);
  const response = (status: number, retryAfter?: string) => ({ kind: 'response' as const, status, retryAfter });
  t.deepEqual(verdict(response(204), 1, from, config, now), { outcome: 'succeeded' });
  for (const status of [500, 503, 408, 429]) t.is(verdict(response(status), 1, from, config, now).outcome, 'retry');
  t.is(verdict({ kind: 'timeout', timeoutMs: 1 }, 1, from, config, now).outcome, 'retry');
  t.is(verdict({ kind: 'error', message: 'ECONNRESET' }, 1, from, config, now).outcome, 'retry');
  for (const status of [301, 302, 400, 401, 404, 410])
    t.is(verdict(response(status), 1, from, config, now).outcome, 'failed');
  t.is(verdict({ kind: 'refused', message: 'no' }, 1, from, config, now).outcome, 'failed');
  t.deepEqual(verdict(response(429, '7'), 1, from, config, now), { outcome: 'retry', delayMs: 7_000 });
  // Past the maximum age: failed, however retryable.
  const old = new Date(now - config.maxAgeMs + 500);
  t.is(verdict(response(503), 3, old, config, now).outcome, 'failed');
  t.is(verdict(response(429, '3600'), 1, from, config, now).outcome, 'retry');
  t.is(verdict(response(429, '90000'), 1, from, config, now).outcome, 'failed', 'Retry-After beyond the retry period');
});
