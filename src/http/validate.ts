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
  return issues.map((issue) => detailAt(issue.path, issue.message, prefix));
}

/** One error detail at a path into the body: a leading number is the reading's index. */
export function detailAt(at: readonly PropertyKey[], message: string, prefix?: string): ErrorDetail {
  const path = [...at];
  const index = typeof path[0] === 'number' ? (path.shift() as number) : undefined;
  const field = [prefix, ...path.map(String)].filter((p) => p !== undefined && p !== '').join('.');
  return { ...(index !== undefined ? { index } : {}), path: field, message };
}

const snakeCase = (name: string) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** The value at `path` inside `root`, or undefined where the path leads nowhere. */
function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let node = root;
  for (const key of path) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return node;
}

/**
 * A required field that is missing while its snake_case spelling is there (`meter_id` for
 * `meterId`): zod would say "expected string, received undefined"; say which name to use.
 */
function explainSnakeCase(issues: z.core.$ZodIssue[], input: unknown): z.core.$ZodIssue[] {
  // A batch route takes one reading or an array and reports either as an array (index 0).
  const root = Array.isArray(input) ? input : [input];
  return issues.map((issue) => {
    const key = issue.path.at(-1);
    const base = typeof issue.path[0] === 'number' ? root : input;
    if (typeof key !== 'string' || valueAt(base, issue.path) !== undefined) return issue;
    const snake = snakeCase(key);
    const parent = valueAt(base, issue.path.slice(0, -1));
    if (snake === key || typeof parent !== 'object' || parent === null || !(snake in parent)) return issue;
    return { ...issue, message: `is required: field names are camelCase, send "${key}" instead of "${snake}"` };
  });
}

/**
 * Query parameters the route does not declare: a misspelt one (`?start=` for `?from=`) would
 * otherwise be ignored silently and the answer would be for a window nobody asked for.
 */
function unknownQueryParameters(schema: z.ZodObject | undefined, query: Record<string, unknown>): ErrorDetail[] {
  const accepted = Object.keys(schema?.shape ?? {});
  const list = accepted.length > 0 ? `accepted: ${accepted.join(', ')}` : 'this route takes no query parameters';
  return Object.keys(query)
    .filter((name) => !accepted.includes(name))
    .map((name) => ({ path: `query.${name}`, message: `is not a parameter of this route (${list})` }));
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
    const details: ErrorDetail[] = unknownQueryParameters(schemas.query, ctx.query);
    for (const key of ['params', 'query', 'body'] as const) {
      const schema = schemas[key];
      if (!schema) continue;
      const result = schema.safeParse(sources[key]);
      if (result.success) input[key] = result.data;
      else {
        const issues = explainSnakeCase(result.error.issues, sources[key]);
        details.push(...issuesToDetails(issues, key === 'body' ? undefined : key));
      }
    }
    if (details.length > 0) throw AppError.validation(details);
    await handler(input as ValidatedInput<S>, ctx);
  };
}
