import { startService } from './api-process.js';
import { isWildcardHost } from './http-listener.js';
import { runProcess } from './process-entry.js';

/** Entry point: parse the environment once, start, and stop gracefully on SIGINT/SIGTERM. */
runProcess(async (config, logger) => {
  const service = await startService(config, logger);
  // The url names loopback for a wildcard HOST (the default): say that every interface is bound.
  const everyInterface = isWildcardHost(config.host);
  logger.info(everyInterface ? `listening on every interface (HOST=${config.host})` : 'listening', {
    url: service.url,
    database: config.database.url ? 'external' : 'embedded',
  });
  return service;
});
