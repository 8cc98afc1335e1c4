import { Writable } from 'node:stream';

import test from 'ava';
import Koa from 'koa';

import { loadConfig } from '../src/config/config.js';
import type { AppState } from '../src/http/app-state.js';
import { errorHandler } from '../src/http/error-handler.js';
import { requestId } from '../src/http/request-id.js';
import { requestLog } from '../src/http/request-log.js';
import { createLogger, shouldPrettyPrint, type LogLevel } from '../src/logger.js';
import { startService } from '../src/runtime/api-process.js';
import { fileDatabaseUrl, serverUnderTest } from './helpers/test-database.js';

const ADMIN_KEY = 'logging-admin-key-0123456789abcdef0123456789';

/** A logger writing into memory; `lines()` parses what it wrote, one JSON object a line. */
function capture(level: LogLevel = 'trace', pretty = false) {
  let text = '';
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString();
      done();
    },
  });
  const logger = createLogger(level, {}, { destination, pretty });
  return {
    logger,
    text: () => text,
    lines: () =>
      text
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

async function listen(app: Koa<AppState>): Promise<{ url: string; close: () => Promise<void> }> {
  const server = app.listen(0, '127.0.0.1');
  await new Promise((done) => server.once('listening', done));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((done) => server.close(() => done())) };
}

test('one JSON object a line: level label, ISO time, msg, fields; errors through the err serializer', (t) => {
  const log = capture();
  log.logger.info('hello', { answer: 42, nested: { a: 1 } });
  log.logger.error('failed', { err: new TypeError('bad thing'), error: new Error('other') });
  log.logger.child({ component: 'x' }).warn('from a child');
  log.logger.debug('no fields');

  t.true(log.text().endsWith('\n'));
  const [info, error, child, debug] = log.lines();
  t.like(info, { level: 'info', msg: 'hello', answer: 42, nested: { a: 1 } });
  t.regex(String(info!['time']), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  t.deepEqual(Object.keys(info!), ['level', 'time', 'answer', 'nested', 'msg']);
  t.like(error, {
    level: 'error',
    msg: 'failed',
    err: { type: 'TypeError', message: 'bad thing' },
    error: { type: 'Error', message: 'other' },
  });
  t.regex(String((error!['err'] as { stack: string }).stack), /TypeError: bad thing/);
  t.like(child, { level: 'warn', msg: 'from a child', component: 'x' });
  t.like(debug, { level: 'debug', msg: 'no fields' });
});

test('the level comes from LOG_LEVEL: warn drops info and debug', (t) => {
  const config = loadConfig({ LOG_LEVEL: 'warn' });
  t.is(config.logLevel, 'warn');
  const log = capture(config.logLevel);
  log.logger.debug('dropped');
  log.logger.info('dropped');
  log.logger.warn('kept');
  log.logger.error('kept too');
  log.logger.fatal('and this');
  t.deepEqual(
    log.lines().map((line) => line['level']),
    ['warn', 'error', 'fatal'],
  );

  const silent = capture('silent');
  silent.logger.fatal('nothing');
  t.is(silent.text(), '');
});

test('LOG_LEVEL and LOG_PRETTY are validated; LOG_PRETTY decides pretty output', (t) => {
  t.is(loadConfig({ LOG_LEVEL: 'trace' }).logLevel, 'trace');
  t.is(loadConfig({ LOG_LEVEL: 'fatal' }).logLevel, 'fatal');
  t.is(loadConfig({}).logLevel, 'info');
  t.throws(() => loadConfig({ LOG_LEVEL: 'verbose' }), { message: /LOG_LEVEL/ });
  t.throws(() => loadConfig({ LOG_PRETTY: 'yes' }), { message: /LOG_PRETTY/ });
  t.is(loadConfig({ LOG_PRETTY: 'true' }).logPretty, true);
  t.is(loadConfig({ LOG_PRETTY: 'false' }).logPretty, false);
  t.is(loadConfig({ LOG_PRETTY: '' }).logPretty, undefined);

  t.true(shouldPrettyPrint({ env: 'production', logPretty: true }));
  t.false(shouldPrettyPrint({ env: 'development', logPretty: false }));
  t.false(shouldPrettyPrint({ env: 'production', logPretty: undefined }));
  t.is(shouldPrettyPrint({ env: 'development', logPretty: undefined }), process.stdout.isTTY === true);
});

test('pretty output is human-readable and written synchronously', (t) => {
  const log = capture('info', true);
  log.logger.info('listening', { url: 'http://127.0.0.1:3000' });
  // No waiting: the line is there as soon as the call returns.
  t.regex(log.text(), /INFO.*listening/);
  t.regex(log.text(), /url: "http:\/\/127\.0\.0\.1:3000"/);
  t.false(log.text().startsWith('{'));
});

test('secrets are redacted even if logged by mistake; the key id is kept', (t) => {
  const log = capture();
  const secret = 'evt_super-secret-value';
  log.logger.info('oops', {
    authorization: `Bearer ${secret}`,
    apiKey: secret,
    req: { headers: { authorization: `Bearer ${secret}`, 'x-api-key': secret } },
    headers: { authorization: `Bearer ${secret}`, 'x-api-key': secret },
    body: { key: secret },
    key: 'key-id-123',
  });
  log.logger.child({ apiKey: secret }).info('child');
  t.false(log.text().includes(secret));
  const [line] = log.lines();
  t.is(line!['key'], 'key-id-123');
  t.is(line!['apiKey'], '[redacted]');
});

test('request middleware: the request id on every line of a request, one request line each', async (t) => {
  const log = capture();
  const secret = 'evt_never-in-the-logs';
  const app = new Koa<AppState>();
  app.use(requestId());
  app.use(requestLog(log.logger));
  app.use(errorHandler(log.logger));
  app.use(async (ctx, next) => {
    ctx.state.principal = {
      keyId: 'key-7',
      name: 'k',
      scopes: new Set(),
      deviceId: null,
      deviceKind: null,
      isEnvAdmin: false,
    };
    await next();
  });
  app.use((ctx) => {
    ctx.state.logger.info('working', { step: 1 });
    ctx.state.logger.child({ part: 'inner' }).debug('deeper');
    if (ctx.path === '/boom') throw new Error('kaboom');
    ctx.body = { ok: true };
  });
  const server = await listen(app);
  t.teardown(server.close);

  const headers = { authorization: `Bearer ${secret}`, 'x-api-key': secret, 'content-type': 'application/json' };
  const ok = await fetch(`${server.url}/work`, { method: 'POST', headers, body: JSON.stringify({ key: secret }) });
  const boom = await fetch(`${server.url}/boom`, { headers: { ...headers, 'x-request-id': 'client-id-1' } });
  t.is(ok.status, 200);
  t.is(boom.status, 500);
  t.is(boom.headers.get('x-request-id'), 'client-id-1');

  const lines = log.lines();
  t.false(log.text().includes(secret), 'keys never reach the logs');
  for (const id of [ok.headers.get('x-request-id')!, 'client-id-1']) {
    const mine = lines.filter((line) => line['requestId'] === id);
    t.true(mine.length >= 3, `lines of ${id}`);
    t.is(mine.filter((line) => line['msg'] === 'request').length, 1, 'one request line per request');
  }
  t.is(lines.filter((line) => line['requestId'] === undefined).length, 0, 'every line has the request id');

  const request = lines.find((line) => line['msg'] === 'request' && line['path'] === '/work');
  t.like(request, { level: 'info', method: 'POST', status: 200, key: 'key-7' });
  t.is(typeof request!['durationMs'], 'number');
  t.is(request!['headers'], undefined);
  t.is(request!['body'], undefined);
  t.like(
    lines.find((line) => line['msg'] === 'unhandled error'),
    { level: 'error', requestId: 'client-id-1', path: '/boom', err: { type: 'Error', message: 'kaboom' } },
  );
  t.like(
    lines.find((line) => line['msg'] === 'request' && line['path'] === '/boom'),
    { level: 'warn', status: 500 },
  );
  t.like(
    lines.find((line) => line['msg'] === 'deeper'),
    { part: 'inner', requestId: ok.headers.get('x-request-id')! },
  );
});

test('the real service: request lines with the request id and key id, never a key', async (t) => {
  const log = capture('info');
  const config = loadConfig({
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'info',
    ADMIN_API_KEY: ADMIN_KEY,
    ...(serverUnderTest ? { DATABASE_URL: await fileDatabaseUrl() } : {}),
  });
  const service = await startService(config, log.logger, { inMemory: true, runJobs: false });
  t.teardown(() => service.stop());
  const admin = { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' };

  const created = await fetch(`${service.url}/v1/keys`, {
    method: 'POST',
    headers: admin,
    body: JSON.stringify({ name: 'logging test', scopes: ['ingest'] }),
  });
  t.is(created.status, 201);
  const newKey = (await created.json()) as { key: string; id: string };
  const ingest = await fetch(`${service.url}/v1/ingestion/meter`, {
    method: 'POST',
    headers: { 'x-api-key': newKey.key, 'content-type': 'application/json' },
    body: JSON.stringify({ meterId: 'log-1', kwhConsumedAc: 0.1, voltage: 230, timestamp: new Date().toISOString() }),
  });
  t.is(ingest.status, 202);
  const refused = await fetch(`${service.url}/v1/meters/log-1/live`, {
    headers: { authorization: 'Bearer evt_not-a-real-key' },
  });
  t.is(refused.status, 401);

  const lines = log.lines();
  const text = log.text();
  for (const secret of [ADMIN_KEY, newKey.key, 'evt_not-a-real-key'])
    t.false(text.includes(secret), 'keys never reach the logs');
  const requests = lines.filter((line) => line['msg'] === 'request');
  const ids = [created, ingest, refused].map((res) => res.headers.get('x-request-id'));
  t.deepEqual(
    requests.map((line) => line['requestId']),
    ids,
    'one request line per request, with its id',
  );
  t.like(requests[1], { method: 'POST', path: '/v1/ingestion/meter', status: 202, key: newKey.id });
  t.like(requests[2], { status: 401, key: undefined });
});
