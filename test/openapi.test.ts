import type Router from '@koa/router';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import test, { type ExecutionContext } from 'ava';

import { openApiPath } from '../src/openapi/openapi.document.js';
import { EXAMPLE_WEBHOOK_ID } from '../src/webhooks/webhooks.schema.js';
import {
  meterReading,
  minutesAgo,
  startTestService,
  vehicleReading,
  type TestResponse,
  type TestService,
} from './helpers/test-service.js';

/**
 * The API reference is generated from the routes' own schemas. These tests hold it to the
 * running service: every route the router knows is documented, and real responses of the
 * main routes validate against the documented schemas (with an independent validator).
 */
let svc: TestService;
// The document is JSON from the wire: walked dynamically.
let doc: any; // eslint-disable-line @typescript-eslint/no-explicit-any

type Scalar = string | number | boolean;

/** The parts of an operation in the document that the example tests walk. */
interface Operation {
  parameters?: { name: string; in: string; example?: Scalar; schema?: { example?: Scalar; default?: Scalar } }[];
  responses: Record<
    string,
    {
      description: string;
      content: Record<string, { examples?: Record<string, { value: { error: { code: string } } }> }>;
    }
  >;
}

/** Pages and their static files: HTML for people, not API operations. */
const PAGES = /^\/($|dashboard(\/|$)|docs(\/|$))/;

test.before(async () => {
  svc = await startTestService();
  doc = (await svc.get('/v1/openapi.json', {})).body;
});
test.after.always(async () => {
  await svc?.stop();
});

function registeredRoutes(): { method: string; path: string }[] {
  const routers = svc.app.middleware
    .map((mw) => (mw as { router?: Router }).router)
    .filter((router): router is Router => router !== undefined);
  return routers.flatMap((router) =>
    router.stack.flatMap((layer) =>
      layer.methods
        .filter((m) => m !== 'HEAD')
        .map((method) => ({ method: method.toLowerCase(), path: String(layer.path) })),
    ),
  );
}

test('the document is OpenAPI 3.1, served without a key, and names the security schemes', (t) => {
  t.is(doc.openapi, '3.1.0');
  t.truthy(doc.info.version);
  t.deepEqual(Object.keys(doc.components.securitySchemes).sort(), ['apiKeyHeader', 'bearer']);
});

test('every registered route is in the document (pages aside), and nothing else is', (t) => {
  const routes = registeredRoutes();
  t.true(routes.length >= 17, `routes found: ${routes.length}`);
  const apiRoutes = routes.filter((r) => !PAGES.test(r.path));
  const missing = apiRoutes.filter((r) => !doc.paths[openApiPath(r.path)]?.[r.method]);
  t.deepEqual(missing, [], 'routes missing from /v1/openapi.json');
  // Pages are the only exception, and no API path hides among them.
  t.false(routes.some((r) => PAGES.test(r.path) && r.path.startsWith('/v1')));
  const documented = Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.keys(item as object).map((method) => `${method} ${path}`),
  );
  t.is(documented.length, apiRoutes.length, 'the document lists no route the router does not have');
  for (const route of [
    'get /v1/analytics/fleet',
    'get /v1/analytics/performance/{vehicleId}/series',
    'put /v1/mappings',
  ]) {
    t.true(documented.includes(route), route);
  }
});

/** The parts of an OpenAPI operation this test reads. */
interface OperationObject {
  responses: Record<string, { content: Record<string, { schema: { $ref?: string } }> }>;
  security: unknown[];
}

test('every operation documents its success and its error shapes, and /v1 operations their scope', (t) => {
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item as Record<string, OperationObject>)) {
      const statuses = Object.keys(op.responses);
      t.true(
        statuses.some((s) => s.startsWith('2')),
        `${method} ${path} has a success response`,
      );
      if (path.startsWith('/v1/') && path !== '/v1/openapi.json') {
        t.true(statuses.includes('401') && statuses.includes('403'), `${method} ${path} documents 401/403`);
        t.true(op.security.length > 0, `${method} ${path} requires a key`);
      }
      for (const status of statuses.filter((s) => Number(s) >= 400)) {
        t.is(
          op.responses[status]?.content['application/json']?.schema.$ref,
          '#/components/schemas/Error',
          `${method} ${path} ${status}`,
        );
      }
    }
  }
});

function validatorFor(path: string, method: string, status: number, type = 'application/json') {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats.default(ajv);
  ajv.addSchema({ ...doc, $id: 'openapi.json' });
  const pointer = ['paths', path, method, 'responses', String(status), 'content', type, 'schema']
    .map((part) => part.replace(/~/g, '~0').replace(/\//g, '~1'))
    .join('/');
  return ajv.getSchema(`openapi.json#/${pointer}`)!;
}

function assertDocumented(t: ExecutionContext, path: string, method: string, res: TestResponse) {
  const validate = validatorFor(path, method, res.status);
  t.truthy(validate, `${method} ${path} documents status ${res.status}`);
  t.true(validate(res.body), `${method} ${path} ${res.status}: ${JSON.stringify(validate.errors)}`);
  assertDocumentedHeaders(t, path, method, res);
}

/** Documented response headers: the required ones are sent, and each one sent matches its schema. */
function assertDocumentedHeaders(t: ExecutionContext, path: string, method: string, res: TestResponse) {
  const headers: Record<string, { required?: boolean; schema: { type?: string } }> =
    doc.paths[path][method].responses[String(res.status)].headers ?? {};
  for (const [name, header] of Object.entries(headers)) {
    const value = res.headers.get(name);
    if (value === null) {
      t.false(header.required === true, `${method} ${path} ${res.status} sends ${name}`);
      continue;
    }
    const ajv = new Ajv2020({ strict: false });
    addFormats.default(ajv);
    const parsed = header.schema.type === 'integer' ? Number(value) : value;
    t.true(ajv.validate(header.schema, parsed), `${method} ${path} ${name}: ${value}`);
  }
}

test('real responses of the main routes match their documented schemas', async (t) => {
  const at = minutesAgo(90);
  await svc.put('/v1/vehicles/oa-ev/meter', { meterId: 'oa-m' });
  assertDocumented(
    t,
    '/v1/ingestion/meter',
    'post',
    await svc.post('/v1/ingestion/meter', [meterReading('oa-m', at, 2)]),
  );
  assertDocumented(
    t,
    '/v1/ingestion/vehicle',
    'post',
    await svc.post('/v1/ingestion/vehicle', vehicleReading('oa-ev', at, 1.8)),
  );
  assertDocumented(t, '/v1/ingestion/meter', 'post', await svc.post('/v1/ingestion/meter', [{ meterId: 'bad id' }]));
  assertDocumented(t, '/v1/vehicles/{vehicleId}/live', 'get', await svc.get('/v1/vehicles/oa-ev/live'));
  assertDocumented(t, '/v1/meters/{meterId}/live', 'get', await svc.get('/v1/meters/oa-m/live'));
  assertDocumented(t, '/v1/meters/{meterId}/live', 'get', await svc.get('/v1/meters/nobody/live'));
  assertDocumented(t, '/v1/vehicles/{vehicleId}/meter', 'get', await svc.get('/v1/vehicles/oa-ev/meter'));
  assertDocumented(t, '/v1/analytics/performance/{vehicleId}', 'get', await svc.get('/v1/analytics/performance/oa-ev'));
  assertDocumented(
    t,
    '/v1/analytics/performance/{vehicleId}',
    'get',
    await svc.get('/v1/analytics/performance/oa-unknown'),
  );
  assertDocumented(
    t,
    '/v1/analytics/performance/{vehicleId}/series',
    'get',
    await svc.get('/v1/analytics/performance/oa-ev/series?bucket=15m'),
  );
  const fleet = await svc.get('/v1/analytics/fleet?limit=1');
  assertDocumented(t, '/v1/analytics/fleet', 'get', fleet);
  t.true(fleet.body.items.length === 1);
  assertDocumented(
    t,
    '/v1/mappings',
    'put',
    await svc.put('/v1/mappings', [{ vehicleId: 'oa-ev2', meterId: 'oa-m2' }]),
  );
  const created = await svc.post('/v1/keys', { name: 'oa', scopes: ['read'] });
  assertDocumented(t, '/v1/keys', 'post', created);
  assertDocumented(t, '/v1/keys', 'get', await svc.get('/v1/keys'));
  assertDocumented(
    t,
    '/v1/analytics/fleet',
    'get',
    await svc.get('/v1/analytics/fleet', { authorization: 'Bearer nope' }),
  );
  assertDocumented(t, '/readyz', 'get', await svc.get('/readyz', {}));
  assertDocumented(t, '/healthz', 'get', await svc.get('/healthz', {}));
  assertDocumented(t, '/health', 'get', await svc.get('/health', {}));
  // Assignments: history, the meter side, a conflict, a correction, the audit.
  assertDocumented(
    t,
    '/v1/vehicles/{vehicleId}/meter/history',
    'get',
    await svc.get('/v1/vehicles/oa-ev2/meter/history'),
  );
  assertDocumented(t, '/v1/meters/{meterId}/vehicle/history', 'get', await svc.get('/v1/meters/oa-m2/vehicle/history'));
  const conflict = await svc.put('/v1/vehicles/oa-ev3/meter', { meterId: 'oa-m2' });
  t.is(conflict.status, 409);
  assertDocumented(t, '/v1/vehicles/{vehicleId}/meter', 'put', conflict);
  const id = (await svc.get('/v1/vehicles/oa-ev2/meter/history')).body.assignments[0].id;
  const corrected = await svc.patch(`/v1/assignments/${id}`, { from: '2026-01-01T00:00:00Z', to: null });
  assertDocumented(t, '/v1/assignments/{id}', 'patch', corrected);
  assertDocumented(
    t,
    '/v1/assignments/{id}',
    'patch',
    await svc.patch('/v1/assignments/999999', { from: null, to: null }),
  );
  assertDocumented(t, '/v1/assignments/audit', 'get', await svc.get('/v1/assignments/audit?vehicleId=oa-ev2'));
});

test('a response with a field the document does not have fails the check (the check can fail)', (t) => {
  const validate = validatorFor('/v1/ingestion/meter', 'post', 202);
  t.true(validate({ accepted: 1, duplicates: 0 }));
  t.false(validate({ accepted: '1', duplicates: 0 }));
  t.false(validate({ accepted: 1 }));
  t.false(validate({ accepted: 1, duplicates: 0, undocumented: true }));
});

test('/docs serves the reference page and its assets from the package, without a CDN', async (t) => {
  const page = await svc.get('/docs', {});
  t.is(page.status, 200);
  t.regex(String(page.headers.get('content-type')), /text\/html/);
  const html = String(page.body);
  t.notRegex(html, /https?:\/\//, 'no external URL in the page');
  const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
  t.true(assets.length >= 3, `assets: ${assets.join(', ')}`);
  for (const asset of assets) {
    const res = await fetch(new URL(asset, svc.url + '/docs/'));
    t.is(res.status, 200, asset);
    t.true((await res.arrayBuffer()).byteLength > 0, asset);
  }
});

/** Every example the document carries, with the schema it must be an instance of (a JSON pointer or the schema). */
/** A key as a segment of a JSON pointer in a URI fragment (RFC 6901 section 6). */
const pointerSegment = (key: string) => encodeURIComponent(key.replace(/~/g, '~0').replace(/\//g, '~1'));

function examplesOf(node: unknown, pointer: string, found: { at: string; schemaAt: string; value: unknown }[]) {
  if (typeof node !== 'object' || node === null) return found;
  const record = node as Record<string, unknown>;
  // A media type or a parameter: its example(s) are instances of its `schema`.
  if ('schema' in record) {
    if ('example' in record)
      found.push({ at: `${pointer}/example`, schemaAt: `${pointer}/schema`, value: record.example });
    for (const [name, example] of Object.entries((record.examples ?? {}) as Record<string, { value: unknown }>)) {
      found.push({ at: `${pointer}/examples/${name}`, schemaAt: `${pointer}/schema`, value: example.value });
    }
  } else if ('example' in record && ('type' in record || 'anyOf' in record || '$ref' in record)) {
    // A schema's own example is an instance of the schema.
    found.push({ at: `${pointer}/example`, schemaAt: pointer, value: record.example });
  }
  for (const [key, value] of Object.entries(record)) {
    if (key !== 'example' && key !== 'examples') examplesOf(value, `${pointer}/${pointerSegment(key)}`, found);
  }
  return found;
}

test('every example in the reference is a valid instance of its schema, and no count shows -9007199254740991', (t) => {
  t.false(JSON.stringify(doc).includes('9007199254740991'));
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats.default(ajv);
  ajv.addSchema({ ...doc, $id: 'openapi.json' });
  const examples = examplesOf(doc, '', []);
  t.true(examples.length > 50, `found ${examples.length}`);
  for (const { at, schemaAt, value } of examples) {
    // Validate in the document's context, so $refs to components resolve.
    const validate = ajv.compile({ $ref: `openapi.json#${schemaAt}` });
    const valid = validate(value);
    t.true(valid, `${at}: ${JSON.stringify(value)} ${JSON.stringify(validate.errors)}`);
  }
});

test('error examples carry codes of the catalogue with the status they are listed under, and only codes the route answers', async (t) => {
  const { ERROR_CODES } = await import('../src/http/error-codes.js');
  let checked = 0;
  for (const [path, methods] of Object.entries(doc.paths as Record<string, Record<string, Operation>>)) {
    for (const [method, operation] of Object.entries(methods)) {
      for (const [status, response] of Object.entries(operation.responses)) {
        if (Number(status) < 400) continue;
        const examples = Object.values(response.content['application/json']?.examples ?? {});
        t.true(examples.length > 0, `${method} ${path} ${status} has examples`);
        for (const { value } of examples) {
          const code = value.error.code as keyof typeof ERROR_CODES;
          const listed: number | undefined = ERROR_CODES[code]?.status;
          t.is(listed, Number(status), `${method} ${path} ${status}: ${code}`);
          t.true(String(response.description).includes(`\`${code}\``), `${method} ${path} ${status} lists ${code}`);
          checked += 1;
        }
      }
    }
  }
  t.true(checked > 50);
  const performance =
    doc.paths['/v1/analytics/performance/{vehicleId}'].get.responses['200'].content['application/json'];
  t.true(performance.example.efficiencyRatio > 0.85 && performance.example.efficiencyRatio <= 1);
  t.is(performance.example.efficiencyStatus, 'normal');
});

test('"Try it out" on every GET route with its prefilled values (examples, defaults) answers 200', async (t) => {
  // The walkthrough of the README and docs/api.md: ev-42 draws from meter-17, both have sent readings.
  t.is((await svc.put('/v1/vehicles/ev-42/meter', { meterId: 'meter-17' })).status, 200);
  t.is((await svc.post('/v1/ingestion/meter', meterReading('meter-17', minutesAgo(30), 2))).status, 202);
  t.is((await svc.post('/v1/ingestion/vehicle', vehicleReading('ev-42', minutesAgo(30), 1.8))).status, 202);
  // The station of docs/ocpp.md's walkthrough.
  t.is((await svc.put('/v1/charge-points/cp-1', { password: 'cp-1-password-0123456' })).status, 200);
  t.is((await svc.put('/v1/id-tokens/04A2B3C4D5E6F7', { vehicleId: 'ev-42' })).status, 200);
  // An alert of the efficiency rule a fresh install has (alert 1 of the examples).
  await svc.dbHandle.db
    .insertInto('alerts')
    .values({
      rule_id: 1,
      subject_kind: 'vehicle',
      device_id: 'ev-42',
      state: 'pending',
      started_at: new Date(),
      figures: '{}',
    })
    .execute();
  // The webhook of the reference's examples (its id is the example; the API generates ids).
  await svc.dbHandle.db
    .insertInto('webhooks')
    .values({
      id: EXAMPLE_WEBHOOK_ID,
      url: 'https://ops.example.com/hooks/ev',
      secret: 'whsec_',
      events: ['alert.firing'],
    })
    .execute();
  for (const [path, methods] of Object.entries(doc.paths as Record<string, Record<string, Operation>>)) {
    const operation = methods.get;
    if (!operation) continue;
    const query = new URLSearchParams();
    let url = path;
    for (const parameter of operation.parameters ?? []) {
      // What Swagger UI prefills: the parameter's example, else its schema's example or default.
      const value = parameter.example ?? parameter.schema?.example ?? parameter.schema?.default;
      if (parameter.in === 'path') {
        t.not(value, undefined, `${path}: path parameter ${parameter.name} has an example`);
        url = url.replace(`{${parameter.name}}`, encodeURIComponent(String(value)));
      } else if (value !== undefined) query.set(parameter.name, String(value));
    }
    const target = query.size > 0 ? `${url}?${query}` : url;
    const res = await svc.get(target);
    t.is(res.status, 200, `GET ${target}: ${JSON.stringify(res.body).slice(0, 300)}`);
  }
});
