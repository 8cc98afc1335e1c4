import { sql } from 'kysely';

import { S3ObjectStore } from '../../src/archive/object-store.js';
import { loadConfig } from '../../src/config/config.js';
import type { Db } from '../../src/db/database.js';
import { startTestS3, type TestS3 } from '../../tools/harness/s3-server.js';
import { startTestService, type TestService } from './test-service.js';

export interface ArchiveFixture {
  s3: TestS3;
  svc: TestService;
  /** The service's database without the request time limit, as the archive job uses it. */
  db: Db;
  store: S3ObjectStore;
  stop(): Promise<void>;
}

/**
 * A local S3 stand-in, a test service configured for it, and both hypertables switched to
 * archive mode (what a DBA's migration does: docs/archive.md), the service's acceptance window
 * following at once.
 */
export async function startArchiveFixture(): Promise<ArchiveFixture> {
  const s3 = await startTestS3();
  const svc = await startTestService(s3.env);
  const db = svc.dbHandle.maintenanceDb;
  const store = new S3ObjectStore(loadConfig(s3.env).archive!);
  await sql`SELECT archive_mode_on('meter_telemetry_history', INTERVAL '30 days')`.execute(db);
  await sql`SELECT archive_mode_on('vehicle_telemetry_history', INTERVAL '30 days')`.execute(db);
  await svc.acceptance.reload();
  return {
    s3,
    svc,
    db,
    store,
    stop: async () => {
      store.destroy();
      await svc.stop();
      await s3.stop();
    },
  };
}
