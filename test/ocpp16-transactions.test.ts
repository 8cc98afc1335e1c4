import test from 'ava';

import { HOUR_MS } from '../src/time.js';
import { at, base, iso, ocppFixture, sample, vehicleOnMeter } from './helpers/ocpp-fixture.js';
import { callError, type Station } from './helpers/ocpp-station.js';
import type { TestService } from './helpers/test-service.js';

// OCPP 1.6 id tokens and transactions (Authorize, StartTransaction, StopTransaction) and the
// assignments they make, with ocpp-rpc's client in strict mode.
const ocpp = ocppFixture();
let svc: TestService;
test.before(async () => {
  svc = await ocpp.ready;
});
const { connected } = ocpp;

/** A StartTransaction on connector 1 at minute 0. */
const startAtZero = async (client: Station, idTag: string, meterStart: number) =>
  (await client.call('StartTransaction', { connectorId: 1, idTag, meterStart, timestamp: at(0) })) as {
    transactionId: number;
    idTagInfo: { status: string };
  };

test('id tokens map to vehicles: admin routes, case-insensitive, Authorize answers Accepted or Invalid', async (t) => {
  t.is((await svc.get('/v1/id-tokens/card-1')).body.error.code, 'id_token_not_found');
  t.is((await svc.put('/v1/id-tokens/card-1', { vehicleId: 'bad id' })).status, 400);
  t.deepEqual((await svc.put('/v1/id-tokens/card-1', { vehicleId: 'ocpp-ev9' })).body, {
    idToken: 'CARD-1',
    vehicleId: 'ocpp-ev9',
  });
  t.is((await svc.get('/v1/id-tokens/Card-1')).body.vehicleId, 'ocpp-ev9');
  const client = await connected('cp-auth-tag');
  t.deepEqual(await client.call('Authorize', { idTag: 'CARD-1' }), { idTagInfo: { status: 'Accepted' } });
  t.deepEqual(await client.call('Authorize', { idTag: 'card-2' }), { idTagInfo: { status: 'Invalid' } });
  t.is((await svc.delete('/v1/id-tokens/card-1')).status, 204);
  t.is((await svc.delete('/v1/id-tokens/card-1')).status, 404);
  t.deepEqual(await client.call('Authorize', { idTag: 'card-1' }), { idTagInfo: { status: 'Invalid' } });
  // Both refused tokens are listed for the admin to map, with the station and the answer.
  const unknown: { idToken: string; seenUnknown: unknown }[] = (await svc.get('/v1/id-tokens?unknown=true')).body.items;
  const seen = (idToken: string) => unknown.find((token) => token.idToken === idToken)?.seenUnknown;
  t.like(seen('CARD-2'), { lastChargePointId: 'cp-auth-tag', lastStatus: 'Invalid', times: 1 });
  t.like(seen('CARD-1'), { lastChargePointId: 'cp-auth-tag', lastStatus: 'Invalid', times: 1 });
});

test('a transaction: its start and stop registers are readings, resent messages change nothing, energy is exact', async (t) => {
  const client = await connected('cp-tx');
  const meterId = 'cp-tx:2';
  await svc.put('/v1/id-tokens/tag-ev2', { vehicleId: 'ocpp-ev2' });
  await vehicleOnMeter(svc, 'ocpp-ev2', meterId);

  const start = { connectorId: 2, idTag: 'tag-ev2', meterStart: 10_000, timestamp: at(0) };
  const started = (await client.call('StartTransaction', start)) as {
    transactionId: number;
    idTagInfo: { status: string };
  };
  t.is(started.idTagInfo.status, 'Accepted');
  // Resent (the answer was lost): the same transaction.
  t.deepEqual(await client.call('StartTransaction', start), started);
  const unknownTag = (await client.call('StartTransaction', { ...start, connectorId: 3, idTag: 'nobody' })) as {
    idTagInfo: { status: string };
  };
  t.is(unknownTag.idTagInfo.status, 'Invalid');
  const openTransactions = (await svc.get('/v1/charge-points/cp-tx')).body.openTransactions;
  t.is(openTransactions.length, 2);
  t.like(openTransactions, [
    {
      transactionId: started.transactionId,
      connectorId: 2,
      meterId,
      idToken: 'tag-ev2',
      vehicleId: 'ocpp-ev2',
      startedAt: at(0),
    },
    { connectorId: 3, meterId: 'cp-tx:3', idToken: 'nobody', vehicleId: null, startedAt: at(0) },
  ]);

  await client.call('MeterValues', {
    connectorId: 2,
    transactionId: started.transactionId,
    meterValue: [sample(10, '12500.5', { context: 'Sample.Periodic' })],
  });
  const stop = {
    transactionId: started.transactionId,
    idTag: 'tag-ev2',
    meterStop: 17_345,
    timestamp: at(30),
    reason: 'EVDisconnected',
    transactionData: [sample(20, '15000', { context: 'Sample.Periodic' })],
  };
  t.deepEqual(await client.call('StopTransaction', stop), { idTagInfo: { status: 'Accepted' } });
  t.deepEqual(await client.call('StopTransaction', stop), { idTagInfo: { status: 'Accepted' } });
  t.deepEqual(
    (await svc.get('/v1/charge-points/cp-tx')).body.openTransactions.map(
      (tx: { connectorId: number }) => tx.connectorId,
    ),
    [3],
    'the stopped one is no longer open',
  );
  t.deepEqual(await ocpp.registers(meterId), [
    [at(0), 10],
    [at(10), 12.5005],
    [at(20), 15],
    [at(30), 17.345],
  ]);
  const res = await svc.get(`/v1/analytics/performance/ocpp-ev2?from=${at(-1)}&to=${at(31)}`);
  t.is(res.body.acEnergyKwh, 7.345); // 17345 Wh - 10000 Wh

  const row = await svc.dbHandle.db
    .selectFrom('charge_point_transactions')
    .selectAll()
    .where('transaction_id', '=', started.transactionId)
    .executeTakeFirstOrThrow();
  t.like(row, { connector_id: 2, id_tag: 'tag-ev2', meter_start_wh: 10_000, meter_stop_wh: 17_345 });
  t.is(row.stop_reason, 'EVDisconnected');

  const unknown = await callError(client, 'StopTransaction', { ...stop, transactionId: 999_999 });
  t.is(unknown.code, 'PropertyConstraintViolation');
  t.regex(unknown.message, /transactionId/);
});

test('a mapped token assigns its vehicle to the connector for the session: exactly the session energy, across a reconnect', async (t) => {
  const meterId = 'cp-session:1';
  await svc.put('/v1/id-tokens/tag-ev3', { vehicleId: 'ocpp-ev3' });
  let client = await connected('cp-session');
  // Before the session: the register runs (another user, idle consumption), not the vehicle's.
  await client.call('MeterValues', { connectorId: 1, meterValue: [sample(-20, '8000'), sample(-10, '9000')] });
  const started = await startAtZero(client, 'tag-ev3', 10_000);
  t.is(started.idTagInfo.status, 'Accepted');
  await client.call('MeterValues', {
    connectorId: 1,
    transactionId: started.transactionId,
    meterValue: [sample(10, '12000')],
  });
  // The station reconnects in the middle of the transaction (to any instance): it continues.
  await client.close();
  client = ocpp.client('cp-session');
  await client.connect();
  await client.call('MeterValues', {
    connectorId: 1,
    transactionId: started.transactionId,
    meterValue: [sample(20, '14000.25')],
  });
  const stop = { transactionId: started.transactionId, meterStop: 15_432, timestamp: at(30) };
  t.deepEqual(await client.call('StopTransaction', stop), {});
  t.deepEqual(await client.call('StopTransaction', stop), {}); // resent: nothing changes
  // After it: not the vehicle's either.
  await client.call('MeterValues', { connectorId: 1, meterValue: [sample(40, '16000')] });

  const res = await svc.get(`/v1/analytics/performance/ocpp-ev3?from=${at(-30)}&to=${at(50)}`);
  t.is(res.status, 200);
  t.is(res.body.acEnergyKwh, 5.432); // 15432 Wh - 10000 Wh: the session, nothing before or after
  const history = await svc.get('/v1/vehicles/ocpp-ev3/meter/history');
  t.deepEqual(
    history.body.assignments.map((a: { meterId: string; from: string; to: string }) => [a.meterId, a.from, a.to]),
    [[meterId, iso(Date.parse(at(0)) + 1), iso(Date.parse(at(30)) + 1)]],
  );
  // An admin's correction stands: a StopTransaction resent later does not undo it.
  const id = history.body.assignments[0].id as number;
  const corrected = { from: iso(Date.parse(at(0)) + 1), to: at(25) };
  t.is((await svc.patch(`/v1/assignments/${id}`, corrected)).status, 200);
  t.deepEqual(await client.call('StopTransaction', stop), {});
  t.like((await svc.get('/v1/vehicles/ocpp-ev3/meter/history')).body.assignments[0], corrected);
});

test('a transaction that collides with a manual assignment leaves the manual one standing', async (t) => {
  const meterId = 'cp-manual:1';
  await svc.put('/v1/id-tokens/tag-ev4', { vehicleId: 'ocpp-ev4' });
  await svc.put('/v1/vehicles/ocpp-other/meter', { meterId, from: iso(base - HOUR_MS) });
  const client = await connected('cp-manual');
  const started = await startAtZero(client, 'tag-ev4', 1_000);
  t.is(started.idTagInfo.status, 'Accepted');
  t.deepEqual(
    await client.call('StopTransaction', { transactionId: started.transactionId, meterStop: 2_000, timestamp: at(5) }),
    {},
  );
  const history = await svc.get(`/v1/meters/${meterId}/vehicle/history`);
  t.deepEqual(
    history.body.assignments.map((a: { vehicleId: string }) => a.vehicleId),
    ['ocpp-other'],
  );
});
