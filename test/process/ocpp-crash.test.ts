import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import test from 'ava';

import { adminHeaders, spawnService, stopService } from '../../tools/harness/service-process.js';
import { OCPP_PASSWORD } from '../helpers/ocpp-fixture.js';
import { station } from '../helpers/ocpp-station.js';
import { databaseEnv } from '../helpers/test-database.js';

interface StationView {
  connected: boolean;
  connectedUntil: string | null;
  disconnectedAt: string | null;
}

async function view(url: string, chargePointId: string): Promise<StationView> {
  const res = await fetch(`${url}/v1/charge-points/${chargePointId}`, { headers: adminHeaders });
  return (await res.json()) as StationView;
}

// An instance killed with its station sockets open records no disconnection: without the
// lease (docs/ocpp.md#several-instances) the station would show connected forever.
test('a SIGKILLed instance leaves no station connected: once its lease runs out, the next instance shows it disconnected', async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'ev-ocpp-crash-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  const env = { ...(await databaseEnv(dataDir)), OCPP_CONNECTION_LEASE_MS: '1000' };

  const first = await spawnService(env);
  const client = station(first.url, 'cp-killed', OCPP_PASSWORD);
  try {
    const put = await fetch(`${first.url}/v1/charge-points/cp-killed`, {
      method: 'PUT',
      headers: adminHeaders,
      body: JSON.stringify({ password: OCPP_PASSWORD }),
    });
    t.is(put.status, 200);
    await client.connect();
    for (let i = 0; i < 100 && !(await view(first.url, 'cp-killed')).connected; i += 1) await sleep(20);
    t.true((await view(first.url, 'cp-killed')).connected);
    await sleep(1500); // renewed past its first lease
    t.true((await view(first.url, 'cp-killed')).connected);
  } finally {
    first.child.kill('SIGKILL');
    await first.exited;
    await client.close({ force: true });
  }

  const second = await spawnService(env);
  try {
    await sleep(1000); // at least one lease after the kill, however fast the restart
    const after = await view(second.url, 'cp-killed');
    t.false(after.connected, 'no instance holds it');
    t.is(after.disconnectedAt, null, 'the killed instance recorded no end');
    t.true(Date.parse(after.connectedUntil!) < Date.now(), 'its lease ran out');
  } finally {
    await stopService(second);
  }
});
