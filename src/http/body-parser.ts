import type { Middleware } from 'koa';
import bodyParser from 'koa-bodyparser';

import { AppError, type ErrorDetail } from './app-error.js';
import type { AppState } from './app-state.js';
import { detailAt } from './validate.js';

/** Readings nest 2 deep; nothing legitimate comes close to this. */
export const MAX_JSON_DEPTH = 16;

/** Depth of nested arrays/objects, walked without recursion so no body can blow the stack. */
export function jsonDepth(value: unknown, limit: number): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (typeof node !== 'object' || node === null) continue;
    deepest = Math.max(deepest, depth);
    if (deepest > limit) return deepest;
    for (const child of Object.values(node)) stack.push([child, depth + 1]);
  }
  return deepest;
}

/** zlib's errors (gzip, deflate: `Z_…`; brotli: `ERR__ERROR_…`, `ERR_BROTLI_…`), which carry no HTTP status. */
function isDecompressionError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, status, statusCode } = error as { code?: unknown; status?: unknown; statusCode?: unknown };
  if (status !== undefined || statusCode !== undefined) return false;
  return typeof code === 'string' && /^(Z_|ERR__ERROR|ERR_BROTLI|ERR_ZLIB)/.test(code);
}

/** The parser's refusal of a `__proto__` key (@hapi/bourne): the JSON itself is valid. */
function isProtoKeyError(error: unknown): error is { body?: unknown } {
  return error instanceof SyntaxError && error.message === 'Object contains forbidden prototype property';
}

/**
 * Where the `__proto__` keys of a valid JSON text are, as validation details. JSON.parse makes
 * such a key an own property (it never sets the prototype), so walking the keys is safe.
 */
function protoKeyDetails(text: string): ErrorDetail[] {
  const details: ErrorDetail[] = [];
  const stack: [unknown, (string | number)[]][] = [[JSON.parse(text), []]];
  while (stack.length > 0) {
    const [node, path] = stack.pop()!;
    if (typeof node !== 'object' || node === null) continue;
    for (const [key, child] of Object.entries(node)) {
      const childPath = [...path, Array.isArray(node) ? Number(key) : key];
      if (key === '__proto__' && !Array.isArray(node))
        details.push(detailAt(childPath, 'is not an accepted field name'));
      stack.push([child, childPath]);
    }
  }
  return details;
}

/**
 * Body parsing: JSON (and CSV as text for the routes that take it) under the byte limit
 * (else 413), JSON that parses (else 400) and stays under the nesting limit (else 400).
 * Which media type a route accepts is checked by the route itself (415, see api-router.ts).
 */
export function bodyParsers(maxBytes: number): Middleware<AppState>[] {
  const parse = bodyParser({
    enableTypes: ['json', 'text'],
    extendTypes: { text: ['text/csv'] },
    jsonLimit: `${maxBytes}b`,
    textLimit: `${maxBytes}b`,
    strict: true,
  }) as Middleware<AppState>;
  // A compressed body that does not decompress (truncated, corrupt, not that encoding) fails
  // inside zlib with a bare error (no HTTP status): it is the client's body, so a 400.
  const parseOrRefuse: Middleware<AppState> = async (ctx, next) => {
    let parsed = false;
    try {
      await parse(ctx, async () => {
        parsed = true;
        await next();
      });
    } catch (error) {
      // Valid JSON with a `__proto__` key: a field no route takes, refused like any invalid field.
      if (!parsed && isProtoKeyError(error) && typeof error.body === 'string') {
        throw AppError.validation(protoKeyDetails(error.body));
      }
      if (parsed || !isDecompressionError(error)) throw error;
      throw new AppError(
        'bad_request',
        `The request body could not be decompressed (Content-Encoding: ${ctx.get('Content-Encoding')}): ` +
          'it is truncated or not valid data in that encoding.',
      );
    }
  };
  const limitDepth: Middleware<AppState> = async (ctx, next) => {
    const body: unknown = (ctx.request as { body?: unknown }).body;
    if (jsonDepth(body, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) {
      throw new AppError('too_deeply_nested', `The JSON body nests deeper than ${MAX_JSON_DEPTH} levels.`);
    }
    await next();
  };
  return [parseOrRefuse, limitDepth];
}
