import type { Middleware } from 'koa';

import { AppError } from '../http/app-error.js';
import type { AppState } from '../http/app-state.js';
import type { ErrorCode } from '../http/error-codes.js';
import type { ApiKeyService, Principal } from './api-key.service.js';
import type { Scope } from './api-key.table.js';
import type { RateLimiter } from './rate-limiter.js';

// What authentication keeps on ctx.state, declared from here so that http's AppState does
// not depend on auth.
declare module '../http/app-state.js' {
  interface AppState {
    /** Set by the authentication middleware on every /v1 request. */
    principal?: Principal;
  }
}

const BEARER = /^Bearer\s+(\S+)\s*$/i;
/** Longer than any key we issue; anything bigger is not worth hashing. */
const MAX_KEY_LENGTH = 256;

function presentedKey(authorization: string, apiKeyHeader: string): string | undefined {
  const bearer = BEARER.exec(authorization)?.[1];
  const key = bearer ?? (apiKeyHeader.trim() || undefined);
  return key && key.length <= MAX_KEY_LENGTH ? key : undefined;
}

/**
 * Every /v1 request needs a key: `Authorization: Bearer <key>` or `X-API-Key: <key>`,
 * except the routes declared open (`METHOD /path`: the API reference). Missing or unknown: 401. Then the
 * key's token bucket: 429 with Retry-After.
 */
export function authenticate(
  keys: ApiKeyService,
  limiter: RateLimiter,
  openRoutes: ReadonlySet<string> = new Set(),
): Middleware<AppState> {
  return async (ctx, next) => {
    // The router matches paths case-insensitively: so must this check, or /V1/... would pass.
    const path = ctx.path.toLowerCase();
    if ((!path.startsWith('/v1/') && path !== '/v1') || openRoutes.has(`${ctx.method} ${path}`)) {
      await next();
      return;
    }
    const key = presentedKey(ctx.get('Authorization'), ctx.get('X-API-Key'));
    const principal = key === undefined ? undefined : await keys.authenticate(key);
    if (!principal) {
      ctx.set('WWW-Authenticate', 'Bearer');
      throw new AppError('unauthorized', key === undefined ? 'An API key is required.' : 'The API key is not valid.');
    }
    if (limiter.enabled && !principal.isEnvAdmin) {
      const wait = limiter.take(principal.keyId);
      if (wait > 0) {
        throw new AppError('rate_limited', 'Too many requests for this key; retry later.', {
          headers: { 'Retry-After': String(wait) },
        });
      }
    }
    ctx.state.principal = principal;
    await next();
  };
}

export function principalOf(state: AppState): Principal {
  if (!state.principal) throw new Error('route reached without authentication');
  return state.principal;
}

/**
 * What a route that needs a key can answer because of the key: none or not valid, without the
 * route's scope, over its rate, or the database that holds the keys (and the data) unavailable.
 */
export const SCOPED_ROUTE_ERRORS = [
  'unauthorized',
  'forbidden',
  'rate_limited',
  'database_unavailable',
] as const satisfies readonly ErrorCode[];

/** 403 unless the caller's key carries `scope`. */
export function requireScope(scope: Scope): Middleware<AppState> {
  return async (ctx, next) => {
    if (!principalOf(ctx.state).scopes.has(scope)) {
      throw new AppError('forbidden', `This API key lacks the "${scope}" scope.`);
    }
    await next();
  };
}

/**
 * A device-bound key may only write its own device's readings: any other id refuses the
 * whole request (nothing is written).
 */
export function assertOwnDevice(principal: Principal, ids: readonly string[], field: string): void {
  if (principal.deviceId === null) return;
  const details = ids.flatMap((id, index) =>
    id === principal.deviceId
      ? []
      : [{ index, path: field, message: `this key may only send readings of ${principal.deviceId}` }],
  );
  if (details.length > 0) {
    throw new AppError('device_forbidden', 'This API key is bound to another device.', {
      details: details.slice(0, 100),
    });
  }
}
