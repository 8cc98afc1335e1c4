import type { Middleware } from 'koa';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics/metrics.js';
import type { AppState } from './app-state.js';

/**
 * One structured line per request, with its id. Never the headers or the body: keys
 * travel in headers and must not reach the logs.
 */
export function requestLog(logger: Logger, metrics: Metrics): Middleware<AppState> {
  return async (ctx, next) => {
    const started = performance.now();
    try {
      await next();
    } finally {
      const status = ctx.status;
      const fields = {
        requestId: ctx.state.requestId,
        method: ctx.method,
        path: ctx.path,
        status,
        durationMs: Math.round((performance.now() - started) * 10) / 10,
        key: ctx.state.principal?.keyId,
      };
      // The route pattern, not the path: ids must not explode the label set.
      const route = (ctx as { _matchedRoute?: string })._matchedRoute ?? 'unmatched';
      metrics.httpSeconds.observe({ method: ctx.method, route, status: String(status) }, fields.durationMs / 1000);
      if (status >= 500) logger.warn('request', fields);
      else logger.info('request', fields);
    }
  };
}
