import { createDocument, type ZodOpenApiOperationObject, type ZodOpenApiPathsObject } from 'zod-openapi';

import { type RouteSpec, JSON_TYPE } from '../http/api-router.js';
import { errorResponse } from '../http/common.schema.js';

/** Koa's `/v1/vehicles/:vehicleId/meter` as OpenAPI's `/v1/vehicles/{vehicleId}/meter`. */
export const openApiPath = (koaPath: string) => koaPath.replace(/:(\w+)/g, '{$1}');

const errorContent = { content: { [JSON_TYPE]: { schema: errorResponse } } };

/** Error statuses every route of a kind can answer, besides the ones a route names. */
function commonErrors(spec: RouteSpec): Record<string, string> {
  const errors: Record<string, string> = {};
  if (spec.request?.params || spec.request?.query || spec.request?.body || spec.bodyTypes) {
    errors['400'] = 'The input is invalid (validation_failed, with the field and reason of each problem)';
  }
  if (spec.scope) {
    errors['401'] = 'No API key, or not a valid one (unauthorized)';
    errors['403'] = `The key lacks the "${spec.scope}" scope (forbidden)`;
    errors['429'] = "The key's request rate is over its limit (rate_limited); retry after Retry-After";
    errors['503'] = 'The database is unavailable (database_unavailable); retry after Retry-After';
  }
  if (spec.request?.body || spec.bodyTypes) {
    errors['413'] = 'The body is larger than the limit (payload_too_large)';
    errors['415'] = 'The body is not in an accepted media type (unsupported_media_type)';
  }
  return errors;
}

function operation(spec: RouteSpec): ZodOpenApiOperationObject {
  const bodies = spec.bodyTypes ?? (spec.request?.body ? { [JSON_TYPE]: spec.request.body } : undefined);
  const errors = { ...commonErrors(spec), ...spec.errors };
  const success = spec.response.schema
    ? { content: { [spec.response.contentType ?? JSON_TYPE]: { schema: spec.response.schema } } }
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
      [String(spec.status)]: { description: spec.response.description, ...success },
      ...Object.fromEntries(
        Object.entries(errors).map(([status, description]) => [status, { description, ...errorContent }]),
      ),
    },
  };
}

export interface DocumentInfo {
  version: string;
  serverUrl?: string;
}

/** The OpenAPI 3.1 document of every route registered through the ApiRouter. */
export function buildOpenApiDocument(specs: readonly RouteSpec[], info: DocumentInfo) {
  const paths: ZodOpenApiPathsObject = {};
  for (const spec of specs) {
    const path = openApiPath(spec.path);
    paths[path] = { ...paths[path], [spec.method]: operation(spec) };
  }
  return createDocument({
    openapi: '3.1.0',
    info: {
      title: 'EV charging telemetry API',
      version: info.version,
      description:
        'Smart meters and vehicles post readings once a minute; analysts ask how each vehicle charged. ' +
        'Every /v1 route needs an API key (`Authorization: Bearer <key>` or `X-API-Key`) with the scope it names. ' +
        'Errors share one shape: `{ "error": { "code", "message", "details"? } }`.',
    },
    ...(info.serverUrl ? { servers: [{ url: info.serverUrl }] } : {}),
    // The order the reference shows them in: what devices do, what analysts read, then admin.
    tags: [
      { name: 'Ingestion', description: 'Devices post readings' },
      { name: 'Live state', description: 'The latest reading of each device' },
      { name: 'Analytics', description: 'How vehicles charged over a window' },
      { name: 'Mappings', description: 'Which meter measures which vehicle' },
      { name: 'API keys', description: 'Keys and their scopes (admin)' },
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
