import test from 'ava';

import { startTestService, type TestService } from './helpers/test-service.js';

let svc: TestService;
test.before(async () => {
  svc = await startTestService();
});
test.after.always(async () => {
  await svc?.stop();
});

test.serial('a fresh install has the efficiency rule of the original design, enabled', async (t) => {
  const res = await svc.get('/v1/alert-rules');
  t.is(res.status, 200);
  t.like(res.body.items[0], {
    id: 1,
    kind: 'efficiency_below',
    threshold: 0.85,
    window: 'PT24H',
    for: 'PT15M',
    devices: null,
    enabled: true,
  });
});

test.serial('each kind is created with its defaults, and read back', async (t) => {
  const created = async (body: unknown) => {
    const res = await svc.post('/v1/alert-rules', body);
    t.is(res.status, 201, JSON.stringify(res.body));
    t.deepEqual((await svc.get(`/v1/alert-rules/${res.body.id}`)).body, res.body);
    return res.body;
  };
  t.like(await created({ kind: 'efficiency_below', threshold: 0.8, devices: ['ev-1', 'ev-2'] }), {
    threshold: 0.8,
    window: 'PT24H',
    for: 'PT15M',
    devices: ['ev-1', 'ev-2'],
  });
  t.like(await created({ kind: 'battery_temperature_above' }), {
    aggregate: 'avg',
    threshold: 45,
    severity: 'warning',
    window: 'PT1H',
  });
  t.like(await created({ kind: 'battery_temperature_above', aggregate: 'max', severity: 'critical' }), {
    aggregate: 'max',
    threshold: 55,
    severity: 'critical',
  });
  t.like(await created({ kind: 'device_silent' }), { minutes: 5, for: 'PT0S', window: null });
  t.like(await created({ kind: 'register_event', window: 'P1DT12H' }), { window: 'P1DT12H', for: 'PT0S' });
  t.like(await created({ kind: 'dead_letter', enabled: false }), { window: 'PT1H', devices: null, enabled: false });
});

test.serial('invalid rules are refused with the field and why, and nothing is stored', async (t) => {
  const before = (await svc.get('/v1/alert-rules')).body.items.length;
  const refused = async (body: unknown, path: string, message: RegExp) => {
    const res = await svc.post('/v1/alert-rules', body);
    t.is(res.status, 400, JSON.stringify(body));
    t.is(res.body.error.code, 'validation_failed');
    const detail = res.body.error.details.find((d: { path: string }) => d.path === path);
    t.truthy(detail, `${JSON.stringify(res.body.error.details)} names ${path}`);
    t.regex(detail?.message ?? '', message);
  };
  await refused({ kind: 'efficiency_below', window: '24h' }, 'window', /ISO 8601 duration/);
  await refused({ kind: 'efficiency_below', window: 'P1M' }, 'window', /years and months/);
  await refused({ kind: 'efficiency_below', window: 'PT' }, 'window', /ISO 8601 duration/);
  await refused({ kind: 'efficiency_below', window: 'P32D' }, 'window', /at most P31D/);
  await refused({ kind: 'efficiency_below', for: 'PT1.5M' }, 'for', /ISO 8601 duration/);
  await refused({ kind: 'efficiency_below', threshold: 1.5 }, 'threshold', /at most 1/);
  await refused({ kind: 'efficiency_below', minutes: 5 }, 'minutes', /./);
  await refused({ kind: 'dead_letter', devices: ['ev-1'] }, 'devices', /./);
  await refused({ kind: 'device_silent', minutes: 0 }, 'minutes', /between 1 and 10080/);
  await refused({ kind: 'register_event', devices: ['ev-1', 'ev-1'] }, 'devices', /twice/);
  await refused({ kind: 'low_battery' }, 'kind', /must be one of efficiency_below/);
  t.is((await svc.get('/v1/alert-rules')).body.items.length, before);
});

test.serial('PATCH changes a field as creation checks it; the kind stays; DELETE removes the rule', async (t) => {
  const { id } = (await svc.post('/v1/alert-rules', { kind: 'device_silent', minutes: 10 })).body;
  const patched = await svc.patch(`/v1/alert-rules/${id}`, { minutes: 15, devices: ['m-1'] });
  t.is(patched.status, 200);
  t.like(patched.body, { kind: 'device_silent', minutes: 15, devices: ['m-1'] });

  const wrongField = await svc.patch(`/v1/alert-rules/${id}`, { threshold: 0.5 });
  t.is(wrongField.status, 400);
  t.is(wrongField.body.error.details[0].path, 'threshold');
  t.regex(wrongField.body.error.details[0].message, /device_silent/);
  const kind = await svc.patch(`/v1/alert-rules/${id}`, { kind: 'dead_letter' });
  t.is(kind.status, 400);
  t.is(kind.body.error.details[0].path, 'kind');
  const badFor = await svc.patch(`/v1/alert-rules/${id}`, { for: 'PT5X' });
  t.is(badFor.status, 400);
  t.like((await svc.get(`/v1/alert-rules/${id}`)).body, { minutes: 15, for: 'PT0S' });

  t.is((await svc.delete(`/v1/alert-rules/${id}`)).status, 204);
  t.is((await svc.get(`/v1/alert-rules/${id}`)).body.error.code, 'alert_rule_not_found');
  t.is((await svc.delete(`/v1/alert-rules/${id}`)).status, 404);
  t.is((await svc.patch(`/v1/alert-rules/${id}`, { minutes: 1 })).status, 404);
  t.false((await svc.get('/v1/alert-rules')).body.items.some((r: { id: number }) => r.id === id));
});

test.serial('the rules need the admin scope', async (t) => {
  t.is((await svc.get('/v1/alert-rules', {})).status, 401);
});
