import { randomUUID } from 'node:crypto';

import type { Middleware } from 'koa';

import type { AppState } from './app-state.js';

const WELL_FORMED = /^[A-Za-z0-9._:-]{1,128}$/;

/** Tags every request with an id (the client's when well-formed) and echoes it back. */
export function requestId(): Middleware<AppState> {
  return async (ctx, next) => {
    const offered = ctx.get('X-Request-Id');
    ctx.state.requestId = WELL_FORMED.test(offered) ? offered : randomUUID();
    ctx.set('X-Request-Id', ctx.state.requestId);
    await next();
  };
}
