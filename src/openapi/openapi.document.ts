import { createDocument, type ZodOpenApiOperationObject, type ZodOpenApiPathsObject } from 'zod-openapi';

import { type ApiRoute, JSON_TYPE } from '../http/api-router.js';
import { errorResponse } from '../http/common.schema.js';
import { ALL_ERROR_CODES, errorCodeSpec, type ErrorCode } from '../http/error-codes.js';
import { errorExample } from './error-examples.js';

/** Koa's `/v1/vehicles/:vehicleId/meter` as OpenAPI's `/v1/vehicles/{vehicleId}/meter`. */
export const openApiPath = (koaPath: string) => koaPath.replace(/:(\w+)/g, '{$1}');

/** An error response's body: the shape, and one example per code it can carry (named by code). */
const errorContent = (codes: readonly ErrorCode[]) => ({
  content: {
    [JSON_TYPE]: {
      schema: errorResponse,
      examples: Object.fromEntries(codes.map((code) => [code, { summary: code, value: errorExample(code) }])),
    },
  },
});

/** One code as the reference describes it, from the catalogue. */
const describe = (code: ErrorCode) => `\`${code}\`: ${errorCodeSpec(code).description}`;

/** The route's error responses by status, each describing every code it can carry there. */
function errorResponses({ spec, errors }: ApiRoute) {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of errors) {
    const status = errorCodeSpec(code).status;
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return Object.fromEntries(
    [...byStatus.entries()]
      .sort(([a], [b]) => a - b)
      .map(([status, codes]) => {
        const described = codes.map(describe);
        if (status === 403 && spec.scope !== undefined)
          described.push(`This route requires the "${spec.scope}" scope.`);
        return [String(status), { description: described.join('\n\n'), ...errorContent(codes) }];
      }),
  );
}

/** The errors any request may get, whatever its route: listed once, in the document's description. */
const anyRequestErrors = ALL_ERROR_CODES.filter((code) => errorCodeSpec(code).anyRequest === true)
  .map((code) => `- ${errorCodeSpec(code).status} ${describe(code)}`)
  .join('\n');

function operation(route: ApiRoute): ZodOpenApiOperationObject {
  const { spec } = route;
  const bodies = spec.bodyTypes ?? (spec.request?.body ? { [JSON_TYPE]: spec.request.body } : undefined);
  const example = spec.response.example === undefined ? {} : { example: spec.response.example };
  const success = spec.response.schema
    ? { content: { [spec.response.contentType ?? JSON_TYPE]: { schema: spec.response.schema, ...example } } }
    : spec.response.contentType
      ? {
          content: {
            [spec.response.contentType]: {
              schema: { type: spec.response.contentType === JSON_TYPE ? ('object' as const) : ('string' as const) },
            },
          },
        }
      : {};
  return {
    operationId: spec.operationId,
    tags: [spec.tag],
    summary: spec.summary,
    ...(spec.description ? { description: spec.description } : {}),
    ...(spec.scope ? { security: [{ bearer: [] }, { apiKeyHeader: [] }] } : { security: [] }),
    requestParams: {
      ...(spec.request?.params ? { path: spec.request.params } : {}),
      ...(spec.request?.query ? { query: spec.request.query } : {}),
    },
    ...(bodies
      ? {
          requestBody: {
            required: true,
            content: Object.fromEntries(Object.entries(bodies).map(([type, schema]) => [type, { schema }])),
          },
        }
      : {}),
    responses: {
      [String(spec.status)]: {
        description: spec.response.description,
        ...(spec.response.headers ? { headers: spec.response.headers } : {}),
        ...success,
      },
      ...errorResponses(route),
    },
  };
}

export interface DocumentInfo {
  version: string;
  serverUrl?: string;
}

/**
 * zod writes `z.number().int()` with the bounds of a safe integer, which no field of this API
 * has as a meaning; the reference (Swagger UI) then shows -9007199254740991 as the example of
 * every count and id. Dropped, the bounds a schema does state (`min(1)`) stay.
 */
function dropSafeIntegerBounds(node: unknown): void {
  if (typeof node !== 'object' || node === null) return;
  if (Array.isArray(node)) {
    for (const item of node) dropSafeIntegerBounds(item);
    return;
  }
  const record = node as Record<string, unknown>;
  if (record.minimum === Number.MIN_SAFE_INTEGER) delete record.minimum;
  if (record.maximum === Number.MAX_SAFE_INTEGER) delete record.maximum;
  for (const value of Object.values(record)) dropSafeIntegerBounds(value);
}

/** The OpenAPI 3.1 document of every route registered through the ApiRouter. */
export function buildOpenApiDocument(routes: readonly ApiRoute[], info: DocumentInfo) {
  const document = createOpenApiDocument(routes, info);
  dropSafeIntegerBounds(document);
  return document;
}

function createOpenApiDocument(routes: readonly ApiRoute[], info: DocumentInfo) {
  const paths: ZodOpenApiPathsObject = {};
  for (const route of routes) {
    const path = openApiPath(route.spec.path);
    paths[path] = { ...paths[path], [route.spec.method]: operation(route) };
  }
  return createDocument({
    openapi: '3.1.0',
    info: {
      title: 'EV charging telemetry API',
      version: info.version,
      description:
        'Smart meters and vehicles post readings once a minute; analysts ask how each vehicle charged. ' +
        'Every /v1 route needs an API key (`Authorization: Bearer <key>` or `X-API-Key`) with the scope it names. ' +
        'Errors share one shape: `{ "error": { "code", "message", "details"? } }`; each operation lists the codes ' +
        `it can answer. Any request may also get:\n\n${anyRequestErrors}`,
    },
    ...(info.serverUrl ? { servers: [{ url: info.serverUrl }] } : {}),
    // The order the reference shows them in: what devices do, what analysts read, then admin.
    tags: [
      { name: 'Ingestion', description: 'Devices post readings' },
      { name: 'Live state', description: 'The latest reading of each device' },
      { name: 'Analytics', description: 'How vehicles charged over a window' },
      { name: 'Mappings', description: 'Which meter measures which vehicle' },
      { name: 'API keys', description: 'Keys and their scopes (admin)' },
      { name: 'Streams', description: 'Kinesis stream ingestion: records that could not be stored (admin)' },
      { name: 'Alerts', description: 'Alert rules over the analytics, and the alerts they raise (admin)' },
      { name: 'Webhooks', description: 'Signed event deliveries to your endpoints (admin)' },
      { name: 'Operations', description: 'Health, metrics and this reference (no key)' },
    ],
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'An API key as a bearer token' },
        apiKeyHeader: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
      },
    },
    paths,
  });
}
