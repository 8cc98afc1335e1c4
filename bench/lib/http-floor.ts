/**
 * The HTTP floor: the cheapest ingest endpoint Node, Koa and zod allow (the service's own
 * reading schemas, a JSON body parser, a 202), with no authentication, queue or database. Run
 * as a process by the bench (http-floor-process.ts); what the service does per
 * request is measured against it in the same run.
 */
import { createServer } from 'node:http';

import Router from '@koa/router';
import Koa from 'koa';
import bodyParser from 'koa-bodyparser';

import { meterBatchSchema, vehicleBatchSchema } from '../../src/telemetry/ingestion.schema.js';
import { DAY_MS, MINUTE_MS } from '../../src/time.js';

const limits = { maxAgeMs: () => 30 * DAY_MS, maxFutureMs: 5 * MINUTE_MS };
const schemas = { meter: meterBatchSchema(limits, 5000), vehicle: vehicleBatchSchema(limits, 5000) };

const app = new Koa();
const router = new Router();
router.get('/healthz', (ctx) => {
  ctx.body = { status: 'ok' };
});
for (const stream of ['meter', 'vehicle'] as const) {
  router.post(`/v1/ingestion/${stream}`, (ctx) => {
    const parsed = schemas[stream].safeParse((ctx.request as { body?: unknown }).body);
    if (!parsed.success) {
      ctx.status = 400;
      ctx.body = { error: { code: 'validation_failed', message: parsed.error.message } };
      return;
    }
    ctx.status = 202;
    ctx.body = { accepted: parsed.data.length, duplicates: 0 };
  });
}
app.use(bodyParser({ jsonLimit: '4mb' }));
app.use(router.routes());
const handler = app.callback();
createServer((req, res) => void handler(req, res)).listen(Number(process.env.PORT), '127.0.0.1');
process.once('SIGTERM', () => process.exit(0));
