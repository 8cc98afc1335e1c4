import type Router from '@koa/router';
import type { AppState } from '../http/app-state.js';
import type { AppContext } from '../http/validate.js';
import type { Metrics } from './metrics.js';

/** GET /metrics in the Prometheus text format, open like /healthz (scrape it on a private network). */
export function registerMetricsRoutes(router: Router<AppState, AppContext>, metrics: Metrics): void {
  router.get('/metrics', async (ctx) => {
    ctx.type = metrics.registry.contentType;
    ctx.body = await metrics.registry.metrics();
  });
}
