import type { ApiRouter } from '../http/api-router.js';
import type { Metrics } from './metrics.js';

/** GET /metrics in the Prometheus text format, open like /healthz (scrape it on a private network). */
export function registerMetricsRoutes<Scope extends string>(api: ApiRouter<Scope>, metrics: Metrics): void {
  api.add({
    method: 'get',
    path: '/metrics',
    operationId: 'getMetrics',
    tag: 'Operations',
    summary: 'Prometheus metrics (no key; docs/api.md lists each metric)',
    status: 200,
    response: { description: 'Prometheus text exposition format', contentType: 'text/plain; version=0.0.4' },
    handler: async (_input, ctx) => {
      ctx.type = metrics.registry.contentType;
      ctx.body = await metrics.registry.metrics();
    },
  });
}
