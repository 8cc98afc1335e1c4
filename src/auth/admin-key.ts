import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';

import type { Config } from '../config/config.js';
import type { Logger } from '../logger.js';
import { generateKey } from './api-key.service.js';

export const ADMIN_KEY_FILE = 'admin-api-key';

/**
 * The admin key: ADMIN_API_KEY when set. Otherwise (never in production, where config
 * refuses to start without it) a key generated on first start and kept in DATA_DIR,
 * readable by its owner only. The log says where it is, never what it is.
 */
export async function resolveAdminKey(config: Config, logger: Logger): Promise<string> {
  if (config.auth.adminApiKey) return config.auth.adminApiKey;
  const dir = resolve(config.database.dataDir);
  const file = join(dir, ADMIN_KEY_FILE);
  if (existsSync(file)) {
    await chmod(file, 0o600);
    return (await readFile(file, 'utf8')).trim();
  }
  await mkdir(dir, { recursive: true });
  const key = generateKey();
  await writeFile(file, `${key}\n`, { mode: 0o600, flag: 'wx' });
  logger.warn('no ADMIN_API_KEY set: generated an admin key', { file });
  return key;
}
