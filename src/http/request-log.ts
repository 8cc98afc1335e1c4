import type { Middleware } from 'koa';

import type { Logger } from '../logger.js';
import type { AppState } from './app-state.js';

/**
 * Gives the request its own logger (`ctx.state.logger`, every line with `requestId`) and
 * writes one structured line per request when it is answered. Never the headers or the
 * body: keys travel in headers and must not reach the logs.
 */
/** Told of every answered request (metrics); `route` is the route pattern, not the path. */
export type RequestObserver = (request: { method: string; route: string; status: number; seconds: number }) => void;

export function requestLog(logger: Logger, observe: RequestObserver = () => undefined): Middleware<AppState> {
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
      observe({ method: ctx.method, route, status, seconds: fields.durationMs / 1000 });
      if (status >= 500) log.warn('request', fields);
      else log.info('request', fields);
    }
  };
}
