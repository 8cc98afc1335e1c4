import test from 'ava';

import { HOUR_MS } from '../src/time.js';
import {
  OCPP_PASSWORD as PASSWORD,
  at,
  iso,
  ocppFixture,
  registerStation,
  sample,
  vehicleOnMeter,
} from './helpers/ocpp-fixture.js';
import { callError, refusedStatus, station } from './helpers/ocpp-station.js';
import type { TestService } from './helpers/test-service.js';

// OCPP stations (1.6, and 2.0.1's boot and meter values): connecting, live state, meter values.
// Transactions: test/ocpp16-transactions.test.ts, test/ocpp201.test.ts.
const ocpp = ocppFixture();
let svc: TestService;
test.before(async () => {
  svc = await ocpp.ready;
});
const { connected, meterRows: registerRows, metric } = ocpp;
const register = (chargePointId: string) => registerStation(svc, chargePointId);

test('the password route validates, stores a hash only, and the station can be read back', async (t) => {
  const short = await svc.put('/v1/charge-points/cp-pw', { password: 'too-short' });
  t.is(short.status, 400);
  t.is(short.body.error.code, 'validation_failed');
  t.is(short.body.error.details[0].path, 'password');
  t.is((await svc.put('/v1/charge-points/cp:bad', { password: PASSWORD })).status, 400);
  t.is((await svc.put('/v1/charge-points/cp-pw', { password: PASSWORD }, {})).status, 401);
  t.is((await svc.get('/v1/charge-points/cp-pw')).body.error.code, 'charge_point_not_found');

  const created = await svc.put('/v1/charge-points/cp-pw', { password: PASSWORD });
  t.is(created.status, 200);
  t.like(created.body, { chargePointId: 'cp-pw', connected: false, protocol: null, connectors: [] });
  t.false(JSON.stringify(created.body).includes(PASSWORD));
  const row = await svc.dbHandle.db
    .selectFrom('charge_points')
    .select('password_hash')
    .where('charge_point_id', '=', 'cp-pw')
    .executeTakeFirstOrThrow();
  t.regex(row.password_hash, /^scrypt\$16384\$8\$1\$/);
  t.false(row.password_hash.includes(PASSWORD));
});

test('the upgrade refuses an unknown station, a wrong or missing password (401) and other subprotocols', async (t) => {
  await register('cp-auth');
  t.is(await refusedStatus(station(svc.url, 'cp-nobody', PASSWORD)), 401);
  t.is(await refusedStatus(station(svc.url, 'cp-auth', 'wrong-password-0123456')), 401);
  t.is(await refusedStatus(station(svc.url, 'cp-auth', undefined)), 401);
  t.is(await refusedStatus(station(svc.url, 'cp-auth', PASSWORD, ['ocpp1.5'], false)), 400);
  t.true((await metric('ev_ocpp_upgrades_refused_total{reason="unauthorized"}')) >= 3);
  t.true((await metric('ev_ocpp_upgrades_refused_total{reason="subprotocol"}')) >= 1);
  // A changed password applies to the next connection.
  await svc.put('/v1/charge-points/cp-auth', { password: 'another-password-0123' });
  t.is(await refusedStatus(station(svc.url, 'cp-auth', PASSWORD)), 401);
  // Not the OCPP path: refused, the HTTP API is untouched.
  const wrongPath = station(svc.url.replace(/$/, '/v1'), 'cp-auth', 'another-password-0123');
  t.is(await refusedStatus(wrongPath), 404);
  const good = ocpp.client('cp-auth', { password: 'another-password-0123', protocols: ['ocpp2.0.1', 'ocpp1.6'] });
  await good.connect();
  t.is(good.protocol, 'ocpp2.0.1');
});

test('boot, heartbeat and connector status: answered per the spec, kept as live state', async (t) => {
  const client = await connected('cp-boot');
  const boot = (await client.call('BootNotification', {
    chargePointVendor: 'Acme',
    chargePointModel: 'Wallbox 11',
    firmwareVersion: '1.2.3',
  })) as { status: string; interval: number; currentTime: string };
  t.is(boot.status, 'Accepted');
  t.is(boot.interval, 300);
  t.true(Math.abs(Date.parse(boot.currentTime) - Date.now()) < 60_000);
  const beat = (await client.call('Heartbeat', {})) as { currentTime: string };
  t.true(Math.abs(Date.parse(beat.currentTime) - Date.now()) < 60_000);
  await client.call('StatusNotification', {
    connectorId: 1,
    errorCode: 'NoError',
    status: 'Charging',
    timestamp: at(10),
  });
  // Sent late (older): the newer status stands.
  await client.call('StatusNotification', {
    connectorId: 1,
    errorCode: 'NoError',
    status: 'Available',
    timestamp: at(5),
  });
  await client.call('StatusNotification', { connectorId: 2, errorCode: 'GroundFailure', status: 'Faulted' });
  const view = await svc.get('/v1/charge-points/cp-boot');
  t.is(view.status, 200);
  t.like(view.body, {
    connected: true,
    protocol: 'ocpp1.6',
    vendor: 'Acme',
    model: 'Wallbox 11',
    firmwareVersion: '1.2.3',
  });
  t.truthy(view.body.lastHeartbeatAt);
  t.like(view.body.connectors, [
    { connectorId: 1, meterId: 'cp-boot:1', status: 'Charging', statusAt: at(10) },
    { connectorId: 2, meterId: 'cp-boot:2', status: 'Faulted', errorCode: 'GroundFailure' },
  ]);
  await client.close();
  // The disconnection is recorded once the socket has closed: poll for it.
  for (let i = 0; i < 200 && (await svc.get('/v1/charge-points/cp-boot')).body.connected; i += 1) {
    await new Promise((done) => setTimeout(done, 25));
  }
  t.false((await svc.get('/v1/charge-points/cp-boot')).body.connected);
});

test('meter values become register readings of the connector meter: exact, deduplicated, counted by analytics', async (t) => {
  const client = await connected('cp-meter');
  const meterId = 'cp-meter:1';
  await vehicleOnMeter(svc, 'ocpp-ev1', meterId);

  const values = {
    connectorId: 1,
    meterValue: [
      // The default measurand and unit (Wh); a voltage and another measurand alongside.
      {
        timestamp: at(0),
        sampledValue: [
          { value: '1234567' },
          { value: '229.5', measurand: 'Voltage', unit: 'V', phase: 'L2-N' },
          { value: '231.25', measurand: 'Voltage', unit: 'V', phase: 'L1-N' },
          { value: '7400', measurand: 'Power.Active.Import', unit: 'W' },
        ],
      },
      sample(15, '1236000.1', { measurand: 'Energy.Active.Import.Register', unit: 'Wh' }),
      sample(30, '1240.0001', { unit: 'kWh', context: 'Sample.Periodic' }),
    ],
  };
  const ignoredBefore = await metric('ev_ocpp_ignored_samples_total');
  t.deepEqual(await client.call('MeterValues', values), {});
  t.true((await metric('ev_ocpp_ignored_samples_total')) >= ignoredBefore + 1); // the power sample
  const rows = await registerRows(meterId);
  t.deepEqual(
    rows.map((r) => [r.ts.toISOString(), Number(r.kwh_register), r.voltage]),
    [
      // The voltage of the same meter value, phase L1-N preferred; none sampled: 0 V.
      [at(0), 1234.567, 231.25],
      [at(15), 1236.0001, 0],
      [at(30), 1240.0001, 0],
    ],
  );
  const live = await svc.get(`/v1/meters/${encodeURIComponent(meterId)}/live`);
  t.like(live.body, { kwhConsumedAcTotal: 1240.0001, timestamp: at(30) });
  const performance = async () =>
    (await svc.get(`/v1/analytics/performance/ocpp-ev1?from=${at(-1)}&to=${at(31)}`)).body.acEnergyKwh as number;
  t.is(await performance(), 5.4331); // 1240.0001 - 1234.567, exactly

  // A station resends what it got no answer for: the first reading is kept, nothing changes.
  t.deepEqual(await client.call('MeterValues', values), {});
  t.deepEqual(await client.call('MeterValues', { connectorId: 1, meterValue: [sample(15, '1237000')] }), {});
  t.is((await registerRows(meterId)).length, 3);
  t.is(Number((await registerRows(meterId))[1]?.kwh_register), 1236.0001);
  t.is(await performance(), 5.4331);

  // Queued offline and sent late: a late reading in between, the total holds.
  t.deepEqual(await client.call('MeterValues', { connectorId: 1, meterValue: [sample(20, '1238500')] }), {});
  t.is(await performance(), 5.4331);
  t.is((await registerRows(meterId)).length, 4);
});

test('a malformed call is answered with the error OCPP names, the socket stays open', async (t) => {
  const client = await connected('cp-bad', ['ocpp1.6'], false);
  t.is(
    (await callError(client, 'MeterValues', { connectorId: 'one', meterValue: [] })).code,
    'TypeConstraintViolation',
  );
  t.is((await callError(client, 'MeterValues', { meterValue: [] })).code, 'OccurrenceConstraintViolation');
  t.is(
    (await callError(client, 'BootNotification', { chargePointVendor: 'x'.repeat(21), chargePointModel: 'm' })).code,
    'FormationViolation',
  );
  t.is(
    (await callError(client, 'StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Sleeping' })).code,
    'FormationViolation',
  );
  // Valid OCPP, but not a value the service can keep: nothing of the call is stored.
  const notNumber = await callError(client, 'MeterValues', {
    connectorId: 1,
    meterValue: [sample(0, '100'), sample(1, 'lots')],
  });
  t.is(notNumber.code, 'PropertyConstraintViolation');
  t.regex(notNumber.message, /meterValue\[1\]\.sampledValue\[0\]\.value/);
  const badUnit = await callError(client, 'MeterValues', {
    connectorId: 1,
    meterValue: [sample(0, '100', { unit: 'W' })],
  });
  t.is(badUnit.code, 'PropertyConstraintViolation');
  const tooOld = await callError(client, 'MeterValues', {
    connectorId: 1,
    meterValue: [{ timestamp: iso(Date.now() - 400 * 24 * HOUR_MS), sampledValue: [{ value: '100' }] }],
  });
  t.is(tooOld.code, 'PropertyConstraintViolation');
  t.regex(tooOld.message, /timestamp/);
  const tooPrecise = await callError(client, 'MeterValues', {
    connectorId: 1,
    meterValue: [sample(0, '123456789.123456789')],
  });
  t.is(tooPrecise.code, 'PropertyConstraintViolation');
  t.is((await registerRows('cp-bad:1')).length, 0);
  // What the service does not implement.
  t.is((await callError(client, 'DataTransfer', { vendorId: 'acme' })).code, 'NotImplemented');
  t.is((await callError(client, 'NoSuchAction', {})).code, 'NotImplemented');
  // Counted: by action (an unknown one as other) and the code answered.
  t.true(
    (await metric(
      'ev_ocpp_messages_total{protocol="ocpp1.6",action="MeterValues",outcome="TypeConstraintViolation"}',
    )) >= 1,
  );
  t.true((await metric('ev_ocpp_messages_total{protocol="ocpp1.6",action="other",outcome="NotImplemented"}')) >= 2);
  // Still connected and answering.
  t.truthy(((await client.call('Heartbeat', {})) as { currentTime: string }).currentTime);
});

test('OCPP 2.0.1: boot, heartbeat, status per EVSE, meter values with units and multipliers', async (t) => {
  const client = await connected('cp-201', ['ocpp2.0.1']);
  t.is(client.protocol, 'ocpp2.0.1');
  const boot = (await client.call('BootNotification', {
    chargingStation: { vendorName: 'Acme', model: 'DC 50', firmwareVersion: '2.0' },
    reason: 'PowerUp',
  })) as { status: string; interval: number };
  t.like(boot, { status: 'Accepted', interval: 300 });
  t.truthy(((await client.call('Heartbeat', {})) as { currentTime: string }).currentTime);
  await client.call('StatusNotification', { timestamp: at(1), connectorStatus: 'Occupied', evseId: 1, connectorId: 1 });
  const view = await svc.get('/v1/charge-points/cp-201');
  t.like(view.body, { protocol: 'ocpp2.0.1', vendor: 'Acme', model: 'DC 50' });
  t.like(view.body.connectors, [{ connectorId: 1, meterId: 'cp-201:1', status: 'Occupied', errorCode: null }]);

  const meterId = 'cp-201:1';
  await vehicleOnMeter(svc, 'ocpp-ev201', meterId);
  t.deepEqual(
    await client.call('MeterValues', {
      evseId: 1,
      meterValue: [
        {
          timestamp: at(0),
          sampledValue: [
            { value: 2000.5 }, // Wh, the default
            { value: 230.1, measurand: 'Voltage', unitOfMeasure: { unit: 'V' } },
          ],
        },
        { timestamp: at(10), sampledValue: [{ value: 2.5, unitOfMeasure: { unit: 'kWh' } }] },
        { timestamp: at(20), sampledValue: [{ value: 3.1, unitOfMeasure: { unit: 'Wh', multiplier: 3 } }] },
      ],
    }),
    {},
  );
  t.deepEqual(
    (await registerRows(meterId)).map((r) => [r.ts.toISOString(), Number(r.kwh_register), r.voltage]),
    [
      [at(0), 2.0005, 230.1],
      [at(10), 2.5, 0],
      [at(20), 3.1, 0],
    ],
  );
  const res = await svc.get(`/v1/analytics/performance/ocpp-ev201?from=${at(-1)}&to=${at(21)}`);
  t.is(res.body.acEnergyKwh, 1.0995); // 3.1 kWh - 2.0005 kWh
});

test('a meter that resets (a register lower than the one before): counted from zero, the event recorded, as over HTTP', async (t) => {
  const client = await connected('cp-reset');
  const meterId = 'cp-reset:1';
  await vehicleOnMeter(svc, 'ocpp-ev-reset', meterId);
  // 5000 → 5100 Wh (0.1 kWh), then the meter restarts at 20 Wh (0.02 kWh since the reset), then 120 Wh.
  const values = {
    connectorId: 1,
    meterValue: [sample(0, '5000'), sample(1, '5100'), sample(2, '20'), sample(3, '120')],
  };
  t.deepEqual(await client.call('MeterValues', values), {});
  const performance = await svc.get(`/v1/analytics/performance/ocpp-ev-reset?from=${at(-1)}&to=${at(4)}`);
  t.is(performance.status, 200, JSON.stringify(performance.body));
  t.is(performance.body.acEnergyKwh, 0.22);
  const events = await svc.get(`/v1/meters/${encodeURIComponent(meterId)}/register-events`);
  t.is(events.status, 200, JSON.stringify(events.body));
  t.deepEqual(
    (events.body.events as { timestamp: string; event: string }[]).map((e) => [e.timestamp, e.event]),
    [
      [at(0), 'first'],
      [at(2), 'reset'],
    ],
  );
});
