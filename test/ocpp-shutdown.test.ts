import test from 'ava';

import { OCPP_PASSWORD, registerStation } from './helpers/ocpp-fixture.js';
import { station } from './helpers/ocpp-station.js';
import { startTestService } from './helpers/test-service.js';

// Without closing the station sockets first, stop() would never complete: node's server.close
// waits for upgraded sockets, which closeAllConnections does not reach.
test('stopping the service closes station sockets (1001, going away) and completes', async (t) => {
  const svc = await startTestService();
  await registerStation(svc, 'cp-stop');
  const client = station(svc.url, 'cp-stop', OCPP_PASSWORD);
  await client.connect();
  t.truthy(((await client.call('Heartbeat', {})) as { currentTime: string }).currentTime);
  const closed = new Promise<{ code: number }>((resolve) => client.once('close', resolve));
  await svc.stop();
  t.is((await closed).code, 1001);
});
