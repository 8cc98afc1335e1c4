import test from 'ava';
import { sql } from 'kysely';

import { MINUTE_MS } from '../src/time.js';
import { chargingTimeline } from './helpers/charging.js';
import { meterReading, startTestService, type TestService } from './helpers/test-service.js';

/**
 * The evaluator on the embedded database, called with its own clock (no waiting): alerts fire
 * once after `for`, resolve once, write their webhook events in the same transaction, and show
 * the figures the analytics API answers.
 */
let svc: TestService;
test.before(async () => {
  svc = await startTestService();
});
test.after.always(async () => {
  await svc?.stop();
});

/** A whole minute three hours back: readings around it are in every default window. */
const { at, charged } = chargingTimeline(() => svc, 3);

async function mapped(vehicleId: string, meterId: string) {
  const res = await svc.put(`/v1/vehicles/${vehicleId}/meter`, { meterId, from: at(-600).toISOString() });
  if (res.status !== 200) throw new Error(`mapping failed: ${res.status} ${JSON.stringify(res.body)}`);
}

async function rule(body: Record<string, unknown>): Promise<number> {
  const res = await svc.post('/v1/alert-rules', body);
  if (res.status !== 201) throw new Error(`rule refused: ${JSON.stringify(res.body)}`);
  return res.body.id as number;
}

const evaluate = (ruleId: number, minutes: number) => svc.alerts.evaluateRuleById(ruleId, at(minutes));

async function alertsOf(ruleId: number, device: string) {
  return (await svc.get(`/v1/alerts?rule=${ruleId}&device=${device}`)).body.items as {
    id: number;
    state: string;
    resolvedReason: string | null;
    figures: Record<string, unknown>;
  }[];
}

async function eventsOf(alertId: number) {
  return svc.dbHandle.db
    .selectFrom('webhook_events')
    .selectAll()
    .where('ordering_key', '=', String(alertId))
    .orderBy('created_at')
    .orderBy('id')
    .execute();
}

test.serial(
  'the default rule: efficiency below 0.85 fires once after 15 minutes, with the figures of GET /v1/analytics/performance, and resolves once',
  async (t) => {
    await mapped('al-eff', 'al-eff-m');
    await charged('al-eff', 'al-eff-m', -60, 0, 0.8);

    t.deepEqual(await evaluate(1, 0), { fired: 0, resolved: 0 });
    const [pending] = await alertsOf(1, 'al-eff');
    t.like(pending, { state: 'pending' });
    t.deepEqual(await eventsOf(pending!.id), [], 'pending sends nothing');
    t.like(await evaluate(1, 10), { fired: 0 });

    // The event is written in the transaction of the change: when it cannot be, the alert does not fire.
    await sql`CREATE FUNCTION al_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'outbox refused'; END $$`.execute(svc.dbHandle.db);
    await sql`CREATE TRIGGER al_refuse BEFORE INSERT ON webhook_events FOR EACH ROW EXECUTE FUNCTION al_refuse()`.execute(
      svc.dbHandle.db,
    );
    await t.throwsAsync(evaluate(1, 15), { message: /outbox refused/ });
    t.like((await alertsOf(1, 'al-eff'))[0], { id: pending!.id, state: 'pending' });
    await sql`DROP TRIGGER al_refuse ON webhook_events; DROP FUNCTION al_refuse()`.execute(svc.dbHandle.db);

    t.like(await evaluate(1, 15), { fired: 1 });
    t.like(await evaluate(1, 16), { fired: 0 });
    const firing = (await svc.get('/v1/alerts?state=firing')).body.items.find(
      (a: { device: { id: string } }) => a.device.id === 'al-eff',
    );
    t.like(firing, { id: pending!.id, state: 'firing', ruleId: 1, device: { kind: 'vehicle', id: 'al-eff' } });

    // The figures are the analytics' for the same window, to the last digit.
    const { window } = firing.figures;
    const report = await svc.get(
      `/v1/analytics/performance/al-eff?from=${encodeURIComponent(window.from)}&to=${encodeURIComponent(window.to)}`,
    );
    t.is(report.status, 200);
    t.is(window.to, at(16).toISOString());
    for (const key of [
      'window',
      'meterId',
      'meters',
      'acEnergyKwh',
      'dcEnergyKwh',
      'efficiencyRatio',
      'efficiencyStatus',
      'avgBatteryTempC',
      'readings',
    ]) {
      t.deepEqual(firing.figures[key], report.body[key], key);
    }
    t.like(firing.figures, { efficiencyRatio: 0.8, efficiencyStatus: 'low', threshold: 0.85 });

    // It recovers: 30 more minutes at 1.0 bring the 24 hours to 78/90 = 0.8667.
    await charged('al-eff', 'al-eff-m', 0, 30, 1);
    t.like(await evaluate(1, 31), { resolved: 1 });
    t.like(await evaluate(1, 32), { fired: 0, resolved: 0 });
    const [resolved] = await alertsOf(1, 'al-eff');
    t.like(resolved, { id: pending!.id, state: 'resolved', resolvedReason: 'condition_cleared' });

    const events = await eventsOf(pending!.id);
    t.deepEqual(
      events.map((e) => e.type),
      ['alert.firing', 'alert.resolved'],
    );
    const [fired, cleared] = events.map((e) => e.payload as Record<string, any>); // eslint-disable-line @typescript-eslint/no-explicit-any
    t.like(fired, {
      alert: { id: pending!.id, ruleId: 1, state: 'firing', firedAt: at(15).toISOString(), resolvedAt: null },
      rule: { id: 1, kind: 'efficiency_below', threshold: 0.85, window: 'PT24H', for: 'PT15M' },
      device: { kind: 'vehicle', id: 'al-eff' },
      figures: { efficiencyRatio: 0.8, efficiencyStatus: 'low' },
    });
    t.like(cleared, {
      alert: {
        id: pending!.id,
        state: 'resolved',
        resolvedAt: at(31).toISOString(),
        resolvedReason: 'condition_cleared',
      },
      device: { kind: 'vehicle', id: 'al-eff' },
    });
    t.true((cleared!.figures.efficiencyRatio as number) > 0.85);

    const detail = await svc.get(`/v1/alerts/${pending!.id}`);
    t.is(detail.status, 200);
    t.like(detail.body, { state: 'resolved', rule: { id: 1 } });
    t.deepEqual(
      detail.body.evaluations.map((e: { conditionHolds: boolean }) => e.conditionHolds),
      [false, true, true, true, true],
    );
  },
);

test.serial('a flapping condition does not page: it fires once, after holding for a whole `for`', async (t) => {
  await mapped('al-flap', 'al-flap-m');
  // 10-minute blocks, bad (0.8) and good (1.0) in turn, then 40 bad minutes.
  for (const [from, to, dc] of [
    [0, 10, 0.8],
    [10, 20, 1],
    [20, 30, 0.8],
    [30, 40, 1],
    [40, 80, 0.8],
  ] as const) {
    await charged('al-flap', 'al-flap-m', from, to, dc);
  }
  const id = await rule({ kind: 'efficiency_below', window: 'PT10M', for: 'PT15M', devices: ['al-flap'] });
  let fired = 0;
  for (let minute = 10; minute <= 80; minute += 5) fired += (await evaluate(id, minute)).fired;
  t.is(fired, 1);
  const alerts = await alertsOf(id, 'al-flap');
  t.deepEqual(
    alerts.map((a) => a.state),
    ['firing', 'resolved', 'resolved'],
  );
  const events = await Promise.all(alerts.map((a) => eventsOf(a.id)));
  t.deepEqual(
    events.map((list) => list.map((e) => e.type)),
    [['alert.firing'], [], []],
    'the pending episodes resolved silently',
  );
});

test.serial('rule changes while an alert fires: threshold, disable, enable, delete', async (t) => {
  await mapped('al-chg', 'al-chg-m');
  await charged('al-chg', 'al-chg-m', -30, 0, 0.8);
  const id = await rule({ kind: 'efficiency_below', for: 'PT0S', devices: ['al-chg'] });
  t.like(await evaluate(id, 1), { fired: 1 });

  // A lower threshold applies from the next evaluation, which resolves the alert.
  t.is((await svc.patch(`/v1/alert-rules/${id}`, { threshold: 0.75 })).status, 200);
  t.like((await alertsOf(id, 'al-chg'))[0], { state: 'firing' });
  t.like(await evaluate(id, 2), { resolved: 1 });

  t.is((await svc.patch(`/v1/alert-rules/${id}`, { threshold: 0.85 })).status, 200);
  t.like(await evaluate(id, 3), { fired: 1 });
  // Disabling resolves at once, with its event; a disabled rule is not evaluated.
  t.is((await svc.patch(`/v1/alert-rules/${id}`, { enabled: false })).status, 200);
  const [disabled] = await alertsOf(id, 'al-chg');
  t.like(disabled, { state: 'resolved', resolvedReason: 'rule_disabled' });
  t.deepEqual(
    (await eventsOf(disabled!.id)).map((e) => e.type),
    ['alert.firing', 'alert.resolved'],
  );
  t.like(await evaluate(id, 4), { fired: 0 });

  t.is((await svc.patch(`/v1/alert-rules/${id}`, { enabled: true })).status, 200);
  t.like(await evaluate(id, 5), { fired: 1 });
  t.is((await svc.delete(`/v1/alert-rules/${id}`)).status, 204);
  const [deleted] = await alertsOf(id, 'al-chg');
  t.like(deleted, { state: 'resolved', resolvedReason: 'rule_deleted' });
  t.deepEqual(
    (await eventsOf(deleted!.id)).map((e) => e.type),
    ['alert.firing', 'alert.resolved'],
  );
  t.like((await svc.get(`/v1/alerts/${deleted!.id}`)).body, { rule: { id }, state: 'resolved' });
  t.is((await alertsOf(id, 'al-chg')).length, 3);
});

test.serial(
  'a silent device fires when nothing arrived for longer than its minutes, and resolves when it reports',
  async (t) => {
    const post = (ts: Date) => svc.post('/v1/ingestion/meter', [meterReading('al-quiet', ts, 0.01)]);
    t.is((await post(new Date(Date.now() - 30 * MINUTE_MS))).status, 202);
    await sql`UPDATE meter_live SET received_at = now() - interval '20 minutes' WHERE meter_id = 'al-quiet'`.execute(
      svc.dbHandle.db,
    );
    const id = await rule({ kind: 'device_silent', devices: ['al-quiet'] });
    t.like(await svc.alerts.evaluateRuleById(id, new Date()), { fired: 1 });
    const [silent] = await alertsOf(id, 'al-quiet');
    t.like(silent, { state: 'firing', figures: { minutes: 5 } });
    t.true((silent!.figures.silentMinutes as number) >= 19);

    t.is((await post(new Date())).status, 202);
    t.like(await svc.alerts.evaluateRuleById(id, new Date()), { resolved: 1 });
    t.deepEqual(
      (await eventsOf(silent!.id)).map((e) => e.type),
      ['alert.firing', 'alert.resolved'],
    );
  },
);

test.serial('GET /v1/alerts filters and pages; an unknown alert is 404', async (t) => {
  const page = await svc.get('/v1/alerts?limit=1');
  t.is(page.status, 200);
  t.is(page.body.items.length, 1);
  const next = await svc.get(`/v1/alerts?limit=1&before=${page.body.nextBefore}`);
  t.true(next.body.items[0].id < page.body.items[0].id);
  t.is((await svc.get('/v1/alerts?state=open')).status, 400);
  t.is((await svc.get('/v1/alerts/999999')).body.error.code, 'alert_not_found');
});
