import { setTimeout as sleep } from 'node:timers/promises';

import test from 'ava';

import { markConnected } from '../src/ocpp/charge-point.repository.js';
import { ocppFixture, registerStation } from './helpers/ocpp-fixture.js';

// A connection counts as connected while the lease its instance renews runs (docs/ocpp.md): an
// instance that dies without closing its sockets leaves no station connected forever.
const LEASE_MS = 900;
const ocpp = ocppFixture({ OCPP_CONNECTION_LEASE_MS: String(LEASE_MS) });
const register = (chargePointId: string) => registerStation(ocpp.svc, chargePointId);

async function view(chargePointId: string): Promise<{
  connected: boolean;
  connectedAt: string | null;
  connectedUntil: string | null;
  disconnectedAt: string | null;
}> {
  return (await ocpp.svc.get(`/v1/charge-points/${chargePointId}`)).body;
}

/** The station's view once it shows connected (recorded just after the socket opened), or after 5 s. */
async function connectedView(chargePointId: string) {
  for (const deadline = Date.now() + 5_000; ; await sleep(50)) {
    const current = await view(chargePointId);
    if (current.connected || Date.now() > deadline) return current;
  }
}

test('a live connection stays connected: its instance renews the lease for as long as the socket is open', async (t) => {
  await register('cp-lease-live');
  const client = ocpp.client('cp-lease-live');
  await client.connect();
  // The connection is recorded as the socket opens, not before connect() resolves.
  const first = await connectedView('cp-lease-live');
  t.true(first.connected);
  t.true(Date.parse(first.connectedUntil!) > Date.now());

  await sleep(3 * LEASE_MS);
  const later = await view('cp-lease-live');
  t.true(later.connected, 'renewed past three lease periods');
  t.is(later.connectedAt, first.connectedAt, 'the same connection');
  t.true(Date.parse(later.connectedUntil!) > Date.parse(first.connectedUntil!) + 2 * LEASE_MS - 100);

  await client.close();
  await sleep(200);
  const closed = await view('cp-lease-live');
  t.false(closed.connected);
  t.not(closed.disconnectedAt, null);
  t.is(closed.connectedUntil, null, 'a closed connection has no lease');
});

test('a connection whose lease is not renewed (its instance was killed) shows disconnected once the lease runs out', async (t) => {
  await register('cp-lease-crashed');
  // What an instance that is SIGKILLed right after a station connected leaves behind: the
  // connection recorded with its lease, and nobody renewing it or recording its end.
  await markConnected(ocpp.svc.dbHandle.db, 'cp-lease-crashed', 'ocpp1.6', LEASE_MS);
  const before = await view('cp-lease-crashed');
  t.true(before.connected);

  await sleep(LEASE_MS + 300);
  const after = await view('cp-lease-crashed');
  t.false(after.connected, 'no instance holds it any more');
  t.is(after.disconnectedAt, null, 'the end was never recorded');
  t.true(Date.parse(after.connectedUntil!) <= Date.now(), 'the lease that ran out');

  // The station reconnects, to this instance: connected again, on a lease of its own.
  const client = ocpp.client('cp-lease-crashed');
  await client.connect();
  const back = await connectedView('cp-lease-crashed');
  t.true(back.connected);
  t.true(Date.parse(back.connectedAt!) > Date.parse(before.connectedAt!));
  t.true(Date.parse(back.connectedUntil!) > Date.now());
});
