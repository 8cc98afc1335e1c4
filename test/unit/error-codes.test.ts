import { readdirSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';

import test from 'ava';

import { createApp, type AppDeps } from '../../src/app.js';
import { RateLimiter } from '../../src/auth/rate-limiter.js';
import { ALL_ERROR_CODES, errorCodeSpec, type ErrorCode } from '../../src/http/error-codes.js';
import { createLogger } from '../../src/logger.js';
import { createMetrics } from '../../src/metrics/metrics.js';

/**
 * The error catalogue (src/http/error-codes.ts) is the one place a code is declared. These
 * checks keep what clients read in step with it: the table in docs/api.md, and the API
 * reference built from the registered routes. No database: the document needs none.
 */

const root = new URL('../../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');

/** The rows of the error table in docs/api.md: code -> status and meaning. */
function documentedErrorTable(): Map<string, { status: number; description: string }> {
  const page = read('docs/api.md');
  const start = page.indexOf('\n## Errors\n');
  if (start < 0) throw new Error('docs/api.md has no "## Errors" section');
  const end = page.indexOf('\n#', start + 1);
  const section = page.slice(start, end < 0 ? undefined : end);
  const rows = new Map<string, { status: number; description: string }>();
  for (const match of section.matchAll(/^\|\s*(\d{3})\s*\|\s*`([a-z_]+)`\s*\|\s*(.*?)\s*\|$/gm)) {
    rows.set(match[2]!, { status: Number(match[1]), description: match[3]! });
  }
  return rows;
}

test("docs/api.md's error table lists every code of the catalogue, with its status and meaning, and no other", (t) => {
  const rows = documentedErrorTable();
  for (const code of ALL_ERROR_CODES) {
    const { status, description } = errorCodeSpec(code);
    t.deepEqual(
      rows.get(code),
      { status, description },
      `docs/api.md row: | ${status} | \`${code}\` | ${description} |`,
    );
  }
  t.deepEqual(
    [...rows.keys()].filter((code) => !(ALL_ERROR_CODES as string[]).includes(code)),
    [],
    'codes in docs/api.md that the catalogue does not have',
  );
});

/** The API reference as the service serves it, from an app whose dependencies are never called. */
async function servedDocument(): Promise<OpenApiDocument> {
  const app = createApp({
    db: {} as AppDeps['db'],
    reads: {} as AppDeps['reads'],
    stopping: () => false,
    ingestion: {} as AppDeps['ingestion'],
    keys: {} as AppDeps['keys'],
    rateLimiter: new RateLimiter(0, 1),
    metrics: createMetrics(),
    logger: createLogger('silent'),
    limits: { maxBodyBytes: 1024, maxReadingsPerRequest: 10, maxAgeMs: () => 86_400_000, maxFutureMs: 300_000 },
    expectedMigrations: [],
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  try {
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/openapi.json`);
    return (await res.json()) as OpenApiDocument;
  } finally {
    server.close();
  }
}

interface OpenApiDocument {
  info: { description: string };
  paths: Record<string, Record<string, { responses: Record<string, { description: string }> }>>;
}

/** Codes named at the start of a paragraph (`` `code`: meaning ``) of a description. */
const codesIn = (description: string) =>
  [...description.matchAll(/(?:^|\n)(?:- \d{3} )?`([a-z_]+)`:/g)].map((m) => m[1]!);

test('the API reference describes every code under its status, from the catalogue', async (t) => {
  const doc = await servedDocument();
  const documented = new Map<string, Set<number>>();
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, operation] of Object.entries(item)) {
      for (const [status, response] of Object.entries(operation.responses)) {
        if (Number(status) < 400) continue;
        const codes = codesIn(response.description);
        t.true(codes.length > 0, `${method} ${path} ${status} names its codes`);
        for (const code of codes) {
          t.true(
            (ALL_ERROR_CODES as string[]).includes(code),
            `${method} ${path} ${status}: ${code} is in the catalogue`,
          );
          t.true(
            response.description.includes(`\`${code}\`: ${errorCodeSpec(code as ErrorCode).description}`),
            `${method} ${path} ${status}: ${code} is described as the catalogue does`,
          );
          documented.set(code, (documented.get(code) ?? new Set()).add(Number(status)));
        }
      }
    }
  }
  const anyRequest = new Set(codesIn(doc.info.description));
  for (const code of ALL_ERROR_CODES) {
    const spec = errorCodeSpec(code);
    if (spec.anyRequest) {
      t.true(anyRequest.has(code), `${code} is listed in the document's introduction`);
      t.true(doc.info.description.includes(`- ${spec.status} \`${code}\`: ${spec.description}`), code);
    } else {
      t.deepEqual(
        [...(documented.get(code) ?? [])],
        [spec.status],
        `${code} is documented by a route, as ${spec.status}`,
      );
    }
  }
});

/** The TypeScript files under `dir` (relative to the repository), with their paths. */
function sources(dir: string): { path: string; text: string }[] {
  return readdirSync(new URL(dir, root), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts'))
    .map((file) => ({ path: dir + file, text: read(dir + file) }));
}

test('every code of the catalogue is raised somewhere in the service', (t) => {
  const service = sources('src/').filter((file) => file.path !== 'src/http/error-codes.ts');
  for (const code of ALL_ERROR_CODES) {
    t.true(
      service.some((file) => file.text.includes(`'${code}'`)),
      `${code} is declared but never raised`,
    );
  }
});

test('src/http imports nothing from src/auth (auth builds on http, not the other way)', (t) => {
  const imports = sources('src/http/').filter((file) => /from '\.\.\/auth\//.test(file.text));
  t.deepEqual(
    imports.map((file) => file.path),
    [],
  );
});
