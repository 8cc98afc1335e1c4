import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { sql } from 'kysely';

import { openDirect } from '../../tools/harness/direct-db.js';
import { adminHeaders, spawnService } from '../../tools/harness/service-process.js';
import { embeddedOnly } from '../helpers/test-database.js';

/**
 * The embedded database hangs (its process is stopped with SIGSTOP) while an analytics read is
 * starting, then resumes. The read's BEGIN READ ONLY reached the database but was answered too
 * late: the connection must not go back to the pool inside that transaction, or every write
 * after it fails ("read-only transaction", a 503 per reading) or, inside a read-write one, is
 * never committed. Checked: 503 with Retry-After while it hangs, then every reading posted after
 * the resume is acknowledged and still stored after a restart.
 */
const post = (url: string, body: unknown) =>
  fetch(`${url}/v1/ingestion/meter`, { method: 'POST', headers: adminHeaders, body: JSON.stringify(body) });

embeddedOnly('it stops the embedded database process', { serial: true })(
  'the embedded database frozen mid-request and resumed: later readings are all stored',
  async (t) => {
    const dataDir = await mkdtemp(join(tmpdir(), 'ev-freeze-'));
    t.teardown(() => rm(dataDir, { recursive: true, force: true }));
    const service = await spawnService({ DATA_DIR: dataDir, DATABASE_STATEMENT_TIMEOUT_MS: '2000' });
    let resumed = false;
    try {
      process.kill(service.databasePid!, 'SIGSTOP');
      const read = await fetch(`${service.url}/v1/analytics/performance/anything`, { headers: adminHeaders });
      t.is(read.status, 503, 'the hung read is a 503');
      t.truthy(read.headers.get('retry-after'));
      process.kill(service.databasePid!, 'SIGCONT');
      resumed = true;
      const base = Date.now() - 10 * 60_000;
      const acknowledged: string[] = [];
      for (let i = 0; i < 20; i += 1) {
        const timestamp = new Date(base + i * 1_000).toISOString();
        let res = await post(service.url, { meterId: 'freeze-m', kwhConsumedAc: 0.1, voltage: 230, timestamp });
        // Right after the resume the queued statements drain: a retry is what a client does.
        for (let retry = 0; res.status === 503 && retry < 20; retry += 1) {
          await new Promise((done) => setTimeout(done, 250));
          res = await post(service.url, { meterId: 'freeze-m', kwhConsumedAc: 0.1, voltage: 230, timestamp });
        }
        t.is(res.status, 202, `reading ${i}`);
        if (res.status === 202) acknowledged.push(timestamp);
      }
      service.child.kill('SIGTERM');
      await service.exited;
      const direct = await openDirect(dataDir);
      try {
        const rows = await sql<{ n: number }>`
          SELECT count(*)::int AS n FROM meter_telemetry_history WHERE meter_id = 'freeze-m'`.execute(direct.handle.db);
        t.is(rows.rows[0]!.n, acknowledged.length, 'every acknowledged reading is stored after the restart');
      } finally {
        await direct.close();
      }
    } finally {
      if (!resumed) process.kill(service.databasePid!, 'SIGCONT');
      service.child.kill('SIGKILL');
    }
  },
);
