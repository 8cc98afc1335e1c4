import type { Middleware } from 'koa';

import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics/metrics.js';
import type { AppState } from './app-state.js';

/**
 * Gives the request its own logger (`ctx.state.logger`, every line with `requestId`) and
 * writes one structured line per request when it is answered. Never the headers or the
 * body: keys travel in headers and must not reach the logs.
 */
export function requestLog(logger: Logger, metrics: Metrics): Middleware<AppState> {
  return async (ctx, next) => {
    const started = performance.now();
    const log = logger.child({ requestId: ctx.state.requestId });
    ctx.state.logger = log;
    try {
      await next();
    } finally {
      const status = ctx.status;
      const fields = {
        method: ctx.method,
        path: ctx.path,
        status,
        durationMs: Math.round((performance.now() - started) * 10) / 10,
        // The key's id, never the key.
        key: ctx.state.principal?.keyId,
      };
      // The route pattern, not the path: ids must not explode the label set.
      const route = (ctx as { _matchedRoute?: string })._matchedRoute ?? 'unmatched';
      metrics.httpSeconds.observe({ method: ctx.method, route, status: String(status) }, fields.durationMs / 1000);
      if (status >= 500) log.warn('request', fields);
      else log.info('request', fields);
    }
  };
}
