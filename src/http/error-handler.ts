import type { Middleware } from 'koa';

import { isDatabaseUnavailable, isTransactionConflict } from '../db/pg-errors.js';
import type { Logger } from '../logger.js';
import { AppError } from './app-error.js';
import type { AppState } from './app-state.js';

/** Errors raised by the body parser and the router, recognised by their http-errors shape. */
interface HttpLikeError {
  status?: number;
  statusCode?: number;
  type?: string;
  expose?: boolean;
}

function fromHttpError(err: HttpLikeError): AppError | undefined {
  const status = err.status ?? err.statusCode;
  // The router's answer to a method it does not know, before other 5xx are left to the 500 below.
  if (status === 501) return new AppError('not_implemented', 'This method is not implemented.');
  if (status === undefined || status >= 500 || status < 400) return undefined;
  if (err.type === 'entity.too.large') {
    return new AppError('payload_too_large', 'The request body is larger than the limit.');
  }
  if (err.type === 'entity.parse.failed' || (status === 400 && err.type === undefined)) {
    return new AppError('malformed_json', 'The request body is not valid JSON.');
  }
  if (err.type === 'encoding.unsupported' || status === 415) {
    return new AppError(
      'unsupported_media_type',
      'The request body is in a media type or encoding this route does not take.',
    );
  }
  if (status === 405) return new AppError('method_not_allowed', 'This method is not allowed on this route.');
  // Any other client error of the body parser (e.g. a body that does not match its length).
  return new AppError('bad_request', 'The request could not be processed.');
}

/** Maps every error to the one error shape, in one place. Internals never reach the client. */
export function errorHandler(logger: Logger): Middleware<AppState> {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        throw new AppError('not_found', `No route for ${ctx.method} ${ctx.path}.`);
      }
      // The router's own answers (allowedMethods without throw), with their Allow header kept.
      if (ctx.status === 405 && ctx.body === undefined) {
        const allow = ctx.response.get('Allow');
        throw new AppError('method_not_allowed', `${ctx.method} is not allowed on ${ctx.path}; allowed: ${allow}.`);
      }
      if (ctx.status === 501 && ctx.body === undefined) {
        throw new AppError('not_implemented', `${ctx.method} is not implemented.`);
      }
    } catch (err: unknown) {
      let appError =
        err instanceof AppError
          ? err
          : isDatabaseUnavailable(err) || isTransactionConflict(err)
            ? AppError.databaseUnavailable()
            : typeof err === 'object' && err !== null
              ? fromHttpError(err)
              : undefined;
      if (!appError) {
        // The request's logger adds requestId; the service logger if this runs without request-log.
        const log = ctx.state.logger ?? logger.child({ requestId: ctx.state.requestId });
        log.error('unhandled error', { method: ctx.method, path: ctx.path, err });
        appError = new AppError('internal_error', `An unexpected error occurred (request ${ctx.state.requestId}).`);
      }
      ctx.status = appError.status;
      for (const [name, value] of Object.entries(appError.headers ?? {})) ctx.set(name, value);
      ctx.body = {
        error: {
          code: appError.code,
          message: appError.message,
          ...(appError.details ? { details: appError.details } : {}),
        },
      };
    }
  };
}
