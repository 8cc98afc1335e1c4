import { fileURLToPath } from 'node:url';

import { spawnScript, type ServiceProcess } from '../../tools/harness/service-process.js';

/**
 * The HTTP floor (http-floor.ts): a bare Koa + zod ingest endpoint and nothing else, in its own
 * process like the service, so the same client measures both.
 */
export function spawnHttpFloor(): Promise<ServiceProcess> {
  return spawnScript(fileURLToPath(new URL('./http-floor.ts', import.meta.url)), {});
}
