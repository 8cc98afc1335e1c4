import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { HOUR_MS } from '../../src/time.js';
import { embeddedOnly } from '../helpers/test-database.js';
import { meterReading, startTestService, vehicleReading, type TestService } from '../helpers/test-service.js';

/*
 * docs/embedded.md, "Backup and restore": `npm run backup -- create <folder>` while the service
 * runs refuses and copies nothing; stopped, it copies the data folder; `restore` puts it into a
 * fresh DATA_DIR, and the service started there answers the analytics as before.
 */
function backup(args: string[], dataDir: string) {
  const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir };
  delete env.DATABASE_URL;
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/runtime/backup-cli.ts', ...args], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code) => resolve({ code, stdout, stderr })),
  );
}

/** Whole hours, so the answers come from both the raw rows and the hourly buckets. */
const start = Math.floor((Date.now() - 4 * HOUR_MS) / HOUR_MS) * HOUR_MS;
const at = (minute: number) => new Date(start + minute * 60_000);
const window = `from=${new Date(start).toISOString()}&to=${new Date(start + 3 * HOUR_MS).toISOString()}`;

async function answers(svc: TestService) {
  const paths = [
    `/v1/analytics/performance/bk-v1?${window}`,
    `/v1/analytics/performance/bk-v1/series?bucket=1h&${window}`,
    `/v1/analytics/fleet?${window}`,
    '/v1/vehicles/bk-v1/meter',
  ];
  const bodies: unknown[] = [];
  for (const path of paths) {
    const res = await svc.get(path);
    if (res.status !== 200) throw new Error(`${path}: ${res.status} ${JSON.stringify(res.body)}`);
    bodies.push(res.body);
  }
  return bodies;
}

embeddedOnly('backs up an embedded data folder', { serial: true })(
  'backup refuses while the service runs; stopped, backup and restore into a fresh folder give the same answers',
  async (t) => {
    t.timeout(4 * 60_000);
    const dir = await mkdtemp(join(tmpdir(), 'ev-backup-'));
    t.teardown(() => rm(dir, { recursive: true, force: true }));
    const dataDir = join(dir, 'data');
    const copy = join(dir, 'backup');
    const restored = join(dir, 'restored');

    const svc = await startTestService({ DATA_DIR: dataDir });
    let before: unknown[];
    try {
      t.is((await svc.put('/v1/vehicles/bk-v1/meter', { meterId: 'bk-m1' })).status, 200);
      const minutes = Array.from({ length: 180 }, (_, i) => i);
      t.is(
        (
          await svc.post(
            '/v1/ingestion/meter',
            minutes.map((m) => meterReading('bk-m1', at(m), 1)),
          )
        ).status,
        202,
      );
      const vehicle = minutes.map((m) => vehicleReading('bk-v1', at(m), 0.9, 20 + (m % 60)));
      t.is((await svc.post('/v1/ingestion/vehicle', vehicle)).status, 202);
      before = await answers(svc);
      t.like(before[0], { acEnergyKwh: 180, readings: { meter: 180, vehicle: 180 } });

      const refused = await backup(['create', copy], dataDir);
      t.is(refused.code, 1, refused.stderr);
      t.regex(refused.stderr, new RegExp(`in use by process ${process.pid}`));
      t.false(existsSync(copy), 'nothing copied while the service runs');
    } finally {
      await svc.stop();
    }

    const made = await backup(['create', copy], dataDir);
    t.is(made.code, 0, made.stderr);
    t.like(JSON.parse(made.stdout), { command: 'create', to: copy });
    t.true(existsSync(join(copy, 'PG_VERSION')));
    t.false(existsSync(join(copy, 'ev-telemetry.lock')), 'the lock is not part of a backup');

    const overwrite = await backup(['restore', copy], dataDir);
    t.is(overwrite.code, 1);
    t.regex(overwrite.stderr, /is not empty/, 'a restore never replaces a database');

    const put = await backup(['restore', copy], restored);
    t.is(put.code, 0, put.stderr);
    const again = await startTestService({ DATA_DIR: restored });
    try {
      t.deepEqual(await answers(again), before);
    } finally {
      await again.stop();
    }
  },
);
