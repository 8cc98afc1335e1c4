import type { Middleware } from 'koa';

import { AppError } from '../http/app-error.js';
import type { AppState } from '../http/app-state.js';
import type { ErrorCode } from '../http/error-codes.js';
import type { ApiKeyService, Principal } from './api-key.service.js';
import type { DeviceKind, Scope } from './api-key.table.js';
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

/** The key a request presents, or why it presents none the service can use. */
function presentedKey(authorization: string, apiKeyHeader: string): { key: string } | { problem: string } {
  const bearer = BEARER.exec(authorization)?.[1];
  const key = bearer ?? (apiKeyHeader.trim() || undefined);
  if (key !== undefined) {
    return key.length <= MAX_KEY_LENGTH ? { key } : { problem: 'The API key is not valid.' };
  }
  const sent = authorization.trim();
  if (sent === '')
    return { problem: 'An API key is required: send `Authorization: Bearer <key>` or `X-API-Key: <key>`.' };
  // A header that holds a key but not the scheme is the most common slip: say what is missing.
  const scheme = /^(\S+)\s+\S/.exec(sent)?.[1];
  return {
    problem:
      scheme === undefined
        ? 'The Authorization header has no scheme: send `Authorization: Bearer <key>` (or `X-API-Key: <key>`).'
        : `The Authorization scheme "${scheme}" is not accepted: send \`Authorization: Bearer <key>\` (or \`X-API-Key: <key>\`).`,
  };
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
    const presented = presentedKey(ctx.get('Authorization'), ctx.get('X-API-Key'));
    const principal = 'key' in presented ? await keys.authenticate(presented.key) : undefined;
    if (!principal) {
      ctx.set('WWW-Authenticate', 'Bearer');
      throw new AppError('unauthorized', 'problem' in presented ? presented.problem : 'The API key is not valid.');
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
 * A device-bound key may only write its own device's readings, of its own kind: a vehicle's
 * key posting meter readings under the vehicle's id is another device. Any other device
 * refuses the whole request (nothing is written).
 */
export function assertOwnDevice(principal: Principal, kind: DeviceKind, ids: readonly string[], field: string): void {
  if (principal.deviceId === null) return;
  if (principal.deviceKind === null) {
    throw new AppError(
      'device_forbidden',
      `This API key is bound to ${principal.deviceId} but was created before keys recorded the kind of their device, ` +
        'and the kind could not be told from the stored readings: create a new key with `deviceId` and `deviceKind`.',
    );
  }
  if (principal.deviceKind !== kind) {
    throw new AppError(
      'device_forbidden',
      `This API key is bound to ${principal.deviceKind} ${principal.deviceId}; it may not send ${kind} readings.`,
    );
  }
  const details = ids.flatMap((id, index) =>
    id === principal.deviceId
      ? []
      : [{ index, path: field, message: `this key may only send readings of ${kind} ${principal.deviceId}` }],
  );
  if (details.length > 0) {
    throw new AppError('device_forbidden', 'This API key is bound to another device.', {
      details: details.slice(0, 100),
    });
  }
}
