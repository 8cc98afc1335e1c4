import type Router from '@koa/router';
import type { Middleware } from 'koa';
import type { z } from 'zod';

import { AppError } from './app-error.js';
import type { AppState } from './app-state.js';
import type { ErrorCode } from './error-codes.js';
import { validated, type AppContext, type InputSchemas, type ValidatedInput } from './validate.js';

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

export const JSON_TYPE = 'application/json';

/**
 * One route: what the API reference shows and what the router runs come from this one
 * object, so the document cannot drift from the code. Request schemas validate the input;
 * the response schema types what the handler must return.
 */
export interface RouteSpec<
  S extends InputSchemas = InputSchemas,
  R extends z.ZodType = z.ZodType,
  Scope extends string = string,
> {
  method: HttpMethod;
  /** Koa path, e.g. `/v1/vehicles/:vehicleId/meter`. */
  path: string;
  operationId: string;
  tag: string;
  summary: string;
  description?: string;
  /** The key scope required; undefined for open routes (no key). */
  scope?: Scope;
  request?: S;
  /**
   * For handlers that read the body themselves (several media types): the schema of each
   * accepted media type, for the reference. The router refuses other media types (415).
   */
  bodyTypes?: Record<string, z.ZodType>;
  status: 200 | 201 | 202 | 204;
  /** What a success returns: a schema (JSON) or a media type for routes that set ctx.body themselves. */
  response: {
    description: string;
    schema?: R;
    contentType?: string;
    headers?: z.ZodObject;
    /** A realistic answer for the reference (else it shows one generated from the schema). */
    example?: z.input<R>;
  };
  /**
   * The errors the handler answers, by code (the catalogue in error-codes.ts has their status
   * and meaning). Those of the router's own checks (scope, media type, validation) are added.
   */
  errors?: readonly ErrorCode[];
  /** Middleware run before validation (e.g. metrics that must see refused requests). */
  before?: Middleware<AppState, AppContext>[];
  handler: (input: ValidatedInput<S>, ctx: AppContext) => Promise<z.input<R> | void> | z.input<R> | void;
}

/** Refuses bodies in a media type the route does not take (415), before they are read. */
function requireBodyType(types: readonly string[]): Middleware<AppState, AppContext> {
  return async (ctx, next) => {
    if (!ctx.is(...types)) {
      throw new AppError('unsupported_media_type', `The request body must be ${types.join(' or ')}.`);
    }
    await next();
  };
}

/** A registered route: its declaration and every error code it can answer. */
export interface ApiRoute<Scope extends string = string> {
  spec: RouteSpec<InputSchemas, z.ZodType, Scope>;
  errors: readonly ErrorCode[];
}

export interface ApiRouterOptions<Scope extends string> {
  /** The middleware that refuses a caller whose key lacks `scope`: the router knows no scopes itself. */
  scopeCheck: (scope: Scope) => Middleware<AppState, AppContext>;
  /** What every route with a scope can answer besides its own errors (no key, wrong scope, ...). */
  scopeErrors: readonly ErrorCode[];
}

/** The codes a route answers: those of the checks the router runs for it, then its own. */
function errorCodesOf(spec: RouteSpec, scopeErrors: readonly ErrorCode[]): ErrorCode[] {
  const bodyTypes = spec.bodyTypes ? Object.keys(spec.bodyTypes) : spec.request?.body ? [JSON_TYPE] : [];
  const codes: ErrorCode[] = [];
  if (spec.request?.params || spec.request?.query || bodyTypes.length > 0) codes.push('validation_failed');
  // The body parser runs before every route: what it refuses matters to the routes that take a body.
  if (bodyTypes.includes(JSON_TYPE)) codes.push('malformed_json', 'too_deeply_nested');
  if (bodyTypes.length > 0) codes.push('payload_too_large', 'unsupported_media_type');
  if (spec.scope !== undefined) codes.push(...scopeErrors);
  return [...new Set([...codes, ...(spec.errors ?? [])])];
}

/** Registers routes on the Koa router and keeps them, with their errors, for the OpenAPI document. */
export class ApiRouter<Scope extends string> {
  readonly routes: ApiRoute<Scope>[] = [];

  constructor(
    readonly router: Router<AppState, AppContext>,
    private readonly options: ApiRouterOptions<Scope>,
  ) {}

  add<S extends InputSchemas, R extends z.ZodType>(spec: RouteSpec<S, R, Scope>): void {
    const registered = spec as unknown as RouteSpec<InputSchemas, z.ZodType, Scope>;
    this.routes.push({ spec: registered, errors: errorCodesOf(registered, this.options.scopeErrors) });
    const middleware: Middleware<AppState, AppContext>[] = [...(spec.before ?? [])];
    if (spec.scope !== undefined) middleware.push(this.options.scopeCheck(spec.scope));
    if (spec.bodyTypes) middleware.push(requireBodyType(Object.keys(spec.bodyTypes)));
    else if (spec.request?.body) middleware.push(requireBodyType([JSON_TYPE]));
    middleware.push(
      validated(spec.request ?? ({} as S), async (input, ctx) => {
        const body = await spec.handler(input, ctx);
        ctx.status = spec.status;
        if (body !== undefined) ctx.body = body;
      }),
    );
    this.router.register(spec.path, [spec.method.toUpperCase()], middleware);
  }
}

/**
 * The routes that need no key, as `METHOD /path` (HEAD with GET): the authentication
 * middleware lets exactly these through.
 */
export function openRoutes<Scope extends string>(api: ApiRouter<Scope>): ReadonlySet<string> {
  return new Set(
    api.routes
      .map((route) => route.spec)
      .filter((spec) => spec.scope === undefined)
      .flatMap((spec) => [
        `${spec.method.toUpperCase()} ${spec.path}`,
        ...(spec.method === 'get' ? [`HEAD ${spec.path}`] : []),
      ]),
  );
}
