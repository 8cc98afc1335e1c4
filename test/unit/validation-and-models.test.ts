import test from 'ava';

import { decodeFleetCursor, encodeFleetCursor } from '../../src/analytics/fleet-cursor.js';
import { resolveWindow } from '../../src/analytics/requested-window.js';
import { loadConfig } from '../../src/config/config.js';
import { deriveAcceptance } from '../../src/policies/acceptance-window.js';
import type { PolicyRow } from '../../src/policies/policies.repository.js';
import { meterBatchSchema, vehicleBatchSchema } from '../../src/telemetry/ingestion.schema.js';
import { DAY_MS, MINUTE_MS } from '../../src/time.js';
import { parseDuration } from '../../tools/simulator/duration.js';
import { createFleet } from '../../tools/simulator/fleet-model.js';

/** Unit tier: validation, the fleet cursor, the window rules and the simulator model, no database. */
const limits = { maxAgeMs: () => 28 * DAY_MS, maxFutureMs: 5 * MINUTE_MS };
const meters = meterBatchSchema(limits, 3);
const vehicles = vehicleBatchSchema(limits, 3);
const iso = (msAgo: number) => new Date(Date.now() - msAgo).toISOString();
const meter = (fields: Record<string, unknown> = {}) => ({
  meterId: 'm-1',
  kwhConsumedAc: 1,
  voltage: 230,
  timestamp: iso(MINUTE_MS),
  ...fields,
});
const problems = (result: { success: boolean; error?: { issues: { path: PropertyKey[] }[] } }) =>
  result.error?.issues.map((issue) => issue.path.join('.')) ?? [];

test('a reading: one or an array, bounds inclusive, timestamps with a zone inside the acceptance window', (t) => {
  t.true(meters.safeParse(meter()).success, 'a single reading is a batch of one');
  t.true(meters.safeParse([meter({ kwhConsumedAc: 10_000, voltage: 1_000 })]).success);
  t.deepEqual(problems(meters.safeParse([meter(), meter({ kwhConsumedAc: 10_000.5 })])), ['1.kwhConsumedAc']);
  t.deepEqual(problems(meters.safeParse([meter({ voltage: -1 })])), ['0.voltage']);
  t.deepEqual(problems(meters.safeParse([meter({ timestamp: '2026-11-27T10:00:00' })])), ['0.timestamp']);
  t.deepEqual(problems(meters.safeParse([meter({ timestamp: iso(28 * DAY_MS + MINUTE_MS) })])), ['0.timestamp']);
  t.deepEqual(problems(meters.safeParse([meter({ timestamp: iso(-6 * MINUTE_MS) })])), ['0.timestamp']);
  t.false(meters.safeParse([meter(), meter(), meter(), meter()]).success, 'at most 3 here');
  const vehicle = { vehicleId: 'v-1', soc: 100, kwhDeliveredDc: 0, batteryTemp: -50, timestamp: iso(0) };
  t.true(vehicles.safeParse(vehicle).success);
  t.deepEqual(problems(vehicles.safeParse({ ...vehicle, soc: 100.1, batteryTemp: 151 })), ['0.soc', '0.batteryTemp']);
});

test('the acceptance window is read at validation time, so a policy change applies at once', (t) => {
  let maxAgeMs = 28 * DAY_MS;
  const schema = meterBatchSchema({ maxAgeMs: () => maxAgeMs, maxFutureMs: 0 }, 10);
  const tenDaysOld = meter({ timestamp: iso(10 * DAY_MS) });
  t.true(schema.safeParse(tenDaysOld).success);
  maxAgeMs = 8 * DAY_MS;
  const refused = schema.safeParse(tenDaysOld);
  t.false(refused.success);
  t.regex(refused.error!.issues[0]!.message, /older than 8 days/);
});

test('fleet cursor: round trip; anything else is a 400 naming query.cursor', (t) => {
  const cursor = {
    from: '2026-11-27T00:00:00.000Z',
    to: '2026-11-28T00:00:00.000Z',
    sort: 'flagged' as const,
    belowThreshold: false,
    after: { key: 1.25, vehicleId: 'ev-9' },
  };
  t.deepEqual(decodeFleetCursor(encodeFleetCursor(cursor)), cursor);
  for (const forged of ['', 'nonsense', Buffer.from('{"from":1}').toString('base64url')]) {
    t.like(
      t.throws(() => decodeFleetCursor(forged)),
      { status: 400, details: [{ path: 'query.cursor' }] },
    );
  }
});

test('analytics windows: defaults, half-open, at most 31 days', (t) => {
  const now = new Date('2026-11-28T12:00:00Z');
  t.deepEqual(resolveWindow({}, now), { from: new Date('2026-11-27T12:00:00Z'), to: now });
  t.throws(() => resolveWindow({ from: now, to: now }), { message: /empty/ });
  t.throws(() => resolveWindow({ from: new Date(now.getTime() - 32 * DAY_MS), to: now }), { message: /too long/ });
});

test('simulator model: deterministic per seed, faulty vehicles below the threshold, durations parse', (t) => {
  const run = () =>
    createFleet(20, 7, 0.25).map((vehicle) =>
      Array.from({ length: 600 }, (_, i) => vehicle.step(new Date(Date.UTC(2026, 10, 27) + i * MINUTE_MS))),
    );
  t.deepEqual(run(), run());
  const fleet = createFleet(20, 7, 0.25);
  for (const vehicle of fleet) t.is(vehicle.faulty, vehicle.efficiency < 0.85, vehicle.vehicleId);
  t.true(fleet.some((v) => v.faulty) && fleet.some((v) => !v.faulty));
  t.is(parseDuration('24h'), DAY_MS);
  t.is(parseDuration('90m'), 90 * MINUTE_MS);
  t.throws(() => parseDuration('soon'));
});

test('simulator register mode: the registers, read as the service does (a decrease is a reset), give the interval energies', (t) => {
  const minutes = 20_000; // long enough for meter reboots and many plug-ins
  const steps = (form: 'interval' | 'register') =>
    createFleet(4, 11, 0.25, form).map((vehicle) =>
      Array.from({ length: minutes }, (_, i) => vehicle.step(new Date(Date.UTC(2026, 10, 1) + i * MINUTE_MS))),
    );
  const interval = steps('interval');
  const register = steps('register');
  const micro = (kwh: number | undefined) => Math.round((kwh ?? NaN) * 1_000_000);
  let resets = 0;
  for (const [v, readings] of register.entries()) {
    for (let i = 1; i < minutes; i += 1) {
      for (const [total, energy] of [
        [
          (r: (typeof readings)[number]) => r.meter.kwhConsumedAcTotal,
          (r: (typeof readings)[number]) => r.meter.kwhConsumedAc,
        ],
        [
          (r: (typeof readings)[number]) => r.vehicle.kwhDeliveredDcTotal,
          (r: (typeof readings)[number]) => r.vehicle.kwhDeliveredDc,
        ],
      ] as const) {
        const now = micro(total(readings[i]!));
        const before = micro(total(readings[i - 1]!));
        if (now < before) resets += 1;
        t.is(now < before ? now : now - before, micro(energy(interval[v]![i]!)));
      }
    }
  }
  t.true(resets > 0, 'the run holds resets');
});

test('acceptance: margins inside every refresh window and the retention; policy problems are named', (t) => {
  const policies = (retentionDays: number | null, refreshDays: (number | null)[]): PolicyRow[] => [
    ...(retentionDays === null
      ? []
      : ['meter_telemetry_history', 'vehicle_telemetry_history'].map((relation) => ({
          kind: 'retention' as const,
          relation,
          offsetMs: retentionDays * DAY_MS,
          scheduled: true,
        }))),
    ...['meter_telemetry_hourly', 'vehicle_telemetry_hourly', 'meter_telemetry_15m', 'vehicle_telemetry_15m'].map(
      (relation, i) => ({
        kind: 'refresh' as const,
        relation,
        offsetMs: refreshDays[i] === null ? null : (refreshDays[i] ?? refreshDays[0]!) * DAY_MS,
        scheduled: true,
      }),
    ),
  ];
  t.deepEqual(deriveAcceptance(policies(30, [29])), { maxAgeMs: 28 * DAY_MS, problems: [] });
  // The shortest refresh window decides; the retention keeps its own margin.
  t.is(deriveAcceptance(policies(30, [29, 29, 3, 29])).maxAgeMs, 2 * DAY_MS);
  t.is(deriveAcceptance(policies(10, [60])).maxAgeMs, 8 * DAY_MS);
  // A refresh window reaching the retention (or unbounded) would empty the aggregate over dropped chunks.
  t.is(deriveAcceptance(policies(30, [30])).problems.length, 4);
  t.regex(deriveAcceptance(policies(30, [null])).problems[0]!, /reaches back/);
  t.regex(deriveAcceptance([]).problems[0]!, /no refresh policy/);
  t.is(deriveAcceptance(policies(null, [29])).maxAgeMs, 28 * DAY_MS);
  // Archive mode: the hot period takes drop_after's place; both at once is a problem.
  const archive = (days: number): PolicyRow[] =>
    ['meter_telemetry_history', 'vehicle_telemetry_history'].map((relation) => ({
      kind: 'archive' as const,
      relation,
      offsetMs: days * DAY_MS,
      scheduled: true,
    }));
  t.deepEqual(deriveAcceptance([...policies(null, [29]), ...archive(30)]), { maxAgeMs: 28 * DAY_MS, problems: [] });
  t.is(deriveAcceptance([...policies(null, [29]), ...archive(10)]).maxAgeMs, 8 * DAY_MS);
  t.regex(deriveAcceptance([...policies(30, [29]), ...archive(30)]).problems[0]!, /retention policy and archive mode/);
});

test('HTTP timeouts: keep-alive above a load balancer idle timeout, headers above keep-alive', (t) => {
  const config = loadConfig({});
  t.like(config.http, { keepAliveTimeoutMs: 65_000, headersTimeoutMs: 66_000, requestTimeoutMs: 120_000 });
  t.throws(() => loadConfig({ HTTP_KEEP_ALIVE_TIMEOUT_MS: '70000' }), { message: /HTTP_HEADERS_TIMEOUT_MS/ });
  t.deepEqual(loadConfig({ RAW_RETENTION_DAYS: '30' }).ignored, ['RAW_RETENTION_DAYS']);
});

test('read replicas: one URL or a comma-separated list, only with a primary; drain delay off by default', (t) => {
  const primary = 'postgres://u:p@primary:5432/telemetry';
  t.deepEqual(loadConfig({}).replicas, { urls: [], maxLagMs: 3_000 });
  t.deepEqual(loadConfig({ DATABASE_URL: primary, ANALYTICS_DATABASE_URL: '' }).replicas.urls, []);
  t.deepEqual(
    loadConfig({
      DATABASE_URL: primary,
      ANALYTICS_DATABASE_URL: 'postgres://u:p@r1/telemetry, postgresql://u:p@r2:6432/telemetry,',
      ANALYTICS_MAX_REPLICA_LAG_MS: '500',
    }).replicas,
    { urls: ['postgres://u:p@r1/telemetry', 'postgresql://u:p@r2:6432/telemetry'], maxLagMs: 500 },
  );
  t.throws(() => loadConfig({ ANALYTICS_DATABASE_URL: 'postgres://u:p@r1/telemetry' }), {
    message: /ANALYTICS_DATABASE_URL: needs DATABASE_URL/,
  });
  t.throws(() => loadConfig({ DATABASE_URL: primary, ANALYTICS_DATABASE_URL: 'mysql://r1/x' }), {
    message: /ANALYTICS_DATABASE_URL/,
  });
  t.is(loadConfig({}).shutdownDrainMs, 0);
  t.is(loadConfig({ SHUTDOWN_DRAIN_MS: '5000' }).shutdownDrainMs, 5_000);
});

test('OCPP: unknown id tokens are Invalid unless OCPP_ACCEPT_UNKNOWN_ID_TOKENS is true', (t) => {
  t.false(loadConfig({}).ocpp.acceptUnknownIdTokens);
  t.true(loadConfig({ OCPP_ACCEPT_UNKNOWN_ID_TOKENS: 'true' }).ocpp.acceptUnknownIdTokens);
  t.false(loadConfig({ OCPP_ACCEPT_UNKNOWN_ID_TOKENS: '' }).ocpp.acceptUnknownIdTokens);
  t.throws(() => loadConfig({ OCPP_ACCEPT_UNKNOWN_ID_TOKENS: 'yes' }), {
    message: /OCPP_ACCEPT_UNKNOWN_ID_TOKENS: must be true or false/,
  });
});

test('OCPP: a connection lease of a minute unless OCPP_CONNECTION_LEASE_MS says otherwise (at least 300 ms)', (t) => {
  t.is(loadConfig({}).ocpp.connectionLeaseMs, 60_000);
  t.is(loadConfig({ OCPP_CONNECTION_LEASE_MS: '5000' }).ocpp.connectionLeaseMs, 5_000);
  t.throws(() => loadConfig({ OCPP_CONNECTION_LEASE_MS: '100' }), { message: /OCPP_CONNECTION_LEASE_MS/ });
});
