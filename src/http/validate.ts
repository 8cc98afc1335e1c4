import type { RouterContext } from '@koa/router';
import type { Middleware } from 'koa';
import type { z } from 'zod';

import { AppError, type ErrorDetail } from './app-error.js';
import type { AppState } from './app-state.js';

export interface InputSchemas {
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: z.ZodType;
}

export type ValidatedInput<S extends InputSchemas> = {
  [K in keyof S]: S[K] extends z.ZodType ? z.output<S[K]> : never;
};

export type AppContext = RouterContext<AppState>;

/**
 * Turns zod issues into error details. Batches of readings are validated as arrays, so a
 * leading numeric path element is the reading's index and the rest is the field.
 */
export function issuesToDetails(issues: z.core.$ZodIssue[], prefix?: string): ErrorDetail[] {
  return issues.map((issue) => {
    const path = [...issue.path];
    const index = typeof path[0] === 'number' ? (path.shift() as number) : undefined;
    const field = [prefix, ...path.map(String)].filter((p) => p !== undefined && p !== '').join('.');
    return { ...(index !== undefined ? { index } : {}), path: field, message: issue.message };
  });
}

/**
 * A route handler that receives its params, query and body already validated and typed by
 * the zod schemas declared next to the route. Invalid input never reaches the handler.
 */
export function validated<S extends InputSchemas>(
  schemas: S,
  handler: (input: ValidatedInput<S>, ctx: AppContext) => Promise<void> | void,
): Middleware<AppState, AppContext> {
  return async (ctx) => {
    const sources: Record<string, unknown> = {
      params: ctx.params,
      query: ctx.query,
      body: (ctx.request as { body?: unknown }).body,
    };
    const input: Record<string, unknown> = {};
    const details: ErrorDetail[] = [];
    for (const key of ['params', 'query', 'body'] as const) {
      const schema = schemas[key];
      if (!schema) continue;
      const result = schema.safeParse(sources[key]);
      if (result.success) input[key] = result.data;
      else details.push(...issuesToDetails(result.error.issues, key === 'body' ? undefined : key));
    }
    if (details.length > 0) throw AppError.validation(details);
    await handler(input as ValidatedInput<S>, ctx);
  };
}
