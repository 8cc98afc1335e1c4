import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { SECOND_MS } from '../../src/time.js';
import { adminHeaders, spawnService, stopService } from '../../tools/harness/service-process.js';
import { embeddedOnly } from '../helpers/test-database.js';
import { WebhookReceiver } from '../helpers/webhook-receiver.js';

/**
 * The outbox survives a crash (docs/webhooks.md): an event committed, the service and its
 * database SIGKILLed before the delivery succeeded, and the restarted service delivers it, with
 * the same webhook-id. The receiver is down while the first service runs, so whether its worker
 * tried the delivery before the kill or not, the event is still owed.
 */
embeddedOnly('it kills the embedded database process')(
  'SIGKILL between the commit of an event and its delivery loses nothing: delivered after the restart',
  async (t) => {
    const dataDir = await mkdtemp(join(tmpdir(), 'ev-webhooks-crash-'));
    t.teardown(() => rm(dataDir, { recursive: true, force: true }));
    const receiver = new WebhookReceiver();
    await receiver.start();
    await receiver.stop(); // its port is kept: it comes back there
    t.teardown(() => receiver.stop());
    const env = { DATA_DIR: dataDir, WEBHOOK_ALLOW_INSECURE_TARGETS: 'true', WEBHOOK_RETRY_BASE_MS: '50' };

    const first = await spawnService({ ...env, WEBHOOK_POLL_INTERVAL_MS: '200' });
    const call = (path: string, body: unknown) =>
      fetch(first.url + path, { method: 'POST', headers: adminHeaders, body: JSON.stringify(body) });
    const created = await call('/v1/webhooks', { url: `${receiver.url}/crash`, events: ['alert.firing'] });
    t.is(created.status, 201);
    const webhook = (await created.json()) as { id: string; secret: string };
    const queued = await call(`/v1/webhooks/${webhook.id}/test`, {});
    t.is(queued.status, 202);
    const { eventId } = (await queued.json()) as { eventId: string };
    if (first.databasePid) process.kill(first.databasePid, 'SIGKILL');
    first.child.kill('SIGKILL');
    await first.exited;

    receiver.secret = webhook.secret;
    await receiver.start();
    const second = await spawnService({ ...env, WEBHOOK_POLL_INTERVAL_MS: '200' });
    try {
      for (let waited = 0; receiver.received.length === 0 && waited < 60 * SECOND_MS; waited += 100) {
        await new Promise((done) => setTimeout(done, 100));
      }
      t.deepEqual(receiver.invalid, []);
      t.deepEqual(
        receiver.received.map((m) => [m.id, m.type, m.path]),
        [[eventId, 'webhook.test', '/crash']],
      );
    } finally {
      await stopService(second);
    }
  },
);
