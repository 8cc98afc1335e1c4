import test from 'ava';

import { after, at, ocppFixture, registerStation } from './helpers/ocpp-fixture.js';
import { callError, type Station } from './helpers/ocpp-station.js';
import { startTestService, type TestService } from './helpers/test-service.js';

// OCPP 2.0.1 transactions (TransactionEvent) and Authorize, with ocpp-rpc's client in strict mode.
const ocpp = ocppFixture();
let svc: TestService;
test.before(async () => {
  svc = await ocpp.ready;
});
const connected = (chargePointId: string) => ocpp.connected(chargePointId, ['ocpp2.0.1']);
const registerRows = ocpp.registers;

/** A meter value with the register (and other measurands, ignored) as a 2.0.1 station sends it. */
const register = (minute: number, value: number, unit = 'Wh', context = 'Sample.Periodic') => ({
  timestamp: at(minute),
  sampledValue: [
    { value, context, measurand: 'Energy.Active.Import.Register', unitOfMeasure: { unit } },
    { value: 7400, context, measurand: 'Power.Active.Import', unitOfMeasure: { unit: 'W' } },
  ],
});

const event = (
  eventType: 'Started' | 'Updated' | 'Ended',
  transactionId: string,
  minute: number,
  seqNo: number,
  extra: Record<string, unknown> = {},
) => ({
  eventType,
  timestamp: at(minute),
  triggerReason:
    eventType === 'Started' ? 'CablePluggedIn' : eventType === 'Ended' ? 'EVCommunicationLost' : 'MeterValuePeriodic',
  seqNo,
  transactionInfo: { transactionId },
  ...extra,
});

async function assignments(vehicleId: string): Promise<[string, string, string][]> {
  const history = await svc.get(`/v1/vehicles/${vehicleId}/meter/history`);
  return history.body.assignments.map((a: { meterId: string; from: string; to: string }) => [a.meterId, a.from, a.to]);
}

test('Authorize (2.0.1): Accepted for a mapped token, case-insensitive; Invalid for an unknown one', async (t) => {
  await svc.put('/v1/id-tokens/card-201', { vehicleId: 'ev201-auth' });
  const client = await connected('cp201-auth');
  t.deepEqual(await client.call('Authorize', { idToken: { idToken: 'Card-201', type: 'ISO14443' } }), {
    idTokenInfo: { status: 'Accepted' },
  });
  t.deepEqual(await client.call('Authorize', { idToken: { idToken: 'nobody', type: 'ISO14443' } }), {
    idTokenInfo: { status: 'Invalid' },
  });
});

test('a full 2.0.1 session: Started, periodic Updated, Ended; resent events change nothing; the vehicle gets exactly the register difference', async (t) => {
  const meterId = 'cp201-tx:1';
  await svc.put('/v1/id-tokens/tag-201', { vehicleId: 'ev201-tx' });
  const client = await connected('cp201-tx');
  // Before the session the register runs too (idle consumption): not the vehicle's.
  await client.call('MeterValues', { evseId: 1, meterValue: [register(-20, 9000.5)] });

  const started = event('Started', 'tx-201-a', 0, 0, {
    evse: { id: 1, connectorId: 1 },
    idToken: { idToken: 'TAG-201', type: 'ISO14443' },
    meterValue: [register(0, 10_000.25, 'Wh', 'Transaction.Begin')],
  });
  t.deepEqual(await client.call('TransactionEvent', started), { idTokenInfo: { status: 'Accepted' } });
  t.deepEqual(await client.call('TransactionEvent', started), { idTokenInfo: { status: 'Accepted' } }); // resent
  t.deepEqual((await svc.get('/v1/charge-points/cp201-tx')).body.openTransactions, [
    { transactionId: 'tx-201-a', connectorId: 1, meterId, idToken: 'TAG-201', vehicleId: 'ev201-tx', startedAt: at(0) },
  ]);
  // Periodic values; the evse is optional after the first event. One sent late, offline.
  t.deepEqual(
    await client.call(
      'TransactionEvent',
      event('Updated', 'tx-201-a', 10, 1, { meterValue: [register(10, 12.5, 'kWh')] }),
    ),
    {},
  );
  const offline = event('Updated', 'tx-201-a', 20, 2, { offline: true, meterValue: [register(20, 14_000)] });
  const ended = event('Ended', 'tx-201-a', 30, 3, {
    evse: { id: 1 },
    transactionInfo: { transactionId: 'tx-201-a', stoppedReason: 'EVDisconnected' },
    meterValue: [register(30, 17_345.75, 'Wh', 'Transaction.End')],
  });
  t.deepEqual(await client.call('TransactionEvent', ended), {});
  t.deepEqual(await client.call('TransactionEvent', offline), {});
  t.deepEqual(await client.call('TransactionEvent', ended), {}); // resent
  t.deepEqual((await svc.get('/v1/charge-points/cp201-tx')).body.openTransactions, []);
  t.deepEqual(await client.call('TransactionEvent', started), { idTokenInfo: { status: 'Accepted' } }); // resent late
  // After the session: not the vehicle's either.
  await client.call('MeterValues', { evseId: 1, meterValue: [register(40, 18_000)] });

  t.deepEqual(await registerRows(meterId), [
    [at(-20), 9.0005],
    [at(0), 10.00025],
    [at(10), 12.5],
    [at(20), 14],
    [at(30), 17.34575],
    [at(40), 18],
  ]);
  const rows = await svc.dbHandle.db
    .selectFrom('charge_point_transactions')
    .selectAll()
    .where('ocpp_transaction_id', '=', 'tx-201-a')
    .execute();
  t.is(rows.length, 1);
  t.like(rows[0], { connector_id: 1, id_tag: 'TAG-201', id_tag_status: 'Accepted', vehicle_id: 'ev201-tx' });
  t.is(rows[0]?.stopped_at?.toISOString(), at(30));
  t.is(rows[0]?.stop_reason, 'EVDisconnected');
  t.deepEqual(await assignments('ev201-tx'), [[meterId, after(0, 1), after(30, 1)]]);
  const res = await svc.get(`/v1/analytics/performance/ev201-tx?from=${at(-30)}&to=${at(50)}`);
  t.is(res.status, 200);
  t.is(res.body.acEnergyKwh, 7.3455); // 17345.75 Wh - 10000.25 Wh, exactly
});

test('a token presented after the plug-in assigns its vehicle from the start; an unknown token is Invalid and assigns nothing', async (t) => {
  await svc.put('/v1/id-tokens/tag-201-late', { vehicleId: 'ev201-late' });
  const client = await connected('cp201-late');
  t.deepEqual(
    await client.call(
      'TransactionEvent',
      event('Started', 'tx-late', 0, 0, { evse: { id: 2 }, meterValue: [register(0, 500)] }),
    ),
    {},
  );
  const authorized = event('Updated', 'tx-late', 1, 1, {
    triggerReason: 'Authorized',
    idToken: { idToken: 'tag-201-late', type: 'ISO14443' },
  });
  t.deepEqual(await client.call('TransactionEvent', authorized), { idTokenInfo: { status: 'Accepted' } });
  t.deepEqual(
    await client.call('TransactionEvent', event('Ended', 'tx-late', 20, 2, { meterValue: [register(20, 2500)] })),
    {},
  );
  t.deepEqual(await assignments('ev201-late'), [['cp201-late:2', after(0, 1), after(20, 1)]]);
  const res = await svc.get(`/v1/analytics/performance/ev201-late?from=${at(-1)}&to=${at(21)}`);
  t.is(res.body.acEnergyKwh, 2);

  const unknown = event('Started', 'tx-unknown', 0, 0, {
    evse: { id: 3 },
    idToken: { idToken: 'nobody-201', type: 'ISO14443' },
    meterValue: [register(0, 100)],
  });
  t.deepEqual(await client.call('TransactionEvent', unknown), { idTokenInfo: { status: 'Invalid' } });
  t.deepEqual(
    await client.call('TransactionEvent', event('Ended', 'tx-unknown', 5, 1, { meterValue: [register(5, 200)] })),
    {},
  );
  t.deepEqual((await svc.get('/v1/meters/cp201-late:3/vehicle/history')).body.assignments, []);
  t.deepEqual(await registerRows('cp201-late:3'), [
    [at(0), 0.1],
    [at(5), 0.2],
  ]);
});

test('a transaction whose first event names no EVSE, and a register the service cannot keep, are refused', async (t) => {
  const client = await connected('cp201-bad');
  const noEvse = await callError(
    client,
    'TransactionEvent',
    event('Updated', 'tx-none', 0, 0, { meterValue: [register(0, 1)] }),
  );
  t.is(noEvse.code, 'PropertyConstraintViolation');
  t.regex(noEvse.message, /evse/);
  const badUnit = await callError(
    client,
    'TransactionEvent',
    event('Started', 'tx-bad', 0, 0, { evse: { id: 1 }, meterValue: [register(0, 1, 'varh')] }),
  );
  t.is(badUnit.code, 'PropertyConstraintViolation');
  t.regex(badUnit.message, /meterValue\[0\]\.sampledValue\[0\]\.unit/);
  const rows = await svc.dbHandle.db
    .selectFrom('charge_point_transactions')
    .select('transaction_id')
    .where('charge_point_id', '=', 'cp201-bad')
    .execute();
  t.deepEqual(rows, []); // refused: nothing recorded
  t.deepEqual(await registerRows('cp201-bad:1'), []);
});

test('with OCPP_ACCEPT_UNKNOWN_ID_TOKENS an unknown token is Accepted in both versions and recorded, assigning no vehicle', async (t) => {
  const accepting = await startTestService({ OCPP_ACCEPT_UNKNOWN_ID_TOKENS: 'true' });
  const clients: Station[] = [];
  try {
    await registerStation(accepting, 'cp-open');
    const v16 = ocpp.client('cp-open', { url: accepting.url, protocols: ['ocpp1.6'] });
    const v201 = ocpp.client('cp-open', { url: accepting.url, protocols: ['ocpp2.0.1'] });
    clients.push(v16, v201);
    await v16.connect();
    t.deepEqual(await v16.call('Authorize', { idTag: 'stranger' }), { idTagInfo: { status: 'Accepted' } });
    await v16.close();
    await v201.connect();
    t.deepEqual(await v201.call('Authorize', { idToken: { idToken: 'stranger', type: 'ISO14443' } }), {
      idTokenInfo: { status: 'Accepted' },
    });
    const started = event('Started', 'tx-open', 0, 0, {
      evse: { id: 1 },
      idToken: { idToken: 'stranger', type: 'ISO14443' },
      meterValue: [register(0, 100)],
    });
    t.deepEqual(await v201.call('TransactionEvent', started), { idTokenInfo: { status: 'Accepted' } });
    const row = await accepting.dbHandle.db
      .selectFrom('charge_point_transactions')
      .select(['id_tag', 'id_tag_status', 'vehicle_id'])
      .where('ocpp_transaction_id', '=', 'tx-open')
      .executeTakeFirstOrThrow();
    t.deepEqual(row, { id_tag: 'stranger', id_tag_status: 'Accepted', vehicle_id: null });
    t.deepEqual((await accepting.get('/v1/meters/cp-open:1/vehicle/history')).body.assignments, []);

    // The admin's list of unknown tokens: once per token (upper-case), each presentation counted.
    // On a server the file's other tests share the database: only this test's token is checked.
    type Listed = { idToken: string; vehicleId: string | null; seenUnknown: { times: number } };
    const mine = (body: { items: Listed[] }) => body.items.filter((item) => item.idToken === 'STRANGER');
    const unknown = await accepting.get('/v1/id-tokens?unknown=true');
    t.is(unknown.status, 200);
    t.like(mine(unknown.body), [
      {
        idToken: 'STRANGER',
        vehicleId: null,
        updatedAt: null,
        seenUnknown: { lastChargePointId: 'cp-open', lastStatus: 'Accepted', times: 3 },
      },
    ]);
    t.is(mine(unknown.body).length, 1);
    const { firstAt, lastAt } = unknown.body.items.find((item: Listed) => item.idToken === 'STRANGER').seenUnknown;
    t.true(Date.parse(firstAt) <= Date.parse(lastAt));
    t.deepEqual(mine((await accepting.get('/v1/id-tokens')).body), [], 'the token is not mapped');
    const bad = await accepting.get('/v1/id-tokens?unknown=yes');
    t.is(bad.status, 400);
    t.is(bad.body.error.details[0].path, 'query.unknown');

    // Mapped, it leaves the unknown list and is listed with its vehicle and its earlier sightings.
    await accepting.put('/v1/id-tokens/stranger', { vehicleId: 'ev-stranger' });
    t.deepEqual(mine((await accepting.get('/v1/id-tokens?unknown=true')).body), []);
    const mapped = mine((await accepting.get('/v1/id-tokens?limit=100')).body);
    t.like(mapped, [{ idToken: 'STRANGER', vehicleId: 'ev-stranger', seenUnknown: { times: 3 } }]);
    t.truthy((mapped[0] as Listed & { updatedAt?: string }).updatedAt);
  } finally {
    await Promise.all(clients.map((client) => client.close({ force: true })));
    await accepting.stop();
  }
});
