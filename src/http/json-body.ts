import bodyParser from 'koa-bodyparser';
import type { Middleware } from 'koa';
import { AppError } from './app-error.js';
import type { AppState } from './app-state.js';

const METHODS_WITH_BODY = new Set(['POST', 'PUT', 'PATCH']);

/**
 * Strict JSON bodies: requests that carry a body must say application/json (else 415),
 * the body must parse (else 400) and stay under the limit (else 413).
 */
export function jsonBody(maxBytes: number): Middleware<AppState>[] {
  const requireJson: Middleware<AppState> = async (ctx, next) => {
    if (METHODS_WITH_BODY.has(ctx.method) && !ctx.is('application/json')) {
      throw new AppError(415, 'unsupported_media_type', 'The request body must be application/json.');
    }
    await next();
  };
  const parse = bodyParser({ enableTypes: ['json'], jsonLimit: `${maxBytes}b`, strict: true }) as Middleware<AppState>;
  return [requireJson, parse];
}
