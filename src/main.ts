import { runProcess } from './process-entry.js';
import { startService } from './service.js';

/** Entry point: parse the environment once, start, and stop gracefully on SIGINT/SIGTERM. */
runProcess(async (config, logger) => {
  const service = await startService(config, logger);
  logger.info('listening', { url: service.url, database: config.database.url ? 'external' : 'embedded' });
  return service;
});
